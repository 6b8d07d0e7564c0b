"""Committed polynomial columns: zero-knowledge randomisation, LDE, commitment, evaluation.

Every committed matrix (main trace, aux trace, quotient chunks) is a set of base-field polynomials
of degree < D, kept as coefficients (for out-of-domain evaluation) and as evaluations on the LDE
coset, row-major (N, columns): the layout the Merkle tree hashes and opens, and from which
constraint evaluation and DEEP read chunks of rows. Only this one copy of the LDE is kept; it is
built a batch of columns at a time so that no column-major copy of the whole LDE ever exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from zkpor.field import ntt, poly
from zkpor.field.extension import Ext
from zkpor.stark.commitment import RowCommitment, commit_rows
from zkpor.stark.domain import ProofDomain
from zkpor.stark.kernels import transpose
from zkpor.stark.phases import phase


def random_field_matrix(shape: tuple[int, ...]) -> np.ndarray:
    """Uniform field elements from a CSPRNG seeded by `secrets` (these values hide the witness)."""
    rng = np.random.Generator(np.random.PCG64DXSM(secrets.randbits(128)))
    # 2^64 mod p < 2^33, so rejecting values >= p rarely loops.
    values = rng.integers(0, 2**64, size=shape, dtype=np.uint64, endpoint=False)
    bad = values >= np.uint64(0xFFFF_FFFF_0000_0001)
    while bad.any():
        values[bad] = rng.integers(0, 2**64, size=int(bad.sum()), dtype=np.uint64)
        bad = values >= np.uint64(0xFFFF_FFFF_0000_0001)
    return values


LDE_COLUMN_BATCH = 32


@dataclass
class CommittedPolys:
    coefficients: np.ndarray  # (columns, D)
    commitment: RowCommitment

    @property
    def width(self) -> int:
        return self.coefficients.shape[0]

    @property
    def rows(self) -> np.ndarray:
        """The LDE, row-major (N, columns): row i is every column at point g·ω_N^i."""
        return self.commitment.tree.matrix

    def evaluate(self, point: Ext) -> list[Ext]:
        return poly.evaluate_at_ext(self.coefficients, point)


def trace_coefficients(columns: np.ndarray, domain: ProofDomain, zero_knowledge: bool) -> np.ndarray:
    """Interpolate trace columns (c, n); with zero knowledge, on a domain of 2n whose even points
    carry the trace and whose odd points carry fresh randomness (so ω_{2n}^{2i} = ω_n^i → row i)."""
    if not zero_knowledge:
        return ntt.intt(columns)
    width, n = columns.shape
    padded = random_field_matrix((width, 2 * n))
    padded[:, 0::2] = columns
    return ntt.intt(padded)


def commit_coefficients(coefficients: np.ndarray, domain: ProofDomain, salted: bool) -> CommittedPolys:
    width, degree_bound = coefficients.shape
    blowup = domain.lde_size // degree_bound
    with phase("LDE"):
        rows = np.empty((domain.lde_size, width), dtype=np.uint64)
        for start in range(0, width, LDE_COLUMN_BATCH):
            stop = min(width, start + LDE_COLUMN_BATCH)
            lde = ntt.coset_evaluate(coefficients[start:stop], blowup, ntt.GENERATOR)
            rows[:, start:stop] = transpose(lde)
    with phase("Merkle commit"):
        commitment = commit_rows(rows, salted=salted)
    return CommittedPolys(coefficients, commitment)
