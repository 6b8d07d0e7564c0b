"""The extension-field array API and numba helpers against a naive Python implementation."""

from __future__ import annotations

import numpy as np
import pytest
from field_helpers import (
    EDGES,
    P,
    arr,
    elements,
    ext_elements,
    naive_ext_inv,
    naive_ext_mul,
    naive_ext_pow,
    relaxed,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from zkpor.field import extension as ex
from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext

ext_lists = st.lists(ext_elements, min_size=1, max_size=30)


def pairs(a: np.ndarray) -> list[tuple[int, int]]:
    return [tuple(p) for p in a.reshape(-1, 2).tolist()]


def ext_arr(values: list[tuple[int, int]]) -> np.ndarray:
    return np.array(values, dtype=np.uint64).reshape(-1, 2)


@relaxed
@given(st.lists(st.tuples(ext_elements, ext_elements), min_size=1, max_size=30))
def test_elementwise(rows: list[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    xs, ys = (list(c) for c in zip(*rows, strict=True))
    a, b = ext_arr(xs), ext_arr(ys)
    assert pairs(ex.ext_mul(a, b)) == [naive_ext_mul(x, y) for x, y in rows]
    assert pairs(ex.ext_add(a, b)) == [((x[0] + y[0]) % P, (x[1] + y[1]) % P) for x, y in rows]
    assert pairs(ex.ext_sub(a, b)) == [((x[0] - y[0]) % P, (x[1] - y[1]) % P) for x, y in rows]
    assert pairs(ex.ext_neg(a)) == [(-x[0] % P, -x[1] % P) for x in xs]


def test_edge_values_all_pairs() -> None:
    values = [(x, y) for x in EDGES[:8] for y in EDGES[8:]] + [(x, x) for x in EDGES]
    xs = [v for v in values for _ in values]
    ys = [w for _ in values for w in values]
    expected = [naive_ext_mul(x, y) for x, y in zip(xs, ys, strict=True)]
    assert pairs(ex.ext_mul(ext_arr(xs), ext_arr(ys))) == expected


@relaxed
@given(ext_lists, ext_elements)
def test_scalar_operands_broadcast(xs: list[tuple[int, int]], s: tuple[int, int]) -> None:
    a = ext_arr(xs)
    for scalar in (Ext(*s), s, np.array(s, dtype=np.uint64)):
        assert pairs(ex.ext_mul(a, scalar)) == [naive_ext_mul(x, s) for x in xs]
        assert pairs(ex.ext_add(a, scalar)) == [((x[0] + s[0]) % P, (x[1] + s[1]) % P) for x in xs]
        assert pairs(ex.ext_sub(a, scalar)) == [((x[0] - s[0]) % P, (x[1] - s[1]) % P) for x in xs]
    assert pairs(ex.ext_mul(a, 5)) == [(5 * x[0] % P, 5 * x[1] % P) for x in xs]


@relaxed
@given(ext_lists, st.lists(elements, min_size=30, max_size=30), elements)
def test_mul_base(xs: list[tuple[int, int]], bs: list[int], k: int) -> None:
    a = ext_arr(xs)
    b = arr(bs[: len(xs)])
    expected = [(x[0] * y % P, x[1] * y % P) for x, y in zip(xs, bs, strict=False)]
    assert pairs(ex.ext_mul_base(a, b)) == expected
    assert pairs(ex.ext_mul_base(a, k)) == [(x[0] * k % P, x[1] * k % P) for x in xs]
    # an extension scalar times a base array (of any shape)
    e = Ext(*xs[0])
    out = ex.ext_mul_base(e, b.reshape(1, -1))
    assert out.shape == (1, len(xs), 2)
    assert pairs(out) == [(e.c0 * y % P, e.c1 * y % P) for y in bs[: len(xs)]]


@relaxed
@given(st.lists(ext_elements.filter(lambda t: t != (0, 0)), min_size=1, max_size=30))
def test_inverse(xs: list[tuple[int, int]]) -> None:
    expected = [naive_ext_inv(x) for x in xs]
    assert pairs(ex.ext_inv(ext_arr(xs))) == expected
    assert pairs(ex.ext_batch_inv(ext_arr(xs))) == expected


def test_inverse_of_zero() -> None:
    a = ext_arr([(1, 2), (0, 0), (0, 5)])
    with pytest.raises(ZeroDivisionError):
        ex.ext_inv(a)
    out = ex.ext_batch_inv(a, allow_zero=True)
    assert pairs(out) == [naive_ext_inv((1, 2)), (0, 0), naive_ext_inv((0, 5))]


@relaxed
@given(ext_lists, st.integers(0, 40))
def test_pow_small(xs: list[tuple[int, int]], e: int) -> None:
    assert pairs(ex.ext_pow(ext_arr(xs), e)) == [naive_ext_pow(x, e) for x in xs]


@relaxed
@given(ext_lists, st.integers(-(2**130), 2**130))
def test_pow_large_and_negative(xs: list[tuple[int, int]], e: int) -> None:
    a = ext_arr(xs)
    if e < 0 and (0, 0) in xs:
        with pytest.raises(ZeroDivisionError):
            ex.ext_pow(a, e)
        return
    assert pairs(ex.ext_pow(a, e)) == [(Ext(*x) ** e).to_pair() for x in xs]


def test_pow_group_order() -> None:
    a = ext_arr([(0, 0), (1, 0), (3, 4), (P - 1, P - 1)])
    assert pairs(ex.ext_pow(a, P * P - 1)) == [(0, 0), (1, 0), (1, 0), (1, 0)]
    assert pairs(ex.ext_pow(a, 0)) == [(1, 0)] * 4


def test_from_base_and_conversions() -> None:
    b = arr([[1, 2], [3, P - 1]])
    e = ex.ext_from_base(b)
    assert e.shape == (2, 2, 2) and pairs(e) == [(1, 0), (2, 0), (3, 0), (P - 1, 0)]
    values = [Ext(1, 2), 5, (P - 1, 3)]
    a = ex.ext_array(values)
    assert ex.ext_to_list(a) == [Ext(1, 2), Ext(5, 0), Ext(P - 1, 3)]
    assert ex.as_ext(np.array([4, 5], dtype=np.uint64)) == Ext(4, 5)
    assert ex.as_ext(np.uint64(9)) == Ext(9, 0)


def test_shapes_and_validation() -> None:
    rng = np.random.default_rng(1)
    a = ex.random_ext_elements((3, 4), rng)
    assert a.shape == (3, 4, 2) and (a < P).all()
    for out in (ex.ext_mul(a, a), ex.ext_add(a, Ext(1, 1)), ex.ext_inv(a), ex.ext_pow(a, 3), ex.ext_neg(a)):
        assert out.shape == (3, 4, 2)
    with pytest.raises(ValueError):
        ex.ext_mul(a, a[0])
    with pytest.raises(ValueError):
        ex.ext_mul(np.zeros((3, 3), dtype=np.uint64), Ext(1, 1))
    with pytest.raises(TypeError):
        ex.ext_mul(np.zeros((3, 2), dtype=np.int64), Ext(1, 1))
    with pytest.raises(ValueError):
        ex.ext_mul_base(a, arr([1, 2]))
    assert ex.random_ext_elements(7).shape == (7, 2)


def test_large_arrays_use_threads_and_agree() -> None:
    rng = np.random.default_rng(2)
    a = ex.random_ext_elements(50_001, rng)
    b = ex.random_ext_elements(50_001, rng)
    prod = ex.ext_mul(a, b)
    inv = ex.ext_inv(a)
    for i in (0, 17, 25_000, 50_000):
        x, y = tuple(a[i].tolist()), tuple(b[i].tolist())
        assert tuple(prod[i].tolist()) == naive_ext_mul(x, y)
        assert tuple(inv[i].tolist()) == naive_ext_inv(x)
    assert (ex.ext_mul(a[:100], b[:100]) == prod[:100]).all()


@relaxed
@given(ext_lists)
def test_sum(xs: list[tuple[int, int]]) -> None:
    assert ex.ext_sum(ext_arr(xs)) == Ext(sum(x[0] for x in xs), sum(x[1] for x in xs))


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 9), st.integers(0, 40), st.integers(0, 2**32))
def test_linear_combination_and_matvec(k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = gl.random_elements((k, n), rng)
    coeffs = ex.random_ext_elements(k, rng)
    combo = ex.ext_linear_combination(m, coeffs)
    assert combo.shape == (n, 2)
    cs = ex.ext_to_list(coeffs)
    ml = m.tolist()
    for j in range(n):
        expected = Ext(0, 0)
        for r in range(k):
            expected = expected + cs[r] * ml[r][j]
        assert Ext.from_pair(combo[j]) == expected
    # matvec: rows of m times a vector of length n
    v = ex.random_ext_elements(n, rng)
    vs = ex.ext_to_list(v)
    mv = ex.ext_matvec(m, v)
    assert mv.shape == (k, 2)
    for r in range(k):
        expected = Ext(0, 0)
        for j in range(n):
            expected = expected + vs[j] * ml[r][j]
        assert Ext.from_pair(mv[r]) == expected
    # the list form of the coefficients
    assert (ex.ext_linear_combination(m, cs) == combo).all()
    # `leading`: only the first len(v) columns are read; a short vector is refused without it
    if k and n:
        head = ex.ext_matvec(m, v[: n - 1], [k - 1, 0], leading=True)
        assert (head == ex.ext_matvec(np.ascontiguousarray(m[[k - 1, 0], : n - 1]), v[: n - 1])).all()
        with pytest.raises(ValueError):
            ex.ext_matvec(m, v[: n - 1])


def test_linear_combination_extremes() -> None:
    # all terms (P-1)·(P-1, P-1): the 128-bit accumulators carry
    k, n = 300, 5
    m = np.full((k, n), P - 1, dtype=np.uint64)
    coeffs = np.full((k, 2), P - 1, dtype=np.uint64)
    assert pairs(ex.ext_linear_combination(m, coeffs)) == [(k % P, k % P)] * n
    assert pairs(ex.ext_matvec(m.T.copy(), coeffs)) == [(k % P, k % P)] * n
    with pytest.raises(ValueError):
        ex.ext_linear_combination(m, coeffs[:-1])


@relaxed
@given(ext_elements, st.integers(0, 100))
def test_powers(z: tuple[int, int], n: int) -> None:
    out = ex.ext_powers(Ext(*z), n)
    assert out.shape == (n, 2)
    assert ex.ext_to_list(out) == [Ext(*z) ** i for i in range(n)]


@relaxed
@given(ext_elements, ext_elements, elements)
def test_numba_scalar_helpers_from_python(a: tuple[int, int], b: tuple[int, int], k: int) -> None:
    u = np.uint64
    a0, a1, b0, b1 = u(a[0]), u(a[1]), u(b[0]), u(b[1])
    assert tuple(map(int, ex.ext_mul_scalar(a0, a1, b0, b1))) == naive_ext_mul(a, b)
    assert tuple(map(int, ex.ext_square_scalar(a0, a1))) == naive_ext_mul(a, a)
    assert tuple(map(int, ex.ext_add_scalar(a0, a1, b0, b1))) == (Ext(*a) + Ext(*b)).to_pair()
    assert tuple(map(int, ex.ext_sub_scalar(a0, a1, b0, b1))) == (Ext(*a) - Ext(*b)).to_pair()
    assert tuple(map(int, ex.ext_neg_scalar(a0, a1))) == (-Ext(*a)).to_pair()
    assert tuple(map(int, ex.ext_mul_base_scalar(a0, a1, u(k)))) == (Ext(*a) * k).to_pair()
    expected_inv = naive_ext_inv(a) if a != (0, 0) else (0, 0)
    assert tuple(map(int, ex.ext_inv_scalar(a0, a1))) == expected_inv
    assert tuple(map(int, ex.ext_pow_scalar(a0, a1, u(k), u(3)))) == (Ext(*a) ** (k + 3 * 2**64)).to_pair()


def test_one_element_arrays_broadcast() -> None:
    """An operand holding a single element, of shape (1, 2) or (1,), broadcasts like a scalar."""
    a = ext_arr([(1, 2), (3, 4), (5, 6)])
    one = np.array([[7, 8]], dtype=np.uint64)
    assert pairs(ex.ext_mul(a, one)) == pairs(ex.ext_mul(a, Ext(7, 8)))
    assert pairs(ex.ext_sub(a, one)) == pairs(ex.ext_sub(a, (7, 8)))
    assert pairs(ex.ext_mul_base(a, arr([9]))) == pairs(ex.ext_mul_base(a, 9))
    assert pairs(ex.ext_mul_base(a, np.uint64(9))) == pairs(ex.ext_mul_base(a, 9))
    with pytest.raises(ValueError):
        ex.ext_mul(a, ext_arr([(1, 2), (3, 4)]))


def test_several_linear_combinations_in_one_pass():
    rng = np.random.default_rng(4)
    m = rng.integers(0, 2**63, size=(7, 1100), dtype=np.uint64)
    sets = [rng.integers(0, 2**63, size=(7, 2), dtype=np.uint64) for _ in range(3)]
    combos = ex.ext_linear_combinations(m, sets)
    assert len(combos) == 3
    for coeffs, got in zip(sets, combos, strict=True):  # the matvec kernel is an independent check
        assert np.array_equal(got, ex.ext_matvec(np.ascontiguousarray(m.T), coeffs))


def test_linear_combination_with_zero_weights():
    """Rows weighted zero are skipped by the kernel: sets where most weights are zero (one
    coordinate only, or both), and one where all are, still give the full sums."""
    rng = np.random.default_rng(5)
    m = rng.integers(0, 2**63, size=(11, 600), dtype=np.uint64)
    dense = rng.integers(0, 2**63, size=(11, 2), dtype=np.uint64)
    sparse = dense.copy()
    sparse[[0, 2, 3, 4, 7, 9]] = 0
    sparse[5, 0] = 0  # c1 alone
    sparse[8, 1] = 0  # c0 alone
    sets = [dense, sparse, np.zeros((11, 2), dtype=np.uint64)]
    for coeffs, got in zip(sets, ex.ext_linear_combinations(m, sets), strict=True):
        assert np.array_equal(got, ex.ext_matvec(np.ascontiguousarray(m.T), coeffs))
    assert not ex.ext_linear_combination(m, sets[2]).any()
