"""``make classroom`` as a teacher runs it, for the tests: on a free loopback port, its stdout
read line by line as it comes (the ``ready`` line must arrive while the server runs, so it
must be flushed), its kernels found by process, everything stopped at the end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Classroom:
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


def start(scratch: Path, *make_args: str) -> Classroom:
    """``make classroom PORT=<free> <make_args>`` in its own process group; stderr (Voilà's
    log) to a file, stdout to :attr:`Classroom.lines` as each line arrives."""
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


def stop(room: Classroom) -> None:
    """SIGTERM to make's process group, then SIGKILL to whatever of it still runs 10 s later:
    the server and its kernels too (make ends at once; a server that froze ignored SIGTERM
    and lived on, growing, after the tests)."""
    kernels = room.kernels()
    try:
        family = psutil.Process(room.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    try:
        os.killpg(room.process.pid, signal.SIGTERM)
        room.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(room.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for kernel in kernels:
        try:
            kernel.kill()
        except psutil.NoSuchProcess:
            pass
    kernel_pids = {kernel.pid for kernel in kernels}
    _, alive = psutil.wait_procs([p for p in family if p.pid not in kernel_pids], timeout=10)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
