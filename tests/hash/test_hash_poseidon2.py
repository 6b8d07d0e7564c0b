"""Poseidon2 permutation: Plonky3 known answers, pure Python == numba, the round pieces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from poseidon2_vectors import CROSS_CHECK_8, CROSS_CHECK_12, KAT_8, KAT_12

from zkpor.hash import poseidon2 as p2
from zkpor.hash import poseidon2_batch as pb
from zkpor.hash import poseidon2_constants as consts

P = p2.P
EDGES = [0, 1, 2, P - 2, P - 1, 1 << 32, (1 << 32) - 1, P >> 1]
element = st.one_of(st.sampled_from(EDGES), st.integers(0, P - 1))


@pytest.mark.parametrize("vector", [KAT_8, KAT_12, *CROSS_CHECK_8, *CROSS_CHECK_12])
def test_pure_python_matches_plonky3(vector):
    state, expected = vector
    assert p2.permute(state) == expected


def test_batch_matches_plonky3():
    for vectors in ([KAT_8, *CROSS_CHECK_8], [KAT_12, *CROSS_CHECK_12]):
        states = np.array([v[0] for v in vectors], dtype=np.uint64)
        expected = np.array([v[1] for v in vectors], dtype=np.uint64)
        out = pb.permute_batch(states)
        assert out.dtype == np.uint64
        assert np.array_equal(out, expected)
        assert np.array_equal(states, np.array([v[0] for v in vectors], dtype=np.uint64))  # input kept


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([8, 12]).flatmap(
        lambda w: st.lists(st.lists(element, min_size=w, max_size=w), min_size=1, max_size=6)
    )
)
def test_pure_equals_batch_on_random_states(states):
    out = pb.permute_batch(np.array(states, dtype=np.uint64))
    assert [list(map(int, row)) for row in out] == [p2.permute(s) for s in states]


def test_batch_on_many_states_matches_pure_on_a_sample():
    # large enough to be split over the thread pool; check rows from every part of it
    rng = np.random.default_rng(7)
    states = rng.integers(0, P, size=(5000, 12), dtype=np.uint64)
    out = pb.permute_batch(states)
    for i in (0, 1, 2499, 2500, 4999):
        assert list(map(int, out[i])) == p2.permute(list(map(int, states[i])))


def test_constants_shapes_and_canonical():
    assert len(consts.RC12_EXTERNAL_INITIAL) == len(consts.RC12_EXTERNAL_FINAL) == consts.HALF_FULL_ROUNDS
    assert len(consts.RC12_INTERNAL) == len(consts.RC8_INTERNAL) == consts.PARTIAL_ROUNDS == 22
    assert all(len(r) == 12 for r in consts.RC12_EXTERNAL_INITIAL + consts.RC12_EXTERNAL_FINAL)
    assert all(len(r) == 8 for r in consts.RC8_EXTERNAL_INITIAL + consts.RC8_EXTERNAL_FINAL)
    everything = [
        *sum(consts.RC12_EXTERNAL_INITIAL + consts.RC12_EXTERNAL_FINAL + consts.RC8_EXTERNAL_INITIAL, ()),
        *sum(consts.RC8_EXTERNAL_FINAL, ()),
        *consts.RC12_INTERNAL,
        *consts.RC8_INTERNAL,
        *consts.DIAG12,
        *consts.DIAG8,
    ]
    assert all(0 <= c < P for c in everything)
    assert pb.RC12_EXTERNAL_INITIAL.shape == (4, 12) and pb.RC12_INTERNAL.shape == (22,)
    assert pb.RC8_EXTERNAL_FINAL.shape == (4, 8) and pb.DIAG8.shape == (8,)
    assert pb.DIAG12.tolist() == list(consts.DIAG12)


def test_internal_diagonals_are_the_documented_small_values():
    inv = pow(2, -1, P)
    assert list(consts.DIAG12) == [
        x % P for x in (-2, 1, 2, inv, 3, 4, -inv, -3, -4, inv * inv, -inv * inv, inv**3)
    ]
    assert list(consts.DIAG8) == [x % P for x in (-2, 1, 2, inv, 3, -inv, -3, -4)]


# --- the numba round pieces an AIR calls, against generic formulas --------------------------------


@njit(cache=True)
def _internal12(s):
    pb.internal_layer12_inplace(s)


@njit(cache=True)
def _internal8(s):
    pb.internal_layer8_inplace(s)


@njit(cache=True)
def _external12(s):
    pb.external_layer12_inplace(s)


@njit(cache=True)
def _rounds12(s):
    pb.external_layer12_inplace(s)
    for r in range(4):
        pb.full_round12_inplace(s, pb.RC12_EXTERNAL_INITIAL, r)
    for r in range(22):
        pb.partial_round12_inplace(s, pb.RC12_INTERNAL[r])
    for r in range(4):
        pb.full_round12_inplace(s, pb.RC12_EXTERNAL_FINAL, r)


@njit(cache=True)
def _rounds8(s):
    pb.external_layer8_inplace(s)
    for r in range(4):
        pb.full_round8_inplace(s, pb.RC8_EXTERNAL_INITIAL, r)
    for r in range(22):
        pb.partial_round8_inplace(s, pb.RC8_INTERNAL[r])
    for r in range(4):
        pb.full_round8_inplace(s, pb.RC8_EXTERNAL_FINAL, r)


@njit(cache=True)
def _sbox(x):
    return pb.sbox7(x)


@settings(max_examples=30, deadline=None)
@given(st.lists(element, min_size=12, max_size=12))
def test_specialised_internal_layers_equal_generic_diagonal(state):
    for width, kernel, diag in ((12, _internal12, consts.DIAG12), (8, _internal8, consts.DIAG8)):
        s = state[:width]
        expected = [(d * x + sum(s)) % P for d, x in zip(diag, s, strict=True)]
        a = np.array(s, dtype=np.uint64)
        kernel(a)
        assert a.tolist() == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(element, min_size=12, max_size=12))
def test_external_layer_is_circ_2m4_m4_m4(state):
    m4 = [[2, 3, 1, 1], [1, 2, 3, 1], [1, 1, 2, 3], [3, 1, 1, 2]]
    expected = []
    for i in range(12):
        acc = 0
        for j in range(12):
            factor = 2 if i // 4 == j // 4 else 1
            acc += factor * m4[i % 4][j % 4] * state[j]
        expected.append(acc % P)
    a = np.array(state, dtype=np.uint64)
    _external12(a)
    assert a.tolist() == expected


def test_round_pieces_compose_into_the_permutation():
    for (state, expected), kernel in ((KAT_12, _rounds12), (KAT_8, _rounds8)):
        a = np.array(state, dtype=np.uint64)
        kernel(a)
        assert a.tolist() == expected


@given(element)
@settings(max_examples=50, deadline=None)
def test_sbox(x):
    assert int(_sbox(np.uint64(x))) == pow(x, 7, P)


# --- input validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [[], [0] * 7, [0] * 16, [0] * 11])
def test_permute_rejects_other_widths(bad):
    with pytest.raises(ValueError, match="8 or 12"):
        p2.permute(bad)


@pytest.mark.parametrize("value", [P, 1 << 64, -1, 1.5, True, "1"])
def test_permute_rejects_non_elements(value):
    with pytest.raises(ValueError):
        p2.permute([value] + [0] * 11)


def test_permute_accepts_numpy_integers():
    state = np.arange(12, dtype=np.uint64)
    assert p2.permute(list(state)) == KAT_12[1]


def test_batch_rejects_bad_arrays():
    with pytest.raises(ValueError):
        pb.permute_batch(np.zeros((3, 10), dtype=np.uint64))
    with pytest.raises(ValueError):
        pb.permute_batch(np.zeros((3, 12), dtype=np.int64))
    with pytest.raises(ValueError, match=">= p"):
        pb.permute_batch(np.full((2, 12), P, dtype=np.uint64))
    assert pb.permute_batch(np.zeros((0, 12), dtype=np.uint64)).shape == (0, 12)
