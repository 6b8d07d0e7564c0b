"""The thread pool behind the field kernels."""

from __future__ import annotations

import threading

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
