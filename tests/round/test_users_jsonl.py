"""users.jsonl: the forms it accepts, agreement with CSV, and every validation error with a real bad file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from round_testing import NET_HEADER, PAIR_HEADER, expect_bad_users_file, write_file

from zkpor.round.config import RoundConfig
from zkpor.round.users import MAX_UID_BYTES, UserBalances, load_users


def load_jsonl(directory: Path, config: RoundConfig, text: str | bytes) -> UserBalances:
    return load_users(write_file(directory, "users.jsonl", text), config)


def bad_jsonl(directory: Path, config: RoundConfig, text: str | bytes, **expected: Any) -> None:
    expect_bad_users_file(directory, config, "users.jsonl", text, **expected)


def test_object_net_and_omitted_assets(tmp_path: Path, small_config: RoundConfig) -> None:
    users = load_jsonl(
        tmp_path,
        small_config,
        "\n".join(
            [
                '{"uid": "alice", "BTC": {"equity": "1.5", "debt": "0.2"}, "ETH": "-0.3"}',
                '{"USDT": {"debt": "7"}, "uid": "bob"}',
                '{"uid": "carol"}',
                '{"uid": "dave", "ETH": {"equity": "1.000000000000000000"}, "USDT": "-0"}',
            ]
        )
        + "\n",
    )
    assert [users.uid(i) for i in range(4)] == ["alice", "bob", "carol", "dave"]
    assert users.equity.tolist() == [[150_000_000, 0, 0], [0, 0, 0], [0, 0, 0], [0, 100_000_000, 0]]
    assert users.debt.tolist() == [[20_000_000, 30_000_000, 0], [0, 0, 7_000_000], [0, 0, 0], [0, 0, 0]]
    assert users.file_format == "jsonl" and users.line_of(0) == 1


def test_jsonl_and_csv_forms_load_identically(tmp_path: Path, small_config: RoundConfig) -> None:
    """One set of balances written as CSV pairs, CSV net and JSONL loads to the same arrays."""
    rng = np.random.default_rng(11)
    rows = []
    for row in range(300):
        btc, eth, usdt = (int(x) for x in rng.integers(0, 10**12, 3))
        eth_negative = bool(rng.integers(0, 2))
        rows.append((f"u{row}-ü", btc, eth, eth_negative, usdt))

    def units(value: int, decimals: int) -> str:
        return f"{value // 10**decimals}.{value % 10**decimals:0{decimals}d}"

    pair_lines = [PAIR_HEADER] + [
        f"{uid},{units(btc, 8)},0,{'0' if neg else units(eth, 8)},{units(eth, 8) if neg else '0'},"
        f"{units(usdt, 6)},0"
        for uid, btc, eth, neg, usdt in rows
    ]
    net_lines = [NET_HEADER] + [
        f"{uid},{units(btc, 8)},{'-' if neg else ''}{units(eth, 8)},{units(usdt, 6)}"
        for uid, btc, eth, neg, usdt in rows
    ]
    json_lines = [
        json.dumps(
            {
                "uid": uid,
                "BTC": units(btc, 8),
                "ETH": {("debt" if neg else "equity"): units(eth, 8)},
                "USDT": units(usdt, 6),
            }
        )
        for uid, btc, eth, neg, usdt in rows
    ]
    loaded = [
        load_users(write_file(tmp_path, "a.csv", "\n".join(pair_lines)), small_config),
        load_users(write_file(tmp_path, "b.csv", "\n".join(net_lines)), small_config),
        load_users(write_file(tmp_path, "c.jsonl", "\n".join(json_lines)), small_config),
    ]
    for other in loaded[1:]:
        assert np.array_equal(loaded[0].equity, other.equity)
        assert np.array_equal(loaded[0].debt, other.debt)
        assert np.array_equal(loaded[0].uid_offsets, other.uid_offsets)
        assert np.array_equal(loaded[0].uid_bytes, other.uid_bytes)
    assert loaded[0].equity[5, 0] == rows[5][1]


def test_escaped_uid_and_utf8_bom(tmp_path: Path, small_config: RoundConfig) -> None:
    users = load_jsonl(tmp_path, small_config, '\ufeff{"uid": "qu\\"ote\\u00e9", "BTC": "1"}\r\n\n')
    assert users.uid(0) == 'qu"oteé'


@pytest.mark.parametrize(
    ("line", "match", "field"),
    [
        ('{"uid": "a", "BTC": 1.5}', 'amount must be a JSON string such as "12.5", not a number', "BTC"),
        ('{"uid": "a", "BTC": 2}', "not a number: a JSON number may already have been rounded", "BTC"),
        ('{"uid": "a", "BTC": {"equity": 0.1}}', "not a number", "BTC.equity"),
        ('{"uid": "a", "BTC": null}', "not null", "BTC"),
        ('{"uid": "a", "BTC": true}', "not true/false", "BTC"),
        ('{"uid": "a", "BTC": ["1"]}', "not an array", "BTC"),
        ('{"uid": "a", "BTC": {"equity": {"x": "1"}}}', "not an object", "BTC.equity"),
        ('{"uid": "a", "DOGE": "1"}', "unknown asset 'DOGE'", "DOGE"),
        ('{"uid": "a", "btc": "1"}', "unknown asset 'btc'", "btc"),
        ('{"uid": "a", "BTC": {"net": "1"}}', "unknown key 'net'", "BTC.net"),
        ('{"uid": "a", "BTC": "1", "BTC": "2"}', "key 'BTC' appears twice", "BTC"),
        ('{"uid": "a", "BTC": {"debt": "1", "debt": "2"}}', "key 'debt' appears twice", "debt"),
        ('{"uid": "a", "uid": "b"}', "key 'uid' appears twice", "uid"),
        ('{"uid": "a", "BTC": "1e3"}', "exponents are not allowed", "BTC"),
        ('{"uid": "a", "BTC": "1,5"}', "malformed number '1,5'", "BTC"),
        ('{"uid": "a", "BTC": "١"}', "non-ASCII", "BTC"),  # Arabic-Indic digit one
        ('{"uid": "a", "BTC": ""}', "empty amount", "BTC"),
        ('{"uid": "a", "BTC": "0.000000001"}', "more than 8 decimals", "BTC"),
        ('{"uid": "a", "USDT": {"equity": "1.0000001"}}', "more than 6 decimals", "USDT.equity"),
        ('{"uid": "a", "BTC": {"equity": "-1"}}', "negative equity '-1'", "BTC.equity"),
        ('{"uid": "a", "BTC": {"debt": "-1"}}', "negative debt", "BTC.debt"),
        ('{"uid": "a", "ETH": "10995.11627776"}', "bound of 2^40", "ETH"),
        ('{"uid": "a", "ETH": {"debt": "10995.11627776"}}', "bound of 2^40", "ETH.debt"),
        ('{"BTC": "1"}', "missing 'uid'", "uid"),
        ('{"uid": 17}', "uid must be a JSON string, not a number", "uid"),
        ('{"uid": ""}', "empty uid", "uid"),
        ('{"uid": " a"}', "leading or trailing space", "uid"),
        ('{"uid": "a\\tb"}', "control character", "uid"),
        ('{"uid": "\\ud800"}', "not valid Unicode", "uid"),
        (json.dumps({"uid": "x" * (MAX_UID_BYTES + 1)}), f"at most {MAX_UID_BYTES} bytes", "uid"),
        ('{"uid": "a", "BTC": "1"', "not valid JSON", None),
        ("uid,BTC", "not valid JSON", None),
        ('["a", "1"]', "each line must be a JSON object", None),
        ('"just a string"', "each line must be a JSON object", None),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON", None),
    ],
)
def test_bad_line(
    tmp_path: Path, small_config: RoundConfig, line: str, match: str, field: str | None
) -> None:
    bad_jsonl(
        tmp_path, small_config, '{"uid": "ok", "BTC": "1"}\n' + line + "\n", match=match, line=2, field=field
    )


def test_bad_amount_in_a_later_batch_names_the_right_line(
    tmp_path: Path, small_config: RoundConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("zkpor.round.users.JSONL_CELLS_PER_BATCH", 50)
    lines = [
        json.dumps({"uid": f"u{row}", "BTC": f"{row}.5", "ETH": {"equity": "1", "debt": "0.5"}})
        for row in range(400)
    ]
    lines[333] = lines[333].replace('"0.5"', '"0.123456789"')
    bad_jsonl(
        tmp_path, small_config, "\n".join(lines), match="more than 8 decimals", line=334, field="ETH.debt"
    )


def test_duplicate_uids(tmp_path: Path, small_config: RoundConfig) -> None:
    bad_jsonl(
        tmp_path,
        small_config,
        '{"uid": "a"}\n{"uid": "b"}\n{"uid": "a"}\n',
        match="duplicate uid 'a', first seen on line 1",
        line=3,
        field="uid",
    )


def test_empty_file_and_blank_lines(tmp_path: Path, small_config: RoundConfig) -> None:
    bad_jsonl(tmp_path, small_config, "", match="empty file", line=None, field=None)
    bad_jsonl(tmp_path, small_config, "\n \n", match="no users", line=None, field=None)
    bad_jsonl(
        tmp_path,
        small_config,
        '{"uid": "a"}\n\n{"uid": "b"}\n',
        match="blank line between user lines",
        line=2,
        field=None,
    )
    users = load_jsonl(tmp_path, small_config, '{"uid": "a"}\n{"uid": "b"}\n\n\n')
    assert users.n_users == 2


@pytest.mark.parametrize(
    ("content", "match", "line"),
    [
        ('{"uid": "a"}\n'.encode("utf-16"), "UTF-16 (little-endian) encoded", 1),
        ('{"uid": "a"}\n'.encode("utf-16-le"), "NUL bytes", 1),
        ('{"uid": "a"}\n'.encode("utf-32"), "UTF-32", 1),
        (b'{"uid": "a"}\n{"uid": "Jos\xe9"}\n', "not valid UTF-8 (byte 13 of the line)", 2),
    ],
)
def test_wrong_encoding(
    tmp_path: Path, small_config: RoundConfig, content: bytes, match: str, line: int
) -> None:
    bad_jsonl(tmp_path, small_config, content, match=match, line=line, field=None)
