"""Fibonacci AIR: completeness, and a cheating prover for each kind of main-trace constraint."""

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field.goldilocks import P
from zkpor.stark.air import AirError
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N = 64


def honest(n=N):
    trace = fibonacci_trace(n)
    return FibonacciAir(n, int(trace[1, -1])), trace


def test_honest_proof_verifies(small_options):
    air, trace = honest()
    proof = prove(air, trace, small_options)
    report = verify(air, proof.to_bytes(), min_security_bits=0)
    assert report.trace_length == N


def test_prover_refuses_a_bad_trace(small_options):
    air, trace = honest()
    trace[1, 10] += np.uint64(1)
    with pytest.raises(AirError, match="does not satisfy"):
        prove(air, trace, small_options)


def test_proof_for_one_result_does_not_verify_for_another(small_options):
    air, trace = honest()
    proof = prove(air, trace, small_options)
    with pytest.raises(VerificationError):
        verify(FibonacciAir(N, air.result + 1), proof, min_security_bits=0)


def test_cheating_transition_is_rejected(small_options):
    """Row 10 breaks b' = a + b; the rows after it follow the rule again and the result matches."""
    air, trace = honest()
    trace[1, 10] += np.uint64(1)
    for i in range(11, N):
        trace[0, i] = trace[1, i - 1]
        trace[1, i] = (int(trace[0, i - 1]) + int(trace[1, i - 1])) % P
    cheat_air = FibonacciAir(N, int(trace[1, -1]))
    proof = prove(cheat_air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(cheat_air, proof, min_security_bits=0)


def test_cheating_boundary_is_rejected(small_options):
    """A valid Fibonacci run from a different start (2, 3): only the assertions at row 0 fail."""
    a, b, rows = 2, 3, []
    for _ in range(N):
        rows.append((a, b))
        a, b = b, (a + b) % P
    trace = np.array(rows, dtype=np.uint64).T.copy()
    air = FibonacciAir(N, int(trace[1, -1]))
    proof = prove(air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)


def test_two_proofs_of_the_same_statement_differ_with_zero_knowledge():
    from zkpor.stark.params import ProofOptions

    options = ProofOptions(blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2,
                           fri_final_degree=4, zero_knowledge=True)
    air, trace = honest()
    first, second = prove(air, trace, options), prove(air, trace, options)
    assert first.main_root != second.main_root
    assert first.to_bytes() != second.to_bytes()
    witness = set(int(v) for v in trace.ravel())
    for proof in (first, second):
        opened = {int(v) for o in proof.openings() for v in o.rows.ravel()}
        ood = {e.c0 for e in proof.main_at_z + proof.main_at_zw} | {e.c1 for e in proof.main_at_z}
        assert not (opened & witness - {0, 1})
        assert not (ood & witness)


def test_min_security_is_enforced(small_options):
    air, trace = honest()
    proof = prove(air, trace, small_options)
    with pytest.raises(VerificationError, match="conjectured bits"):
        verify(air, proof)


def test_proofs_in_a_row_reuse_the_main_lde_matrix(small_options):
    """A proof gives its main LDE matrix back for the next proof of the same shape (no fresh
    pages to zero): the next proof writes its whole LDE into that very array (zeroed here first),
    and both proofs verify, the first one also after its matrix was overwritten."""
    from zkpor.stark import polys

    air, trace = honest()
    polys._lde_buffers._kept.clear()  # (what earlier tests left)
    first = prove(air, trace, small_options)
    kept = polys._lde_buffers._kept[0]  # the LDE (then, with zero knowledge, the coefficients)
    assert kept.shape[1] == 8 * N if small_options.zero_knowledge else 4 * N
    kept[:] = 0
    second = prove(air, trace, small_options)
    assert np.all(kept.any(axis=0))  # every point rewritten
    assert any(m is kept for m in polys._lde_buffers._kept)  # and given back again
    for proof in (first, second):
        verify(air, proof.to_bytes(), min_security_bits=0)
    # a larger proof (a tree's node among the batches): its LDE fits no kept matrix and takes fresh
    # pages; the kept ones stay for the next proof of their shape, which finds its LDE again
    other, other_trace = honest(4 * N)
    prove(other, other_trace, small_options)
    assert any(m is kept for m in polys._lde_buffers._kept)
    prove(air, trace, small_options)
    assert any(m is kept for m in polys._lde_buffers._kept)


def test_a_smaller_proof_between_writes_into_the_kept_matrices_and_gives_them_back(small_options):
    """A proof of half the shape between two of the same (a tree node among the batches) writes
    into the front of the matrices the first one kept (views: no fresh pages) and gives back each
    whole, so the next proof of the first shape finds all of them again; every proof verifies."""
    from zkpor.stark import polys

    air, trace = honest()
    polys._lde_buffers._kept.clear()
    first = prove(air, trace, small_options)
    kept = list(polys._lde_buffers._kept)
    for matrix in kept:
        matrix[:] = 0
    small_air, small_trace = honest(N // 2)
    small = prove(small_air, small_trace, small_options)
    assert {id(m) for m in polys._lde_buffers._kept} == {id(m) for m in kept}  # the same arrays, whole
    assert all(m.reshape(-1)[: m.size // 2].any() for m in kept)  # each was written by the small proof
    second = prove(air, trace, small_options)
    assert {id(m) for m in polys._lde_buffers._kept} == {id(m) for m in kept}
    for a, proof in ((air, first), (small_air, small), (air, second)):
        verify(a, proof.to_bytes(), min_security_bits=0)


def test_a_kept_matrix_serves_a_request_of_at_most_twice_less_as_a_view():
    from zkpor.stark.polys import _LdeBuffers

    buffers = _LdeBuffers()
    owner = np.zeros((4, 64), dtype=np.uint64)
    buffers.give(owner)
    assert buffers.take((4, 16)) is None  # a quarter: kept for a closer fit (a miss)
    view = buffers.take((3, 64))
    assert view is not None and view.shape == (3, 64) and view.flags.c_contiguous
    assert np.shares_memory(view, owner) and buffers.take((4, 64)) is None  # lent, not kept
    view[:] = 5
    buffers.give(view)  # the whole matrix comes back
    assert buffers.take((4, 64)) is owner and owner[:3].all() and not owner[3].any()
    buffers.give(owner)
    assert buffers.take((3, 64), fit=False) is None  # exact shapes only (a trace)
    assert buffers.take((4, 64)) is owner


def test_kept_matrices_are_bounded_in_bytes_and_count_the_oldest_going_first():
    from zkpor.stark.polys import _LdeBuffers

    buffers = _LdeBuffers()
    buffers.KEPT_BYTES = 3 * 8 * 64  # three (1, 64) matrices
    given = [np.full((1, 64), i, dtype=np.uint64) for i in range(4)]
    for matrix in given:
        buffers.give(matrix)
    assert [m[0, 0] for m in buffers._kept] == [1, 2, 3]
    buffers.give(np.zeros((2, 64), dtype=np.uint64))  # two more rows' worth: 1 and 2 go
    assert [m.shape[0] for m in buffers._kept] == [1, 2] and buffers._kept[0][0, 0] == 3
    buffers.LIMIT = 1
    buffers.give(np.zeros((1, 8), dtype=np.uint64))
    assert [m.shape for m in buffers._kept] == [(1, 8)]
