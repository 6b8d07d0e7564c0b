"""Shared strategies and reference implementations for the field tests (plain Python ints)."""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

P = 0xFFFF_FFFF_0000_0001
W = 7

# values where carries, borrows and the 2^32 / 2^64 wrap-arounds of the reductions happen
EDGES = [
    0,
    1,
    2,
    3,
    P - 1,
    P - 2,
    P // 2,
    P // 2 + 1,
    2**32 - 1,
    2**32,
    2**32 + 1,
    2**63 - 1,
    2**63,
    2**63 + 1,
    2**64 - 2**33,
    P - 2**32,
]
# uint64 values that are not canonical: only canonical() and the multiplication accept them
NON_CANONICAL = [P, P + 1, P + 2**31, 2**64 - 2, 2**64 - 1]

# No per-example deadline: the first example of a test may include compiling (or loading from
# numba's cache) the kernels it calls.
relaxed = settings(deadline=None)

elements = st.one_of(st.sampled_from(EDGES), st.integers(0, P - 1))
nonzero_elements = elements.filter(lambda v: v != 0)
any_u64 = st.one_of(st.sampled_from(EDGES + NON_CANONICAL), st.integers(0, 2**64 - 1))
ext_elements = st.tuples(elements, elements)


def arr(values) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


def naive_ext_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """Schoolbook product in F_p[x]/(x^2 - 7), written independently of the code under test."""
    a0, a1 = a
    b0, b1 = b
    return ((a0 * b0 + W * a1 * b1) % P, (a0 * b1 + a1 * b0) % P)


def naive_ext_pow(a: tuple[int, int], e: int) -> tuple[int, int]:
    result = (1, 0)
    for _ in range(e):
        result = naive_ext_mul(result, a)
    return result


def naive_ext_inv(a: tuple[int, int]) -> tuple[int, int]:
    """By brute force on the norm map: (a0 + a1 x)^-1 = a^(P^2 - 2)."""
    result, base, e = (1, 0), a, P * P - 2
    while e:
        if e & 1:
            result = naive_ext_mul(result, base)
        base = naive_ext_mul(base, base)
        e >>= 1
    return result


def naive_eval(coeffs: list[int], x: int) -> int:
    """Σ coeffs[i]·x^i by Horner's rule on Python integers."""
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % P
    return acc
