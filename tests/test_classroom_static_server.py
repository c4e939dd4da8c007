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

from explainer.classroom.static_server import make_server, missing_pages, serve_in_thread
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
    for name in set(APP_PAGES) - {"scale_explorer.html", "broadcast_playground.html"}:
        (tmp_path / name).write_bytes(os.urandom(50_000))  # the other apps: any bytes
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


def _status(port: int, path: str, host: str = "127.0.0.1") -> int:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def served(site, tmp_path_factory):
    """``site`` on a loopback port with a short idle timeout, and a file outside it that
    symlinks inside the site point to."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("not for students")
    (site / "secret.txt").symlink_to(outside / "secret.txt")
    (site / "out").symlink_to(outside, target_is_directory=True)
    (site / "inside.txt").symlink_to(site / "folder" / "note.txt")  # stays in the folder
    (site / ".env").write_text("TOKEN=x")
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[core]")
    server = make_server(site, "127.0.0.1", 0, idle_timeout=0.5)
    serve_in_thread(server)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_no_symlink_out_of_the_folder_and_no_dotfiles(served):
    for path in ("/secret.txt", "/out/secret.txt", "/out/", "/.env", "/.git/config",
                 "/%2e%2e/outside/secret.txt", "/folder/%2e%2e/.env"):
        assert _status(served, path) == 404, path
    assert _status(served, "/inside.txt") == 200  # a link that stays inside is a page
    assert _status(served, "/folder/note.txt") == 200


def test_malformed_paths_answer_400_in_one_line(served, capfd):
    for path in ("/%00", "/a%00b.html", "/%0a", "/%ff%fe", "/%7f"):
        assert _status(served, path) == 400, path
    err = capfd.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 5, err
    assert "static server: 400 for 127.0.0.1: a malformed path '/%00'" in err
    assert _status(served, "/index.html") == 200  # and the server goes on


def test_an_idle_connection_is_closed(served):
    """A socket that sends nothing is closed after the idle timeout (its thread ends), while
    the server keeps serving."""
    import time

    idle = socket.create_connection(("127.0.0.1", served), timeout=30)
    start = time.monotonic()
    assert idle.recv(1) == b""  # closed by the server
    assert time.monotonic() - start < 25
    idle.close()
    assert _status(served, "/index.html") == 200


def test_a_port_in_use_and_an_ipv6_host(site, capsys):
    from explainer.classroom.static_server import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main([str(site), "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert err == (f"python -m explainer.classroom.static_server: error: port: {port} is in "
                   "use on 127.0.0.1 (another server listens there); choose another PORT\n")
    server = make_server(site, "::1", 0)  # an IPv6 host (check_host accepts it) serves
    serve_in_thread(server)
    try:
        assert _status(server.server_address[1], "/index.html", "::1") == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_sample_of_make_fuzz():
    """``make fuzz``'s static-server cases (tools/fuzz_classroom.py), 150 of them: no 5xx, no
    dropped connection, no byte of a file outside the folder or of a dotfile, another student
    served after each, no traceback, an idle socket closed."""
    import random

    sys.path.insert(0, str(ROOT / "tools"))
    from fuzz_classroom import fuzz_static

    report = fuzz_static(random.Random(0), 150)
    assert report["problems"] == 0, report["examples"]
