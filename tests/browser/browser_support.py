"""Servers for the browser tests: JupyterLab, Voilà and ``make classroom`` on free loopback
ports.

JupyterLab and Voilà run each in its own process group with throw-away Jupyter config,
runtime, data and settings folders, serve a *copy* of the notebooks (so JupyterLab's autosave
can never write outputs into the repository), and are always stopped, kernels included, when
their context ends. ``make classroom`` runs as a teacher runs it (:func:`start_classroom`): its
stdout read line by line as it comes (the ``ready`` line must arrive while the server runs,
so it must be flushed), its kernels found by process.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
# The notebooks the servers serve; BROWSER_TEST_NOTEBOOKS points the tests at another folder.
NOTEBOOKS = Path(os.environ.get("BROWSER_TEST_NOTEBOOKS") or ROOT / "notebooks")
MAX_PAGE_BYTES = 2**20  # a static page a class downloads at once: the lessons', the apps'
ARTIFACTS = ROOT / "test-artifacts"  # screenshots of failed browser tests (git-ignored)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
START_TIMEOUT_S = 90.0  # a cold start imports a lot on 2 shared cores; usually 2-5 s
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3


@dataclass
class Server:
    """A running Jupyter server: its base URL, token (may be empty) and log file."""

    url: str
    token: str
    log: Path
    process: subprocess.Popen

    def log_tail(self, chars: int = 3000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-chars:]


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(scratch: Path) -> dict[str, str]:
    """The environment for a server: throw-away Jupyter folders, quiet TensorFlow.

    ``MPLBACKEND`` is removed so that kernels use matplotlib's inline backend, as for a learner.
    """
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTER_DATA_DIR", "data"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
        folder = scratch / sub
        folder.mkdir(parents=True, exist_ok=True)
        env[var] = str(folder)
    # no "get Jupyter news?" toast over the page (and no request for it)
    news = scratch / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_ready(server: Server, probe: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with status {server.process.returncode} before "
                               f"it was ready; log:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(probe, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server not ready after {START_TIMEOUT_S:.0f} s at {probe}; "
                       f"log:\n{server.log_tail()}")


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group, SIGKILL to what of it still runs ``STOP_TIMEOUT_S``
    later, then kill every process it had started: jupyter_client starts kernels in sessions
    of their own, which a killed server cannot shut down (and a server that froze ignored
    SIGTERM and lived on, growing, after the tests)."""
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=STOP_TIMEOUT_S)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    for proc in family:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def _start(argv_for: Callable[[int], list[str]], scratch: Path, token: str,
           probe_path: str, cwd: Path) -> Server:
    """Start a server on a free port and wait until it answers; a port taken between
    :func:`free_port` and the server's bind (a race with other processes) gets a new port."""
    scratch.mkdir(parents=True, exist_ok=True)
    for attempt in range(START_ATTEMPTS):
        port = free_port()
        log = scratch / f"server-{attempt}.log"
        with open(log, "wb") as sink:
            process = subprocess.Popen(argv_for(port), cwd=cwd, env=server_env(scratch),
                                       stdout=sink, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        server = Server(url=url, token=token, log=log, process=process)
        try:
            _wait_ready(server, url + probe_path)
            return server
        except RuntimeError:
            stop_group(process)
            if "already in use" not in server.log_tail() or attempt + 1 == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@contextmanager
def _serve(argv_for: Callable[[int], list[str]], scratch: Path, token: str, probe_path: str,
           cwd: Path) -> Iterator[Server]:
    server = _start(argv_for, scratch, token, probe_path, cwd)
    try:
        yield server
    finally:
        stop_group(server.process)


@contextmanager
def jupyterlab(root: Path, scratch: Path) -> Iterator[Server]:
    """JupyterLab serving ``root`` on a free port of 127.0.0.1, with a random token."""
    token = os.urandom(12).hex()
    root_flag = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []

    def argv_for(port: int) -> list[str]:
        return [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                f"--port={port}", f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
                "--LabApp.news_url=", "--LabApp.check_for_updates_class="
                "jupyterlab.NeverCheckForUpdate", *root_flag]

    with _serve(argv_for, scratch, token, f"/api/status?token={token}", root) as server:
        yield server


@contextmanager
def voila(root: Path, scratch: Path) -> Iterator[Server]:
    """Voilà serving the notebooks of ``root`` as apps on a free port of 127.0.0.1."""

    def argv_for(port: int) -> list[str]:
        return [sys.executable, "-m", "voila", str(root), "--no-browser", f"--port={port}",
                "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"]

    with _serve(argv_for, scratch, "", "/", root) as server:
        yield server


@dataclass
class Classroom:
    """``make classroom`` running: its URL, Voilà's log, and its stdout lines as they came."""

    process: subprocess.Popen
    url: str
    log: Path
    lines: list[tuple[float, str]] = field(default_factory=list)  # (arrival, stdout line)

    def stdout(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def wait_for_line(self, pattern: str, timeout: float, after: int = 0) -> str:
        """The first stdout line from index ``after`` on that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, line in self.lines[after:]:
                if re.search(pattern, line):
                    return line
            assert self.process.poll() is None, f"make classroom ended:\n{self.tail()}"
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.stdout()[-2000:] + "\n--- log ---\n" + self.log.read_text()[-3000:]

    def kernels(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if "ipykernel" in " ".join(proc.cmdline()):
                    found.append(proc)
            except psutil.NoSuchProcess:
                pass
        return found


def start_classroom(scratch: Path, *make_args: str) -> Classroom:
    """``make classroom PORT=<free> <make_args>`` in its own process group; stderr (Voilà's
    log) to a file, stdout to :attr:`Classroom.lines` as each line arrives. Stop it with
    :func:`stop_group`."""
    port = free_port()
    log = scratch / "voila.log"
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "classroom", f"PORT={port}",
         *make_args, f"PYTHON={sys.executable}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
        start_new_session=True,  # no PYTHONUNBUFFERED: the server must flush its lines itself
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    room = Classroom(process, f"http://127.0.0.1:{port}", log)

    def read() -> None:
        for line in process.stdout:
            room.lines.append((time.monotonic(), line.rstrip("\n")))

    threading.Thread(target=read, daemon=True).start()
    return room
