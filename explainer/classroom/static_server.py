"""The static classroom: ``build/html`` served to a class of any size (``make
classroom-static``).

Every page there is a file: the lessons executed once, the scale slider with every position
computed at build time, the broadcasting playground computing in the page. A student's page
load costs the laptop one file transfer, no kernel, so the class's size is bounded by the
network, not the CPU. :func:`serve` answers GET and HEAD with the folder's files, from a
thread per connection (``ThreadingHTTPServer``, a listen backlog of :data:`BACKLOG` so a
whole class connecting at once is queued, not refused); it lists no folders, runs nothing
and accepts no uploads (POST and the rest: 501). Missing pages are built first
(:func:`ensure_site`: every notebook executed, a few minutes, once).

Only the folder's own files: a path that leads out of it, also through a symlink inside it,
and a dotfile or dot-folder (``.git``, ``.env``) answer 404; a malformed path (a NUL or
another control character, undecodable bytes) answers 400 with one line on stderr, never a
traceback. A connection that sends nothing for :data:`IDLE_TIMEOUT_S` seconds is closed, so
idle sockets do not hold a thread each.

    python -m explainer.classroom.static_server build/html --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import threading
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..site.build import APP_PAGES, build
from .network import announcement, check_host, check_port

BACKLOG = 1024  # connections the kernel queues before accept(): a class arriving at once
IDLE_TIMEOUT_S = 30.0  # a connection silent this long is closed (its thread ends)


def _say(line: str) -> None:
    """One line on the teacher's terminal (stderr)."""
    print(f"static server: {line}", file=sys.stderr, flush=True)


class PagesHandler(SimpleHTTPRequestHandler):
    """Files of one folder, read-only, none through a symlink leading out and no dotfile; no
    folder listings, no request log on the terminal (one line for a malformed request)."""

    protocol_version = "HTTP/1.1"  # keep-alive: a page and its next page on one connection
    timeout = IDLE_TIMEOUT_S  # StreamRequestHandler: the socket's timeout for each read

    def list_directory(self, path):
        self.send_error(404, "No listing")
        return None

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def send_head(self):
        words = self._words()
        if words is None:
            _say(f"400 for {self.client_address[0]}: a malformed path "
                 f"{self.path[:80]!r} (control characters or undecodable bytes)")
            self.send_error(400, "Malformed path")
            return None
        if any(word.startswith(".") for word in words):
            self.send_error(404, "File not found")  # dotfiles and dot-folders are not pages
            return None
        try:
            path = self.translate_path(self.path)
            if not self._inside(path) or (
                    os.path.isdir(path) and not self._inside(os.path.join(path, "index.html"))):
                self.send_error(404, "File not found")
                return None
            return super().send_head()
        except (ValueError, UnicodeError, OSError) as err:  # a name the file system refuses
            _say(f"400 for {self.client_address[0]}: path {self.path[:80]!r} refused "
                 f"({type(err).__name__})")
            self.send_error(400, "Malformed path")
            return None

    def _words(self) -> list[str] | None:
        """The request path's decoded components, or None where it is malformed."""
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        try:
            decoded = urllib.parse.unquote(path, errors="strict")
        except UnicodeDecodeError:
            return None
        if any(ord(c) < 32 or ord(c) == 127 for c in decoded):
            return None
        return [word for word in decoded.split("/") if word]

    def _inside(self, path: str) -> bool:
        """Whether ``path``, every symlink followed, is the folder or in it (a path that does
        not exist is inside when its folder is: it answers 404 as missing)."""
        root = os.path.realpath(self.directory)
        real = os.path.realpath(path)
        return real == root or real.startswith(root + os.sep)


class ClassServer(ThreadingHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True

    def __init__(self, address, handler):
        if ":" in address[0]:  # an IPv6 address: the socket's family follows it
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        """One line, not socketserver's traceback, for a request that failed unexpectedly."""
        err = sys.exc_info()[1]
        _say(f"a request from {client_address[0]} failed: {type(err).__name__}: "
             f"{str(err)[:120]}")


def make_server(root: Path, host: str = "127.0.0.1", port: int = 0,
                idle_timeout: float = IDLE_TIMEOUT_S) -> ClassServer:
    """A server (not yet serving) of the files under ``root`` on ``host``:``port`` (port 0:
    one the OS picks; read it from ``server.server_address``); a connection silent for
    ``idle_timeout`` seconds is closed. An address in use or not of this machine is an
    OSError whose message says so."""
    root = Path(root)
    if not (root / "index.html").is_file():
        raise ValueError(f"root: got {str(root)!r}; expected a folder with an index.html "
                         "(python -m explainer.site.build OUTDIR writes one)")
    handler = type("Handler", (PagesHandler,), {"timeout": float(idle_timeout)})
    host, port = check_host(host), check_port(port) if port else 0
    try:
        return ClassServer((host, port), partial(handler, directory=str(root.resolve())))
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise OSError(err.errno, f"port: {port} is in use on {host} (another server "
                          "listens there); choose another PORT") from None
        raise OSError(err.errno, f"host: cannot listen on {host} port {port} "
                      f"({err.strerror or err}); expected an address of this machine") from None


def missing_pages(root: Path) -> list[str]:
    """The pages a static classroom needs that ``root`` lacks: the index and the apps."""
    return [name for name in ("index.html", *APP_PAGES) if not (Path(root) / name).is_file()]


def ensure_site(root: Path) -> bool:
    """Build the static site into ``root`` when a page it needs is missing; True if built."""
    missing = missing_pages(root)
    if not missing:
        return False
    print(f"{root}: {', '.join(missing)} missing; building the static pages (every notebook "
          "executed: a few minutes, once)", flush=True)
    build(Path(root), apps=True)
    return True


def serve_in_thread(server: ClassServer) -> threading.Thread:
    """Serve in a daemon thread (tests, benchmarks); stop with ``server.shutdown()``."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explainer.classroom.static_server",
                                     description="Serve the static pages to a class.")
    parser.add_argument("root", type=Path, nargs="?", default=Path("build/html"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args(argv)
    try:
        host, port = check_host(args.host), check_port(args.port)
    except (TypeError, ValueError) as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    ensure_site(args.root)
    try:
        server = make_server(args.root, host, port)
    except OSError as err:
        print(f"{parser.prog}: error: {err.strerror or err}", file=sys.stderr)
        return 2
    print(announcement(host, port, "", "the static classroom (files only)"), flush=True)
    print(f"serving {args.root}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
