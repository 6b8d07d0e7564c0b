"""The Poseidon2 Fiat–Shamir transcript: deterministic, bound to every record, strict inputs."""

import pytest

from zkpor.hash.poseidon2 import P
from zkpor.hash.transcript_poseidon2 import Poseidon2Transcript, pow_ok


def script(t: Poseidon2Transcript, label: bytes = b"x", value: int = 5) -> None:
    t.absorb_digest(b"root", bytes(range(32)))  # not 4 field elements: absorbed as bytes
    t.absorb_digest(b"root", (7).to_bytes(8, "little") * 4)  # 4 field elements
    t.absorb_elements(label, [1, 2, value])
    t.absorb_bytes(b"statement", b"round 2026-11")


def test_same_calls_same_challenges_and_every_input_matters():
    a, b = Poseidon2Transcript(b"proto"), Poseidon2Transcript(b"proto")
    script(a)
    script(b)
    assert a.challenge_ext(b"alpha") == b.challenge_ext(b"alpha")
    assert a.challenge_distinct_indices(b"q", 1 << 10, 30) == b.challenge_distinct_indices(b"q", 1 << 10, 30)
    reference = Poseidon2Transcript(b"proto")
    script(reference)
    first = reference.challenge_ext(b"alpha")
    for other in (Poseidon2Transcript(b"proto2"),):
        script(other)
        assert other.challenge_ext(b"alpha") != first
    changed_label, changed_value = Poseidon2Transcript(b"proto"), Poseidon2Transcript(b"proto")
    script(changed_label, label=b"y")
    script(changed_value, value=6)
    assert changed_label.challenge_ext(b"alpha") != first
    assert changed_value.challenge_ext(b"alpha") != first
    again = Poseidon2Transcript(b"proto")
    script(again)
    assert again.challenge_ext(b"beta") != first  # the challenge's own label counts


def test_challenges_are_in_range_and_distinct_when_asked():
    t = Poseidon2Transcript(b"p")
    assert all(0 <= v < P for v in t.challenge_elements(b"e", 20))
    indices = t.challenge_distinct_indices(b"q", 64, 64)
    assert sorted(indices) == list(range(64))
    assert all(0 <= i < 8 for i in t.challenge_indices(b"i", 8, 50))
    with pytest.raises(ValueError):
        t.challenge_distinct_indices(b"q", 8, 9)


def test_grinding_round_trip_and_a_wrong_nonce_fails():
    prover, verifier = Poseidon2Transcript(b"p"), Poseidon2Transcript(b"p")
    nonce = prover.grind(8)
    assert verifier.check_grinding(nonce, 8)
    assert prover.challenge_ext(b"after") == verifier.challenge_ext(b"after")
    seed = Poseidon2Transcript(b"p")._pow_seed(8)
    bad = next(n for n in range(1000) if not pow_ok(seed, n, 8))
    assert not Poseidon2Transcript(b"p").check_grinding(bad, 8)
    assert not Poseidon2Transcript(b"p").check_grinding(P, 8)  # not a field element


def test_non_canonical_elements_and_bad_labels_are_refused():
    t = Poseidon2Transcript(b"p")
    with pytest.raises(ValueError):
        t.absorb_elements(b"e", [P])
    with pytest.raises(ValueError):
        t.absorb_elements(b"e", [True])
    with pytest.raises(ValueError):
        t.absorb_elements(b"", [1])
    with pytest.raises(ValueError):
        t.absorb_digest(b"d", bytes(31))


def test_distinct_index_draws_are_the_distinct_draw_with_repeats():
    """What a compiled verifier checks: every lane the distinct draw read, repeats included."""
    a, b = Poseidon2Transcript("t"), Poseidon2Transcript("t")
    draws = a.distinct_index_draws("q", 16, 12)  # 12 of 16: repeats are near certain
    distinct = b.challenge_distinct_indices("q", 16, 12)
    assert list(dict.fromkeys(draws)) == distinct and len(distinct) == 12 and len(draws) > 12
    assert a.challenge_element("next") == b.challenge_element("next")  # same state afterwards


def test_the_transcripts_permutation_is_the_pure_python_one():
    """The transcript permutes with the numba kernel; it must be `poseidon2.permute` exactly."""
    from zkpor.hash import poseidon2, transcript_poseidon2

    states = [[0] * 12, [P - 1] * 12, list(range(12)), [(i * 0x9E3779B97F4A7C15) % P for i in range(12)]]
    for state in states:
        assert transcript_poseidon2.permute(state) == poseidon2.permute(state)
