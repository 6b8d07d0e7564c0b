"""Poseidon2 (width 12) on many states at once, one state per vector lane, and the sponge of the
rows of a column-major matrix built on it.

`poseidon2_batch` permutes one state after another; here a state is a column of a (12, tile)
array and every step of the permutation is a loop over the tile, which LLVM turns into AVX-512 /
AVX2 instructions with the `llvm_ops` field operations (~1.4x the scalar kernel's speed here).
Rows of a column-major matrix (the STARK's LDE) are absorbed straight from their columns, so a
Poseidon2 Merkle tree over the LDE needs no transpose. The digests equal `poseidon2.sponge_hash`
(the tests compare them).

The linear layers are also used by the STARK's fused Poseidon2 gadget kernel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from zkpor.field import llvm_ops as f
from zkpor.hash import poseidon2 as reference
from zkpor.hash import poseidon2_constants as C  # noqa: N812 (the constants module)

WIDTH = 12
RATE = 8
LANES = 256  # rows per tile: 12 × 256 words stay in L1, and loops this long vectorise well

RC_INITIAL = np.array(C.RC12_EXTERNAL_INITIAL, dtype=np.uint64)
RC_INTERNAL = np.array(C.RC12_INTERNAL, dtype=np.uint64)
RC_FINAL = np.array(C.RC12_EXTERNAL_FINAL, dtype=np.uint64)
DIAG = np.array(C.DIAG12, dtype=np.uint64)
for _table in (RC_INITIAL, RC_INTERNAL, RC_FINAL, DIAG):
    _table.flags.writeable = False


@njit(cache=True, nogil=True)
def _external_block(x0, x1, x2, x3, y0, y1, y2, y3, m) -> None:
    """Plonky3's MDSMat4 on one block of four lanes, elementwise over m rows."""
    for r in range(m):
        a, b, c, d = x0[r], x1[r], x2[r], x3[r]
        ab = f.add(a, b)
        cd = f.add(c, d)
        a2 = f.add(a, a)
        b2 = f.add(b, b)
        c2 = f.add(c, c)
        d2 = f.add(d, d)
        y0[r] = f.add(f.add(a2, f.add(b2, b)), cd)  # 2a + 3b + c + d
        y1[r] = f.add(f.add(ab, b), f.add(f.add(c2, c), d))  # a + 2b + 3c + d
        y2[r] = f.add(ab, f.add(c2, f.add(d2, d)))  # a + b + 2c + 3d
        y3[r] = f.add(f.add(a2, ab), f.add(c, d2))  # 3a + b + c + 2d


@njit(cache=True, nogil=True)
def _add_block_sums(y0, y1, y2, m) -> None:
    for r in range(m):
        total = f.add(f.add(y0[r], y1[r]), y2[r])
        y0[r] = f.add(y0[r], total)
        y1[r] = f.add(y1[r], total)
        y2[r] = f.add(y2[r], total)


@njit(cache=True, nogil=True)
def external_layer(src: np.ndarray, dst: np.ndarray, m: int) -> None:
    """dst = Plonky3's external layer of src, lane by lane over the first m columns of (12, lanes)."""
    for b in range(0, WIDTH, 4):
        x0, x1, x2, x3 = src[b], src[b + 1], src[b + 2], src[b + 3]
        _external_block(x0, x1, x2, x3, dst[b], dst[b + 1], dst[b + 2], dst[b + 3], m)
    for k in range(4):
        _add_block_sums(dst[k], dst[k + 4], dst[k + 8], m)


@njit(cache=True, nogil=True)
def internal_layer(state, diag, total, m) -> None:
    """state[i] = diag[i]·state[i] + Σ state, in place; `total` is scratch of m elements."""
    for r in range(m):
        total[r] = state[0][r]
    for i in range(1, WIDTH):
        lane = state[i]
        for r in range(m):
            total[r] = f.add(total[r], lane[r])
    for i in range(WIDTH):
        lane = state[i]
        d = diag[i]
        for r in range(m):
            lane[r] = f.add(f.mul(lane[r], d), total[r])


@njit(cache=True, nogil=True)
def _sbox_lane(lane, rc, m) -> None:
    for r in range(m):
        x = f.add(lane[r], rc)
        x3 = f.mul(f.mul(x, x), x)
        lane[r] = f.mul(f.mul(x3, x3), x)


@njit(cache=True, nogil=True)
def _copy_state(src, dst, m) -> None:
    for i in range(WIDTH):
        a, b = src[i], dst[i]
        for r in range(m):
            b[r] = a[r]


@njit(cache=True, nogil=True)
def _full_rounds(state, scratch, constants, m) -> None:
    for j in range(constants.shape[0]):
        for i in range(WIDTH):
            _sbox_lane(state[i], constants[j, i], m)
        external_layer(state, scratch, m)
        _copy_state(scratch, state, m)


@njit(cache=True, nogil=True)
def permute_lanes(state, scratch, m) -> None:
    """Poseidon2 width 12 on the first m columns of `state` (12, lanes), in place; `scratch` is
    another (12, lanes) array."""
    external_layer(state, scratch, m)
    _copy_state(scratch, state, m)
    _full_rounds(state, scratch, RC_INITIAL, m)
    for j in range(RC_INTERNAL.shape[0]):
        _sbox_lane(state[0], RC_INTERNAL[j], m)
        internal_layer(state, DIAG, scratch[0], m)
    _full_rounds(state, scratch, RC_FINAL, m)


@njit(cache=True, nogil=True)
def sponge_columns_range(lo, hi, init, prefix, columns, out) -> None:
    """out[i] = the overwrite sponge (from state `init`) of prefix[i] ‖ columns[:, i], first 4
    output elements, for rows i in [lo, hi), LANES rows at a time."""
    k = prefix.shape[1]
    n = k + columns.shape[0]
    state = np.empty((WIDTH, LANES), dtype=np.uint64)
    scratch = np.empty((WIDTH, LANES), dtype=np.uint64)
    for row in range(lo, hi, LANES):
        m = min(LANES, hi - row)
        for i in range(WIDTH):
            for r in range(m):
                state[i, r] = init[i]
        position = 0
        while True:
            for j in range(RATE):
                word = position + j
                lane = state[j]
                if word < k:
                    for r in range(m):
                        lane[r] = prefix[row + r, word]
                elif word < n:
                    column = columns[word - k]
                    for r in range(m):
                        lane[r] = column[row + r]
                else:
                    for r in range(m):
                        lane[r] = 0
            permute_lanes(state, scratch, m)
            position += RATE
            if position >= n:
                break
        for r in range(m):
            for j in range(4):
                out[row + r, j] = state[j, r]


def sponge_columns(domain: bytes | str, columns: np.ndarray, prefix: np.ndarray | None = None) -> np.ndarray:
    """`poseidon2.sponge_hash(domain, prefix[i] ‖ columns[:, i])` (4 elements) of every row i of a
    column-major matrix (m, n) of canonical elements: shape (n, 4)."""
    from zkpor.field.parallel import parallel_ranges
    from zkpor.hash.poseidon2_batch import any_noncanonical

    columns = np.ascontiguousarray(columns, dtype=np.uint64)
    n = columns.shape[1]
    prefix = np.zeros((n, 0), dtype=np.uint64) if prefix is None else np.ascontiguousarray(prefix)
    if prefix.shape[0] != n:
        raise ValueError("prefix and columns must have the same number of rows")
    if any_noncanonical(columns) or any_noncanonical(prefix):
        raise ValueError("a hashed value is >= p (not a canonical Goldilocks element)")
    length = prefix.shape[1] + columns.shape[0]
    init = np.array(reference.sponge_initial_state(domain, length), dtype=np.uint64)
    out = np.empty((n, 4), dtype=np.uint64)

    def groups(lo: int, hi: int) -> None:
        sponge_columns_range(lo * LANES, min(n, hi * LANES), init, prefix, columns, out)

    parallel_ranges(groups, -(-n // LANES), grain=4)
    return out
