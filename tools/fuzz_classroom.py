"""``make fuzz``, the servers' part: random hostile requests to the two classroom servers on
loopback, each case followed by an ordinary request from "another student".

- **static** (``explainer.classroom.static_server``, in this process, on a site made here
  with symlinks out of and inside the folder, dotfiles and a file outside): random paths
  (percent-encoded bytes, NUL and control characters, ``..`` in plain, encoded and
  double-encoded forms, dotfiles, symlinks, long names, odd methods). A case fails on a 5xx,
  a dropped connection, a byte of a file outside the folder or of a dotfile, a traceback on
  stderr, or another student not served; idle sockets must be closed after the idle timeout.
- **voila** (``python -m explainer.classroom.server``, a small pool and cap, started here):
  random URLs (the same path soup under ``/voila/render``, ``/voila/tree``,
  ``/voila/static``, ``/voila/templates``, ``?template=`` / ``?theme=`` values) must answer
  below 500; kernel websockets: without the v1 subprotocol (refused), with v1 and random or
  truncated frames, text frames, absurd part counts, and the widget ``request_state`` sequence.
  A case fails when another student is not served within :data:`SERVED_WITHIN_S`, when the
  server's memory grew past :data:`MEMORY_GROWTH_LIMIT` over the run, or on a traceback in its
  log.

    python tools/fuzz_classroom.py                  # 300 cases per server
    python tools/fuzz_classroom.py --cases 50 --servers static
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "outside-the-folder-7f3a"  # in files a student must never read
V1 = "v1.kernel.websocket.jupyter.org"
SERVED_WITHIN_S = 10.0
MEMORY_GROWTH_LIMIT = 300 * 2**20
IDLE_TIMEOUT_S = 1.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _site(folder: Path) -> Path:
    """A static site with the hostile furniture: links out (file, folder), a link inside,
    dotfiles and a dot-folder, a file outside the folder."""
    outside = folder / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    site = folder / "site"
    (site / "sub").mkdir(parents=True)
    (site / "index.html").write_text("<!DOCTYPE html><title>index</title><p>index</p>")
    (site / "sub" / "page.html").write_text("<p>page</p>")
    (site / "secret.txt").symlink_to(outside / "secret.txt")
    (site / "out").symlink_to(outside, target_is_directory=True)
    (site / "up").symlink_to("..", target_is_directory=True)
    (site / "inside.html").symlink_to(site / "sub" / "page.html")
    (site / ".env").write_text(SECRET)
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text(SECRET)
    return site


def _path_soup(rng: random.Random, names: list[str]) -> str:
    """A request path (already encoded as sent): names of the site, traversal in its
    spellings, percent-encoded random bytes, control characters, long words."""
    pieces = names + ["..", ".", "%2e%2e", "%252e%252e", "..%2f", "%2e%2e%2f", "%00", "%0a",
                      "%0d%0a", "%ff", "%c0%ae", "%7f", "%20", "%", "%zz", "~", ".env", ".git",
                      "secret.txt", "out", "up", "inside.html", "a" * rng.choice([1, 300]),
                      "\\..\\", "%5c..%5c", "?x=%00", "#frag", "//", ";", "%3b"]
    words = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        if kind < 0.6:
            words.append(rng.choice(pieces))
        elif kind < 0.8:
            words.append("".join(f"%{rng.randrange(256):02x}" for _ in range(rng.randint(1, 4))))
        else:
            words.append(urllib.parse.quote(bytes(rng.randrange(32, 127)
                                                  for _ in range(rng.randint(1, 8)))))
    return "/" + "/".join(words)


def _request(port: int, method: str, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """(status, body) over one connection; status 0: the connection was dropped."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    except (http.client.HTTPException, ConnectionError):
        return 0, b""
    finally:
        connection.close()


def fuzz_static(rng: random.Random, cases: int) -> dict:
    from explainer.classroom.static_server import make_server, serve_in_thread

    bad, statuses = [], Counter()
    with tempfile.TemporaryDirectory(prefix="fuzz_static_") as tmp:
        site = _site(Path(tmp))
        err = io.StringIO()
        server = make_server(site, "127.0.0.1", 0, idle_timeout=IDLE_TIMEOUT_S)
        serve_in_thread(server)
        port = server.server_address[1]
        names = ["index.html", "sub", "page.html", "inside.html", ""]
        try:
            with contextlib.redirect_stderr(err):
                for _ in range(cases):
                    method = rng.choice(["GET"] * 6 + ["HEAD", "POST", "PUT", "DELETE", "X"])
                    path = _path_soup(rng, names)
                    status, body = _request(port, method, path)
                    statuses[str(status)] += 1
                    why = None
                    if status == 0 or status >= 500 and status != 501:
                        why = f"status {status}"
                    elif SECRET.encode() in body:
                        why = "served a file outside the folder or a dotfile"
                    elif _request(port, "GET", "/index.html", SERVED_WITHIN_S)[0] != 200:
                        why = "another student was not served"
                    if why:
                        bad.append({"case": f"{method} {path}"[:200], "why": why})
                idle = socket.create_connection(("127.0.0.1", port), timeout=30)
                start = time.monotonic()
                closed = idle.recv(1) == b""
                idle.close()
                if not closed or time.monotonic() - start > IDLE_TIMEOUT_S + 10:
                    bad.append({"case": "an idle socket", "why": "not closed"})
        finally:
            server.shutdown()
            server.server_close()
        if "Traceback" in err.getvalue():
            bad.append({"case": "stderr", "why": "a traceback: " + err.getvalue()[-300:]})
    return {"cases": cases, "statuses": dict(statuses), "problems": len(bad),
            "examples": bad[:10]}


def _v1_frame(message: dict) -> bytes:
    parts = [message["channel"].encode()] + [json.dumps(message[k]).encode() for k in
                                             ("header", "parent_header", "metadata", "content")]
    offsets = [8 * (len(parts) + 2)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join(n.to_bytes(8, "little") for n in [len(parts) + 1, *offsets]) + \
        b"".join(parts)


def _message(msg_type: str, content: dict) -> dict:
    header = {"msg_id": uuid.uuid4().hex, "username": "fuzz", "session": uuid.uuid4().hex,
              "msg_type": msg_type, "version": "5.3", "date": "2026-01-01T00:00:00Z"}
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content,
            "channel": "shell", "buffers": []}


def _frames(rng: random.Random) -> list:
    """What one hostile client sends on a kernel socket."""
    good = [_v1_frame(_message("comm_info_request", {})),
            _v1_frame(_message("kernel_info_request", {})),
            _v1_frame(_message("comm_msg", {"comm_id": uuid.uuid4().hex,
                                            "data": {"method": "request_state"}}))]
    kind = rng.randrange(6)
    if kind == 0:
        return [rng.randbytes(rng.randint(0, 64))]
    if kind == 1:
        return [rng.randrange(2**64).to_bytes(8, "little") + rng.randbytes(rng.randint(0, 64))]
    if kind == 2:
        frame = rng.choice(good)
        return [frame[:rng.randrange(len(frame))]]
    if kind == 3:
        return [json.dumps(_message("comm_info_request", {})), "x" * rng.randint(0, 100)]
    if kind == 4:
        frame = bytearray(rng.choice(good))
        for _ in range(rng.randint(1, 4)):
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        return [bytes(frame)]
    return [rng.choice(good) for _ in range(rng.randint(1, 30))]


class Voila:
    """``python -m explainer.classroom.server`` on a free loopback port (as ``make
    classroom`` runs it, with a small pool and cap), its log in a file."""

    def __init__(self, folder: Path, start_timeout: float = 300):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "voila.log"
        env = {**os.environ, "JUPYTER_PATH": str(ROOT / "share" / "jupyter")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "explainer.classroom.server", "notebooks/apps/",
             "--no-browser", "--Voila.ip=127.0.0.1", f"--port={self.port}",
             "--template=classroom", "--ClassroomVoila.pool=1",
             "--ClassroomVoila.pool_apps=scale_explorer",
             "--ClassroomKernelManager.max_kernels=3",
             "--ClassroomKernelManager.refill_spacing=0",
             "--MappingKernelManager.cull_idle_timeout=10",
             "--MappingKernelManager.cull_interval=2"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"),
            start_new_session=True)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the classroom server ended:\n{self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                if _request(self.port, "GET", "/voila/static/voila.js", 5)[0] == 200:
                    return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the classroom server did not answer in {start_timeout:g} s")

    def rss(self) -> int:
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) * 1024

    def served(self) -> bool:
        return _request(self.port, "GET", "/voila/static/voila.js", SERVED_WITHIN_S)[0] == 200

    def kernel(self) -> str | None:
        status, body = _request(self.port, "GET", "/voila/render/scale_explorer.ipynb", 120)
        found = re.search(rb'"kernelId":\s*"([0-9a-f-]{36})"', body)
        return found.group(1).decode() if status == 200 and found else None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 9)
        self.process.wait(timeout=30)


def _socket_case(voila: Voila, kernel_id: str, rng: random.Random) -> tuple[str, str | None]:
    """One hostile websocket client: what it sent, and why it is a problem (or None)."""

    legacy = rng.random() < 0.2
    frames = [] if legacy else _frames(rng)
    sent = "websocket " + ("without v1" if legacy else
                           "v1: " + ", ".join(repr(f)[:40] for f in frames[:3]))
    return sent, _send_frames(voila, kernel_id, legacy, frames)


def _send_frames(voila: Voila, kernel_id: str, legacy: bool, frames: list) -> str | None:
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    url = (f"{voila.url.replace('http://', 'ws://')}/api/kernels/{kernel_id}/channels"
           f"?session_id={uuid.uuid4()}")
    try:
        with connect(url, subprotocols=None if legacy else [V1], open_timeout=30,
                     max_size=None) as sock:
            if legacy:
                return "a socket without the v1 subprotocol was accepted"
            for frame in frames:
                sock.send(frame)
            with contextlib.suppress(TimeoutError, WebSocketException):
                for _ in range(50):
                    sock.recv(timeout=0.5)
    except InvalidStatus as refused:
        if not legacy or refused.response.status_code != 400:
            return f"refused with {refused.response.status_code}"
    except (WebSocketException, OSError, TimeoutError):
        pass  # the server closed a malformed socket: its right
    return None


def voila_cases(voila, rng: random.Random, cases: int) -> tuple[list[dict], Counter, int]:
    """``cases`` hostile requests to a running classroom server (anything with ``port``,
    ``url``, ``rss()``, ``served()`` and ``kernel()``, as :class:`Voila`): the problems,
    the statuses of the URL cases, and the server's memory growth in bytes."""
    bad, statuses = [], Counter()
    kernel_id = voila.kernel()
    before = voila.rss()
    prefixes = ["/voila/render", "/voila/tree", "/voila/static", "/voila/templates",
                "/voila/files", "/voila/labextensions", "/voila/api/themes", ""]
    names = ["scale_explorer.ipynb", "broadcast_playground.ipynb", "classroom", "static", "lab",
             "index.css", ""]
    for index in range(cases):
        if index % 2 and kernel_id:
            case, why = _socket_case(voila, kernel_id, rng)
        else:
            path = rng.choice(prefixes) + _path_soup(rng, names)
            if rng.random() < 0.3:
                path += "?" + rng.choice(["template", "theme"]) + "=" + \
                    rng.choice(["../../etc", "%00", "lab", "classroom", "dark", "x" * 300])
            case = f"GET {path}"
            status, _ = _request(voila.port, "GET", path, 120)
            statuses[str(status)] += 1
            why = f"status {status}" if status == 0 or status >= 500 and status != 503 else None
        if not why and not voila.served():
            why = "another student was not served"
        now = voila.rss()
        if now - before > MEMORY_GROWTH_LIMIT and not why:
            why = f"the server grew to {now / 2**20:.0f} MiB"
        if why:
            bad.append({"case": case[:200], "why": why})
            if why == "another student was not served" or "grew" in why:
                break  # a frozen or swollen server: the cases after mean nothing
    return bad, statuses, voila.rss() - before


def log_problems(log: str) -> list[dict]:
    """A traceback in a server's log, with its last line."""
    if "Traceback" not in log:
        return []
    first = log.index("Traceback")
    last = re.search(r"^\w[\w.]*(Error|Exception|error)\b.*$", log[first:], re.M)
    return [{"case": "the server's log", "why": "a traceback ending "
             f"{last.group(0)[:200] if last else '?'!r}: " + log[first:][:400]}]


def fuzz_voila(rng: random.Random, cases: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="fuzz_voila_") as tmp:
        try:
            voila = Voila(Path(tmp))
        except RuntimeError as err:
            return {"cases": 0, "statuses": {}, "problems": 1,
                    "examples": [{"case": "start", "why": str(err)[:400]}]}
        try:
            bad, statuses, growth = voila_cases(voila, rng, cases)
        finally:
            voila.stop()
        bad += log_problems(voila.log.read_text(errors="replace"))
        if growth > MEMORY_GROWTH_LIMIT:
            bad.append({"case": "memory", "why": f"grew {growth / 2**20:.0f} MiB"})
    return {"cases": cases, "statuses": dict(statuses), "memory_growth_mib":
            round(growth / 2**20, 1), "problems": len(bad), "examples": bad[:10]}


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="cases per server (300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--servers", nargs="*", choices=["static", "voila"],
                        default=["static", "voila"])
    parser.add_argument("--report", default="build/fuzz_classroom.json")
    opts = parser.parse_args(args)
    sys.path.insert(0, str(ROOT))
    rng = random.Random(opts.seed)
    report = {}
    for name in opts.servers:
        start = time.monotonic()
        report[name] = (fuzz_static if name == "static" else fuzz_voila)(rng, opts.cases)
        report[name]["seconds"] = round(time.monotonic() - start, 1)
        print(f"{name:<7} {opts.cases} cases  statuses {report[name]['statuses']}  "
              f"{report[name]['seconds']:.0f} s  problems {report[name]['problems']}",
              flush=True)
        for example in report[name]["examples"][:3]:
            print(f"    {example['why'][:200]}: {example['case']}", flush=True)
    from explainer.core.validate import write_atomic

    Path(opts.report).parent.mkdir(parents=True, exist_ok=True)
    write_atomic("report", opts.report, json.dumps(report, indent=2))
    failures = sum(r["problems"] for r in report.values())
    print(f"report: {opts.report}; {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
