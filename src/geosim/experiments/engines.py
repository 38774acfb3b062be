"""Execution engines for sweeps: local worker processes, or an existing Dask distributed cluster.

Owns the worker initializer (world built once per process) and the executor life cycle.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from geosim.experiments.evaluate import Context, warm_up
from geosim.experiments.spec import SweepError

CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_method() -> str:
    """`forkserver` where available (fast, no inherited state), else `spawn`."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _initialize_worker(context: Context) -> None:
    """Pool initializer: exit with the driver, then import the model and build the world."""
    parent = multiprocessing.parent_process()
    if parent is not None:  # a SIGKILLed driver must not leave orphan workers behind
        def watch() -> None:
            multiprocessing.connection.wait([parent.sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="geosim-parent-watch", daemon=True).start()
    # One BLAS thread per worker: the workers already fill the cores, and oversubscribed BLAS
    # made a 200-economy solve 100x slower on a busy machine.
    threadpool_limits(1)
    try:
        warm_up(context)
    except Exception:  # noqa: BLE001 - each run then reports the error itself
        pass


class LocalEngine:
    """Worker processes on this machine (`concurrent.futures.ProcessPoolExecutor`).

    A pool broken by a dying worker is replaced by `restart()`; the driver retries its runs.
    """

    name = "local"
    lost_errors: tuple[type[BaseException], ...] = (BrokenProcessPool,)

    def __init__(self, context: Context, workers: int | None = None):
        self.context = context
        self.workers = workers or default_workers()
        self._ctx = multiprocessing.get_context(start_method())
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=self._ctx,
                                   initializer=_initialize_worker, initargs=(self.context,))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Submit `fn(*args)` to a worker."""
        return self._pool.submit(fn, *args)

    def restart(self) -> None:
        """Replace a broken pool by a fresh one."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def healthy(self, timeout: float = 120) -> bool:
        """Whether the pool's workers start and run a trivial task (else: a fresh pool, False)."""
        try:
            self._pool.submit(os.getpid).result(timeout=timeout)
            return True
        except (BrokenProcessPool, TimeoutError):
            self.restart()
            return False

    def close(self) -> None:
        """Stop the workers (runs not started are cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        """One line for the progress header."""
        return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"


class DaskEngine:
    """An existing Dask distributed cluster, reached by address or scheduler file.

    Workers build the world lazily, once per worker process. Dask itself reschedules the tasks
    of a worker that dies; a task that kills several workers fails with `KilledWorker`.
    """

    name = "dask"
    lost_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, context: Context, scheduler: str, timeout: float | None = None):
        from distributed import Client

        self.context = context
        self.scheduler = scheduler
        timeout = CONNECT_TIMEOUT if timeout is None else timeout
        try:
            if Path(scheduler).is_file():
                self.client = Client(scheduler_file=scheduler, timeout=timeout)
            else:
                self.client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot reach a Dask scheduler "
                             f"({type(exc).__name__}: {exc})") from None
        self.workers = max(1, sum(self.client.nthreads().values()))
        self._executor = self.client.get_executor(pure=False)
        self._description = (f"Dask cluster {self.client.scheduler.address} "
                             f"({self.workers} worker threads)")

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Submit `fn(*args)` to the cluster."""
        return self._executor.submit(fn, *args)

    def restart(self) -> None:
        """Nothing to replace: the scheduler handles lost workers."""

    def healthy(self) -> bool:
        """The scheduler reports lost workers itself."""
        return True

    def close(self) -> None:
        """Cancel what is left and disconnect (the cluster keeps running)."""
        self._executor.shutdown(wait=False)
        self.client.close()

    def describe(self) -> str:
        """One line for the progress header."""
        return self._description


def make_engine(context: Context, *, workers: int | None = None,
                scheduler: str | None = None) -> LocalEngine | DaskEngine:
    """The engine for a sweep: Dask when given a scheduler address or file, else local."""
    if scheduler:
        return DaskEngine(context, scheduler)
    if workers is not None and workers < 1:
        raise SweepError(f"--workers: expected a positive number, got {workers}")
    return LocalEngine(context, workers)
