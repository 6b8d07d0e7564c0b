"""Checking a whole reserves file: stream the rows, verify signatures on all cores, look up balances,
catch duplicates, and write the per-row results and per-asset sums atomically.

Signature checks run in a process pool (`imap`, order kept); duplicates, balances and the sums are
done in this process, in file order, so "the first listing of an address counts" is well defined.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from zkpor.reserves.balances import BalanceSource, BalanceUnavailable, parse_amount
from zkpor.reserves.networks import asset_symbol, canonical_address, resolve_chain
from zkpor.reserves.outcome import FAILED, UNSUPPORTED, VERIFIED
from zkpor.reserves.rows import ReserveRow, open_reserves
from zkpor.reserves.schemes import check_row, check_tuple

RESULT_COLUMNS = [
    "line",
    "coin",
    "asset",
    "network",
    "address",
    "amount",
    "status",
    "scheme",
    "balance",
    "chain_balance",
    "reason",
]


@dataclass
class AssetSums:
    verified: Decimal = Decimal(0)  # reserves that count: ownership proven, balance not contradicted
    balance_checked: Decimal = Decimal(0)  # the part of `verified` whose balance matched a chain source
    declared: Decimal = Decimal(0)  # everything listed, whatever its status
    networks: dict[str, Decimal] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {VERIFIED: 0, FAILED: 0, UNSUPPORTED: 0})

    def to_json(self) -> dict:
        return {
            "verified": str(self.verified),
            "balance_checked": str(self.balance_checked),
            "declared": str(self.declared),
            "networks": {k: str(v) for k, v in sorted(self.networks.items())},
            "rows": self.counts,
        }


@dataclass
class Summary:
    source: str
    layout: str
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {VERIFIED: 0, FAILED: 0, UNSUPPORTED: 0})
    assets: dict[str, AssetSums] = field(default_factory=dict)
    declared_totals: dict[str, tuple[str, str]] = field(default_factory=dict)

    def verified_by_asset(self) -> dict[str, Decimal]:
        return {asset: sums.verified for asset, sums in self.assets.items()}

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "layout": self.layout,
            "rows": self.rows,
            "status": self.counts,
            "assets": {asset: self.assets[asset].to_json() for asset in sorted(self.assets)},
            "published_totals": {
                coin: {"height": h, "amount": a} for coin, (h, a) in self.declared_totals.items()
            },
        }


def write_atomically(path: Path, write: Callable[[object], None]) -> None:
    """Write through a temporary file in the same directory, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def count_rows(path: str | Path) -> int:
    """A quick upper bound on the number of rows, for the progress bar."""
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _checked(
    rows: Iterator[ReserveRow], workers: int
) -> Iterator[tuple[ReserveRow, tuple[int, str, str, str]]]:
    if workers <= 1:
        for row in rows:
            yield row, check_row(row)
        return
    # The pool reads rows ahead of the results it hands back (in order), so rows wait here meanwhile.
    pending: deque[ReserveRow] = deque()

    def feed() -> Iterator[tuple[str | int, ...]]:
        for row in rows:
            pending.append(row)
            yield tuple(row)  # a plain tuple pickles faster than the named one

    # spawn, not fork: the caller may have threads (progress bars) whose locks a fork would copy.
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        for verdict in pool.imap(check_tuple, feed(), chunksize=256):
            row = pending.popleft()
            assert row.line == verdict[0], "imap keeps order"
            yield row, verdict


def verify_reserves(
    path: str | Path,
    results_path: str | Path,
    *,
    balances: BalanceSource | None = None,
    tolerance: Decimal = Decimal(0),
    workers: int | None = None,
    on_row: Callable[[str], None] | None = None,
) -> Summary:
    """Check every row of the reserves file at `path`; write per-row results to `results_path`."""
    info, rows = open_reserves(path)
    summary = Summary(str(path), info.layout, declared_totals=dict(info.declared_totals))
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    first_listing: dict[tuple[str, str, str], int] = {}
    results_path = Path(results_path)

    def write(handle: object) -> None:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        for row, (_, status, scheme, reason) in _checked(rows, workers):
            record = _finish(row, status, scheme, reason, balances, tolerance, first_listing, summary)
            writer.writerow(record)
            if on_row is not None:
                on_row(record[6])

    write_atomically(results_path, write)
    return summary


def _finish(row, status, scheme, reason, balances, tolerance, first_listing, summary):  # noqa: ANN001, ANN202, PLR0913
    """Apply the checks that need file order or I/O (amount, duplicates, balance), then count the row."""
    summary.rows += 1
    chain = resolve_chain(row.network, row.coin) if not row.problem else None
    asset = asset_symbol(row.coin) if row.coin else ""
    amount = parse_amount(row.amount)
    balance_state, chain_balance = "", ""
    if status != FAILED or not row.problem:
        if amount is None and not row.problem:
            status, reason = FAILED, f"amount {row.amount!r} is not a non-negative decimal number"
        elif not row.height.isdigit() and not row.problem:
            status, reason = FAILED, f"snapshot height {row.height!r} is not a block number"
    if chain is not None and row.address:
        key = (asset, chain.id, canonical_address(chain, row.address))
        if key in first_listing:
            note = f"duplicate: already listed on line {first_listing[key]} (not counted twice)"
            status, reason = FAILED, (f"{reason}; {note}" if status == FAILED and reason else note)
        else:
            first_listing[key] = row.line
    counted = amount
    if status == VERIFIED:
        if balances is not None and balances.covers(chain):
            try:
                on_chain = balances.balance(asset, chain, row.address, int(row.height))
            except BalanceUnavailable as error:
                status, reason, balance_state = FAILED, f"balance unavailable: {error}", "unavailable"
            else:
                chain_balance = str(on_chain)
                if abs(on_chain - amount) > tolerance:
                    status, balance_state = FAILED, "mismatch"
                    reason = f"declared amount {row.amount} ≠ chain balance {on_chain} at height {row.height}"
                else:
                    balance_state, counted = "matched", on_chain
        else:
            balance_state = "unchecked"
            where = chain.id if chain else row.network
            reason = reason or f"balance not checked (no snapshot file or RPC for {where})"
    summary.counts[status] += 1
    if asset:
        sums = summary.assets.setdefault(asset, AssetSums())
        sums.counts[status] += 1
        if amount is not None:
            sums.declared += amount
        if status == VERIFIED:
            sums.verified += counted
            network = chain.id if chain else row.network
            sums.networks[network] = sums.networks.get(network, Decimal(0)) + counted
            if balance_state == "matched":
                sums.balance_checked += counted
    return [
        row.line,
        row.coin,
        asset,
        chain.id if chain else row.network,
        row.address,
        row.amount,
        status,
        scheme,
        balance_state,
        chain_balance,
        reason,
    ]


def write_summary(summary: Summary, path: str | Path, extra: dict | None = None) -> None:
    document = summary.to_json() | (extra or {})
    write_atomically(Path(path), lambda handle: json.dump(document, handle, indent=2, ensure_ascii=False))
