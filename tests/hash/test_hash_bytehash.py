"""BLAKE3 byte hash: the numba kernels equal the blake3 package; purposes separate."""

from __future__ import annotations

import blake3
import numpy as np
import pytest

from zkpor.hash import bytehash as bh

# uint64 words per message: empty, partial/whole blocks (8 words), chunk boundaries (128 words),
# and 2..9 chunks, so the chaining-value stack merges in every pattern.
LENGTHS = [
    0,
    1,
    7,
    8,
    9,
    15,
    16,
    100,
    127,
    128,
    129,
    200,
    255,
    256,
    257,
    383,
    384,
    385,
    512,
    640,
    1023,
    1025,
    1152,
]


@pytest.mark.parametrize("m", LENGTHS)
def test_rows_match_blake3_package(m):
    rng = np.random.default_rng(m)
    rows = rng.integers(0, 2**64, size=(3, m), dtype=np.uint64)
    got = bh.digests_to_bytes(bh.hash_rows("test", rows))
    key = bh.purpose_key("test")
    for i in range(3):
        expected = blake3.blake3(rows[i].astype("<u8").tobytes(), key=key).digest()
        assert got[i] == expected
        assert bh.hash_words("test", rows[i]) == expected


@pytest.mark.parametrize("k,m", [(2, 0), (2, 6), (2, 126), (2, 200), (5, 3), (130, 1)])
def test_prefix_is_concatenation(k, m):
    rng = np.random.default_rng(k * 1000 + m)
    rows = rng.integers(0, 2**64, size=(4, m), dtype=np.uint64)
    prefix = rng.integers(0, 2**64, size=(4, k), dtype=np.uint64)
    got = bh.hash_rows("p", rows, prefix)
    assert np.array_equal(got, bh.hash_rows("p", np.concatenate([prefix, rows], axis=1)))


def test_many_rows_over_threads():
    rows = np.random.default_rng(1).integers(0, 2**64, size=(3000, 9), dtype=np.uint64)
    got = bh.digests_to_bytes(bh.hash_rows("many", rows))
    for i in (0, 1499, 1500, 2999):
        assert got[i] == bh.hash_words("many", rows[i])


def test_pairs_are_node_hashes():
    nodes = np.random.default_rng(2).integers(0, 2**64, size=(8, 4), dtype=np.uint64)
    got = bh.digests_to_bytes(bh.hash_pairs("node", nodes))
    d = bh.digests_to_bytes(nodes)
    for i in range(4):
        assert got[i] == bh.hash_bytes("node", d[2 * i] + d[2 * i + 1])
    with pytest.raises(ValueError):
        bh.hash_pairs("node", nodes[:3])


@pytest.mark.parametrize("n_pairs", [1, 127, 128, 300])
def test_pairs_in_vector_lanes_over_threads(n_pairs):
    """Node pairs are hashed side by side in the column kernel's lanes: whole and partial lane
    groups, split over threads, each equal to the hash of its 64 bytes."""
    nodes = np.random.default_rng(n_pairs).integers(0, 2**64, size=(2 * n_pairs, 4), dtype=np.uint64)
    got = bh.digests_to_bytes(bh.hash_pairs("node", nodes))
    d = bh.digests_to_bytes(nodes)
    assert len(got) == n_pairs
    for i in {0, n_pairs // 2, n_pairs - 1}:
        assert got[i] == bh.hash_bytes("node", d[2 * i] + d[2 * i + 1])


def test_purposes_are_separate_and_not_plain_blake3():
    data = b"same bytes"
    digests = {bh.hash_bytes(p, data) for p in ("a", "b", "merkle-leaf", "merkle-node", "fiat-shamir")}
    assert len(digests) == 5
    assert blake3.blake3(data).digest() not in digests
    assert bh.purpose_key("a") == blake3.blake3(b"a", derive_key_context=bh.KEY_CONTEXT).digest()
    with pytest.raises(ValueError):
        bh.purpose_key("")


def test_digest_conversions_and_validation():
    d = bh.hash_bytes("x", b"")
    assert bh.digests_to_bytes(bh.digest_to_words(d).reshape(1, 4)) == [d]
    with pytest.raises(ValueError):
        bh.digest_to_words(d[:31])
    with pytest.raises(ValueError):
        bh.hash_rows("x", np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError):
        bh.hash_rows("x", np.zeros((2, 3), dtype=np.uint64), prefix=np.zeros((3, 1), dtype=np.uint64))
    with pytest.raises(ValueError):
        bh.words_to_bytes([1 << 64])


def test_field_element_check_in_the_same_pass():
    p = 0xFFFF_FFFF_0000_0001
    rows = np.full((300, 5), p - 1, dtype=np.uint64)
    bh.hash_rows("f", rows, field_elements=True)
    rows[250, 4] = p
    with pytest.raises(ValueError, match=">= p"):
        bh.hash_rows("f", rows, field_elements=True)
    bh.hash_rows("f", rows)  # raw words: anything goes
    prefix = np.zeros((300, 2), dtype=np.uint64)
    prefix[0, 1] = (1 << 64) - 1
    with pytest.raises(ValueError, match=">= p"):
        bh.hash_rows("f", rows[:, :1] * 0, prefix=prefix, field_elements=True)


@pytest.mark.parametrize("m", [0, 1, 7, 8, 126, 127, 128, 129, 296, 300, 383, 1025])
@pytest.mark.parametrize("k", [0, 2])
def test_column_kernel_equals_row_kernel(m, k):
    """The lane-parallel kernel over a column-major matrix gives the row kernel's digests."""
    rng = np.random.default_rng(m * 10 + k)
    n = 300  # two groups of 128 lanes and a ragged tail
    columns = rng.integers(0, 2**64, size=(m, n), dtype=np.uint64)
    prefix = rng.integers(0, 2**64, size=(n, k), dtype=np.uint64)
    got = bh.hash_columns("cols", columns, prefix)
    assert np.array_equal(got, bh.hash_rows("cols", np.ascontiguousarray(columns.T), prefix))


@pytest.mark.parametrize("n", [1, 8, 24, 100, 130])  # fewer rows than lanes, or not a multiple
def test_column_kernel_on_ragged_row_counts(n):
    columns = np.random.default_rng(n).integers(0, 2**64, size=(5, n), dtype=np.uint64)
    assert np.array_equal(bh.hash_columns("r", columns), bh.hash_rows("r", np.ascontiguousarray(columns.T)))


def test_column_kernel_checks_field_elements():
    columns = np.zeros((3, 32), dtype=np.uint64)
    bh.hash_columns("f", columns, field_elements=True)
    columns[2, 17] = np.uint64(0xFFFF_FFFF_0000_0001)
    with pytest.raises(ValueError, match=">= p"):
        bh.hash_columns("f", columns, field_elements=True)
    prefix = np.zeros((32, 2), dtype=np.uint64)
    prefix[31, 1] = np.uint64(2**64 - 1)
    with pytest.raises(ValueError, match=">= p"):
        bh.hash_columns("f", np.zeros((3, 32), dtype=np.uint64), prefix, field_elements=True)


@pytest.mark.parametrize(("m", "n"), [(8, 128), (19, 256)])
def test_column_kernel_checks_field_elements_in_full_lane_groups(m, n):
    """Full lane groups load 8 columns at once (`blake3_columns._load_columns`): a word >= p in any
    of them, first or last row or column, is counted like the ragged path's, digests unchanged."""
    p = 0xFFFF_FFFF_0000_0001
    columns = np.full((m, n), p - 1, dtype=np.uint64)
    bh.hash_columns("f", columns, field_elements=True)
    for row, column in [(0, 0), (n - 1, m - 1), (n // 2 + 1, 7), (n - 1, 8 % m)]:
        bad = columns.copy()
        bad[column, row] = np.uint64(p if row % 2 else 2**64 - 1)
        with pytest.raises(ValueError, match=">= p"):
            bh.hash_columns("f", bad, field_elements=True)
        assert np.array_equal(bh.hash_columns("f", bad), bh.hash_rows("f", np.ascontiguousarray(bad.T)))
