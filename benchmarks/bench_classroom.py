"""A class on one machine: N students open a classroom app at once (goal: 30 students, every
app usable, median <= 1 s and max <= 3 s from a warm pool; `ready` <= 120 s after the command;
kernels <= 3 GB PSS in all; a closed tab's kernel gone within 60 s; a slider move answered in
<= 150 ms p90 while the whole class moves sliders), and the static classroom under a class
of any size.

    .venv/bin/python benchmarks/bench_classroom.py 30 --pool 30     # warm pool, N = 30
    .venv/bin/python benchmarks/bench_classroom.py --static 300      # static, N = 300
    .venv/bin/python benchmarks/bench_classroom.py 1 10 30 [--pool K] [--movers M] [--moves V]

For each N: start the server exactly as ``make classroom PORT=<free port>`` does (which first
draws the slider frames into a fresh folder) with ``POOL=K`` (``--pool K``, default 0: a
kernel per student; K > 0: K preheated kernels of each app of ``APP``, make's default unless
``--pool-apps`` names some; it waits for the ``ready:`` line and reports how long after the
command it came), then

1. N plain HTTP GETs of ``/voila/render/<app>.ipynb`` at the same moment: Voilà answers after
   the notebook ran in a fresh kernel, so the response time is the server-side "usable" time;
2. kernel memory: PSS (``/proc/<pid>/smaps_rollup``) of each kernel process the server started;
3. slider moves: ``--movers`` of the students (default all, at most 30) connect to their
   kernel's websocket, as a browser does, and each sends ``--moves`` updates of the slider
   widget's value (a comm message, one every 0.2 s); a move is answered when the kernel sends
   the new figure back. The moves of all movers overlap. Runs of over 20 s also print the
   p90 of each 10 s after the renders: a pool's refill (``fill_delay`` after the renders)
   shows there;
4. the clients close; the kernels still alive ``--linger`` seconds later (culling by
   ``voila.json``) are counted;
5. the machine's memory in use (MemTotal - MemAvailable) is sampled every 0.25 s: baseline and
   peak.

``--static N``: ``python -m explainer.classroom.static_server`` (``make classroom-static``'s
server, in its own process) serves the index and both static apps (``build/html`` when it
holds them, else a folder of just those pages, built first); N GETs start at the same moment,
spread over the three pages: median and max load time, failures, bytes sent, the server's
CPU time.

The machine may be shared: the report prints its load average at the start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
STAMP = ".venv/.installed"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_used_mb() -> float:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kb = int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])
    return kb / 1024


def pss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(re.search(r"^Pss:\s+(\d+) kB", text, re.M).group(1)) / 1024


class MemorySampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.baseline = memory_used_mb()
        self.peak = self.baseline
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.25):
            self.peak = max(self.peak, memory_used_mb())


class Classroom:
    """``make classroom`` on a free port, in its own process group, stopped on exit."""

    def __init__(self, pool: int = 0, pool_apps: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.pool = pool
        # no kernel cap in the way (make's default: twice the seats, at least 10): this
        # measures the kernels a class starts
        self.make_args = [f"POOL={pool}", "MAX_KERNELS=999"] + (
            [f"APP={pool_apps}"] if pool_apps else [])
        self.log = Path(tempfile.mkstemp(prefix="classroom-", suffix=".log")[1])

    def pooled_apps(self) -> list[str]:
        """The notebooks ``make classroom`` gives a pool (read from its dry run)."""
        dry = subprocess.run(["make", "-n", "-o", STAMP, "classroom", *self.make_args],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        from explainer.classroom.server import kernel_pools

        options = dict(re.findall(r"--ClassroomVoila\.(pool|pool_apps)='([^']*)'", dry))
        config = kernel_pools(int(options.get("pool", 0)), options.get("pool_apps", ""))
        return [name for name, pool in config.items() if name != "default"
                and pool.get("pool_size", 0) > 0]

    def __enter__(self):
        argv = ["make", "--no-print-directory", "-o", STAMP, "classroom", f"PORT={self.port}",
                *self.make_args]
        # a fresh folder of shared slider frames: the class starts with none drawn
        self.frames = tempfile.TemporaryDirectory(prefix="classroom-frames-")
        env = dict(os.environ, EXPLAINER_FRAME_CACHE=self.frames.name)
        self.started = time.monotonic()
        self.process = subprocess.Popen(argv, cwd=ROOT, stdout=self.log.open("w"), env=env,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_ready()
        except BaseException:
            self.__exit__()  # never leave a server and its kernels behind
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")
        self.ready_line = None
        if self.pooled_apps():  # wait for the line that says every seat answers
            while not (found := re.search(r"^ready: .*$", self.log.read_text(), re.M)):
                if time.monotonic() > deadline + 600:
                    raise RuntimeError("the pool never said ready")
                time.sleep(0.2)
            self.ready_s = time.monotonic() - self.started
            self.ready_line = found.group(0)

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) used so far by the server and its kernels."""
        total = 0.0
        try:
            procs = [psutil.Process(self.process.pid)]
            procs += procs[0].children(recursive=True)
        except psutil.NoSuchProcess:
            return total
        for proc in procs:
            try:
                total += sum(proc.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total

    def kernels(self) -> list[psutil.Process]:
        try:
            procs = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        found = []
        for proc in procs:
            try:
                if "ipykernel" in " ".join(proc.cmdline()):
                    found.append(proc)
            except psutil.NoSuchProcess:  # ended (or a zombie) since the listing
                pass
        return found

    def __exit__(self, *exc):
        kernels = self.kernels()  # kernels run in their own process groups
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        for kernel in kernels:  # those the server did not stop in time
            try:
                kernel.kill()
            except psutil.NoSuchProcess:
                pass
        self.log.unlink(missing_ok=True)
        self.frames.cleanup()


def render(url: str, timeout: float = 180.0) -> tuple[float, str | None, str]:
    """(seconds, error or None, page) of one GET of an app's render URL."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            page = response.read().decode("utf-8", "replace")
            error = None if response.status == 200 else f"HTTP {response.status}"
    except Exception as err:  # noqa: BLE001 - a failed student is a number in the report
        return time.perf_counter() - start, f"{type(err).__name__}: {err}", ""
    if "widget-view+json" not in page:
        error = error or "page without the app's widget"
    return time.perf_counter() - start, error, page


PROTOCOL = "v1.kernel.websocket.jupyter.org"  # the binary framing JupyterLab and Voilà use


def _message(channel: str, msg_type: str, content: dict, session: str) -> bytes:
    """A kernel message in the v1 websocket framing: offsets, channel, four JSON parts."""
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session,
              "username": "student", "version": "5.3", "date": ""}
    parts = [channel.encode()] + [json.dumps(p).encode() for p in (header, {}, {}, content)]
    offsets = [8 * (len(parts) + 2)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little")
                                                         for o in offsets)
    return head + b"".join(parts)


def _decode(frame: bytes) -> dict:
    n = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(n)]
    parts = [frame[offsets[i]:offsets[i + 1]] for i in range(n - 1)]
    header, parent, _, content = (json.loads(p) for p in parts[1:5])
    return {"channel": parts[0].decode(), "header": header, "parent_header": parent,
            "content": content}


async def move_slider(base: str, kernel_id: str, moves: int, pause: float
                      ) -> list[tuple[float, float]]:
    """Connect to the kernel as the page does; send ``moves`` slider updates; return (when
    it was sent, ``time.monotonic()`` seconds; milliseconds until the new figure came back)
    for each."""
    from tornado.websocket import websocket_connect

    session = uuid.uuid4().hex
    ws = await websocket_connect(
        f"{base.replace('http', 'ws')}/api/kernels/{kernel_id}/channels?session_id={session}",
        subprotocols=[PROTOCOL], max_message_size=64 * 2**20)

    def send(frame: bytes):
        return ws.write_message(frame, binary=True)

    async def reply(match) -> dict:
        while True:
            msg = _decode(await asyncio.wait_for(ws.read_message(), 120))
            if match(msg):
                return msg

    # find the slider and the figure as a widget manager can: list the kernel's comms, then
    # ask each widget for its state (its CSS classes say which is which)
    await send(_message("shell", "comm_info_request", {"target_name": "jupyter.widget"},
                        session))
    comms = (await reply(lambda m: m["header"]["msg_type"] == "comm_info_reply")
             )["content"]["comms"]
    for comm_id in comms:
        await send(_message("shell", "comm_msg", {
            "comm_id": comm_id, "data": {"method": "request_state"}}, session))
    states: dict[str, dict] = {}
    while len(states) < len(comms):
        msg = await reply(lambda m: m["header"]["msg_type"] == "comm_msg"
                          and m["content"]["data"].get("method") == "update")
        states[msg["content"]["comm_id"]] = msg["content"]["data"]

    def model(css: str) -> str:
        return next(mid for mid, st in states.items()
                    if css in st.get("state", {}).get("_dom_classes", ()))

    slider_id, image_id = model("scale-slider"), model("scale-plot")
    times = []
    for i in range(moves):
        value = round(0.05 + 0.9 * ((i * 37) % 90) / 90, 2)
        data = {"method": "update", "state": {"value": value}, "buffer_paths": []}
        start = time.perf_counter()
        await send(_message("shell", "comm_msg", {"comm_id": slider_id, "data": data},
                            session))
        await reply(lambda m: m["header"]["msg_type"] == "comm_msg"
                    and m["content"].get("comm_id") == image_id)
        times.append((time.monotonic(), (time.perf_counter() - start) * 1000))
        await asyncio.sleep(pause)
    ws.close()
    return times


def kernel_id_of(page: str) -> str | None:
    found = re.search(r'"?kernel_?[iI]d"?\s*[:=]\s*["\']([0-9a-f-]{36})', page)
    return found.group(1) if found else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(n: int, app: str, pool: int, pool_apps: str | None, movers: int, moves: int,
        linger: float) -> None:
    sampler = MemorySampler()
    with Classroom(pool, pool_apps) as server:
        sampler.start()
        pool_kernels = server.kernels()
        idle_kernels = len(pool_kernels)
        pool_pss = sum(pss_mb(k.pid) for k in pool_kernels)
        url = f"{server.url}/voila/render/{app}.ipynb"
        with ThreadPoolExecutor(max_workers=n) as threads:
            results = list(threads.map(lambda _: render(url), range(n)))
        times = [t for t, err, _ in results if err is None]
        failures = [err for _, err, _ in results if err is not None]
        kernels = server.kernels()
        all_ids = [k for k in (kernel_id_of(page) for _, err, page in results if err is None)
                   if k]
        students = [k for k in kernels if any(i in " ".join(k.cmdline()) for i in all_ids)]
        pss = sorted((pss_mb(k.pid) for k in students), reverse=True)
        ids = all_ids[:movers]

        async def everyone_moves():
            return await asyncio.gather(*(move_slider(server.url, k, moves, 0.2) for k in ids))

        rendered = time.monotonic()
        cpu_before = server.cpu_seconds()
        moved = sorted(t for one in asyncio.run(everyone_moves()) for t in one) if ids else []
        move_cpu = server.cpu_seconds() - cpu_before  # the server's and every kernel's
        move_ms = [ms for _, ms in moved]
        alone_cpu = None
        if ids:  # one student alone, 100 more moves: the CPU a move costs, set-up excluded
            asyncio.run(move_slider(server.url, ids[0], 5, 0.05))
            cpu_before = server.cpu_seconds()
            asyncio.run(move_slider(server.url, ids[0], 100, 0.05))
            alone_cpu = (server.cpu_seconds() - cpu_before) / 100
        time.sleep(linger)  # the clients are gone: what does culling leave?
        alive = server.kernels()
        left = len(alive)
        students_left = len({k.pid for k in students} & {k.pid for k in alive})
        sampler.stop.set()
    if server.ready_line:
        print(f"\ntime to ready: {server.ready_s:.1f} s after `make classroom` (frames drawn "
              f"first, into a fresh folder): {server.ready_line}")
    print(f"\nN = {n} students, app {app}, "
          + (f"preheated pools of {pool} for {', '.join(server.pooled_apps())}: "
             f"{idle_kernels} kernels, {pool_pss:.0f} MB PSS before the class"
             if idle_kernels else "cold kernels"))
    if times:
        print(f"  usable (HTTP render complete): median {statistics.median(times):.2f} s, "
              f"max {max(times):.2f} s, min {min(times):.2f} s")
    print(f"  failures: {len(failures)} of {n}" + (f" (first: {failures[0]})" if failures else ""))
    print(f"  kernels after the renders: {len(kernels)} (pool kernels before: {idle_kernels}); "
          f"the {len(students)} students' kernels: PSS total {sum(pss):.0f} MB, each: "
          + ", ".join(f"{p:.0f}" for p in pss) + " MB")
    if move_ms:
        print(f"  slider moves: {len(move_ms)} by {len(ids)} students at once: median "
              f"{statistics.median(move_ms):.0f} ms, p90 {percentile(move_ms, 0.9):.0f} ms, "
              f"max {max(move_ms):.0f} ms; CPU (server and kernels, refills included) "
              f"{1000 * move_cpu / len(move_ms):.1f} ms a move (with the connections' set-up); "
              f"one student alone: {1000 * alone_cpu:.1f} ms a move (the pool's refills, "
              "free to start once the class is quiet, included)")
        if moved[-1][0] - rendered > 20:  # long runs: by window (a pool's refill shows)
            windows: dict[int, list[float]] = {}
            for when, ms in moved:
                windows.setdefault(int((when - rendered) // 10) * 10, []).append(ms)
            print("    p90 by time after the renders: " + ", ".join(
                f"{w}-{w + 10} s {percentile(v, 0.9):.0f} ms" for w, v in windows.items()))
    print(f"  kernels left {linger:.0f} s after the clients closed: {students_left} of the "
          f"{len(students)} students' kernels; {left} kernels in all"
          + (f" (the pool refills to {idle_kernels})" if pool else ""))
    print(f"  machine memory in use: baseline {sampler.baseline / 1024:.2f} GiB, peak "
          f"{sampler.peak / 1024:.2f} GiB (+{(sampler.peak - sampler.baseline) / 1024:.2f} GiB)")


def static_pages() -> Path:
    """``build/html`` when it holds the static classroom's pages, else a fresh folder with the
    index and both apps (the scale page runs the Keras block: seconds)."""
    from explainer.classroom.static_server import missing_pages

    built = ROOT / "build" / "html"
    if not missing_pages(built):
        return built
    from explainer.site.build import index_page, write_apps

    folder = Path(tempfile.mkdtemp(prefix="static-classroom-"))
    write_apps(folder)
    (folder / "index.html").write_text(index_page([], apps=True), encoding="utf-8")
    return folder


def run_static(n: int) -> None:
    """N page loads at the same moment from ``make classroom-static``'s server."""
    from explainer.site.build import APP_PAGES

    root = static_pages()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "explainer.classroom.static_server",
                               str(root), "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while "serving" not in (server.stdout.readline() or "serving"):
            pass
        names = ["index.html", *APP_PAGES]
        start_line = threading.Barrier(n)

        def load(i: int) -> tuple[float, int, str | None]:
            url = f"http://127.0.0.1:{port}/{names[i % len(names)]}"
            start_line.wait()
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=120) as response:
                    size = len(response.read())
                return time.perf_counter() - start, size, None
            except Exception as err:  # noqa: BLE001 - a failed load is a number here
                return time.perf_counter() - start, 0, f"{type(err).__name__}: {err}"

        cpu_before = sum(psutil.Process(server.pid).cpu_times()[:2])
        wall = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as threads:
            results = list(threads.map(load, range(n)))
        wall = time.perf_counter() - wall
        cpu = sum(psutil.Process(server.pid).cpu_times()[:2]) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)
    times = [s for s, _, err in results if err is None]
    failures = [err for _, _, err in results if err is not None]
    sizes = {name: (root / name).stat().st_size for name in names}
    listed = ", ".join(f"{k} {v / 1e3:.0f} kB" for k, v in sizes.items())
    print(f"\nstatic, N = {n} page loads at once ({listed}):")
    if times:
        print(f"  load time: median {statistics.median(times):.2f} s, p90 "
              f"{percentile(times, 0.9):.2f} s, max {max(times):.2f} s; all done in {wall:.2f} s")
    print(f"  failures: {len(failures)} of {n}" + (f" (first: {failures[0]})" if failures else ""))
    print(f"  sent {sum(b for _, b, _ in results) / 1e6:.1f} MB; the server's CPU time "
          f"{cpu:.2f} s ({1000 * cpu / n:.1f} ms a page)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("students", type=int, nargs="*", help="class sizes, e.g. 1 10 30")
    parser.add_argument("--app", default="scale_explorer", help="app name in notebooks/apps")
    parser.add_argument("--pool", type=int, default=0, help="POOL: preheated kernels per app")
    parser.add_argument("--pool-apps", default=None,
                        help="APP: the pooled apps (default: make classroom's, scale_explorer)")
    parser.add_argument("--static", type=int, default=0, metavar="N",
                        help="also N page loads at once from the static classroom")
    parser.add_argument("--movers", type=int, default=30, help="students moving sliders")
    parser.add_argument("--moves", type=int, default=10, help="slider moves per mover")
    parser.add_argument("--linger", type=float, default=60.0,
                        help="seconds to wait after the clients closed before counting kernels")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    if any(n < 1 for n in args.students):
        parser.error(f"students: got {args.students}; expected positive counts")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} "
          f"(shared with others), memory {psutil.virtual_memory().total / 2**30:.1f} GiB")
    if args.static:
        run_static(args.static)
    for n in args.students:
        run(n, args.app, args.pool, args.pool_apps, min(args.movers, n), args.moves,
            args.linger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
