"""Evaluation at an extension point: from coefficients, from coset evaluations, interpolation."""

from __future__ import annotations

import numpy as np
import pytest
from field_helpers import P, naive_eval
from hypothesis import given, settings
from hypothesis import strategies as st

from zkpor.field import extension as ex
from zkpor.field import goldilocks as gl
from zkpor.field import ntt as nt
from zkpor.field import poly
from zkpor.field.pure import Ext, horner


def naive_at(coeffs: list[int], z: Ext) -> Ext:
    acc, zi = Ext(0, 0), Ext(1, 0)
    for c in coeffs:
        acc = acc + zi * c
        zi = zi * z
    return acc


@settings(deadline=None, max_examples=40)
@given(st.integers(0, 5), st.integers(0, 70), st.integers(0, 2**32))
def test_evaluate_at_ext(n_cols: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    coeffs = gl.random_elements((n_cols, n), rng)
    z = Ext(*ex.random_ext_elements(1, rng)[0].tolist())
    values = poly.evaluate_at_ext(coeffs, z)
    assert values == [naive_at(row, z) for row in coeffs.tolist()]
    if n_cols:
        assert poly.evaluate_at_ext(coeffs[0], z) == values[0]
        # some rows, in any order and repeated, read in place: the values of those rows
        picked = rng.integers(0, n_cols, 3).tolist()
        assert poly.evaluate_at_ext(coeffs, z, picked) == [values[r] for r in picked]
        # a degree bound: the coefficients from there on are zero and are not read
        padded = np.concatenate([coeffs, gl.random_elements((n_cols, 5), rng)], axis=1)
        assert poly.evaluate_at_ext(padded, z, picked, degree_bound=n) == [values[r] for r in picked]


def test_evaluate_at_base_point_and_edges() -> None:
    coeffs = np.array([P - 1, 2**63, 2**32, 0, 1], dtype=np.uint64)
    assert poly.evaluate_at_ext(coeffs, 3) == naive_eval(coeffs.tolist(), 3)
    assert poly.evaluate_at_ext(coeffs, Ext(0, 1)) == naive_at(coeffs.tolist(), Ext(0, 1))
    assert poly.evaluate_at_ext(np.zeros(0, dtype=np.uint64), Ext(1, 2)) == 0
    with pytest.raises(ValueError, match="row indices"):
        poly.evaluate_at_ext(np.zeros((2, 3), dtype=np.uint64), 3, [2])
    assert poly.evaluate_at_ext(np.zeros((2, 3), dtype=np.uint64), 3, []) == []


@settings(deadline=None, max_examples=25)
@given(st.integers(1, 4), st.integers(0, 30), st.integers(0, 2**32))
def test_evaluate_ext_coeffs(n_cols: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    coeffs = ex.random_ext_elements((n_cols, n), rng)
    z = Ext(12345, 67890)
    values = poly.evaluate_ext_coeffs_at_ext(coeffs, z)
    expected = [horner(ex.ext_to_list(row), z) for row in coeffs]
    assert values == expected
    assert poly.evaluate_ext_coeffs_at_ext(coeffs[0], z) == expected[0]


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 10), st.sampled_from([1, 7, 3]), st.integers(0, 2**32))
def test_barycentric_matches_coefficients(log_n: int, shift: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1 << log_n
    coeffs = gl.random_elements((3, n), rng)
    evals = nt.coset_evaluate(coeffs, 1, shift)  # on the coset shift·H
    z = Ext(*ex.random_ext_elements(1, rng)[0].tolist())
    assert poly.barycentric_at_ext(evals, shift, z) == poly.evaluate_at_ext(coeffs, z)
    assert poly.barycentric_at_ext(evals[2], shift, z) == poly.evaluate_at_ext(coeffs[2], z)
    # a base-field point outside the coset
    assert poly.barycentric_at_ext(evals, shift, 5) == poly.evaluate_at_ext(coeffs, 5)


def test_barycentric_at_a_point_of_the_coset() -> None:
    rng = np.random.default_rng(1)
    coeffs = gl.random_elements((2, 16), rng)
    evals = nt.coset_evaluate(coeffs, 1, 7)
    points = nt.domain(4, 7)
    for i in (0, 5, 15):
        expected = [Ext(int(evals[0, i])), Ext(int(evals[1, i]))]
        assert poly.barycentric_at_ext(evals, 7, int(points[i])) == expected


def test_trace_polynomial_at_z_and_z_omega() -> None:
    """What the STARK does: trace columns (evaluations on H) opened at z and z·ω."""
    rng = np.random.default_rng(2)
    log_n = 6
    trace = gl.random_elements((4, 1 << log_n), rng)
    coeffs = nt.intt(trace)
    z = Ext(31337, 4242)
    z_next = z * nt.root_of_unity(log_n)
    for point in (z, z_next):
        assert poly.barycentric_at_ext(trace, 1, point) == poly.evaluate_at_ext(coeffs, point)
    # the value at z·ω of the column is the value at z of the column shifted by one row
    shifted = np.roll(trace, -1, axis=1)
    assert poly.barycentric_at_ext(shifted, 1, z) == poly.barycentric_at_ext(trace, 1, z_next)


@settings(deadline=None, max_examples=30)
@given(st.lists(st.integers(0, P - 1), min_size=1, max_size=12, unique=True), st.data())
def test_interpolate(xs: list[int], data: st.DataObject) -> None:
    ys = data.draw(st.lists(st.integers(0, P - 1), min_size=len(xs), max_size=len(xs)))
    coeffs = poly.interpolate(xs, ys)
    assert len(coeffs) == len(xs)
    assert [naive_eval(coeffs, x) for x in xs] == ys


def test_interpolate_validation() -> None:
    with pytest.raises(ValueError):
        poly.interpolate([1, 1 + P], [2, 3])
    with pytest.raises(ValueError):
        poly.interpolate([1, 2], [2])


def test_helpers_reexported() -> None:
    z = Ext(2, 3)
    assert poly.vanishing_at(z, 8, 7) == z**8 - pow(7, 8, P)
    assert poly.lagrange_at(0, 1, 3) == 1
    with pytest.raises(TypeError):
        poly.evaluate_at_ext(np.zeros(4, dtype=np.int64), z)
