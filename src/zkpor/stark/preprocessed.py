"""Preprocessed (fixed) columns: public columns committed once, opened like trace columns.

An AIR whose constraints need a full-length public column (a program, a selector pattern that is
not periodic) declares it with `Air.preprocessed_width` and `Air.preprocessed_trace()`. Whoever
builds the verification key interpolates those columns, extends them over the proof's LDE coset
and commits them with the proof's hasher (`commit_preprocessed`): deterministic, unsalted — the
values are public, so there is nothing to hide. The Merkle root goes into the `VerificationKey`.

The prover opens the columns at z, zω and the query positions, exactly like the main trace; the
verifier takes the root from the key (never from the proof), absorbs it into the transcript, checks
the openings against it and uses the opened values in the constraints at z. So the verifier never
evaluates the columns itself: its cost is that of a few more trace columns, not an interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.hash.transcript import Transcript
from zkpor.hash.transcript_poseidon2 import Poseidon2Transcript
from zkpor.stark.air import Air, AirError
from zkpor.stark.domain import ProofDomain
from zkpor.stark.params import ProofOptions
from zkpor.stark.polys import CommittedPolys, commit_coefficients


@dataclass(frozen=True)
class VerificationKey:
    """The commitment to an AIR's preprocessed columns, for one LDE size and hasher: all a verifier
    needs of them. A proof made with other values, or for another LDE, does not verify under it."""

    root: bytes
    width: int
    trace_length: int
    lde_size: int
    hasher: str


@dataclass
class PreprocessedColumns:
    """The prover's side: the columns' polynomials, their LDE (column-major) and Merkle tree."""

    polys: CommittedPolys
    key: VerificationKey


def commit_preprocessed(air: Air, options: ProofOptions) -> PreprocessedColumns:
    """Interpolate, extend and commit `air.preprocessed_trace()` for proofs made with `options`."""
    width, n = air.preprocessed_width, air.trace_length
    if width == 0:
        raise AirError(f"{air.name}: declares no preprocessed columns")
    columns = air.preprocessed_trace()
    if columns.dtype != np.uint64 or columns.shape != (width, n):
        raise AirError(
            f"{air.name}: preprocessed trace must be uint64 of shape {(width, n)}, "
            f"got {columns.dtype} {columns.shape}"
        )
    if np.any(columns >= np.uint64(gl.P)):
        raise AirError(f"{air.name}: preprocessed trace holds a value that is not a field element")
    domain = ProofDomain.create(n, air.max_constraint_degree(), options)
    polys = commit_coefficients(ntt.intt(columns), domain, salted=False, hasher=options.hasher)
    key = VerificationKey(polys.commitment.root, width, n, domain.lde_size, options.hasher)
    return PreprocessedColumns(polys, key)


def absorb_key(transcript: Transcript | Poseidon2Transcript, key: VerificationKey) -> None:
    """The root joins the statement, after the AIR digest, options and public inputs."""
    transcript.absorb_digest(b"preprocessed-root", key.root)


def key_mismatch(key: VerificationKey, air: Air, domain: ProofDomain, hasher: str) -> str | None:
    """Why `key` cannot be the key of proofs of `air` over `domain` with `hasher`, or None."""
    if key.width != air.preprocessed_width or key.trace_length != air.trace_length:
        return (
            f"verification key is for {key.width} preprocessed columns of {key.trace_length} rows, the AIR "
            f"has {air.preprocessed_width} of {air.trace_length}"
        )
    if key.lde_size != domain.lde_size or key.hasher != hasher:
        return (
            f"verification key is for an LDE of {key.lde_size} points hashed with {key.hasher}, the proof "
            f"uses {domain.lde_size} with {hasher}"
        )
    return None
