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
        assert out == [(i, i + 1) for i in range(10)]  # 3 threads × 4 ranges, at most one an item
        assert sorted(seen) == out
        out = parallel.parallel_ranges(lambda lo, hi: (lo, hi), 1000)
        assert len(out) == 3 * parallel.RANGES_PER_THREAD
        assert out[0][0] == 0 and out[-1][1] == 1000
        assert all(a[1] == b[0] for a, b in zip(out, out[1:], strict=False))
        thirds = [(0, 3), (3, 6), (6, 10)]
        assert parallel.parallel_ranges(lambda lo, hi: (lo, hi), 10, per_thread=1) == thirds
        # the grain bounds the ranges: here 3 threads, but ranges of at least 3 items
        assert parallel.parallel_ranges(lambda lo, hi: (lo, hi), 10, grain=3) == thirds
        # below the grain, everything on the calling thread
        assert parallel.parallel_ranges(lambda lo, hi: (lo, hi), 10, grain=8) == [(0, 10)]
        assert parallel.parallel_ranges(lambda lo, hi: (lo, hi), 0) == [(0, 0)]
    finally:
        parallel.set_num_threads(old)


def test_a_free_thread_takes_the_ranges_a_busy_one_cannot() -> None:
    """Work stealing: while the calling thread is held in its first range, the pool's thread does
    every other range; and a pool thread that never gets to run leaves them all to the caller."""
    old = parallel.num_threads()
    try:
        parallel.set_num_threads(2)
        rest_done = threading.Event()
        done_by: dict[int, str] = {}

        def work(lo: int, hi: int) -> None:
            done_by[lo] = threading.current_thread().name
            if lo == 0:
                assert rest_done.wait(30)
            elif len(done_by) == 2 * parallel.RANGES_PER_THREAD:
                rest_done.set()

        parallel.parallel_ranges(work, 2 * parallel.RANGES_PER_THREAD)
        others = {name for lo, name in done_by.items() if lo > 0}
        assert len(others) == 1 and done_by[0] not in others  # (either thread may take range 0)

        pool = parallel._get_pool(1)
        blocker = threading.Event()
        busy = pool.submit(blocker.wait, 30)  # the pool's only thread is taken
        try:
            names = parallel.parallel_ranges(lambda lo, hi: threading.current_thread().name, 8)
            assert names == [threading.current_thread().name] * 8  # no waiting for the pool
        finally:
            blocker.set()
            busy.result()
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
        started: list[int] = []

        def first_fails(lo: int, hi: int) -> None:
            started.append(lo)
            if lo == 0:
                raise RuntimeError("boom")
            time.sleep(0.01)

        with pytest.raises(RuntimeError):
            parallel.parallel_ranges(first_fails, 8, per_thread=4)
        assert len(started) < 8  # no new range after the failure
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
        entered, leave = threading.Barrier(3), threading.Barrier(3)
        shares: list[int] = []

        def job() -> None:
            with parallel.sharing():
                entered.wait()
                shares.append(len(parallel.parallel_ranges(lambda lo, hi: (lo, hi), 100, per_thread=1)))
                leave.wait()  # neither job leaves before both have taken their share

        threads = [threading.Thread(target=job) for _ in range(2)]
        for thread in threads:
            thread.start()
        entered.wait()  # both jobs are inside sharing(): two threads each
        assert parallel.num_threads() == 2
        leave.wait()
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

        both_started = threading.Barrier(2, timeout=30)  # so the two ranges run on two threads

        def spin(lo: int, hi: int) -> None:
            both_started.wait()
            end = time.thread_time() + 0.2
            while threading.current_thread().name.startswith("zkpor-field") and time.thread_time() < end:
                pass  # only the pool thread's range works

        before_own, before = time.thread_time(), parallel.thread_cpu_seconds()
        parallel.parallel_ranges(spin, 2)
        own, charged = time.thread_time() - before_own, parallel.thread_cpu_seconds() - before
        # >= 0.2 less a margin: `own` starts a read of the clock before `charged` does, which a
        # loaded machine can stretch to more than the pool thread's overshoot past its 0.2 s.
        # Without the pool thread's time, charged - own is about 0.
        assert charged - own >= 0.19
    finally:
        parallel.set_num_threads(old)
