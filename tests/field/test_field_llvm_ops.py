"""The LLVM intrinsics against Python integers and against ``zkpor.field.scalar``."""

from __future__ import annotations

import numpy as np
from field_helpers import EDGES, NON_CANONICAL, P, W, any_u64, elements
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from zkpor.field import llvm_ops as ops
from zkpor.field import scalar as fs


@njit(cache=True)
def _apply(a, b, c, d, out):
    """Every intrinsic on (a[i], b[i]) (canonical) and on (c[i], d[i]) (any uint64)."""
    for i in range(a.size):
        out[0, i] = ops.add(a[i], b[i])
        out[1, i] = ops.sub(a[i], b[i])
        out[2, i] = ops.neg(a[i])
        out[3, i] = ops.mul(c[i], d[i])
        out[4, i] = ops.canonical(c[i])
        out[5, i] = ops.reduce128(c[i], d[i])
        lo, hi = ops.mul_wide(c[i], d[i])
        out[6, i] = lo
        out[7, i] = hi
        out[8, i] = ops.square(c[i])
        out[9, i], out[10, i] = ops.ext_mul(a[i], b[i], b[i], a[i])
        out[11, i], out[12, i] = ops.ext_square(a[i], b[i])
        out[13, i], out[14, i] = ops.ext_add(a[i], b[i], b[i], a[i])
        out[15, i], out[16, i] = ops.ext_sub(a[i], b[i], b[i], a[i])
        # the reference scalar module, same inputs
        out[17, i] = fs.add(a[i], b[i])
        out[18, i] = fs.sub(a[i], b[i])
        out[19, i] = fs.mul(c[i], d[i])
        out[20, i] = fs.reduce128(c[i], d[i])
        out[21, i] = ops.mul(7, c[i])  # integer literals are converted to uint64


def _check(a: list[int], b: list[int], c: list[int], d: list[int]) -> None:
    n = len(a)
    out = np.zeros((22, n), dtype=np.uint64)
    _apply(*(np.array(v, dtype=np.uint64) for v in (a, b, c, d)), out)
    r = out.tolist()
    for i in range(n):
        x, y, u, v = a[i], b[i], c[i], d[i]
        assert r[0][i] == (x + y) % P
        assert r[1][i] == (x - y) % P
        assert r[2][i] == -x % P
        assert r[3][i] == u * v % P
        assert r[4][i] == u % P
        assert r[5][i] == (v * 2**64 + u) % P
        assert r[6][i] + (r[7][i] << 64) == u * v
        assert r[8][i] == u * u % P
        assert (r[9][i], r[10][i]) == ((x * y + W * y * x) % P, (x * x + y * y) % P)
        assert (r[11][i], r[12][i]) == ((x * x + W * y * y) % P, 2 * x * y % P)
        assert (r[13][i], r[14][i]) == ((x + y) % P, (y + x) % P)
        assert (r[15][i], r[16][i]) == ((x - y) % P, (y - x) % P)
        assert r[17][i] == r[0][i] and r[18][i] == r[1][i] and r[19][i] == r[3][i] and r[20][i] == r[5][i]
        assert r[21][i] == 7 * u % P


@njit(cache=True)
def _mul_split(c, d, d_lo, d_hi, out):
    eps = ops.epsilon()
    for i in range(c.size):
        out[0, i] = ops.mul_split(c[i], d_lo[i], d_hi[i])
        out[1, i] = ops.square_mul_split(c[i], d_lo[i], d_hi[i], eps)
        out[2, i] = ops.square_mul_split(c[i], d[i], d_hi[i], eps)  # the low half as the whole word
        out[3, i] = ops.square_mul_split_lazy(c[i], d[i], d_hi[i], eps)


def _check_mul_split(c: list[int], d: list[int]) -> None:
    """ops.mul_split(u, low half of v, high half of v) is u·v mod P, ops.square_mul_split u²·v
    mod P (canonical) given v's halves or v and its high half, and square_mul_split_lazy a uint64
    congruent to it, for any uint64 u and v."""
    out = np.zeros((4, len(c)), dtype=np.uint64)
    d_lo = np.array([v & (2**32 - 1) for v in d], dtype=np.uint64)
    d_hi = np.array([v >> 32 for v in d], dtype=np.uint64)
    _mul_split(np.array(c, dtype=np.uint64), np.array(d, dtype=np.uint64), d_lo, d_hi, out)
    r = out.tolist()
    assert r[0] == [u * v % P for u, v in zip(c, d, strict=True)]
    assert r[1] == r[2] == [u * u * v % P for u, v in zip(c, d, strict=True)]
    assert [x % P for x in r[3]] == r[1]


@njit(cache=True)
def _vector_forms(a, b, c, d, out):
    """The vector-loop forms, in elementwise loops (the shape LLVM vectorises): products of any
    uint64 (c, d), by a loop constant's halves, and extension products of canonical (a, b)."""
    k_lo, k_hi = ops.halves(d[0])
    h = ops.ext_halves(b[0], a[0])
    for i in range(a.size):
        out[0, i] = ops.mul_vec(c[i], d[i])
        out[1, i] = ops.mul_split(c[i], k_lo, k_hi)
        out[2, i], out[3, i] = ops.ext_mul_vec(a[i], b[i], b[i], a[i])
        out[4, i], out[5, i] = ops.ext_mul_halves(a[i], b[i], h)
        out[6, i] = ops.square_mul_vec(c[i], d[i])


def _check_vector_forms(a: list[int], b: list[int], c: list[int], d: list[int]) -> None:
    out = np.zeros((7, len(a)), dtype=np.uint64)
    _vector_forms(*(np.array(v, dtype=np.uint64) for v in (a, b, c, d)), out)
    r = out.tolist()
    k0, k1 = b[0], a[0]  # the loop constant b[0] + a[0]·x
    for i in range(len(a)):
        x, y, u, v = a[i], b[i], c[i], d[i]
        assert r[0][i] == u * v % P
        assert r[1][i] == u * d[0] % P
        assert (r[2][i], r[3][i]) == ((x * y + W * y * x) % P, (x * x + y * y) % P)
        assert (r[4][i], r[5][i]) == ((x * k0 + W * y * k1) % P, (x * k1 + y * k0) % P)
        assert r[6][i] == u * u * v % P


def test_edge_values_pairwise() -> None:
    canon_pairs = [(x, y) for x in EDGES for y in EDGES]
    any_pairs = [(u, v) for u in EDGES + NON_CANONICAL for v in EDGES + NON_CANONICAL]
    m = max(len(canon_pairs), len(any_pairs))  # cycle the shorter list: all pairs of both
    a, b = zip(*(canon_pairs[i % len(canon_pairs)] for i in range(m)), strict=True)
    c, d = zip(*(any_pairs[i % len(any_pairs)] for i in range(m)), strict=True)
    _check(list(a), list(b), list(c), list(d))
    _check_mul_split(list(c), list(d))
    _check_vector_forms(list(a), list(b), list(c), list(d))
    for constant in range(len(EDGES)):  # every edge value as the loop constant too
        rotate = constant * len(EDGES)
        _check_vector_forms(*(list(v[rotate:] + v[:rotate]) for v in (a, b, c, d)))


@settings(deadline=None, max_examples=50)
@given(st.lists(st.tuples(elements, elements, any_u64, any_u64), min_size=1, max_size=64))
def test_random(rows: list[tuple[int, int, int, int]]) -> None:
    a, b, c, d = (list(col) for col in zip(*rows, strict=True))
    _check(a, b, c, d)
    _check_mul_split(c, d)
    _check_vector_forms(a, b, c, d)
