"""All cores for the field kernels: a thread pool running ``nogil`` numba functions on ranges.

Why not numba's ``prange``: on this code it made cold-cache compilation several times slower
(numba compiles each prange loop into a function of its own and re-optimises everything that
function calls: ~4-9 s for the NTT driver alone, against ~1 s for a serial driver), and its
behaviour depends on the threading layer found at run time (``workqueue``, the fallback, costs
~100 µs per launch here and aborts on concurrent launches from several threads; GNU OpenMP is not
fork-safe). The kernels here are coarse (whole blocks, stages, rows), so a plain pool of Python
threads calling kernels that release the GIL loses nothing, works the same everywhere, and can be
called from several threads at once.

The number of threads is ``NUMBA_NUM_THREADS`` (by default the number of CPUs), changeable with
``set_num_threads`` (e.g. to 1 in each worker process when batches are proved one per core).
Several jobs (e.g. batch proofs) running at once in threads of one process each mark themselves
``with sharing():``; the threads are then split between the jobs running at that moment, so two
jobs on two cores each run their kernels on one thread, and the job left alone gets them all back.

``thread_cpu_seconds()`` is the CPU time of the calling thread plus that of the pool threads that
ran its ranges: the work of one job, even while another job runs in the same process.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numba

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_threads = max(1, int(numba.config.NUMBA_NUM_THREADS))
_local = threading.local()
_jobs = 0  # jobs inside `sharing()` right now


def num_threads() -> int:
    """Threads a field kernel called now uses: all of them, or a share while jobs are `sharing()`."""
    return max(1, _threads // max(1, _jobs))


def set_num_threads(n: int) -> None:
    """Use n threads (>= 1) from now on."""
    global _threads
    if n < 1:
        raise ValueError("the number of threads must be at least 1")
    _threads = int(n)


def _mark_worker() -> None:
    _local.in_pool = True


class sharing:  # noqa: N801 — used as a context manager, like `serial`
    """Within this block, the calling thread runs one of several jobs that share the threads: each
    call to `parallel_ranges` uses an equal share of them among the jobs inside `sharing()` then."""

    def __enter__(self) -> None:
        global _jobs
        with _lock:
            _jobs += 1

    def __exit__(self, *exc: object) -> None:
        global _jobs
        with _lock:
            _jobs -= 1


def thread_cpu_seconds() -> float:
    """CPU seconds of the calling thread, with those of the pool threads that ran its ranges."""
    return time.thread_time() + getattr(_local, "helper_cpu", 0.0)


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            old = _pool
            _pool = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="zkpor-field", initializer=_mark_worker
            )
            _pool_size = workers
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def _reset_after_fork() -> None:
    # the pool's threads do not exist in a forked child: start a new pool there when needed
    global _pool, _pool_size
    _pool = None
    _pool_size = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# Ranges a call is cut into, per thread. Threads take the next range as they finish one, so a
# thread that starts late (the pool busy, the core taken by another process) or runs slow leaves
# its share to the others instead of keeping them waiting at the end: the tail of a call is at most
# one range, not one thread's whole share.
RANGES_PER_THREAD = 4


def parallel_ranges(
    fn: Callable[..., Any], n_items: int, *args: Any, grain: int = 1, per_thread: int | None = None
) -> list[Any]:
    """Call ``fn(lo, hi, *args)`` on consecutive ranges covering [0, n_items), on all threads, and
    return the results in range order. There are up to ``per_thread`` ranges per thread (default
    `RANGES_PER_THREAD`; at most
    ``n_items // grain``), taken in order by whichever thread is free: the calling thread, which
    starts at once, and the pool's. ``fn`` must release the GIL (numba ``nogil=True``) for the
    calls to overlap. Work below ``grain`` items per thread stays on the calling thread. Calls from
    inside a pool thread run serially (no nested pools, no deadlock). After a range fails no new
    one starts; the error is raised once the ranges running have ended."""
    if getattr(_local, "in_pool", False):  # first: a serial task's many small calls pay nothing more
        return [fn(0, n_items, *args)]
    threads = min(num_threads(), n_items // max(1, grain))
    if threads <= 1:
        return [fn(0, n_items, *args)]
    per_thread = RANGES_PER_THREAD if per_thread is None else max(1, per_thread)
    count = max(threads, min(threads * per_thread, n_items // max(1, grain)))
    bounds = [n_items * i // count for i in range(count + 1)]
    results: list[Any] = [None] * count
    claims = itertools.count()  # `next` on it is atomic: each range is taken once
    failed = threading.Event()

    def run_ranges() -> None:
        while not failed.is_set():
            i = next(claims)
            if i >= count:
                return
            try:
                results[i] = fn(bounds[i], bounds[i + 1], *args)
            except BaseException:
                failed.set()
                raise

    def helper() -> float:  # on a pool thread: its CPU seconds, charged to the caller
        start = time.thread_time()
        run_ranges()
        return time.thread_time() - start

    pool = _get_pool(threads - 1)
    futures = [pool.submit(helper) for _ in range(threads - 1)]
    try:
        run_ranges()
    finally:
        # wait for the other ranges even if ours failed: they write into the caller's arrays
        wait(futures)
        _local.helper_cpu = getattr(_local, "helper_cpu", 0.0) + sum(
            f.result() for f in futures if f.exception() is None
        )
    for f in futures:
        if f.exception() is not None:
            raise f.exception()  # type: ignore[misc]
    return results


class serial:  # noqa: N801 — used as a context manager, like contextlib's
    """Within this block, field kernels run on the calling thread only: for a task that is itself
    one of several running in parallel (e.g. a chunk of constraint evaluation), where nesting the
    pool would only add overhead."""

    def __enter__(self) -> None:
        self._previous = getattr(_local, "in_pool", False)
        _local.in_pool = True

    def __exit__(self, *exc: object) -> None:
        _local.in_pool = self._previous
