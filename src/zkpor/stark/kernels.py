"""Numba kernels specific to the prover's hot loops, behind numpy-array functions."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from zkpor.field import scalar


@njit(parallel=True, cache=True)
def _combine_rows(matrix: np.ndarray, coefficients: np.ndarray, out: np.ndarray) -> None:
    rows, length = matrix.shape
    blocks = (length + 4095) // 4096
    for block in prange(blocks):
        start = block * 4096
        stop = min(length, start + 4096)
        for i in range(start, stop):
            acc0 = scalar.ZERO
            acc1 = scalar.ZERO
            for r in range(rows):
                v = matrix[r, i]
                acc0 = scalar.add(acc0, scalar.mul(coefficients[r, 0], v))
                acc1 = scalar.add(acc1, scalar.mul(coefficients[r, 1], v))
            out[i, 0] = acc0
            out[i, 1] = acc1


def ext_combine_rows(matrix: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """Σ_r coefficients[r] · matrix[r, :]: base-field rows (R, L), extension coefficients (R, 2)."""
    out = np.zeros((matrix.shape[1], 2), dtype=np.uint64)
    if matrix.shape[0]:
        _combine_rows(np.ascontiguousarray(matrix), np.ascontiguousarray(coefficients), out)
    return out


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
