"""The classroom server's kernel manager (``explainer.classroom.kernel_manager``) and a pool
kernel's wait for its student (``explainer.classroom.pool_wait``), without a server; the
live pool (waves, seats, refills, a dead seat replaced) is tested in
``tests/browser/test_classroom_apps.py``."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_classroom_uses_the_classroom_kernel_manager():
    import json

    config = json.loads((ROOT / "voila.json").read_text())
    name = config["VoilaConfiguration"]["multi_kernel_manager_class"]
    module, _, cls = name.rpartition(".")
    from importlib import import_module

    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    assert issubclass(getattr(import_module(module), cls), AsyncMappingKernelManager)
    assert config["ClassroomKernelManager"]["refill_spacing"] > 0


def test_idle_kernels_are_culled_together():
    """Jupyter's culler waits for each shutdown in turn; a class's 30 closed tabs then take
    30 shutdowns one after another. The classroom manager checks (and shuts down) all at once."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from explainer.classroom.kernel_manager import ClassroomKernelManager

    class Recording(ClassroomKernelManager):
        async def cull_kernel_if_idle(self, kernel_id):
            self.running += 1
            self.most = max(self.most, self.running)
            await asyncio.sleep(0.2)  # a shutdown that takes a while
            self.running -= 1
            if kernel_id == "broken":
                raise RuntimeError("kernel gone")

    manager = Recording()
    manager.running = manager.most = 0
    manager._kernels = {f"k{i}": None for i in range(5)} | {"broken": None}
    start = time.monotonic()
    # a loop of its own, in a thread: other tests of the session may leave one running here
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, manager.cull_kernels()).result()  # one failure stops none
    assert manager.most == 6 and time.monotonic() - start < 1.0


def test_a_pool_kernel_waits_for_its_request_without_voila(monkeypatch):
    """``pool_wait.wait_for_request`` speaks Voilà's query websocket: it connects where Voilà
    0.5.13 serves it for this kernel and takes the request's details into its environment."""
    import json
    import threading

    from websockets.sync.server import serve

    from explainer.classroom.pool_wait import wait_for_request

    asked = []

    def handler(websocket):
        asked.append(websocket.request.path)
        websocket.send(json.dumps({"QUERY_STRING": "student=7", "SERVER_PORT": "8866"}))

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        monkeypatch.setenv("VOILA_APP_PORT", str(port))
        monkeypatch.setenv("VOILA_SERVER_URL", "/base/")
        monkeypatch.setenv("VOILA_KERNEL_ID", "1234-abcd")
        monkeypatch.delenv("VOILA_WS_BASE_URL", raising=False)
        monkeypatch.delenv("QUERY_STRING", raising=False)
        monkeypatch.setenv("VOILA_PREHEAT", "False")
        assert wait_for_request() is None and asked == []  # not a pool kernel: no wait
        monkeypatch.setenv("VOILA_PREHEAT", "True")
        assert wait_for_request() == {"QUERY_STRING": "student=7", "SERVER_PORT": "8866"}
        server.shutdown()
    assert asked == ["/base/voila/query/1234-abcd"]
    assert os.environ["QUERY_STRING"] == "student=7"
    monkeypatch.setenv("VOILA_APP_PORT", str(_free_port()))  # nobody listens: the app goes on
    assert wait_for_request(open_timeout=1) is None


def test_pool_wait_builds_voilas_url():
    """The URL is the one ``voila.utils.wait_for_request`` of the pinned Voilà builds."""
    import inspect

    import voila.utils

    source = inspect.getsource(voila.utils.wait_for_request)
    assert 'url = f"{protocol}://{server_ip}:{server_port}{ws_base_url}voila/query"' in source
    assert 'ws_url = f"{url}/{kernel_id}"' in source


def test_the_kernel_cap_and_its_default(capsys):
    """``max_kernels`` (``make classroom MAX_KERNELS=N``): a student's own kernel past the cap
    is a 503 with a sentence for the student, and one line for the teacher; the default is
    twice the pools' seats, and at least 10."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import pytest

    from explainer.classroom.class_full import ClassFull
    from explainer.classroom.kernel_manager import ClassroomKernelManager

    manager = ClassroomKernelManager()
    assert manager.kernel_cap() == 10  # no pool
    manager.kernel_pools_config = {"default": {"pool_size": 0}, "a.ipynb": {"pool_size": 30}}
    manager._pools = {"a.ipynb": [], "b.ipynb": []}
    assert manager.kernel_cap() == 60
    manager.max_kernels = 2
    manager._kernels = {"k1": None, "k2": None}
    with ThreadPoolExecutor(1) as thread, pytest.raises(ClassFull) as full:
        thread.submit(asyncio.run, manager.start_kernel(env={"VOILA_PREHEAT": "False"})).result()
    assert full.value.status_code == 503
    assert full.value.student_message.startswith("The class server is full: it runs 2 apps")
    assert capsys.readouterr().out.startswith("class full: 2 kernels (MAX_KERNELS)")


def test_v1_frames_are_checked_before_they_are_parsed():
    """jupyter_server builds a list of as many offsets as a frame's first 8 bytes say (up to
    2**64): the classroom server checks the frame first."""
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    from explainer.classroom.kernel_socket import v1_message_problem

    header = b'{"msg_id": "1", "msg_type": "comm_info_request"}'
    good = serialize_msg_to_ws_v1([header, b"{}", b"{}", b"{}"], "shell")
    assert v1_message_problem(good) is None
    # parts the kernel's session cannot read (it logged a traceback for each)
    for parts, why in [([b"{", b"{}", b"{}", b"{}"], "header is not JSON"),
                       ([header, b"{}", b"{}", b"[1]"], "content is not a JSON object"),
                       ([b'{"msg_type": "x"}', b"{}", b"{}", b"{}"], "no msg_id")]:
        assert why in v1_message_problem(serialize_msg_to_ws_v1(parts, "shell"))
    assert v1_message_problem(good + b"buffer") is None  # bytes after the last part: allowed
    for bad, why in [("text", "a text frame"), (b"\xff" * 8, "parts"), (b"", "0 bytes"),
                     ((2**63).to_bytes(8, "little"), "1000000 parts"),
                     ((6).to_bytes(8, "little") + b"\0" * 8, "for 6 offsets"),
                     (good[:-3], "offsets outside the frame"),
                     (good[:8] + (10**9).to_bytes(8, "little") + good[16:], "outside")]:
        assert why in v1_message_problem(bad), bad[:24]


def test_bad_pool_and_cap_options_are_one_line():
    """``make classroom POOL=abc`` or ``MAX_KERNELS=0``: one line, exit 2, before a kernel
    starts (traitlets' TraitError was a traceback)."""
    import subprocess
    import sys

    import pytest

    from explainer.classroom.server import check_max_kernels, kernel_pools

    assert kernel_pools(0, "a") == {}
    assert kernel_pools(2, "a b") == {"default": {"pool_size": 0}, "a.ipynb": {"pool_size": 2},
                                      "b.ipynb": {"pool_size": 2}}
    assert check_max_kernels(" 12 ") == 12
    for bad in ("abc", "0", "-1", "\u00b2", "1" * 7):
        with pytest.raises(ValueError, match=r"max_kernels \(MAX_KERNELS\): got "):
            check_max_kernels(bad)
    for option, message in (("--ClassroomKernelManager.max_kernels=0",
                             "max_kernels (MAX_KERNELS): got '0'"),
                            ("--ClassroomVoila.pool=abc", "pool (POOL): got 'abc'")):
        run = subprocess.run([sys.executable, "-m", "explainer.classroom.server",
                              str(ROOT / "notebooks" / "apps"), "--no-browser", option],
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert run.returncode == 2 and run.stdout == "", run.stderr
        assert run.stderr.startswith("python -m explainer.classroom.server: error: ")
        assert message in run.stderr and run.stderr.count("\n") == 1, run.stderr
