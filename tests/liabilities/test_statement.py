"""The round statement: canonical encoding, digest, strict decoding, and the published test vector
(docs/inclusion-format.md) that every reimplementation (the browser verifier) must reproduce."""

from __future__ import annotations

import dataclasses
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from zkpor.liabilities import encoding
from zkpor.liabilities.inclusion import load_inclusion_proof, verify_inclusion
from zkpor.liabilities.published import digest_hex
from zkpor.liabilities.statement import (
    Statement,
    StatementAsset,
    StatementFormatError,
    canonical_snapshot_time,
    snapshot_text,
)
from zkpor.round.config import default_round_config

VECTOR = Path(__file__).parent / "vectors" / "inclusion-v2-alice.json"
EXAMPLE = Statement(
    "2024-06",
    "2024-06-30T16:00:00Z",
    6,
    (StatementAsset("BTC", 8, 52, "67000"), StatementAsset("USDT", 6, 59, "1")),
    limb_bits=16,
    batch_size=2,
    batch_count=1,
)


def test_the_published_vector() -> None:
    """The numbers docs/inclusion-format.md lists, step by step."""
    assert EXAMPLE.encode().hex() == (
        "010700323032342d30361400323032342d30362d33305431363a30303a30305a0610020000000100000002000300"
        "42544308340500363730303000de82990f000000040055534454063b01003100e1f50500000000"
    )
    digest = EXAMPLE.digest()
    assert digest_hex(digest) == "03e48d0320007e9a24561a08fbaa6d545ab267a796f56919415209161dcd3a78"
    assert [hex(v) for v in encoding.leaf_capacity(digest, 8)] == [
        "0xd788f3f2a8c3ebc9", "0x9459e683acfa6595", "0x7b2662c5e4cf61f8", "0x3a571650caf014be",
    ]  # fmt: skip
    identity = encoding.id_hash("alice", bytes(range(32)))
    leaf = encoding.leaf_hash(digest, identity, [150_000_000, 2_500_000], [0, 100_000])
    assert digest_hex(leaf) == "40d63df4cd831239be512c7de87354a9e89fae39f44b397d9950a954801c474f"
    proof = load_inclusion_proof(VECTOR)
    assert proof.statement == EXAMPLE and proof.uid == "alice"
    check = verify_inclusion(proof, uid="alice")
    assert check.leaf == tuple(leaf)
    assert digest_hex(proof.root) == "7083ecb3075543bd9efb96e43274928ee162ae98a409c2a7f39284b29afc767e"


def test_a_round_trip_through_the_encoding() -> None:
    statement = Statement.from_config(default_round_config(), 16, 8192, 128)
    assert Statement.decode(statement.encode()) == statement
    assert statement.first_difference(statement) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: dataclasses.replace(s, round_id="2024-07"), "round_id"),
        (lambda s: dataclasses.replace(s, snapshot_time="2024-06-30T16:00:01Z"), "snapshot_time"),
        (lambda s: dataclasses.replace(s, price_decimals=5), "price_decimals"),
        (lambda s: dataclasses.replace(s, batch_size=4), "batch_size"),
        (lambda s: dataclasses.replace(s, batch_count=2), "batch_count"),
        (lambda s: dataclasses.replace(s, limb_bits=8), "limb_bits"),
        (lambda s: dataclasses.replace(s, assets=s.assets[::-1]), "assets (symbols, in order)"),
        (lambda s: _asset(s, 1, decimals=7), "assets[USDT].decimals"),
        (lambda s: _asset(s, 0, bits=53), "assets[BTC].bits"),
        (lambda s: _asset(s, 0, price="67000.5"), "assets[BTC].price"),
    ],
)
def test_every_field_changes_the_digest_and_is_named(change, field: str) -> None:
    other = change(EXAMPLE)
    assert other.digest() != EXAMPLE.digest()
    assert EXAMPLE.first_difference(other)[0] == field


def _asset(statement: Statement, index: int, **changes: object) -> Statement:
    assets = list(statement.assets)
    assets[index] = dataclasses.replace(assets[index], **changes)
    return dataclasses.replace(statement, assets=tuple(assets))


def test_every_decimals_plus_one_keeps_the_weights_but_not_the_digest() -> None:
    """The restatement of issue 9: the AIR (weights) is unchanged, the statement is not."""
    shifted = dataclasses.replace(
        EXAMPLE, assets=tuple(dataclasses.replace(a, decimals=a.decimals + 1) for a in EXAMPLE.assets)
    )
    assert shifted.weights == EXAMPLE.weights
    assert shifted.digest() != EXAMPLE.digest()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[:-1], "cut short"),
        (lambda b: b + b"\0", "trailing bytes"),
        (lambda b: b"\2" + b[1:], "version"),
        (lambda b: b.replace(b"\x05\x0067000", b"\x07\x0067000.0"), "price"),
        (lambda b: b.replace(b"\xe1\xf5\x05\0", b"\xe2\xf5\x05\0"), "weights"),
        (lambda b: b.replace(b"30T16:00:00Z", b"30T16:00:00z"), "snapshot_time"),
    ],
)
def test_decoding_refuses_anything_not_canonical(damage, message: str) -> None:
    with pytest.raises(StatementFormatError, match=message):
        Statement.decode(damage(EXAMPLE.encode()))


def test_a_non_canonical_price_text_is_a_problem() -> None:
    wordy = _asset(EXAMPLE, 0, price="67000.00")
    problem = ("assets[0].price", "'67000.00' is not a positive price in its shortest form")
    assert problem in list(wordy.problems())
    assert list(EXAMPLE.problems()) == []


def test_snapshot_times_are_canonical_utc() -> None:
    moment = datetime(2024, 6, 30, 18, 0, tzinfo=timezone(timedelta(hours=2)))
    assert snapshot_text(moment) == "2024-06-30T16:00:00Z"
    assert snapshot_text(moment.replace(microsecond=5)) == "2024-06-30T16:00:00.000005Z"
    assert canonical_snapshot_time("2024-06-30T16:00:00Z")
    for text in ("2024-06-30T18:00:00+02:00", "2024-06-30 16:00:00Z", "2024-06-30T16:00:00.000000Z",
                 "2024-02-30T16:00:00Z"):  # fmt: skip
        assert not canonical_snapshot_time(text), text


def test_the_encoding_is_length_prefixed() -> None:
    """A symbol cannot run into the next field: each text carries its byte length."""
    data = EXAMPLE.encode()
    (length,) = struct.unpack_from("<H", data, 1)
    assert data[3 : 3 + length] == b"2024-06"
