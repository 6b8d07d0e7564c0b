"""The base-field array API against Python integers."""

from __future__ import annotations

import numpy as np
import pytest
from field_helpers import EDGES, NON_CANONICAL, P, any_u64, arr, elements, nonzero_elements, relaxed
from hypothesis import given, settings
from hypothesis import strategies as st

from zkpor.field import goldilocks as gl
from zkpor.field import parallel

element_lists = st.lists(elements, min_size=1, max_size=40)
pairs = st.lists(st.tuples(elements, elements), min_size=1, max_size=40)


def ints(a: np.ndarray) -> list:
    return a.tolist()


def test_p() -> None:
    assert gl.P == P == 2**64 - 2**32 + 1


@relaxed
@given(pairs)
def test_binary_ops(rows: list[tuple[int, int]]) -> None:
    xs, ys = (list(c) for c in zip(*rows, strict=True))
    a, b = arr(xs), arr(ys)
    assert ints(gl.add(a, b)) == [(x + y) % P for x, y in rows]
    assert ints(gl.sub(a, b)) == [(x - y) % P for x, y in rows]
    assert ints(gl.mul(a, b)) == [x * y % P for x, y in rows]
    assert ints(gl.neg(a)) == [-x % P for x in xs]


def test_edge_values_all_pairs() -> None:
    xs = [x for x in EDGES for _ in EDGES]
    ys = [y for _ in EDGES for y in EDGES]
    a, b = arr(xs), arr(ys)
    assert ints(gl.add(a, b)) == [(x + y) % P for x, y in zip(xs, ys, strict=True)]
    assert ints(gl.sub(a, b)) == [(x - y) % P for x, y in zip(xs, ys, strict=True)]
    assert ints(gl.mul(a, b)) == [x * y % P for x, y in zip(xs, ys, strict=True)]


@relaxed
@given(st.lists(any_u64, min_size=1, max_size=40), st.lists(any_u64, min_size=1, max_size=40))
def test_canonical_and_mul_accept_any_uint64(xs: list[int], ys: list[int]) -> None:
    n = min(len(xs), len(ys))
    a, b = arr(xs[:n]), arr(ys[:n])
    assert ints(gl.canonical(a)) == [x % P for x in xs[:n]]
    assert ints(gl.mul(a, b)) == [x * y % P for x, y in zip(xs[:n], ys[:n], strict=True)]


def test_canonical_non_canonical_inputs() -> None:
    assert ints(gl.canonical(arr(NON_CANONICAL + EDGES))) == [v % P for v in NON_CANONICAL + EDGES]


@relaxed
@given(element_lists, st.one_of(st.integers(-(2**70), 2**70), st.sampled_from(EDGES + NON_CANONICAL)))
def test_scalar_operand(xs: list[int], k: int) -> None:
    a = arr(xs)
    for scalar in (k, np.uint64(k % 2**64)) if 0 <= k < 2**64 else (k,):
        kk = int(scalar) % P
        assert ints(gl.add(a, scalar)) == [(x + kk) % P for x in xs]
        assert ints(gl.sub(a, scalar)) == [(x - kk) % P for x in xs]
        assert ints(gl.mul(a, scalar)) == [x * kk % P for x in xs]


@relaxed
@given(element_lists, st.integers(-(2**70), 2**70))
def test_pow(xs: list[int], e: int) -> None:
    a = arr(xs)
    if e < 0 and 0 in xs:
        with pytest.raises(ZeroDivisionError):
            gl.pow(a, e)
        return
    expected = [pow(x, e, P) if e >= 0 else pow(pow(x, P - 2, P), -e, P) for x in xs]
    assert ints(gl.pow(a, e)) == expected


def test_pow_zero_and_group_order() -> None:
    a = arr([0, 1, 5, P - 1])
    assert ints(gl.pow(a, 0)) == [1, 1, 1, 1]
    assert ints(gl.pow(a, P - 1)) == [0, 1, 1, 1]
    assert ints(gl.pow(a, 2 * (P - 1))) == [0, 1, 1, 1]
    assert ints(gl.pow(a, P)) == [0, 1, 5, P - 1]


@relaxed
@given(st.lists(nonzero_elements, min_size=1, max_size=70))
def test_inv_and_batch_inv(xs: list[int]) -> None:
    expected = [pow(x, P - 2, P) for x in xs]
    assert ints(gl.inv(arr(xs))) == expected
    assert ints(gl.batch_inv(arr(xs))) == expected


def test_batch_inv_zero() -> None:
    a = arr([3, 0, 5, 0, 7, 1, 2, 9, 11, P - 1])
    with pytest.raises(ZeroDivisionError):
        gl.inv(a)
    with pytest.raises(ZeroDivisionError):
        gl.batch_inv(a)
    out = gl.batch_inv(a, allow_zero=True)
    assert ints(out) == [pow(x, P - 2, P) if x else 0 for x in ints(a)]
    assert ints(gl.batch_inv(arr([0]), allow_zero=True)) == [0]
    assert gl.batch_inv(arr([])).shape == (0,)


def test_batch_inv_2d_and_large_parallel() -> None:
    rng = np.random.default_rng(1)
    m = gl.random_elements((3, 40_000), rng)  # above the threshold where threads are used
    inv = gl.batch_inv(m)
    assert inv.shape == m.shape
    assert (gl.mul(inv, m) == 1).all()
    sample = [(r, c) for r in range(3) for c in (0, 1, 12345, 39_999)]
    for r, c in sample:
        assert int(inv[r, c]) == pow(int(m[r, c]), P - 2, P)


def test_large_elementwise_matches_small() -> None:
    rng = np.random.default_rng(2)
    a = gl.random_elements(100_003, rng)  # several threads, and an odd length
    b = gl.random_elements(100_003, rng)
    for op, f in ((gl.add, lambda x, y: x + y), (gl.sub, lambda x, y: x - y), (gl.mul, lambda x, y: x * y)):
        out = op(a, b)
        for i in (0, 1, 50_000, 100_002):
            assert int(out[i]) == f(int(a[i]), int(b[i])) % P
        assert (op(a[:1000], b[:1000]) == out[:1000]).all()
    assert (gl.pow(a[:5000], 12345) == gl.pow(a, 12345)[:5000]).all()


def test_shapes_are_kept() -> None:
    rng = np.random.default_rng(3)
    a = gl.random_elements((2, 3, 4), rng)
    b = gl.random_elements((2, 3, 4), rng)
    for out in (gl.add(a, b), gl.mul(a, 3), gl.neg(a), gl.canonical(a), gl.pow(a, 3), gl.sub(a, b)):
        assert out.shape == (2, 3, 4) and out.dtype == np.uint64
    # non-contiguous input
    t = a.transpose(2, 0, 1)
    assert ints(gl.mul(t, t)) == [[[x * x % P for x in r] for r in m] for m in ints(t)]
    # 0-d arrays are accepted as arrays
    assert int(gl.add(np.array(5, dtype=np.uint64), 3)) == 8


def test_input_validation() -> None:
    with pytest.raises(TypeError):
        gl.add(np.array([1, 2], dtype=np.int64), 1)
    with pytest.raises(TypeError):
        gl.add([1, 2], 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        gl.add(arr([1, 2]), arr([1, 2, 3]))
    with pytest.raises(TypeError):
        gl.mul(arr([1]), 1.5)  # type: ignore[arg-type]


@relaxed
@given(st.lists(st.integers(-(2**200), 2**200), max_size=30))
def test_from_ints(values: list[int]) -> None:
    out = gl.from_ints(values)
    assert out.dtype == np.uint64 and ints(out) == [v % P for v in values]
    assert ints(gl.from_ints(iter(values))) == [v % P for v in values]


def test_from_ints_nested_and_arrays() -> None:
    assert ints(gl.from_ints([[1, -1], [P, 2**64 - 1]])) == [[1, P - 1], [0, (2**64 - 1) % P]]
    signed = np.array([-(2**63), -1, 0, 5, 2**63 - 1], dtype=np.int64)
    assert ints(gl.from_ints(signed)) == [v % P for v in signed.tolist()]
    small = np.array([-3, 4], dtype=np.int8)
    assert ints(gl.from_ints(small)) == [P - 3, 4]
    unsigned = np.array(NON_CANONICAL, dtype=np.uint64)
    assert ints(gl.from_ints(unsigned)) == [v % P for v in NON_CANONICAL]
    assert ints(gl.from_ints(np.array([7, 9], dtype=np.uint32))) == [7, 9]
    assert gl.from_ints([]).shape == (0,)


@relaxed
@given(elements, st.integers(0, 200))
def test_powers(base: int, n: int) -> None:
    assert ints(gl.powers(base, n)) == [pow(base, i, P) for i in range(n)]


def test_powers_large() -> None:
    out = gl.powers(7, 1 << 17)
    for i in (0, 1, 8, 9, 1 << 16, (1 << 17) - 1):
        assert int(out[i]) == pow(7, i, P)
    with pytest.raises(ValueError):
        gl.powers(2, -1)


@relaxed
@given(st.lists(elements, max_size=50))
def test_sum_and_dot(xs: list[int]) -> None:
    a = arr(xs)
    assert int(gl.sum_mod(a)) == sum(xs) % P
    assert int(gl.dot(a, a)) == sum(x * x for x in xs) % P


def test_sum_and_dot_axes() -> None:
    rng = np.random.default_rng(4)
    a = gl.random_elements((3, 5, 7), rng)
    b = gl.random_elements((3, 5, 7), rng)
    lists_a, lists_b = ints(a), ints(b)
    s1 = gl.sum_mod(a, axis=1)
    assert s1.shape == (3, 7)
    assert ints(s1) == [[sum(lists_a[i][j][k] for j in range(5)) % P for k in range(7)] for i in range(3)]
    d0 = gl.dot(a, b, axis=0)
    expected = [
        [sum(lists_a[i][j][k] * lists_b[i][j][k] for i in range(3)) % P for k in range(7)] for j in range(5)
    ]
    assert ints(d0) == expected
    assert ints(gl.sum_mod(a, axis=-1)) == [[sum(r) % P for r in m] for m in lists_a]
    # all P - 1: the sums of the 32-bit halves carry into the high word
    big = np.full(1 << 16, P - 1, dtype=np.uint64)
    assert int(gl.sum_mod(big)) == ((P - 1) << 16) % P
    assert int(gl.dot(big, big)) == (1 << 16) % P
    with pytest.raises(ValueError):
        gl.dot(a, b[0])


def test_random_elements() -> None:
    rng = np.random.default_rng(5)
    a = gl.random_elements((4, 1000), rng)
    assert a.shape == (4, 1000) and a.dtype == np.uint64 and (a < P).all()
    assert (gl.random_elements((4, 1000), np.random.default_rng(5)) == a).all()
    secure = gl.random_elements(5000)
    assert secure.shape == (5000,) and (secure < P).all()
    assert len(set(secure.tolist())) == 5000  # 2^-38 chance of a collision


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(0, 100_000))
def test_results_do_not_depend_on_the_thread_count(threads: int, n: int) -> None:
    rng = np.random.default_rng(n)
    a = gl.random_elements(n, rng) | np.uint64(1)  # odd, so non-zero
    old = parallel.num_threads()
    try:
        parallel.set_num_threads(1)
        expected = (gl.mul(a, a), gl.batch_inv(a), gl.sum_mod(a))
        parallel.set_num_threads(threads)
        got = (gl.mul(a, a), gl.batch_inv(a), gl.sum_mod(a))
    finally:
        parallel.set_num_threads(old)
    assert all((x == y).all() for x, y in zip(expected, got, strict=True))


def test_one_element_arrays_broadcast() -> None:
    a = arr([1, 2, 3])
    assert ints(gl.mul(a, arr([5]))) == [5, 10, 15]
    assert ints(gl.add(a, np.array(P - 1, dtype=np.uint64))) == [0, 1, 2]
    with pytest.raises(TypeError):
        gl.add(a, np.array([1], dtype=np.int64))
