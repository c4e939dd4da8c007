"""The test servers start on a free loopback port, and stop with every process they started
(kernels included, which jupyter_client starts in sessions of their own) when their context
ends."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

from browser_support import jupyterlab


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:  # the process ended while we looked
            pass
    return found


def test_jupyterlab_runs_on_loopback_and_stops_with_its_kernels(tmp_path):
    root, scratch = tmp_path / "root", tmp_path / "scratch"
    root.mkdir()
    with jupyterlab(root, scratch) as server:
        assert server.url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(f"{server.url}/api/kernels?token={server.token}",
                                         data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            assert json.load(response)["id"]
        # the server names its root, the kernel its connection file in the runtime folder
        assert len(processes_mentioning(str(tmp_path))) >= 2, "the server and a kernel"
        port = int(server.url.rsplit(":", 1)[1])
    assert server.process.poll() is not None
    assert processes_mentioning(str(tmp_path)) == [], "a server or kernel process survived"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the port still answers"
