"""The one module that reads Voilà's private names: Voilà 0.5.13 has no public hook for its
preheated pools or for the kernels whose ``voila/query`` socket is open.

- :func:`pools`: ``VoilaKernelManager._pools``, one list of start tasks per notebook;
- :func:`pool_kernel`: what a finished pool task returns, ``{"kernel_id", "task", ...}``
  (``task`` renders the app's notebook in that kernel);
- :func:`waiting_kernels`: ``RequestInfoSocketHandler._waiters``, the kernels whose
  ``voila/query`` socket is open.

:func:`changed` lists, one line each, what a Voilà upgrade changed of them;
tests/test_environment.py fails with those lines.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import NamedTuple

from voila.request_info_handler import RequestInfoSocketHandler


class PoolKernel(NamedTuple):
    """A started pool kernel: its id, and the task that renders the app's notebook in it."""

    kernel_id: str
    render: asyncio.Task


def pools(manager) -> dict[str, list[asyncio.Task]]:
    """The manager's pools: notebook name -> its start tasks (none without preheating)."""
    return getattr(manager, "_pools", {})


def pool_kernel(task: asyncio.Task) -> PoolKernel | None:
    """The kernel of a finished pool task, else None (still starting, or failed)."""
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    result = task.result()
    return PoolKernel(result["kernel_id"], result["task"])


def waiting_kernels() -> set[str]:
    """Ids of the kernels whose websocket to Voilà's ``voila/query`` handler is open (the
    server's own table)."""
    return set(RequestInfoSocketHandler._waiters)


def changed() -> list[str]:
    """What the installed Voilà changed of the names above, one line each (empty: none)."""
    import voila
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from voila import voila_kernel_manager

    lines = []
    prefix = f"voila {voila.__version__} changed a private name the classroom pool reads:"
    if not isinstance(getattr(RequestInfoSocketHandler, "_waiters", None), dict):
        lines.append(f"{prefix} RequestInfoSocketHandler._waiters")
    manager = voila_kernel_manager.voila_kernel_manager_factory(
        AsyncMappingKernelManager, True, 0)  # the class Voilà serves with (not started)
    if "self._pools: " not in inspect.getsource(manager.__init__):
        lines.append(f"{prefix} VoilaKernelManager._pools")
    if not callable(getattr(manager, "fill_if_needed", None)):
        lines.append(f"{prefix} VoilaKernelManager.fill_if_needed")
    source = inspect.getsource(manager._initialize)
    if '"task": task' not in source or '"kernel_id": kernel_id' not in source:
        lines.append(f"{prefix} a pool task's result {{'kernel_id', 'task'}}")
    return lines
