"""Preprocessed columns: a counter that steps where a committed, non-periodic selector says so.

The selector and the values column 1 must copy are public but not periodic: the verifier knows
them only through the verification key's root, and the proof opens them like trace columns."""

import dataclasses

import numpy as np
import pytest

from zkpor.errors import VerificationError, ZkporError
from zkpor.stark.air import Air, AirError, Assertion, Constraint, Frame
from zkpor.stark.domain import ProofDomain
from zkpor.stark.params import ProofOptions
from zkpor.stark.preprocessed import commit_preprocessed, preprocessed_key
from zkpor.stark.proof import ProofFormatError, StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N = 64


def selector_pattern(seed: int) -> np.ndarray:
    """A 0/1 column with 20 ones among the first N − 1 rows (the last row's value is never used)."""
    rng = np.random.default_rng(seed)
    selector = np.zeros(N, dtype=np.uint64)
    selector[rng.choice(N - 1, 20, replace=False)] = 1
    return selector


class SelectedCounter(Air):
    """Column 0 starts at 0 and steps by one after each row whose selector (preprocessed column 0)
    is 1, ending at the public `total`; on selected rows column 1 copies preprocessed column 1."""

    name = "selected-counter"
    preprocessed_width = 2

    def __init__(self, seed: int, total: int = 20) -> None:
        super().__init__(N)
        self.seed, self.total = seed, total

    @property
    def main_width(self) -> int:
        return 2

    def preprocessed_trace(self) -> np.ndarray:
        values = (np.arange(N, dtype=np.uint64) * np.uint64(7919) + np.uint64(self.seed)) % np.uint64(1 << 40)
        return np.stack([selector_pattern(self.seed), values])

    def constraints(self) -> list[Constraint]:
        return [Constraint(1), Constraint(2, wraps=True)]

    def evaluate(self, frame: Frame, periodic) -> list:
        selector, value = frame.preprocessed
        return [
            frame.next[0] - frame.current[0] - selector,
            selector * (frame.current[1] - value),
        ]

    def assertions(self) -> list[Assertion]:
        return [Assertion(0, 0, 0), Assertion(0, N - 1, self.total)]

    def public_inputs(self) -> list[int]:
        return [self.total]


def honest_trace(air: SelectedCounter) -> np.ndarray:
    selector, values = air.preprocessed_trace()
    count = np.concatenate([[0], np.cumsum(selector[:-1])]).astype(np.uint64)
    copied = np.where(selector == 1, values, np.uint64(3))
    return np.stack([count, copied]).astype(np.uint64)


@pytest.fixture(params=["blake3", "poseidon2"])
def options(request, small_options) -> ProofOptions:
    return dataclasses.replace(small_options, hasher=request.param)


def test_preprocessed_selector_proves_and_verifies(options):
    air = SelectedCounter(seed=1)
    committed = commit_preprocessed(air, options)
    proof = prove(air, honest_trace(air), options, preprocessed=committed)
    assert proof.preprocessed_width == 2
    verify(air, StarkProof.from_bytes(proof.to_bytes()), min_security_bits=0, key=committed.key)
    # The key is deterministic: built again (by the verifier's side) it is the same.
    assert commit_preprocessed(SelectedCounter(seed=1), options).key == committed.key


def test_the_root_comes_from_the_key_not_the_proof(small_options):
    air = SelectedCounter(seed=1)
    proof = prove(air, honest_trace(air), small_options)
    with pytest.raises(VerificationError, match="verification key"):
        verify(air, proof, min_security_bits=0)
    other_key = commit_preprocessed(SelectedCounter(seed=2), small_options).key
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0, key=other_key)
    other_lde = commit_preprocessed(air, dataclasses.replace(small_options, blowup=8)).key
    with pytest.raises(VerificationError, match="LDE"):
        verify(air, proof, min_security_bits=0, key=other_lde)


def test_prover_with_other_preprocessed_values_is_rejected(small_options):
    """The cheat's selector has as many ones (same statement, same AIR digest), its trace fits its
    own columns and it commits them honestly: only the key's root tells them apart."""
    air, cheat = SelectedCounter(seed=1), SelectedCounter(seed=2)
    proof = prove(cheat, honest_trace(cheat), small_options)
    assert air.digest() == cheat.digest()
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0, key=commit_preprocessed(air, small_options).key)


def test_opening_that_does_not_match_the_root_is_rejected(small_options):
    air = SelectedCounter(seed=1)
    key = commit_preprocessed(air, small_options).key
    proof = prove(air, honest_trace(air), small_options)
    proof.preprocessed_opening.rows[0, 1] = (proof.preprocessed_opening.rows[0, 1] + np.uint64(1))
    with pytest.raises(VerificationError, match="preprocessed opening does not match"):
        verify(air, proof, min_security_bits=0, key=key)


def test_wrong_preprocessed_value_at_z_is_rejected(small_options):
    air = SelectedCounter(seed=1)
    key = commit_preprocessed(air, small_options).key
    proof = prove(air, honest_trace(air), small_options)
    proof.preprocessed_at_z[0] = proof.preprocessed_at_z[0] + proof.preprocessed_at_z[1]
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0, key=key)


def test_trace_breaking_a_selected_row_is_rejected(small_options):
    """Column 1 differs from the fixed value on one selected row: only constraint 2 fails."""
    air = SelectedCounter(seed=1)
    trace = honest_trace(air)
    row = int(np.flatnonzero(air.preprocessed_trace()[0])[3])
    trace[1, row] += np.uint64(1)
    with pytest.raises(AirError):
        prove(air, trace, small_options)
    proof = prove(air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0, key=commit_preprocessed(air, small_options).key)


class CubedSelectorCounter(SelectedCounter):
    """The copy constraint as selector³·(column 1 − value), degree 4: at blowup 2 its quotient
    needs more points than the LDE has, so the prover evaluates the constraints on a coset twice
    the LDE's, with the preprocessed columns transformed onto it (`fixed_on_evaluation_coset`)."""

    name = "cubed-selector-counter"

    def constraints(self) -> list[Constraint]:
        return [Constraint(1), Constraint(4, wraps=True)]

    def evaluate(self, frame: Frame, periodic) -> list:
        step, copy = super().evaluate(frame, periodic)
        selector = frame.preprocessed[0]
        return [step, selector * selector * copy]


def test_preprocessed_columns_on_a_larger_evaluation_coset(small_options):
    options = dataclasses.replace(small_options, blowup=2)
    air = CubedSelectorCounter(seed=1)
    domain = ProofDomain.create(N, 4, options)
    assert domain.evaluation_size == 2 * domain.lde_size
    key = commit_preprocessed(air, options).key
    trace = honest_trace(air)
    verify(air, prove(air, trace, options), min_security_bits=0, key=key)
    trace[1, int(np.flatnonzero(air.preprocessed_trace()[0])[3])] += np.uint64(1)
    with pytest.raises(AirError):
        prove(air, trace, options)
    with pytest.raises(VerificationError):
        verify(air, prove(air, trace, options, check=False), min_security_bits=0, key=key)


def test_preprocessed_proof_bytes_are_strictly_parsed(small_options):
    """Truncations are format errors; a flipped byte anywhere (the preprocessed width in the header,
    values at z, the opening) is refused by the parser or the verifier."""
    air = SelectedCounter(seed=1)
    key = commit_preprocessed(air, small_options).key
    data = prove(air, honest_trace(air), small_options).to_bytes()
    for length in range(0, len(data), max(1, len(data) // 100)):
        with pytest.raises(ProofFormatError):
            StarkProof.from_bytes(data[:length])
    for position in range(0, len(data), max(1, len(data) // 150)):
        tampered = bytearray(data)
        tampered[position] ^= 1
        with pytest.raises(ZkporError):
            verify(air, bytes(tampered), min_security_bits=0, key=key)


@pytest.mark.parametrize("zero_knowledge", [False, True])
def test_the_key_alone_is_the_committed_columns_key(options, zero_knowledge):
    """`preprocessed_key` (the LDE a coset at a time, nothing kept) gives the key of the full
    commitment, for both hashers, with and without zero knowledge (another LDE size); another
    column gives another root."""
    options = dataclasses.replace(options, zero_knowledge=zero_knowledge)
    air = SelectedCounter(seed=1)
    key = preprocessed_key(air, options)
    assert key == commit_preprocessed(air, options).key
    assert preprocessed_key(SelectedCounter(seed=2), options).root != key.root
