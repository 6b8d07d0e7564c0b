"""Poseidon2 (width 12) on many states at once, one state per vector lane: the sponge of the rows
of a column-major matrix (Merkle leaves) and the hash of pairs of digests (Merkle nodes).

`poseidon2_batch` permutes one state after another; here a tile of `LANES` states is a (12, LANES)
array and every step of the permutation is a loop over the tile, which LLVM turns into AVX-512 /
AVX2 instructions. Rows of a column-major matrix (the STARK's LDE) are absorbed straight from their
columns, so a Poseidon2 Merkle tree over the LDE needs no transpose. The digests equal
`poseidon2.sponge_hash` (the tests compare them).

Why the loops look the way they do (each step measured, AVX-512):

- A tile is one flat array read and written at constant offsets: LLVM then knows that rows do not
  overlap and vectorises every loop with no run-time alias checks (with a 2-D array it gave up).
- Products must not be given two whole words: LLVM 22 recognises the 4 × 32-bit product as one
  64 × 64 → 128-bit multiply and scalarises it (a ``mulx`` per lane). The S-box input x is
  stored with its high 32-bit half, and x⁷ = ((x²·x)²)·x is two loops of
  ``llvm_ops.square_mul_split(a, x, x_hi, eps)`` = a²·x, whose square (three 32-bit products,
  summed without carries) LLVM does not recognise and whose product by x reads x's high half
  from memory (the low half is x itself: a 32-bit vector product reads only the low half). The
  first is left lazily reduced (the second takes any uint64), and both reductions multiply by an
  opaque EPSILON (`llvm_ops.epsilon`): one vector product where LLVM would spend three
  instructions on the constant. Two loops rather than one: shorter dependency chains keep more
  lanes in flight.
- The internal layer's diagonal (-2, 1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/4, -1/4, 1/8) is applied
  with doublings and halvings, as in `poseidon2_batch`, not products.
- The loop that ends a round also adds the next round's constants (lazily reduced: the S-box
  takes any uint64) and splits the result.
- Tiles always compute all `LANES` lanes (constant trip counts, no remainder loops); lanes past the
  last row hold stale canonical values and their digests are not written.

`external_layer` and `internal_layer` (generic diagonal, any m) are also used by the STARK's fused
Poseidon2 gadget kernel.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from zkpor.field import llvm_ops as f
from zkpor.field.jit import njit
from zkpor.field.parallel import parallel_ranges
from zkpor.hash import poseidon2 as reference
from zkpor.hash import poseidon2_constants as C  # noqa: N812 (the constants module)

WIDTH = 12
RATE = 8
DIGEST_LEN = 4
LANES = 32  # states per tile: the state and the S-box scratch (9 KB) stay in L1

RC_INITIAL = np.array(C.RC12_EXTERNAL_INITIAL, dtype=np.uint64)
RC_INTERNAL = np.array(C.RC12_INTERNAL, dtype=np.uint64)
RC_FINAL = np.array(C.RC12_EXTERNAL_FINAL, dtype=np.uint64)
DIAG = np.array(C.DIAG12, dtype=np.uint64)
for _table in (RC_INITIAL, RC_INTERNAL, RC_FINAL, DIAG):
    _table.flags.writeable = False

_P = np.uint64(reference.P)
_ONE = np.uint64(1)
_HALF = np.uint64((reference.P + 1) // 2)  # 1/2 mod p
_EPSILON = np.uint64(0xFFFF_FFFF)  # 2^64 mod p
_S32 = np.uint64(32)


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
# high 32-bit halves of the S-box inputs, then their cubes. Every access is the one array at
# constant offsets, so LLVM sees that the rows of a loop cannot overlap and vectorises with no
# run-time alias checks.

_HI = WIDTH * LANES  # the high halves of the S-box inputs, row by row like the state
_CUBE = 2 * WIDTH * LANES  # the S-box inputs' cubes
TILE_WORDS = 3 * WIDTH * LANES
# What is added to the state after each of the 9 external layers, as tiles (word i·LANES + r is
# lane i's constant): the next full round's constants; after the 4th, the first partial round's on
# lane 0; nothing after the last. The first final round's are added after the partial rounds.
_NEXT = np.zeros((9, WIDTH), dtype=np.uint64)
_NEXT[:4] = RC_INITIAL
_NEXT[4, 0] = RC_INTERNAL[0]
_NEXT[5:8] = RC_FINAL[1:]
_NEXT = np.repeat(_NEXT, LANES, axis=1)
_RC_FINAL_FIRST = np.repeat(RC_FINAL[0], LANES)
# each partial round's loop adds the next round's constant to lane 0 (0 after the last one)
_RC_INTERNAL_NEXT = np.append(RC_INTERNAL[1:], np.uint64(0))
for _table in (_NEXT, _RC_FINAL_FIRST, _RC_INTERNAL_NEXT):
    _table.flags.writeable = False


@njit(cache=True, nogil=True, inline="always")
def _halve(a):
    """a / 2 for canonical a: a >> 1, plus (p + 1) / 2 when a is odd."""
    return (a >> _ONE) + ((np.uint64(0) - (a & _ONE)) & _HALF)


@njit(cache=True, nogil=True, inline="always")
def _add(a, b):
    """a + b mod p for canonical a, b, canonical: a - (p - b), plus p on a borrow (one fewer
    vector instruction than `llvm_ops.add`'s carry test and compare with p)."""
    nb = _P - b
    r = a - nb
    if a < nb:  # a + b < p: r wrapped to a + b - p + 2^64, and adding p wraps it back
        r += _P
    return r


@njit(cache=True, nogil=True, inline="always")
def _add_lazy(x, c):
    """x + c mod p for any uint64 x and canonical c, left lazily reduced (< 2^64, maybe >= p)."""
    s = x + c
    if s < x:  # carried 2^64 = EPSILON mod p; s + EPSILON < 2^64 since c < p
        s += _EPSILON
    return s


@njit(cache=True, nogil=True, inline="always")
def _sub_lazy(x, b):
    """x - b mod p for any uint64 x and canonical b, left lazily reduced: on a borrow the result
    wrapped by 2^64 = EPSILON mod p, and it is > 2^64 - p = EPSILON, so subtracting EPSILON
    cannot borrow again."""
    d = x - b
    if x < b:
        d -= _EPSILON
    return d


@njit(cache=True, nogil=True, inline="always")
def _sbox_input(t, q, x) -> None:
    """Store S-box input x at state word q, and its high half, which `_sbox` reads from memory
    (its products by x take x itself as the low half: they use only its low 32 bits)."""
    t[q] = x
    t[_HI + q] = x >> _S32


@njit(cache=True, nogil=True)
def _sbox(t, n) -> None:
    """x^7 of the S-box inputs in the first n state words, in place: x³ = x²·x in one loop, then
    x⁷ = (x³)²·x in another (short dependency chains: many elements in flight)."""
    eps = f.epsilon()
    for q in range(n):
        t[_CUBE + q] = f.square_mul_split_lazy(t[q], t[q], t[_HI + q], eps)
    for q in range(n):
        t[q] = f.square_mul_split(t[_CUBE + q], t[q], t[_HI + q], eps)


@njit(cache=True, nogil=True)
def _add_constants(t, constants) -> None:
    """Every state word plus its round constant (a tile of them), as S-box inputs."""
    for q in range(WIDTH * LANES):
        _sbox_input(t, q, _add_lazy(t[q], constants[q]))


@njit(cache=True, nogil=True, inline="always")
def _mds4(x0, x1, x2, x3):
    """Plonky3's MDSMat4 [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]] on one block of four, in
    Plonky3's 8 additions and 2 doublings."""
    t01 = _add(x0, x1)
    t23 = _add(x2, x3)
    t0123 = _add(t01, t23)
    t01123 = _add(t0123, x1)
    t01233 = _add(t0123, x3)
    y0 = _add(t01123, t01)  # 2x0 + 3x1 + x2 + x3
    y1 = _add(t01123, _add(x2, x2))  # x0 + 2x1 + 3x2 + x3
    y2 = _add(t01233, t23)  # x0 + x1 + 2x2 + 3x3
    y3 = _add(t01233, _add(x0, x0))  # 3x0 + x1 + x2 + 2x3
    return y0, y1, y2, y3


@njit(cache=True, nogil=True, inline="always")
def _external_mix(t, constants, plus) -> None:
    """The external layer, in place (each state, a column of the tile, mixed on its own), then
    `constants` (a tile) added, as the next S-box inputs. The blocks' sums and outputs are added
    with `plus`: `_add_lazy`, when every output is an S-box input (3 vector instructions an
    addition, not 4: each of these additions has a canonical operand, an output of `_mds4`), or
    `_add` for the last layer, whose outputs are the permutation's (canonical)."""
    L = LANES
    for r in range(L):
        a0, a1, a2, a3 = _mds4(t[r], t[L + r], t[2 * L + r], t[3 * L + r])
        b0, b1, b2, b3 = _mds4(t[4 * L + r], t[5 * L + r], t[6 * L + r], t[7 * L + r])
        c0, c1, c2, c3 = _mds4(t[8 * L + r], t[9 * L + r], t[10 * L + r], t[11 * L + r])
        s0 = plus(plus(a0, b0), c0)
        s1 = plus(plus(a1, b1), c1)
        s2 = plus(plus(a2, b2), c2)
        s3 = plus(plus(a3, b3), c3)
        _sbox_input(t, r, _add_lazy(plus(s0, a0), constants[r]))
        _sbox_input(t, L + r, _add_lazy(plus(s1, a1), constants[L + r]))
        _sbox_input(t, 2 * L + r, _add_lazy(plus(s2, a2), constants[2 * L + r]))
        _sbox_input(t, 3 * L + r, _add_lazy(plus(s3, a3), constants[3 * L + r]))
        _sbox_input(t, 4 * L + r, _add_lazy(plus(s0, b0), constants[4 * L + r]))
        _sbox_input(t, 5 * L + r, _add_lazy(plus(s1, b1), constants[5 * L + r]))
        _sbox_input(t, 6 * L + r, _add_lazy(plus(s2, b2), constants[6 * L + r]))
        _sbox_input(t, 7 * L + r, _add_lazy(plus(s3, b3), constants[7 * L + r]))
        _sbox_input(t, 8 * L + r, _add_lazy(plus(s0, c0), constants[8 * L + r]))
        _sbox_input(t, 9 * L + r, _add_lazy(plus(s1, c1), constants[9 * L + r]))
        _sbox_input(t, 10 * L + r, _add_lazy(plus(s2, c2), constants[10 * L + r]))
        _sbox_input(t, 11 * L + r, _add_lazy(plus(s3, c3), constants[11 * L + r]))


@njit(cache=True, nogil=True)
def _external_layer(t, constants) -> None:
    """An external layer followed by S-boxes: outputs lazily reduced (`_external_mix`)."""
    _external_mix(t, constants, _add_lazy)


@njit(cache=True, nogil=True)
def _external_layer_last(t) -> None:
    """The permutation's last external layer: canonical outputs."""
    _external_mix(t, _NEXT[8], _add)


@njit(cache=True, nogil=True)
def _full_rounds(t, first, rounds) -> None:
    """`rounds` full rounds, from S-box inputs with the first round's constants added; the
    external layers then add _NEXT[first], ... _NEXT[first + rounds - 1]."""
    for j in range(rounds):
        _sbox(t, WIDTH * LANES)
        _external_layer(t, _NEXT[first + j])


@njit(cache=True, nogil=True, inline="always")
def lanes_1_to_11_sum(t, stride, r):
    """Σ lanes 1..11 of state r in a flat tile whose lane i is t[i·stride + r]: the internal layer's
    sum without lane 0 (which the caller adds, often as its S-box output)."""
    s1, s2, s3, s4 = t[stride + r], t[2 * stride + r], t[3 * stride + r], t[4 * stride + r]
    s5, s6, s7, s8 = t[5 * stride + r], t[6 * stride + r], t[7 * stride + r], t[8 * stride + r]
    s9, s10, s11 = t[9 * stride + r], t[10 * stride + r], t[11 * stride + r]
    return _add(
        _add(_add(_add(s1, s2), _add(s3, s4)), _add(_add(s5, s6), _add(s7, s8))),
        _add(_add(s9, s10), s11),
    )


@njit(cache=True, nogil=True, inline="always")
def diagonal_lanes_1_to_11(t, stride, r, total) -> None:
    """Lanes 1..11 of state r (lane i at t[i·stride + r]) become DIAG[i]·lane + total, in place:
    the diagonal (1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/4, -1/4, 1/8) by doublings and halvings, not
    products. Lane 0's -2 is the caller's (its S-box output may not be stored yet)."""
    s1, s2, s3, s4 = t[stride + r], t[2 * stride + r], t[3 * stride + r], t[4 * stride + r]
    s5, s6, s7, s8 = t[5 * stride + r], t[6 * stride + r], t[7 * stride + r], t[8 * stride + r]
    s9, s10, s11 = t[9 * stride + r], t[10 * stride + r], t[11 * stride + r]
    t[stride + r] = _add(s1, total)  # 1
    t[2 * stride + r] = _add(_add(s2, s2), total)  # 2
    t[3 * stride + r] = _add(_halve(s3), total)  # 1/2
    t[4 * stride + r] = _add(_add(_add(s4, s4), s4), total)  # 3
    d5 = _add(s5, s5)
    t[5 * stride + r] = _add(_add(d5, d5), total)  # 4
    t[6 * stride + r] = f.sub(total, _halve(s6))  # -1/2
    t[7 * stride + r] = f.sub(total, _add(_add(s7, s7), s7))  # -3
    d8 = _add(s8, s8)
    t[8 * stride + r] = f.sub(total, _add(d8, d8))  # -4
    t[9 * stride + r] = _add(_halve(_halve(s9)), total)  # 1/4
    t[10 * stride + r] = f.sub(total, _halve(_halve(s10)))  # -1/4
    t[11 * stride + r] = _add(_halve(_halve(_halve(s11))), total)  # 1/8


@njit(cache=True, nogil=True)
def _partial_rounds(t) -> None:
    """The 22 partial rounds, in place, from the S-box input of the first in row 0 of the tile
    (lane 0 of the states). Each round's loop also prepares the next round's S-box input."""
    L = LANES
    eps = f.epsilon()
    for j in range(RC_INTERNAL.shape[0]):
        following = _RC_INTERNAL_NEXT[j]
        for r in range(L):
            t[_CUBE + r] = f.square_mul_split_lazy(t[r], t[r], t[_HI + r], eps)
        for r in range(L):
            x7 = f.square_mul_split(t[_CUBE + r], t[r], t[_HI + r], eps)
            rest = lanes_1_to_11_sum(t, L, r)
            total = _add(rest, x7)
            diagonal_lanes_1_to_11(t, L, r, total)
            # lane 0: -2·x7 + total = rest - x7, plus the next round's constant (added first: it
            # does not wait for x7)
            _sbox_input(t, r, _sub_lazy(_add_lazy(rest, following), x7))


@njit(cache=True, nogil=True)
def permute_tile(t: np.ndarray) -> None:
    """Poseidon2 width 12 on the LANES states of tile `t` (a flat array of TILE_WORDS whose first
    12·LANES words are the states' lanes, row by row), in place; canonical elements."""
    _external_layer(t, _NEXT[0])
    _full_rounds(t, 1, 4)
    _partial_rounds(t)
    _add_constants(t, _RC_FINAL_FIRST)
    _full_rounds(t, 5, 3)
    _sbox(t, WIDTH * LANES)
    _external_layer_last(t)


def new_tile() -> np.ndarray:
    """A zeroed tile for `permute_tile`."""
    return np.zeros(TILE_WORDS, dtype=np.uint64)


# -- sponges over tiles of rows ---------------------------------------------------------------


@intrinsic
def _prefetch(typingctx, matrix, i, j, level):
    """Prefetch the cache line of matrix[i, j] (a 2-D array, in-bounds indices) into every cache
    level (`level` 3) or all but L1 (2): LLVM's ``llvm.prefetch``, a hint with no other effect."""
    if not isinstance(matrix, types.Array) or matrix.ndim != 2 or not isinstance(level, types.IntegerLiteral):
        return None
    locality = ir.Constant(ir.IntType(32), level.literal_value)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        item = cgutils.get_item_pointer(context, builder, array_type, array, args[1:3], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0"
        )
        read, data = ir.Constant(i32, 0), ir.Constant(i32, 1)
        builder.call(function, [builder.bitcast(item, byte_pointer), read, locality, data])
        return context.get_dummy_value()

    return types.void(matrix, i, j, level), codegen


@njit(cache=True, nogil=True, inline="always")
def _prefetch_lanes(columns, c, row, level) -> None:
    """Prefetch columns[c, row : row + LANES] (5 lines cover 32 words at any alignment), rows
    clamped to the matrix."""
    last = columns.shape[1] - 1
    for r in range(0, LANES, 8):
        _prefetch(columns, c, min(row + r, last), level)
    _prefetch(columns, c, min(row + LANES - 1, last), level)


@njit(cache=True, nogil=True)
def _start(t, init) -> None:
    """Every state's capacity lanes from the initial state `init` (the rate is absorbed over)."""
    for i in range(RATE, WIDTH):
        t[i * LANES : (i + 1) * LANES] = init[i]


@njit(cache=True, nogil=True)
def _count_above(t) -> int:
    """How many of the rate lanes' words are >= p (stale lanes of a last tile are canonical)."""
    above = 0
    for q in range(RATE * LANES):
        above += t[q] >= _P
    return above


@njit(cache=True, nogil=True)
def _digests_out(t, out, row, m) -> None:
    """out[row + r] = lanes 0..3 of state r, for the first m states of the tile."""
    for r in range(m):
        for j in range(DIGEST_LEN):
            out[row + r, j] = t[j * LANES + r]


@njit(cache=True, nogil=True)
def sponge_columns_range(lo, hi, init, capacities, columns, out) -> int:
    """out[i] = the overwrite sponge of columns[:, i], first 4 output elements, for rows i in
    [lo, hi), LANES rows at a time: from state `init`, or with `capacities` (n, 4) not empty from
    a zero rate and capacities[i]. Returns how many absorbed words (and capacity words) are >= p
    (counted while they are loaded)."""
    n = columns.shape[0]
    per_row = capacities.shape[0] > 0
    last_column = n - 1
    t = np.zeros(TILE_WORDS, dtype=np.uint64)
    above = 0
    for row in range(lo, hi, LANES):
        m = min(LANES, hi - row)
        _start(t, init)
        if per_row:
            for i in range(WIDTH - RATE):
                for r in range(m):
                    value = capacities[row + r, i]
                    above += value >= _P
                    t[(RATE + i) * LANES + r] = value
        position = 0
        while True:
            for j in range(RATE):
                c = position + j
                base = j * LANES
                if c < n and m == LANES:
                    for r in range(LANES):
                        t[base + r] = columns[c, row + r]
                    # The LDE's columns are hundreds of streams, too many for the hardware
                    # prefetchers: ask for the column of the next block into L1 and this column
                    # of the next tile into L2 (measured: leaves 4-7 % faster at 302 columns).
                    _prefetch_lanes(columns, min(c + RATE, last_column), row, 3)
                    _prefetch_lanes(columns, c, row + LANES, 2)
                elif c < n:
                    for r in range(m):
                        t[base + r] = columns[c, row + r]
                else:
                    t[base : base + LANES] = 0
            above += _count_above(t)
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
                t[j * LANES + r] = nodes[2 * (row + r) + j // DIGEST_LEN, j % DIGEST_LEN]
        above += _count_above(t)
        permute_tile(t)
        _digests_out(t, out, row, m)
    return above


@njit(cache=True, nogil=True)
def pow_search_range(lo, hi, base, seed, shift) -> int:
    """The smallest k in [lo, hi) for which Poseidon2 of `seed` with lane 0 set to the nonce
    base + k (base: uint64) has lane 0 < 2^(64 - shift) (the proof of work of
    `transcript_poseidon2`), or -1."""
    t = np.zeros(TILE_WORDS, dtype=np.uint64)
    for first in range(lo, hi, LANES):
        for i in range(1, WIDTH):
            t[i * LANES : (i + 1) * LANES] = seed[i]
        for r in range(LANES):  # nonces past hi are tried too, and ignored
            t[r] = base + np.uint64(first + r)
        permute_tile(t)
        for r in range(min(LANES, hi - first)):
            if t[r] >> shift == 0:
                return first + r
    return -1


def _tiles(n: int) -> int:
    return -(-n // LANES)


def sponge_columns(domain: bytes | str, columns: np.ndarray) -> np.ndarray:
    """`poseidon2.sponge_hash(domain, columns[:, i])` (4 elements) of every row i of a column-major
    matrix (m, n) of canonical elements: shape (n, 4)."""
    columns = _column_matrix(columns)
    init = np.array(reference.sponge_initial_state(domain, columns.shape[0]), dtype=np.uint64)
    return _sponge_rows(init, np.zeros((0, WIDTH - RATE), dtype=np.uint64), columns)


def sponge_columns_from_capacity(capacities: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """`poseidon2.sponge_from_capacity(capacities[i], columns[:, i])` of every row i of a
    column-major matrix (m, n): each row's sponge starts from its own capacity (4 elements, e.g. a
    salted Merkle leaf's, `merkle_proof.salted_leaf_capacity`); shape (n, 4)."""
    columns = _column_matrix(columns)
    n = columns.shape[1]
    if not isinstance(capacities, np.ndarray) or capacities.dtype != np.uint64 or capacities.shape != (n, 4):
        raise ValueError(f"capacities must be a uint64 array of shape ({n}, 4)")
    init = np.zeros(WIDTH, dtype=np.uint64)
    return _sponge_rows(init, np.ascontiguousarray(capacities), columns)


def _column_matrix(columns: np.ndarray) -> np.ndarray:
    if not isinstance(columns, np.ndarray) or columns.dtype != np.uint64 or columns.ndim != 2:
        raise ValueError("columns must be a 2-D numpy uint64 array")
    return np.ascontiguousarray(columns)


def _sponge_rows(init: np.ndarray, capacities: np.ndarray, columns: np.ndarray) -> np.ndarray:
    n = columns.shape[1]
    out = np.empty((n, DIGEST_LEN), dtype=np.uint64)

    def tiles(lo: int, hi: int) -> int:
        return sponge_columns_range(lo * LANES, min(n, hi * LANES), init, capacities, columns, out)

    if sum(parallel_ranges(tiles, _tiles(n), grain=4)):
        raise ValueError("a hashed value is >= p (not a canonical Goldilocks element)")
    return out


def search_nonce(seed: list[int], bits: int, start: int = 0, batch: int = 1 << 16) -> int:
    """The smallest nonce n >= `start` whose Poseidon2 of `seed` with lane 0 = n has its lane 0's
    top `bits` bits zero (1 <= bits <= 63; `seed`: 12 canonical elements). Tries `batch` nonces at
    a time, split between the threads."""
    if not 1 <= bits <= 63 or len(seed) != WIDTH:
        raise ValueError("search_nonce takes a 12-element seed and 1..63 bits")
    state = np.array(seed, dtype=np.uint64)
    shift = np.uint64(64 - bits)
    for base in range(start, reference.P, batch):
        count = min(batch, reference.P - base)  # nonces are field elements
        first = np.uint64(base)

        def tiles(lo: int, hi: int, first: np.uint64 = first, count: int = count) -> int:
            return pow_search_range(lo * LANES, min(hi * LANES, count), first, state, shift)

        # one range per thread: each stops at its first passing nonce
        found = [k for k in parallel_ranges(tiles, _tiles(count), grain=64, per_thread=1) if k >= 0]
        if found:
            return base + min(found)
    raise RuntimeError("no proof-of-work nonce below p")  # pragma: no cover (2^-bits a try)


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
