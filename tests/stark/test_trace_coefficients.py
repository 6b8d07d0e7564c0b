"""The interpolated (and, with zero knowledge, randomised) trace polynomials the prover commits."""

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.stark import polys
from zkpor.stark.domain import ProofDomain
from zkpor.stark.params import ProofOptions


def test_randomised_trace_equals_the_trace_on_h_and_is_masked_elsewhere():
    """[t − ρ ‖ ρ ‖ 0] is t + (X^n − 1)·ρ with ρ of degree < r: on H (the even points of the
    2n-domain) it is the trace; its degree is < n + r; ρ is fresh randomness each time, and the
    coefficients above n + r are zero, also when written into a reused (dirty) matrix."""
    n, width = 64, 5
    options = ProofOptions(blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2,
                           fri_final_degree=4, zero_knowledge=True)  # fmt: skip
    domain = ProofDomain.create(n, 2, options)
    r = domain.random_coefficients
    assert (r, domain.degree_bound, domain.coefficient_width) == (20, n + 20, 2 * n)
    trace = gl.random_elements((width, n), np.random.default_rng(3))
    polys._lde_buffers._kept.clear()
    polys._lde_buffers.give(np.full((width, 2 * n), 7, dtype=np.uint64))
    first = polys.trace_coefficients(trace, domain, zero_knowledge=True)
    second = polys.trace_coefficients(trace, domain, zero_knowledge=True)
    for coefficients in (first, second):
        assert coefficients.shape == (width, 2 * n)
        assert np.array_equal(ntt.ntt(coefficients)[:, ::2], trace)
        assert not np.any(coefficients[:, n + r :])
        unmasked = coefficients[:, :n].copy()
        unmasked[:, :r] = gl.add(unmasked[:, :r], coefficients[:, n : n + r])
        assert np.array_equal(unmasked, ntt.intt(trace))
    assert not np.any(first[:, n : n + r] == second[:, n : n + r])
    assert np.array_equal(polys.trace_coefficients(trace, domain, zero_knowledge=False), ntt.intt(trace))
