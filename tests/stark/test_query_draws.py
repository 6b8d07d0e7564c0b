"""Poseidon2 proofs never repeat a query position (`statement.grind_for_distinct_queries`): a verifier
compiled into a recursion program checks exactly `num_queries` drawn lanes, so the prover grinds
past any proof-of-work nonce whose draw repeats one. The native verifier is unchanged."""

import dataclasses

import pytest

from zkpor.recursion.verifier_program import replay
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.params import ParameterError, ProofOptions
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N = 8
# An LDE of 16 positions and 8 queries: a draw repeats a position with probability ≈ 0.88.
CROWDED = ProofOptions(blowup=2, num_queries=8, grinding_bits=0, fri_folding_log=1, fri_final_degree=2,
                       zero_knowledge=False, hasher="poseidon2")  # fmt: skip


def fibonacci():
    trace = fibonacci_trace(N)
    return FibonacciAir(N, int(trace[1, -1])), trace


def test_a_poseidon2_proof_draws_no_repeated_position():
    air, trace = fibonacci()
    skipped = 0
    for queries in (6, 7, 8):  # other options, other transcripts: a repeat at nonce 0 is likely in each
        options = dataclasses.replace(CROWDED, num_queries=queries)
        proof = prove(air, trace, options)
        positions = replay(air, proof).positions
        assert len(positions) == len(set(positions)) == queries
        verify(air, proof.to_bytes(), min_security_bits=0)
        # With no grinding every nonce passes: each one before the proof's drew a repeat.
        for nonce in range(proof.pow_nonce):
            earlier = replay(air, dataclasses.replace(proof, pow_nonce=nonce)).positions
            assert len(earlier) > queries
        skipped += proof.pow_nonce
    assert skipped > 0  # the collision case happened


def test_grinding_keeps_the_work_and_the_draw():
    """With grinding bits the chosen nonce still passes the work, and draws no repeat."""
    air, trace = fibonacci()
    options = dataclasses.replace(CROWDED, grinding_bits=4)
    proof = prove(air, trace, options)
    verify(air, proof.to_bytes(), min_security_bits=0)
    assert len(replay(air, proof).positions) == options.num_queries


def test_blake3_proofs_are_unchanged():
    """The rule is the Poseidon2 configuration's: a BLAKE3 proof takes the first passing nonce."""
    air, trace = fibonacci()
    proof = prove(air, trace, dataclasses.replace(CROWDED, hasher="blake3"))
    assert proof.pow_nonce == 0
    verify(air, proof.to_bytes(), min_security_bits=0)


def test_options_that_almost_always_repeat_are_refused():
    long_trace = fibonacci_trace(2 * N)  # an LDE of 32 positions: 16 queries repeat with p ≈ 0.99
    air = FibonacciAir(2 * N, int(long_trace[1, -1]))
    with pytest.raises(ParameterError, match="repeat"):
        prove(air, long_trace, dataclasses.replace(CROWDED, num_queries=16))


def test_the_native_verifier_accepts_a_repeating_draw_and_opens_distinct_positions(monkeypatch):
    """The rule binds the prover only: a Poseidon2 proof whose draw repeats a position (made here
    by a prover that takes the first passing nonce, as before the rule) still verifies natively,
    which opens `num_queries` distinct positions, reading one more lane per repeat; so a cheating
    prover gains nothing from ignoring the rule. A compiled verifier refuses to read it."""
    from zkpor.recursion.program import ProgramError
    from zkpor.recursion.verifier_program import compile_verifier, witness
    from zkpor.stark import prover as prover_module

    monkeypatch.setattr(prover_module, "grind_for_distinct_queries",
                        lambda transcript, bits, lde_size, queries: transcript.grind(bits))  # fmt: skip
    air, trace = fibonacci()
    for queries in (6, 7, 8):
        options = dataclasses.replace(CROWDED, num_queries=queries)
        proof = prove(air, trace, options)
        positions = replay(air, proof).positions
        if len(positions) == queries:
            continue  # no repeat at the first nonce for these options
        assert len(set(positions)) == queries and len(proof.main_opening.rows) == queries
        verify(air, proof.to_bytes(), min_security_bits=0)
        with pytest.raises(ProgramError, match="lanes"):
            witness(compile_verifier(air, options), air, proof)
        return
    pytest.fail("no draw repeated: the crowded options no longer crowd")
