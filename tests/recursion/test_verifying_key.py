"""The compact verifying form of a program (`recursion.verifying_key`) and its local cache."""

from dataclasses import replace

import pytest
from recursion_programs import horner_program, merkle_program, path, tree

from zkpor.errors import VerificationError
from zkpor.field.pure import Ext
from zkpor.hash.poseidon2 import sponge_hash
from zkpor.recursion.air import plan
from zkpor.recursion.proving import program_key, prove_program, verify_program
from zkpor.recursion.verifying_key import (
    CACHE_ENV,
    KeyCache,
    KeyFormatError,
    ProgramVerifyingKey,
    _checksum,
    default_cache_dir,
    verify_with_key,
    verifying_key,
)


@pytest.fixture(scope="module")
def merkle_run():
    from zkpor.stark.params import ProofOptions

    options = ProofOptions(blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4)
    levels = tree([sponge_hash("test-leaf", [i]) for i in range(8)])
    siblings = [v for digest in path(levels, 3) for v in digest]
    program = merkle_program()
    public, proof = prove_program(program, [*levels[0][3], 3], siblings, options)
    return program, options, public, proof.to_bytes()


def test_the_key_verifies_what_the_program_verifies(merkle_run):
    program, options, public, proof = merkle_run
    full = verify_program(program, public, proof, min_security_bits=0)
    key = ProgramVerifyingKey.from_bytes(verifying_key(program, options).to_bytes())
    assert key.program_key == program_key(program, options)
    assert key.summary == plan(program).summary()
    assert verify_with_key(key, public, proof, min_security_bits=0) == full


def test_the_key_refuses_what_the_program_refuses(merkle_run):
    program, options, public, proof = merkle_run
    key = verifying_key(program, options)
    edited = replace(public, outputs=(public.outputs[0] + Ext(1, 0), *public.outputs[1:]))
    with pytest.raises(VerificationError):
        verify_with_key(key, edited, proof, min_security_bits=0)
    other = verifying_key(horner_program(3), options)  # another program: other digest and root
    with pytest.raises(Exception, match="public inputs|rejected"):
        verify_with_key(other, public, proof, min_security_bits=0)


def _resealed(data: bytes, offset: int, new: bytes) -> bytes:
    """`data` with bytes replaced at `offset` and a valid checksum: a deliberate edit, not damage."""
    body = data[:-32]
    body = body[:offset] + new + body[offset + len(new) :]
    return body + _checksum(body)


def test_a_key_edited_in_any_field_that_matters_refuses_the_proof(merkle_run):
    """Every part of the summary is bound: a key whose read count, constant or root was changed
    (and checksum recomputed) does not verify an honest proof."""
    program, options, public, proof = merkle_run
    key = verifying_key(program, options)
    first, (cell, value, reads), *rest = key.summary.constants
    edits = [
        replace(key.summary, constants=(first, (cell, value, reads + 1), *rest)),  # a read count
        replace(key.summary, constants=(first, (cell, value + Ext(1, 0), reads), *rest)),  # a constant
        replace(key.summary, program_digest=bytes(32)),
    ]
    for summary in edits:
        edited = ProgramVerifyingKey.from_bytes(ProgramVerifyingKey(summary, key.preprocessed).to_bytes())
        with pytest.raises(VerificationError):
            verify_with_key(edited, public, proof, min_security_bits=0)
    root = replace(key.preprocessed, root=bytes(len(key.preprocessed.root)))
    with pytest.raises(VerificationError):
        verify_with_key(ProgramVerifyingKey(key.summary, root), public, proof, min_security_bits=0)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[:-1],
        lambda d: d[:40],
        lambda d: d + b"\0",
        lambda d: d[:60] + bytes([d[60] ^ 1]) + d[61:],
        lambda d: b"",
        lambda d: _resealed(d, 0, b"zkpor-program-vX"),
        lambda d: _resealed(d, 17, b"\x02"),
        lambda d: _resealed(d, 17 + 1 + 32 + 4, b"\xff\xff\xff\x7f"),  # a constant count past the end
        lambda d: d[:-32] + b"\0" * 64 + _checksum(d[:-32] + b"\0" * 64),  # trailing bytes, resealed
    ],
    ids=["truncated", "cut", "extended", "bit-flip", "empty", "magic", "version", "count", "trailing"],
)
def test_damaged_or_malformed_keys_are_refused(merkle_run, damage):
    program, options, _, _ = merkle_run
    data = verifying_key(program, options).to_bytes()
    with pytest.raises(KeyFormatError):
        ProgramVerifyingKey.from_bytes(damage(data))


def test_cache_builds_once_then_loads(tmp_path, merkle_run):
    program, options, public, proof = merkle_run
    calls = []

    def build():
        calls.append(1)
        return verifying_key(program, options)

    cache = KeyCache(tmp_path / "keys")
    key = cache.get("abc123", "the test program", build)
    assert cache.built == ["abc123"] and (tmp_path / "keys" / "abc123.vk").is_file()
    again = KeyCache(tmp_path / "keys")
    assert again.get("abc123", "the test program", build) == key
    assert again.loaded == ["abc123"] and again.built == [] and len(calls) == 1
    verify_with_key(again.get("abc123", "the test program", build), public, proof, min_security_bits=0)


def test_a_damaged_cache_entry_is_ignored_and_rebuilt_with_a_notice(tmp_path, merkle_run):
    program, options, public, proof = merkle_run
    cache = KeyCache(tmp_path)
    cache.get("k", "the test program", lambda: verifying_key(program, options))
    entry = tmp_path / "k.vk"
    good = entry.read_bytes()
    entry.write_bytes(good[:100] + bytes([good[100] ^ 0x40]) + good[101:])
    notices: list[str] = []
    rebuilt = KeyCache(tmp_path, notices.append)
    key = rebuilt.get("k", "the test program", lambda: verifying_key(program, options))
    assert rebuilt.built == ["k"] and len(notices) == 1
    assert "k.vk ignored" in notices[0] and "checksum" in notices[0]
    assert "rebuilding the test program" in notices[0]
    assert entry.read_bytes() == good
    verify_with_key(key, public, proof, min_security_bits=0)


def test_a_cache_entry_under_another_id_is_not_that_programs_key(tmp_path, merkle_run):
    """An entry copied or renamed to another key's name (another program's id) is ignored and that
    program's key derived, with a notice: the name alone must not pick the key."""
    program, options, public, proof = merkle_run
    cache = KeyCache(tmp_path)
    cache.get("horner", "the horner program", lambda: verifying_key(horner_program(3), options))
    (tmp_path / "merkle.vk").write_bytes((tmp_path / "horner.vk").read_bytes())
    notices: list[str] = []
    again = KeyCache(tmp_path, notices.append)
    key = again.get("merkle", "the merkle program", lambda: verifying_key(program, options))
    assert again.built == ["merkle"] and len(notices) == 1 and "another key id" in notices[0]
    verify_with_key(key, public, proof, min_security_bits=0)
    assert KeyCache(tmp_path).get("merkle", "the merkle program", lambda: None) == key  # rewritten


def test_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.setenv(CACHE_ENV, "off")
    assert default_cache_dir() is None
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "zkpor" / "keys"
    uncached = KeyCache(None)
    assert uncached.path("x") is None
