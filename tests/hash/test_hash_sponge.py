"""Poseidon2 sponge and 2-to-1 compression: the construction, domain separation, pure == numba."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from poseidon2_vectors import KAT_8

from zkpor.hash import poseidon2 as p2
from zkpor.hash import poseidon2_batch as pb

P = p2.P
element = st.one_of(st.sampled_from([0, 1, P - 1]), st.integers(0, P - 1))


def test_sponge_is_the_documented_construction():
    # Written out by hand from the docstring: capacity = tag ‖ n, blocks of 8 overwrite lanes 0..7,
    # the last one zero-filled, output from lanes 0..3.
    msg = list(range(1, 12))  # 11 elements: one full block and a partial one
    tag = p2.domain_tag("test")
    state = [0] * 8 + list(tag) + [11]
    state[:8] = msg[:8]
    state = p2.permute(state)
    state[:8] = msg[8:] + [0] * 5
    state = p2.permute(state)
    assert p2.sponge_hash("test", msg) == state[:4]


def test_domain_tag_is_the_documented_construction():
    domain = b"zkpor/leaf"  # 10 bytes: chunks of 7 and 3
    encoded = [10, int.from_bytes(domain[:7], "little"), int.from_bytes(domain[7:], "little")]
    state = encoded + [0] * 9
    assert p2.domain_tag(domain) == tuple(p2.permute(state)[:3])
    assert p2.domain_tag("zkpor/leaf") == p2.domain_tag(domain)


def test_empty_input_absorbs_one_zero_block():
    state = [0] * 8 + list(p2.domain_tag("d")) + [0]
    assert p2.sponge_hash("d", []) == p2.permute(state)[:4]


def test_domains_separate():
    msg = [1, 2, 3]
    digests = {tuple(p2.sponge_hash(d, msg)) for d in ("a", "b", "ab", "zkpor/leaf", "zkpor/leaf2", b"\x00")}
    assert len(digests) == 6


def test_lengths_separate_and_trailing_zeros_do_not_collide():
    base = [5, 6, 7]
    variants = [base, base + [0], base + [0] * 5, base + [0] * 13, [], [0], [0] * 8, [0] * 9]
    digests = {tuple(p2.sponge_hash("d", v)) for v in variants}
    assert len(digests) == len(variants)


def test_partial_block_is_not_confused_with_stale_lanes():
    # The Plonky3 padding-free sponge collision: a message ending in what the permutation left in
    # the rate lanes. Zero fill plus the length in the capacity rule it out.
    first = [11, 12, 13, 14, 15, 16, 17, 18]
    state = p2.permute([*first, *p2.domain_tag("d"), 10])
    a = [*first, 1, 2]
    b = [*first, 1, 2, *state[2:4]]
    assert p2.sponge_hash("d", a) != p2.sponge_hash("d", b)


def test_longer_outputs_extend_shorter_ones():
    msg = list(range(20))
    long = p2.sponge_hash("d", msg, 20)
    assert long[:4] == p2.sponge_hash("d", msg, 4)
    assert long[:8] == p2.sponge_hash("d", msg, 8)
    assert len(long) == 20 and len(set(long)) == 20


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(0, 30),
    k=st.integers(0, 4),
    out_len=st.integers(1, 12),
    n=st.integers(1, 3),
    data=st.data(),
)
def test_batch_sponge_equals_pure(m, k, out_len, n, data):
    rows = data.draw(st.lists(st.lists(element, min_size=m, max_size=m), min_size=n, max_size=n))
    prefix = data.draw(st.lists(st.lists(element, min_size=k, max_size=k), min_size=n, max_size=n))
    got = pb.sponge_hash_batch(
        "dom",
        np.array(rows, dtype=np.uint64).reshape(n, m),
        out_len,
        prefix=np.array(prefix, dtype=np.uint64).reshape(n, k) if k else None,
    )
    for i in range(n):
        assert list(map(int, got[i])) == p2.sponge_hash("dom", prefix[i] + rows[i], out_len)


def test_domain_validation():
    for bad in ("", b"", "x" * 256):
        with pytest.raises(ValueError):
            p2.sponge_hash(bad, [1])
    with pytest.raises(TypeError):
        p2.sponge_hash(123, [1])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        p2.sponge_hash("d", [P])
    with pytest.raises(ValueError):
        p2.sponge_hash("d", [1], 0)
    p2.sponge_hash("x" * 255, [1])


def test_compress_is_truncated_width8_permutation():
    left, right = KAT_8[0][:4], KAT_8[0][4:]
    assert p2.compress(left, right) == KAT_8[1][:4]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(element, min_size=8, max_size=8), min_size=1, max_size=5))
def test_batch_compress_equals_pure(pairs):
    a = np.array(pairs, dtype=np.uint64)
    got = pb.compress_batch(a[:, :4], a[:, 4:])
    assert [list(map(int, r)) for r in got] == [p2.compress(p[:4], p[4:]) for p in pairs]


def test_compress_pairs_is_one_tree_level():
    nodes = np.random.default_rng(3).integers(0, P, size=(6, 4), dtype=np.uint64)
    got = pb.compress_pairs(nodes)
    for i in range(3):
        assert list(map(int, got[i])) == p2.compress(
            list(map(int, nodes[2 * i])), list(map(int, nodes[2 * i + 1]))
        )
    with pytest.raises(ValueError):
        pb.compress_pairs(nodes[:5])


def test_compress_and_digest_validation():
    with pytest.raises(ValueError):
        p2.compress([1, 2, 3], [4, 5, 6, 7])
    with pytest.raises(ValueError):
        pb.compress_batch(np.zeros((2, 4), dtype=np.uint64), np.zeros((3, 4), dtype=np.uint64))
    d = p2.sponge_hash("d", [1, 2])
    assert p2.digest_from_bytes(p2.digest_to_bytes(d)) == d
    with pytest.raises(ValueError):
        p2.digest_from_bytes(b"\xff" * 32)  # 2^64 - 1 is not canonical
    with pytest.raises(ValueError):
        p2.digest_from_bytes(b"\x00" * 31)


def test_sponge_initial_state_for_airs():
    state = p2.sponge_initial_state("d", 7)
    assert state[:8] == [0] * 8 and state[8:11] == list(p2.domain_tag("d")) and state[11] == 7
