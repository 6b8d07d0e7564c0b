"""LogUp's plain pair constraints on many LDE points at once, fused into one numba kernel.

Most helpers of a range-checking AIR sum two plain lookups a, b (multiplicity 1, one trace
column each): with the pole distances d_t = β − φ_t = c_t − w_t·v_t (c_t, w_t extension constants
from β, γ and the tuple's integer entries, v_t the column), the helper's constraint is

    h · d_a · d_b − d_a − d_b.

`logup.evaluate` through the generic vector code costs ~10 vector passes per pair, each a numpy
call streaming its operands through memory. This kernel computes the same expressions on tiles of
rows held in cache and folds them straight into Σ_g α_g · c_g (as the Poseidon2 gadget's kernel
does), so neither the distances nor the constraint vectors exist. It is an optimisation of the
prover only: the verifier evaluates the generic code at one point, and the tests compare the
two on random rows.
"""

from __future__ import annotations

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field import llvm_ops as f
from zkpor.field.extension import add_product
from zkpor.field.jit import njit
from zkpor.field.parallel import parallel_ranges

_TILE = 512  # rows per tile: the accumulators stay in L1


@njit(cache=True, nogil=True)
def _accumulate_pair(acc, m, va, vb, h0, h1, ca, cb, wa, wb, alpha) -> None:
    """acc += α · (h·d_a·d_b − d_a − d_b) on m rows, d_t = c_t − w_t·v_t; alpha = (α0, α1, 7·α1)."""
    wa0_lo, wa0_hi = f.halves(wa[0])
    wa1_lo, wa1_hi = f.halves(wa[1])
    wb0_lo, wb0_hi = f.halves(wb[0])
    wb1_lo, wb1_hi = f.halves(wb[1])
    a0_lo, a0_hi = f.halves(alpha[0])
    a1_lo, a1_hi = f.halves(alpha[1])
    a7_lo, a7_hi = f.halves(alpha[2])
    ca0, ca1, cb0, cb1 = ca[0], ca[1], cb[0], cb[1]
    lo0, hi0, lo1, hi1 = acc[0], acc[1], acc[2], acc[3]
    for r in range(m):
        x, y = va[r], vb[r]
        da0 = f.sub(ca0, f.mul_split(x, wa0_lo, wa0_hi))
        da1 = f.sub(ca1, f.mul_split(x, wa1_lo, wa1_hi))
        db0 = f.sub(cb0, f.mul_split(y, wb0_lo, wb0_hi))
        db1 = f.sub(cb1, f.mul_split(y, wb1_lo, wb1_hi))
        p0, p1 = f.ext_mul_vec(h0[r], h1[r], da0, da1)
        p0, p1 = f.ext_mul_vec(p0, p1, db0, db1)
        c0 = f.sub(f.sub(p0, da0), db0)
        c1 = f.sub(f.sub(p1, da1), db1)
        # α·c = (α0·c0 + 7·α1·c1) + (α0·c1 + α1·c0)·x
        s, t = add_product(lo0[r], hi0[r], c0, a0_lo, a0_hi)
        lo0[r], hi0[r] = add_product(s, t, c1, a7_lo, a7_hi)
        s, t = add_product(lo1[r], hi1[r], c1, a0_lo, a0_hi)
        lo1[r], hi1[r] = add_product(s, t, c0, a1_lo, a1_hi)


@njit(cache=True, nogil=True)
def combined_range(
    lo, hi, values, rows, offset, helpers, helper_rows, helper_offset, constants, weights, alphas, out
) -> None:
    """out[j] = Σ_g α_g · (h_g·d_2g·d_2g+1 − d_2g − d_2g+1) for lo <= j < hi, where
    d_t = constants[t] − weights[t]·values[rows[t], offset + j] and h_g = helpers[helper_rows[g],
    helper_offset + j] + x·helpers[helper_rows[g] + 1, helper_offset + j]."""
    acc = np.empty((4, _TILE), dtype=np.uint64)  # 128-bit sums: lo, hi of c0, then of c1
    for t0 in range(lo, hi, _TILE):
        m = min(_TILE, hi - t0)
        acc[:] = 0
        first, h_first = offset + t0, helper_offset + t0
        for g in range(helper_rows.shape[0]):
            va = values[rows[2 * g], first : first + m]
            vb = values[rows[2 * g + 1], first : first + m]
            h0 = helpers[helper_rows[g], h_first : h_first + m]
            h1 = helpers[helper_rows[g] + 1, h_first : h_first + m]
            a, b = 2 * g, 2 * g + 1
            ca, cb, wa, wb = constants[a], constants[b], weights[a], weights[b]
            _accumulate_pair(acc, m, va, vb, h0, h1, ca, cb, wa, wb, alphas[g])
        for r in range(m):
            out[t0 + r, 0] = f.reduce128(acc[0, r], acc[1, r])
            out[t0 + r, 1] = f.reduce128(acc[2, r], acc[3, r])


def combined_pairs(
    values: np.ndarray,
    rows: np.ndarray,
    offset: int,
    helpers: np.ndarray,
    helper_rows: np.ndarray,
    helper_offset: int,
    length: int,
    constants: np.ndarray,
    weights: np.ndarray,
    alphas: np.ndarray,
) -> np.ndarray:
    """Σ_g α_g · (pair constraint g) on `length` points: the terms' columns are rows `rows` (2G,)
    of the C-contiguous base matrix `values` from point `offset`; helper g is rows helper_rows[g]
    (c0) and helper_rows[g] + 1 (c1) of the C-contiguous `helpers` from point `helper_offset` (the
    aux LDE, read in place); constants and weights (2G, 2), alphas (G, 2). Returns (length, 2)."""
    count = helper_rows.shape[0]
    if count == 0:
        raise ValueError("no helpers")
    if rows.shape != (2 * count,) or constants.shape != (2 * count, 2) or weights.shape != (2 * count, 2):
        raise ValueError("one row, constant and weight per term, two terms per helper")
    if alphas.shape != (count, 2):
        raise ValueError("one weight per helper")
    for matrix, first, picked in ((values, offset, rows), (helpers, helper_offset, helper_rows + 1)):
        inside = 0 <= first and first + length <= matrix.shape[1]
        if not (inside and 0 <= picked.min() and picked.max() < len(matrix) and matrix.flags.c_contiguous):
            raise ValueError("the rows read must lie within a C-contiguous matrix")
    weighted = np.empty((count, 3), dtype=np.uint64)
    weighted[:, :2] = alphas
    weighted[:, 2] = gl.mul(np.ascontiguousarray(alphas[:, 1]), np.uint64(7))
    out = np.empty((length, 2), dtype=np.uint64)
    parallel_ranges(
        combined_range, length, values, rows, offset, helpers, helper_rows, helper_offset, constants,
        weights, weighted, out, grain=_TILE,
    )  # fmt: skip
    return out
