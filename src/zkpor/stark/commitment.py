"""Row commitments for the STARK: a Merkle tree over the rows of a matrix of field elements.

A thin adapter over `zkpor.hash.merkle` that fixes the STARK's choices: BLAKE3 leaves and nodes
truncated to 28 bytes (or Poseidon2 ones, `ProofOptions.hasher`; `params.COMMITMENT_DIGEST_BYTES`),
salted leaves for the trace and quotient matrices when zero knowledge is on (so an opened row's
hash reveals nothing about unopened ones), and the opening's bytes inside proof files:

    salts (rows × SALT_ELEMS u64, salted trees only) ‖ Merkle multi-proof (u32 count ‖ siblings,
    each of the hasher's digest size)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkpor.field.goldilocks import P
from zkpor.hash import merkle
from zkpor.stark.params import COMMITMENT_DIGEST_BYTES
from zkpor.stark.proof import Opening


@dataclass
class RowCommitment:
    tree: merkle.MerkleTree

    @property
    def root(self) -> bytes:
        return self.tree.root

    def open(self, indices: list[int]) -> Opening:
        salts = self.tree.salts(indices)
        salt_bytes = b"" if salts is None else np.ascontiguousarray(salts, dtype="<u8").tobytes()
        return Opening(rows=self.tree.rows(indices), proof=salt_bytes + self.tree.open(indices).to_bytes())


def commit_rows(
    matrix: np.ndarray, *, salted: bool, hasher: str, column_major: bool = False
) -> RowCommitment:
    """Commit to the rows of `matrix` (n_rows, n_cols), n_rows a power of two; with `column_major`
    the matrix is given as its columns (n_cols, n_rows)."""
    salt_rng = merkle.SaltRng() if salted else None
    digest_bytes = COMMITMENT_DIGEST_BYTES[hasher]
    tree = merkle.MerkleTree.commit(
        matrix, hasher, salt_rng=salt_rng, column_major=column_major, digest_bytes=digest_bytes
    )
    return RowCommitment(tree)


def verify_opening(
    root: bytes, n_rows: int, indices: list[int], opening: Opening, *, salted: bool, hasher: str
) -> bool:
    """True when `opening` proves its rows sit at `indices` under `root`; False for anything else."""
    data = opening.proof
    digest_bytes = COMMITMENT_DIGEST_BYTES[hasher]
    salts = None
    if salted:
        salt_len = 8 * merkle.SALT_ELEMS * len(indices)
        if len(data) < salt_len:
            return False
        salt_values = np.frombuffer(data[:salt_len], dtype="<u8")
        if np.any(salt_values >= np.uint64(P)):
            return False
        salts = [[int(v) for v in row] for row in salt_values.reshape(len(indices), merkle.SALT_ELEMS)]
        data = data[salt_len:]
    try:
        # A multi-proof of k leaves in a tree of depth d never needs more than k·d siblings.
        proof = merkle.MultiProof.from_bytes(
            data, max_siblings=len(indices) * max(1, n_rows.bit_length()), digest_bytes=digest_bytes
        )
    except ValueError:
        return False
    rows = [[int(v) for v in row] for row in opening.rows]
    width = opening.rows.shape[1]
    return merkle.verify_multi(
        root, n_rows, indices, rows, salts, proof, hasher, n_cols=width, digest_bytes=digest_bytes
    )
