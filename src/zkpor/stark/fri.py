"""FRI: proving that committed evaluations are close to a polynomial of low degree.

Domains. Layer 0 is the DEEP composition evaluated on the LDE coset L_0 = g·⟨ω_N⟩ in natural order
(point i is g·ω_N^i). Folding by a factor F = 2^k maps layer ℓ (size N_ℓ) to layer ℓ+1 (size
N_ℓ / F): the F points x·ω_F^t (t < F) share the image y = x^F. Writing f(X) = Σ_j X^j f_j(X^F), the
folded function is f'(y) = Σ_j β^j f_j(y); it is computed from the F values by a small inverse DFT:
x^j f_j(y) = (1/F) Σ_t ω_F^{−tj} f(x ω_F^t).

Commitments. Each committed layer is a Merkle tree whose row r holds the F values of the coset that
folds to point r of the next layer, so one opening gives a verifier everything one fold needs. After
the last fold the prover sends the remaining polynomial's coefficients instead of a tree.

Point index i of layer ℓ+1 comes from the coset {i + t·N_{ℓ+1}} of layer ℓ, whose elements are
row i, position t of layer ℓ's tree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from zkpor.field import extension as ext
from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.field.pure import ext_base_dot, horner
from zkpor.hash.transcript import Transcript
from zkpor.stark.commitment import RowCommitment, commit_rows
from zkpor.stark.domain import ProofDomain
from zkpor.stark.params import ProofOptions, folded_degree_bound, fri_fold_count


@dataclass(frozen=True)
class FriLayout:
    """Sizes of every FRI layer, derived from the degree bound and the options alone."""

    degree_bound: int  # D: the function at layer 0 has degree < D
    lde_size: int  # N
    folding_log: int
    num_folds: int

    @staticmethod
    def plan(degree_bound: int, lde_size: int, folding_log: int, final_degree: int) -> FriLayout:
        folds = fri_fold_count(degree_bound, folding_log, final_degree)
        return FriLayout(degree_bound, lde_size, folding_log, folds)

    @staticmethod
    def for_proof(domain: ProofDomain, options: ProofOptions) -> FriLayout:
        """The layout of a proof over `domain` with `options` (the prover's and both verifiers')."""
        return FriLayout.plan(domain.degree_bound, domain.lde_size, options.fri_folding_log,
                              options.fri_final_degree)  # fmt: skip

    @property
    def factor(self) -> int:
        return 1 << self.folding_log

    def layer_size(self, layer: int) -> int:
        return self.lde_size >> (self.folding_log * layer)

    @property
    def final_degree_bound(self) -> int:
        return folded_degree_bound(self.degree_bound, self.folding_log, self.num_folds)

    @property
    def tested_degree_bound(self) -> int:
        """The degree bound the folds and the final polynomial test: F^k·⌈D/F^k⌉. Any polynomial of
        degree below it folds k times to one of `final_degree_bound` coefficients, so unless F^k
        divides D (zero knowledge's D = n + r it does not) this is above D."""
        return self.final_degree_bound << (self.folding_log * self.num_folds)

    @property
    def correction_exponent(self) -> int:
        """s = tested bound − (D − 1) when the tested bound is above D: layer 0 is DEEP·(1 + λ·X^s)
        (`stark.deep`), of degree below the tested bound exactly when DEEP's is below D − 1, that is
        the committed columns' below D. 0 (no correction) when F^k divides D: FRI tests DEEP's
        degree < D itself then, one above the honest D − 1 as FRI always has."""
        excess = self.tested_degree_bound - self.degree_bound
        return excess + 1 if excess else 0

    def layer_shift(self, layer: int) -> int:
        """The coset offset g^(F^ℓ) of layer ℓ."""
        return pow(ntt.GENERATOR, 1 << (self.folding_log * layer), gl.P)


@functools.cache
def _inverse_dft_matrix(factor: int) -> list[list[int]]:
    """(1/F)·ω_F^{−tj}, as Python ints: row j, column t (cached: the verifier folds per query)."""
    omega_inv = pow(ntt.root_of_unity(factor.bit_length() - 1), gl.P - 2, gl.P)
    f_inv = pow(factor, gl.P - 2, gl.P)
    return [[f_inv * pow(omega_inv, t * j, gl.P) % gl.P for t in range(factor)] for j in range(factor)]


def fold_layer(values: np.ndarray, layout: FriLayout, layer: int, beta: Ext) -> np.ndarray:
    """Fold layer ℓ's evaluations (N_ℓ, 2) into layer ℓ+1's (N_ℓ/F, 2) with challenge β."""
    factor = layout.factor
    next_size = layout.layer_size(layer + 1)
    cosets = values.reshape(factor, next_size, 2)  # cosets[t, i] = f(x_i · ω_F^t)
    idft = _inverse_dft_matrix(factor)
    # x_i^{-1} for the coset representatives x_i = shift · ω_{N_ℓ}^i, i < N_{ℓ+1}
    size = layout.layer_size(layer)
    x = ntt.domain(size.bit_length() - 1, layout.layer_shift(layer))[:next_size]
    x_inv = gl.batch_inv(x)
    beta_arr = np.empty((next_size, 2), dtype=np.uint64)
    beta_arr[:, 0], beta_arr[:, 1] = beta.c0, beta.c1
    step = ext.ext_mul_base(beta_arr, x_inv)  # β / x_i
    result = np.zeros((next_size, 2), dtype=np.uint64)
    weight = ext.ext_from_base(np.ones(next_size, dtype=np.uint64))  # (β/x_i)^j
    for j in range(factor):
        coefficient = np.zeros((next_size, 2), dtype=np.uint64)  # x_i^j f_j(y_i)
        for t in range(factor):
            coefficient = ext.ext_add(coefficient, ext.ext_mul_base(cosets[t], np.uint64(idft[j][t])))
        result = ext.ext_add(result, ext.ext_mul(coefficient, weight))
        weight = ext.ext_mul(weight, step)
    return result


def fold_coset(values: list[Ext], x: int, beta: Ext, factor: int) -> Ext:
    """The verifier's fold of one coset: `values[t]` = f(x·ω_F^t) → f'(x^F). The inverse DFT's
    entries are base elements: each coefficient is two integer dot products, reduced once."""
    idft = _inverse_dft_matrix(factor)
    c0s, c1s = [v.c0 for v in values[:factor]], [v.c1 for v in values[:factor]]
    step = beta * pow(x, gl.P - 2, gl.P)
    result = Ext(0, 0)
    weight = Ext(1, 0)
    for row in idft:
        coefficient = ext_base_dot(c0s, c1s, row)
        result = result + coefficient * weight
        weight = weight * step
    return result


def _layer_matrix(values: np.ndarray, factor: int) -> np.ndarray:
    """Rows of a layer's tree: row i = the F extension values folding to point i, flattened."""
    next_size = values.shape[0] // factor
    cosets = values.reshape(factor, next_size, 2)
    return np.ascontiguousarray(cosets.transpose(1, 0, 2).reshape(next_size, 2 * factor))


@dataclass
class FriCommitment:
    layers: list[RowCommitment]
    final_coefficients: list[Ext]


def commit_phase(
    deep_values: np.ndarray, layout: FriLayout, transcript: Transcript, hasher: str
) -> FriCommitment:
    """Commit to every layer, drawing each folding challenge after the layer's root is absorbed."""
    values = deep_values
    layers: list[RowCommitment] = []
    for layer in range(layout.num_folds):
        committed = commit_rows(_layer_matrix(values, layout.factor), salted=False, hasher=hasher)
        transcript.absorb_digest(b"fri-layer-root", committed.root)
        layers.append(committed)
        beta = Ext(*transcript.challenge_ext(b"fri-fold"))
        values = fold_layer(values, layout, layer, beta)
    final = _final_coefficients(values, layout)
    transcript.absorb_elements(b"fri-final", [c for e in final for c in (e.c0, e.c1)])
    return FriCommitment(layers, final)


def _final_coefficients(values: np.ndarray, layout: FriLayout) -> list[Ext]:
    shift = layout.layer_shift(layout.num_folds)
    c0 = ntt.coset_intt(np.ascontiguousarray(values[:, 0]), shift)
    c1 = ntt.coset_intt(np.ascontiguousarray(values[:, 1]), shift)
    bound = layout.final_degree_bound
    # An honest DEEP polynomial folds to degree < bound; a cheating one is truncated here and the
    # verifier's check of the final layer against these coefficients catches it.
    return [Ext(int(c0[i]), int(c1[i])) for i in range(bound)]


def query_positions(layout: FriLayout, indices: list[int]) -> list[list[int]]:
    """For each committed layer, the sorted distinct rows that the queries open."""
    rows_per_layer = []
    current = list(indices)
    for layer in range(layout.num_folds):
        next_size = layout.layer_size(layer + 1)
        current = sorted({i % next_size for i in current})
        rows_per_layer.append(current)
    return rows_per_layer


def verify_queries(
    layout: FriLayout,
    layer_rows: list[dict[int, list[Ext]]],
    betas: list[Ext],
    final_coefficients: list[Ext],
    indices: list[int],
    layer0_values: dict[int, Ext],
) -> str | None:
    """Check every query's path through the layers. `layer_rows[ℓ][r]` is the opened (and
    Merkle-verified) row r of layer ℓ; `layer0_values[i]` is DEEP(x_i) computed by the verifier.
    Returns None when all is consistent, else a reason."""
    if len(final_coefficients) != layout.final_degree_bound:
        return "FRI final polynomial has the wrong number of coefficients"
    factor = layout.factor
    for index in indices:
        expected = layer0_values[index]
        position = index
        for layer in range(layout.num_folds):
            size = layout.layer_size(layer)
            next_size = size // factor
            row, t = position % next_size, position // next_size
            coset = layer_rows[layer][row]
            if coset[t] != expected:
                return f"FRI layer {layer} disagrees with the previous layer at query {index}"
            x = layout.layer_shift(layer) * pow(ntt.root_of_unity(size.bit_length() - 1), row, gl.P) % gl.P
            expected = fold_coset(coset, x, betas[layer], factor)
            position = row
        size = layout.layer_size(layout.num_folds)
        x = layout.layer_shift(layout.num_folds) * pow(
            ntt.root_of_unity(size.bit_length() - 1), position, gl.P
        ) % gl.P
        if horner(final_coefficients, x) != expected:
            return f"FRI final polynomial disagrees with the last layer at query {index}"
    return None
