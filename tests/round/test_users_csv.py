"""users.csv: what loads, to which integers, and every validation error with a real bad file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from round_testing import NET_HEADER, PAIR_HEADER, expect_bad_users_file, expect_input_error, write_file

from zkpor.round.config import RoundConfig
from zkpor.round.users import MAX_UID_BYTES, UserBalances, load_users


def load_csv(directory: Path, config: RoundConfig, text: str | bytes, **options: int) -> UserBalances:
    return load_users(write_file(directory, "users.csv", text), config, **options)


def bad_csv(directory: Path, config: RoundConfig, text: str | bytes, **expected: Any) -> None:
    expect_bad_users_file(directory, config, "users.csv", text, **expected)


# ----------------------------------------------------------------------------------- loading
def test_pair_columns_load_to_base_units(tmp_path: Path, small_config: RoundConfig) -> None:
    users = load_csv(
        tmp_path,
        small_config,
        f"{PAIR_HEADER}\nalice,1.5,0,0.00000001,0,100,0\nbob,0,0.25,2,1,0.000001,1099511.627775\n",
    )
    assert users.n_users == len(users) == 2
    assert [users.uid(0), users.uid(1)] == ["alice", "bob"]
    assert users.equity.dtype == users.debt.dtype == np.uint64
    assert users.equity.tolist() == [[150_000_000, 1, 100_000_000], [0, 200_000_000, 1]]
    assert users.debt.tolist() == [[0, 0, 0], [25_000_000, 100_000_000, 2**40 - 1]]
    assert users.symbols == ("BTC", "ETH", "USDT")
    assert (users.line_of(0), users.line_of(1)) == (2, 3)
    assert users.file_format == "csv"


def test_signed_net_columns_split_into_equity_and_debt(tmp_path: Path, small_config: RoundConfig) -> None:
    users = load_csv(tmp_path, small_config, f"{NET_HEADER}\nu1,1.5,-0.3,0\nu2,-0,7,-1.000001\n")
    assert users.equity.tolist() == [[150_000_000, 0, 0], [0, 700_000_000, 0]]
    assert users.debt.tolist() == [[0, 30_000_000, 0], [0, 0, 1_000_001]]


def test_columns_in_any_order_and_mixed_forms(tmp_path: Path, small_config: RoundConfig) -> None:
    users = load_csv(tmp_path, small_config, "USDT,ETH_debt,uid,BTC,ETH_equity\n-2,0.5,x,1,3\n")
    assert users.equity.tolist() == [[100_000_000, 300_000_000, 0]]
    assert users.debt.tolist() == [[0, 50_000_000, 2_000_000]]


def test_trailing_zeros_past_the_precision_are_exact_not_rounded(
    tmp_path: Path, small_config: RoundConfig
) -> None:
    users = load_csv(tmp_path, small_config, f"{NET_HEADER}\nu,1.500000000000000000,0.10,000.000001000\n")
    assert users.equity.tolist() == [[150_000_000, 10_000_000, 1]]


def test_bound_is_exclusive(tmp_path: Path, small_config: RoundConfig) -> None:
    # 2^52 − 1 satoshis, 2^40 − 1 at 8 decimals, 2^40 − 1 at 6 decimals: the largest amounts allowed.
    users = load_csv(
        tmp_path, small_config, f"{NET_HEADER}\nu,45035996.27370495,-10995.11627775,1099511.627775\n"
    )
    assert users.equity[0].tolist() == [2**52 - 1, 0, 2**40 - 1]
    assert users.debt[0].tolist() == [0, 2**40 - 1, 0]


def test_crlf_utf8_bom_quotes_unicode_and_trailing_blank_lines(
    tmp_path: Path, small_config: RoundConfig
) -> None:
    text = (
        "\ufeff" + NET_HEADER + '\r\n"comma, in uid",1,"2",3\r\nZoë-ユーザー,0,0,0\r\nlast,0.1,0,0\r\n\r\n\n'
    )
    users = load_csv(tmp_path, small_config, text)
    assert [users.uid(i) for i in range(3)] == ["comma, in uid", "Zoë-ユーザー", "last"]
    assert users.equity[0].tolist() == [100_000_000, 200_000_000, 3_000_000]


def test_last_line_without_newline(tmp_path: Path, small_config: RoundConfig) -> None:
    users = load_csv(tmp_path, small_config, f"{NET_HEADER}\na,1,0,0\nb,2,0,0")
    assert users.equity[:, 0].tolist() == [100_000_000, 200_000_000]


def test_uid_of_maximum_length(tmp_path: Path, small_config: RoundConfig) -> None:
    uid = "é" * (MAX_UID_BYTES // 2)  # two bytes each
    users = load_csv(tmp_path, small_config, f"{NET_HEADER}\n{uid},0,0,0\n")
    assert users.uid(0) == uid


@pytest.mark.parametrize("chunk_bytes", [7, 64, 1000])
def test_small_chunks_give_the_same_result(
    tmp_path: Path, small_config: RoundConfig, chunk_bytes: int
) -> None:
    """Lines cut across chunk boundaries at every position parse the same as in one chunk."""
    rng = np.random.default_rng(5)
    lines = [PAIR_HEADER]
    for row in range(200):
        btc, eth = rng.integers(0, 10**9), rng.integers(0, 10**4)
        lines.append(f"user-{row},{btc / 1e8:.8f},0,{eth}.5,0.00000001,{row}.25,0\r")
    text = "\n".join(lines) + "\n"
    whole = load_csv(tmp_path, small_config, text)
    chunked = load_users(tmp_path / "users.csv", small_config, chunk_bytes=chunk_bytes)
    assert np.array_equal(whole.equity, chunked.equity)
    assert np.array_equal(whole.debt, chunked.debt)
    assert np.array_equal(whole.uid_offsets, chunked.uid_offsets)
    assert np.array_equal(whole.uid_bytes, chunked.uid_bytes)
    assert whole.uid(199) == "user-199"


def test_progress_callback_reaches_the_end(tmp_path: Path, small_config: RoundConfig) -> None:
    text = NET_HEADER + "\n" + "".join(f"u{row},1,0,0\n" for row in range(500))
    calls: list[tuple[int, int]] = []
    load_users(
        write_file(tmp_path, "users.csv", text),
        small_config,
        progress=lambda done, total: calls.append((done, total)),
        chunk_bytes=256,
    )
    assert calls and calls[-1][1] == len(text)
    assert all(earlier[0] <= later[0] for earlier, later in zip(calls, calls[1:], strict=False))


# ------------------------------------------------------------------------ amount validation
@pytest.mark.parametrize(
    ("cell", "match"),
    [
        ("1.2.3", "malformed number '1.2.3'"),
        ("abc", "malformed number 'abc'"),
        ("1e5", "exponents are not allowed"),
        ("1E-3", "exponents are not allowed"),
        ("+1", "malformed number '+1'"),
        (".5", "malformed number '.5'"),
        ("5.", "malformed number '5.'"),
        ("-", "malformed number '-'"),
        (" 1", "no spaces around numbers"),
        ("1 ", "no spaces around numbers"),
        ("0x10", "malformed number"),
        ("1_000", "malformed number"),
        ("NaN", "malformed number"),
        ("", "empty amount"),
        ("1.000000001", "more than 8 decimals"),
        ("0.0000000050", "more than 8 decimals"),
        ("45035996.27370496", "not below this asset's bound of 2^52"),  # exactly 2^52 satoshis
        ("-45035996.27370496", "not below this asset's bound of 2^52"),
        ("99999999999999999999999999999", "not below this asset's bound of 2^52"),
    ],
)
def test_bad_net_amount(tmp_path: Path, small_config: RoundConfig, cell: str, match: str) -> None:
    bad_csv(
        tmp_path, small_config, f"{NET_HEADER}\nok,1,0,0\nbad,{cell},0,0\n", match=match, line=3, field="BTC"
    )


@pytest.mark.parametrize(
    ("column", "cell", "match"),
    [
        ("BTC_equity", "-1", "negative equity '-1'"),
        ("BTC_debt", "-0.5", "negative debt '-0.5'"),
        ("ETH_equity", "-0", "negative equity"),
        ("USDT_debt", "1.0000001", "more than 6 decimals"),
        ("USDT_equity", "1099511.627776", "bound of 2^40"),  # 2^40 base units
        ("ETH_debt", "10995.11627776", "bound of 2^40"),
        ("USDT_equity", "", "empty equity"),
        ("ETH_debt", "1,5", None),  # the comma makes an extra field: a ragged row, see below
    ],
)
def test_bad_pair_amount(
    tmp_path: Path, small_config: RoundConfig, column: str, cell: str, match: str | None
) -> None:
    columns = PAIR_HEADER.split(",")
    cells = ["u"] + ["0"] * (len(columns) - 1)
    cells[columns.index(column)] = cell
    text = f"{PAIR_HEADER}\n" + ",".join(cells) + "\n"
    if match is None:
        bad_csv(
            tmp_path, small_config, text, match="more fields than the header's 7 columns", line=2, field=None
        )
    else:
        bad_csv(tmp_path, small_config, text, match=match, line=2, field=column)


def test_bad_amount_in_uint64_range_but_over_the_bound_of_63_bits(tmp_path: Path) -> None:
    """2^63 fits a uint64 but not the 63-bit cap: the parser must not wrap or saturate silently."""
    from zkpor.round.config import load_round_config

    (tmp_path / "round.toml").write_text(
        'round_id = "r"\nsnapshot_time = "2024-06-30T16:00:00Z"\nprice_decimals = 0\n'
        'assets = [ { symbol = "X", decimals = 0, bits = 63 } ]\n[prices]\nX = "1"\n'
    )
    config = load_round_config(tmp_path / "round.toml")
    users = load_csv(tmp_path, config, "uid,X\na,9223372036854775807\nb,-9223372036854775807\n")
    assert users.equity[0, 0] == users.debt[1, 0] == 2**63 - 1
    for value in ("9223372036854775808", "18446744073709551615", "18446744073709551616", "1" + "0" * 40):
        bad_csv(tmp_path, config, f"uid,X\na,{value}\n", match="bound of 2^63", line=2, field="X")


# --------------------------------------------------------------------------- uid validation
@pytest.mark.parametrize(
    ("uid", "match"),
    [
        ("", "empty uid"),
        ('""', "empty uid"),
        ("x" * (MAX_UID_BYTES + 1), f"at most {MAX_UID_BYTES} bytes"),
        ("é" * (MAX_UID_BYTES // 2) + "x", f"at most {MAX_UID_BYTES} bytes"),
        (" padded", "leading or trailing space"),
        ("padded ", "leading or trailing space"),
        ("tab\there", "control character"),
        ("nul\x00", "control character"),
        ("del\x7f", "control character"),
        ("cr\rin-middle", "control character"),
    ],
)
def test_bad_uid(tmp_path: Path, small_config: RoundConfig, uid: str, match: str) -> None:
    bad_csv(
        tmp_path, small_config, f"{NET_HEADER}\nfine,0,0,0\n{uid},0,0,0\n", match=match, line=3, field="uid"
    )


@pytest.mark.parametrize(
    "raw_uid",
    [b"Jos\xe9", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff", b"ab\x80"],
    ids=["latin-1", "truncated", "overlong", "surrogate", "past-U+10FFFF", "ff", "lone-continuation"],
)
def test_uid_that_is_not_utf8(tmp_path: Path, small_config: RoundConfig, raw_uid: bytes) -> None:
    text = f"{NET_HEADER}\n".encode() + raw_uid + b",0,0,0\n"
    bad_csv(tmp_path, small_config, text, match="is not valid UTF-8", line=2, field="uid")


def test_duplicate_uids_name_both_lines(tmp_path: Path, small_config: RoundConfig) -> None:
    lines = [f"u{row},0,0,0" for row in range(50)] + ["u7,1,0,0", "u3,1,0,0"]
    bad_csv(
        tmp_path,
        small_config,
        f"{NET_HEADER}\n" + "\n".join(lines) + "\n",
        match="duplicate uid 'u7', first seen on line 9",
        line=52,
        field="uid",
    )


def test_uids_differing_only_in_case_or_length_are_distinct(
    tmp_path: Path, small_config: RoundConfig
) -> None:
    users = load_csv(tmp_path, small_config, f"{NET_HEADER}\nab,0,0,0\nAB,0,0,0\nabc,0,0,0\na,0,0,0\n")
    assert users.n_users == 4


# ------------------------------------------------------------------------ file-level errors
def test_empty_file(tmp_path: Path, small_config: RoundConfig) -> None:
    bad_csv(tmp_path, small_config, "", match="empty file", line=None, field=None)


def test_blank_first_line(tmp_path: Path, small_config: RoundConfig) -> None:
    bad_csv(tmp_path, small_config, "\n\n", match="line 1 is blank", line=1, field=None)


@pytest.mark.parametrize("text", [NET_HEADER, NET_HEADER + "\n", NET_HEADER + "\r\n\n\n"])
def test_header_only(tmp_path: Path, small_config: RoundConfig, text: str) -> None:
    bad_csv(
        tmp_path,
        small_config,
        text,
        match="no users: the file has a header but no user lines",
        line=None,
        field=None,
    )


@pytest.mark.parametrize(
    ("encoding", "match"),
    [
        ("utf-16", "UTF-16 (little-endian) encoded"),
        ("utf-16-be", "NUL bytes"),
        ("utf-16-le", "NUL bytes"),
        ("utf-32", "UTF-32 (little-endian) encoded"),
    ],
)
def test_wrong_encoding(tmp_path: Path, small_config: RoundConfig, encoding: str, match: str) -> None:
    text = f"{NET_HEADER}\nu,1,0,0\n".encode(encoding)
    bad_csv(tmp_path, small_config, text, match=match, line=1, field=None)


def test_utf16_big_endian_with_bom(tmp_path: Path, small_config: RoundConfig) -> None:
    text = b"\xfe\xff" + f"{NET_HEADER}\n".encode("utf-16-be")
    bad_csv(tmp_path, small_config, text, match="UTF-16 (big-endian) encoded", line=1, field=None)


def test_latin1_header(tmp_path: Path, small_config: RoundConfig) -> None:
    bad_csv(
        tmp_path,
        small_config,
        b"uid,BTC,ETH,USDT,\xe9\n",
        match="header is not valid UTF-8",
        line=1,
        field=None,
    )


@pytest.mark.parametrize(
    ("header", "match", "field"),
    [
        ("uid,BTC,ETH,USDT,DOGE", "unknown column 'DOGE' (unknown asset 'DOGE'", "DOGE"),
        ("uid,BTC,ETH,USDT,DOGE_equity", "unknown asset 'DOGE'", "DOGE_equity"),
        ("uid,BTC,ETH,usdt", "unknown column 'usdt'", "usdt"),
        ("uid,BTC,ETH, USDT", "leading or trailing spaces", " USDT"),
        ("uid,BTC,ETH,USDT,", "empty column name", ""),
        ("uid,BTC,ETH", "missing column for asset USDT", "USDT"),
        ("uid,BTC,ETH,USDT_equity", "missing column 'USDT_debt'", "USDT_debt"),
        ("uid,BTC,ETH,USDT_debt", "missing column 'USDT_equity'", "USDT_equity"),
        ("uid,BTC,ETH,USDT,USDT_debt", "both a net column 'USDT' and equity/debt columns", "USDT"),
        ("uid,BTC,ETH,USDT,BTC", "column 'BTC' appears twice (columns 2 and 5)", "BTC"),
        ("id,BTC,ETH,USDT", "unknown column 'id'", "id"),
        ("BTC,ETH,USDT", "no 'uid' column", None),
        ("uid,uid,BTC,ETH,USDT", "column 'uid' appears twice", "uid"),
    ],
)
def test_header_not_matching_round_toml(
    tmp_path: Path, small_config: RoundConfig, header: str, match: str, field: str | None
) -> None:
    bad_csv(tmp_path, small_config, f"{header}\nu,0,0,0\n", match=match, line=1, field=field)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("u,1,0", "3 fields, but the header has 4 columns (missing 'USDT' onwards)"),
        ("u", "1 fields, but the header has 4 columns"),
        ("u,1,0,0,5", "more fields than the header's 4 columns (extra text '5')"),
        ("u,1,0,0,", "more fields than the header's 4 columns"),
    ],
)
def test_ragged_rows(tmp_path: Path, small_config: RoundConfig, row: str, match: str) -> None:
    bad_csv(tmp_path, small_config, f"{NET_HEADER}\nok,0,0,0\n{row}\n", match=match, line=3, field=None)


def test_blank_line_between_users(tmp_path: Path, small_config: RoundConfig) -> None:
    bad_csv(
        tmp_path,
        small_config,
        f"{NET_HEADER}\na,0,0,0\n\nb,0,0,0\n",
        match="blank line between user lines",
        line=3,
        field=None,
    )


@pytest.mark.parametrize(
    ("row", "match", "field"),
    [
        ('"unterminated,1,0,0', "unterminated quote", "uid"),
        ('"a"b,1,0,0', "text after closing quote", "uid"),
        ('"a""b",1,0,0', "text after closing quote", "uid"),
        ('a"b,1,0,0', "quote inside unquoted field", "uid"),
        ('u,"1.5,0,0', "unterminated quote", "BTC"),
    ],
)
def test_quoting_errors(tmp_path: Path, small_config: RoundConfig, row: str, match: str, field: str) -> None:
    bad_csv(tmp_path, small_config, f"{NET_HEADER}\n{row}\n", match=match, line=2, field=field)


def test_error_in_a_late_chunk_names_the_right_line(tmp_path: Path, small_config: RoundConfig) -> None:
    lines = [f"user{row},{row}.5,0,0" for row in range(3000)]
    lines[2718] = "user2718,2.71828182846,0,0"  # 11 decimals, non-zero past the 8th
    path = write_file(tmp_path, "users.csv", f"{NET_HEADER}\n" + "\n".join(lines) + "\n")
    expect_input_error(
        lambda: load_users(path, small_config, chunk_bytes=4096),
        match="more than 8 decimals",
        line=2720,
        field="BTC",
    )


@pytest.mark.parametrize("chunk_bytes", [65536, 16 * 1024 * 1024])
def test_line_longer_than_the_limit(tmp_path: Path, small_config: RoundConfig, chunk_bytes: int) -> None:
    from zkpor.round.users import MAX_LINE_BYTES

    padding = MAX_LINE_BYTES - len("u,,0,0\n")  # a line of exactly MAX_LINE_BYTES with its newline
    fits = f"{NET_HEADER}\nu,{'0' * padding},0,0\n"
    assert load_csv(tmp_path, small_config, fits, chunk_bytes=chunk_bytes).equity[0, 0] == 0
    path = write_file(tmp_path, "users.csv", f"{NET_HEADER}\nok,0,0,0\nu,{'0' * (padding + 1)},0,0\n")
    expect_input_error(
        lambda: load_users(path, small_config, chunk_bytes=chunk_bytes),
        match=f"line longer than {MAX_LINE_BYTES} bytes",
        line=3,
    )


def test_missing_file_and_unknown_suffix(tmp_path: Path, small_config: RoundConfig) -> None:
    expect_input_error(lambda: load_users(tmp_path / "users.csv", small_config), match="file not found")
    path = write_file(tmp_path, "users.txt", "uid\n")
    expect_input_error(lambda: load_users(path, small_config), match="name it users.csv or users.jsonl")
