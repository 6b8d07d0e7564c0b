"""Security accounting: distinct queries, Winterfell's security estimates, zero-knowledge parameters
that would leak, and the zero-knowledge flag bound by the transcript."""

from dataclasses import replace

import pytest

from zkpor.errors import VerificationError
from zkpor.hash.transcript import Transcript
from zkpor.stark.domain import ProofDomain, committed_sizes
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.params import ParameterError, ProofOptions, default_options, security_level
from zkpor.stark.prover import prove
from zkpor.stark.statement import start_transcript
from zkpor.stark.verifier import verify


def fibonacci(n: int) -> tuple[FibonacciAir, object]:
    trace = fibonacci_trace(n)
    return FibonacciAir(n, int(trace[1, -1])), trace


# ---- 1. distinct query positions ----------------------------------------------------------------


def test_a_proof_opens_exactly_num_queries_distinct_positions_and_credits_those():
    """32 queries into a 64-point LDE: drawn with repetition, duplicates are all but certain (the
    chance of none is below 2^-20), and the security figure would credit positions never opened."""
    air, trace = fibonacci(16)
    options = ProofOptions(blowup=4, num_queries=32, grinding_bits=0, fri_folding_log=1, fri_final_degree=2,
                           zero_knowledge=False)  # fmt: skip
    proof = prove(air, trace, options)
    opened = proof.main_opening.rows.shape[0]
    assert opened == options.num_queries == proof.quotient_opening.rows.shape[0]
    assert len({tuple(row) for row in proof.main_opening.rows.tolist()}) == opened  # distinct points
    report = verify(air, proof.to_bytes(), min_security_bits=0)
    assert report.security == security_level(replace(options, num_queries=opened), 16)


def test_distinct_indices_are_distinct_deterministic_and_bounded():
    draw = Transcript(b"t").challenge_distinct_indices
    indices = draw("q", 64, 40)
    assert len(set(indices)) == 40 and all(0 <= i < 64 for i in indices)
    assert indices == Transcript(b"t").challenge_distinct_indices("q", 64, 40)
    assert sorted(Transcript(b"t").challenge_distinct_indices("q", 16, 16)) == list(range(16))
    with pytest.raises(ValueError, match="distinct"):
        Transcript(b"t").challenge_distinct_indices("q", 16, 17)


def test_more_queries_than_half_the_lde_are_refused():
    air, trace = fibonacci(16)
    options = ProofOptions(blowup=4, num_queries=33, grinding_bits=0, fri_folding_log=1, fri_final_degree=2,
                           zero_knowledge=False)  # fmt: skip
    with pytest.raises(ParameterError, match="33 distinct queries need an LDE of at least 66 points"):
        prove(air, trace, options)


# ---- 2. the security estimate is Winterfell's ---------------------------------------------------


def winterfell(h, blowup, queries, grinding, folding, field_bits=128):
    """Winterfell's parameters (trace length h, FRI folding factor) in our terms."""
    options = ProofOptions(blowup=blowup, num_queries=queries, grinding_bits=grinding,
                           fri_folding_log=folding.bit_length() - 1, fri_final_degree=1)  # fmt: skip
    return security_level(options, h, extension_field_bits=field_bits, collision_bits=128)  # Blake3_256


def test_the_hash_bound_is_the_commitment_digests():
    """BLAKE3 tree digests are 28 bytes (112 collision bits), Poseidon2 ones 4 elements (128)."""
    options = ProofOptions(blowup=256, num_queries=20, grinding_bits=0, fri_folding_log=3, fri_final_degree=1)
    level = security_level(options, 2**4, extension_field_bits=192)
    assert level.conjectured_bits == 112 and level.unique_decoding_bits <= 112
    level = security_level(replace(options, hasher="poseidon2"), 2**4, extension_field_bits=192)
    assert level.conjectured_bits == 128


# Expected values: the assertions of Winterfell's own tests of `ProvenSecurity::compute`
# (facebook/winterfell, air/src/proof/security.rs: get_100_bits_security,
# unique_decoding_folding_factor_effect, unique_versus_list_decoding_rate_effect, get_96_bits_security,
# get_128_bits_security, extension_degree), Goldilocks quadratic (128-bit) or cubic (192-bit).
@pytest.mark.parametrize(
    ("h", "blowup", "queries", "grinding", "folding", "field_bits", "list_decoding", "unique_decoding"),
    [
        (2**20, 4, 119, 20, 2, 128, 69, 100),
        (2**20, 4, 150, 20, 2, 128, 69, None),
        (2**20, 4, 81, 20, 2, 192, 100, None),
        (2**8, 8, 123, 16, 2, 128, None, 116),
        (2**8, 8, 123, 16, 4, 128, None, 115),
        (2**8, 2, 195, 20, 2, 128, None, 100),
        (2**8, 2, 163, 20, 2, 192, 100, None),
        (2**18, 4, 80, 20, 8, 192, 99, None),
        (2**18, 8, 53, 20, 8, 192, 99, None),
        (2**18, 8, 85, 20, 8, 192, 128, None),
        (2**18, 16, 65, 20, 8, 192, 128, None),
        (2**18, 8, 85, 20, 8, 128, 69, None),
    ],
)
def test_proven_security_matches_winterfell(
    h, blowup, queries, grinding, folding, field_bits, list_decoding, unique_decoding
):
    level = winterfell(h, blowup, queries, grinding, folding, field_bits)
    if list_decoding is not None:
        assert level.list_decoding_bits == list_decoding
    if unique_decoding is not None:
        assert level.unique_decoding_bits == unique_decoding
    assert level.proven_bits == max(level.list_decoding_bits, level.unique_decoding_bits)


# Expected values from Winterfell's `ConjecturedSecurity::compute` (same file):
# min(min(field − log2(h·blowup), log2(blowup)·queries [+ grinding if that is ≥ 80]) − 1, 128).
@pytest.mark.parametrize(
    ("h", "blowup", "queries", "grinding", "field_bits", "conjectured"),
    [
        (2**20, 4, 119, 20, 128, 105),  # the field bound: 128 − 22 − 1
        (2**16, 4, 39, 16, 128, 77),  # 78 query bits < 80: the grinding is not credited
        (2**16, 4, 40, 16, 128, 95),  # 80 query bits: grinding credited, 80 + 16 − 1
        (2**17, 4, 43, 16, 128, 101),  # the liabilities default at 2^13 users per batch
        (2**4, 256, 20, 0, 192, 128),  # the hash bound
    ],
)
def test_conjectured_security_matches_winterfell(h, blowup, queries, grinding, field_bits, conjectured):
    assert winterfell(h, blowup, queries, grinding, 8, field_bits).conjectured_bits == conjectured


@pytest.mark.parametrize(
    ("blowup", "max_grinding", "queries", "grinding"),
    [
        (4, 16, 43, 16),  # no grinding beyond the default: ⌊43 · 1.98⌋ + 16 − 1 = 100
        (4, 24, 41, 20),  # 41 queries reach the 80-bit floor (40 give 79.9 with zero knowledge)
        (8, 24, 27, 21),  # 80 + 21 − 1
        (16, 24, 21, 18),
        (4, 18, 42, 18),  # too little grinding allowed for 41 queries
    ],
)
def test_default_options_trade_grinding_for_queries_above_the_floor(blowup, max_grinding, queries, grinding):
    """Zero-knowledge options (the default) at a real trace length: a query is worth log2(N/D),
    a little under log2(blowup) (D = n + 2·(queries + 2))."""
    options = default_options(blowup=blowup, max_grinding_bits=max_grinding)
    assert (options.num_queries, options.grinding_bits) == (queries, grinding)
    assert winterfell(2**17, blowup, queries, grinding, 8).conjectured_bits >= 100
    assert security_level(options, *committed_sizes(2**16, options)).conjectured_bits >= 100
    # one query less: below 100 whatever the grinding
    fewer = replace(options, num_queries=queries - 1, grinding_bits=max_grinding)
    assert security_level(fewer, *committed_sizes(2**16, fewer)).conjectured_bits < 100


def test_a_zero_knowledge_query_is_worth_log2_of_the_lde_over_the_degree_bound():
    """The rate is (n + r)/(blowup · n): 40 queries at blowup 4 fall below Winterfell's 80-bit
    floor, so no grinding is credited; a non-zero-knowledge proof's rate is exactly 1/blowup."""
    options = ProofOptions(blowup=4, num_queries=40, grinding_bits=21, fri_folding_log=3,
                           fri_final_degree=256)  # fmt: skip
    degree_bound, lde_size = committed_sizes(2**16, options)
    assert (degree_bound, lde_size) == (2**16 + 84, 2**18)
    assert security_level(options, degree_bound, lde_size).conjectured_bits == 78  # ⌊79.93⌋ − 1
    plain = replace(options, zero_knowledge=False)
    assert committed_sizes(2**16, plain) == (2**16, 2**18)
    assert security_level(plain, *committed_sizes(2**16, plain)).conjectured_bits == 100
    tiny = committed_sizes(2**10, options)  # 84 · 64 > 2^10: the LDE is doubled, the rate below 1/4
    assert tiny == (2**10 + 84, 2**13)


# ---- 3. zero knowledge needs as much randomness as is opened ------------------------------------


def test_zero_knowledge_parameters_that_would_leak_a_column_are_refused():
    """A column of an 8-row trace hides at most 8 random coefficients (its degree bound stays ≤ 2n);
    8 queries and the out-of-domain point put 20 base-field conditions on each column (both frame
    rows, z and zω two each: the extension), enough to solve for the trace."""
    air, trace = fibonacci(8)
    options = ProofOptions(blowup=4, num_queries=8, grinding_bits=0, fri_folding_log=1, fri_final_degree=2,
                           zero_knowledge=True)  # fmt: skip
    message = "zero knowledge needs .* 8-row trace can hide at most 8, but 8 queries .* put 20 on it"
    with pytest.raises(ParameterError, match=message):
        prove(air, trace, options)
    with pytest.raises(ParameterError, match="use at most 2 queries"):
        ProofDomain.create(8, air.max_constraint_degree(), options)  # the verifier's check too
    fewer = replace(options, num_queries=2)  # 2·(2 + 2) = 8 conditions: exactly the randomness
    verify(air, prove(air, trace, fewer), min_security_bits=0)
    prove(air, trace, replace(options, zero_knowledge=False))  # nothing to hide, nothing refused


# ---- 5. the zero-knowledge flag is bound, not just a header byte --------------------------------


def test_the_zero_knowledge_flag_is_in_the_transcript_and_cannot_be_flipped():
    air, trace = fibonacci(16)
    options = ProofOptions(blowup=4, num_queries=6, grinding_bits=0, fri_folding_log=1, fri_final_degree=2,
                           zero_knowledge=True)  # fmt: skip
    plain = replace(options, zero_knowledge=False)
    assert start_transcript(air, options).state_digest() != start_transcript(air, plain).state_digest()
    zk_flag = 8 + 2 + 2 + 2 + 1 + 1 + 2  # magic, version, blowup, queries, grinding, folding, final degree
    for made_with in (options, plain):
        proof = bytearray(prove(air, trace, made_with).to_bytes())
        assert proof[zk_flag] == int(made_with.zero_knowledge)
        proof[zk_flag] ^= 1
        with pytest.raises(VerificationError):
            verify(air, bytes(proof), min_security_bits=0)
