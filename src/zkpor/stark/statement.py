"""What a proof is about: the transcript starts by absorbing the AIR's digest (shape, constraints,
assertions, periodic columns, public inputs) and every proof option, so a proof made for one
statement or one set of parameters cannot be replayed for another."""

from __future__ import annotations

import struct

from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.hash.transcript import Transcript
from zkpor.hash.transcript_poseidon2 import Poseidon2Transcript
from zkpor.stark.air import Air
from zkpor.stark.params import HASHERS, ProofOptions

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
