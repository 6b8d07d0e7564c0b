"""Poseidon2 over Goldilocks with numba: many permutations, sponge hashes and compressions at once.

Computes exactly the functions of `zkpor.hash.poseidon2` (the pure-Python reference; see its
docstring for the constructions), on ``uint64`` arrays, in parallel over states.

Two layers:

- the numpy API, `permute_batch`, `sponge_hash_batch`, `compress_batch`, `compress_pairs`, which
  validate their inputs (shape, dtype, canonical elements), run on the thread pool of
  `zkpor.field.parallel` and return new arrays;
- numba functions that other numba kernels call on one state (a 1-D uint64 array, modified in
  place), e.g. an AIR that writes one permutation per trace row: `permute12_inplace`,
  `permute8_inplace`, and the round pieces `full_round12_inplace(s, rc, r)`,
  `partial_round12_inplace(s, c)`, `external_layer12_inplace`, `internal_layer12_inplace` (and
  their width-8 twins), `sbox7`. The constants are exported as read-only numpy arrays for such AIRs:
  `RC12_EXTERNAL_INITIAL` (4, 12), `RC12_INTERNAL` (22,), `RC12_EXTERNAL_FINAL` (4, 12), `DIAG12`
  (12,), and likewise for width 8. One permutation is: external layer; 4 full rounds with
  RC_EXTERNAL_INITIAL; 22 partial rounds with RC_INTERNAL; 4 full rounds with RC_EXTERNAL_FINAL.
  They are plain ``@njit`` functions (LLVM inlines them into the caller); numba's
  ``inline="always"`` made the permutation take minutes to compile.

Speed notes (why the kernels look the way they do; ~1.2-1.5 us a width-12 permutation a core):

- Additions are computed as ``a - (p - b)`` plus p on a borrow (see `_add`).
- Inside the S-box the intermediate products stay *lazily reduced* (any uint64 congruent to the
  value): only the result is made canonical, saving a compare-and-subtract per product.
- The 22 partial rounds run on local variables rather than the array (`_partial_rounds12`), and
  the sum of lanes 1..11, which does not depend on the S-box of lane 0, is computed first.
- The internal diagonal entries are -2, 1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/4, -1/4, 1/8 (width 12)
  and -2, 1, 2, 1/2, 3, -1/2, -3, -4 (width 8): multiplying by them is done with doublings,
  halvings and negations instead of full products (as Plonky3 does). A test checks these
  hand-written layers against the generic ``D[i]*x[i] + sum`` with `DIAG12` / `DIAG8`.
"""

from __future__ import annotations

import numpy as np

from zkpor.field.jit import njit
from zkpor.field.parallel import parallel_ranges
from zkpor.field.scalar import P_INT
from zkpor.hash import poseidon2 as _ref
from zkpor.hash import poseidon2_constants as _consts

# Module constants are np.uint64 on purpose: numba types `uint64 op int64` as float64.
_P = np.uint64(P_INT)
_EPSILON = np.uint64(0xFFFF_FFFF)  # 2^64 mod p
_MASK32 = np.uint64(0xFFFF_FFFF)
_S32 = np.uint64(32)
_ONE = np.uint64(1)
_HALF = np.uint64((P_INT + 1) // 2)  # 1/2 mod p

RC12_EXTERNAL_INITIAL = np.array(_consts.RC12_EXTERNAL_INITIAL, dtype=np.uint64)
RC12_INTERNAL = np.array(_consts.RC12_INTERNAL, dtype=np.uint64)
RC12_EXTERNAL_FINAL = np.array(_consts.RC12_EXTERNAL_FINAL, dtype=np.uint64)
DIAG12 = np.array(_consts.DIAG12, dtype=np.uint64)
RC8_EXTERNAL_INITIAL = np.array(_consts.RC8_EXTERNAL_INITIAL, dtype=np.uint64)
RC8_INTERNAL = np.array(_consts.RC8_INTERNAL, dtype=np.uint64)
RC8_EXTERNAL_FINAL = np.array(_consts.RC8_EXTERNAL_FINAL, dtype=np.uint64)
DIAG8 = np.array(_consts.DIAG8, dtype=np.uint64)
for _a in (RC12_EXTERNAL_INITIAL, RC12_INTERNAL, RC12_EXTERNAL_FINAL, DIAG12):
    _a.flags.writeable = False
for _a in (RC8_EXTERNAL_INITIAL, RC8_INTERNAL, RC8_EXTERNAL_FINAL, DIAG8):
    _a.flags.writeable = False

RATE = _ref.RATE
DIGEST_LEN = _ref.DIGEST_LEN


# ---------------------------------------------------------------------------------------------
# Scalar field helpers. `zkpor.field.scalar` has the canonical versions; these lazy variants
# exist only for the hot loop of the permutation.
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _add(a: np.uint64, b: np.uint64) -> np.uint64:
    """a + b for canonical a, b; canonical result.

    Computed as a - (p - b), adding p back on a borrow: one subtraction's borrow decides, where
    the textbook form needs a carry test and a compare with p (~15 % faster permutations).
    """
    nb = _P - b
    r = a - nb
    if a < nb:  # a + b < p: r wrapped to a + b - p + 2^64; adding p wraps it back to a + b
        r += _P
    return r


@njit(cache=True)
def _add_lazy(a: np.uint64, b: np.uint64) -> np.uint64:
    """a + b for canonical a, b, lazily reduced (< 2^64 but maybe >= p): feeds a product."""
    s = a + b
    if s < a:  # a + b - 2^64 + EPSILON < 2^64 since a, b < p
        s += _EPSILON
    return s


@njit(cache=True)
def _sub(a: np.uint64, b: np.uint64) -> np.uint64:
    d = a - b
    if a < b:
        d += _P
    return d


@njit(cache=True)
def _double(a: np.uint64) -> np.uint64:
    return _add(a, a)


@njit(cache=True)
def _halve(a: np.uint64) -> np.uint64:
    """a / 2 for canonical a: (a >> 1) if a is even, else (a + p) / 2 = (a >> 1) + (p + 1) / 2."""
    return (a >> _ONE) + (a & _ONE) * _HALF


@njit(cache=True)
def _reduce128_lazy(lo: np.uint64, hi: np.uint64) -> np.uint64:
    """hi*2^64 + lo reduced to *some* uint64 congruent mod p (maybe >= p).

    Uses 2^64 = 2^32 - 1 and 2^96 = -1 (mod p). Same steps as the canonical reduction in
    zkpor.field.scalar without its final compare, which the S-box only needs once at the end.
    """
    hi_hi = hi >> _S32
    hi_lo = hi & _MASK32
    t0 = lo - hi_hi
    if lo < hi_hi:  # borrowed 2^64; t0 >= 2^64 - 2^32 here, so subtracting EPSILON cannot wrap
        t0 -= _EPSILON
    t1 = (hi_lo << _S32) - hi_lo  # hi_lo * EPSILON
    t2 = t0 + t1
    if t2 < t1:  # carried 2^64; t1 <= 2^64 - 2^33 + 1 so adding EPSILON cannot wrap again
        t2 += _EPSILON
    return t2


@njit(cache=True)
def _mul_lazy(a: np.uint64, b: np.uint64) -> np.uint64:
    """a * b for any uint64 a, b (canonical or not); lazily reduced result."""
    a_lo = a & _MASK32
    a_hi = a >> _S32
    b_lo = b & _MASK32
    b_hi = b >> _S32
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    hh = a_hi * b_hi
    mid = lh + (ll >> _S32) + (hl & _MASK32)  # < 2^64, no carry lost
    lo = (mid << _S32) | (ll & _MASK32)
    hi = hh + (mid >> _S32) + (hl >> _S32)
    # LLVM recognises this as one 64x64->128 multiply (mulx on x86-64).
    return _reduce128_lazy(lo, hi)


@njit(cache=True)
def _canonical(a: np.uint64) -> np.uint64:
    return a - _P if a >= _P else a


@njit(cache=True)
def sbox7(x: np.uint64) -> np.uint64:
    """x^7 for any uint64 x (canonical or not); canonical result. Three products stay lazy."""
    x2 = _mul_lazy(x, x)
    x3 = _mul_lazy(x2, x)
    x4 = _mul_lazy(x2, x2)
    return _canonical(_mul_lazy(x3, x4))


# ---------------------------------------------------------------------------------------------
# Linear layers and rounds on one state (a 1-D uint64 array view of 8 or 12 canonical elements).
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _mds4_block(s: np.ndarray, b: int) -> None:
    """Plonky3's MDSMat4 [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]] on s[b:b+4], in place."""
    x0 = s[b]
    x1 = s[b + 1]
    x2 = s[b + 2]
    x3 = s[b + 3]
    t01 = _add(x0, x1)
    t23 = _add(x2, x3)
    t0123 = _add(t01, t23)
    t01123 = _add(t0123, x1)
    t01233 = _add(t0123, x3)
    s[b] = _add(t01123, t01)  # 2x0 + 3x1 + x2 + x3
    s[b + 1] = _add(t01123, _double(x2))  # x0 + 2x1 + 3x2 + x3
    s[b + 2] = _add(t01233, t23)  # x0 + x1 + 2x2 + 3x3
    s[b + 3] = _add(t01233, _double(x0))  # 3x0 + x1 + x2 + 2x3


@njit(cache=True)
def external_layer12_inplace(s: np.ndarray) -> None:
    """The width-12 external matrix circ(2*M4, M4, M4): M4 on each block, then column sums."""
    _mds4_block(s, 0)
    _mds4_block(s, 4)
    _mds4_block(s, 8)
    for k in range(4):
        t = _add(_add(s[k], s[k + 4]), s[k + 8])
        s[k] = _add(s[k], t)
        s[k + 4] = _add(s[k + 4], t)
        s[k + 8] = _add(s[k + 8], t)


@njit(cache=True)
def external_layer8_inplace(s: np.ndarray) -> None:
    """The width-8 external matrix circ(2*M4, M4)."""
    _mds4_block(s, 0)
    _mds4_block(s, 4)
    for k in range(4):
        t = _add(s[k], s[k + 4])
        s[k] = _add(s[k], t)
        s[k + 4] = _add(s[k + 4], t)


@njit(cache=True)
def _diag12_plus_sum(s: np.ndarray, s0: np.uint64, total: np.uint64) -> None:
    """s[i] <- DIAG12[i] * s[i] + total, with lane 0 taken from s0; small-constant arithmetic."""
    s[0] = _sub(total, _double(s0))  # -2
    s[1] = _add(total, s[1])  # 1
    s[2] = _add(total, _double(s[2]))  # 2
    s[3] = _add(total, _halve(s[3]))  # 1/2
    s[4] = _add(total, _add(_double(s[4]), s[4]))  # 3
    s[5] = _add(total, _double(_double(s[5])))  # 4
    s[6] = _sub(total, _halve(s[6]))  # -1/2
    s[7] = _sub(total, _add(_double(s[7]), s[7]))  # -3
    s[8] = _sub(total, _double(_double(s[8])))  # -4
    s[9] = _add(total, _halve(_halve(s[9])))  # 1/4
    s[10] = _sub(total, _halve(_halve(s[10])))  # -1/4
    s[11] = _add(total, _halve(_halve(_halve(s[11]))))  # 1/8


@njit(cache=True)
def _diag8_plus_sum(s: np.ndarray, s0: np.uint64, total: np.uint64) -> None:
    """s[i] <- DIAG8[i] * s[i] + total, with lane 0 taken from s0."""
    s[0] = _sub(total, _double(s0))  # -2
    s[1] = _add(total, s[1])  # 1
    s[2] = _add(total, _double(s[2]))  # 2
    s[3] = _add(total, _halve(s[3]))  # 1/2
    s[4] = _add(total, _add(_double(s[4]), s[4]))  # 3
    s[5] = _sub(total, _halve(s[5]))  # -1/2
    s[6] = _sub(total, _add(_double(s[6]), s[6]))  # -3
    s[7] = _sub(total, _double(_double(s[7])))  # -4


@njit(cache=True)
def _sum12_rest(s: np.ndarray) -> np.uint64:
    """s[1] + ... + s[11], as a tree so the additions do not form one long dependency chain."""
    a = _add(_add(s[1], s[2]), _add(s[3], s[4]))
    b = _add(_add(s[5], s[6]), _add(s[7], s[8]))
    c = _add(_add(s[9], s[10]), s[11])
    return _add(_add(a, b), c)


@njit(cache=True)
def _sum8_rest(s: np.ndarray) -> np.uint64:
    """s[1] + ... + s[7]."""
    return _add(_add(_add(s[1], s[2]), _add(s[3], s[4])), _add(_add(s[5], s[6]), s[7]))


@njit(cache=True)
def internal_layer12_inplace(s: np.ndarray) -> None:
    """The width-12 internal matrix 1 + diag(DIAG12): s[i] <- DIAG12[i]*s[i] + sum(s)."""
    _diag12_plus_sum(s, s[0], _add(s[0], _sum12_rest(s)))


@njit(cache=True)
def internal_layer8_inplace(s: np.ndarray) -> None:
    """The width-8 internal matrix 1 + diag(DIAG8)."""
    _diag8_plus_sum(s, s[0], _add(s[0], _sum8_rest(s)))


@njit(cache=True)
def full_round12_inplace(s: np.ndarray, rc: np.ndarray, r: int) -> None:
    """One full round with the constants rc[r] (rc: (rounds, 12)): add, S-box every lane, external layer.

    Takes the 2-D table and a round index rather than a row view: a view would cost reference
    counting calls on every round.
    """
    for i in range(12):
        s[i] = sbox7(_add_lazy(s[i], rc[r, i]))
    external_layer12_inplace(s)


@njit(cache=True)
def full_round8_inplace(s: np.ndarray, rc: np.ndarray, r: int) -> None:
    """One width-8 full round with the constants rc[r] (rc: (rounds, 8))."""
    for i in range(8):
        s[i] = sbox7(_add_lazy(s[i], rc[r, i]))
    external_layer8_inplace(s)


@njit(cache=True)
def partial_round12_inplace(s: np.ndarray, c: np.uint64) -> None:
    """One partial round: add c to lane 0, S-box on lane 0, internal layer."""
    rest = _sum12_rest(s)  # independent of the S-box below: computed first so they overlap
    s0 = sbox7(_add_lazy(s[0], c))
    _diag12_plus_sum(s, s0, _add(rest, s0))


@njit(cache=True)
def partial_round8_inplace(s: np.ndarray, c: np.uint64) -> None:
    rest = _sum8_rest(s)
    s0 = sbox7(_add_lazy(s[0], c))
    _diag8_plus_sum(s, s0, _add(rest, s0))


@njit(cache=True)
def _partial_rounds12(s: np.ndarray) -> None:
    """All 22 partial rounds, the state in local variables.

    The same arithmetic as 22 calls of `partial_round12_inplace`, but registers instead of array
    stores and loads on the critical path, which these latency-bound rounds feel (~6 %).
    """
    s0, s1, s2, s3, s4, s5 = s[0], s[1], s[2], s[3], s[4], s[5]
    s6, s7, s8, s9, s10, s11 = s[6], s[7], s[8], s[9], s[10], s[11]
    for r in range(22):
        rest = _add(
            _add(_add(_add(s1, s2), _add(s3, s4)), _add(_add(s5, s6), _add(s7, s8))),
            _add(_add(s9, s10), s11),
        )
        x = sbox7(_add_lazy(s0, RC12_INTERNAL[r]))
        total = _add(rest, x)
        s0 = _sub(rest, x)  # -2*x + total = rest - x: one step after the S-box, not three
        s1 = _add(total, s1)  # 1
        s2 = _add(total, _double(s2))  # 2
        s3 = _add(total, _halve(s3))  # 1/2
        s4 = _add(total, _add(_double(s4), s4))  # 3
        s5 = _add(total, _double(_double(s5)))  # 4
        s6 = _sub(total, _halve(s6))  # -1/2
        s7 = _sub(total, _add(_double(s7), s7))  # -3
        s8 = _sub(total, _double(_double(s8)))  # -4
        s9 = _add(total, _halve(_halve(s9)))  # 1/4
        s10 = _sub(total, _halve(_halve(s10)))  # -1/4
        s11 = _add(total, _halve(_halve(_halve(s11))))  # 1/8
    s[0], s[1], s[2], s[3], s[4], s[5] = s0, s1, s2, s3, s4, s5
    s[6], s[7], s[8], s[9], s[10], s[11] = s6, s7, s8, s9, s10, s11


@njit(cache=True)
def _partial_rounds8(s: np.ndarray) -> None:
    """All 22 width-8 partial rounds, the state in local variables (see `_partial_rounds12`)."""
    s0, s1, s2, s3, s4, s5, s6, s7 = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
    for r in range(22):
        rest = _add(_add(_add(s1, s2), _add(s3, s4)), _add(_add(s5, s6), s7))
        x = sbox7(_add_lazy(s0, RC8_INTERNAL[r]))
        total = _add(rest, x)
        s0 = _sub(rest, x)  # -2*x + total = rest - x: one step after the S-box, not three
        s1 = _add(total, s1)  # 1
        s2 = _add(total, _double(s2))  # 2
        s3 = _add(total, _halve(s3))  # 1/2
        s4 = _add(total, _add(_double(s4), s4))  # 3
        s5 = _sub(total, _halve(s5))  # -1/2
        s6 = _sub(total, _add(_double(s6), s6))  # -3
        s7 = _sub(total, _double(_double(s7)))  # -4
    s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = s0, s1, s2, s3, s4, s5, s6, s7


@njit(cache=True)
def permute12_inplace(s: np.ndarray) -> None:
    """Plonky3's default width-12 Goldilocks Poseidon2 on one state of 12 canonical elements."""
    external_layer12_inplace(s)
    for r in range(4):
        full_round12_inplace(s, RC12_EXTERNAL_INITIAL, r)
    _partial_rounds12(s)
    for r in range(4):
        full_round12_inplace(s, RC12_EXTERNAL_FINAL, r)


@njit(cache=True)
def permute8_inplace(s: np.ndarray) -> None:
    """Plonky3's default width-8 Goldilocks Poseidon2 on one state of 8 canonical elements."""
    external_layer8_inplace(s)
    for r in range(4):
        full_round8_inplace(s, RC8_EXTERNAL_INITIAL, r)
    _partial_rounds8(s)
    for r in range(4):
        full_round8_inplace(s, RC8_EXTERNAL_FINAL, r)


# ---------------------------------------------------------------------------------------------
# Batched kernels (parallel over states / rows).
# ---------------------------------------------------------------------------------------------


# Serial kernels over a range of rows, releasing the GIL; `parallel_ranges` (the thread pool the
# field kernels share) runs one range per thread. Not numba's prange: see zkpor.field.parallel for
# why (compile time, fork safety of the OpenMP layer, one thread setting for the whole program).


@njit(cache=True, nogil=True)
def _permute12_range(lo: int, hi: int, states: np.ndarray) -> None:
    for i in range(lo, hi):
        permute12_inplace(states[i])


@njit(cache=True, nogil=True)
def _permute8_range(lo: int, hi: int, states: np.ndarray) -> None:
    for i in range(lo, hi):
        permute8_inplace(states[i])


@njit(cache=True, nogil=True)
def _count_noncanonical_range(lo: int, hi: int, flat: np.ndarray) -> int:
    count = 0
    for i in range(lo, hi):
        if flat[i] >= _P:
            count += 1
    return count


def any_noncanonical(a: np.ndarray) -> bool:
    """Whether a uint64 array holds a value >= p."""
    flat = np.ascontiguousarray(a).reshape(-1)
    return sum(parallel_ranges(_count_noncanonical_range, flat.shape[0], flat, grain=1 << 18)) > 0


@njit(cache=True)
def _sponge_one(
    init: np.ndarray, prefix: np.ndarray, row: np.ndarray, out: np.ndarray, s: np.ndarray
) -> None:
    """Sponge of prefix ‖ row from the initial state `init` (see zkpor.hash.poseidon2)."""
    k = prefix.shape[0]
    n = k + row.shape[0]
    for j in range(12):
        s[j] = init[j]
    pos = 0
    while True:
        for j in range(RATE):
            idx = pos + j
            if idx < k:
                s[j] = prefix[idx]
            elif idx < n:
                s[j] = row[idx - k]
            else:
                s[j] = np.uint64(0)
        permute12_inplace(s)
        pos += RATE
        if pos >= n:
            break
    o = 0
    while True:
        take = min(RATE, out.shape[0] - o)
        for j in range(take):
            out[o + j] = s[j]
        o += take
        if o >= out.shape[0]:
            break
        permute12_inplace(s)


@njit(cache=True, nogil=True)
def _sponge_range(
    lo: int, hi: int, init: np.ndarray, prefix: np.ndarray, rows: np.ndarray, out: np.ndarray
) -> None:
    s = np.empty(12, dtype=np.uint64)
    for i in range(lo, hi):
        _sponge_one(init, prefix[i], rows[i], out[i], s)


@njit(cache=True, nogil=True)
def _compress_range(lo: int, hi: int, left: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
    s = np.empty(8, dtype=np.uint64)
    for i in range(lo, hi):
        for j in range(4):
            s[j] = left[i, j]
            s[j + 4] = right[i, j]
        permute8_inplace(s)
        for j in range(4):
            out[i, j] = s[j]


_GRAIN = 256  # permutations per thread below which threads cost more than they save


# ---------------------------------------------------------------------------------------------
# numpy API
# ---------------------------------------------------------------------------------------------


def _as_field_matrix(a: np.ndarray, name: str, n_cols: int | None = None) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype != np.uint64 or a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D numpy uint64 array")
    if n_cols is not None and a.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} columns, not {a.shape[1]}")
    if any_noncanonical(a):
        raise ValueError(f"{name} has an element >= p (not a canonical Goldilocks element)")
    return np.ascontiguousarray(a)


def permute_batch(states: np.ndarray) -> np.ndarray:
    """Permute every row of ``states`` (shape (n, 8) or (n, 12), canonical uint64); new array."""
    if not isinstance(states, np.ndarray) or states.ndim != 2 or states.shape[1] not in (8, 12):
        raise ValueError("states must be a 2-D uint64 array with 8 or 12 columns")
    out = _as_field_matrix(states, "states").copy()
    kernel = _permute12_range if out.shape[1] == 12 else _permute8_range
    parallel_ranges(kernel, out.shape[0], out, grain=_GRAIN)
    return out


def sponge_hash_batch(
    domain: bytes | str, rows: np.ndarray, out_len: int = DIGEST_LEN, prefix: np.ndarray | None = None
) -> np.ndarray:
    """`zkpor.hash.poseidon2.sponge_hash` of every row: shape (n, m) -> (n, out_len).

    With ``prefix`` (shape (n, k)), row i hashes ``prefix[i] ‖ rows[i]`` without building the
    concatenated matrix (the Merkle tree uses this for salts).
    """
    if out_len < 1:
        raise ValueError(f"out_len must be at least 1, not {out_len}")
    rows = _as_field_matrix(rows, "rows")
    if prefix is None:
        prefix = np.zeros((rows.shape[0], 0), dtype=np.uint64)
    else:
        prefix = _as_field_matrix(prefix, "prefix")
        if prefix.shape[0] != rows.shape[0]:
            raise ValueError("prefix and rows must have the same number of rows")
    init = np.array(_ref.sponge_initial_state(domain, prefix.shape[1] + rows.shape[1]), dtype=np.uint64)
    out = np.empty((rows.shape[0], out_len), dtype=np.uint64)
    parallel_ranges(_sponge_range, rows.shape[0], init, prefix, rows, out, grain=_GRAIN)
    return out


def compress_batch(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """`zkpor.hash.poseidon2.compress` row by row: (n, 4), (n, 4) -> (n, 4)."""
    left = _as_field_matrix(left, "left", DIGEST_LEN)
    right = _as_field_matrix(right, "right", DIGEST_LEN)
    if left.shape[0] != right.shape[0]:
        raise ValueError("left and right must have the same number of rows")
    out = np.empty_like(left)
    parallel_ranges(_compress_range, left.shape[0], left, right, out, grain=_GRAIN)
    return out


def compress_pairs(nodes: np.ndarray) -> np.ndarray:
    """One Merkle level: row i of the result is compress(nodes[2i], nodes[2i+1]); (2n, 4) -> (n, 4)."""
    if not isinstance(nodes, np.ndarray) or nodes.ndim != 2 or nodes.shape[0] % 2:
        raise ValueError("nodes must be a 2-D array with an even number of rows")
    return compress_batch(nodes[0::2], nodes[1::2])
