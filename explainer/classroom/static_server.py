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

    python -m explainer.classroom.static_server build/html --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import argparse
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..site.build import APP_PAGES, build
from .network import announcement, check_host, check_port

BACKLOG = 1024  # connections the kernel queues before accept(): a class arriving at once


class PagesHandler(SimpleHTTPRequestHandler):
    """Files of one folder, read-only; no folder listings, no request log on the terminal."""

    protocol_version = "HTTP/1.1"  # keep-alive: a page and its next page on one connection

    def list_directory(self, path):
        self.send_error(404, "No listing")
        return None

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class ClassServer(ThreadingHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True


def make_server(root: Path, host: str = "127.0.0.1", port: int = 0) -> ClassServer:
    """A server (not yet serving) of the files under ``root`` on ``host``:``port`` (port 0:
    one the OS picks; read it from ``server.server_address``)."""
    root = Path(root)
    if not (root / "index.html").is_file():
        raise ValueError(f"root: got {str(root)!r}; expected a folder with an index.html "
                         "(python -m explainer.site.build OUTDIR writes one)")
    handler = partial(PagesHandler, directory=str(root.resolve()))
    return ClassServer((check_host(host), check_port(port) if port else 0), handler)


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
    server = make_server(args.root, host, port)
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
