"""The byte breakdown of a proof accounts for every byte of the serialised proof."""

import numpy as np

from zkpor.stark.examples.range_check import RangeCheckAir, range_check_trace
from zkpor.stark.proof import StarkProof
from zkpor.stark.proof_size import format_breakdown, size_breakdown
from zkpor.stark.prover import prove

N, BITS = 256, 6


def test_parts_add_up_to_the_proof(small_options):
    values = np.random.default_rng(1).integers(0, 1 << BITS, N).astype(np.uint64)
    air = RangeCheckAir(N, BITS, int(values[0]))
    proof = StarkProof.from_bytes(prove(air, range_check_trace(values, BITS), small_options).to_bytes())
    parts = dict(size_breakdown(proof))
    assert sum(parts.values()) == len(proof.to_bytes())
    assert ("main salts" in parts) == small_options.zero_knowledge  # only hiding trees carry salts
    assert any(name.startswith("aux rows") for name in parts)
    assert any(name.startswith("FRI layer 0 Merkle siblings") for name in parts)
    assert f"{len(proof.to_bytes()):,} B" in format_breakdown(proof)
