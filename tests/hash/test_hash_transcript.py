"""Fiat-Shamir transcript: determinism, divergence on any change, unbiased challenges, grinding."""

from __future__ import annotations

import numpy as np
import pytest

from zkpor.hash import transcript as tr
from zkpor.hash.poseidon2 import P
from zkpor.hash.transcript import Transcript


def script(t: Transcript, variant: int = 0) -> tuple:
    """A typical prover/verifier exchange; `variant` changes one thing at a time."""
    t.absorb_bytes("statement", b"round 2026-08" if variant != 1 else b"round 2026-09")
    t.absorb_digest("trace-root", bytes(32) if variant != 2 else bytes(31) + b"\x01")
    t.absorb_elements("public", [1, 2, 3] if variant != 3 else [1, 2, 4])
    alpha = t.challenge_element("alpha" if variant != 4 else "beta")
    z = t.challenge_ext("ood")
    q = t.challenge_indices("queries", 1 << 16, 8)
    return alpha, z, tuple(q), t.state_digest()


def test_deterministic():
    assert script(Transcript(b"zkpor-stark")) == script(Transcript(b"zkpor-stark"))


def test_every_change_diverges():
    outcomes = {script(Transcript(b"zkpor-stark"), v) for v in range(5)}
    outcomes.add(script(Transcript(b"zkpor-stark-v2")))
    assert len(outcomes) == 6


def test_framing_prevents_ambiguity():
    def digest(*ops):
        t = Transcript(b"p")
        for op, label, data in ops:
            getattr(t, op)(label, data)
        return t.challenge_element("c")

    results = {
        digest(("absorb_bytes", "ab", b"c")),
        digest(("absorb_bytes", "a", b"bc")),
        digest(("absorb_bytes", "a", b"b"), ("absorb_bytes", "c", b"")),
        digest(("absorb_elements", "ab", [int.from_bytes(b"c" + bytes(7), "little")])),
        digest(("absorb_bytes", "ab", b"c" + bytes(7))),
    }
    assert len(results) == 5


def test_consecutive_challenges_differ_even_with_the_same_label():
    t = Transcript(b"p")
    values = [t.challenge_element("same") for _ in range(20)]
    assert len(set(values)) == 20


def test_elements_accept_numpy_and_are_strict():
    a, b = Transcript(b"p"), Transcript(b"p")
    a.absorb_elements("x", np.array([[1, 2], [3, 4]], dtype=np.uint64))
    b.absorb_elements("x", [1, 2, 3, 4])
    assert a.state_digest() == b.state_digest()
    c = Transcript(b"p")
    c.absorb_elements("x", np.array([1, 2, 3, 4], dtype=np.int64))
    assert c.state_digest() == b.state_digest()
    with pytest.raises(ValueError):
        Transcript(b"p").absorb_elements("x", np.array([0, P], dtype=np.uint64))
    with pytest.raises(ValueError):
        Transcript(b"p").absorb_elements("x", np.array([-1], dtype=np.int64))
    for bad in ([P], [-1], [True], [1 << 64]):
        with pytest.raises(ValueError):
            Transcript(b"p").absorb_elements("x", bad)
    with pytest.raises(ValueError):
        Transcript(b"p").absorb_digest("d", b"short")
    with pytest.raises(ValueError):
        Transcript(b"")
    with pytest.raises(ValueError):
        Transcript(b"p").absorb_bytes("", b"x")


def test_challenge_ranges():
    t = Transcript(b"p")
    assert all(0 <= v < P for v in t.challenge_elements("e", 500))
    c0, c1 = t.challenge_ext("z")
    assert 0 <= c0 < P and 0 <= c1 < P
    assert all(0 <= i < 1 << 20 for i in t.challenge_indices("q", 1 << 20, 200))
    assert t.challenge_indices("q", 1, 5) == [0] * 5
    assert t.challenge_indices("q", 1 << 10, 0) == []
    for bad in (0, 3, 1000, 1 << 64, -4, True):
        with pytest.raises(ValueError):
            t.challenge_indices("q", bad, 1)
    with pytest.raises(ValueError):
        t.challenge_elements("e", tr.MAX_CHALLENGES + 1)


def test_rejection_sampling_skips_words_at_or_above_p(monkeypatch):
    words = iter([P, (1 << 64) - 1, P + 5, 42, 7])
    monkeypatch.setattr(tr._Stream, "word", lambda self: next(words))
    assert Transcript(b"p").challenge_element("c") == 42


def test_index_sampling_is_uniform():
    t = Transcript(b"uniformity")
    buckets = 16
    n = 16_000
    counts = np.bincount(t.challenge_indices("q", buckets, n), minlength=buckets)
    expected = n / buckets
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 45  # 15 degrees of freedom: P(chi2 > 45) < 1e-4 for a uniform source
    low_bits = np.array(t.challenge_indices("q", 1 << 20, 4000)) & 1
    assert 1800 < low_bits.sum() < 2200


@pytest.mark.parametrize("bits", [0, 1, 8, 12])
def test_grinding_round_trip(bits):
    prover, verifier = Transcript(b"pow"), Transcript(b"pow")
    for t in (prover, verifier):
        t.absorb_bytes("before", b"x")
    nonce = prover.grind(bits)
    assert verifier.check_grinding(nonce, bits)
    assert prover.state_digest() == verifier.state_digest()
    assert prover.challenge_element("after") == verifier.challenge_element("after")


def test_grinding_finds_the_smallest_nonce_and_rejects_others():
    bits = 10
    prover = Transcript(b"pow")
    nonce = prover.grind(bits)
    probe = Transcript(b"pow")
    seed = probe._pow_seed(bits)
    assert tr.pow_hash_ok(seed, nonce, bits)
    assert not any(tr.pow_hash_ok(seed, n, bits) for n in range(nonce))  # the numba search agrees
    failing = next(n for n in range(nonce + 1, nonce + 10_000) if not tr.pow_hash_ok(seed, n, bits))
    assert not Transcript(b"pow").check_grinding(failing, bits)
    for bad in (-1, 1 << 64, True, "5"):
        assert not Transcript(b"pow").check_grinding(bad, bits)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Transcript(b"pow").grind(tr.MAX_GRINDING_BITS + 1)


def test_grinding_seed_depends_on_the_transcript_and_the_bits():
    seeds = set()
    for extra, bits in ((None, 12), (b"statement", 12), (None, 13)):
        t = Transcript(b"pow")
        if extra is not None:
            t.absorb_bytes("other", extra)
        seeds.add(t._pow_seed(bits))
    assert len(seeds) == 3


@pytest.mark.parametrize("bits", [0, 1, 4, 9])
def test_lane_grinding_kernel_agrees_with_the_reference(bits):
    """The grinding kernel hashes 128 nonces side by side: over ranges with partial lane groups,
    odd starts and offsets, its answer is the smallest nonce `pow_hash_ok` accepts (or -1)."""
    import numpy as np

    from zkpor.hash import blake3_columns

    seed = bytes(range(7, 39))
    key = np.frombuffer(seed, dtype="<u4").astype(np.uint64)
    for start, lo, hi in ((0, 0, 700), (2**40 + 3, 5, 300), (2**33 - 60, 0, 200), (11, 4, 4)):
        expected = next((start + n for n in range(lo, hi) if tr.pow_hash_ok(seed, start + n, bits)), -1)
        assert blake3_columns.grind_range(lo, hi, key, bits, np.uint64(start)) == expected
