"""The proof parser is strict: every single-byte change, truncation or garbage is refused cleanly."""

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkpor.errors import VerificationError, ZkporError
from zkpor.hash.merkle_proof import SALT_ELEMS
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.params import COMMITMENT_DIGEST_BYTES, ProofOptions
from zkpor.stark.proof import Opening, ProofFormatError, StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N = 16
OPTIONS = ProofOptions(blowup=4, num_queries=3, grinding_bits=1, fri_folding_log=2, fri_final_degree=4,
                       zero_knowledge=True)  # fmt: skip


@pytest.fixture(scope="module")
def proof_bytes() -> bytes:
    trace = fibonacci_trace(N)
    return prove(FibonacciAir(N, int(trace[1, -1])), trace, OPTIONS).to_bytes()


@pytest.fixture(scope="module")
def air() -> FibonacciAir:
    return FibonacciAir(N, int(fibonacci_trace(N)[1, -1]))


def test_round_trip(proof_bytes, air):
    assert StarkProof.from_bytes(proof_bytes).to_bytes() == proof_bytes
    verify(air, proof_bytes, min_security_bits=0)


def test_every_single_byte_flip_is_rejected(proof_bytes, air):
    rng = random.Random(7)
    for position in range(len(proof_bytes)):
        tampered = bytearray(proof_bytes)
        tampered[position] ^= 1 << rng.randrange(8)
        with pytest.raises(ZkporError):
            verify(air, bytes(tampered), min_security_bits=0)


def test_truncations_are_format_errors(proof_bytes):
    for length in range(0, len(proof_bytes), max(1, len(proof_bytes) // 200)):
        with pytest.raises(ProofFormatError):
            StarkProof.from_bytes(proof_bytes[:length])


def test_trailing_bytes_are_rejected(proof_bytes):
    with pytest.raises(ProofFormatError, match="unexpected bytes"):
        StarkProof.from_bytes(proof_bytes + b"\0")


def test_oversized_input_is_refused_before_parsing():
    with pytest.raises(ProofFormatError, match="limit"):
        StarkProof.from_bytes(b"ZKPSTARK" + bytes(65 << 20))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_garbage_never_crashes(data):
    try:
        StarkProof.from_bytes(b"ZKPSTARK\x01\x00" + data)
    except ProofFormatError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_random_splices_never_crash_the_verifier(proof_bytes, air, data):
    start = data.draw(st.integers(0, len(proof_bytes)))
    junk = data.draw(st.binary(max_size=64))
    tampered = proof_bytes[:start] + junk + proof_bytes[start + len(junk):]
    if tampered == proof_bytes:
        return
    with pytest.raises(ZkporError):
        verify(air, tampered, min_security_bits=0)


def _with_siblings(opening: Opening, salted: bool, change) -> Opening:
    """The opening with its multi-proof's sibling list rewritten by `change` (count kept right)."""
    salt_len = 8 * SALT_ELEMS * opening.rows.shape[0] if salted else 0
    size = COMMITMENT_DIGEST_BYTES["blake3"]
    data = opening.proof[salt_len + 4 :]
    siblings = change([data[i : i + size] for i in range(0, len(data), size)])
    body = len(siblings).to_bytes(4, "little") + b"".join(siblings)
    return Opening(opening.rows, opening.proof[:salt_len] + body)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s[:-1],  # a sibling missing
        lambda s: s + s[:1],  # one too many
        lambda s: [s[1], s[0], *s[2:]],  # the right siblings in the wrong order
        lambda s: [bytes([s[0][0] ^ 1]) + s[0][1:], *s[1:]],  # a sibling changed
    ],
    ids=["missing", "extra", "order", "changed"],
)
def test_tampered_multi_proofs_are_rejected(proof_bytes, air, change):
    proof = StarkProof.from_bytes(proof_bytes)
    tampered = [
        dataclasses.replace(proof, main_opening=_with_siblings(proof.main_opening, True, change)),
        dataclasses.replace(proof, quotient_opening=_with_siblings(proof.quotient_opening, True, change)),
        dataclasses.replace(proof, fri_openings=[_with_siblings(proof.fri_openings[0], False, change),
                                                 *proof.fri_openings[1:]]),  # fmt: skip
    ]
    for bad in tampered:
        with pytest.raises(VerificationError, match="opening does not match its commitment"):
            verify(air, bad.to_bytes(), min_security_bits=0)
