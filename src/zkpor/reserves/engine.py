"""Checking a whole reserves file: stream the rows, verify signatures on all cores, look up balances
and account keys, catch duplicates, and write the per-row results and per-asset sums atomically.

The work is split so that every core pays off. This process only cuts the file into chunks of
about `CHUNK_ROWS` raw lines (at record ends) and sends them to worker processes (workers.py). They
do everything a row needs that does not depend on other rows or on I/O: parse the CSV, make the row,
resolve its coin name to an asset and chain (coins.py), check the message against the round's,
check its signatures, amount and height, compute its canonical address, and render its results
line; they send back one `Checked` record per row.

This process then merges in file order, so "the first listing of an address counts" is well
defined: snapshot heights (one per chain per round), duplicates, account-key links and balances
(sources cache their answers), the exact sums, and the results file. Most rows need none of that
I/O, and their line is written as the worker rendered it. Measured, this process spends under
10 µs of CPU per row against ~100 µs of checking.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from itertools import chain as chained
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO

from zkpor.fsutil import atomic_text_output, make_directory
from zkpor.reserves.balances import SourceUnavailable
from zkpor.reserves.coins import UNKNOWN_COIN, CoinNameError, coin_map
from zkpor.reserves.exact import decimal_text, parse_amount, to_fraction
from zkpor.reserves.networks import CHAINS, Chain, canonical_address
from zkpor.reserves.outcome import FAILED, UNSUPPORTED, VERIFIED, KeyLink, Rejected
from zkpor.reserves.rows import Chunk, ReserveRow, RowShape, make_row, open_chunks, records
from zkpor.reserves.schemes import verdict
from zkpor.reserves.tally import Summary

if TYPE_CHECKING:  # workers import this module: keep it free of the sources' HTTP code
    from zkpor.reserves.accounts import AccountKeys
    from zkpor.reserves.balances import BalanceSource

# Rows per job sent to a worker: big enough that shipping a job costs little next to checking it
# (~250 signature checks ≈ 70 ms), small enough that the last jobs spread over the workers.
CHUNK_ROWS = 250
# Files under this many chunks (3,000 rows) are checked in this process: a worker takes ~0.2 s to
# start, as long as checking ~2,000 rows, so workers would cost more than they save.
MIN_PARALLEL_CHUNKS = 12

RESULT_COLUMNS = [
    "line",
    "coin",
    "asset",
    "type",
    "network",
    "height",
    "address",
    "canonical_address",
    "amount",
    "message",
    "status",
    "scheme",
    "balance",
    "chain_balance",
    "reason",
]


def write_atomically(path: Path, write: Callable[[TextIO], None]) -> None:
    """Write through `zkpor.fsutil`: readers never see half a file, a fault is one line naming `path`."""
    make_directory(path.parent)
    with atomic_text_output(path) as handle:
        write(handle)


def count_rows(path: str | Path) -> int:
    """A quick upper bound on the number of rows, for the progress bar."""
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


class Settings(NamedTuple):
    """What every row is checked against, the same in every worker."""

    message: str | None = None  # the round's message: a row signing another fails as a possible replay
    coin_maps: tuple[str, ...] = ()  # --asset-map files extending the shipped coin-name map


class Job(NamedTuple):
    """A chunk of the file and how to read and check its rows."""

    shape: RowShape
    chunk: Chunk
    settings: Settings = Settings()


class Checked(NamedTuple):
    """What a worker sends back for one row: its results line as it stands when the merge has nothing
    to add (`text`), and the fields the merge needs when it has (height, duplicate, key link or
    balance)."""

    line: int
    coin: str
    asset: str  # "" when the coin name is unknown
    row_type: str
    chain: str  # chain id, "" when the network is unknown
    network: str  # what the results file shows: the chain id, or the network as written
    height: str
    address: str
    canonical: str  # the address as every spelling of it reads (duplicates are keyed on it)
    amount: str  # "" when the row declares none (OKX's 9-column layout)
    message: str
    status: str
    scheme: str
    reason: str
    link: KeyLink | None  # an account → key link only chain state can settle (a list after JSON)
    text: str


def check_chunk(job: Job) -> list[Checked]:
    """Make, check and pre-digest one chunk of records (in a worker process, or here)."""
    out = []
    for line, cells in records(job.chunk):
        row = make_row(line, cells, job.shape)
        if row is not None:  # blank lines make no row
            out.append(_check(row, job.settings))
    return out


def _check(row: ReserveRow, settings: Settings) -> Checked:
    asset, chain, link, scheme = "", None, None, ""
    status, reason = FAILED, row.problem
    if not row.problem:
        try:
            asset, chain = coin_map(settings.coin_maps).resolve(row.coin, row.network)
        except CoinNameError as error:
            reason = str(error)
    if chain is None:
        pass  # the reason says why
    elif settings.message is not None and row.message != settings.message:
        reason = f"signs {row.message!r}, not this round's message {settings.message!r}: a possible replay"
    elif row.amount and parse_amount(row.amount) is None:
        reason = f"amount {row.amount!r} is not a non-negative decimal number"
    elif row.height and not row.height.isdigit():
        reason = f"snapshot height {row.height!r} is not a block number"
    else:
        status, scheme, reason, link = verdict(row, chain)
    checked = Checked(
        row.line,
        row.coin,
        asset,
        row.row_type,
        chain.id if chain else "",
        chain.id if chain else row.network,
        row.height,
        row.address,
        _canonical(chain, row.address),
        row.amount,
        row.message,
        status,
        scheme,
        reason,
        link,
        "",
    )
    return checked._replace(text=_result_line(checked, status, scheme, reason))


def _canonical(chain: Chain | None, address: str) -> str:
    if chain is None:
        return address
    try:
        return canonical_address(chain, address)
    except Exception:  # noqa: BLE001 - a chain module's bug must not stop the file: keep the spelling
        return address.strip()


def _result_line(
    c: Checked,
    status: str,
    scheme: str,
    reason: str,
    balance_state: str = "",
    chain_balance: str = "",
    height: str | None = None,
) -> str:
    """The results-file line of a row; a verified row no balance source looked at says so."""
    if status == VERIFIED and not balance_state:
        balance_state = "unchecked"
        reason = reason or f"balance not checked (no snapshot file or RPC for {c.network})"
    fields = (c.line, c.coin, c.asset, c.row_type, c.network, c.height if height is None else height)
    fields += (c.address, c.canonical, c.amount, c.message, status, scheme)
    return _csv_line((*fields, balance_state, chain_balance, reason))


class _CsvLine:
    """One CSV line as a string (the csv module only writes to files)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def __call__(self, fields: Iterable[object]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(fields)
        return self.buffer.getvalue()


_csv_line = _CsvLine()  # per process, used from one thread


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may run on (containers, taskset)
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def check_chunk_json(job: bytes) -> bytes:
    """`check_chunk` for a job sent to a worker process as a line of JSON; answers a line of JSON."""
    fields = json.loads(job)
    shape = RowShape(fields["columns"], fields["width"], fields["needed"])
    settings = Settings(fields["message"], tuple(fields["coin_maps"]))
    checked = check_chunk(Job(shape, Chunk(fields["lines_before"], fields["lines"]), settings))
    return json.dumps(checked, ensure_ascii=False).encode() + b"\n"  # a Checked is a JSON array


def _job_json(job: Job) -> bytes:
    shape, chunk, settings = job
    fields = {"columns": shape.columns, "width": shape.width, "needed": shape.needed}
    fields |= {"lines_before": chunk.lines_before, "lines": chunk.lines}
    fields |= {"message": settings.message, "coin_maps": settings.coin_maps}
    return json.dumps(fields, ensure_ascii=False).encode() + b"\n"


def _checked_chunks(jobs: Iterator[Job], workers: int) -> Iterator[list[Checked]]:
    """Each job's results, in order: here for small files or one worker, else from worker processes."""
    head = list(islice(jobs, MIN_PARALLEL_CHUNKS))
    if workers <= 1 or len(head) < MIN_PARALLEL_CHUNKS:
        yield from map(check_chunk, chained(head, jobs))
        return
    from zkpor.reserves.workers import WorkerPool

    with WorkerPool(workers) as pool:
        for answer in pool.results(map(_job_json, chained(head, jobs))):
            yield [Checked._make(fields) for fields in json.loads(answer)]


def verify_reserves(
    path: str | Path,
    results_path: str | Path,
    *,
    balances: BalanceSource | None = None,
    accounts: AccountKeys | None = None,
    tolerance: Fraction = Fraction(0),
    message: str | None = None,
    heights: Mapping[str, int] | None = None,
    coin_maps: Sequence[str | Path] = (),
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Summary:
    """Check every row of the reserves file at `path`; write per-row results to `results_path`.

    `message`: the round's message (rows signing another fail as possible replays); `heights`: the
    snapshot height of each chain id (otherwise the first row on a chain sets it); `coin_maps`: files
    extending the shipped coin-name map. `workers`: processes checking rows (default: one per
    available core; 1 = this process only). `on_progress(n)` is called after each chunk with the
    number of rows it held.
    """
    settings = Settings(message, tuple(str(Path(file).resolve()) for file in coin_maps))
    coins = coin_map(settings.coin_maps)  # loaded here first: a bad map is an error before any row
    info, chunks = open_chunks(path, CHUNK_ROWS)
    summary = Summary(str(path), info.layout, message, declared_totals=dict(info.declared_totals))
    summary.totals_lines = dict(info.totals_lines)
    summary.heights = {chain: (height, "--height") for chain, height in (heights or {}).items()}
    if info.ignored_columns:
        summary.notices.append(f"columns ignored (not a reserves column): {', '.join(info.ignored_columns)}")
    merge = _Merge(summary, balances, accounts, tolerance)
    jobs = (Job(info.shape, chunk, settings) for chunk in chunks)

    def write(handle: TextIO) -> None:
        handle.write(_csv_line(RESULT_COLUMNS))
        for checked in _checked_chunks(jobs, workers or available_cpus()):
            handle.write("".join(map(merge.row, checked)))
            if on_progress is not None:
                on_progress(len(checked))

    write_atomically(Path(results_path), write)
    summary.close()
    summary.reconcile(coins)
    if summary.unknown_coins:
        names = ", ".join(f"{name} ({rows} rows)" for name, rows in summary.unknown_coins.most_common(10))
        more = len(summary.unknown_coins) - min(10, len(summary.unknown_coins))
        summary.notices.append(
            f"unknown coin names, not counted: {names}{f' and {more} more' if more else ''} "
            "(add them with --asset-map)"
        )
    if merge.no_height:
        summary.notices.append(
            f"no snapshot height for {', '.join(sorted(merge.no_height))}: balances there were not "
            "checked (give --height CHAIN=HEIGHT)"
        )
    return summary


class _Merge:
    """The per-row work that needs file order or I/O: heights, duplicates, account links, balances,
    sums."""

    def __init__(
        self,
        summary: Summary,
        balances: BalanceSource | None,
        accounts: AccountKeys | None,
        tolerance: Fraction,
    ) -> None:
        self.summary = summary
        self.balances = balances
        self.accounts = accounts
        self.tolerance = tolerance
        self.first_listing: dict[str, int] = {}  # "asset chain canonical-address" -> line that counted
        self.no_height: set[str] = set()  # chains with rows but no snapshot height

    def row(self, c: Checked) -> str:
        """The row's results line, after what only this process can add; counts the row."""
        status, scheme, reason = c.status, c.scheme, c.reason
        changed = False
        self.summary.messages[c.message] += 1
        if not c.asset and c.reason.startswith(UNKNOWN_COIN):
            self.summary.unknown_coins[c.coin] += 1
        chain = CHAINS.get(c.chain)
        height = self._height(c, status)
        if isinstance(height, str):  # refused: another height than the chain's for this round
            status, reason, height, changed = FAILED, _joined(status, reason, height), None, True
        elif height is not None and not c.height:
            changed = True  # the row had no height (OKX's 9-column layout): show the one used
        if status == UNSUPPORTED and c.link and self.accounts and self.accounts.covers(chain):
            # Account keys and contract owners are read at the row's snapshot height.
            status, scheme, reason = self._link(chain, c.link, height)
            changed = True
        if status == VERIFIED:
            first = self.first_listing.setdefault(f"{c.asset} {c.chain} {c.canonical}", c.line)
            if first != c.line:
                status, reason = FAILED, f"duplicate: already counted on line {first} (not counted twice)"
                changed = True
        amount = parse_amount(c.amount) if c.amount else None
        counted, balance_state, chain_balance = amount, "", ""
        if status == VERIFIED and self.balances is not None and self.balances.covers(chain):
            changed = True
            if height is None:
                balance_state, reason = "unchecked", f"no snapshot height for {c.chain} (give --height)"
            else:
                status, reason, balance_state, chain_balance, counted = self._balance(
                    c, chain, height, amount
                )
        if status == VERIFIED and counted is None and balance_state != "matched":
            changed = True
            balance_state = balance_state or "unchecked"
            reason = _joined(FAILED, reason, "counts 0: no declared amount and no balance read")
        self.summary.count(c.asset, c.chain, status, amount, counted, balance_state == "matched")
        if not changed:  # the worker's line stands (most rows: no duplicate, no source to ask)
            return c.text
        shown = c.height if height is None else str(height)
        return _result_line(c, status, scheme, reason, balance_state, chain_balance, shown)

    def _height(self, c: Checked, status: str) -> int | str | None:
        """The snapshot height used for this row: its chain's for the round, set by --height or by
        the first row on the chain; a refusal (str) when the row names another; None if unknown."""
        if not c.chain:
            return int(c.height) if c.height.isdigit() else None
        known = self.summary.heights.get(c.chain)
        if not c.height.isdigit():
            if known is None:
                self.no_height.add(c.chain)
                return None
            return known[0]
        height = int(c.height)
        if known is None:
            if status != FAILED:  # a failed row does not set its chain's height for the round
                self.summary.heights[c.chain] = (height, f"line {c.line}")
            return height
        if known[0] != height:
            return (
                f"snapshot height {height} is not {c.chain}'s height for this round, {known[0]} "
                f"(set by {known[1]})"
            )
        return height

    def _balance(
        self, c: Checked, chain: Chain, height: int, amount: Fraction | None
    ) -> tuple[str, str, str, str, Fraction | None]:
        """(status, reason, balance state, chain balance text, amount counted) from the balance source."""
        assert self.balances is not None
        try:
            on_chain = to_fraction(self.balances.balance(c.asset, chain, c.address, height))
        except SourceUnavailable as error:
            return FAILED, f"balance unavailable: {error}", "unavailable", "", amount
        except ValueError as error:  # NaN or infinity: never compared, never counted
            return FAILED, f"balance unavailable: the source answered {error}", "unavailable", "", amount
        shown = decimal_text(on_chain)
        if amount is not None and abs(on_chain - amount) > self.tolerance:
            reason = f"declared amount {c.amount} ≠ chain balance {shown} at height {height}"
            return FAILED, reason, "mismatch", shown, amount
        return VERIFIED, "", "matched", shown, on_chain  # nothing declared: the chain's balance counts

    def _link(self, chain: Chain, link: KeyLink, height: int | None) -> tuple[str, str, str]:
        assert self.accounts is not None
        account, key, scheme = link
        try:
            how = self.accounts.authority(chain, account, key, height)
        except SourceUnavailable as error:
            return FAILED, scheme, f"account permissions unavailable: {error}"
        except Rejected as error:
            return FAILED, scheme, f"signature valid for {key}, but {error}"
        return VERIFIED, f"{scheme}; {how}", ""


def _joined(status: str, reason: str, note: str) -> str:
    return f"{reason}; {note}" if status == FAILED and reason else note


def write_atomically_json(path: str | Path, document: object) -> None:
    write_atomically(Path(path), lambda handle: json.dump(document, handle, indent=2, ensure_ascii=False))


def write_summary(summary: Summary, path: str | Path, extra: dict | None = None) -> None:
    write_atomically_json(path, summary.to_json() | (extra or {}))
