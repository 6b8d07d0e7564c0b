"""Proof options and the security they buy, estimated exactly as Winterfell estimates it.

Winterfell (facebook/winterfell, air/src/proof/security.rs) reports three figures; so do we, with the
same formulas and the same adjustments, so that a parameter set reads the same in both:

- conjectured (ethSTARK Conjecture 1, eprint 2021/582 Eq. 19):
  ``min(field − log2(N), log2(blowup)·queries [+ grinding]) − 1``, capped by the hash's collision
  bits; the grinding bits are credited only when the queries alone already give ≥ 80 bits.
- proven, list-decoding regime (eprint 2024/1553 Thm 2): the round-by-round error of ALI, DEEP, the
  FRI commit phase (proximity gaps) and the FRI queries, maximised over the proximity parameter m.
  In a 128-bit field the commit-phase term caps it near 70 bits for real traces: reaching 100
  needs a ≥ 192-bit (cubic) extension, which this field layer does not have.
- proven, unique-decoding regime (Thm 3): more queries per bit, but no such cap.

"Proven" is the better of the two proven figures, as Winterfell's `ProvenSecurity::is_at_least`
counts it: each is a proof of soundness on its own.

Our domains map onto Winterfell's as follows: its trace length h is our committed degree bound D
(the trace length n, or n + r with zero knowledge, r random coefficients per column: that is the
degree FRI tests), and its LDE size h·blowup is our N. With zero knowledge N = blowup·n, so the
rate D/N is a little above 1/blowup and a query is worth log2(N/D) bits, a little under
log2(blowup) (`stark.domain`); the formulas below take the real D and N. Queries are distinct
positions (the transcript draws them without repetition), so ``num_queries`` is exactly what the
formulas count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from zkpor.errors import ZkporError

EXTENSION_FIELD_BITS = 128  # |F_p²| ≈ 2^128: every verifier challenge is drawn from the extension
HASHERS = ("blake3", "poseidon2")  # the order gives each its code in proofs and transcripts
# Vector-commitment digests: BLAKE3 truncated to 28 bytes (a sibling is 12 % of a proof's bytes
# less), 4 field elements for Poseidon2 (the recursion verifier's native form).
COMMITMENT_DIGEST_BYTES = {"blake3": 28, "poseidon2": 32}
# Collision resistance, which caps every security figure: half the digest bits (112 and 128).
HASH_COLLISION_BITS = {hasher: 4 * size for hasher, size in COMMITMENT_DIGEST_BYTES.items()}
MAX_LOG_LDE_SIZE = 28
OOD_POINTS = 2  # z and zω (Winterfell's `num_openings`)
FRAME_ROWS = 2  # constraints read the current and the next row
GRINDING_CONTRIBUTION_FLOOR = 80  # Winterfell credits grinding only above this many query bits
MAX_PROXIMITY_PARAMETER = 1000  # Winterfell's cap on the m searched in the list-decoding bound
DEFAULT_GRINDING_BITS = 16
# Zero knowledge keeps the LDE at blowup·n while its random coefficients r per column are at most
# n / ZK_COMPACT_SHARE (then a query loses at most log2(1 + 1/64) ≈ 0.022 of its log2(blowup) bits);
# above that share (tiny traces) the LDE is doubled instead.
ZK_COMPACT_SHARE = 64


class ParameterError(ZkporError):
    """Proof options that are inconsistent or too weak."""


@dataclass(frozen=True)
class ProofOptions:
    """What the prover commits to; all of it is absorbed into the transcript and sent in the proof."""

    blowup: int = 8  # LDE domain size / trace length (rate ρ = D/N ≈ 1/blowup, see `stark.domain`)
    num_queries: int = 28  # distinct query positions
    grinding_bits: int = 16
    fri_folding_log: int = 3  # fold by 2^k per FRI layer
    fri_final_degree: int = 16  # stop folding when the degree bound is at most this
    zero_knowledge: bool = True
    # Vector commitments and Fiat–Shamir: "blake3" (fast), or "poseidon2" (recursion-friendly:
    # rows and nodes hashed by the width-12 Poseidon2 sponge, Poseidon2 transcript).
    hasher: str = "blake3"

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
        if self.hasher not in HASHERS:
            raise ParameterError(f"hasher must be one of {', '.join(HASHERS)}, got {self.hasher!r}")

    @property
    def log_blowup(self) -> int:
        return self.blowup.bit_length() - 1


def fri_fold_count(degree_bound: int, folding_log: int, final_degree: int) -> int:
    """FRI layers committed: fold by 2^folding_log, each fold taking a degree bound d to ⌈d / 2^folding_log⌉,
    until it is at most `final_degree`, and never more folds than 2^(folds·folding_log) ≤ degree_bound."""
    folds = 0
    most = (degree_bound.bit_length() - 1) // folding_log
    while folds < most and folded_degree_bound(degree_bound, folding_log, folds) > final_degree:
        folds += 1
    return folds


def folded_degree_bound(degree_bound: int, folding_log: int, folds: int) -> int:
    """The degree bound after `folds` folds: ⌈degree_bound / 2^(folds·folding_log)⌉."""
    return -(-degree_bound >> (folding_log * folds))


def bits_per_query(
    options: ProofOptions, degree_bound: int | None = None, lde_size: int | None = None
) -> float:
    """log2(N/D): what one query is worth. Without the domain, the least any domain of these options
    gives: log2(blowup), less the zero-knowledge share of the degree bound at its largest."""
    if degree_bound is not None and lde_size is not None:
        return math.log2(lde_size / degree_bound)
    if options.zero_knowledge:
        return options.log_blowup - math.log2(1 + 1 / ZK_COMPACT_SHARE)
    return float(options.log_blowup)


def conjectured_query_bits(options: ProofOptions, per_query: float | None = None) -> int:
    """``⌊log2(N/D)·queries⌋``, plus the grinding bits once that reaches Winterfell's floor
    (`per_query`: `bits_per_query`, by default the least these options give)."""
    bits = int((bits_per_query(options) if per_query is None else per_query) * options.num_queries)
    return bits + options.grinding_bits if bits >= GRINDING_CONTRIBUTION_FLOOR else bits


def default_options(
    zero_knowledge: bool = True,
    target_bits: int = 100,
    blowup: int = 8,
    *,
    max_grinding_bits: int = DEFAULT_GRINDING_BITS,
    fri_final_degree: int = 16,
) -> ProofOptions:
    """The fewest queries reaching `target_bits` conjectured bits at this blowup (field and hash
    bounds permitting: they are checked against the real domain by `security_level`), with the
    fewest grinding bits in [DEFAULT_GRINDING_BITS, max_grinding_bits] that do it.

    Grinding buys queries only down to Winterfell's floor: it is credited once the queries alone
    give GRINDING_CONTRIBUTION_FLOOR (80) bits, so at blowup 4 without zero knowledge no grinding
    replaces a 40th query (2 bits each), and 100 bits take 40 queries and 21 grinding bits
    (80 + 21 − 1), not 43 and 16; with zero knowledge a query is worth a little less than 2 bits
    (`bits_per_query`), so 41 queries (81 bits) and 20 grinding bits.
    Each grinding bit doubles the prover's expected search (2^21 BLAKE3 hashes ≈ 0.2 s of CPU)."""
    least_grinding = min(DEFAULT_GRINDING_BITS, max_grinding_bits)
    options = ProofOptions(blowup=blowup, num_queries=1, grinding_bits=least_grinding,
                           fri_final_degree=fri_final_degree, zero_knowledge=zero_knowledge)  # fmt: skip
    for queries in range(1, 257):
        for grinding in range(least_grinding, max_grinding_bits + 1):
            options = replace(options, num_queries=queries, grinding_bits=grinding)
            if conjectured_query_bits(options) - 1 >= target_bits:
                return options
    return options


@dataclass(frozen=True, order=True)
class SecurityLevel:
    conjectured_bits: int
    list_decoding_bits: int
    unique_decoding_bits: int

    @property
    def proven_bits(self) -> int:
        """The better proven bound (Winterfell's `ProvenSecurity::is_at_least` accepts either)."""
        return max(self.list_decoding_bits, self.unique_decoding_bits)

    def describe(self) -> str:
        return (
            f"{self.conjectured_bits} bits conjectured, {self.proven_bits} bits proven "
            f"(list-decoding {self.list_decoding_bits}, unique-decoding {self.unique_decoding_bits})"
        )

    @staticmethod
    def weakest(levels: Iterable[SecurityLevel]) -> SecurityLevel:
        """The security of proofs that all must hold (a stack of recursion levels): the fewest
        conjectured bits of any, and the proven bounds of the one with the fewest proven bits.
        Not `min`, which orders by conjectured bits first: a level with more conjectured but
        fewer proven bits would be hidden."""
        levels = list(levels)
        proven = min(levels, key=lambda level: level.proven_bits)
        conjectured = min(level.conjectured_bits for level in levels)
        return SecurityLevel(conjectured, proven.list_decoding_bits, proven.unique_decoding_bits)

    def as_dict(self) -> dict[str, int]:
        return {
            "conjectured_bits": self.conjectured_bits,
            "proven_bits": self.proven_bits,
            "list_decoding_bits": self.list_decoding_bits,
            "unique_decoding_bits": self.unique_decoding_bits,
        }


def security_level(
    options: ProofOptions,
    degree_bound: int,
    lde_size: int | None = None,
    *,
    extension_field_bits: int = EXTENSION_FIELD_BITS,
    collision_bits: int | None = None,
) -> SecurityLevel:
    """Security of a proof with these options whose committed polynomials have degree < `degree_bound`,
    tested by FRI over an LDE of `lde_size` points (by default degree_bound · blowup). The hash bound
    is the options' commitment hasher's unless `collision_bits` is given."""
    if collision_bits is None:
        collision_bits = HASH_COLLISION_BITS[options.hasher]
    n_lde = degree_bound * options.blowup if lde_size is None else lde_size
    folds = fri_fold_count(degree_bound, options.fri_folding_log, options.fri_final_degree)
    return SecurityLevel(
        _conjectured(options, degree_bound, n_lde, extension_field_bits, collision_bits),
        _list_decoding(options, degree_bound, n_lde, extension_field_bits, collision_bits),
        _unique_decoding(options, degree_bound, n_lde, folds, extension_field_bits, collision_bits),
    )


def _conjectured(options: ProofOptions, h: int, n_lde: int, field_bits: int, collision_bits: int) -> int:
    field_security = field_bits - n_lde.bit_length() + 1  # field − ⌊log2 N⌋
    query_bits = conjectured_query_bits(options, bits_per_query(options, h, n_lde))
    return min(min(field_security, query_bits) - 1, collision_bits)


def _list_decoding(options: ProofOptions, h: int, n_lde: int, field_bits: int, collision_bits: int) -> int:
    # m ranges over [3, m_max): past m_max the slack η of the Johnson-bound proof is no longer > 0.
    m_max = min(math.ceil(1 / (2 * (math.sqrt((h + 2) / h) - 1))), MAX_PROXIMITY_PARAMETER)
    best = max(_list_decoding_at(options, h, n_lde, m, field_bits) for m in range(3, max(4, m_max)))
    return min(best, collision_bits)


def _list_decoding_at(options: ProofOptions, h: int, lde_size: int, m: int, field_bits: int) -> int:
    n_lde = float(lde_size)
    rho = h / n_lde
    alpha = (1.0 + 0.5 / m) * math.sqrt(rho)
    max_degree = options.blowup + 1.0  # the blowup bounds the constraint degree
    if rho - 2.0 * m / n_lde <= 0:  # a domain this small has no list-decoding bound at this m
        return 0
    list_size = m / (rho - 2.0 * m / n_lde)
    ali = field_bits - math.log2(list_size)  # linear batching: C = 1
    deep = field_bits - math.log2(list_size**2 * (max_degree * (h + OOD_POINTS - 1.0) + (h - 1.0)))
    # FRI commit phase: the first term of eq. 7 of eprint 2022/1216; the others are negligible.
    commit = field_bits - math.log2(0.5 * (m + 0.5) ** 7 / rho**1.5 * n_lde**2)
    queries = options.grinding_bits - math.log2(alpha**options.num_queries)
    return _bits(min(ali, deep, commit, queries))


def _unique_decoding(
    options: ProofOptions, h: int, lde_size: int, folds: int, field_bits: int, collision_bits: int
) -> int:
    n_lde = float(lde_size)
    alpha = (1.0 + (h + OOD_POINTS) / n_lde) * 0.5
    max_degree = options.blowup + 1.0
    errors = [
        float(field_bits),  # ALI
        field_bits - math.log2(max_degree * (h + OOD_POINTS - 1.0) + (h - 1.0)),  # DEEP
        field_bits - math.log2(n_lde),  # FRI commit phase, first layer
        options.grinding_bits - math.log2(alpha**options.num_queries),  # FRI queries
    ]
    if folds:  # every further FRI layer
        errors.append(field_bits - math.log2(((1 << options.fri_folding_log) - 1.0) * (n_lde + 1.0)))
    return min(_bits(min(errors)), collision_bits)


def _bits(value: float) -> int:
    """Rust's `f64 as u64`: truncation toward zero, negative values saturating at 0."""
    return max(0, int(value))
