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

from collections.abc import Sequence

import numpy as np

from zkpor.field import extension as ext
from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.field.pure import ext_base_dot, ext_powers_list
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
    coeff_z, coeff_zw, claimed_z, claimed_zw = _weights_and_claims(
        alpha, n_at_z, n_shifted, next_columns, values_at_z, values_at_zw
    )
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
    for combined, point, claimed in ((combined_z, z, claimed_z), (combined_zw, zw, claimed_zw)):
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


def _weights_and_claims(
    alpha: Ext,
    n_at_z: int,
    n_shifted: int,
    next_columns: Sequence[int],
    values_at_z: Sequence[Ext],
    values_at_zw: Sequence[Ext],
) -> tuple[list[Ext], list[Ext], Ext, Ext]:
    """The DEEP weights at z (every column's) and at zω (every shifted column's, 0 off
    `next_columns`), and the claimed sums Σ α^k·v_k(z) and Σ α^k·v_k(zω) (`values_at_zw` in the
    order of `next_columns`): one function for the prover's DEEP and the verifier's."""
    coeff_z = ext_powers_list(alpha, n_at_z)
    coeff_zw = _next_row_weights(alpha, n_at_z, n_shifted, next_columns)
    claimed_zw = _dot([coeff_zw[c] for c in next_columns], values_at_zw)
    return coeff_z, coeff_zw, _dot(coeff_z, values_at_z), claimed_zw


def _next_row_weights(alpha: Ext, n_at_z: int, n_shifted: int, next_columns: Sequence[int]) -> list[Ext]:
    """The zω weight of every shifted column: α^{n_at_z + c} if column c is opened at zω, else 0."""
    powers = ext_powers_list(alpha, n_shifted, start=n_at_z)
    weights = [Ext(0, 0)] * n_shifted
    for c in next_columns:
        weights[c] = powers[c]
    return weights


class DeepAtQueries:
    """The verifier's DEEP(x)·(1 + λ·x^s) at queried LDE points, from the opened rows.

    Σ_c α^{k_c}·(f_c(x) − f_c(z)) is Σ_c α^{k_c}·f_c(x) − Σ_c α^{k_c}·f_c(z): the second sum (and
    its zω counterpart) is the same for every query of a proof, so it is computed once here; a
    query costs two base-field dot products (an opened value is a base element, a weight an
    extension one: c0 and c1 apart) over the ~450 columns of a recursion proof, on Python ints."""

    def __init__(
        self,
        values_at_z: Sequence[Ext],
        values_at_zw: Sequence[Ext],
        n_shifted: int,
        next_columns: Sequence[int],
        z: Ext,
        zw: Ext,
        alpha: Ext,
        correction_exponent: int = 0,
    ) -> None:
        n_at_z = len(values_at_z)
        if not n_shifted <= n_at_z or len(values_at_zw) != len(next_columns):
            raise ValueError("DEEP: the values at z and zω do not match the opened columns")
        self.n_shifted, self.n_at_z, self.next_columns = n_shifted, n_at_z, list(next_columns)
        self.z, self.zw = z, zw
        weights_z, next_weights, self._offset_z, self._offset_zw = _weights_and_claims(
            alpha, n_at_z, n_shifted, next_columns, values_at_z, values_at_zw
        )
        weights_zw = [next_weights[c] for c in next_columns]  # in the order of values_at_zw
        self._z0, self._z1 = [w.c0 for w in weights_z], [w.c1 for w in weights_z]
        self._zw0, self._zw1 = [w.c0 for w in weights_zw], [w.c1 for w in weights_zw]
        self._randomizer_weight = alpha ** (n_at_z + n_shifted)
        self.correction_exponent = correction_exponent
        self._correction = correction_weight(alpha, n_at_z, n_shifted) if correction_exponent else None

    def at(
        self,
        x: int,
        shifted_row: Sequence[int],
        quotient_row: Sequence[int],
        randomizer_row: Sequence[int] | None,
    ) -> Ext:
        """DEEP(x)·(1 + λ·x^s) at the LDE point x, from the opened rows (canonical ints)."""
        row = list(shifted_row) + list(quotient_row)
        if len(shifted_row) != self.n_shifted or len(row) != self.n_at_z:
            raise ValueError("DEEP: an opened row has another width than the proof's columns")
        next_values = [row[c] for c in self.next_columns]
        at_z = ext_base_dot(self._z0, self._z1, row) - self._offset_z
        at_zw = ext_base_dot(self._zw0, self._zw1, next_values) - self._offset_zw
        result = at_z * (Ext(x, 0) - self.z).inverse() + at_zw * (Ext(x, 0) - self.zw).inverse()
        if randomizer_row is not None:
            result = result + Ext(randomizer_row[0], randomizer_row[1]) * self._randomizer_weight
        if self._correction is not None:
            result = result * (Ext(1, 0) + self._correction * pow(x, self.correction_exponent, gl.P))
        return result
