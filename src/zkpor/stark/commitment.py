"""Row commitments for the STARK: a Merkle tree over the rows of a matrix of field elements.

A thin adapter over `zkpor.hash.merkle` that fixes the STARK's choices: BLAKE3 leaves and nodes,
salted leaves for the trace and quotient matrices when zero knowledge is on (so an opened row's
hash reveals nothing about unopened ones), and the opening's byte encoding inside proof files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkpor.hash import merkle
from zkpor.stark.proof import Opening

HASHER = "blake3"


@dataclass
class RowCommitment:
    tree: merkle.MerkleTree

    @property
    def root(self) -> bytes:
        return self.tree.root

    def open(self, indices: list[int]) -> Opening:
        proof = self.tree.open(indices)
        return Opening(rows=self.tree.rows(indices), proof=proof.to_bytes())


def commit_rows(matrix: np.ndarray, *, salted: bool) -> RowCommitment:
    """Commit to the rows of `matrix` (n_rows, n_cols), n_rows a power of two."""
    return RowCommitment(merkle.MerkleTree.commit(matrix, hasher=HASHER, salted=salted))


def verify_opening(root: bytes, n_rows: int, indices: list[int], opening: Opening, *, salted: bool) -> bool:
    try:
        proof = merkle.MultiProof.from_bytes(opening.proof)
    except ValueError:
        return False
    return merkle.verify_multi(root, n_rows, indices, opening.rows, proof, hasher=HASHER, salted=salted)
