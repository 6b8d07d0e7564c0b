"""The thread pool behind the field kernels."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from zkpor.field import goldilocks as gl
from zkpor.field import parallel


def test_ranges_cover_everything_in_order() -> None:
    old = parallel.num_threads()
    try:
        parallel.set_num_threads(3)
        seen: list[tuple[int, int]] = []
        out = parallel.parallel_ranges(lambda lo, hi: seen.append((lo, hi)) or (lo, hi), 10)
        assert out == [(0, 3), (3, 6), (6, 10)]
        assert sorted(seen) == out
        # below the grain, everything on the calling thread
        assert parallel.parallel_ranges(lambda lo, hi: (lo, hi), 10, grain=8) == [(0, 10)]
        assert parallel.parallel_ranges(lambda lo, hi: (lo, hi), 0) == [(0, 0)]
    finally:
        parallel.set_num_threads(old)


def test_nested_calls_run_serially_and_exceptions_propagate() -> None:
    old = parallel.num_threads()
    try:
        parallel.set_num_threads(2)

        def inner(lo: int, hi: int) -> list:
            return parallel.parallel_ranges(lambda a, b: threading.current_thread().name, 4)

        names = parallel.parallel_ranges(inner, 2)
        # the second range ran on a pool thread: its nested call stayed on that thread (a pool
        # thread waiting for the pool could deadlock); the calling thread may use the pool
        assert len(names) == 2 and len(names[1]) == 1 and names[1][0].startswith("zkpor-field")

        def boom(lo: int, hi: int) -> None:
            if lo > 0:
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            parallel.parallel_ranges(boom, 2)
        with pytest.raises(ValueError):
            parallel.set_num_threads(0)
    finally:
        parallel.set_num_threads(old)


def test_concurrent_callers() -> None:
    """Kernels can be called from several threads at once (e.g. a threaded task scheduler)."""
    rng = np.random.default_rng(1)
    a = gl.random_elements(200_000, rng) | np.uint64(1)
    expected = gl.batch_inv(a)
    results: list[bool] = []

    def work() -> None:
        results.append(bool((gl.batch_inv(a) == expected).all()))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4


def test_jobs_sharing_the_threads_each_get_their_share() -> None:
    old = parallel.num_threads()
    try:
        parallel.set_num_threads(4)
        entered, leave = threading.Barrier(3), threading.Event()
        shares: list[int] = []

        def job() -> None:
            with parallel.sharing():
                entered.wait()
                shares.append(len(parallel.parallel_ranges(lambda lo, hi: (lo, hi), 100)))
                leave.wait()

        threads = [threading.Thread(target=job) for _ in range(2)]
        for thread in threads:
            thread.start()
        entered.wait()  # both jobs are inside sharing(): two threads each
        assert parallel.num_threads() == 2
        leave.set()
        for thread in threads:
            thread.join()
        assert shares == [2, 2]
        assert parallel.num_threads() == 4  # a job alone gets every thread back
    finally:
        parallel.set_num_threads(old)


def test_thread_cpu_seconds_counts_the_pool_threads_work_for_the_caller() -> None:
    old = parallel.num_threads()
    try:
        parallel.set_num_threads(2)

        def spin(lo: int, hi: int) -> None:
            end = time.thread_time() + (0.0 if lo == 0 else 0.2)  # only the pool thread's range works
            while time.thread_time() < end:
                pass

        before_own, before = time.thread_time(), parallel.thread_cpu_seconds()
        parallel.parallel_ranges(spin, 2)
        own, charged = time.thread_time() - before_own, parallel.thread_cpu_seconds() - before
        assert charged - own >= 0.2
    finally:
        parallel.set_num_threads(old)
