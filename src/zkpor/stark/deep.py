"""DEEP composition: one function whose low degree implies every claimed out-of-domain value.

    DEEP(x) = Σ_c α^{k_c} (f_c(x) − f_c(z)) / (x − z)           every committed column c
            + Σ_c α^{k'_c} (f_c(x) − f_c(zω)) / (x − zω)         the columns read on the next row
            + α^K · R(x)                                          zero knowledge only

R is a random polynomial committed with the quotient, so the FRI layers and final polynomial are
uniformly random and reveal nothing about the trace. Powers of α: column c of main ‖ aux ‖
preprocessed ‖ quotient gets α^c at z; shifted column c (main ‖ aux ‖ preprocessed, S of them) gets
α^{Z + c} at zω when the constraints read it on the next row (`stark.next_row`), Z the number of
columns at z; R gets α^{Z + S}. (At zω a column's power is α^Z times its power at z, so a verifier
sums an opened row once for both.)

Degree correction. FRI folding by F, k times, down to ⌈D/F^k⌉ final coefficients tests degree
< F^k·⌈D/F^k⌉, which is above D when F^k does not divide D (zero knowledge: D = n + r). The function
FRI gets is therefore DEEP(x)·(1 + λ·x^s), s = F^k·⌈D/F^k⌉ − (D − 1) (`FriLayout.correction_exponent`),
λ = α^{Z + S + 1} (the power after R's): its degree is below the tested bound exactly when DEEP's is
below D − 1 (every committed column's below D), and by FRI's correlated agreement over the random λ,
both DEEP and X^s·DEEP are close to that code, hence DEEP to degree < D − 1. Without it the committed
columns could have degree up to F^k·⌈D/F^k⌉ (1.06-1.24·D for a recursion node), and a query was
worth log2 of N over that, not log2(N/D): 67-77 conjectured bits where 100 were counted. When F^k
divides D (no zero knowledge: D = n) s = 0 and DEEP is left as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from zkpor.field import extension as ext
from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.field.pure import ext_powers_list
from zkpor.stark.domain import ProofDomain


def _as_array(values: Sequence[Ext]) -> np.ndarray:
    return np.array([[v.c0, v.c1] for v in values], dtype=np.uint64).reshape(len(values), 2)


def _dot(coefficients: Sequence[Ext], values: Sequence[Ext]) -> Ext:
    total = Ext(0, 0)
    for c, v in zip(coefficients, values, strict=True):
        total = total + c * v
    return total


def deep_on_lde(
    domain: ProofDomain,
    shifted: Sequence[np.ndarray],
    quotient: np.ndarray,
    num_chunk_columns: int,
    zero_knowledge: bool,
    values_at_z: Sequence[Ext],
    values_at_zw: Sequence[Ext],
    next_columns: Sequence[int],
    z: Ext,
    alpha: Ext,
    correction_exponent: int = 0,
) -> np.ndarray:
    """DEEP over the LDE (degree-corrected by `correction_exponent`, see the module docstring),
    from column-major LDE matrices (columns, N): `shifted` (main, aux,
    preprocessed) are opened at z and, the columns `next_columns` of them, at zω (`values_at_zw`
    in that order); the quotient's first `num_chunk_columns` columns at z only, and its last two
    columns are R (with zero knowledge)."""
    n_shifted = sum(m.shape[0] for m in shifted)
    n_at_z = n_shifted + num_chunk_columns
    coeff_z = ext_powers_list(alpha, n_at_z)
    coeff_zw = _next_row_weights(alpha, n_at_z, n_shifted, next_columns)
    points = ntt.domain(domain.log_lde, ntt.GENERATOR)

    # Two combinations, not one of two coefficient sets: the one at zω has zero weights except on
    # the few next-row columns, and the kernel skips rows whose weight is zero.
    combined_z = ext.ext_linear_combination(quotient[:num_chunk_columns], coeff_z[n_shifted:])
    combined_zw = None
    offset = 0
    for matrix in shifted:
        columns = slice(offset, offset + matrix.shape[0])
        combined_z = ext.ext_add(combined_z, ext.ext_linear_combination(matrix, coeff_z[columns]))
        at_zw = ext.ext_linear_combination(matrix, coeff_zw[columns])
        combined_zw = at_zw if combined_zw is None else ext.ext_add(combined_zw, at_zw)
        offset += matrix.shape[0]
    # The quotient's R columns are added undivided below.

    zw = z * domain.omega
    result = None
    claimed_zw = _dot([coeff_zw[c] for c in next_columns], values_at_zw)
    for combined, point, claimed in (
        (combined_z, z, _dot(coeff_z, values_at_z)),
        (combined_zw, zw, claimed_zw),
    ):
        numerator = ext.ext_sub(combined, _as_array([claimed]))
        denominator = ext.ext_sub(ext.ext_from_base(points), _as_array([point]))
        term = ext.ext_mul(numerator, ext.ext_batch_inv(denominator))
        result = term if result is None else ext.ext_add(result, term)
    if zero_knowledge:
        r = np.ascontiguousarray(quotient[num_chunk_columns : num_chunk_columns + 2].T)
        weight = alpha ** (n_at_z + n_shifted)
        result = ext.ext_add(result, ext.ext_mul(r, _as_array([weight])))
    if correction_exponent:
        # x^s on the LDE: x_i = g·ω_N^i, so x_i^s = g^s · ω_N^{s·i mod N}
        size = domain.lde_size
        exponents = (np.arange(size, dtype=np.uint64) * np.uint64(correction_exponent)) % np.uint64(size)
        x_to_s = gl.mul(ntt.domain(domain.log_lde)[exponents], pow(ntt.GENERATOR, correction_exponent, gl.P))
        factor = ext.ext_mul_base(correction_weight(alpha, n_at_z, n_shifted), x_to_s)
        factor[:, 0] = gl.add(factor[:, 0], 1)
        result = ext.ext_mul(result, factor)
    return result


def correction_weight(alpha: Ext, n_at_z: int, n_shifted: int) -> Ext:
    """λ of the degree correction: the power of α after the randomiser's."""
    return alpha ** (n_at_z + n_shifted + 1)


def _next_row_weights(alpha: Ext, n_at_z: int, n_shifted: int, next_columns: Sequence[int]) -> list[Ext]:
    """The zω weight of every shifted column: α^{n_at_z + c} if column c is opened at zω, else 0."""
    powers = ext_powers_list(alpha, n_shifted, start=n_at_z)
    weights = [Ext(0, 0)] * n_shifted
    for c in next_columns:
        weights[c] = powers[c]
    return weights


@functools.lru_cache(maxsize=4)
def _query_weights(
    alpha: Ext, n_at_z: int, n_shifted: int, next_columns: tuple[int, ...]
) -> tuple[list[Ext], list[Ext]]:
    """The DEEP weights at z and zω: the same for every query of a proof, so computed once (a
    recursion proof has ~450 columns: recomputing them per query was most of its verify time)."""
    return ext_powers_list(alpha, n_at_z), _next_row_weights(alpha, n_at_z, n_shifted, next_columns)


def deep_at_point(
    x: int,
    shifted_row: Sequence[int],
    quotient_row: Sequence[int],
    randomizer_row: Sequence[int] | None,
    values_at_z: Sequence[Ext],
    values_at_zw: Sequence[Ext],
    next_columns: Sequence[int],
    z: Ext,
    zw: Ext,
    alpha: Ext,
    correction_exponent: int = 0,
) -> Ext:
    """The verifier's DEEP(x)·(1 + λ·x^s) at one queried LDE point, from the opened rows."""
    n_shifted, n_quotient = len(shifted_row), len(quotient_row)
    n_at_z = n_shifted + n_quotient
    coeff_z, coeff_zw = _query_weights(alpha, n_at_z, n_shifted, tuple(next_columns))
    row = list(shifted_row) + list(quotient_row)
    at_z = _dot(coeff_z, [Ext(v, 0) - c for v, c in zip(row, values_at_z, strict=True)])
    at_zw = _dot(
        [coeff_zw[c] for c in next_columns],
        [Ext(shifted_row[c], 0) - v for c, v in zip(next_columns, values_at_zw, strict=True)],
    )
    result = at_z * (Ext(x, 0) - z).inverse() + at_zw * (Ext(x, 0) - zw).inverse()
    if randomizer_row is not None:
        result = result + Ext(randomizer_row[0], randomizer_row[1]) * alpha ** (n_at_z + n_shifted)
    if correction_exponent:
        weight = correction_weight(alpha, n_at_z, n_shifted)
        result = result * (Ext(1, 0) + weight * pow(x, correction_exponent, gl.P))
    return result
