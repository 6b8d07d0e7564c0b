"""Polynomials evaluated at a point of the extension field: what the STARK needs to open the trace
(and quotient) polynomials at the out-of-domain point z and at z·ω.

Columns are rows of a 2-D array ``(n_cols, n)``, as everywhere in ``zkpor.field``; a 1-D array is
one polynomial. Both ways of evaluating reduce to a base matrix times an extension vector
(``ext_matvec``), which runs at vector speed, instead of a Horner loop whose every step waits
for the previous one:

* from coefficients: ``f(z) = Σ c_i·z^i`` with the powers of z computed once for all columns;
* from evaluations on a coset, without interpolating (barycentric formula):
  ``f(z) = (z^n - s^n) / (n·s^n) · Σ_i f(x_i)·x_i / (z - x_i)`` with ``x_i = s·ω^i``, the
  weights ``x_i / (z - x_i)`` shared by all columns (one batch inversion).

The pure-Python helpers (``horner``, ``vanishing_at``, ``lagrange_at``) come from
``zkpor.field.pure`` and need neither numpy nor numba.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zkpor.field import extension as ex
from zkpor.field import goldilocks as gl
from zkpor.field.ntt import _log2, domain
from zkpor.field.pure import Ext, P, horner, lagrange_at, vanishing_at

__all__ = [
    "barycentric_at_ext",
    "evaluate_at_ext",
    "evaluate_ext_coeffs_at_ext",
    "horner",
    "interpolate",
    "lagrange_at",
    "vanishing_at",
]


def _rows(a: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    if not isinstance(a, np.ndarray) or a.dtype != np.uint64 or a.ndim not in (1, 2):
        raise TypeError(f"{name}: expected a 1-D or 2-D uint64 array")
    return (a.reshape(1, -1), True) if a.ndim == 1 else (a, False)


def _results(pairs: np.ndarray, one: bool) -> Ext | list[Ext]:
    values = ex.ext_to_list(pairs)
    return values[0] if one else values


def evaluate_at_ext(
    coeffs: np.ndarray, z: Any, columns: Sequence[int] | None = None, degree_bound: int | None = None
) -> Ext | list[Ext]:
    """Σ_i coeffs[..., i]·z^i for base-field coefficients, shape (n,) -> Ext, or (n_cols, n) ->
    a list of n_cols Ext (with `columns`, of those rows only, read in place); z an Ext (or int,
    or (c0, c1) pair). With `degree_bound` the caller vouches that every coefficient from there on
    is zero, and they are not read (a committed matrix stores D coefficients in a power-of-two width)."""
    rows, one = _rows(coeffs, "evaluate_at_ext")
    length = rows.shape[1] if degree_bound is None else min(degree_bound, rows.shape[1])
    powers = ex.ext_powers(z, length)
    return _results(ex.ext_matvec(rows, powers, columns, leading=True), one)


def evaluate_ext_coeffs_at_ext(coeffs: np.ndarray, z: Any) -> Ext | list[Ext]:
    """Like ``evaluate_at_ext`` for extension coefficients: shape (n, 2) -> Ext, or
    (n_cols, n, 2) -> list of Ext. Σ (a_i + b_i·x)·z^i = A(z) + x·B(z) with A, B base polynomials."""
    if not isinstance(coeffs, np.ndarray) or coeffs.dtype != np.uint64 or coeffs.ndim not in (2, 3):
        raise TypeError("evaluate_ext_coeffs_at_ext: expected a uint64 array (n, 2) or (n_cols, n, 2)")
    if coeffs.shape[-1] != 2:
        raise ValueError("evaluate_ext_coeffs_at_ext: the last axis must have length 2")
    one = coeffs.ndim == 2
    c = coeffs.reshape(1, *coeffs.shape) if one else coeffs
    powers = ex.ext_powers(z, c.shape[1])
    a = ex.ext_matvec(np.ascontiguousarray(c[..., 0]), powers)
    b = ex.ext_matvec(np.ascontiguousarray(c[..., 1]), powers)
    # x·(b0 + b1·x) = 7·b1 + b0·x
    x_times_b = np.stack([gl.mul(b[:, 1], 7), b[:, 0]], axis=-1)
    return _results(ex.ext_add(a, x_times_b), one)


def barycentric_at_ext(evals: np.ndarray, shift: int, z: Any) -> Ext | list[Ext]:
    """The polynomials of degree < n given by their evaluations on the coset shift·⟨ω_n⟩
    (natural order; shape (n,) or (n_cols, n); shift 1 for the subgroup itself), evaluated at z,
    without interpolating."""
    rows, one = _rows(evals, "barycentric_at_ext")
    n = rows.shape[1]
    log_n = _log2(n)
    shift = int(shift) % P
    if shift == 0:
        raise ValueError("barycentric_at_ext: the coset shift must be non-zero")
    zz = ex.as_ext(z)
    xs = domain(log_n, shift)
    if zz.c1 == 0:
        hits = np.flatnonzero(xs == np.uint64(zz.c0))
        if hits.size:  # z is a point of the coset: the formula would divide by zero
            return _results(ex.ext_from_base(np.ascontiguousarray(rows[:, hits[0]])), one)
    # z - x_i = (z0 - x_i) + z1·x
    diff = np.empty((n, 2), dtype=np.uint64)
    diff[:, 0] = gl.neg(gl.sub(xs, zz.c0))
    diff[:, 1] = zz.c1
    weights = ex.ext_mul_base(ex.ext_batch_inv(diff), xs)  # x_i / (z - x_i)
    sums = ex.ext_matvec(np.ascontiguousarray(rows), weights)
    scale = vanishing_at(zz, n, shift) / (n * pow(shift, n, P))
    return _results(ex.ext_mul(sums, scale), one)


def interpolate(xs: list[int], ys: list[int]) -> list[int]:
    """Coefficients (lowest degree first) of the polynomial of degree < len(xs) through the
    points (xs[i], ys[i]) of the base field. O(n^2) Python integers: for tests and small sizes."""
    n = len(xs)
    if len(ys) != n or len({x % P for x in xs}) != n:
        raise ValueError("interpolate: needs as many values as points, and distinct points")
    # the product of (X - x_j) over all j, then divided by (X - x_i) for each i
    full = [1]
    for x in xs:
        full = [(a - x * b) % P for a, b in zip([0, *full], [*full, 0], strict=True)]
    coeffs = [0] * n
    for xi, yi in zip(xs, ys, strict=True):
        # synthetic division of `full` by (X - xi)
        quotient = [0] * n
        carry = 0
        for k in range(n, 0, -1):
            carry = (full[k] + carry * xi) % P
            quotient[k - 1] = carry
        denominator = horner(quotient, xi).c0
        factor = yi * pow(denominator, P - 2, P) % P
        for k in range(n):
            coeffs[k] = (coeffs[k] + factor * quotient[k]) % P
    return coeffs
