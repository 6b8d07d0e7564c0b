"""Reading the reserves CSV: the layouts exchanges publish and our own plain one, streamed row by row.

Published files (OKX's is the common model) may start with a per-coin totals section
(`coin,snapshot height,amount`), then a blank line, then the address table in one of these layouts:

* 11 columns: coin, network, snapshot height, address, amount, message, signature1, signature2,
  redeem script/public key, EOA1, EOA2
* 12 columns: the same with a `Type` column after `coin` (e.g. "Non Staking", "Native ETH Staking").
* 9 columns, OKX's newer file: digitalAsset, network, address, signedMessage, signedMessage2,
  message, publicKey, owner1, owner2 — no height and no amount: heights come from `--height`,
  amounts from the balance sources.

Our plain layout is a header of canonical names in any order — `coin, address, message, signature`
required, `network, height, amount, signature2, public_key, eoa1, eoa2, type` optional.
Columns are found by header name, so every layout shares one reader; header cells that name no
column are ignored and listed (`ReservesFile.ignored_columns`). Cells holding a placeholder
(`null`, `\\N`, `-`, any case) read as empty.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import NamedTuple

from zkpor.errors import InputError


class ReserveRow(NamedTuple):
    """One address row, every field the raw string from the file (cheap to send to a worker)."""

    line: int
    coin: str
    network: str
    height: str
    address: str
    amount: str
    message: str
    signature1: str
    signature2: str
    script_or_key: str
    eoa1: str
    eoa2: str
    row_type: str
    problem: str  # non-empty when the line itself is malformed: the row is reported, never checked


# Canonical field -> header spellings seen in published files (compared after `_normalise`).
_ALIASES: dict[str, tuple[str, ...]] = {
    "coin": ("coin", "asset", "currency", "token", "digitalasset"),
    "network": ("network", "chain"),
    "height": ("snapshotheight", "height", "blockheight", "snapshot"),
    "address": ("address", "walletaddress"),
    "amount": ("amount", "balance", "declaredamount"),
    "message": ("message", "msg"),
    "signature1": ("signature1", "signature", "sig", "sig1", "signedmessage", "signedmessage1"),
    "signature2": ("signature2", "sig2", "signedmessage2"),
    "script_or_key": ("redeemscriptpublickey", "redeemscript", "publickey", "pubkey", "script"),
    "eoa1": ("eoa1", "owner1"),
    "eoa2": ("eoa2", "owner2"),
    "row_type": ("type", "rowtype"),
}
_REQUIRED = ("coin", "address", "message", "signature1")
_PLACEHOLDERS = frozenset({"null", "\\n", "-", "none"})  # compared lower-cased
_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


class RowShape(NamedTuple):
    columns: dict[str, int]  # canonical field -> column index
    width: int  # columns in the header
    needed: int  # a record must reach the last required column


# A record as read from the file: its line number and its cells, or the reason csv could not read it.
Record = tuple[int, "list[str] | str"]


class Chunk(NamedTuple):
    """Whole records as the file's raw lines: cheap to cut and to ship; parsed where they are checked."""

    lines_before: int  # physical lines of the file before this chunk
    lines: list[str]


@dataclass
class ReservesFile:
    """What the header section told us: the column map and any declared per-coin totals."""

    path: Path
    columns: dict[str, int]
    header_line: int
    declared_totals: dict[str, tuple[str, str]] = field(default_factory=dict)  # coin -> (height, amount)
    ignored_columns: list[str] = field(default_factory=list)  # header cells that name no column
    totals_lines: dict[str, int] = field(default_factory=dict)  # coin -> line of its totals entry
    header_width: int = 0  # cells in the header, ignored columns included

    @property
    def shape(self) -> RowShape:
        """What turning a record's cells into a row needs (small, so it travels with each chunk)."""
        return RowShape(
            self.columns,
            max(self.header_width, max(self.columns.values()) + 1),
            1 + max(self.columns[name] for name in _REQUIRED),
        )

    @property
    def layout(self) -> str:
        width = max(self.columns.values()) + 1
        if "row_type" in self.columns and width == 12:
            return "published-12"
        if width == 11 and "eoa2" in self.columns:
            return "published-11"
        if "height" not in self.columns and "amount" not in self.columns and "eoa1" in self.columns:
            return "published-9"
        return "plain"


def _map_header(cells: list[str]) -> tuple[dict[str, int], list[str]] | None:
    """(column map, ignored header cells), or None when `cells` is not an address-table header."""
    columns: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(cells):
        name = _LOOKUP.get(_normalise(cell))
        if name is not None and name not in columns:
            columns[name] = index
        elif cell:
            ignored.append(cell)
    return (columns, ignored) if all(name in columns for name in _REQUIRED) else None


def open_chunks(path: str | Path, rows: int) -> tuple[ReservesFile, Iterator[Chunk]]:
    """Parse the header section of `path` and return it with a lazy iterator over chunks of about
    `rows` records of the table (`records` turns a chunk into records).

    Raises InputError when no address-table header is found.
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read reserves file: {error.strerror}", path=path) from None
    reader = csv.reader(handle)
    declared: dict[str, tuple[str, str]] = {}
    totals_lines: dict[str, int] = {}
    totals_section = False
    try:
        for cells in reader:
            stripped = [c.strip() for c in cells]
            if not any(stripped):
                totals_section = False
                continue
            header = _map_header(stripped)
            if header is not None:
                columns, ignored = header
                info = ReservesFile(path, columns, reader.line_num, declared, ignored, totals_lines)
                info.header_width = len(stripped)
                # csv.reader takes one line at a time, so the file continues right after the header.
                return info, _chunks(handle, reader.line_num, rows)
            names = [_normalise(c) for c in stripped]
            if names[:1] == ["coin"] and "amount" in names:
                totals_section = True  # "coin,snapshot height,amount": the published totals
                continue
            if totals_section and len(stripped) >= 3:
                if stripped[0] in declared:
                    raise InputError(
                        f"totals section lists {stripped[0]} twice", path=path, line=reader.line_num
                    )
                declared[stripped[0]] = (stripped[1], stripped[2])
                totals_lines[stripped[0]] = reader.line_num
                continue
            raise InputError(
                "no address-table header (need at least columns coin, address, message, signature)",
                path=path,
                line=reader.line_num,
            )
    except csv.Error as error:
        handle.close()
        raise InputError(f"unreadable CSV: {error}", path=path, line=reader.line_num) from None
    except UnicodeDecodeError:
        handle.close()
        raise InputError("not UTF-8 text", path=path, line=reader.line_num + 1) from None
    handle.close()
    raise InputError("no address table found", path=path)


def _chunks(handle, lines_before: int, rows: int) -> Iterator[Chunk]:  # noqa: ANN001
    with handle:
        while True:
            try:
                lines = list(islice(handle, rows))
                # A line break inside a quoted field does not end a record: where the chunk has
                # quotes, let csv find the end of its last record (quote-free lines are one each).
                if any('"' in line for line in lines):
                    lines = _to_record_end(lines, handle)
            except UnicodeDecodeError:
                raise InputError(
                    f"not UTF-8 text after line {lines_before}", path=handle.name, line=lines_before + 1
                ) from None
            if not lines:
                return
            yield Chunk(lines_before, lines)
            lines_before += len(lines)


def _to_record_end(lines: list[str], more: Iterator[str]) -> list[str]:
    """`lines`, extended from `more` if its last record runs on in a quoted field."""
    taken: list[str] = []

    def source() -> Iterator[str]:
        for line in chain(lines, more):
            taken.append(line)
            yield line

    reader = csv.reader(source())  # it reads a line only when the record so far needs one
    while len(taken) < len(lines):
        try:
            next(reader)
        except StopIteration:
            break
        except csv.Error:
            continue  # reported where the chunk is parsed
    return taken


def records(chunk: Chunk) -> Iterator[Record]:
    """The chunk's records with their line numbers (of the record's last line, as csv counts)."""
    reader = csv.reader(chunk.lines)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield chunk.lines_before + reader.line_num, f"unreadable CSV line: {error}"
            continue
        yield chunk.lines_before + reader.line_num, cells


def open_reserves(path: str | Path) -> tuple[ReservesFile, Iterator[ReserveRow]]:
    """The header section and each non-blank record as a row (bad ones with `problem` set)."""
    info, chunks = open_chunks(path, 1000)
    shape = info.shape
    rows = (make_row(line, cells, shape) for chunk in chunks for line, cells in records(chunk))
    return info, (row for row in rows if row is not None)


def make_row(line: int, cells: list[str] | str, shape: RowShape) -> ReserveRow | None:
    """The row of one record; None for a blank line; a row with `problem` set for a malformed one."""
    if isinstance(cells, str):
        return _malformed(line, cells)
    if not any(c.strip() for c in cells):
        return None
    columns, width, needed = shape
    # Published files both pad rows with extra empty cells and cut trailing empty ones short
    # (OKX's own example has 9-field rows under an 11-column header): only data that is
    # missing from a required column, or present beyond the header, makes a row malformed.
    while len(cells) > width and not cells[-1].strip():
        cells.pop()
    if len(cells) > width and any("{" in cell for cell in cells):
        cells = _join_braces(cells)  # OKX writes JSON key lists ({"publicKey1": …, …}) unquoted
    if len(cells) > width or len(cells) < needed:
        return _malformed(line, f"malformed row: expected {width} fields, got {len(cells)}")

    def get(name: str) -> str:
        index = columns.get(name)
        if index is None or index >= len(cells):
            return ""
        cell = cells[index].strip()
        return "" if cell.lower() in _PLACEHOLDERS else cell

    return ReserveRow(
        line,
        get("coin"),
        get("network"),
        get("height"),
        get("address"),
        get("amount"),
        # The message is signed byte for byte: only the CSV quoting is removed, never spaces.
        get("message") and cells[columns["message"]],
        get("signature1"),
        get("signature2"),
        get("script_or_key"),
        get("eoa1"),
        get("eoa2"),
        get("row_type"),
        "",
    )


def _join_braces(cells: list[str]) -> list[str]:
    """Cells with a `{…}` group that the commas inside it split, joined back into one cell."""
    joined: list[str] = []
    depth = 0
    for cell in cells:
        if depth > 0:
            joined[-1] += "," + cell
        else:
            joined.append(cell)
        depth += cell.count("{") - cell.count("}")
    return joined


def _malformed(line: int, problem: str) -> ReserveRow:
    return ReserveRow(line, "", "", "", "", "", "", "", "", "", "", "", "", problem)
