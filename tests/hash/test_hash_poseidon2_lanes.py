"""The tiled Poseidon2 kernels (many states side by side in vector lanes) against the pure-Python
reference: the permutation, the sponge of a column-major matrix's rows, and Merkle node levels."""

from __future__ import annotations

import numpy as np
import pytest
from poseidon2_vectors import CROSS_CHECK_12, KAT_12

from zkpor.hash import poseidon2 as p2
from zkpor.hash import poseidon2_lanes as pl
from zkpor.hash.merkle_proof import POSEIDON2_NODE_DOMAIN

P = p2.P
# values next to the reduction's boundaries: 2^32 ± 1, 2^63, p - 1, p - 2^32, ...
EDGES = np.array(
    [0, 1, 2, 2**32 - 1, 2**32, 2**32 + 1, 2**63, P - 1, P - 2, P - 2**32, 2**64 - 2**33], dtype=np.uint64
)


def field(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random canonical elements, about a quarter of them edge values."""
    values = rng.integers(0, P, size=shape, dtype=np.uint64)
    edge = rng.random(shape) < 0.25
    values[edge] = rng.choice(EDGES, size=int(edge.sum()))
    return values


def permute_states(states: list[list[int]]) -> list[list[int]]:
    """`permute_tile` on the given states, placed in the first lanes of one tile."""
    t = pl.new_tile()
    for lane, state in enumerate(states):
        for i, v in enumerate(state):
            t[i * pl.LANES + lane] = v
    pl.permute_tile(t)
    return [[int(t[i * pl.LANES + lane]) for i in range(pl.WIDTH)] for lane in range(len(states))]


def test_permute_tile_matches_plonky3_vectors_and_the_reference():
    inputs, expected = KAT_12
    cases = [inputs, *(state for state, _ in CROSS_CHECK_12)]
    rng = np.random.default_rng(1)
    cases += [list(map(int, row)) for row in field(rng, (pl.LANES - len(cases), pl.WIDTH))]
    got = permute_states(cases)
    assert got[0] == list(expected)
    for i, (_, out) in enumerate(CROSS_CHECK_12, start=1):
        assert got[i] == list(out)
    for state, out in zip(cases, got, strict=True):
        assert out == p2.permute(state)


def test_permute_tile_on_extreme_states():
    """States of the largest and smallest elements, where the external layer's lazily reduced
    sums and the S-boxes' reductions carry and borrow in every lane."""
    top, low = P - 1, [0, 1, 2**32 - 1, 2**32, P - 2**32]
    cases = [[top] * pl.WIDTH, [0] * pl.WIDTH, [top, 0] * (pl.WIDTH // 2), [P - 2] * pl.WIDTH]
    cases += [[low[(i + j) % len(low)] if (i * j) % 3 else top for i in range(pl.WIDTH)] for j in range(8)]
    for state, out in zip(cases, permute_states(cases), strict=True):
        assert out == p2.permute(state)


@pytest.mark.parametrize(
    ("n_cols", "n_rows", "salted"),
    [
        (0, 3, False),  # empty rows: one all-zero block
        (1, 1, True),
        (3, 33, False),  # fewer words than the rate; rows past one tile
        (8, 40, False),  # exactly one block
        (11, 70, True),  # a partial second block, the salt in the capacity
        (16, 65, True),  # two full blocks: the salt adds none
        (19, 2 * pl.LANES + 5, False),
    ],
)
def test_sponge_columns_matches_the_reference(n_cols, n_rows, salted):
    rng = np.random.default_rng(n_cols * 1000 + n_rows)
    columns = field(rng, (n_cols, n_rows))
    capacities = field(rng, (n_rows, 4)) if salted else None
    if salted:
        got = pl.sponge_columns_from_capacity(capacities, columns)
    else:
        got = pl.sponge_columns("zkpor/test", columns)
    assert got.shape == (n_rows, 4)
    for i in range(n_rows):
        row = [int(v) for v in columns[:, i]]
        if salted:
            want = p2.sponge_from_capacity([int(v) for v in capacities[i]], row)
        else:
            want = p2.sponge_hash("zkpor/test", row)
        assert [int(v) for v in got[i]] == want


def test_sponge_columns_reads_strided_and_row_major_views():
    rng = np.random.default_rng(5)
    rows = field(rng, (37, 10))
    # a transposed (non-contiguous) view hashes as its rows
    got = pl.sponge_columns("d", rows.T)
    assert [int(v) for v in got[36]] == p2.sponge_hash("d", [int(v) for v in rows[36]])


@pytest.mark.parametrize("n_pairs", [1, 3, pl.LANES, pl.LANES + 1, 3 * pl.LANES - 1])
def test_hash_pairs_is_a_merkle_level(n_pairs):
    rng = np.random.default_rng(n_pairs)
    nodes = field(rng, (2 * n_pairs, 4))
    got = pl.hash_pairs(POSEIDON2_NODE_DOMAIN, nodes)
    assert got.shape == (n_pairs, 4)
    for i in range(n_pairs):
        pair = [int(v) for v in nodes[2 * i]] + [int(v) for v in nodes[2 * i + 1]]
        assert [int(v) for v in got[i]] == p2.sponge_hash(POSEIDON2_NODE_DOMAIN, pair)


def test_non_canonical_inputs_are_refused():
    columns = np.zeros((3, 40), dtype=np.uint64)
    columns[2, 39] = P
    with pytest.raises(ValueError, match="canonical"):
        pl.sponge_columns("d", columns)
    capacities = np.zeros((40, 4), dtype=np.uint64)
    capacities[39, 2] = 2**64 - 1
    with pytest.raises(ValueError, match="canonical"):
        pl.sponge_columns_from_capacity(capacities, np.zeros((3, 40), dtype=np.uint64))
    nodes = np.zeros((6, 4), dtype=np.uint64)
    nodes[5, 3] = P
    with pytest.raises(ValueError, match="canonical"):
        pl.hash_pairs("d", nodes)


def test_empty_inputs():
    assert pl.sponge_columns("d", np.zeros((5, 0), dtype=np.uint64)).shape == (0, 4)
    assert pl.hash_pairs("d", np.zeros((0, 4), dtype=np.uint64)).shape == (0, 4)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="shape"):
        pl.sponge_columns_from_capacity(np.zeros((5, 4), dtype=np.uint64), np.zeros((3, 4), dtype=np.uint64))
    with pytest.raises(ValueError, match="uint64"):
        pl.sponge_columns("d", np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="even number"):
        pl.hash_pairs("d", np.zeros((3, 4), dtype=np.uint64))
    with pytest.raises(ValueError, match="4 columns"):
        pl.hash_pairs("d", np.zeros((4, 8), dtype=np.uint64))


@pytest.mark.parametrize(("bits", "batch"), [(1, 1 << 16), (5, 2 * pl.LANES), (7, 3 * pl.LANES + 5)])
def test_search_nonce_finds_the_smallest_passing_nonce(bits, batch):
    seed = [int(v) for v in field(np.random.default_rng(bits), (pl.WIDTH,))]
    nonce = pl.search_nonce(seed, bits, batch=batch)
    # the first nonce whose permutation has `bits` leading zero bits in lane 0, by brute force
    expected = next(n for n in range(1 << 16) if p2.permute([n, *seed[1:]])[0] >> (64 - bits) == 0)
    assert nonce == expected
    assert pl.search_nonce(seed, bits, start=expected + 1, batch=batch) == next(
        n for n in range(expected + 1, 1 << 16) if p2.permute([n, *seed[1:]])[0] >> (64 - bits) == 0
    )
    with pytest.raises(ValueError, match="bits"):
        pl.search_nonce(seed, 0)


def test_search_nonce_stays_below_p():
    # Every nonce from p - 40 on fails 40 bits (probability 2^-34): the search reaches p and stops
    # there instead of trying values that are not field elements.
    seed = [int(v) for v in field(np.random.default_rng(9), (pl.WIDTH,))]
    with pytest.raises(RuntimeError, match="below p"):
        pl.search_nonce(seed, 40, start=P - 40, batch=16)
