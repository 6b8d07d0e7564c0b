"""zkpor.field.jit: a kernel not in numba's cache compiles and is cached as with numba's `njit`; one in
the cache loads in a fresh process without numba's compiler registries, and computes the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

KERNEL_MODULE = '''
import numpy as np
from zkpor.field.jit import njit

@njit(cache=True)
def alloc_and_sum(n):
    values = np.arange(n, dtype=np.uint64) * np.uint64(3)  # allocates: needs numba's runtime (NRT)
    return values.sum()
'''

# Runs the kernel in a fresh process; prints its result, where it came from, and whether numba's
# registries were installed (they import numba's numpy.polynomial support, which no kernel here uses).
CALL = '''
import json, sys
import numba_jit_probe as probe
from zkpor.field.jit import Preloader
if sys.argv[1:] == ["preload"]:
    assert Preloader([probe.alloc_and_sum]).stop() is None
    assert sum(probe.alloc_and_sum.stats.cache_hits.values()) == 1  # loaded before its first call
result = int(probe.alloc_and_sum(1000))
stats = probe.alloc_and_sum.stats
print(json.dumps({
    "result": result,
    "loaded": sum(stats.cache_hits.values()),
    "compiled": sum(stats.cache_misses.values()),
    "registries": "numba.np.polynomial.polynomial_core" in sys.modules,
}))
'''


def _call(directory: Path, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CALL, *args],
        cwd=directory,
        env={**_env(), "PYTHONPATH": str(directory)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}  # the cache beside the module


def test_a_kernel_compiles_once_then_loads_from_the_cache_without_the_registries(tmp_path: Path) -> None:
    (tmp_path / "numba_jit_probe.py").write_text(textwrap.dedent(KERNEL_MODULE))
    expected = 3 * sum(range(1000))

    first = _call(tmp_path)
    assert first == {"result": expected, "loaded": 0, "compiled": 1, "registries": True}
    assert list((tmp_path / "__pycache__").glob("numba_jit_probe.alloc_and_sum-*.nbi"))

    again = _call(tmp_path)
    assert again == {"result": expected, "loaded": 1, "compiled": 0, "registries": False}

    preloaded = _call(tmp_path, "preload")  # by zkpor.field.jit.Preloader's thread, then called
    assert preloaded == {"result": expected, "loaded": 1, "compiled": 0, "registries": False}


def test_a_preload_that_fails_names_the_kernel_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    from zkpor.field import extension, goldilocks, jit

    attempted = []

    def unreadable(kernel: object) -> list:
        attempted.append(kernel)
        raise OSError("cache index unreadable")

    monkeypatch.setattr(jit, "cached_signatures", unreadable)
    failure = jit.Preloader([goldilocks._powers_kernel, extension._ext_kernel]).stop()
    assert failure == "zkpor.field.goldilocks._powers_kernel: OSError: cache index unreadable"
    assert attempted == [goldilocks._powers_kernel]


def test_zkpor_kernels_are_decorated_with_the_cached_loader() -> None:
    from zkpor.field import goldilocks
    from zkpor.field.jit import _KernelCache

    assert type(goldilocks._elementwise_kernel._cache) is _KernelCache
