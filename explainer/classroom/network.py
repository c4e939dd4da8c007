"""Where students find the classroom: one URL per network address of this machine, and a QR
code of each for the terminal.

``make classroom`` and ``make classroom-static`` bind 127.0.0.1 unless the teacher asks for
more (``HOST=0.0.0.0``: every address of the machine). Before the server starts they run
``python -m explainer.classroom.network --host HOST --port PORT --path PATH``, which prints
what the host means: on loopback, the one URL this machine can open; on every address, one
URL per non-loopback address (``psutil.net_if_addrs``) with its QR code (``qrcode``), which a
student's phone or laptop camera reads.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import socket
import sys

WILDCARDS = {"0.0.0.0": socket.AF_INET, "::": socket.AF_INET6}


def check_host(host: object) -> str:
    """``host`` as an IP address text (IPv4 or IPv6); a hostname or anything else is a
    ValueError that says what is expected."""
    if not isinstance(host, str):
        raise TypeError(f"host: got {type(host).__name__}; expected an IP address such as "
                        "127.0.0.1 or 0.0.0.0")
    try:
        return str(ipaddress.ip_address(host.strip()))
    except ValueError:
        raise ValueError(f"host: got {host[:60]!r}; expected an IP address: 127.0.0.1 (this "
                         "machine only, the default), 0.0.0.0 (every address: the room's "
                         "network) or one address of this machine") from None


def check_port(port: object) -> int:
    """``port`` as an int from 1 to 65535 (ValueError / TypeError otherwise)."""
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port.strip())
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port: got {type(port).__name__}; expected a whole number from 1 "
                        "to 65535")
    if not 1 <= port <= 65535:
        raise ValueError(f"port: got {port}; expected a whole number from 1 to 65535")
    return port


def is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host).is_loopback


def machine_addresses(family: int = socket.AF_INET) -> list[str]:
    """This machine's addresses of ``family`` that another machine could reach: not
    loopback, not link-local (169.254.x.x, fe80::), in the interfaces' order."""
    import psutil  # only the room's network needs the interfaces listed

    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family != family:
                continue
            ip = ipaddress.ip_address(address.address.split("%")[0])
            if not (ip.is_loopback or ip.is_link_local or str(ip) in found):
                found.append(str(ip))
    return found


def url(host: str, port: int, path: str = "") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/{path.lstrip('/')}"


def student_urls(host: str, port: int, path: str = "",
                 addresses: list[str] | None = None) -> list[str]:
    """The URLs students type: one per non-loopback address when ``host`` is a wildcard
    (``addresses``: those of this machine unless given), the host's own when it is one
    address; none on loopback (no other machine can reach it)."""
    host, port = check_host(host), check_port(port)
    if is_loopback(host):
        return []
    if host in WILDCARDS:
        listed = machine_addresses(WILDCARDS[host]) if addresses is None else addresses
        return [url(a, port, path) for a in listed]
    return [url(host, port, path)]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:  # qrcode writes its colour codes only to a terminal
        return True


def qr_text(text: str, colours: bool = False) -> str:
    """A QR code of ``text`` in block characters (two rows a line): light modules as full
    blocks, for a terminal's dark background; with ``colours``, the terminal's colours are
    set (white on black), so it reads on any background."""
    import qrcode  # only a room's URL needs a QR code

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text)
    code.make(fit=True)
    out = _Terminal() if colours else io.StringIO()
    code.print_ascii(out=out, tty=colours, invert=True)
    return out.getvalue()


def announcement(host: str, port: int, path: str, what: str,
                 addresses: list[str] | None = None, qr: bool = True) -> str:
    """What the teacher's terminal shows before the server starts: who can reach ``what``
    and at which URLs (with QR codes when ``qr``)."""
    host, port = check_host(host), check_port(port)
    here = url("127.0.0.1" if host in WILDCARDS else host, port, path)  # ::1 stays ::1
    if is_loopback(host):
        return (f"{what}: {here}\n  this machine only; `HOST=0.0.0.0` serves the room's "
                "network (students' laptops and phones)")
    urls = student_urls(host, port, path, addresses)
    if not urls:
        return (f"{what} on every address of this machine, but it has no network address "
                f"other than loopback: students cannot reach it. This machine: {here}")
    lines = [f"{what} on the room's network: students open"]
    for link in urls:
        lines.append(f"  {link}")
        if qr:
            lines.append(qr_text(link, colours=sys.stdout.isatty()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explainer.classroom.network",
                                     description="Print the URLs (and QR codes) students "
                                                 "open for a server on HOST:PORT.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8866")
    parser.add_argument("--path", default="", help="the page students open, e.g. "
                                                   "voila/render/scale_explorer.ipynb")
    parser.add_argument("--what", default="the classroom")
    parser.add_argument("--no-qr", dest="qr", action="store_false")
    args = parser.parse_args(argv)
    try:
        print(announcement(args.host, args.port, args.path, args.what, qr=args.qr), flush=True)
    except (TypeError, ValueError) as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
