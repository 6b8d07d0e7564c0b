"""Poseidon2 (width 12) on many states at once, one state per vector lane: the sponge of the rows
of a column-major matrix (Merkle leaves) and the hash of pairs of digests (Merkle nodes).

`poseidon2_batch` permutes one state after another; here a tile of `LANES` states is a (12, LANES)
array and every step of the permutation is a loop over the tile, which LLVM turns into AVX-512 /
AVX2 instructions. Rows of a column-major matrix (the STARK's LDE) are absorbed straight from their
columns, so a Poseidon2 Merkle tree over the LDE needs no transpose. The digests equal
`poseidon2.sponge_hash` (the tests compare them).

Why the loops look the way they do:

- Products are ``llvm_ops.mul_split(a, b_lo, b_hi)`` with b's 32-bit halves *loaded from memory*:
  given two whole words, LLVM 22 recognises the 4 × 32-bit product as one 64 × 64 → 128-bit
  multiply and scalarises it (a ``mulx`` per lane). So each S-box is split into loops that store
  the halves of x and of x³ in scratch rows, which the next loop reads (x² = x·x, x³ = x²·x,
  x⁶ = x³·x³, x⁷ = x⁶·x): 4 vector products. This is ~4× faster per permutation than `mul`.
- The internal layer's diagonal (-2, 1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/4, -1/4, 1/8) is applied
  with doublings and halvings, as in `poseidon2_batch`, not products.
- A partial round is two loops; the second also adds the next round's constant and splits the
  result, so lane 0 makes one trip through memory per round.
- Tiles always compute all `LANES` lanes (constant trip counts, no remainder loops); lanes past the
  last row hold stale canonical values and their digests are not written.

`external_layer` and `internal_layer` (generic diagonal, any m) are also used by the STARK's fused
Poseidon2 gadget kernel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from zkpor.field import llvm_ops as f
from zkpor.field.parallel import parallel_ranges
from zkpor.hash import poseidon2 as reference
from zkpor.hash import poseidon2_constants as C  # noqa: N812 (the constants module)

WIDTH = 12
RATE = 8
DIGEST_LEN = 4
LANES = 32  # states per tile: the state and the S-box scratch (18 KB) stay in L1

RC_INITIAL = np.array(C.RC12_EXTERNAL_INITIAL, dtype=np.uint64)
RC_INTERNAL = np.array(C.RC12_INTERNAL, dtype=np.uint64)
RC_FINAL = np.array(C.RC12_EXTERNAL_FINAL, dtype=np.uint64)
DIAG = np.array(C.DIAG12, dtype=np.uint64)
# each partial round's second loop adds the *next* round's constant (0 after the last round)
_RC_INTERNAL_NEXT = np.append(RC_INTERNAL[1:], np.uint64(0))
for _table in (RC_INITIAL, RC_INTERNAL, RC_FINAL, DIAG, _RC_INTERNAL_NEXT):
    _table.flags.writeable = False

_P = np.uint64(reference.P)
_M32 = np.uint64(0xFFFF_FFFF)
_S32 = np.uint64(32)
_ONE = np.uint64(1)
_HALF = np.uint64((reference.P + 1) // 2)  # 1/2 mod p


# -- linear layers over m columns (shared with the STARK's gadget kernel) ----------------------


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


# -- the permutation on a whole tile ----------------------------------------------------------
#
# A tile is one flat uint64 array: the state, row i (lane i of every state) at i·LANES, then the
# S-box scratch. Every access is the one array at constant offsets, so LLVM sees that the rows of
# a loop cannot overlap and vectorises with no run-time alias checks.

_X = 0  # the state: 12 rows of LANES
_X_LO = WIDTH * LANES  # then, for each of the 12 rows, the halves of x, x³ and x³'s halves
_X_HI = 2 * WIDTH * LANES
_CUBE = 3 * WIDTH * LANES
_CUBE_LO = 4 * WIDTH * LANES
_CUBE_HI = 5 * WIDTH * LANES
TILE_WORDS = 6 * WIDTH * LANES


@njit(cache=True, nogil=True, inline="always")
def _halve(a):
    """a / 2 for canonical a: a >> 1, plus (p + 1) / 2 when a is odd."""
    return (a >> _ONE) + ((np.uint64(0) - (a & _ONE)) & _HALF)


@njit(cache=True, nogil=True)
def _cubes(t, n) -> None:
    """x³ (and its halves) of the first n words of the state, from x's halves (see the module
    docstring: the halves come from memory so the products stay vector ones)."""
    for q in range(n):
        x_lo, x_hi = t[_X_LO + q], t[_X_HI + q]
        x3 = f.mul_split(f.mul_split(t[_X + q], x_lo, x_hi), x_lo, x_hi)
        t[_CUBE + q] = x3
        t[_CUBE_LO + q] = x3 & _M32
        t[_CUBE_HI + q] = x3 >> _S32


@njit(cache=True, nogil=True, inline="always")
def _seventh(t, q):
    """x⁷ = (x³)² · x of state word q, once `_cubes` has run."""
    x6 = f.mul_split(t[_CUBE + q], t[_CUBE_LO + q], t[_CUBE_HI + q])
    return f.mul_split(x6, t[_X_LO + q], t[_X_HI + q])


@njit(cache=True, nogil=True, inline="always")
def _mds4(a, b, c, d):
    """Plonky3's MDSMat4 [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]] on one block of four."""
    ab = f.add(a, b)
    cd = f.add(c, d)
    abcd = f.add(ab, cd)
    y0 = f.add(f.add(abcd, ab), b)  # 2a + 3b + c + d
    y1 = f.add(f.add(abcd, b), f.add(c, c))  # a + 2b + 3c + d
    y2 = f.add(f.add(abcd, cd), d)  # a + b + 2c + 3d
    y3 = f.add(f.add(abcd, a), f.add(a, d))  # 3a + b + c + 2d
    return y0, y1, y2, y3


@njit(cache=True, nogil=True)
def _external_layer(t) -> None:
    """The external layer, in place: each state (a column of the tile) is mixed on its own."""
    for r in range(LANES):
        a0, a1, a2, a3 = _mds4(t[r], t[LANES + r], t[2 * LANES + r], t[3 * LANES + r])
        b0, b1, b2, b3 = _mds4(t[4 * LANES + r], t[5 * LANES + r], t[6 * LANES + r], t[7 * LANES + r])
        c0, c1, c2, c3 = _mds4(t[8 * LANES + r], t[9 * LANES + r], t[10 * LANES + r], t[11 * LANES + r])
        s0 = f.add(f.add(a0, b0), c0)
        s1 = f.add(f.add(a1, b1), c1)
        s2 = f.add(f.add(a2, b2), c2)
        s3 = f.add(f.add(a3, b3), c3)
        t[r], t[4 * LANES + r], t[8 * LANES + r] = f.add(a0, s0), f.add(b0, s0), f.add(c0, s0)
        t[LANES + r], t[5 * LANES + r], t[9 * LANES + r] = f.add(a1, s1), f.add(b1, s1), f.add(c1, s1)
        t[2 * LANES + r], t[6 * LANES + r], t[10 * LANES + r] = f.add(a2, s2), f.add(b2, s2), f.add(c2, s2)
        t[3 * LANES + r], t[7 * LANES + r], t[11 * LANES + r] = f.add(a3, s3), f.add(b3, s3), f.add(c3, s3)


@njit(cache=True, nogil=True)
def _full_rounds(t, constants) -> None:
    for j in range(constants.shape[0]):
        for i in range(WIDTH):
            c = constants[j, i]
            for r in range(i * LANES, (i + 1) * LANES):
                x = f.add(t[_X + r], c)
                t[_X + r] = x
                t[_X_LO + r] = x & _M32
                t[_X_HI + r] = x >> _S32
        _cubes(t, WIDTH * LANES)
        for q in range(WIDTH * LANES):
            t[_X + q] = _seventh(t, q)
        _external_layer(t)


@njit(cache=True, nogil=True)
def _partial_rounds(t) -> None:
    """The 22 partial rounds, in place. Lane 0 of the states is row 0 of the tile."""
    L = LANES
    c0 = RC_INTERNAL[0]
    for r in range(L):
        x = f.add(t[r], c0)
        t[r] = x
        t[_X_LO + r] = x & _M32
        t[_X_HI + r] = x >> _S32
    for j in range(RC_INTERNAL.shape[0]):
        _cubes(t, L)
        following = _RC_INTERNAL_NEXT[j]
        for r in range(L):
            x7 = _seventh(t, r)
            s1, s2, s3, s4 = t[L + r], t[2 * L + r], t[3 * L + r], t[4 * L + r]
            s5, s6, s7, s8 = t[5 * L + r], t[6 * L + r], t[7 * L + r], t[8 * L + r]
            s9, s10, s11 = t[9 * L + r], t[10 * L + r], t[11 * L + r]
            rest = f.add(
                f.add(f.add(f.add(s1, s2), f.add(s3, s4)), f.add(f.add(s5, s6), f.add(s7, s8))),
                f.add(f.add(s9, s10), s11),
            )
            total = f.add(rest, x7)
            t[L + r] = f.add(total, s1)  # 1
            t[2 * L + r] = f.add(total, f.add(s2, s2))  # 2
            t[3 * L + r] = f.add(total, _halve(s3))  # 1/2
            t[4 * L + r] = f.add(total, f.add(f.add(s4, s4), s4))  # 3
            d5 = f.add(s5, s5)
            t[5 * L + r] = f.add(total, f.add(d5, d5))  # 4
            t[6 * L + r] = f.sub(total, _halve(s6))  # -1/2
            t[7 * L + r] = f.sub(total, f.add(f.add(s7, s7), s7))  # -3
            d8 = f.add(s8, s8)
            t[8 * L + r] = f.sub(total, f.add(d8, d8))  # -4
            t[9 * L + r] = f.add(total, _halve(_halve(s9)))  # 1/4
            t[10 * L + r] = f.sub(total, _halve(_halve(s10)))  # -1/4
            t[11 * L + r] = f.add(total, _halve(_halve(_halve(s11))))  # 1/8
            # lane 0: -2·x7 + total = rest - x7; then the next round's constant, and the halves
            x = f.add(f.sub(rest, x7), following)
            t[r] = x
            t[_X_LO + r] = x & _M32
            t[_X_HI + r] = x >> _S32


@njit(cache=True, nogil=True)
def permute_tile(t: np.ndarray) -> None:
    """Poseidon2 width 12 on the LANES states of tile `t` (a flat array of TILE_WORDS whose first
    12·LANES words are the states' lanes, row by row), in place; canonical elements."""
    _external_layer(t)
    _full_rounds(t, RC_INITIAL)
    _partial_rounds(t)
    _full_rounds(t, RC_FINAL)


def new_tile() -> np.ndarray:
    """A zeroed tile for `permute_tile`."""
    return np.zeros(TILE_WORDS, dtype=np.uint64)


# -- sponges over tiles of rows ---------------------------------------------------------------


@njit(cache=True, nogil=True)
def _start(t, init) -> None:
    """Every state's capacity lanes from the initial state `init` (the rate is absorbed over)."""
    for i in range(RATE, WIDTH):
        t[i * LANES : (i + 1) * LANES] = init[i]


@njit(cache=True, nogil=True)
def _digests_out(t, out, row, m) -> None:
    """out[row + r] = lanes 0..3 of state r, for the first m states of the tile."""
    for r in range(m):
        for j in range(DIGEST_LEN):
            out[row + r, j] = t[j * LANES + r]


@njit(cache=True, nogil=True)
def sponge_columns_range(lo, hi, init, prefix, columns, out) -> int:
    """out[i] = the overwrite sponge (from state `init`) of prefix[i] ‖ columns[:, i], first 4
    output elements, for rows i in [lo, hi), LANES rows at a time. Returns how many absorbed words
    are >= p (counted while they are loaded)."""
    k = prefix.shape[1]
    n = k + columns.shape[0]
    t = np.zeros(TILE_WORDS, dtype=np.uint64)
    above = 0
    for row in range(lo, hi, LANES):
        m = min(LANES, hi - row)
        _start(t, init)
        position = 0
        while True:
            for j in range(RATE):
                word = position + j
                base = j * LANES
                if word < k:
                    for r in range(m):
                        x = prefix[row + r, word]
                        above += x >= _P
                        t[base + r] = x
                elif word < n:
                    column = columns[word - k]
                    for r in range(m):
                        x = column[row + r]
                        above += x >= _P
                        t[base + r] = x
                else:
                    t[base : base + LANES] = 0
            permute_tile(t)
            position += RATE
            if position >= n:
                break
        _digests_out(t, out, row, m)
    return above


@njit(cache=True, nogil=True)
def hash_pairs_range(lo, hi, init, nodes, out) -> int:
    """out[i] = the sponge (from state `init`) of nodes[2i] ‖ nodes[2i+1] (8 elements, one
    permutation), first 4 elements, for i in [lo, hi). Returns how many words are >= p."""
    t = np.zeros(TILE_WORDS, dtype=np.uint64)
    above = 0
    for row in range(lo, hi, LANES):
        m = min(LANES, hi - row)
        _start(t, init)
        for r in range(m):
            for j in range(RATE):
                x = nodes[2 * (row + r) + j // DIGEST_LEN, j % DIGEST_LEN]
                above += x >= _P
                t[j * LANES + r] = x
        permute_tile(t)
        _digests_out(t, out, row, m)
    return above


def _tiles(n: int) -> int:
    return -(-n // LANES)


def sponge_columns(domain: bytes | str, columns: np.ndarray, prefix: np.ndarray | None = None) -> np.ndarray:
    """`poseidon2.sponge_hash(domain, prefix[i] ‖ columns[:, i])` (4 elements) of every row i of a
    column-major matrix (m, n) of canonical elements: shape (n, 4)."""
    if not isinstance(columns, np.ndarray) or columns.dtype != np.uint64 or columns.ndim != 2:
        raise ValueError("columns must be a 2-D numpy uint64 array")
    columns = np.ascontiguousarray(columns)
    n = columns.shape[1]
    if prefix is None:
        prefix = np.zeros((n, 0), dtype=np.uint64)
    elif not isinstance(prefix, np.ndarray) or prefix.dtype != np.uint64 or prefix.ndim != 2:
        raise ValueError("prefix must be a 2-D numpy uint64 array")
    if prefix.shape[0] != n:
        raise ValueError("prefix and columns must have the same number of rows")
    prefix = np.ascontiguousarray(prefix)
    length = prefix.shape[1] + columns.shape[0]
    init = np.array(reference.sponge_initial_state(domain, length), dtype=np.uint64)
    out = np.empty((n, DIGEST_LEN), dtype=np.uint64)

    def tiles(lo: int, hi: int) -> int:
        return sponge_columns_range(lo * LANES, min(n, hi * LANES), init, prefix, columns, out)

    if sum(parallel_ranges(tiles, _tiles(n), grain=4)):
        raise ValueError("a hashed value is >= p (not a canonical Goldilocks element)")
    return out


def hash_pairs(domain: bytes | str, nodes: np.ndarray) -> np.ndarray:
    """One Merkle level: row i is `poseidon2.sponge_hash(domain, nodes[2i] ‖ nodes[2i+1])`;
    (2n, 4) canonical digests -> (n, 4)."""
    if not isinstance(nodes, np.ndarray) or nodes.dtype != np.uint64 or nodes.ndim != 2:
        raise ValueError("nodes must be a 2-D numpy uint64 array")
    if nodes.shape[1] != DIGEST_LEN or nodes.shape[0] % 2:
        raise ValueError(f"nodes must have {DIGEST_LEN} columns and an even number of rows")
    nodes = np.ascontiguousarray(nodes)
    n = nodes.shape[0] // 2
    init = np.array(reference.sponge_initial_state(domain, 2 * DIGEST_LEN), dtype=np.uint64)
    out = np.empty((n, DIGEST_LEN), dtype=np.uint64)

    def tiles(lo: int, hi: int) -> int:
        return hash_pairs_range(lo * LANES, min(n, hi * LANES), init, nodes, out)

    if sum(parallel_ranges(tiles, _tiles(n), grain=4)):
        raise ValueError("a node is >= p (not a canonical Goldilocks element)")
    return out
