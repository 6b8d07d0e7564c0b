"""What a proof is about: the transcript starts by absorbing the AIR's digest (shape, constraints,
assertions, periodic columns, the number of public inputs), every proof option and the public
inputs' values, so a proof made for one statement or one set of parameters cannot be replayed for
another."""

from __future__ import annotations

import struct

from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.hash.transcript import Transcript
from zkpor.hash.transcript_poseidon2 import Poseidon2Transcript
from zkpor.stark.air import Air
from zkpor.stark.params import HASHERS, ParameterError, ProofOptions

# A Poseidon2 proof's query draw must repeat no position (`grind_for_distinct_queries`); below this
# chance of a draw without a repeat, the prover would grind for ever: such options are refused.
MIN_DISTINCT_DRAW_CHANCE = 1 / 64

PROTOCOL_LABEL = b"zkpor-stark-v1"


def start_transcript(air: Air, options: ProofOptions) -> Transcript | Poseidon2Transcript:
    """The transcript of `options.hasher` (BLAKE3, or the Poseidon2 sponge for recursion)."""
    kind = Poseidon2Transcript if options.hasher == "poseidon2" else Transcript
    transcript = kind(PROTOCOL_LABEL)
    transcript.absorb_digest(b"air", air.digest())
    transcript.absorb_bytes(b"options", options_bytes(options))
    transcript.absorb_elements(b"public-inputs", air.public_inputs())
    return transcript


def options_bytes(options: ProofOptions) -> bytes:
    """The options record of the transcript (a compiled verifier absorbs the same bytes)."""
    return struct.pack(
        "<HHBBHBB",
        options.blowup,
        options.num_queries,
        options.grinding_bits,
        options.fri_folding_log,
        options.fri_final_degree,
        int(options.zero_knowledge),
        HASHERS.index(options.hasher),
    )


def draw_ood_point(transcript: Transcript, trace_length: int, lde_size: int) -> tuple[int, int]:
    """z must lie outside the trace domain and the LDE coset (a ~2^-60 event; redraw if so)."""
    coset_power = pow(ntt.GENERATOR, lde_size, gl.P)
    while True:
        z = Ext(*transcript.challenge_ext(b"ood-point"))
        if z**trace_length != Ext(1, 0) and z**lde_size != Ext(coset_power, 0):
            return z.c0, z.c1


def draw_query_positions(transcript: Transcript, lde_size: int, num_queries: int) -> list[int]:
    """The LDE positions every commitment is opened at: `num_queries` distinct ones, sorted."""
    return sorted(transcript.challenge_distinct_indices(b"queries", lde_size, num_queries))


def distinct_draw_chance(lde_size: int, num_queries: int) -> float:
    """The probability that `num_queries` draws from `lde_size` positions repeat none."""
    chance = 1.0
    for i in range(num_queries):
        chance *= 1 - i / lde_size
    return chance


def grind_for_distinct_queries(
    transcript: Poseidon2Transcript, bits: int, lde_size: int, num_queries: int
) -> int:
    """The proof-of-work nonce of a Poseidon2 proof: the smallest passing nonce after which the
    query draw repeats no position, absorbed.

    The native verifier draws distinct positions, reading one more sponge lane per repeat; a
    verifier compiled into a recursion program (`zkpor.recursion.verifier_program`) is fixed to
    one number of lanes, the number of queries. A proof meant for recursion therefore never has a
    repeat: the prover keeps grinding past a nonce whose draw repeats (probability ≈ q²/2·lde, so
    rarely more than one search). Soundness is unchanged: any passing nonce is valid to the
    verifier, so a prover could always pick among them; this one picks by a public rule."""
    if distinct_draw_chance(lde_size, num_queries) < MIN_DISTINCT_DRAW_CHANCE:
        raise ParameterError(
            f"{num_queries} queries on an LDE of {lde_size} positions almost never draw without a "
            "repeat, which a Poseidon2 proof needs: use fewer queries or a larger blowup"
        )
    nonce = 0
    while True:
        trial = transcript.copy()
        nonce = trial.grind(bits, nonce)
        if len(trial.distinct_index_draws(b"queries", lde_size, num_queries)) == num_queries:
            return transcript.grind(bits, nonce)  # this nonce again: it passes, and is absorbed
        nonce += 1
