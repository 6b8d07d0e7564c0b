"""Numba kernels specific to the prover's hot loops, behind numpy-array functions."""

from __future__ import annotations

import numpy as np

from zkpor.field import llvm_ops as ops
from zkpor.field import scalar
from zkpor.field.extension import add_four_rows, add_product
from zkpor.field.jit import njit
from zkpor.field.parallel import parallel_ranges


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


_TILE = 256  # rows per tile of `selected_combinations`: its sums stay in L1


@njit(cache=True, nogil=True)
def _selected_range(lo, hi, matrix, rows, offset, weights, starts, selectors, out):
    totals = np.empty((2, _TILE), dtype=np.uint64)
    acc = np.empty((4, _TILE), dtype=np.uint64)  # one selector's sum: lo, hi of c0, then of c1
    for t0 in range(lo, hi, _TILE):
        m = min(_TILE, hi - t0)
        totals[:] = 0
        first = offset + t0
        for r in range(selectors.shape[0]):
            acc[:] = 0
            for c in range(2):
                lo_sum, hi_sum = acc[2 * c], acc[2 * c + 1]
                i, end = starts[r], starts[r + 1]
                while i + 4 <= end:
                    v0 = matrix[rows[i], first : first + m]
                    v1 = matrix[rows[i + 1], first : first + m]
                    v2 = matrix[rows[i + 2], first : first + m]
                    v3 = matrix[rows[i + 3], first : first + m]
                    w0, w1, w2, w3 = weights[i, c], weights[i + 1, c], weights[i + 2, c], weights[i + 3, c]
                    add_four_rows(lo_sum, hi_sum, v0, v1, v2, v3, w0, w1, w2, w3, m)
                    i += 4
                for k in range(i, end):
                    l0, h0 = ops.halves(weights[k, c])
                    v0 = matrix[rows[k], first : first + m]
                    for j in range(m):
                        lo_sum[j], hi_sum[j] = add_product(lo_sum[j], hi_sum[j], v0[j], l0, h0)
            s = selectors[r, t0 : t0 + m]
            t0_sum, t1_sum = totals[0], totals[1]
            for j in range(m):
                c0 = ops.mul_vec(ops.reduce128(acc[0, j], acc[1, j]), s[j])
                c1 = ops.mul_vec(ops.reduce128(acc[2, j], acc[3, j]), s[j])
                t0_sum[j] = ops.add(t0_sum[j], c0)
                t1_sum[j] = ops.add(t1_sum[j], c1)
        for j in range(m):
            out[t0 + j, 0] = totals[0, j]
            out[t0 + j, 1] = totals[1, j]


def selected_combinations(
    matrix: np.ndarray,
    rows: np.ndarray,
    offset: int,
    weights: np.ndarray,
    starts: np.ndarray,
    selectors: np.ndarray,
) -> np.ndarray:
    """out[j] = Σ_r selectors[r, j] · Σ_{starts[r] <= i < starts[r+1]} weights[i] · matrix[rows[i],
    offset + j] for j < m = selectors.shape[1]: a sum of linear combinations of rows of a
    C-contiguous base matrix (read in place), each times a base vector, as an ext array (m, 2);
    weights (rows, 2) in the extension."""
    count, m = selectors.shape
    ordered = starts.shape == (count + 1,) and starts[0] == 0 and np.all(np.diff(starts) >= 0)
    if not ordered or starts[-1] != rows.shape[0]:
        raise ValueError("starts: one slice of the rows per selector, in order, covering them all")
    if weights.shape != (rows.shape[0], 2) or not matrix.flags.c_contiguous or offset + m > matrix.shape[1]:
        raise ValueError("one weight per row, and the rows within a C-contiguous matrix")
    out = np.empty((m, 2), dtype=np.uint64)
    selectors = np.ascontiguousarray(selectors)
    parallel_ranges(_selected_range, m, matrix, rows, offset, weights, starts, selectors, out, grain=_TILE)
    return out


@njit(cache=True, nogil=True)
def _row_sums_range(lo, hi, matrix, rows, offset, out):
    total_lo = np.zeros(hi - lo, dtype=np.uint64)  # 128-bit sums: a carry count in the high word
    total_hi = np.zeros(hi - lo, dtype=np.uint64)
    first = offset + lo
    for i in range(rows.shape[0]):
        v = matrix[rows[i], first : first + hi - lo]
        for j in range(hi - lo):
            s = total_lo[j] + v[j]
            total_hi[j] += np.uint64(s < v[j])
            total_lo[j] = s
    for j in range(hi - lo):
        out[lo + j] = ops.reduce128(total_lo[j], total_hi[j])


def row_sums(matrix: np.ndarray, rows: np.ndarray, offset: int, m: int) -> np.ndarray:
    """out[j] = Σ_i matrix[rows[i], offset + j] (mod p) for j < m, rows of a C-contiguous base
    matrix read in place."""
    if not matrix.flags.c_contiguous or offset < 0 or offset + m > matrix.shape[1]:
        raise ValueError("the rows must lie within a C-contiguous matrix")
    if rows.size and (rows.min() < 0 or rows.max() >= matrix.shape[0]):
        raise ValueError("row index out of range")
    out = np.empty(m, dtype=np.uint64)
    parallel_ranges(_row_sums_range, m, matrix, rows, offset, out, grain=_TILE)
    return out
