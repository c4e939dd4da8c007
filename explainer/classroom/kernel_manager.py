"""The classroom server's kernel manager: the pool starts in waves, a failed seat is replaced,
the seats are announced, a used kernel is replaced slowly.

Voilà (0.5.13, ``--preheat_kernel``) asks for the whole pool at once. 60 kernels starting
together on two cores lost seats: ZMQ "Address already in use", "Kernel didn't respond in 60
seconds", a kernel that died (measured). :class:`ClassroomKernelManager` starts the first fill
in waves of ``start_wave`` kernels: a kernel holds its place in the wave until it is a seat
(it ran the app and waits for its student, :mod:`.seats`), died, or took ``seat_timeout``
seconds. A start that raises is tried again; a pool kernel that died, failed its notebook or
never became a seat is shut down and replaced.

It prints to stdout (flushed, for the teacher's terminal) ``ready: 30 seats (scale_explorer
30) holding 2.0 GB, 41 s after the server started`` when every pool is full of seats, a
``refilled:`` line each time a used seat's replacement is ready (then ``ready:`` again), and
a ``replacing a seat`` line for each failed one.

Voilà refills its pool ``fill_delay`` seconds after each kernel is handed to a student; a
class arrives together, so 30 refills would start at once and every student's slider would
wait behind them (measured with no spacing: slider p90 7.2 s in the 10 s after the refill
began). After the first fill, pool kernels start one at a time, ``refill_spacing`` apart,
each when the server is quiet: it relays every slider move, so while it used more than
``refill_quiet_cpu`` of a core in the last second a class is at work and the refill waits
(``refill_max_wait`` seconds at most). Measured with 30 students moving sliders: p90 188 ms
with refills 8 s apart during the moves, 106 ms without refills. A student's own kernel (an
app without a pool, a pool found empty, or a pool kernel not started yet that a student's
request took: Voilà then waits for it) is never held back.

Kernels are capped at :attr:`ClassroomKernelManager.max_kernels` (:mod:`.class_full`): past
it a student's page answers 503; a refill waits until a kernel is culled, and a pool left
short by a refused student is topped up.

It also culls in parallel: Jupyter's culler waits for each idle kernel's shutdown in turn,
so a class closing its tabs together went past a minute (8 of 30 kernels left at 60 s).

``voila.json`` names it (``VoilaConfiguration.multi_kernel_manager_class``); Voilà wraps it
with its pool logic, whose pools (one list of start tasks per notebook) and
``fill_if_needed`` are used here; the pools are private to Voilà and read through
:mod:`.voila_private`.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Integer

from .class_full import ClassFull, FullClass, default_cap
from .seats import count_seats, pss_bytes, seat_line
from .voila_private import PoolKernel, pool_kernel, pools, waiting_kernels

PREHEAT_VARIABLE = "VOILA_PREHEAT"  # Voilà sets it to "True" in a pool kernel's environment
POLL_S = 0.25
class ClassroomKernelManager(AsyncMappingKernelManager):
    """Voilà's kernel manager with a pool started in waves, checked, announced and refilled
    slowly (see the module's docstring)."""

    refill_spacing = Float(3.0, config=True, help=(
        "Seconds between the starts of two pool kernels after the first fill: each start "
        "costs about a CPU-second in the kernel and the server (0: no spacing)."))
    start_wave = Integer(0, config=True, help=(
        "Pool kernels of the first fill that start at once; the next starts when one of "
        "them is a seat (0: twice the CPU cores)."))
    seat_timeout = Float(120.0, config=True, help=(
        "Seconds a pool kernel may take from its start to waiting for its student; "
        "past them it is replaced."))
    start_attempts = Integer(3, config=True, help="Tries of a pool kernel's start.")
    refill_quiet_cpu = Float(0.1, config=True, help=(
        "A refill waits until this server used less than this share of a CPU core over the "
        "last second: it relays every slider move, so a busy server is a class at work "
        "(0: never wait)."))
    refill_max_wait = Float(120.0, config=True, help=(
        "Seconds a refill waits for a quiet server at most."))
    replace_limit = Integer(100, config=True, help=(
        "Seats replaced at most in the server's life: past them a broken kernel or app is "
        "reported, not started again and again."))
    max_kernels = Integer(0, config=True, help=(
        "Kernels at most, seats and kernels starting included; past them a student's page "
        "answers 503 (0: twice the pools' seats, and at least 10)."))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._first_fill_left: int | None = None  # pool kernels of the first fill not started
        self._last_refill = float("-inf")
        self._cpu_share = 0.0  # this server's CPU use over the last second, in cores
        self._wave: asyncio.Semaphore | None = None
        self._monitor: asyncio.Task | None = None
        self._announced: dict[str, int] | None = None  # seats at the last line printed
        self._was_ready = False  # every pool was full of seats once
        self._born = time.monotonic()
        self._seated: set[str] = set()  # pool kernels seen waiting for a student
        self.refills_started = 0
        self.seats_replaced = 0
        self._starting = 0  # kernel starts under way (not yet in self._kernels)
        self.full = FullClass()  # the pages refused at the cap, and the teacher's notices

    def _is_pool_start(self, kwargs: dict) -> bool:
        return (kwargs.get("env") or {}).get(PREHEAT_VARIABLE) == "True"

    def kernel_cap(self) -> int:
        """The most kernels this server runs (:attr:`max_kernels`, or its default)."""
        return self.max_kernels or default_cap(sum(self._pool_targets().values()))

    def kernel_count(self) -> int:
        """Kernels running or starting."""
        return len(self._kernels) + self._starting

    def _class_full(self) -> ClassFull:
        return self.full.refuse(self.kernel_cap())

    async def _start_counted(self, *args, **kwargs) -> str:
        self._starting += 1
        try:
            return await super().start_kernel(*args, **kwargs)
        finally:
            self._starting -= 1

    async def start_kernel(self, *args, **kwargs):
        if not self._is_pool_start(kwargs):  # a student's own kernel: now, or 503
            if self.kernel_count() >= self.kernel_cap():
                raise self._class_full()
            return await self._start_counted(*args, **kwargs)
        if self._monitor is None:
            self._monitor = asyncio.get_running_loop().create_task(self._watch_pools())
        if self._first_fill_left is None:  # the first pool start: count the first fill
            self._first_fill_left = sum(len(tasks) for tasks in pools(self).values())
            print(f"starting {self._first_fill_left} seats in waves of {self._wave_size()}",
                  flush=True)
        me = asyncio.current_task()  # Voilà's pool task: a student's request may take it
        if self._first_fill_left > 0:
            self._first_fill_left -= 1
            if self._wave is None:
                self._wave = asyncio.Semaphore(self._wave_size())
            while self._wave.locked() and not self._taken(me):
                await asyncio.sleep(POLL_S)
            if self._taken(me):  # a student waits on this one: no wave holds it back
                return await self._start_pool_kernel(*args, **kwargs)
            await self._wave.acquire()  # released when this kernel is a seat, or failed
            try:
                kernel_id = await self._start_pool_kernel(*args, **kwargs)
            except BaseException:
                self._wave.release()
                raise
            asyncio.get_running_loop().create_task(self._hold_wave(kernel_id))
            return kernel_id
        deadline = time.monotonic() + self.refill_max_wait
        while not self._taken(me):  # refills: one at a time, spaced, when the class is quiet
            now = time.monotonic()
            if now >= self._last_refill + self.refill_spacing and (
                    self._cpu_share < self.refill_quiet_cpu or now >= deadline
                    or self.refill_quiet_cpu <= 0):
                break
            await asyncio.sleep(POLL_S)
        self._last_refill = time.monotonic()
        self.refills_started += 1
        self.log.info("Refilling a kernel pool (%d refills so far, %.1f s apart)",
                      self.refills_started, self.refill_spacing)
        return await self._start_pool_kernel(*args, **kwargs)

    def _taken(self, task) -> bool:
        """Whether a student's request took this pool task out of its pool (Voilà then
        awaits it: it must start now)."""
        return not any(task in tasks for tasks in pools(self).values())

    def _wave_size(self) -> int:
        return self.start_wave or 2 * (os.cpu_count() or 1)

    async def _start_pool_kernel(self, *args, **kwargs) -> str:
        """Start a pool kernel once the cap leaves room (a student who takes it before then
        gets a 503), trying again when a start raises (a port taken, a kernel that did not
        answer in time)."""
        me = asyncio.current_task()
        while self.kernel_count() >= self.kernel_cap():
            if self._taken(me):
                raise self._class_full()
            await asyncio.sleep(POLL_S)
        for attempt in range(1, self.start_attempts + 1):
            try:
                return await self._start_counted(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - any failed start is tried again
                if attempt == self.start_attempts:
                    raise
                self.log.warning("A pool kernel failed to start (%s: %s); try %d of %d",
                                 type(err).__name__, err, attempt + 1, self.start_attempts)
        raise AssertionError("unreachable")

    async def _hold_wave(self, kernel_id: str) -> None:
        """Keep this kernel's place in the wave until it is a seat, died or timed out."""
        deadline = time.monotonic() + self.seat_timeout
        try:
            while time.monotonic() < deadline and kernel_id in self:
                if kernel_id in waiting_kernels():
                    return
                await asyncio.sleep(POLL_S)
        finally:
            self._wave.release()

    async def _watch_pools(self) -> None:
        """Replace failed pool kernels and print the seat lines, for the server's life; keep
        :attr:`_cpu_share`, this server's CPU use over the last second (in cores)."""
        started: dict[str, float] = {}  # kernel id -> when its pool task was first seen done
        sample = (time.monotonic(), time.process_time())
        while True:
            await asyncio.sleep(POLL_S)
            now = (time.monotonic(), time.process_time())
            if now[0] - sample[0] >= 1.0:
                self._cpu_share = (now[1] - sample[1]) / (now[0] - sample[0])
                sample = now
            try:
                self._check_pools(started)
            except Exception as err:  # noqa: BLE001 - the watch must outlive one bad look
                self.log.exception("Checking the kernel pools failed: %s", err)

    def _check_pools(self, started: dict[str, float]) -> None:
        waiting = waiting_kernels()
        now = time.monotonic()
        for name, tasks in pools(self).items():
            for task in list(tasks):
                if not task.done():
                    continue
                entry = pool_kernel(task)
                why = self._failure(entry, task, waiting, started, now)
                if why:
                    self._replace(name, task, entry, why)
        targets = self._pool_targets()
        for name, tasks in pools(self).items():  # a seat a student took at the cap: refill
            if len(tasks) < targets.get(Path(name).stem, 0) and self._first_fill_left == 0:
                self.fill_if_needed(notebook_name=name)
        seats = {app: n for app, n in count_seats(self, waiting).items() if targets.get(app)}
        self._announce(seats, sum(targets.values()))

    def _failure(self, entry, task, waiting, started, now) -> str | None:
        """Why a finished pool task is not (and will not become) a seat, or None."""
        if entry is None:
            return f"its start failed ({task.exception()!r})" if not task.cancelled() \
                else "its start was cancelled"
        kernel_id, render = entry
        if kernel_id in waiting:
            self._seated.add(kernel_id)
            return None
        if kernel_id not in self:
            return "its kernel is gone"
        if kernel_id in self._seated:  # a student's take removes it from the pool first
            return "it stopped waiting for a student (its kernel died or restarted)"
        if render.done():  # the app's cell returned or failed: it no longer waits
            return "its notebook ended without waiting for a student (the kernel died?)"
        if now - started.setdefault(kernel_id, now) > self.seat_timeout:
            return f"it did not wait for a student within {self.seat_timeout:g} s"
        return None

    def _replace(self, name: str, task, entry: PoolKernel | None, why: str) -> None:
        pool = pools(self).get(name, [])
        if task in pool:
            pool.remove(task)
        if entry is not None and entry.kernel_id in self:
            asyncio.get_running_loop().create_task(self._shut_down_quietly(entry.kernel_id))
        app = Path(name).stem
        if self.seats_replaced >= self.replace_limit:
            self.log.error("A pool kernel of %s failed (%s); %d seats were replaced already, "
                           "no more", name, why, self.seats_replaced)
            print(f"a seat of {app} failed ({why}); not replaced: {self.seats_replaced} were "
                  "already, something is broken (see the server's log)", flush=True)
            return
        self.seats_replaced += 1
        self.log.warning("A pool kernel of %s is replaced: %s", name, why)
        print(f"replacing a seat of {app}: {why}", flush=True)
        self.fill_if_needed(delay=0, notebook_name=name)

    async def _shut_down_quietly(self, kernel_id: str) -> None:
        try:
            await self.shutdown_kernel(kernel_id, now=True)
        except Exception as err:  # noqa: BLE001 - a dead kernel may refuse its shutdown
            self.log.warning("Shutting down kernel %s failed: %s", kernel_id, err)

    def _pool_targets(self) -> dict[str, int]:
        """Seats wanted per app (Voilà's ``kernel_pools_config``)."""
        config = getattr(self, "kernel_pools_config", {})
        default = config.get("default", {}).get("pool_size", 1)
        return {Path(name).stem: config.get(name, {}).get("pool_size", default)
                for name in pools(self)}  # none without preheating (POOL=0)

    def _announce(self, seats: dict[str, int], wanted: int) -> None:
        """``ready:`` when every pool is full of seats (the first time, and again after a
        refill brought it back); ``refilled:`` when a used seat's replacement is ready."""
        if not wanted or seats == self._announced:
            return
        before, self._announced = self._announced, dict(seats)
        total = sum(seats.values())
        after = f", {time.monotonic() - self._born:.0f} s after the server started"
        if total >= wanted:
            print(seat_line("ready", seats, self.kernels_memory())
                  + (after if not self._was_ready else ""), flush=True)
            self._was_ready = True
        elif self._was_ready and before is not None and total > sum(before.values()):
            print(seat_line("refilled", seats, self.kernels_memory()) + f" of {wanted}",
                  flush=True)

    def kernels_memory(self) -> int | None:
        """PSS of every kernel this server holds, in bytes (None where /proc is missing)."""
        sizes = [pss_bytes(getattr(self._kernels[k].provisioner, "pid", None))
                 for k in list(self._kernels) if self._kernels[k].provisioner is not None]
        known = [s for s in sizes if s is not None]
        return sum(known) if known else None

    async def cull_kernels(self):
        """Check every kernel for idleness at once (Jupyter's awaits each shutdown in turn)."""
        async def check(kernel_id: str) -> None:
            try:
                await self.cull_kernel_if_idle(kernel_id)
            except Exception as err:  # noqa: BLE001 - one kernel's failure must not stop the rest
                self.log.exception("Culling kernel %s failed: %s", kernel_id, err)

        await asyncio.gather(*(check(kernel_id) for kernel_id in list(self._kernels)))
