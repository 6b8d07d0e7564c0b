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
