"""The degree-7 Poseidon2 gadget (`gadget.NARROW`, one column per S-box): its shape, Plonky3's
vectors, and a cheating prover for each constraint family, each rejected by the verifier.

A cheat here is consistent: the prover computes one value wrongly and then carries on honestly
from it, so every later column agrees with the wrong one and only the constraint of that value
fails (checked on the row before proving)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field import goldilocks as gl
from zkpor.hash.poseidon2 import permute
from zkpor.stark.algebra import BaseVec
from zkpor.stark.domain import ProofDomain
from zkpor.stark.examples.poseidon2_air import Poseidon2Air, poseidon2_trace
from zkpor.stark.gadgets import poseidon2 as gadget
from zkpor.stark.params import ProofOptions
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

NARROW = gadget.NARROW
N = 32  # zero knowledge with 8 queries needs 2·(8 + 1) = 18 random values per column
ROW = 5  # the cheating row (the public assertion is on row 0)
INITIAL_POST = [gadget.WIDTH + gadget.WIDTH * r for r in range(4)]  # first column of each round
PARTIAL = gadget.WIDTH * 5  # the 22 partial rounds' S-box columns start here
FINAL_POST = [PARTIAL + 22 + gadget.WIDTH * r for r in range(4)]


def _vectors():
    path = Path(__file__).parents[1] / "hash" / "poseidon2_vectors.py"
    spec = importlib.util.spec_from_file_location("poseidon2_vectors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=[(True, 8), (False, 8), (True, 2), (False, 4)],
                ids=["zk", "no-zk", "zk-blowup-2", "no-zk-blowup-4"])  # fmt: skip
def options(request) -> ProofOptions:
    """Cheap options at blowup 8, whose LDE holds the 13 quotient chunks' points (6 without zero
    knowledge), and at smaller blowups, where the prover evaluates the constraints on a larger coset
    than it commits (`ProofDomain.evaluation_size`)."""
    zero_knowledge, blowup = request.param
    return ProofOptions(blowup=blowup, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4,
                        zero_knowledge=zero_knowledge)  # fmt: skip


@pytest.fixture(scope="module")
def trace():
    return poseidon2_trace(N, np.random.default_rng(11), NARROW)


def public_output(trace) -> list[int]:
    return [int(v) for v in trace[NARROW.output_offset :, 0]]


def test_shape():
    assert (NARROW.columns, NARROW.num_constraints, NARROW.constraint_degree) == (130, 118, 7)
    assert (gadget.CUBED.columns, gadget.CUBED.num_constraints) == (248, 236)
    assert PARTIAL + 22 + 4 * gadget.WIDTH == NARROW.columns
    zk = ProofOptions(blowup=8, num_queries=8)
    # degree < 7·(D − 1) + 1 − n with D = n + 18: 7 chunks; 13 with a doubled LDE (D = 2n, format ≤ 5)
    assert ProofDomain.create(1 << 12, 7, zk).num_quotient_chunks == 7
    # a smaller blowup commits fewer points; the prover evaluates on the 8n-point coset all the same
    for blowup, stride in ((8, 1), (4, 2), (2, 4)):
        domain = ProofDomain.create(1 << 12, 7, ProofOptions(blowup=blowup, num_queries=8))
        assert (domain.lde_size, domain.evaluation_size) == (blowup << 12, 8 << 12)
        assert domain.evaluation_stride == stride
    with pytest.raises(ValueError, match="3 or 7"):
        gadget.Poseidon2Gadget(5)


@pytest.mark.parametrize("fused", [True, False], ids=["kernel", "generic"])
def test_plonky3_vectors(fused):
    vectors = _vectors()
    cases = [vectors.KAT_12, *vectors.CROSS_CHECK_12]
    inputs = np.array([case[0] for case in cases], dtype=np.uint64).T.copy()
    rows = NARROW.fill_trace(inputs, fused=fused)
    for i, (_, expected) in enumerate(cases):
        assert [int(v) for v in rows[NARROW.output_offset :, i]] == expected


def test_trace_matches_reference_permutation(trace):
    for row in range(N):
        assert public_output(trace[:, row : row + 1]) == permute([int(v) for v in trace[:12, row]])


def test_honest_proof_verifies(trace, options):
    air = Poseidon2Air(N, public_output(trace), NARROW)
    verify(air, prove(air, trace, options).to_bytes(), min_security_bits=0)


def test_degree_3_proof_does_not_verify_as_degree_7(options):
    """The two shapes are distinct AIRs (widths and degrees in the digest)."""
    cubed = poseidon2_trace(N, np.random.default_rng(11))
    output = [int(v) for v in cubed[gadget.CUBED.output_offset :, 0]]
    proof = prove(Poseidon2Air(N, output), cubed, options).to_bytes()
    with pytest.raises(VerificationError):
        verify(Poseidon2Air(N, output, NARROW), proof, min_security_bits=0)


def cheating_row(inputs: np.ndarray, tamper) -> np.ndarray:
    """One permutation's columns, `tamper(column, value)` changing what is stored (and carried on)."""
    row = np.zeros(NARROW.columns, dtype=np.uint64)
    row[: gadget.WIDTH] = inputs

    def store(column: int, value: BaseVec) -> BaseVec:
        row[column] = int(tamper(column, int(value.values[0]))) % gl.P
        return BaseVec(row[column : column + 1].copy())

    NARROW.rounds([BaseVec(row[i : i + 1].copy()) for i in range(gadget.WIDTH)], store)
    return row


def failing_constraints(row: np.ndarray) -> list[int]:
    columns = [BaseVec(row[c : c + 1].copy()) for c in range(NARROW.columns)]
    values, _ = NARROW.constraints(columns, fused=False)
    return [k for k, v in enumerate(values) if int(v.values[0]) != 0]


def unit_image(lane: int) -> list[int]:
    """The external layer's column `lane`: what an S-box output off by one adds to the round."""
    return gadget.external_layer([1 if i == lane else 0 for i in range(gadget.WIDTH)])


def full_round_sbox(column: int, value: int) -> int:
    """The S-box of lane 7 in the second initial full round outputs x⁷ + 1 (then M_E as usual)."""
    first = INITIAL_POST[1]
    return value + unit_image(7)[column - first] if first <= column < first + gadget.WIDTH else value


def partial_round_sbox(column: int, value: int) -> int:
    """The S-box of the 10th partial round outputs x⁷ + 1."""
    return value + 1 if column == PARTIAL + 9 else value


def external_linear_layer(column: int, value: int) -> int:
    """The second final full round's external layer is wrong in lane 4."""
    return value + 1 if column == FINAL_POST[1] + 4 else value


@pytest.mark.parametrize(
    ("tamper", "violated"),
    [
        (full_round_sbox, range(INITIAL_POST[1] - 12, INITIAL_POST[1])),  # that round's 12 posts
        (partial_round_sbox, [PARTIAL + 9 - 12]),
        (external_linear_layer, [FINAL_POST[1] + 4 - 12]),
    ],
    ids=["full-round-sbox", "partial-round-sbox", "external-layer"],
)
def test_cheating_prover_is_rejected(trace, options, tamper, violated):
    honest = trace[:, ROW].copy()
    cheat_row = cheating_row(honest[: gadget.WIDTH], tamper)
    assert failing_constraints(honest) == []
    assert failing_constraints(cheat_row) == list(violated)  # only the targeted constraints
    cheat = trace.copy()
    cheat[:, ROW] = cheat_row
    air = Poseidon2Air(N, public_output(trace), NARROW)
    proof = prove(air, cheat, options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)
