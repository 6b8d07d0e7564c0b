"""Scalar Goldilocks arithmetic as numba functions, inlined into every kernel that needs it.

Values are ``np.uint64`` and canonical (``< P``) unless a function says otherwise. Every constant
below is an ``np.uint64`` on purpose: numba types ``uint64 op int64`` as float64, which would
silently lose precision.
"""

import numpy as np

from zkpor.field.jit import njit

P_INT = 0xFFFF_FFFF_0000_0001
P = np.uint64(P_INT)
EPSILON = np.uint64(0xFFFF_FFFF)  # 2^64 mod P, used to fold carries and borrows
MASK32 = np.uint64(0xFFFF_FFFF)
SHIFT32 = np.uint64(32)
ZERO = np.uint64(0)
ONE = np.uint64(1)


@njit(inline="always", cache=True)
def canonical(a: np.uint64) -> np.uint64:
    """Map any uint64 (possibly >= P) to its canonical representative."""
    return a - P if a >= P else a


@njit(inline="always", cache=True)
def add(a: np.uint64, b: np.uint64) -> np.uint64:
    s = a + b
    if s < a:  # wrapped past 2^64: 2^64 = EPSILON (mod P); a + b - P < P so no second wrap
        s += EPSILON
    if s >= P:
        s -= P
    return s


@njit(inline="always", cache=True)
def sub(a: np.uint64, b: np.uint64) -> np.uint64:
    d = a - b
    if a < b:  # uint64 wrap-around makes this a - b + P
        d += P
    return d


@njit(inline="always", cache=True)
def neg(a: np.uint64) -> np.uint64:
    return ZERO if a == ZERO else P - a


@njit(inline="always", cache=True)
def reduce128(lo: np.uint64, hi: np.uint64) -> np.uint64:
    """Reduce hi·2^64 + lo using 2^64 = 2^32 - 1 and 2^96 = -1 (mod P)."""
    hi_hi = hi >> SHIFT32
    hi_lo = hi & MASK32
    t0 = lo - hi_hi
    if lo < hi_hi:  # borrowed 2^64, give back EPSILON; t0 >= 2^64 - 2^32 here, no underflow
        t0 -= EPSILON
    t1 = hi_lo * EPSILON
    t2 = t0 + t1
    if t2 < t1:  # carried 2^64; the sum stays below 2^64 after adding EPSILON
        t2 += EPSILON
    if t2 >= P:
        t2 -= P
    return t2


@njit(inline="always", cache=True)
def mul_wide(a: np.uint64, b: np.uint64) -> tuple[np.uint64, np.uint64]:
    """Full 64x64 -> 128-bit product as (lo, hi), from four 32x32 products (numba has no u128)."""
    a_lo = a & MASK32
    a_hi = a >> SHIFT32
    b_lo = b & MASK32
    b_hi = b >> SHIFT32
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    hh = a_hi * b_hi
    mid = lh + (ll >> SHIFT32) + (hl & MASK32)  # <= (2^32-1)^2 + 2(2^32-1) < 2^64
    lo = (mid << SHIFT32) | (ll & MASK32)
    hi = hh + (mid >> SHIFT32) + (hl >> SHIFT32)
    return lo, hi


@njit(inline="always", cache=True)
def mul(a: np.uint64, b: np.uint64) -> np.uint64:
    lo, hi = mul_wide(a, b)
    return reduce128(lo, hi)


@njit(inline="always", cache=True)
def square(a: np.uint64) -> np.uint64:
    return mul(a, a)


@njit(cache=True)
def power(a: np.uint64, e: np.uint64) -> np.uint64:
    result = ONE
    base = a
    while e > ZERO:
        if e & ONE:
            result = mul(result, base)
        base = mul(base, base)
        e >>= ONE
    return result


@njit(cache=True)
def inverse(a: np.uint64) -> np.uint64:
    """a^(P-2); the inverse of 0 is reported as 0 (callers check for zero where it matters)."""
    return power(a, P - np.uint64(2))
