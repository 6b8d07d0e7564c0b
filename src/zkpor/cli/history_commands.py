"""`zkpor history`: the rounds recorded in the history store, and one round's figures and growth."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from zkpor.cli.app_state import app, console
from zkpor.errors import ZkporError
from zkpor.report.render import grouped, percent, signed_percent
from zkpor.round.history import DEFAULT_FILENAME, Growth, HistoryStore, relative_change
from zkpor.round.report_model import consecutive_rounds, monthly_gaps

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="ZKPOR_HISTORY_DB",
        help="History database: a SQLite file path, or a URL such as postgresql://user@host/db. "
        f"Default: {DEFAULT_FILENAME} in the current directory, the parent of the round directories.",
    ),
]


@app.command()
def history(
    round_id: Annotated[
        str | None, typer.Argument(metavar="ROUND_ID", help="Show this round's per-asset figures and growth.")
    ] = None,
    db: DbOption = DEFAULT_FILENAME,
) -> None:
    """List the recorded rounds, or show one round per asset with growth vs last month and last year.

    Example: zkpor history --db rounds/history.sqlite 2025-06
    """
    with HistoryStore.open(db, create=False) as store:
        if round_id is None:
            _print_rounds(store)
        else:
            _print_round(store, round_id)


def _print_rounds(store: HistoryStore) -> None:
    records = store.list_rounds()
    if not records:
        console.print(f"No rounds recorded in {store.url} yet.")
        return
    # Few rules and few columns (status is in `zkpor history ROUND`), so that realistic figures (tens of
    # billions of USD, tens of millions of users) fit 80 columns.
    table = Table(title=f"Rounds in {store.url} (amounts in USD)", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Round", overflow="fold")
    table.add_column("Snapshot")
    # fold, not the default ellipsis: a money column must never hide digits on a narrow terminal.
    for heading in ("Users", "Reserves", "vs prev.", "Liabilities", "vs prev.", "Ratio"):
        table.add_column(heading, justify="right", overflow="fold")
    previous = None
    for record in records:
        missing = monthly_gaps([previous.snapshot_time, record.snapshot_time]) if previous else []
        if missing:
            span = missing[0] if len(missing) == 1 else f"{missing[0]}…{missing[-1]} ({len(missing)} months)"
            table.add_row("[yellow]—[/]", f"[yellow]no round: {span}[/]", *[""] * 6)
        table.add_row(
            record.round_id,
            f"{record.snapshot_time:%Y-%m-%d}",
            f"{record.user_count:,}",
            grouped(record.total_reserves_usd),
            _change(previous.total_reserves_usd if previous else None, record.total_reserves_usd),
            grouped(record.total_liabilities_usd),
            _change(previous.total_liabilities_usd if previous else None, record.total_liabilities_usd),
            _percent(record.reserve_ratio),
        )
        previous = record
    out = console if console.is_terminal else Console(file=console.file, width=150)
    out.print(table)
    gaps = monthly_gaps([record.snapshot_time for record in records])
    streak = consecutive_rounds([record.snapshot_time for record in records])
    console.print(
        f"{len(records)} rounds; the last {streak} consecutive monthly"
        + (f"; no round for {', '.join(gaps)}." if gaps else "; no gaps."),
        highlight=False,
    )


def _change(earlier: Decimal | None, now: Decimal) -> str:
    return "—" if earlier is None else _signed_percent(relative_change(earlier, now))


def _print_round(store: HistoryStore, round_id: str) -> None:
    record = store.get_round(round_id)
    if record is None:
        raise ZkporError(f"round {round_id!r} is not in the history database {store.url}")
    growth = store.growth(round_id)

    headline = Table.grid(padding=(0, 2))
    headline.add_column(style="bold")
    headline.add_column(overflow="fold")
    rows = [
        ("Round", f"{record.round_id} ({record.status})"),
        ("Snapshot", f"{record.snapshot_time:%Y-%m-%d %H:%M} UTC"),
        ("Users", f"{record.user_count:,}"),
        ("Proof", f"{record.proof_size_bytes:,} bytes, {record.security_bits} bits of security"),
        ("Liabilities root", record.liabilities_root),
        ("Liabilities", f"{record.total_liabilities_usd:,.2f} USD"),
        ("Reserves", f"{record.total_reserves_usd:,.2f} USD"),
        ("Reserve ratio", _percent(record.reserve_ratio)),
        ("USD growth, month", _growth(growth.usd_vs_previous)),
        ("USD growth, year", _growth(growth.usd_vs_year_earlier)),
    ]
    if record.report_sha256:
        rows.append(("Report SHA-256", record.report_sha256))
    for label, value in rows:
        headline.add_row(label, value)
    console.print(headline, highlight=False)

    figures = Table(title="Per asset (amounts in whole coins)")
    figures.add_column("Asset")
    for heading in ("Price USD", "Net liabilities", "Reserves", "Ratio"):
        figures.add_column(heading, justify="right", overflow="fold")
    for asset in record.assets:
        figures.add_row(
            asset.symbol,
            f"{asset.price_usd:,}",
            _coins(asset.net_liabilities, asset.decimals),
            _coins(asset.verified_reserves, asset.decimals),
            _percent(asset.reserve_ratio),
        )
    console.print(figures)

    # In coin terms, so a price move alone shows no growth.
    changes = Table(title="Growth in coin terms: liabilities / reserves")
    changes.add_column("Asset")
    changes.add_column("vs previous round", justify="right")
    changes.add_column("vs a year earlier", justify="right")
    for asset in growth.assets:
        changes.add_row(asset.symbol, _growth(asset.vs_previous), _growth(asset.vs_year_earlier))
    console.print(changes)


def _coins(base_units: int, decimals: int) -> str:
    # Exact: scaling a Decimal by a power of ten never rounds. Trailing zeros only add width.
    text = f"{Decimal(base_units).scaleb(-decimals):,}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(ratio: Decimal | None) -> str:
    # Cut, never rounded up: a ratio of 0.99999 is "99.99 %", not "100.00 %".
    return "—" if ratio is None else percent(str(ratio))


def _signed_percent(change: Decimal | None) -> str:
    return "n/a" if change is None else signed_percent(str(change))


def _growth(growth: Growth | None) -> str:
    """`+4.10 % / +3.90 % (2025-05)`: liabilities, reserves, and the round compared against."""
    if growth is None:
        return "—"
    return (
        f"{_signed_percent(growth.liabilities)} / {_signed_percent(growth.reserves)}"
        f" ({growth.earlier_round_id})"
    )
