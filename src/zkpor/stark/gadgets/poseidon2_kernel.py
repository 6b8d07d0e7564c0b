"""The Poseidon2 gadget's constraints on many rows at once, fused into one numba kernel.

`gadget.constraints` written over `BaseVec`s costs ~1,500 numpy-sized vector calls per chunk of
rows, each streaming its operands through memory. This kernel computes the very same expressions
(`permutation_rounds` with the `check` register: every stored column minus the value the previous
columns give it) on tiles of rows held in cache, and folds them straight into Σ α_k · c_k, so the
236 constraint vectors never exist. The loops over a tile's rows are elementwise, which LLVM
vectorises (AVX2/AVX-512) with the `llvm_ops` field operations.

It is an optimisation of the prover only: the verifier evaluates the gadget's generic code at one
point, and the tests compare this kernel with the generic code on random (unsatisfying) rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from zkpor.field import llvm_ops as f
from zkpor.hash.poseidon2_lanes import DIAG, RC_FINAL, RC_INITIAL, RC_INTERNAL, external_layer, internal_layer

WIDTH = 12
_TILE = 256  # rows per tile: the state and accumulators stay in L1


@njit(cache=True, nogil=True)
def _accumulate(acc, stored, expected, a0, a1, m) -> None:
    """acc += α · (stored − expected), α = a0 + a1·x, in 128-bit accumulators (lo0, hi0, lo1, hi1)
    reduced once per tile: at most 2^64 terms can carry into the high words."""
    lo0, hi0, lo1, hi1 = acc[0], acc[1], acc[2], acc[3]
    a0_lo, a0_hi = f.halves(a0)
    a1_lo, a1_hi = f.halves(a1)
    for r in range(m):
        c = f.sub(stored[r], expected[r])
        v = f.mul_split(c, a0_lo, a0_hi)
        s = lo0[r] + v
        if s < v:
            hi0[r] += np.uint64(1)
        lo0[r] = s
        v = f.mul_split(c, a1_lo, a1_hi)
        s = lo1[r] + v
        if s < v:
            hi1[r] += np.uint64(1)
        lo1[r] = s


@njit(cache=True, nogil=True)
def _cube_shifted(state, rc, shifted, cube, m) -> None:
    for r in range(m):
        x = f.add(state[r], rc)
        shifted[r] = x
        cube[r] = f.square_mul_vec(x, x)


@njit(cache=True, nogil=True)
def _seventh(stored_cube, shifted, out, m) -> None:
    """x^7 = (stored x^3)^2 · x: continues from the stored column, as the generic code does."""
    for r in range(m):
        c = stored_cube[r]
        out[r] = f.square_mul_vec(c, shifted[r])


@njit(cache=True, nogil=True)
def _copy(src, dst, m) -> None:
    for r in range(m):
        dst[r] = src[r]


@njit(cache=True, nogil=True)
def _full_round(cols, column, t0, m, state, mixed, work, rc, alphas, acc) -> None:
    """One full round from `state`; leaves the round's stored `post` columns in `state`."""
    shifted, cube = work[0], work[1]
    for i in range(WIDTH):
        stored = cols[column + i, t0 : t0 + m]
        _cube_shifted(state[i], rc[i], shifted, cube, m)
        k = column + i - WIDTH
        _accumulate(acc, stored, cube, alphas[k, 0], alphas[k, 1], m)
        _seventh(stored, shifted, state[i], m)
    external_layer(state, mixed, m)
    for i in range(WIDTH):
        stored = cols[column + WIDTH + i, t0 : t0 + m]
        k = column + i
        _accumulate(acc, stored, mixed[i], alphas[k, 0], alphas[k, 1], m)
        _copy(stored, state[i], m)


@njit(cache=True, nogil=True)
def _partial_round(cols, column, t0, m, state, work, rc, diag, alphas, acc) -> None:
    shifted, cube = work[0], work[1]
    stored_cube = cols[column, t0 : t0 + m]
    stored_seventh = cols[column + 1, t0 : t0 + m]
    k = column - WIDTH
    _cube_shifted(state[0], rc, shifted, cube, m)
    _accumulate(acc, stored_cube, cube, alphas[k, 0], alphas[k, 1], m)
    _seventh(stored_cube, shifted, cube, m)
    _accumulate(acc, stored_seventh, cube, alphas[k + 1, 0], alphas[k + 1, 1], m)
    _copy(stored_seventh, state[0], m)  # the stored x^7 goes on through the linear layer
    internal_layer(state, diag, shifted, m)


@njit(cache=True, nogil=True)
def combined_range(lo, hi, cols, offset, alphas, rc_initial, rc_internal, rc_final, diag, out) -> None:
    """out[r] = Σ_k α_k · c_k(row r) for rows r in [lo, hi) of cols[:, offset:].

    alphas: (NUM_CONSTRAINTS, 2) extension weights; out: (rows, 2)."""
    state = np.empty((WIDTH, _TILE), dtype=np.uint64)
    scratch = np.empty((WIDTH, _TILE), dtype=np.uint64)
    acc = np.empty((4, _TILE), dtype=np.uint64)
    work = np.empty((2, _TILE), dtype=np.uint64)
    for t in range(lo, hi, _TILE):
        m = min(_TILE, hi - t)
        t0 = offset + t
        for i in range(WIDTH):
            _copy(cols[i, t0 : t0 + m], scratch[i], m)
        external_layer(scratch, state, m)
        acc[:] = 0
        column = WIDTH
        for j in range(rc_initial.shape[0]):
            _full_round(cols, column, t0, m, state, scratch, work, rc_initial[j], alphas, acc)
            column += 2 * WIDTH
        for j in range(rc_internal.shape[0]):
            _partial_round(cols, column, t0, m, state, work, rc_internal[j], diag, alphas, acc)
            column += 2
        for j in range(rc_final.shape[0]):
            _full_round(cols, column, t0, m, state, scratch, work, rc_final[j], alphas, acc)
            column += 2 * WIDTH
        for r in range(m):
            out[t + r, 0] = f.reduce128(acc[0, r], acc[1, r])
            out[t + r, 1] = f.reduce128(acc[2, r], acc[3, r])


def combined_constraints(cols: np.ndarray, offset: int, rows: int, alphas: np.ndarray) -> np.ndarray:
    """Σ_k α_k · (constraint k of the gadget) on rows cols[:, offset : offset + rows] of the gadget's
    columns `cols` (≥ COLUMNS, C-contiguous); alphas (NUM_CONSTRAINTS, 2). Returns (rows, 2)."""
    out = np.empty((rows, 2), dtype=np.uint64)
    combined_range(0, rows, cols, offset, alphas, RC_INITIAL, RC_INTERNAL, RC_FINAL, DIAG, out)
    return out


@njit(cache=True, nogil=True)
def _fill_full_rounds(trace, column, t0, m, state, scratch, work, constants) -> int:
    for j in range(constants.shape[0]):
        for i in range(WIDTH):
            _cube_shifted(state[i], constants[j, i], work[0], work[1], m)
            _copy(work[1], trace[column + i, t0 : t0 + m], m)
            _seventh(work[1], work[0], state[i], m)
        external_layer(state, scratch, m)
        for i in range(WIDTH):
            _copy(scratch[i], state[i], m)
            _copy(scratch[i], trace[column + WIDTH + i, t0 : t0 + m], m)
        column += 2 * WIDTH
    return column


@njit(cache=True, nogil=True)
def fill_range(lo, hi, trace) -> None:
    """Every stored column of rows [lo, hi) of `trace` (COLUMNS, n) from its 12 input columns: the
    values `permutation_rounds` registers, computed on tiles as `combined_range` checks them."""
    state = np.empty((WIDTH, _TILE), dtype=np.uint64)
    scratch = np.empty((WIDTH, _TILE), dtype=np.uint64)
    work = np.empty((2, _TILE), dtype=np.uint64)
    for t0 in range(lo, hi, _TILE):
        m = min(_TILE, hi - t0)
        for i in range(WIDTH):
            _copy(trace[i, t0 : t0 + m], scratch[i], m)
        external_layer(scratch, state, m)
        column = _fill_full_rounds(trace, WIDTH, t0, m, state, scratch, work, RC_INITIAL)
        for j in range(RC_INTERNAL.shape[0]):
            _cube_shifted(state[0], RC_INTERNAL[j], work[0], work[1], m)
            _copy(work[1], trace[column, t0 : t0 + m], m)
            _seventh(work[1], work[0], state[0], m)
            _copy(state[0], trace[column + 1, t0 : t0 + m], m)
            internal_layer(state, DIAG, work[0], m)
            column += 2
        _fill_full_rounds(trace, column, t0, m, state, scratch, work, RC_FINAL)


def fill_columns(trace: np.ndarray) -> None:
    """Fill columns WIDTH … COLUMNS−1 of `trace` (C-contiguous (COLUMNS, n)) from its inputs."""
    from zkpor.field.parallel import parallel_ranges

    parallel_ranges(lambda lo, hi: fill_range(lo, hi, trace), trace.shape[1], grain=_TILE)
