"""Merkle vector commitments: commit / open / verify, shared siblings, tampering, strict parsing."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zkpor.errors import VerificationError
from zkpor.hash import merkle_proof as mp
from zkpor.hash.errors import MalformedProofError
from zkpor.hash.merkle import SALT_ELEMS, MerkleTree, MultiProof, SaltRng, verify_multi
from zkpor.hash.poseidon2 import P

HASHERS = ["blake3", "poseidon2"]


def matrix(n_rows: int, n_cols: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, P, size=(n_rows, n_cols), dtype=np.uint64)


def opening(tree: MerkleTree, indices: list[int]):
    return tree.rows(indices), tree.salts(indices), tree.open(indices)


def check(tree: MerkleTree, indices, rows, salts, proof, *, verify=verify_multi, **kw) -> bool:
    kw.setdefault("digest_bytes", tree.digest_bytes)
    return verify(tree.root, tree.n_rows, indices, rows, salts, proof, tree.hasher, **kw)


# The vector-kernel verifier (`merkle.verify_multi`, the STARK's) and the pure-Python one (a
# customer's, `merkle_proof.verify_multi`): a Poseidon2 tree's digests computed either way.
VERIFIERS = pytest.mark.parametrize("verify", [verify_multi, mp.verify_multi], ids=["lanes", "pure"])


TREES = [(h, s, 32) for h in HASHERS for s in (False, True)] + [("blake3", s, 28) for s in (False, True)]


@pytest.fixture(scope="module", params=TREES, ids=str)
def tree(request) -> MerkleTree:
    hasher, salted, digest_bytes = request.param
    rng = SaltRng(seed=b"fixed test seed for salts") if salted else None
    return MerkleTree.commit(matrix(32, 5), hasher, salt_rng=rng, digest_bytes=digest_bytes)


def pure_root(m: np.ndarray, hasher: str, salts: np.ndarray | None, digest_bytes: int = 32) -> bytes:
    """The root recomputed with the pure-Python leaf and node functions, level by level."""
    domain = mp.default_leaf_domain(hasher, salts is not None)
    level = [
        mp.leaf_digest(
            hasher, domain, [] if salts is None else list(map(int, salts[i])), list(map(int, m[i]))
        )
        for i in range(m.shape[0])
    ]
    level = [mp.truncate(d, digest_bytes) for d in level]
    while len(level) > 1:
        level = [
            mp.truncate(mp.node_digest(hasher, level[i], level[i + 1]), digest_bytes)
            for i in range(0, len(level), 2)
        ]
    return level[0]


@pytest.mark.parametrize("hasher", HASHERS)
@pytest.mark.parametrize("n_rows,n_cols", [(1, 3), (2, 1), (8, 7), (16, 13), (4, 0)])
@pytest.mark.parametrize("salted", [False, True])
def test_root_equals_pure_python(hasher, n_rows, n_cols, salted):
    m = matrix(n_rows, n_cols, seed=n_rows * 100 + n_cols)
    salts = SaltRng(seed=b"0123456789abcdef").field_elements((n_rows, SALT_ELEMS)) if salted else None
    tree = MerkleTree.commit(m, hasher, salts=salts)
    assert tree.root == pure_root(m, hasher, salts)
    assert len(tree.root) == 32 and tree.depth == n_rows.bit_length() - 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_openings_verify(tree, data):
    indices = data.draw(st.lists(st.integers(0, tree.n_rows - 1), min_size=1, max_size=12))
    rows, salts, proof = opening(tree, indices)
    assert check(tree, indices, rows, salts, proof, n_cols=tree.n_cols)
    assert len(proof.siblings) == len(mp.sibling_plan(tree.n_rows, indices))
    # serialisation round trip gives the same, verifying proof
    again = MultiProof.from_bytes(proof.to_bytes(), digest_bytes=tree.digest_bytes)
    assert again == proof and check(tree, indices, rows, salts, again)
    assert len(proof.to_bytes()) == 4 + tree.digest_bytes * len(proof.siblings)


def test_siblings_are_shared(tree):
    independent = sum(len(tree.open([i]).siblings) for i in range(8))
    shared = tree.open(list(range(8)))
    assert independent == 8 * tree.depth
    assert len(shared.siblings) == tree.depth - 3  # leaves 0..7 form a full subtree of height 3
    assert shared.size_bytes < sum(tree.open([i]).size_bytes for i in range(8))
    assert len(tree.open([0, 1]).siblings) == tree.depth - 1


def test_full_opening_needs_no_siblings(tree):
    indices = list(range(tree.n_rows))
    rows, salts, proof = opening(tree, indices)
    assert proof.siblings == ()
    assert check(tree, indices, rows, salts, proof)


def test_order_and_repeats(tree):
    indices = [9, 3, 9, 30, 3]
    rows, salts, proof = opening(tree, indices)
    assert proof == tree.open(sorted(set(indices)))
    assert check(tree, indices, rows, salts, proof)
    rows2 = rows.copy()
    rows2[2, 0] = (int(rows2[2, 0]) + 1) % P  # a repeated index with a different row
    assert not check(tree, indices, rows2, salts, proof)


@VERIFIERS
def test_tampering_is_rejected(tree, verify):
    indices = [2, 5, 17]
    rows, salts, proof = opening(tree, indices)
    ok = functools.partial(check, verify=verify)
    assert ok(tree, indices, rows, salts, proof)

    bad_rows = rows.copy()
    bad_rows[1, 3] = (int(bad_rows[1, 3]) + 1) % P
    assert not ok(tree, indices, bad_rows, salts, proof)

    if salts is not None:
        bad_salts = salts.copy()
        bad_salts[0, 1] = (int(bad_salts[0, 1]) + 1) % P
        assert not ok(tree, indices, rows, bad_salts, proof)
        assert not ok(tree, indices, rows, None, proof)  # a salted tree read as unsalted
    else:
        assert not ok(tree, indices, rows, np.zeros((3, SALT_ELEMS), dtype=np.uint64), proof)

    for k in range(len(proof.siblings)):
        sib = bytearray(proof.siblings[k])
        sib[0] ^= 1
        forged = MultiProof(proof.siblings[:k] + (bytes(sib),) + proof.siblings[k + 1 :], proof.digest_bytes)
        assert not ok(tree, indices, rows, salts, forged)
    swapped = MultiProof(proof.siblings[1:2] + proof.siblings[:1] + proof.siblings[2:], proof.digest_bytes)
    assert not ok(tree, indices, rows, salts, swapped)  # the right siblings in the wrong order

    assert not ok(tree, [2, 5, 16], rows, salts, proof)  # right rows, wrong index
    assert not ok(tree, [5, 2, 17], rows, salts, proof)  # rows swapped between indices
    assert not verify(bytes(32), tree.n_rows, indices, rows, salts, proof, tree.hasher)
    size = proof.digest_bytes
    assert not ok(tree, indices, rows, salts, MultiProof(proof.siblings[:-1], size))  # missing sibling
    extra = MultiProof(proof.siblings + proof.siblings[:1], size)
    assert not ok(tree, indices, rows, salts, extra)  # one sibling too many
    other_size = 32 if size == 28 else 28
    if tree.hasher == "blake3":  # a proof read with another truncation than the tree's
        assert not ok(tree, indices, rows, salts, proof, digest_bytes=other_size)
    assert not ok(tree, indices, rows[:, :4], salts, proof)  # short rows
    assert not ok(tree, indices, rows, salts, proof, n_cols=6)  # verifier expects another width
    other = "poseidon2" if tree.hasher == "blake3" else "blake3"
    assert not verify(tree.root, tree.n_rows, indices, rows, salts, proof, other)


@pytest.mark.parametrize("salted", [False, True])
@pytest.mark.parametrize("n_cols", [1, 8, 13])
def test_the_vector_kernels_hash_a_level_as_the_pure_code_does(salted: bool, n_cols: int) -> None:
    from zkpor.hash.merkle import LANE_POSEIDON2

    rows = [list(map(int, row)) for row in matrix(37, n_cols, seed=n_cols)]
    salts = [list(map(int, row)) for row in matrix(37, SALT_ELEMS, seed=99)] if salted else None
    domain = mp.default_leaf_domain("poseidon2", salted)
    leaves = LANE_POSEIDON2.leaves(domain, salts, rows)
    assert leaves == mp.PURE_POSEIDON2.leaves(domain, salts, rows)
    pairs = list(zip(leaves[0::2], leaves[1::2], strict=False))  # 37 leaves: 18 pairs
    assert LANE_POSEIDON2.nodes(pairs) == mp.PURE_POSEIDON2.nodes(pairs)


def test_malformed_inputs_are_rejected_not_crashing(tree):
    indices = [1, 4]
    rows, salts, proof = opening(tree, indices)
    non_field = rows.astype(object)
    non_field[0, 0] = P  # the same residue plus p: not a field element
    assert not check(tree, indices, non_field.tolist(), salts, proof)
    assert not check(tree, [1, tree.n_rows], rows, salts, proof)  # index out of range
    assert not check(tree, [1, -1], rows, salts, proof)
    assert not check(tree, [], rows[:0], salts[:0] if salts is not None else None, proof)
    assert not check(tree, indices, rows[:1], salts, proof)  # rows and indices differ in number
    assert not check(tree, indices, [["a"] * 5, rows[1]], salts, proof)
    assert not verify_multi(tree.root[:31], tree.n_rows, indices, rows, salts, proof, tree.hasher)
    with pytest.raises(ValueError):
        verify_multi(tree.root, 24, indices, rows, salts, proof, tree.hasher)  # not a power of two
    with pytest.raises(ValueError):
        verify_multi(tree.root, tree.n_rows, indices, rows, salts, proof, "sha256")


def test_poseidon2_rejects_non_canonical_sibling():
    tree = MerkleTree.commit(matrix(8, 2), "poseidon2")
    rows, salts, proof = opening(tree, [3])
    forged = MultiProof((b"\xff" * 32,) + proof.siblings[1:])
    assert not check(tree, [3], rows, salts, forged)


# --- serialisation -----------------------------------------------------------------------------


def test_serialisation_format():
    proof = MultiProof((b"\x01" * 32, b"\x02" * 32))
    data = proof.to_bytes()
    assert data == (2).to_bytes(4, "little") + b"\x01" * 32 + b"\x02" * 32
    assert MultiProof.from_bytes(data) == proof
    embedded = b"head" + data + b"tail"
    parsed, end = MultiProof.read_from(embedded, 4)
    assert parsed == proof and embedded[end:] == b"tail"
    assert MultiProof.from_bytes((0).to_bytes(4, "little")) == MultiProof(())


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "no sibling count"),
        (b"\x01\x00", "no sibling count"),
        ((1).to_bytes(4, "little") + b"\x00" * 31, "truncated"),
        ((0xFFFFFFFF).to_bytes(4, "little"), "truncated"),
        ((3).to_bytes(4, "little") + b"\x00" * 64, "truncated"),
        ((1).to_bytes(4, "little") + b"\x00" * 33, "trailing"),
    ],
)
def test_malformed_serialisations(data, reason):
    with pytest.raises(MalformedProofError, match=reason) as info:
        MultiProof.from_bytes(data)
    assert isinstance(info.value, ValueError) and isinstance(info.value, VerificationError)


def test_sibling_bound_and_offset():
    data = MultiProof((b"\x00" * 32,) * 5).to_bytes()
    with pytest.raises(MalformedProofError, match="at most 4"):
        MultiProof.from_bytes(data, max_siblings=4)
    with pytest.raises(MalformedProofError, match="offset"):
        MultiProof.read_from(data, len(data) + 1)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_parses_or_raises_cleanly(data):
    try:
        proof = MultiProof.from_bytes(data)
    except MalformedProofError:
        return
    assert proof.to_bytes() == data


# --- commit-time checks and salts ----------------------------------------------------------------


def test_commit_validation():
    with pytest.raises(ValueError, match="power of two"):
        MerkleTree.commit(matrix(12, 3))
    with pytest.raises(ValueError, match="power of two"):
        MerkleTree.commit(matrix(0, 3))
    with pytest.raises(ValueError):
        MerkleTree.commit(matrix(8, 3).astype(np.int64))
    bad = matrix(8, 3)
    bad[5, 1] = P
    for hasher in HASHERS:
        with pytest.raises(ValueError, match=">= p"):
            MerkleTree.commit(bad, hasher)
    with pytest.raises(ValueError, match="unknown"):
        MerkleTree.commit(matrix(8, 3), "sha256")
    with pytest.raises(TypeError):
        MerkleTree.commit(matrix(8, 3), salt_rng=np.random.default_rng(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        MerkleTree.commit(matrix(8, 3), salts=np.zeros((8, 3), dtype=np.uint64))
    with pytest.raises(ValueError):
        MerkleTree.commit(matrix(8, 3), salt_rng=SaltRng(), salts=np.zeros((8, 2), dtype=np.uint64))
    tree = MerkleTree.commit(matrix(8, 3))
    with pytest.raises(IndexError):
        tree.open([8])


def test_salts_hide_and_are_fresh():
    m = matrix(16, 4)
    roots = {MerkleTree.commit(m, "blake3", salt_rng=SaltRng()).root for _ in range(3)}
    assert len(roots) == 3  # fresh salts: the same matrix commits to unrelated roots
    assert MerkleTree.commit(m).root not in roots
    a = SaltRng(seed=b"seed-seed-seed-seed").field_elements((1000, 2))
    b = SaltRng(seed=b"seed-seed-seed-seed").field_elements((1000, 2))
    assert np.array_equal(a, b) and a.dtype == np.uint64 and (a < np.uint64(P)).all()
    assert len(np.unique(a)) == 2000
    with pytest.raises(ValueError):
        SaltRng(seed=b"short")


def test_custom_leaf_domain_must_match():
    m = matrix(8, 3)
    tree = MerkleTree.commit(m, "poseidon2", leaf_domain="zkpor/custom-leaf")
    rows, salts, proof = opening(tree, [6])
    assert check(tree, [6], rows, salts, proof, leaf_domain="zkpor/custom-leaf")
    assert not check(tree, [6], rows, salts, proof)
    assert tree.root != MerkleTree.commit(m, "poseidon2").root


@pytest.mark.parametrize("hasher", HASHERS)
@pytest.mark.parametrize("n_rows", [4, 32, 64])
def test_column_major_tree_is_the_same_tree(hasher, n_rows):
    m = matrix(n_rows, 11, seed=n_rows)
    salts = SaltRng(seed=b"0123456789abcdef").field_elements((n_rows, SALT_ELEMS))
    rows = MerkleTree.commit(m, hasher, salts=salts)
    columns = MerkleTree.commit(np.ascontiguousarray(m.T), hasher, salts=salts, column_major=True)
    assert columns.root == rows.root and (columns.n_rows, columns.n_cols) == (n_rows, 11)
    indices = [n_rows - 1, 0, 2]
    assert np.array_equal(columns.rows(indices), m[indices])
    assert columns.open(indices) == rows.open(indices)


def test_poseidon2_node_is_one_width12_permutation():
    """One Poseidon2 width in and out of the recursion AIR: a node is the width-12 sponge over
    left ‖ right under its own domain, i.e. one permutation with a constant capacity."""
    from zkpor.hash import poseidon2

    left, right = [1, 2, 3, 4], [5, 6, 7, P - 1]
    node = mp.node_digest("poseidon2", poseidon2.digest_to_bytes(left), poseidon2.digest_to_bytes(right))
    state = left + right + poseidon2.sponge_initial_state(mp.POSEIDON2_NODE_DOMAIN, 8)[poseidon2.RATE :]
    assert poseidon2.digest_from_bytes(node) == poseidon2.permute(state)[:4]
    assert node != poseidon2.digest_to_bytes(poseidon2.compress(left, right))  # not the width-8 one
    # its own domain: not the solvency tree's node hash, nor a leaf of the same 8 elements
    assert node != poseidon2.digest_to_bytes(poseidon2.sponge_hash("zkpor-node-v1", left + right))
    assert node != mp.leaf_digest("poseidon2", mp.POSEIDON2_LEAF_DOMAIN, [], left + right)


# --- truncated digests --------------------------------------------------------------------------


@pytest.mark.parametrize("salted", [False, True])
def test_truncated_tree_is_the_pure_python_one(salted):
    m = matrix(16, 6, seed=5)
    salts = SaltRng(seed=b"0123456789abcdef").field_elements((16, SALT_ELEMS)) if salted else None
    tree = MerkleTree.commit(m, "blake3", salts=salts, digest_bytes=28)
    assert tree.root == pure_root(m, "blake3", salts, 28)
    assert tree.root[28:] == bytes(4) and tree.root != MerkleTree.commit(m, "blake3", salts=salts).root
    proof = tree.open([3, 9])
    data = proof.to_bytes()
    assert len(data) == 4 + 28 * len(proof.siblings)
    with pytest.raises(MalformedProofError):
        MultiProof.from_bytes(data)  # a 28-byte proof read as a 32-byte one
    with pytest.raises(ValueError, match="end in zeros"):
        MultiProof((b"\x01" * 32,), 28)  # a truncated tree's sibling has a zero tail


def test_truncation_is_bounded_and_blake3_only():
    for digest_bytes in (24, 33, 0):
        with pytest.raises(ValueError, match="digest_bytes"):
            MerkleTree.commit(matrix(4, 2), "blake3", digest_bytes=digest_bytes)
    with pytest.raises(ValueError, match="digest_bytes"):
        MerkleTree.commit(matrix(4, 2), "poseidon2", digest_bytes=28)


def test_poseidon2_salt_rides_in_the_capacity(monkeypatch):
    """A salted Poseidon2 leaf is the sponge of its row from the capacity (tag_0, salt, length):
    the salt costs no permutation (a 56-element row is 7 blocks, not 8 as salt ‖ row was), and a
    salted leaf's start state never equals an unsalted leaf's or a node's (first tag elements differ)."""
    from zkpor.hash import poseidon2 as p2

    row, salt = list(range(56)), [5, 6]
    tag = p2.domain_tag(mp.POSEIDON2_SALTED_LEAF_DOMAIN)[0]
    want = p2.digest_to_bytes(p2.sponge_from_capacity([tag, 5, 6, 56], row))
    calls = []
    permute = p2._permute_unchecked
    monkeypatch.setattr(p2, "_permute_unchecked", lambda state: calls.append(1) or permute(state))
    assert mp.leaf_digest("poseidon2", mp.POSEIDON2_SALTED_LEAF_DOMAIN, salt, row) == want
    assert len(calls) == 7
    firsts = {p2.domain_tag(d)[0] for d in (mp.POSEIDON2_SALTED_LEAF_DOMAIN, mp.POSEIDON2_LEAF_DOMAIN,
                                            mp.POSEIDON2_NODE_DOMAIN)}  # fmt: skip
    assert len(firsts) == 3
    # the fast tree hashes the same leaf
    tree = MerkleTree.commit(np.array([row, row[::-1]], dtype=np.uint64), "poseidon2",
                             salts=np.array([salt, salt], dtype=np.uint64))  # fmt: skip
    assert tree.levels[0][0].tolist() == p2.digest_from_bytes(want)
