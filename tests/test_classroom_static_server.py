"""``make classroom-static`` on loopback: it says where it serves, then answers a class at
once with the folder's files, byte for byte; it lists no folders, leaves the folder for no
path and takes no uploads (``explainer.classroom.static_server``)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from explainer.classroom.static_server import make_server, missing_pages
from explainer.site.broadcast_page import broadcast_page
from explainer.site.build import APP_PAGES, index_page

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = 60


@pytest.fixture
def site(tmp_path) -> Path:
    """A folder with the pages the static classroom needs (the scale page's text does not
    matter to the server: any file)."""
    (tmp_path / "index.html").write_text(index_page([], apps=True), encoding="utf-8")
    (tmp_path / "broadcast_playground.html").write_text(broadcast_page(), encoding="utf-8")
    (tmp_path / "scale_explorer.html").write_bytes(os.urandom(200_000))
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "note.txt").write_text("inside")
    return tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        return response.read()


def test_make_classroom_static_serves_a_class_on_loopback(site):
    port = _free_port()
    server = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "classroom-static",
         f"PORT={port}", f"SITE={site}", f"PYTHON={sys.executable}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        lines = []
        while not any(line.startswith("serving ") for line in lines):
            line = server.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        out = "".join(lines)
        assert f"{url}/" in out and "this machine only" in out and "HOST=0.0.0.0" in out
        assert "building" not in out  # every page was there
        with ThreadPoolExecutor(STUDENTS) as students:  # a class at once, every page
            names = [name for name in ("index.html", *APP_PAGES) for _ in range(STUDENTS // 3)]
            pages = list(students.map(lambda n: _get(f"{url}/{n}"), names))
        assert all(p == (site / n).read_bytes() for p, n in zip(pages, names, strict=True))
        assert _get(url + "/") == (site / "index.html").read_bytes()
        for path in ("/folder/", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/nope.html"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url + path, timeout=30)
            assert refused.value.code == 404, path
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/index.html", body=b"x")
        assert connection.getresponse().status == 501  # no uploads, nothing runs
        connection.close()
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_a_folder_without_pages(tmp_path, site):
    with pytest.raises(ValueError, match="root: got .*; expected a folder with an index.html"):
        make_server(tmp_path / "empty")
    assert missing_pages(tmp_path / "empty") == ["index.html", *APP_PAGES]
    assert missing_pages(site) == []
    with pytest.raises(ValueError, match="host: got 'example.org'"):
        make_server(site, "example.org")
    server = make_server(site, "127.0.0.1", 0)
    try:
        assert server.server_address[0] == "127.0.0.1" and server.server_address[1] > 0
    finally:
        server.server_close()
