"""Vector commitments: a Merkle tree over the rows of a uint64 matrix of field elements.

The construction, the proof format and the verifier are in `zkpor.hash.merkle_proof` (pure Python,
re-exported here); this module builds trees fast with the numba kernels and opens them, and its
`verify_multi` hashes a Poseidon2 tree's opened levels with the same kernels (the same digests).

    tree = MerkleTree.commit(matrix, "blake3", salt_rng=SaltRng())   # hiding commitment
    proof = tree.open(indices)
    ok = verify_multi(tree.root, tree.n_rows, indices, tree.rows(indices), tree.salts(indices),
                      proof, "blake3")

Salts. ``salt_rng=None`` and ``salts=None`` commit without salts (binding, not hiding). For a
hiding commitment pass ``salt_rng=SaltRng()``, which draws each leaf's salt from a CSPRNG seeded by
`secrets` (``SaltRng(seed=...)`` gives reproducible salts for tests), or pass explicit ``salts``
of shape (n_rows, SALT_ELEMS). numpy's own generators are refused: they are not meant for secrets.
"""

from __future__ import annotations

import functools
import operator
import secrets
from collections.abc import Sequence

import blake3
import numpy as np

from zkpor.field.scalar import P_INT
from zkpor.hash import bytehash, poseidon2_lanes
from zkpor.hash.merkle_proof import (
    BLAKE3_NODE_PURPOSE,
    DIGEST_SIZE,
    HASHERS,
    POSEIDON2_NODE_DOMAIN,
    SALT_ELEMS,
    MultiProof,
    check_digest_bytes,
    check_hasher,
    default_leaf_domain,
    depth_of,
    salted_leaf_capacity,
    sibling_plan,
)
from zkpor.hash.merkle_proof import verify_multi as verify_multi_pure

__all__ = ["DIGEST_SIZE", "HASHERS", "SALT_ELEMS", "MerkleTree", "MultiProof", "SaltRng", "verify_multi"]

_SALT_KEY_CONTEXT = "zkpor 2026-08 merkle salt stream v1"


class SaltRng:
    """A CSPRNG of field elements for Merkle salts: the BLAKE3 XOF under a key derived from a seed.

    The seed (at least 16 bytes) defaults to ``secrets.token_bytes(32)``; pass one only for
    reproducible tests or benchmarks. Elements are uniform in [0, p): 8-byte words
    >= p are rejected (probability 2^-32 each), not reduced, so there is no modular bias.
    """

    def __init__(self, seed: bytes | None = None) -> None:
        if seed is None:
            seed = secrets.token_bytes(32)
        if not isinstance(seed, bytes) or len(seed) < 16:
            raise ValueError("a salt seed is at least 16 bytes")
        key = blake3.blake3(seed, derive_key_context=_SALT_KEY_CONTEXT).digest()
        self._xof = blake3.blake3(key=key)
        self._position = 0

    def _words(self, n: int) -> np.ndarray:
        raw = self._xof.digest(length=8 * n, seek=self._position)
        self._position += 8 * n
        return np.frombuffer(raw, dtype="<u8").astype(np.uint64)

    def field_elements(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """A uint64 array of the given shape, uniform canonical field elements."""
        out = np.empty(int(np.prod(shape)), dtype=np.uint64)
        filled = 0
        while filled < out.size:
            words = self._words(out.size - filled)
            words = words[words < np.uint64(P_INT)]
            out[filled : filled + words.size] = words
            filled += words.size
        return out.reshape(shape)


class MerkleTree:
    """A committed matrix: its rows, salts and every tree level. Build it with `commit`."""

    def __init__(
        self,
        matrix: np.ndarray,
        salts: np.ndarray | None,
        levels: list[np.ndarray],
        hasher: str,
        leaf_domain: str,
        column_major: bool = False,
        digest_bytes: int = DIGEST_SIZE,
    ) -> None:
        self.matrix = matrix  # (n_rows, n_cols), or (n_cols, n_rows) when column_major
        self.column_major = column_major
        self._salts = salts
        self.levels = levels  # levels[0]: leaf digests (n, 4) uint64 ... levels[-1]: the root (1, 4)
        self.hasher = hasher
        self.leaf_domain = leaf_domain
        self.digest_bytes = digest_bytes

    @property
    def n_rows(self) -> int:
        return self.matrix.shape[1 if self.column_major else 0]

    @property
    def n_cols(self) -> int:
        return self.matrix.shape[0 if self.column_major else 1]

    @property
    def depth(self) -> int:
        return len(self.levels) - 1

    @property
    def salted(self) -> bool:
        return self._salts is not None

    @property
    def root(self) -> bytes:
        """The 32-byte commitment."""
        return root_of_levels(self.levels)

    @classmethod
    def commit(
        cls,
        matrix: np.ndarray,
        hasher: str = "blake3",
        salt_rng: SaltRng | None = None,
        salts: np.ndarray | None = None,
        *,
        leaf_domain: str | None = None,
        column_major: bool = False,
        digest_bytes: int = DIGEST_SIZE,
    ) -> MerkleTree:
        """Commit to the rows of ``matrix`` ((n_rows, n_cols) uint64, canonical, n_rows a power of 2).

        ``hasher``: "blake3" (fast; STARK commitments) or "poseidon2" (recursion-friendly).
        Salting: see the module docstring. ``leaf_domain`` overrides the default leaf purpose /
        sponge domain (the verifier must then pass the same one). With ``column_major`` the matrix
        is given (and kept) as its columns, (n_cols, n_rows): the same tree, with no transpose.
        ``digest_bytes`` < 32 truncates every BLAKE3 digest (see `zkpor.hash.merkle_proof`).
        """
        check_hasher(hasher)
        check_digest_bytes(digest_bytes, hasher)
        if not isinstance(matrix, np.ndarray) or matrix.dtype != np.uint64 or matrix.ndim != 2:
            raise ValueError("the committed matrix must be a 2-D numpy uint64 array")
        n_rows = matrix.shape[1 if column_major else 0]
        depth_of(n_rows)
        matrix = np.ascontiguousarray(matrix)
        if salts is not None and salt_rng is not None:
            raise ValueError("pass salt_rng or salts, not both")
        if salt_rng is not None:
            if not isinstance(salt_rng, SaltRng):
                raise TypeError(
                    "salt_rng must be a zkpor.hash.merkle.SaltRng (a CSPRNG), not a numpy generator"
                )
            salts = salt_rng.field_elements((n_rows, SALT_ELEMS))
        elif salts is not None:
            expected = (n_rows, SALT_ELEMS)
            if not isinstance(salts, np.ndarray) or salts.dtype != np.uint64 or salts.shape != expected:
                raise ValueError(f"salts must be a uint64 array of shape {expected}")
            salts = np.ascontiguousarray(salts)
        domain = leaf_domain if leaf_domain is not None else default_leaf_domain(hasher, salts is not None)

        leaves = leaf_digests(matrix, hasher, domain, salts=salts, column_major=column_major,
                              digest_bytes=digest_bytes)  # fmt: skip
        return cls(matrix, salts, tree_levels(leaves, hasher, digest_bytes), hasher, domain, column_major,
                   digest_bytes)  # fmt: skip

    def _check_indices(self, indices: Sequence[int]) -> list[int]:
        idx = [operator.index(i) for i in indices]
        for i in idx:
            if not 0 <= i < self.n_rows:
                raise IndexError(f"row {i} outside [0, {self.n_rows})")
        return idx

    def rows(self, indices: Sequence[int]) -> np.ndarray:
        """The rows at ``indices`` (in the order given), shape (len(indices), n_cols)."""
        if self.column_major:
            return np.ascontiguousarray(self.matrix[:, self._check_indices(indices)].T)
        return self.matrix[self._check_indices(indices)]

    def salts(self, indices: Sequence[int]) -> np.ndarray | None:
        """The salts of the rows at ``indices`` (None for an unsalted tree)."""
        if self._salts is None:
            return None
        return self._salts[self._check_indices(indices)]

    def open(self, indices: Sequence[int]) -> MultiProof:
        """The multi-opening proof of the rows at ``indices`` (any order, repeats allowed)."""
        plan = sibling_plan(self.n_rows, self._check_indices(indices))
        raw = [self.levels[level][i] for level, i in plan]
        siblings = bytehash.digests_to_bytes(np.array(raw, dtype=np.uint64).reshape(-1, 4))
        return MultiProof(tuple(siblings), self.digest_bytes)


class _LanePoseidon2:
    """`merkle_proof.Poseidon2Hashing` on the vector kernels: a level's digests in one call."""

    def leaves(self, domain: str, salts: list[list[int]] | None, rows: list[list[int]]) -> list[bytes]:
        matrix = np.array(rows, dtype=np.uint64).reshape(len(rows), len(rows[0]))
        salted = None if salts is None else np.array(salts, dtype=np.uint64).reshape(len(rows), SALT_ELEMS)
        return bytehash.digests_to_bytes(leaf_digests(matrix, "poseidon2", domain, salts=salted))

    def nodes(self, pairs: list[tuple[bytes, bytes]]) -> list[bytes]:
        nodes = np.frombuffer(b"".join(left + right for left, right in pairs), dtype="<u8").reshape(-1, 4)
        return bytehash.digests_to_bytes(poseidon2_lanes.hash_pairs(POSEIDON2_NODE_DOMAIN, nodes))


LANE_POSEIDON2 = _LanePoseidon2()


# `merkle_proof.verify_multi` with a Poseidon2 tree's digests computed by the vector kernels.
verify_multi = functools.partial(verify_multi_pure, poseidon2_hashing=LANE_POSEIDON2)


def leaf_digests(
    matrix: np.ndarray,
    hasher: str,
    leaf_domain: str,
    *,
    salts: np.ndarray | None = None,
    column_major: bool = False,
    digest_bytes: int = DIGEST_SIZE,
) -> np.ndarray:
    """The leaf digests (n_rows, 4) of a matrix's rows (`MerkleTree.commit`'s first level): a caller
    may hash a large matrix a block of rows at a time and put the tree together (`tree_levels`)."""
    # Rows and salts must be field elements: Poseidon2 needs it, and the verifier rejects a
    # BLAKE3 opening that is not, so committing to one is a prover bug caught here. BLAKE3
    # checks during hashing; the Poseidon2 batch API checks its inputs itself.
    if hasher == "blake3" and column_major:
        leaves = bytehash.hash_columns(leaf_domain, matrix, prefix=salts, field_elements=True)
    elif hasher == "blake3":
        leaves = bytehash.hash_rows(leaf_domain, matrix, prefix=salts, field_elements=True)
    else:
        # Poseidon2 hashes rows side by side from the matrix's columns: a row-major matrix is
        # transposed first (only the FRI layers are, and they are narrow).
        columns = matrix if column_major else matrix.T
        if salts is None:
            leaves = poseidon2_lanes.sponge_columns(leaf_domain, columns)
        else:  # the salt in the capacity (`merkle_proof.salted_leaf_capacity`)
            capacities = np.empty((salts.shape[0], 4), dtype=np.uint64)
            capacities[:] = salted_leaf_capacity(leaf_domain, [0] * SALT_ELEMS, columns.shape[0])
            capacities[:, 1 : 1 + SALT_ELEMS] = salts
            leaves = poseidon2_lanes.sponge_columns_from_capacity(capacities, columns)
    return _truncated(leaves, digest_bytes)


def tree_levels(leaves: np.ndarray, hasher: str, digest_bytes: int = DIGEST_SIZE) -> list[np.ndarray]:
    """Every level of the tree over `leaf_digests` (n, 4), n a power of two: leaves first, root last."""
    depth_of(leaves.shape[0])
    levels = [leaves]
    while levels[-1].shape[0] > 1:
        nodes = levels[-1]
        if hasher == "blake3":
            levels.append(_truncated(bytehash.hash_pairs(BLAKE3_NODE_PURPOSE, nodes), digest_bytes))
        else:
            levels.append(poseidon2_lanes.hash_pairs(POSEIDON2_NODE_DOMAIN, nodes))
    return levels


def root_of_levels(levels: list[np.ndarray]) -> bytes:
    """The 32-byte root of `tree_levels`' levels."""
    return bytehash.digests_to_bytes(levels[-1])[0]


def _truncated(digests: np.ndarray, digest_bytes: int) -> np.ndarray:
    """Digests (n, 4) uint64 with every byte from `digest_bytes` on zeroed."""
    if digest_bytes < DIGEST_SIZE:
        digests = np.ascontiguousarray(digests).view(np.uint8).reshape(-1, DIGEST_SIZE)
        digests[:, digest_bytes:] = 0
        digests = digests.view(np.uint64).reshape(-1, 4)
    return digests
