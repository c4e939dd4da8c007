"""The kernel cap of the classroom server (``make classroom MAX_KERNELS=N``): what a student
sees past it, and what the teacher reads.

Every GET of an app page takes a seat or starts a kernel (~88 MB each, measured), so without a
cap a loop of GETs filled the memory. :class:`~.kernel_manager.ClassroomKernelManager` counts
its kernels, seats and kernels starting included, against ``max_kernels`` (by default
:func:`default_cap`); past it the page answers 503 with :class:`ClassFull`'s sentence (shown
by :mod:`.pages`), and the terminal gets a ``class full:`` line at most once a minute.
"""

from __future__ import annotations

import time

from tornado import web

NOTICE_S = 60.0  # the teacher's terminal hears of a full class at most once a minute


def default_cap(seats: int) -> int:
    """Twice the pools' seats, and at least 10."""
    return max(2 * seats, 10)


class ClassFull(web.HTTPError):
    """503: the server runs as many kernels as it may; ``student_message`` is the page's
    sentence."""

    def __init__(self, cap: int):
        super().__init__(503, reason="Class full")
        self.student_message = (
            f"The class server is full: it runs {cap} apps, its limit. Wait a minute and "
            "reload this page (a closed tab frees its place within a minute), or ask your "
            "teacher.")


class FullClass:
    """The pages refused at the cap, and when the teacher last heard of it."""

    def __init__(self):
        self.refused = 0
        self._noticed = float("-inf")

    def refuse(self, cap: int) -> ClassFull:
        """Count a refused page; print the teacher's line when a minute has passed."""
        self.refused += 1
        now = time.monotonic()
        if now - self._noticed >= NOTICE_S:
            self._noticed = now
            print(f"class full: {cap} kernels (MAX_KERNELS); a student's page answered 503 "
                  f"({self.refused} so far); closed tabs free theirs within a minute",
                  flush=True)
        return ClassFull(cap)
