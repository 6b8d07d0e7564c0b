"""Numba kernels specific to the prover's hot loops, behind numpy-array functions."""

from __future__ import annotations

import numpy as np
from numba import njit

from zkpor.field import scalar


@njit(cache=True)
def _exclusive_prefix_sum(values: np.ndarray, out: np.ndarray) -> None:
    acc = scalar.ZERO
    for i in range(values.shape[0]):
        out[i] = acc
        acc = scalar.add(acc, values[i])


def exclusive_prefix_sum(values: np.ndarray) -> np.ndarray:
    """out[i] = Σ_{j<i} values[j] (mod p)."""
    out = np.empty_like(values)
    _exclusive_prefix_sum(np.ascontiguousarray(values), out)
    return out


_TILE = 32


@njit(cache=True, nogil=True)
def _transpose_range(src: np.ndarray, dst: np.ndarray, lo: int, hi: int) -> None:
    """dst[j, i] = src[i, j] for source columns j in [lo, hi), in cache-sized tiles."""
    rows = src.shape[0]
    for j0 in range(lo, hi, _TILE):
        j1 = min(hi, j0 + _TILE)
        for i0 in range(0, rows, _TILE):
            i1 = min(rows, i0 + _TILE)
            for j in range(j0, j1):
                for i in range(i0, i1):
                    dst[j, i] = src[i, j]


def transpose(matrix: np.ndarray) -> np.ndarray:
    """A C-contiguous transpose of a C-contiguous 2-D uint64 matrix, on all threads.

    numpy's own transposing copy walks one side with a large stride; tiles keep both in cache."""
    from zkpor.field import parallel

    src = np.ascontiguousarray(matrix)
    dst = np.empty((src.shape[1], src.shape[0]), dtype=src.dtype)
    parallel.parallel_ranges(lambda lo, hi: _transpose_range(src, dst, lo, hi), src.shape[1], grain=_TILE)
    return dst
