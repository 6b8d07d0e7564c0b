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
    randomizer: np.ndarray | None,
    values_at_z: Sequence[Ext],
    values_at_zw: Sequence[Ext],
    next_columns: Sequence[int],
    z: Ext,
    alpha: Ext,
    correction_exponent: int = 0,
) -> np.ndarray:
    """DEEP over the LDE (degree-corrected by `correction_exponent`, see the module docstring),
    from the committed columns' coefficient matrices (columns, width): `shifted` (main, aux,
    preprocessed) are opened at z and, the columns `next_columns` of them, at zω (`values_at_zw`
    in that order); the quotient's first `num_chunk_columns` columns at z only. With zero
    knowledge `randomizer` is R on the LDE, (2, N) (the quotient LDE's last two rows), else None.

    Σ_c α^{k_c} f_c is itself a polynomial: it is combined on the coefficients (at most N/2 a
    column: half the reads of combining the LDE's columns, a quarter without zero knowledge) and
    evaluated on the LDE once, two transforms per extension polynomial. The values are the same
    field elements as the LDE's combination: the committed LDE is these coefficients evaluated."""
    n_shifted = sum(m.shape[0] for m in shifted)
    n_at_z = n_shifted + num_chunk_columns
    coeff_z = ext_powers_list(alpha, n_at_z)
    coeff_zw = _next_row_weights(alpha, n_at_z, n_shifted, next_columns)
    points = ntt.domain(domain.log_lde, ntt.GENERATOR)

    # Two combinations, not one of two coefficient sets: the one at zω has zero weights except on
    # the few next-row columns, and the kernel skips rows whose weight is zero. When every shifted
    # column is opened at zω (Poseidon2 proofs), its weight there is α^Z times its weight at z, so
    # the combination at zω is α^Z times the shifted columns' part of the one at z: one product a
    # coefficient instead of a second pass over every column.
    width = max(m.shape[1] for m in [*shifted, quotient])
    sums = np.zeros((2, width, 2), dtype=np.uint64)  # at z, at zω; a shorter matrix's tail is zeros

    def add(index: int, matrix: np.ndarray, weights: Sequence[Ext]) -> None:
        part = sums[index, : matrix.shape[1]]
        part[:] = ext.ext_add(part, ext.ext_linear_combination(matrix, weights))

    every_column_at_zw = len(next_columns) == n_shifted
    offset = 0
    for matrix in shifted:
        columns = slice(offset, offset + matrix.shape[0])
        add(0, matrix, coeff_z[columns])
        if not every_column_at_zw and any(columns.start <= c < columns.stop for c in next_columns):
            add(1, matrix, coeff_zw[columns])
        offset += matrix.shape[0]
    if every_column_at_zw:
        sums[1] = ext.ext_mul(sums[0], _as_array([alpha**n_at_z]))
    add(0, quotient[:num_chunk_columns], coeff_z[n_shifted:])
    # rows c0, c1 at z, then at zω, evaluated on the LDE coset
    lde = ntt.coset_evaluate(np.ascontiguousarray(sums.transpose(0, 2, 1).reshape(4, width)),
                             domain.lde_size // width, ntt.GENERATOR)  # fmt: skip
    combined_z = np.ascontiguousarray(lde[0:2].T)
    combined_zw = np.ascontiguousarray(lde[2:4].T)

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
    if randomizer is not None:
        r = np.ascontiguousarray(randomizer.T)
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
