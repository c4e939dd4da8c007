"""The classroom server's kernel manager: a used preheated kernel is replaced slowly.

Voilà (0.5.13) refills its pool of preheated kernels ``fill_delay`` seconds after each kernel
is handed to a student. A class arrives together, so 30 refills start at the same moment:
30 kernel processes and 30 notebook renders on two cores, and every student's slider waits
seconds behind them (measured with ``fill_delay`` 45 s and no spacing: slider p90 7.2 s in the
10 s after the refill began, over 1 s for the following minute). :class:`ClassroomKernelManager`
lets the first fill, before the class, start at full speed, and starts each later pool kernel
``refill_spacing`` seconds after the previous one, one at a time. A student's own kernel (an
app without a pool, or a pool found empty) is never held back.

It also culls in parallel. Jupyter's culler checks the kernels one after another and waits
for each idle one to shut down, so when a class closes its tabs together the last ones go
past the one-minute goal (measured: 8 of 30 kernels still there 60 s after their tabs
closed, while the pool refilled); here the idle ones shut down together.

``voila.json`` names it (``VoilaConfiguration.multi_kernel_manager_class``); Voilà wraps it
with its pool logic, whose ``_pools`` (one list of start tasks per notebook, all of the first
fill created before the server's loop runs) tells the first fill from the refills.
"""

from __future__ import annotations

import asyncio
import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float

PREHEAT_VARIABLE = "VOILA_PREHEAT"  # Voilà sets it to "True" in a pool kernel's environment


class ClassroomKernelManager(AsyncMappingKernelManager):
    """Voilà's kernel manager with pool refills spaced out (see the module's docstring)."""

    refill_spacing = Float(3.0, config=True, help=(
        "Seconds between the starts of two pool kernels after the first fill: each start "
        "costs about a CPU-second in the kernel and the server (0: no spacing)."))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._first_fill_left: int | None = None  # pool kernels of the first fill not started
        self._refill_lock = asyncio.Lock()
        self._last_refill = float("-inf")
        self.refills_started = 0

    def _is_pool_start(self, kwargs: dict) -> bool:
        return (kwargs.get("env") or {}).get(PREHEAT_VARIABLE) == "True"

    async def start_kernel(self, *args, **kwargs):
        if not self._is_pool_start(kwargs):
            return await super().start_kernel(*args, **kwargs)
        if self._first_fill_left is None:  # the first pool start: count the first fill
            pools = getattr(self, "_pools", {})
            self._first_fill_left = sum(len(tasks) for tasks in pools.values())
        if self._first_fill_left > 0:
            self._first_fill_left -= 1
            return await super().start_kernel(*args, **kwargs)
        async with self._refill_lock:  # refills: one at a time, refill_spacing apart
            wait = self._last_refill + self.refill_spacing - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_refill = time.monotonic()
            self.refills_started += 1
            self.log.info("Refilling a kernel pool (%d refills so far, %.1f s apart)",
                          self.refills_started, self.refill_spacing)
            return await super().start_kernel(*args, **kwargs)

    async def cull_kernels(self):
        """Check every kernel for idleness at once (Jupyter's awaits each shutdown in turn)."""
        async def check(kernel_id: str) -> None:
            try:
                await self.cull_kernel_if_idle(kernel_id)
            except Exception as err:  # noqa: BLE001 - one kernel's failure must not stop the rest
                self.log.exception("Culling kernel %s failed: %s", kernel_id, err)

        await asyncio.gather(*(check(kernel_id) for kernel_id in list(self._kernels)))
