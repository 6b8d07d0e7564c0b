"""Merkle multi-opening proofs: the format, its strict parser, and pure-Python verification.

No numpy and no numba here: a verifier of Poseidon2 trees runs on plain Python. (BLAKE3 trees use
the `blake3` package, imported only when such a tree is checked.)

Tree (built by `zkpor.hash.merkle.MerkleTree`):

- leaf i commits to row i of a matrix of field elements, optionally with a salt of `SALT_ELEMS`
  random field elements: ``leaf_i = H_leaf(salt_i ‖ row_i)`` (Poseidon2: the salt rides in the
  sponge's capacity, below). The salt makes the commitment hiding: a leaf reveals nothing about a
  row that is not opened (the salt of an opened row is revealed with it). Salted and unsalted trees
  hash leaves under different domains, so a salted opening can never be read as an unsalted one
  with two extra columns.
- node = H_node(left ‖ right); the root has depth log2(n_rows) over the leaves. The verifier
  always knows n_rows, so a node can never be passed off as a leaf or the other way round.

  ==========  ===========================================  ================================
  hasher      H_leaf                                       H_node
  ==========  ===========================================  ================================
  blake3      keyed BLAKE3 (`zkpor.hash.bytehash`) of the  keyed BLAKE3 of the 64 bytes,
              uint64 little-endian words, purpose           purpose ``merkle-node``
              ``merkle-leaf`` / ``merkle-leaf-salted``
  poseidon2   Poseidon2 sponge (`zkpor.hash.poseidon2`),   the same width-12 sponge over the
              domain ``zkpor/merkle/leaf``, 4 output        8 elements left ‖ right, domain
              elements; salted: see below                   ``zkpor/merkle/node``: one permutation
  ==========  ===========================================  ================================

  A salted Poseidon2 leaf carries its salt in the sponge's capacity, not in the absorbed rate:
  ``sponge_from_capacity([tag_0, salt_0, salt_1, len(row)], row)`` with tag_0 the first element of
  the domain tag of ``zkpor/merkle/leaf-salted`` (`salted_leaf_capacity`). So the salt costs no
  permutation (rows of 56 or 8 elements fill 7 or 1 rate blocks; salt ‖ row took 8 or 2). It hides
  as well (an inner-keyed sponge: 128 random bits the verifier of other rows never sees) and binds
  as well (the capacity after the first permutation is 256 bits the prover does not choose, and
  tag_0 ≠ the other domains' first tag elements keeps salted, unsalted and node states apart).

  Poseidon2 nodes use the width-12 sponge rather than the width-8 ``compress`` so that a recursive
  verifier needs one Poseidon2 width: a node is one width-12 permutation with a constant capacity,
  a Merkle step of the recursion AIR (`zkpor.recursion`), as are the rows and the transcript.

  Digests are 32 bytes in both cases (Poseidon2: 4 elements, little-endian uint64 each).

  Truncated BLAKE3 trees (``digest_bytes`` < 32, `MerkleTree.commit`): every leaf and node digest
  keeps its first ``digest_bytes`` bytes and has the rest zeroed, before it is hashed into its
  parent, so the tree is binding with ``4·digest_bytes`` bits of collision resistance. Such a tree
  is opened and verified with the same ``digest_bytes``; its siblings travel as ``digest_bytes``
  bytes each. (The STARK commits with 28: 112 bits, above any security level it claims.)

Multi-opening: for a set of leaf indices, the proof holds only the nodes the verifier cannot compute
from the opened leaves: going up level by level, for each known node whose sibling is not known, the
sibling, in increasing index order within a level, levels from the leaves up. Opened paths share
every node they have in common, so k openings cost far fewer than k*depth digests.

Serialized form of a `MultiProof` (`to_bytes` / `from_bytes` / `read_from`):
``u32 little-endian count ‖ count × digest_bytes-byte digests`` (32, or the truncated size).
Parsing a truncated sibling pads it with zeros back to 32 bytes. Parsing checks the count against the bytes
present before allocating anything and against an optional caller bound, and `from_bytes` rejects
trailing bytes; every failure raises `MalformedProofError` (a ValueError) with the reason.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from zkpor.hash import poseidon2
from zkpor.hash.errors import MalformedProofError

HASHERS = ("blake3", "poseidon2")
DIGEST_SIZE = 32
MIN_DIGEST_BYTES = 25  # a truncated digest keeps at least 200 bits: 100 bits of collision resistance
SALT_ELEMS = 2  # ~128 bits of salt per leaf: enough that an unopened row cannot be brute-forced
MAX_DEPTH = 40  # 2^40 rows is far past anything we commit; it bounds loops on hostile input

BLAKE3_LEAF_PURPOSE = "merkle-leaf"
BLAKE3_SALTED_LEAF_PURPOSE = "merkle-leaf-salted"
BLAKE3_NODE_PURPOSE = "merkle-node"
POSEIDON2_LEAF_DOMAIN = "zkpor/merkle/leaf"
POSEIDON2_SALTED_LEAF_DOMAIN = "zkpor/merkle/leaf-salted"
POSEIDON2_NODE_DOMAIN = "zkpor/merkle/node"

_COUNT_BYTES = 4


@dataclass(frozen=True)
class MultiProof:
    """The sibling digests of a multi-opening, in the canonical order (see the module docstring),
    each 32 bytes; in a truncated tree (`digest_bytes` < 32) their tails are zero and not sent."""

    siblings: tuple[bytes, ...]
    digest_bytes: int = DIGEST_SIZE

    def __post_init__(self) -> None:
        check_digest_bytes(self.digest_bytes)
        tail = bytes(DIGEST_SIZE - self.digest_bytes)
        for s in self.siblings:
            if not isinstance(s, bytes) or len(s) != DIGEST_SIZE:
                raise ValueError(f"a sibling digest is {DIGEST_SIZE} bytes")
            if tail and s[self.digest_bytes :] != tail:
                raise ValueError(f"a sibling of a {self.digest_bytes}-byte tree must end in zeros")

    def to_bytes(self) -> bytes:
        """Deterministic serialization: u32 LE count, then the digests (truncated ones shortened)."""
        size = self.digest_bytes
        return len(self.siblings).to_bytes(_COUNT_BYTES, "little") + b"".join(s[:size] for s in self.siblings)

    @property
    def size_bytes(self) -> int:
        return _COUNT_BYTES + self.digest_bytes * len(self.siblings)

    @classmethod
    def read_from(
        cls,
        data: bytes | bytearray | memoryview,
        offset: int = 0,
        max_siblings: int | None = None,
        digest_bytes: int = DIGEST_SIZE,
    ) -> tuple[MultiProof, int]:
        """Parse a proof starting at ``offset``; returns it and the offset just past it."""
        check_digest_bytes(digest_bytes)
        view = memoryview(data)
        if not 0 <= offset <= len(view):
            raise MalformedProofError(f"Merkle proof offset {offset} outside data of {len(view)} bytes")
        if len(view) - offset < _COUNT_BYTES:
            raise MalformedProofError("Merkle proof truncated: no sibling count")
        count = int.from_bytes(view[offset : offset + _COUNT_BYTES], "little")
        if max_siblings is not None and count > max_siblings:
            raise MalformedProofError(f"Merkle proof claims {count} siblings; at most {max_siblings} allowed")
        start = offset + _COUNT_BYTES
        end = start + digest_bytes * count
        if end > len(view):
            raise MalformedProofError(
                f"Merkle proof truncated: {count} siblings need {digest_bytes * count} bytes, "
                f"{len(view) - start} present"
            )
        tail = bytes(DIGEST_SIZE - digest_bytes)
        siblings = tuple(bytes(view[i : i + digest_bytes]) + tail for i in range(start, end, digest_bytes))
        return cls(siblings, digest_bytes), end

    @classmethod
    def from_bytes(
        cls,
        data: bytes | bytearray | memoryview,
        max_siblings: int | None = None,
        digest_bytes: int = DIGEST_SIZE,
    ) -> MultiProof:
        """Parse a whole byte string as one proof (trailing bytes are an error)."""
        proof, end = cls.read_from(data, 0, max_siblings, digest_bytes)
        if end != len(data):
            raise MalformedProofError(f"{len(data) - end} trailing bytes after the Merkle proof")
        return proof


def check_hasher(hasher: str) -> None:
    if hasher not in HASHERS:
        raise ValueError(f"unknown Merkle hasher {hasher!r}; choose one of {', '.join(HASHERS)}")


def check_digest_bytes(digest_bytes: int, hasher: str = "blake3") -> None:
    """A truncation is for BLAKE3 trees only, and keeps at least MIN_DIGEST_BYTES bytes."""
    truncated = MIN_DIGEST_BYTES <= digest_bytes < DIGEST_SIZE
    if digest_bytes != DIGEST_SIZE and (hasher != "blake3" or not truncated):
        raise ValueError(
            f"digest_bytes must be {DIGEST_SIZE}, or (BLAKE3 trees) in [{MIN_DIGEST_BYTES}, {DIGEST_SIZE}), "
            f"not {digest_bytes!r}"
        )


def truncate(digest: bytes, digest_bytes: int) -> bytes:
    """The first `digest_bytes` bytes of a 32-byte digest, zero-padded back to 32."""
    if digest_bytes == DIGEST_SIZE:
        return digest
    return digest[:digest_bytes] + bytes(DIGEST_SIZE - digest_bytes)


def depth_of(n_rows: int) -> int:
    """log2(n_rows) for a power of two n_rows >= 1 (ValueError otherwise)."""
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 1 or n_rows & (n_rows - 1):
        raise ValueError(f"the number of rows must be a power of two, not {n_rows!r}")
    depth = n_rows.bit_length() - 1
    if depth > MAX_DEPTH:
        raise ValueError(f"2^{depth} rows is more than this tree supports (2^{MAX_DEPTH})")
    return depth


def default_leaf_domain(hasher: str, salted: bool) -> str:
    """The leaf purpose (BLAKE3) or sponge domain (Poseidon2) used unless a caller names one."""
    check_hasher(hasher)
    if hasher == "blake3":
        return BLAKE3_SALTED_LEAF_PURPOSE if salted else BLAKE3_LEAF_PURPOSE
    return POSEIDON2_SALTED_LEAF_DOMAIN if salted else POSEIDON2_LEAF_DOMAIN


def leaf_digest(hasher: str, leaf_domain: str, salt: Sequence[int], row: Sequence[int]) -> bytes:
    """H_leaf(salt ‖ row) in pure Python (salt empty for an unsalted tree)."""
    if hasher == "poseidon2":
        if salt:
            digest = poseidon2.sponge_from_capacity(salted_leaf_capacity(leaf_domain, salt, len(row)), row)
        else:
            digest = poseidon2.sponge_hash(leaf_domain, row, poseidon2.DIGEST_LEN)
        return poseidon2.digest_to_bytes(digest)
    from zkpor.hash import bytehash  # only BLAKE3 trees need the blake3 package

    return bytehash.hash_words(leaf_domain, list(salt) + list(row))


def salted_leaf_capacity(leaf_domain: str, salt: Sequence[int], n_cols: int) -> list[int]:
    """The capacity a salted Poseidon2 leaf's sponge starts from: the domain's first tag element,
    the salt, the row's length (see the module docstring)."""
    if len(salt) != SALT_ELEMS:
        raise ValueError(f"a salt has {SALT_ELEMS} elements, not {len(salt)}")
    return [poseidon2.domain_tag(leaf_domain)[0], *salt, n_cols]


class Poseidon2Hashing(Protocol):
    """How `verify_multi` hashes a Poseidon2 tree's opened leaves and each level's nodes, all of a
    level in one call: `PURE_POSEIDON2` here; `zkpor.hash.merkle` passes its vector kernels'."""

    def leaves(self, domain: str, salts: list[list[int]] | None, rows: list[list[int]]) -> list[bytes]: ...

    def nodes(self, pairs: list[tuple[bytes, bytes]]) -> list[bytes]: ...


class _PurePoseidon2:
    def leaves(self, domain: str, salts: list[list[int]] | None, rows: list[list[int]]) -> list[bytes]:
        salts = salts if salts is not None else [[] for _ in rows]
        return [leaf_digest("poseidon2", domain, salt, row) for salt, row in zip(salts, rows, strict=True)]

    def nodes(self, pairs: list[tuple[bytes, bytes]]) -> list[bytes]:
        return [node_digest("poseidon2", left, right) for left, right in pairs]


PURE_POSEIDON2: Poseidon2Hashing = _PurePoseidon2()


def node_digest(hasher: str, left: bytes, right: bytes) -> bytes:
    """H_node(left ‖ right) in pure Python."""
    if hasher == "poseidon2":
        pair = poseidon2.digest_from_bytes(left) + poseidon2.digest_from_bytes(right)
        return poseidon2.digest_to_bytes(poseidon2.sponge_hash(POSEIDON2_NODE_DOMAIN, pair))
    from zkpor.hash import bytehash

    return bytehash.hash_bytes(BLAKE3_NODE_PURPOSE, left + right)


def sibling_plan(n_rows: int, indices: Sequence[int]) -> list[tuple[int, int]]:
    """The (level, node index) of every sibling a multi-opening of ``indices`` sends, in order."""
    depth = depth_of(n_rows)
    known = sorted({operator.index(i) for i in indices})
    if known and not (0 <= known[0] and known[-1] < n_rows):
        raise ValueError(f"a leaf index is outside [0, {n_rows})")
    plan = []
    for level in range(depth):
        known_set = set(known)
        for i in known:
            if i ^ 1 not in known_set:
                plan.append((level, i ^ 1))
        known = sorted({i >> 1 for i in known})
    return plan


def _canonical_row(values: Sequence[int], expected_len: int | None) -> list[int] | None:
    """The row as canonical ints, or None if it has the wrong length or a non-field value."""
    try:
        out = [operator.index(v) for v in values if not isinstance(v, bool)]
    except TypeError:
        return None
    if len(out) != len(values) or (expected_len is not None and len(out) != expected_len):
        return None  # a bool slipped in, or the length is not the expected one
    if any(not 0 <= v < poseidon2.P for v in out):
        return None
    return out


def verify_multi(
    root: bytes,
    n_rows: int,
    indices: Sequence[int],
    rows: Sequence[Sequence[int]],
    salts: Sequence[Sequence[int]] | None,
    proof: MultiProof,
    hasher: str = "blake3",
    *,
    n_cols: int | None = None,
    leaf_domain: str | None = None,
    digest_bytes: int = DIGEST_SIZE,
    poseidon2_hashing: Poseidon2Hashing = PURE_POSEIDON2,
) -> bool:
    """Check that ``rows`` (with ``salts`` for a salted tree) sit at ``indices`` under ``root``.

    ``indices`` may repeat and come in any order; ``rows[j]`` (and ``salts[j]``) belong to
    ``indices[j]``, and repeated indices must come with identical rows and salts. Pass
    ``salts=None`` for an unsalted tree. ``n_cols``, if given, is the row length the verifier
    expects; ``digest_bytes`` the tree's digest truncation (the proof must have been read with
    it). Returns False for anything that does not check out: wrong digest, wrong number of siblings
    (too few or too many), wrong row or salt length, a value outside the field, an index out of
    range. Raises ValueError only for caller mistakes: an unknown hasher, or ``n_rows`` not a
    power of two. ``poseidon2_hashing`` computes a Poseidon2 tree's digests (the same digests,
    a level at a time).
    """
    check_hasher(hasher)
    check_digest_bytes(digest_bytes, hasher)
    depth = depth_of(n_rows)
    if not isinstance(root, bytes) or len(root) != DIGEST_SIZE or not isinstance(proof, MultiProof):
        return False
    if proof.digest_bytes != digest_bytes:
        return False
    if hasher == "poseidon2" and not _is_poseidon2_digest(root):
        return False
    try:
        idx = [operator.index(i) for i in indices]
    except TypeError:
        return False
    if not idx or len(rows) != len(idx) or (salts is not None and len(salts) != len(idx)):
        return False
    if any(not 0 <= i < n_rows for i in idx):
        return False
    salted = salts is not None
    domain = leaf_domain if leaf_domain is not None else default_leaf_domain(hasher, salted)

    # Level 0: one digest per distinct index; a repeated index must repeat the same row and salt.
    opened: dict[int, tuple[list[int], list[int]]] = {}
    width = n_cols
    for j, i in enumerate(idx):
        row = _canonical_row(rows[j], width)
        if row is None:
            return False
        width = len(row)
        salt = _canonical_row(salts[j], SALT_ELEMS) if salts is not None else []
        if salt is None:
            return False
        if i in opened and opened[i] != (row, salt):
            return False
        opened[i] = (row, salt)
    order = list(opened)
    if hasher == "poseidon2":
        leaf_salts = [opened[i][1] for i in order] if salted else None
        digests = poseidon2_hashing.leaves(domain, leaf_salts, [opened[i][0] for i in order])
    else:
        digests = [leaf_digest(hasher, domain, opened[i][1], opened[i][0]) for i in order]
    known = {i: truncate(digest, digest_bytes) for i, digest in zip(order, digests, strict=True)}

    siblings = iter(proof.siblings)
    for _ in range(depth):
        parents: list[int] = []
        pairs: list[tuple[bytes, bytes]] = []
        for i in sorted(known):
            if i & 1 and i ^ 1 in known:
                continue  # already combined with its left sibling
            sib = known.get(i ^ 1)
            if sib is None:
                sib = next(siblings, None)
                if sib is None:
                    return False  # too few siblings
                if hasher == "poseidon2" and not _is_poseidon2_digest(sib):
                    return False
            parents.append(i >> 1)
            pairs.append((known[i], sib) if i % 2 == 0 else (sib, known[i]))
        if hasher == "poseidon2":
            digests = poseidon2_hashing.nodes(pairs)
        else:
            digests = [node_digest(hasher, left, right) for left, right in pairs]
        known = {i: truncate(digest, digest_bytes) for i, digest in zip(parents, digests, strict=True)}
    if next(siblings, None) is not None:
        return False  # too many siblings: a strict verifier accepts exactly one encoding
    return known.get(0) == root


def _is_poseidon2_digest(d: bytes) -> bool:
    try:
        poseidon2.digest_from_bytes(d)
    except ValueError:
        return False
    return True
