"""Where a grid's runs train: in this process, or on Dask workers (``why-scale --workers N``).

A run is one ``train_trunk`` call, independent of every other, so a grid is embarrassingly
parallel. On one machine, :func:`train_runs` with ``workers >= 2`` starts a Dask
``LocalCluster`` of that many worker *processes* with one thread each (TensorFlow's intra- and
inter-op pools set to 1 thread in them: measured bit-identical to the in-process run, see
tests/test_why_scale_workers.py); ``scheduler`` sends the runs to an existing Dask cluster (a
lab's, or one started with Dask's own Kubernetes or HPC deployers) instead. Either way, only
the calling process writes files: each finished run comes back as its record and the machine
record of the worker that made it. A worker that dies mid-run (killed, out of memory) is
replaced by its nanny and the run is retried by Dask's scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from ...core.quiet import load_tensorflow_quietly
from .machine import machine_record
from .training import TrunkRun, train_trunk

# One thread per worker process: two workers on two cores would otherwise each start pools
# the size of the machine and wait on each other.
WORKER_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
              "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


def train_on_worker(kwargs: dict) -> tuple[dict, dict]:
    """One run, on whichever process Dask chose: (its record, that process's machine)."""
    load_tensorflow_quietly()  # a worker's terminal is the user's: no native start-up lines
    return train_trunk(**kwargs).to_dict(), machine_record()


def train_runs(todo: list[dict], workers: int = 1, scheduler: str | None = None) \
        -> Iterator[tuple[dict, TrunkRun, dict]]:
    """Train each ``train_trunk`` keyword dict of ``todo``; yield (kwargs, run, machine) as
    runs finish (in order in this process; in completion order on Dask)."""
    if not todo:
        return
    if workers <= 1 and scheduler is None:
        here = None
        for kwargs in todo:
            run = train_trunk(**kwargs)
            here = here or machine_record()
            yield kwargs, run, here
        return
    yield from _train_on_dask(todo, workers, scheduler)


def _train_on_dask(todo: list[dict], workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0",
                               silence_logs=logging.CRITICAL, env=WORKER_ENV)
    client = Client(cluster if cluster is not None else scheduler)
    try:
        # earlier runs first (the grid's order keeps a trunk shape's runs together, so each
        # worker builds a shape once); pure=False: a retried run is the same key, never cached
        futures = {client.submit(train_on_worker, kwargs, pure=False, priority=-i,
                                 key=f"run-{i}-{_key_tail(kwargs)}"): kwargs
                   for i, kwargs in enumerate(todo)}
        for future in as_completed(futures):
            record, machine = future.result()
            yield futures[future], TrunkRun.from_dict(record), machine
    except KeyboardInterrupt:
        # Ctrl-C reaches the workers too; their nannies' shutdown tracebacks are not news
        logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _key_tail(kwargs: dict) -> str:
    return f"d{kwargs['depth']}-w{kwargs['width']}-seed{kwargs['seed']}"
