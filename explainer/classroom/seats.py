"""Seats: the preheated kernels of a Voilà pool that are alive and waiting for a student.

A pool kernel has run its app's notebook up to :func:`explainer.classroom.pool_wait.
wait_for_request`, which holds a websocket open to the server (Voilà's ``voila/query``
handler keeps it under the kernel's id): that open socket is the kernel itself saying it
started, ran the app and answers. A kernel that died closes its socket, so it stops
counting at once (Jupyter may restart it, but a restarted kernel has not run the app).

:func:`seat_line` writes the line the teacher reads, e.g.
``ready: 30 seats (scale_explorer 30) holding 2.2 GB``; the memory is the kernels' PSS
(proportional set size: shared pages split between the processes that share them), read
from ``/proc`` where there is one.
"""

from __future__ import annotations

from pathlib import Path

from .voila_private import PoolKernel, pool_kernel, pools


def is_seat(kernel: PoolKernel | None, waiting: set[str]) -> bool:
    """A started pool kernel that waits for its student."""
    return kernel is not None and kernel.kernel_id in waiting


def count_seats(manager, waiting: set[str]) -> dict[str, int]:
    """Seats per app (the notebook's name without ``.ipynb``), in the pools' order."""
    return {Path(name).stem: sum(is_seat(pool_kernel(t), waiting) for t in tasks)
            for name, tasks in pools(manager).items()}


def pss_bytes(pid: int | None) -> int | None:
    """The process's PSS in bytes (Linux ``/proc/<pid>/smaps_rollup``), or None."""
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return None


def seat_line(word: str, seats: dict[str, int], memory: int | None) -> str:
    """``ready: 30 seats (scale_explorer 30) holding 2.2 GB``: ``word``, the seats in all and
    per app, and the kernels' memory when it is known."""
    apps = ", ".join(f"{name} {count}" for name, count in seats.items())
    total = sum(seats.values())
    held = f" holding {memory / 1e9:.1f} GB" if memory is not None else ""
    return f"{word}: {total} seat{'s' if total != 1 else ''} ({apps}){held}"
