"""Proof options and the security they buy.

Two estimates are reported, as in ethSTARK and Winterfell:

- conjectured: ``log2(blowup) · queries + grinding_bits``, capped by the field and hash bounds
  (the "toy problem" conjecture of the ethSTARK paper, §5.10);
- proven: FRI soundness in the list-decoding (Johnson) regime, per query
  ``−log2(√ρ · (1 + 1/(2m)))`` bits with proximity parameter m, plus grinding, capped by the
  field term of the batched-FRI proximity-gap bound. It is the more cautious number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from zkpor.errors import ZkporError

EXTENSION_FIELD_BITS = 128  # |F_p²| ≈ 2^128: every verifier challenge is drawn from the extension
HASH_COLLISION_BITS = 128  # BLAKE3-256 and 4-element Poseidon2 digests
MAX_LOG_LDE_SIZE = 28
JOHNSON_PROXIMITY_M = 3  # the m of the Johnson-bound analysis (Winterfell uses the same default)


class ParameterError(ZkporError):
    """Proof options that are inconsistent or too weak."""


@dataclass(frozen=True)
class ProofOptions:
    """What the prover commits to; all of it is absorbed into the transcript and sent in the proof."""

    blowup: int = 8  # LDE domain size / committed degree bound (rate ρ = 1/blowup)
    num_queries: int = 28
    grinding_bits: int = 16
    fri_folding_log: int = 3  # fold by 2^k per FRI layer
    fri_final_degree: int = 16  # stop folding when the degree bound is at most this
    zero_knowledge: bool = True

    def validate(self) -> None:
        if self.blowup < 2 or self.blowup & (self.blowup - 1) or self.blowup > 256:
            raise ParameterError(f"blowup must be a power of two in [2, 256], got {self.blowup}")
        if not 1 <= self.num_queries <= 256:
            raise ParameterError(f"num_queries must be in [1, 256], got {self.num_queries}")
        if not 0 <= self.grinding_bits <= 32:
            raise ParameterError(f"grinding_bits must be in [0, 32], got {self.grinding_bits}")
        if not 1 <= self.fri_folding_log <= 4:
            raise ParameterError(f"fri_folding_log must be in [1, 4], got {self.fri_folding_log}")
        f = self.fri_final_degree
        if f < 1 or f & (f - 1) or f > 1024:
            raise ParameterError(f"fri_final_degree must be a power of two in [1, 1024], got {f}")

    @property
    def log_blowup(self) -> int:
        return self.blowup.bit_length() - 1


def default_options(zero_knowledge: bool = True, target_bits: int = 100, blowup: int = 8) -> ProofOptions:
    """The cheapest query count reaching `target_bits` conjectured bits at this blowup."""
    grinding = 16
    log_blowup = blowup.bit_length() - 1
    queries = max(1, math.ceil((target_bits - grinding) / log_blowup))
    return ProofOptions(
        blowup=blowup, num_queries=queries, grinding_bits=grinding, zero_knowledge=zero_knowledge
    )


@dataclass(frozen=True)
class SecurityLevel:
    conjectured_bits: int
    proven_bits: int

    def describe(self) -> str:
        return f"{self.conjectured_bits} bits conjectured, {self.proven_bits} bits proven (list-decoding)"


def security_level(options: ProofOptions, lde_size: int, max_constraint_degree: int) -> SecurityLevel:
    """Security of a proof with these options over an LDE domain of `lde_size` points."""
    log_lde = math.log2(lde_size)
    # Field bound: the DEEP/ALI and FRI batching errors are about (degree · domain)/|F|.
    field_bits = EXTENSION_FIELD_BITS - log_lde - 1
    query_bits = options.log_blowup * options.num_queries + options.grinding_bits
    conjectured = min(field_bits, query_bits, HASH_COLLISION_BITS)

    rate = 1.0 / options.blowup
    m = JOHNSON_PROXIMITY_M
    per_query = -math.log2(math.sqrt(rate) * (1 + 1 / (2 * m)))
    proven_query_bits = per_query * options.num_queries + options.grinding_bits
    # Proximity gaps for RS codes (Ben-Sasson et al. 2020, Thm 1.2), batched over the DEEP terms:
    # error ≈ (m+1/2)^7 / (3 ρ^{3/2}) · n² / |F|, n the LDE size.
    gap_error_log = 7 * math.log2(m + 0.5) - math.log2(3) - 1.5 * math.log2(rate) + 2 * log_lde
    proven_field_bits = EXTENSION_FIELD_BITS - gap_error_log - math.log2(max(2, max_constraint_degree))
    proven = min(proven_query_bits, proven_field_bits, HASH_COLLISION_BITS)
    return SecurityLevel(int(math.floor(conjectured)), int(math.floor(proven)))
