"""The Poseidon2-per-row AIR: the trace matches the reference permutation, and cheats are rejected."""

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field import goldilocks as gl
from zkpor.hash.poseidon2 import permute
from zkpor.stark.examples.poseidon2_air import Poseidon2Air, poseidon2_trace
from zkpor.stark.gadgets import poseidon2 as gadget
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N = 32  # zero knowledge with 8 queries needs 2·(8 + 1) = 18 random values per column


@pytest.fixture(scope="module")
def trace():
    return poseidon2_trace(N, np.random.default_rng(5))


def first_output(trace):
    offset = gadget.output_columns_offset()
    return [int(v) for v in trace[offset : offset + 12, 0]]


def test_trace_matches_reference_permutation(trace):
    offset = gadget.output_columns_offset()
    for row in range(N):
        expected = permute([int(v) for v in trace[:12, row]])
        assert [int(v) for v in trace[offset : offset + 12, row]] == expected


def test_plonky3_vector_in_the_trace():
    inputs = np.arange(12, dtype=np.uint64).reshape(12, 1)
    row = gadget.fill_trace(inputs)
    offset = gadget.output_columns_offset()
    assert int(row[offset, 0]) == 0xF292AB67C0F14B03
    assert int(row[offset + 11, 0]) == 0x0AAF4489F1F40166


def test_honest_proof_verifies(trace, small_options):
    air = Poseidon2Air(N, first_output(trace))
    verify(air, prove(air, trace, small_options).to_bytes(), min_security_bits=0)


def test_wrong_public_output_is_rejected(trace, small_options):
    air = Poseidon2Air(N, first_output(trace))
    proof = prove(air, trace, small_options)
    wrong = first_output(trace)
    wrong[3] = (wrong[3] + 1) % gl.P
    with pytest.raises(VerificationError):
        verify(Poseidon2Air(N, wrong), proof, min_security_bits=0)


@pytest.mark.parametrize("column", [20, 12 + 8 * 12 + 1, gadget.COLUMNS - 1])
def test_one_wrong_intermediate_is_rejected(trace, small_options, column):
    """Changing one stored S-box or round value breaks exactly the constraint defining it
    (and the next one reading it), never the assertion on row 0: the change is on row 5."""
    cheat = trace.copy()
    cheat[column, 5] = gl.add(cheat[column, 5:6], 1)[0]
    air = Poseidon2Air(N, first_output(trace))
    proof = prove(air, cheat, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)
