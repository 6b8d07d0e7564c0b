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
from zkpor.hash import merkle
from zkpor.hash.transcript import Transcript
from zkpor.hash.transcript_poseidon2 import Poseidon2Transcript
from zkpor.stark.air import Air, AirError
from zkpor.stark.domain import ProofDomain
from zkpor.stark.params import COMMITMENT_DIGEST_BYTES, ProofOptions
from zkpor.stark.phases import phase
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
    coefficients, domain = _coefficients(air, options)
    # held as long as the AIR's program (a tree level's): not in a matrix a later proof would reuse
    polys = commit_coefficients(
        coefficients, domain, salted=False, hasher=options.hasher, kept_matrices=False
    )
    key = VerificationKey(polys.commitment.root, air.preprocessed_width, air.trace_length, domain.lde_size,
                          options.hasher)  # fmt: skip
    return PreprocessedColumns(polys, key)


def preprocessed_key(air: Air, options: ProofOptions) -> VerificationKey:
    """`commit_preprocessed(air, options).key`, keeping neither the LDE nor the tree: all a verifier
    (or a parent program) needs. The LDE coset g·⟨ω_N⟩ of N = blowup·n points is the union of the
    `blowup` cosets g·ω_N^j·⟨ω_n⟩; each is evaluated (one size-n transform) and its rows hashed
    into the leaves j, j + blowup, j + 2·blowup, … So the memory is two n-row matrices and the
    leaf digests instead of the N-row LDE (315 MB for a 2^15-row program at blowup 16: the
    largest allocation of deriving a round proof's keys), for the same root."""
    coefficients, domain = _coefficients(air, options)
    n, points = air.trace_length, domain.lde_size
    blowup = points // n
    omega = ntt.root_of_unity(points.bit_length() - 1)
    hasher = options.hasher
    leaf_domain = merkle.default_leaf_domain(hasher, False)
    leaves = np.empty((points, 4), dtype=np.uint64)
    shift, block = ntt.GENERATOR, np.empty_like(coefficients)
    for j in range(blowup):
        with phase("LDE"):
            ntt.coset_evaluate(coefficients, 1, shift, out=block)
        with phase("Merkle commit"):
            leaves[j::blowup] = merkle.leaf_digests(block, hasher, leaf_domain, column_major=True,
                                                    digest_bytes=COMMITMENT_DIGEST_BYTES[hasher])  # fmt: skip
        shift = shift * omega % gl.P
    del coefficients, block
    with phase("Merkle commit"):
        root = merkle.root_of_levels(merkle.tree_levels(leaves, hasher, COMMITMENT_DIGEST_BYTES[hasher]))
    return VerificationKey(root, air.preprocessed_width, n, points, hasher)


def _coefficients(air: Air, options: ProofOptions) -> tuple[np.ndarray, ProofDomain]:
    """The preprocessed columns' coefficients (checked to be field elements) and the proof domain."""
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
    return ntt.intt(columns), ProofDomain.create(n, air.max_constraint_degree(), options)


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
