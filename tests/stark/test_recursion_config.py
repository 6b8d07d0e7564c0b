"""The recursion-friendly configuration: Poseidon2 vector commitments and a Poseidon2 transcript.

The same AIRs prove and verify with `ProofOptions(hasher="poseidon2")`; the hasher is part of the
proof and of the statement, so a proof cannot pass under the other configuration, and the usual
cheats are still rejected."""

import dataclasses

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field import goldilocks as gl
from zkpor.hash.merkle import SALT_ELEMS
from zkpor.stark.examples.poseidon2_air import Poseidon2Air, poseidon2_trace
from zkpor.stark.gadgets import poseidon2 as gadget
from zkpor.stark.params import ParameterError, ProofOptions
from zkpor.stark.proof import StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N = 32
OPTIONS = ProofOptions(blowup=4, num_queries=8, grinding_bits=4, fri_folding_log=2, fri_final_degree=4,
                       zero_knowledge=True, hasher="poseidon2")  # fmt: skip


@pytest.fixture(scope="module")
def trace():
    return poseidon2_trace(N, np.random.default_rng(9))


@pytest.fixture(scope="module")
def air(trace):
    offset = gadget.output_columns_offset()
    return Poseidon2Air(N, [int(v) for v in trace[offset : offset + 12, 0]])


@pytest.fixture(scope="module")
def proof(air, trace) -> bytes:
    return prove(air, trace, OPTIONS).to_bytes()


def test_poseidon2_proof_verifies_and_carries_its_hasher(air, proof):
    verify(air, proof, min_security_bits=0)
    parsed = StarkProof.from_bytes(proof)
    assert parsed.options.hasher == "poseidon2"
    # Poseidon2 Merkle roots are 4 field elements
    for root in [parsed.main_root, parsed.quotient_root, *parsed.fri_roots]:
        assert all(int.from_bytes(root[i : i + 8], "little") < gl.P for i in range(0, 32, 8))


def test_the_other_hasher_does_not_verify(air, trace, proof):
    blake3_proof = prove(air, trace, dataclasses.replace(OPTIONS, hasher="blake3")).to_bytes()
    verify(air, blake3_proof, min_security_bits=0)
    for data in (proof, blake3_proof):
        parsed = StarkProof.from_bytes(data)
        other = "blake3" if parsed.options.hasher == "poseidon2" else "poseidon2"
        swapped = dataclasses.replace(parsed, options=dataclasses.replace(parsed.options, hasher=other))
        with pytest.raises(VerificationError):
            verify(air, swapped.to_bytes(), min_security_bits=0)


def test_a_wrong_intermediate_is_rejected(air, trace):
    cheat = trace.copy()
    cheat[40, 3] = gl.add(cheat[40, 3:4], 1)[0]
    with pytest.raises(VerificationError):
        verify(air, prove(air, cheat, OPTIONS, check=False).to_bytes(), min_security_bits=0)


def test_an_opened_row_edited_is_rejected(air, proof):
    parsed = StarkProof.from_bytes(proof)
    rows = parsed.main_opening.rows.copy()
    rows[0, 7] = (int(rows[0, 7]) + 1) % gl.P
    edited = dataclasses.replace(parsed, main_opening=dataclasses.replace(parsed.main_opening, rows=rows))
    with pytest.raises(VerificationError):
        verify(air, edited.to_bytes(), min_security_bits=0)


def test_unknown_hasher_is_refused():
    with pytest.raises(ParameterError, match="hasher"):
        dataclasses.replace(OPTIONS, hasher="sha256").validate()


def test_a_tampered_merkle_node_is_rejected(air, proof):
    """A sibling node of the main opening changed (still a canonical digest): the width-12 node
    hash recomputes another root and the verifier says no."""
    parsed = StarkProof.from_bytes(proof)
    data = bytearray(parsed.main_opening.proof)
    salt_bytes = 8 * SALT_ELEMS * parsed.main_opening.rows.shape[0]  # zero knowledge: salts first
    first_sibling = salt_bytes + 4  # after the u32 sibling count
    data[first_sibling] ^= 1
    opening = dataclasses.replace(parsed.main_opening, proof=bytes(data))
    edited = dataclasses.replace(parsed, main_opening=opening)
    with pytest.raises(VerificationError, match="main trace opening does not match"):
        verify(air, edited.to_bytes(), min_security_bits=0)
