"""The Poseidon2 gadget's constraints on many rows at once, fused into one numba kernel.

Both gadget shapes (`sbox_degree` 3: x³ stored beside each S-box output; 7: one column per S-box)
run through the same loops, which branch on the shape once per round.

`gadget.constraints` written over `BaseVec`s costs ~1,500 numpy-sized vector calls per chunk of
rows, each streaming its operands through memory. This kernel computes the very same expressions
(`permutation_rounds` with the `check` register: every stored column minus the value the previous
columns give it) on tiles of rows held in cache, and folds them straight into Σ α_k · c_k, so the
236 constraint vectors never exist. The loops over a tile's rows are elementwise, which LLVM
vectorises (AVX2/AVX-512) with the `llvm_ops` field operations. As in the hash's lanes
(`poseidon2_lanes`), an S-box input's high half is stored for `square_mul_split` (x⁷ 2.9 -> 1.4 ns)
and the internal layer's small diagonal is applied with doublings and halvings in one loop.

It is an optimisation of the prover only: the verifier evaluates the gadget's generic code at one
point, and the tests compare this kernel with the generic code on random (unsatisfying) rows.
"""

from __future__ import annotations

import numpy as np

from zkpor.field import llvm_ops as f
from zkpor.field.jit import njit
from zkpor.hash.poseidon2_lanes import (
    RC_FINAL,
    RC_INITIAL,
    RC_INTERNAL,
    diagonal_lanes_1_to_11,
    external_layer,
    lanes_1_to_11_sum,
)
from zkpor.hash.poseidon2_lanes import _add as add  # (canonical a + b in one instruction fewer)

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
def _copy(src, dst, m) -> None:
    for r in range(m):
        dst[r] = src[r]


_S32 = np.uint64(32)


@njit(cache=True, nogil=True)
def _sbox_input(state, rc, x, x_hi, m) -> None:
    """x = state + rc and its high 32-bit half, which the S-box's products read from memory
    (`llvm_ops.square_mul_split`: halves computed in the loop that multiplies would be folded
    back into a 64 × 64-bit product, scalar in a vector loop)."""
    for r in range(m):
        v = f.add(state[r], rc)
        x[r] = v
        x_hi[r] = v >> _S32


@njit(cache=True, nogil=True)
def _cube_split(x, x_hi, out, m) -> None:
    """out = x³, canonical (the degree-3 gadget compares it with its stored column)."""
    eps = f.epsilon()
    for r in range(m):
        out[r] = f.square_mul_split(x[r], x[r], x_hi[r], eps)


@njit(cache=True, nogil=True)
def _cube_split_lazy(x, x_hi, out, m) -> None:
    """out ≡ x³, maybe ≥ P (the input of the next product)."""
    eps = f.epsilon()
    for r in range(m):
        out[r] = f.square_mul_split_lazy(x[r], x[r], x_hi[r], eps)


@njit(cache=True, nogil=True)
def _seventh_split(cube, x, x_hi, out, m) -> None:
    """out = cube²·x = x⁷, canonical, from x's cube (stored or computed) and x as `_sbox_input` gave."""
    eps = f.epsilon()
    for r in range(m):
        out[r] = f.square_mul_split(cube[r], x[r], x_hi[r], eps)


@njit(cache=True, nogil=True)
def _full_round(cols, column, t0, m, state, mixed, work, rc, alphas, acc, cubes) -> int:
    """One full round from `state`; leaves the round's stored `post` columns in `state` and
    returns the next round's first column."""
    x, x_hi, cube = work[0], work[1], work[2]
    if cubes:
        for i in range(WIDTH):
            stored = cols[column + i, t0 : t0 + m]
            _sbox_input(state[i], rc[i], x, x_hi, m)
            _cube_split(x, x_hi, cube, m)
            k = column + i - WIDTH
            _accumulate(acc, stored, cube, alphas[k, 0], alphas[k, 1], m)
            _seventh_split(stored, x, x_hi, state[i], m)
        column += WIDTH
        external_layer(state, mixed, m)
        result = mixed
    else:  # (out of place: a loop writing its own input is not vectorised)
        for i in range(WIDTH):
            _sbox_input(state[i], rc[i], x, x_hi, m)
            _cube_split_lazy(x, x_hi, cube, m)
            _seventh_split(cube, x, x_hi, mixed[i], m)
        external_layer(mixed, state, m)
        result = state
    for i in range(WIDTH):
        stored = cols[column + i, t0 : t0 + m]
        k = column + i - WIDTH
        _accumulate(acc, stored, result[i], alphas[k, 0], alphas[k, 1], m)
        _copy(stored, state[i], m)
    return column + WIDTH


@njit(cache=True, nogil=True)
def internal_layer_tile(t, m) -> None:
    """`internal_layer` by DIAG, in place, on a flat tile whose lane i is t[i·_TILE : i·_TILE + m]:
    one loop, the diagonal (-2, 1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/4, -1/4, 1/8) applied with
    doublings and halvings as in `_partial_rounds`, not products."""
    for r in range(m):
        s0 = t[r]
        rest = lanes_1_to_11_sum(t, _TILE, r)
        total = add(rest, s0)
        t[r] = f.sub(rest, s0)  # -2
        diagonal_lanes_1_to_11(t, _TILE, r, total)


@njit(cache=True, nogil=True)
def _partial_round(cols, column, t0, m, state, work, rc, alphas, acc, cubes) -> int:
    x, x_hi, cube, seventh = work[0], work[1], work[2], work[3]
    _sbox_input(state[0], rc, x, x_hi, m)
    if cubes:
        stored_cube = cols[column, t0 : t0 + m]
        k = column - WIDTH
        _cube_split(x, x_hi, cube, m)
        _accumulate(acc, stored_cube, cube, alphas[k, 0], alphas[k, 1], m)
        _seventh_split(stored_cube, x, x_hi, seventh, m)
        column += 1
    else:
        _cube_split_lazy(x, x_hi, cube, m)
        _seventh_split(cube, x, x_hi, seventh, m)
    stored_seventh = cols[column, t0 : t0 + m]
    k = column - WIDTH
    _accumulate(acc, stored_seventh, seventh, alphas[k, 0], alphas[k, 1], m)
    _copy(stored_seventh, state[0], m)  # the stored x^7 goes on through the linear layer
    internal_layer_tile(state.reshape(-1), m)
    return column + 1


@njit(cache=True, nogil=True)
def combined_range(lo, hi, cols, offset, alphas, rc_initial, rc_internal, rc_final, cubes, out) -> None:
    """out[r] = Σ_k α_k · c_k(row r) for rows r in [lo, hi) of cols[:, offset:]; `cubes`: the
    degree-3 gadget's layout (x³ columns), else the degree-7 one's.

    alphas: (num_constraints, 2) extension weights; out: (rows, 2)."""
    state = np.empty((WIDTH, _TILE), dtype=np.uint64)
    scratch = np.empty((WIDTH, _TILE), dtype=np.uint64)
    acc = np.empty((4, _TILE), dtype=np.uint64)
    work = np.empty((4, _TILE), dtype=np.uint64)
    for t in range(lo, hi, _TILE):
        m = min(_TILE, hi - t)
        t0 = offset + t
        for i in range(WIDTH):
            _copy(cols[i, t0 : t0 + m], scratch[i], m)
        external_layer(scratch, state, m)
        acc[:] = 0
        column = WIDTH
        for j in range(rc_initial.shape[0]):
            column = _full_round(cols, column, t0, m, state, scratch, work, rc_initial[j], alphas, acc, cubes)
        for j in range(rc_internal.shape[0]):
            rc = rc_internal[j]
            column = _partial_round(cols, column, t0, m, state, work, rc, alphas, acc, cubes)
        for j in range(rc_final.shape[0]):
            column = _full_round(cols, column, t0, m, state, scratch, work, rc_final[j], alphas, acc, cubes)
        for r in range(m):
            out[t + r, 0] = f.reduce128(acc[0, r], acc[1, r])
            out[t + r, 1] = f.reduce128(acc[2, r], acc[3, r])


def combined_constraints(
    cols: np.ndarray, offset: int, rows: int, alphas: np.ndarray, sbox_degree: int = 3
) -> np.ndarray:
    """Σ_k α_k · (constraint k of the gadget of this S-box degree) on rows
    cols[:, offset : offset + rows] of the gadget's columns `cols` (≥ its columns, C-contiguous);
    alphas (num_constraints, 2). Returns (rows, 2)."""
    out = np.empty((rows, 2), dtype=np.uint64)
    cubes = sbox_degree == 3
    combined_range(0, rows, cols, offset, alphas, RC_INITIAL, RC_INTERNAL, RC_FINAL, cubes, out)
    return out


@njit(cache=True, nogil=True)
def _fill_sbox(lane, rc, work, stored_cube, out, m, cubes) -> None:
    """out = (lane + rc)⁷; with `cubes` the cube goes to `stored_cube` (a trace column) first."""
    x, x_hi, cube = work[0], work[1], work[2]
    _sbox_input(lane, rc, x, x_hi, m)
    if cubes:
        _cube_split(x, x_hi, stored_cube, m)
        _seventh_split(stored_cube, x, x_hi, out, m)
    else:
        _cube_split_lazy(x, x_hi, cube, m)
        _seventh_split(cube, x, x_hi, out, m)


@njit(cache=True, nogil=True)
def _fill_full_rounds(trace, column, t0, m, state, scratch, work, constants, cubes) -> int:
    for j in range(constants.shape[0]):
        for i in range(WIDTH):
            _fill_sbox(state[i], constants[j, i], work, trace[column + i, t0 : t0 + m], scratch[i], m, cubes)
        if cubes:
            column += WIDTH
        external_layer(scratch, state, m)
        for i in range(WIDTH):
            _copy(state[i], trace[column + i, t0 : t0 + m], m)
        column += WIDTH
    return column


@njit(cache=True, nogil=True)
def fill_range(lo, hi, trace, cubes) -> None:
    """Every stored column of rows [lo, hi) of `trace` (the gadget's columns, n) from its 12 input
    columns: the values `Poseidon2Gadget.rounds` registers, computed on tiles as `combined_range`
    checks them; `cubes` as there."""
    state = np.empty((WIDTH, _TILE), dtype=np.uint64)
    scratch = np.empty((WIDTH, _TILE), dtype=np.uint64)
    work = np.empty((3, _TILE), dtype=np.uint64)
    for t0 in range(lo, hi, _TILE):
        m = min(_TILE, hi - t0)
        for i in range(WIDTH):
            _copy(trace[i, t0 : t0 + m], scratch[i], m)
        external_layer(scratch, state, m)
        column = _fill_full_rounds(trace, WIDTH, t0, m, state, scratch, work, RC_INITIAL, cubes)
        for j in range(RC_INTERNAL.shape[0]):
            _fill_sbox(state[0], RC_INTERNAL[j], work, trace[column, t0 : t0 + m], scratch[0], m, cubes)
            if cubes:
                column += 1
            _copy(scratch[0], state[0], m)
            _copy(state[0], trace[column, t0 : t0 + m], m)
            internal_layer_tile(state.reshape(-1), m)
            column += 1
        _fill_full_rounds(trace, column, t0, m, state, scratch, work, RC_FINAL, cubes)


def fill_columns(trace: np.ndarray, sbox_degree: int = 3) -> None:
    """Fill every column after the 12 inputs of `trace` (C-contiguous (gadget columns, n)) from
    its inputs, for the gadget of this S-box degree."""
    from zkpor.field.parallel import parallel_ranges

    cubes = sbox_degree == 3
    parallel_ranges(lambda lo, hi: fill_range(lo, hi, trace, cubes), trace.shape[1], grain=_TILE)


_SPONGE_TILE = 64  # sponges per tile: their R rows of gadget columns (~0.75 MB for R = 6) stay in L2


@njit(cache=True, nogil=True)
def fill_sponge_range(lo, hi, trace, columns, rate, capacity, block, output, cubes) -> None:
    """Sponges [lo, hi) into `trace` (C-contiguous, ≥ `columns` rows of gadget columns): sponge j's
    permutation r (r < R = rate.shape[0] // 8) goes on trace row j·block + r, absorbing
    rate[8r : 8r + 8, j] into lanes 0..7 over lanes 8..11 of permutation r − 1's output (columns
    output + 8 … output + 11; for r = 0, `capacity`). A tile's R rows are filled in a buffer, then
    each column's R values of a sponge are written together: one pass over the trace's memory
    instead of one per row."""
    rows = rate.shape[0] // 8
    tile = np.empty((rows, columns, _SPONGE_TILE), dtype=np.uint64)
    for t0 in range(lo, hi, _SPONGE_TILE):
        m = min(_SPONGE_TILE, hi - t0)
        for r in range(rows):
            for i in range(8):
                _copy(rate[8 * r + i, t0 : t0 + m], tile[r, i], m)
            for i in range(4):
                if r == 0:
                    for j in range(m):
                        tile[0, 8 + i, j] = capacity[i]
                else:
                    _copy(tile[r - 1, output + 8 + i], tile[r, 8 + i], m)
            fill_range(0, m, tile[r], cubes)
        for c in range(columns):
            for j in range(m):
                at = (t0 + j) * block
                for r in range(rows):
                    trace[c, at + r] = tile[r, c, j]


def fill_sponge_rows(
    trace: np.ndarray, columns: int, rate: np.ndarray, capacity: np.ndarray, block: int, output: int,
    sbox_degree: int = 3,
) -> None:  # fmt: skip
    """Overwrite-mode sponges of the gadget of this S-box degree, one per block of `block` trace
    rows (see `fill_sponge_range`), on all threads: rate (8R, sponges) C-contiguous, capacity (4,)."""
    from zkpor.field.parallel import parallel_ranges

    rate, capacity = np.ascontiguousarray(rate, dtype=np.uint64), np.asarray(capacity, dtype=np.uint64)
    cubes = sbox_degree == 3
    parallel_ranges(
        lambda lo, hi: fill_sponge_range(lo, hi, trace, columns, rate, capacity, block, output, cubes),
        rate.shape[1],
        grain=_SPONGE_TILE,
    )
