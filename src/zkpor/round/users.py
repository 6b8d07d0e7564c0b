"""Loading a users file (CSV or JSON Lines) into integer base-unit arrays, with strict validation.

The result, UserBalances, holds no Python object per user or per cell: uids are one byte buffer plus
offsets, and equity/debt are ``uint64`` arrays of shape (n_users, n_assets), columns in round.toml
order, values in base units of each asset (10^-decimals coin).

CSV (``users.csv``)
    UTF-8 (a UTF-8 byte order mark is skipped), ``\\n`` or ``\\r\\n`` line ends. Line 1 is the header:
    ``uid`` and, for every asset in round.toml, either the pair ``SYM_equity,SYM_debt`` or one signed
    net column ``SYM`` (negative goes to debt). Columns may come in any order; each must appear
    exactly once, and no other column is allowed. A field may be wrapped in double quotes (then it may
    contain commas) but may not contain a double quote itself.
JSON Lines (``users.jsonl``)
    One JSON object per line: ``{"uid": "u1", "BTC": {"equity": "1.5", "debt": "0.2"}, "ETH": "-0.3"}``.
    Each asset is an object with optional ``equity``/``debt`` or one signed net string; an asset
    left out is zero. Amounts must be JSON strings: a JSON number is refused, because whatever
    wrote it may already have rounded it through a binary float.

Both: amounts are ``[-]digits[.digits]`` (see decimal_text.py; a minus only in net columns), with at
most the asset's ``decimals`` (further digits only if zeros), below ``2^bits``. A uid is 1–128 bytes of
UTF-8 without control characters or leading/trailing spaces, unique in the file. Blank lines are
allowed only at the end. Any violation raises InputError naming the file, line and field.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from zkpor.errors import InputError
from zkpor.fsutil import make_directory, output_error
from zkpor.round import users_kernels as kernels
from zkpor.round.config import RoundConfig

CHUNK_BYTES = 16 * 1024 * 1024
# Spilled rows closer than this are read together: the bytes between cost less than another read.
READ_GAP_BYTES = 8 * 1024
MAX_LINE_BYTES = 1024 * 1024
MAX_UID_BYTES = kernels.MAX_UID_BYTES
JSONL_CELLS_PER_BATCH = 200_000
USERS_FILE_NAMES = ("users.csv", "users.jsonl")

# (bytes done, bytes total): called now and then while a file loads.
ProgressCallback = Callable[[int, int], None]

_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
)
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, eq=False)
class UserBalances:
    """A loaded users file. Row i is the user on line ``first_line + i`` of ``path``.

    ``uid_bytes[uid_offsets[i]:uid_offsets[i + 1]]`` is user i's uid in UTF-8; ``equity[i, j]`` and
    ``debt[i, j]`` are their balances in asset ``symbols[j]`` in base units.
    """

    path: Path
    file_format: str  # "csv" or "jsonl"
    symbols: tuple[str, ...]
    uid_offsets: np.ndarray  # int64, (n_users + 1,)
    uid_bytes: np.ndarray  # uint8
    equity: np.ndarray  # uint64, (n_users, n_assets)
    debt: np.ndarray  # uint64, (n_users, n_assets)
    first_line: int
    # With `spill_dir`, equity and debt live in files mapped into memory (see `release_pages`).
    spilled: tuple[SpilledArray, ...] = ()

    def release_pages(self) -> None:
        """Unmap the spilled balance pages this process has touched: they stay in the files (and the
        page cache), so a round of 10^7 users is read and proven without holding 3.5 GB resident."""
        _release(self.spilled)

    def take_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Equity and debt of the given users (any order), copied into memory. Spilled rows are read
        from their files, not through the mapping: a page fault there maps the whole (large) page-
        cache folio around the row, so one gather of 8,192 scattered rows would map gigabytes."""
        if not self.spilled:
            return self.equity[rows], self.debt[rows]
        equity, debt = (spill.read_rows(rows) for spill in self.spilled)
        return equity, debt

    def row_chunks(self, rows: int = 1 << 18) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(first row, equity rows, debt rows) a chunk at a time, pages released after each."""
        for start in range(0, len(self), rows):
            yield start, self.equity[start : start + rows], self.debt[start : start + rows]
            self.release_pages()

    def __len__(self) -> int:
        return self.equity.shape[0]

    @property
    def n_users(self) -> int:
        return self.equity.shape[0]

    def uid(self, row: int) -> str:
        return bytes(self.uid_bytes[self.uid_offsets[row] : self.uid_offsets[row + 1]]).decode("utf-8")

    def line_of(self, row: int) -> int:
        """The line of ``path`` user ``row`` came from (1-based)."""
        return self.first_line + row


def load_users(
    path: str | Path,
    config: RoundConfig,
    *,
    progress: ProgressCallback | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    spill_dir: Path | None = None,
) -> UserBalances:
    """Load and validate a users file (format by suffix: .csv or .jsonl) against ``config``.

    With ``spill_dir`` (a private directory: the files hold every user's balances), equity and debt
    are kept in files there, mapped into memory, instead of in anonymous memory."""
    path = Path(path)
    if path.suffix == ".csv":
        return _CsvLoader(path, config, progress, chunk_bytes, spill_dir).load()
    if path.suffix == ".jsonl":
        return _JsonlLoader(path, config, progress, spill_dir).load()
    raise InputError("unknown users file type: name it users.csv or users.jsonl", path=path)


@dataclass(frozen=True, eq=False)
class SpilledArray:
    """A (rows, columns) uint64 array kept in an unnamed private file: its shared mapping (written
    and scanned through) and the open file (read row by row)."""

    mapping: mmap.mmap
    file: BinaryIO
    columns: int

    def read_rows(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (any order), read in file order into one buffer: rows less than
        `READ_GAP_BYTES` apart share a read (a batch's 8,192 rows of a 65,536-user round lie ~1.4 KB
        apart: a few reads instead of 8,192), so the buffer is at most that much per row."""
        row_bytes = 8 * self.columns
        if rows.shape[0] == 0:
            return np.empty((0, self.columns), dtype=np.uint64)
        order = np.argsort(rows, kind="stable")
        ordered = rows[order].astype(np.int64)
        starts = np.flatnonzero(np.diff(ordered, prepend=-(1 << 62)) > max(1, READ_GAP_BYTES // row_bytes))
        first = ordered[starts]  # each read's first row, and its rows
        counts = np.append(ordered[starts[1:] - 1], ordered[-1]) - first + 1
        placed = np.concatenate([[0], np.cumsum(counts)])  # where each read lands in the buffer
        buffer = bytearray(int(placed[-1]) * row_bytes)
        view, descriptor = memoryview(buffer), self.file.fileno()
        for row, count, at in zip(first.tolist(), counts.tolist(), placed.tolist(), strict=False):
            size = count * row_bytes
            if os.preadv(descriptor, [view[at * row_bytes : at * row_bytes + size]], row * row_bytes) != size:
                raise OSError(f"spilled balances: rows {row}-{row + count - 1} past the file's end")
        block = np.frombuffer(buffer, dtype=np.uint64).reshape(-1, self.columns)
        read = np.repeat(np.arange(starts.shape[0]), np.diff(np.append(starts, ordered.shape[0])))
        out = np.empty((rows.shape[0], self.columns), dtype=np.uint64)
        out[order] = block[placed[:-1][read] + ordered - first[read]]
        return out


def _release(spilled: tuple[SpilledArray, ...]) -> None:
    """Unmap the pages of spilled arrays this process has touched (the data stays in the files)."""
    for spill in spilled:
        spill.mapping.madvise(mmap.MADV_DONTNEED)


def _balance_arrays(
    rows: int, n_assets: int, spill_dir: Path | None
) -> tuple[np.ndarray, np.ndarray, tuple[SpilledArray, ...]]:
    """Zeroed (rows, n_assets) uint64 equity and debt arrays: anonymous memory (fresh zero pages
    cost nothing until written), or files in ``spill_dir`` mapped shared, their disk space reserved."""
    if spill_dir is None or rows == 0:
        return np.zeros((rows, n_assets), np.uint64), np.zeros((rows, n_assets), np.uint64), ()
    make_directory(spill_dir, mode=0o700)
    arrays, spilled = [], []
    for _ in ("equity", "debt"):
        # Unnamed (already unlinked) files: nothing is left behind on disk however the process ends.
        # Their disk space is reserved up front: a full disk is then one error here, not a SIGBUS
        # (a crash) when a write through the mapping finds no room.
        try:
            backing = tempfile.TemporaryFile(dir=spill_dir)  # open for as long as the users are
            os.posix_fallocate(backing.fileno(), 0, rows * n_assets * 8)
            array = np.memmap(backing, dtype=np.uint64, mode="w+", shape=(rows, n_assets))
        except OSError as error:
            raise output_error(spill_dir, error, "cannot hold the balances there") from None
        arrays.append(np.asarray(array))  # a plain ndarray view for the numba kernels
        spilled.append(SpilledArray(array._mmap, backing, n_assets))
    return arrays[0], arrays[1], tuple(spilled)


# ------------------------------------------------------------------------------------ shared
def _open_checked(path: Path) -> Any:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path=path) from None


def _check_encoding_start(path: Path, start: bytes) -> int:
    """Refuse UTF-16/32 files; return how many bytes of UTF-8 byte order mark to skip."""
    for mark, name in _BYTE_ORDER_MARKS:
        if start.startswith(mark):
            raise InputError(f"the file is {name} encoded; save it as UTF-8", path=path, line=1)
    if b"\x00" in start[:4]:
        raise InputError(
            "the file contains NUL bytes, so it is not UTF-8 text (UTF-16 without a byte order mark?); "
            "save it as UTF-8",
            path=path,
            line=1,
        )
    return len(_UTF8_BOM) if start.startswith(_UTF8_BOM) else 0


def _count_lines(stream: Any, chunk_bytes: int) -> int:
    """Upper bound on the number of lines: newlines plus one for a last line without one."""
    newlines = 0
    while chunk := stream.read(chunk_bytes):
        newlines += chunk.count(b"\n")
    stream.seek(0)
    return newlines + 1


def _check_unique_uids(users: UserBalances) -> None:
    hashes = kernels.uid_hashes(users.uid_bytes, users.uid_offsets)
    order = np.argsort(hashes, kind="stable")
    earlier, later = kernels.first_duplicate_uid(users.uid_bytes, users.uid_offsets, hashes, order)
    if later >= 0:
        raise InputError(
            f"duplicate uid {users.uid(later)!r}, first seen on line {users.line_of(earlier)}",
            path=users.path,
            line=users.line_of(later),
            field="uid",
        )


def _snippet(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _amount_error_message(code: int, raw: bytes, role: int, decimals: int, bits: int) -> str:
    """Why an amount was refused, for the error codes parse_amount returns."""
    what = {kernels.ROLE_EQUITY: "equity", kernels.ROLE_DEBT: "debt"}.get(role, "amount")
    if code == kernels.E_EMPTY_AMOUNT:
        return f"empty {what}: write 0 for none"
    if code == kernels.E_MALFORMED_NUMBER:
        hint = ""
        if re.search(rb"[eE]", raw) and re.fullmatch(rb"-?[0-9.]+[eE][-+]?[0-9]+", raw):
            hint = " (exponents are not allowed)"
        elif any(byte >= 0x80 for byte in raw):
            hint = " (non-ASCII bytes: is the file UTF-8?)"
        elif raw.strip() != raw:
            hint = " (no spaces around numbers)"
        return f"malformed number {_snippet(raw)}: expected a decimal like 12.5{hint}"
    if code == kernels.E_NEGATIVE:
        return (
            f"negative {what} {_snippet(raw)}: equity and debt are never negative (use a signed net "
            "column, or put the amount in the debt column)"
        )
    if code == kernels.E_TOO_MANY_DECIMALS:
        return (
            f"{_snippet(raw)} has more than {decimals} decimals, the precision round.toml sets for this "
            "asset; zkpor never rounds"
        )
    if code == kernels.E_OVER_BOUND:
        return f"{_snippet(raw)} is not below this asset's bound of 2^{bits} base units (round.toml bits)"
    return f"invalid amount {_snippet(raw)} (error {code})"


def _uid_error_message(code: int, raw: bytes) -> str:
    if code == kernels.E_EMPTY_UID:
        return "empty uid"
    if code == kernels.E_UID_TOO_LONG:
        return f"uid is {len(raw)} bytes long; at most {MAX_UID_BYTES} bytes are allowed"
    if code == kernels.E_UID_NOT_UTF8:
        return f"uid {_snippet(raw)} is not valid UTF-8; save the file as UTF-8"
    if code == kernels.E_UID_CONTROL_CHARACTER:
        return f"uid {_snippet(raw)} contains a control character"
    if code == kernels.E_UID_SPACE:
        return f"uid {_snippet(raw)} has a leading or trailing space"
    return f"invalid uid {_snippet(raw)} (error {code})"


# --------------------------------------------------------------------------------------- CSV
class _CsvLoader:
    """One CSV load: header in Python, data lines through parse_csv_lines chunk by chunk."""

    def __init__(
        self,
        path: Path,
        config: RoundConfig,
        progress: ProgressCallback | None,
        chunk_bytes: int,
        spill_dir: Path | None,
    ) -> None:
        self.path = path
        self.config = config
        self.progress = progress
        self.chunk_bytes = chunk_bytes
        self.spill_dir = spill_dir
        self.decimals = np.array([asset.decimals for asset in config.assets], dtype=np.int64)
        self.max_units = np.array([asset.max_units for asset in config.assets], dtype=np.uint64)
        # Per column, from the header: its name, what it holds (ROLE_*) and its asset (-1 for uid).
        self.column_names: list[str] = []
        self.roles = np.zeros(0, dtype=np.int64)
        self.assets = np.zeros(0, dtype=np.int64)

    def error(self, message: str, line: int | None = None, field: str | None = None) -> InputError:
        return InputError(message, path=self.path, line=line, field=field)

    def load(self) -> UserBalances:
        with _open_checked(self.path) as stream:
            total_bytes = stream.seek(0, 2)
            stream.seek(0)
            line_capacity = _count_lines(stream, self.chunk_bytes)
            header = stream.readline(MAX_LINE_BYTES + 1)
            if not header:
                raise self.error("empty file: expected a header line 'uid,...'")
            skip = _check_encoding_start(self.path, header)
            if len(header) > MAX_LINE_BYTES:
                raise self.error(f"header line longer than {MAX_LINE_BYTES} bytes", line=1)
            self.parse_header(header[skip:])
            return self.parse_data(stream, line_capacity - 1, len(header), total_bytes)

    def parse_header(self, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise self.error("header is not valid UTF-8; save the file as UTF-8", line=1) from None
        if not text.strip():
            raise self.error("line 1 is blank: expected the header 'uid,...'", line=1)
        names = [
            name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name for name in text.split(",")
        ]
        symbols = self.config.symbols
        expected = "uid," + ",".join(f"{symbol}_equity,{symbol}_debt" for symbol in symbols)
        roles, assets = [], []
        seen: dict[str, int] = {}
        for position, name in enumerate(names):
            if name in seen:
                raise self.error(
                    f"column '{name}' appears twice (columns {seen[name] + 1} and {position + 1})",
                    line=1,
                    field=name,
                )
            seen[name] = position
            symbol, _, kind = name.rpartition("_") if name.endswith(("_equity", "_debt")) else (name, "", "")
            if name == "uid":
                roles.append(kernels.ROLE_UID)
                assets.append(-1)
            elif symbol in symbols:
                roles.append(
                    {"": kernels.ROLE_NET, "equity": kernels.ROLE_EQUITY, "debt": kernels.ROLE_DEBT}[kind]
                )
                assets.append(symbols.index(symbol))
            else:
                reason = f"unknown asset '{symbol}': round.toml lists {', '.join(symbols)}"
                if not name.strip():
                    reason = "empty column name"
                elif name.strip() != name:
                    reason = "column name has leading or trailing spaces"
                raise self.error(f"unknown column '{name}' ({reason})", line=1, field=name)
        if "uid" not in seen:
            raise self.error(f"no 'uid' column; the header should look like '{expected[:60]}...'", line=1)
        for symbol in symbols:
            has_net = symbol in seen
            has_equity, has_debt = f"{symbol}_equity" in seen, f"{symbol}_debt" in seen
            if has_net and (has_equity or has_debt):
                raise self.error(
                    f"asset {symbol} has both a net column '{symbol}' and equity/debt columns; use one form",
                    line=1,
                    field=symbol,
                )
            if not (has_net or has_equity or has_debt):
                raise self.error(
                    f"missing column for asset {symbol} (from round.toml): add '{symbol}_equity' and "
                    f"'{symbol}_debt', or one signed net column '{symbol}'",
                    line=1,
                    field=symbol,
                )
            if has_equity != has_debt:
                missing = f"{symbol}_debt" if has_equity else f"{symbol}_equity"
                raise self.error(f"missing column '{missing}'", line=1, field=missing)
        self.column_names = names
        self.roles = np.array(roles, dtype=np.int64)
        self.assets = np.array(assets, dtype=np.int64)

    def parse_data(
        self,
        stream: Any,
        row_capacity: int,
        bytes_done: int,
        total_bytes: int,
    ) -> UserBalances:
        n_assets = len(self.config.assets)
        equity, debt, spilled = _balance_arrays(row_capacity, n_assets, self.spill_dir)
        uid_offsets = np.zeros(row_capacity + 1, dtype=np.int64)
        uid_bytes = np.empty(min(total_bytes, 16 * row_capacity + self.chunk_bytes), dtype=np.uint8)
        buffer = np.empty(self.chunk_bytes + MAX_LINE_BYTES, dtype=np.uint8)
        view = memoryview(buffer)
        status = np.zeros(kernels.STATUS_SIZE, dtype=np.int64)
        status[kernels.S_LINE] = 2
        carried = 0
        while True:
            read = stream.readinto(view[carried : carried + self.chunk_bytes])
            at_end = read == 0
            filled = carried + read
            bytes_done += read
            if uid_bytes.shape[0] - status[kernels.S_UID_USED] < filled:
                uid_bytes = np.concatenate([uid_bytes, np.empty(max(uid_bytes.shape[0], filled), np.uint8)])
            status[kernels.S_POS] = 0
            kernels.parse_csv_lines(
                buffer,
                filled,
                at_end,
                MAX_LINE_BYTES,
                self.roles,
                self.assets,
                self.decimals,
                self.max_units,
                equity,
                debt,
                uid_bytes,
                uid_offsets,
                status,
            )
            if status[kernels.S_ERROR] != kernels.OK:
                raise self.data_error(buffer, status)
            if at_end:
                break
            consumed = int(status[kernels.S_POS])
            carried = filled - consumed
            if carried > MAX_LINE_BYTES:
                raise self.error(f"line longer than {MAX_LINE_BYTES} bytes", line=int(status[kernels.S_LINE]))
            buffer[:carried] = buffer[consumed:filled]
            _release(spilled)
            if self.progress is not None:
                self.progress(bytes_done, total_bytes)

        if self.progress is not None:
            self.progress(total_bytes, total_bytes)
        n_users = int(status[kernels.S_ROW])
        if n_users == 0:
            raise self.error("no users: the file has a header but no user lines")
        users = UserBalances(
            path=self.path,
            file_format="csv",
            symbols=self.config.symbols,
            uid_offsets=uid_offsets[: n_users + 1],
            uid_bytes=uid_bytes[: status[kernels.S_UID_USED]].copy(),
            equity=equity[:n_users],
            debt=debt[:n_users],
            first_line=2,
            spilled=spilled,
        )
        _check_unique_uids(users)
        return users

    def data_error(self, buffer: np.ndarray, status: np.ndarray) -> InputError:
        code = int(status[kernels.S_ERROR])
        line = int(status[kernels.S_ERROR_LINE])
        column = int(status[kernels.S_ERROR_COLUMN])
        raw = bytes(buffer[status[kernels.S_ERROR_START] : status[kernels.S_ERROR_END]])
        n_columns = len(self.column_names)
        field = self.column_names[column] if 0 <= column < n_columns else None
        if code == kernels.E_LINE_TOO_LONG:
            return self.error(f"line longer than {MAX_LINE_BYTES} bytes", line=line)
        if code == kernels.E_BLANK_LINE:
            return self.error("blank line between user lines", line=line)
        if code == kernels.E_TOO_MANY_ROWS:
            return self.error("the file changed while it was being read", line=line)
        if code == kernels.E_TOO_FEW_FIELDS:
            return self.error(
                f"{column} fields, but the header has {n_columns} columns (missing "
                f"'{self.column_names[column]}' onwards)",
                line=line,
            )
        if code == kernels.E_TOO_MANY_FIELDS:
            return self.error(
                f"more fields than the header's {n_columns} columns (extra text {_snippet(raw)})", line=line
            )
        if code == kernels.E_UNTERMINATED_QUOTE:
            return self.error(f"unterminated quote in {_snippet(raw)}", line=line, field=field)
        if code == kernels.E_TEXT_AFTER_QUOTE:
            return self.error(
                f"text after closing quote in {_snippet(raw)} (quotes inside fields, "
                'escaped as "", are not supported)',
                line=line,
                field=field,
            )
        if code == kernels.E_STRAY_QUOTE:
            return self.error(f"quote inside unquoted field {_snippet(raw)}", line=line, field=field)
        if field == "uid":
            return self.error(_uid_error_message(code, raw), line=line, field=field)
        asset = self.config.assets[self.assets[column]]
        message = _amount_error_message(code, raw, int(self.roles[column]), asset.decimals, asset.bits)
        return self.error(message, line=line, field=field)


# ------------------------------------------------------------------------------- JSON Lines
class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return result


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_SUBFIELD_ROLES = {"equity": kernels.ROLE_EQUITY, "debt": kernels.ROLE_DEBT}


class _JsonlLoader:
    """One JSON Lines load: json decodes each line's structure in Python; the amounts are collected
    as text and parsed by the numba kernel in batches, so no per-cell Python object outlives a batch."""

    def __init__(
        self, path: Path, config: RoundConfig, progress: ProgressCallback | None, spill_dir: Path | None
    ) -> None:
        self.path = path
        self.config = config
        self.progress = progress
        self.spill_dir = spill_dir
        self.asset_of = {symbol: index for index, symbol in enumerate(config.symbols)}
        self.decimals = np.array([asset.decimals for asset in config.assets], dtype=np.int64)
        self.max_units = np.array([asset.max_units for asset in config.assets], dtype=np.uint64)
        self.decoder = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys)
        self.uid_buffer = bytearray()
        self.uid_ends: list[int] = []
        # The current batch of amount cells: text, row, and asset · 4 + role.
        self.cell_texts: list[str] = []
        self.cell_rows: list[int] = []
        self.cell_slots: list[int] = []

    def error(self, message: str, line: int | None = None, field: str | None = None) -> InputError:
        return InputError(message, path=self.path, line=line, field=field)

    def load(self) -> UserBalances:
        with _open_checked(self.path) as stream:
            total_bytes = stream.seek(0, 2)
            stream.seek(0)
            if total_bytes == 0:
                raise self.error("empty file: expected one JSON object per line")
            capacity = _count_lines(stream, CHUNK_BYTES)
            skip = _check_encoding_start(self.path, stream.read(4))
            stream.seek(skip)
            self.equity, self.debt, self.spilled = _balance_arrays(
                capacity, len(self.config.assets), self.spill_dir
            )
            row = line = blank_line = 0
            bytes_done = skip
            while raw := stream.readline(MAX_LINE_BYTES + 1):
                line += 1
                bytes_done += len(raw)
                if len(raw) > MAX_LINE_BYTES:
                    raise self.error(f"line longer than {MAX_LINE_BYTES} bytes", line=line)
                raw = raw.rstrip(b"\r\n")
                if not raw.strip(b" \t"):
                    blank_line = blank_line or line
                    continue
                if blank_line:
                    raise self.error("blank line between user lines", line=blank_line)
                if row >= capacity:
                    raise self.error("the file changed while it was being read", line=line)
                self.parse_user(raw, row, line)
                row += 1
                if len(self.cell_texts) >= JSONL_CELLS_PER_BATCH:
                    self.flush()
                    if self.progress is not None:
                        self.progress(bytes_done, total_bytes)
            self.flush()
            if self.progress is not None:
                self.progress(total_bytes, total_bytes)
        if row == 0:
            raise self.error("no users: the file has no user lines")
        users = UserBalances(
            path=self.path,
            file_format="jsonl",
            symbols=self.config.symbols,
            uid_offsets=np.array([0, *self.uid_ends], dtype=np.int64),
            uid_bytes=np.frombuffer(bytes(self.uid_buffer), dtype=np.uint8),
            equity=self.equity[:row],
            debt=self.debt[:row],
            first_line=1,
            spilled=self.spilled,
        )
        _check_unique_uids(users)
        return users

    def parse_user(self, raw: bytes, row: int, line: int) -> None:
        """Check one line's structure and uid; queue its amounts for the kernel."""
        try:
            user = self.decoder.decode(raw.decode("utf-8"))
        except UnicodeDecodeError as reason:
            message = f"not valid UTF-8 (byte {reason.start + 1} of the line); save the file as UTF-8"
            raise self.error(message, line=line) from None
        except _DuplicateKeyError as duplicate:
            raise self.error(f"key '{duplicate}' appears twice", line=line, field=str(duplicate)) from None
        except json.JSONDecodeError as reason:
            raise self.error(f"not valid JSON: {reason.msg} (column {reason.colno})", line=line) from None
        except RecursionError:
            raise self.error("not valid JSON: nested too deeply", line=line) from None
        if type(user) is not dict:
            raise self.error('each line must be a JSON object like {"uid": "u1", "BTC": "0.5"}', line=line)
        uid = None
        for key, value in user.items():
            if key == "uid":
                uid = value
                continue
            asset = self.asset_of.get(key)
            if asset is None:
                symbols = ", ".join(self.config.symbols)
                raise self.error(f"unknown asset '{key}': round.toml lists {symbols}", line=line, field=key)
            if type(value) is not dict:
                self.add_cell(value, row, asset, kernels.ROLE_NET, line)
                continue
            for part, amount in value.items():
                role = _SUBFIELD_ROLES.get(part)
                if role is None:
                    message = f"unknown key '{part}': an asset object has only 'equity' and 'debt'"
                    raise self.error(message, line=line, field=f"{key}.{part}")
                self.add_cell(amount, row, asset, role, line)
        if uid is None:
            raise self.error("missing 'uid'", line=line, field="uid")
        if type(uid) is not str:
            raise self.error(f"uid must be a JSON string, not {_json_kind(uid)}", line=line, field="uid")
        uid_problem = _uid_problem(uid)
        if uid_problem:
            raise self.error(uid_problem, line=line, field="uid")
        self.uid_buffer += uid.encode("utf-8")
        self.uid_ends.append(len(self.uid_buffer))

    def field_name(self, asset: int, role: int) -> str:
        symbol = self.config.symbols[asset]
        return {kernels.ROLE_EQUITY: f"{symbol}.equity", kernels.ROLE_DEBT: f"{symbol}.debt"}.get(
            role, symbol
        )

    def add_cell(self, text: object, row: int, asset: int, role: int, line: int) -> None:
        if type(text) is not str:
            raise self.error(
                f'amount must be a JSON string such as "12.5", not {_json_kind(text)}: a JSON number '
                "may already have been rounded by whatever wrote it",
                line=line,
                field=self.field_name(asset, role),
            )
        if not text.isascii():  # the kernel works on bytes; offsets below assume one byte per character
            message = _amount_error_message(kernels.E_MALFORMED_NUMBER, text.encode(), role, 0, 0)
            raise self.error(message, line=line, field=self.field_name(asset, role))
        self.cell_texts.append(text)
        self.cell_rows.append(row)
        self.cell_slots.append(asset * 4 + role)

    def flush(self) -> None:
        """Parse the queued amounts into equity/debt."""
        if not self.cell_texts:
            return
        lengths = np.fromiter(map(len, self.cell_texts), dtype=np.int64, count=len(self.cell_texts))
        ends = np.cumsum(lengths)
        slots = np.array(self.cell_slots, dtype=np.int64)
        rows = np.array(self.cell_rows, dtype=np.int64)
        text = np.frombuffer("".join(self.cell_texts).encode("ascii"), dtype=np.uint8)
        code, cell = kernels.parse_amount_cells(
            text,
            ends - lengths,
            ends,
            rows,
            slots // 4,
            slots % 4,
            self.decimals,
            self.max_units,
            self.equity,
            self.debt,
        )
        if code != kernels.OK:
            asset_index, role = divmod(self.cell_slots[cell], 4)
            asset = self.config.assets[asset_index]
            message = _amount_error_message(
                code, self.cell_texts[cell].encode(), role, asset.decimals, asset.bits
            )
            # Rows and lines coincide in JSONL (blank lines are allowed only at the end).
            raise self.error(message, line=self.cell_rows[cell] + 1, field=self.field_name(asset_index, role))
        self.cell_texts.clear()
        self.cell_rows.clear()
        self.cell_slots.clear()
        _release(self.spilled)


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return {type(None): "null", list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def _uid_problem(uid: str) -> str | None:
    """Why ``uid`` is not acceptable, by the same rules as the CSV kernel's check_uid; None if it is."""
    try:
        encoded = uid.encode("utf-8")
    except UnicodeEncodeError:
        return "uid is not valid Unicode (a lone surrogate escape?)"
    if not encoded:
        return _uid_error_message(kernels.E_EMPTY_UID, encoded)
    if len(encoded) > MAX_UID_BYTES:
        return _uid_error_message(kernels.E_UID_TOO_LONG, encoded)
    if uid[0] == " " or uid[-1] == " ":
        return _uid_error_message(kernels.E_UID_SPACE, encoded)
    if _CONTROL_CHARACTERS.search(uid):
        return _uid_error_message(kernels.E_UID_CONTROL_CHARACTER, encoded)
    return None
