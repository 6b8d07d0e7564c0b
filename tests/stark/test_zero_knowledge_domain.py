"""Zero knowledge over the degree bound D = n + 2·(queries + 2) and an LDE of blowup·n points
(`stark.domain`): honest proofs verify, and FRI holds the committed columns to that bound."""

from __future__ import annotations

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.stark import prover
from zkpor.stark.domain import ProofDomain
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.params import ProofOptions
from zkpor.stark.polys import random_field_matrix
from zkpor.stark.verifier import verify

N = 1 << 11  # 20 random coefficients · 64 ≤ 2^11: the compact domain
OPTIONS = ProofOptions(blowup=4, num_queries=8, grinding_bits=0, fri_folding_log=2, fri_final_degree=4,
                       zero_knowledge=True)  # fmt: skip


def _fibonacci() -> tuple[FibonacciAir, np.ndarray]:
    trace = fibonacci_trace(N)
    return FibonacciAir(N, int(trace[1, -1])), trace


def test_the_compact_domain_proves_and_verifies() -> None:
    air, trace = _fibonacci()
    domain = ProofDomain.create(N, air.max_constraint_degree(), OPTIONS)
    assert (domain.degree_bound, domain.lde_size, domain.coefficient_width) == (N + 20, 4 * N, 2 * N)
    proof = prover.prove(air, trace, OPTIONS)
    assert proof.num_quotient_chunks == domain.num_quotient_chunks == 2
    assert len(proof.fri_final) == 3  # ⌈2,068 / 4^5⌉: folds of a degree bound that is no power of two
    verify(air, proof, min_security_bits=0)
    again = prover.prove(air, trace, OPTIONS)
    assert again.main_root != proof.main_root and again.main_at_z != proof.main_at_z  # randomised


def test_columns_randomised_beyond_the_degree_bound_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prover that randomises each column with n coefficients (degree < 2n, as format 5 did) still
    commits the trace on H, but above the degree bound n + r that FRI tests: the verifier says no."""

    def doubled_randomiser(columns: np.ndarray, domain: ProofDomain, zero_knowledge: bool) -> np.ndarray:
        width, n = columns.shape
        rho = random_field_matrix((width, n))
        return np.concatenate([gl.sub(ntt.intt(columns), rho), rho], axis=1)  # t + (X^n − 1)·ρ

    air, trace = _fibonacci()
    monkeypatch.setattr(prover, "trace_coefficients", doubled_randomiser)
    proof = prover.prove(air, trace, OPTIONS)
    with pytest.raises(VerificationError, match="FRI"):
        verify(air, proof, min_security_bits=0)



def more_random_coefficients(monkeypatch: pytest.MonkeyPatch, extra: int) -> None:
    """A prover that randomises every committed column and quotient chunk with r + `extra`
    coefficients: still the trace on H and the same composition, of degree D − 1 + `extra`."""
    monkeypatch.setattr(ProofDomain, "random_coefficients",
                        property(lambda d: d.degree_bound - d.trace_length + extra))  # fmt: skip


@pytest.mark.parametrize("extra", [1, 3 * 4**5 - (N + 20)])
def test_columns_between_the_degree_bound_and_the_folds_bound_are_rejected(
    monkeypatch: pytest.MonkeyPatch, extra: int
) -> None:
    """Folding D = 2,068 by 4 five times to 3 final coefficients tests degree < 3·4^5 = 3,072 alone:
    a prover whose columns have degree D (one random coefficient too many), or 3,071, is refused
    through the degree correction DEEP·(1 + λ·X^s) (`stark.deep`); without it, it was accepted."""
    air, trace = _fibonacci()
    domain = ProofDomain.create(N, air.max_constraint_degree(), OPTIONS)
    assert domain.degree_bound + extra <= 3 * 4**5 <= domain.coefficient_width
    more_random_coefficients(monkeypatch, extra)
    proof = prover.prove(air, trace, OPTIONS)
    monkeypatch.undo()
    with pytest.raises(VerificationError, match="FRI final"):
        verify(air, proof, min_security_bits=0)
