"""Writing users files (CSV or JSON Lines) from base-unit arrays, fast and atomically.

The inverse of users.py: the text written loads back to the same arrays. Rows are formatted by a
numba kernel into a byte buffer a block at a time, so a million users take about a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from zkpor.field.jit import njit
from zkpor.fsutil import atomic_output
from zkpor.round.config import RoundConfig
from zkpor.round.users_kernels import MAX_UID_BYTES

ROWS_PER_BLOCK = 16_384  # × the worst-case row length: a buffer of tens of MB
_POWERS_OF_TEN = np.array([10**k for k in range(20)], dtype=np.uint64)
_TEN = np.uint64(10)
_MAX_AMOUNT_TEXT = 22  # "-" + 19 digits + "." around them, with room to spare


@njit(cache=True)
def _write_digits(out, position, value, count, powers_of_ten):
    """Write the lowest ``count`` decimal digits of ``value`` (zero-padded); return the new position."""
    for k in range(count):
        digit = (value // powers_of_ten[k]) % _TEN
        out[position + count - 1 - k] = np.uint8(48 + np.int64(digit))
    return position + count


@njit(cache=True)
def _write_units(out, position, units, decimals, negative, powers_of_ten):
    """Write ``units`` as decimal text with ``decimals`` decimals, trailing zeros dropped."""
    if negative and units != 0:
        out[position] = 45  # '-'
        position += 1
    scale = powers_of_ten[decimals]
    whole = units // scale
    fraction = units % scale
    digits = 1
    while digits < 20 and whole >= powers_of_ten[digits]:
        digits += 1
    position = _write_digits(out, position, whole, digits, powers_of_ten)
    if fraction != 0:
        kept = decimals
        while fraction % _TEN == 0:
            fraction //= _TEN
            kept -= 1
        out[position] = 46  # '.'
        position = _write_digits(out, position + 1, fraction, kept, powers_of_ten)
    return position


@njit(cache=True)
def _write_bytes(out, position, source, start, end):
    for index in range(start, end):
        out[position] = source[index]
        position += 1
    return position


@njit(cache=True)
def _format_csv_rows(
    uid_bytes, uid_offsets, equity, debt, decimals, signed_net, first_row, end_row, powers_of_ten, out
):
    """CSV lines for rows [first_row, end_row) into ``out``; returns the number of bytes written."""
    position = 0
    n_assets = equity.shape[1]
    for row in range(first_row, end_row):
        start = uid_offsets[row]
        end = uid_offsets[row + 1]
        needs_quotes = False
        for index in range(start, end):
            if uid_bytes[index] == 44:  # a comma inside the uid
                needs_quotes = True
        if needs_quotes:
            out[position] = 34
            position += 1
        position = _write_bytes(out, position, uid_bytes, start, end)
        if needs_quotes:
            out[position] = 34
            position += 1
        for asset in range(n_assets):
            out[position] = 44
            position += 1
            if signed_net:
                negative = debt[row, asset] != 0
                amount = debt[row, asset] if negative else equity[row, asset]
                position = _write_units(out, position, amount, decimals[asset], negative, powers_of_ten)
            else:
                position = _write_units(
                    out, position, equity[row, asset], decimals[asset], False, powers_of_ten
                )
                out[position] = 44
                position += 1
                position = _write_units(
                    out, position, debt[row, asset], decimals[asset], False, powers_of_ten
                )
        out[position] = 10
        position += 1
    return position


@njit(cache=True)
def _write_json_string(out, position, source, start, end):
    """A JSON string literal; uids hold no control characters, so only '"' and '\\' need escapes."""
    out[position] = 34
    position += 1
    for index in range(start, end):
        byte = source[index]
        if byte == 34 or byte == 92:
            out[position] = 92
            position += 1
        out[position] = byte
        position += 1
    out[position] = 34
    return position + 1


@njit(cache=True)
def _format_jsonl_rows(
    uid_bytes,
    uid_offsets,
    equity,
    debt,
    decimals,
    symbol_bytes,
    symbol_offsets,
    first_row,
    end_row,
    powers_of_ten,
    out,
):
    """JSON Lines for rows [first_row, end_row): zero assets left out, a net string where one side
    is zero, an {"equity", "debt"} object where both are not. Returns the number of bytes written."""
    uid_key = np.array([117, 105, 100], dtype=np.uint8)  # uid
    equity_key = np.array([101, 113, 117, 105, 116, 121], dtype=np.uint8)  # equity
    debt_key = np.array([100, 101, 98, 116], dtype=np.uint8)  # debt
    position = 0
    n_assets = equity.shape[1]
    for row in range(first_row, end_row):
        out[position] = 123  # '{'
        position = _write_json_string(out, position + 1, uid_key, 0, 3)
        out[position] = 58  # ':'
        position = _write_json_string(out, position + 1, uid_bytes, uid_offsets[row], uid_offsets[row + 1])
        for asset in range(n_assets):
            held = equity[row, asset]
            owed = debt[row, asset]
            if held == 0 and owed == 0:
                continue
            out[position] = 44  # ','
            position = _write_json_string(
                out, position + 1, symbol_bytes, symbol_offsets[asset], symbol_offsets[asset + 1]
            )
            out[position] = 58
            position += 1
            if held != 0 and owed != 0:
                out[position] = 123
                position = _write_json_string(out, position + 1, equity_key, 0, equity_key.shape[0])
                out[position] = 58
                out[position + 1] = 34
                position = _write_units(out, position + 2, held, decimals[asset], False, powers_of_ten)
                out[position] = 34
                out[position + 1] = 44
                position = _write_json_string(out, position + 2, debt_key, 0, debt_key.shape[0])
                out[position] = 58
                out[position + 1] = 34
                position = _write_units(out, position + 2, owed, decimals[asset], False, powers_of_ten)
                out[position] = 34
                out[position + 1] = 125
                position += 2
            else:
                out[position] = 34
                position = _write_units(
                    out, position + 1, owed if owed != 0 else held, decimals[asset], owed != 0, powers_of_ten
                )
                out[position] = 34
                position += 1
        out[position] = 125  # '}'
        out[position + 1] = 10
        position += 2
    return position


def write_users_file(
    path: str | Path,
    config: RoundConfig,
    uid_bytes: np.ndarray,
    uid_offsets: np.ndarray,
    equity: np.ndarray,
    debt: np.ndarray,
    *,
    signed_net: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write users as CSV or JSON Lines (by the suffix of ``path``), atomically.

    CSV gets the header ``uid,BTC_equity,BTC_debt,...`` in round.toml order, or with
    ``signed_net`` one signed column per asset (then no user may have both equity and debt in one
    asset). JSON Lines always chooses per asset the shortest form.
    """
    block = UsersBlock(uid_bytes, uid_offsets, equity, debt)
    write_users_blocks(path, config, [block], equity.shape[0], signed_net=signed_net, progress=progress)


class UsersBlock(NamedTuple):
    """Consecutive users in the loader's layout: uid bytes + offsets (from 0), equity/debt arrays."""

    uid_bytes: np.ndarray
    uid_offsets: np.ndarray
    equity: np.ndarray
    debt: np.ndarray


def write_users_blocks(
    path: str | Path,
    config: RoundConfig,
    blocks: Iterable[UsersBlock],
    n_users: int,
    *,
    signed_net: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """`write_users_file` for users that arrive a block at a time (``n_users`` in all), so that a
    file of any size is written with one block in memory."""
    path = Path(path)
    if path.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"users file must end in .csv or .jsonl: {path}")
    n_assets = len(config.assets)
    decimals = np.array([asset.decimals for asset in config.assets], dtype=np.int64)
    symbol_text = "".join(config.symbols).encode("ascii")
    symbol_bytes = np.frombuffer(symbol_text, dtype=np.uint8)
    symbol_offsets = np.concatenate([[0], np.cumsum([len(symbol) for symbol in config.symbols])]).astype(
        np.int64
    )
    row_bytes = 2 * MAX_UID_BYTES + 8 + n_assets * (2 * _MAX_AMOUNT_TEXT + 32 + max(map(len, config.symbols)))
    rows_per_write = min(ROWS_PER_BLOCK, max(n_users, 1))
    out = np.empty(rows_per_write * row_bytes, dtype=np.uint8)
    written = 0

    with atomic_output(path) as stream:
        if path.suffix == ".csv":
            if signed_net:
                header = ",".join(["uid", *config.symbols])
            else:
                header = ",".join(["uid", *(f"{s}_equity,{s}_debt" for s in config.symbols)])
            stream.write(header.encode("ascii") + b"\n")
        for block in blocks:
            uid_bytes, uid_offsets, equity, debt = _checked_block(block, n_assets, path, signed_net)
            count = equity.shape[0]
            for first_row in range(0, count, rows_per_write):
                end_row = min(first_row + rows_per_write, count)
                if path.suffix == ".csv":
                    used = _format_csv_rows(
                        uid_bytes,
                        uid_offsets,
                        equity,
                        debt,
                        decimals,
                        signed_net,
                        first_row,
                        end_row,
                        _POWERS_OF_TEN,
                        out,
                    )
                else:
                    used = _format_jsonl_rows(
                        uid_bytes,
                        uid_offsets,
                        equity,
                        debt,
                        decimals,
                        symbol_bytes,
                        symbol_offsets,
                        first_row,
                        end_row,
                        _POWERS_OF_TEN,
                        out,
                    )
                stream.write(memoryview(out)[:used])
                if progress is not None:
                    progress(written + end_row, n_users)
            written += count
        if written != n_users:
            raise ValueError(f"expected {n_users} users, the blocks held {written}")


def _checked_block(
    block: UsersBlock, n_assets: int, path: Path, signed_net: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    count = block.equity.shape[0]
    if (
        block.equity.shape != (count, n_assets)
        or block.debt.shape != block.equity.shape
        or block.uid_offsets.shape != (count + 1,)
    ):
        raise ValueError("array shapes do not match each other or round.toml")
    if signed_net and np.any((block.equity != 0) & (block.debt != 0)):
        raise ValueError("signed net columns cannot hold a user with both equity and debt in one asset")
    if path.suffix == ".csv" and np.any(block.uid_bytes == ord('"')):
        raise ValueError("a uid contains a double quote, which the CSV format here cannot hold; use .jsonl")
    return (
        block.uid_bytes,
        np.ascontiguousarray(block.uid_offsets, dtype=np.int64),
        np.ascontiguousarray(block.equity, dtype=np.uint64),
        np.ascontiguousarray(block.debt, dtype=np.uint64),
    )
