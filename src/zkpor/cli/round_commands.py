"""Commands on a round's inputs: generate, check (the demo is in demo_commands).

Typer keeps the line breaks inside every help paragraph but the first, so each docstring paragraph
after the first is one source line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from zkpor.cli.app_state import app, console
from zkpor.round.config import NET_VALUE_LIMIT, PRICE_WEIGHT_LIMIT, default_round_config, load_round_config
from zkpor.round.decimal_text import format_units_grouped
from zkpor.round.directory import RoundInputs, load_round_inputs
from zkpor.round.generate import generate_round
from zkpor.round.next_round import parse_snapshot_option, with_round
from zkpor.round.summary import RoundSummary, summarize


class UsersFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Round directory to create (or fill, with --force).")],
    users: Annotated[int, typer.Option("--users", "-n", min=1, help="Number of users.")] = 10_000,
    seed: Annotated[
        int, typer.Option("--seed", "-s", min=0, help="Random seed: the same seed gives the same files.")
    ] = 0,
    file_format: Annotated[
        UsersFormat, typer.Option("--format", help="Users file format.")
    ] = UsersFormat.csv,
    config_path: Annotated[
        Path | None,
        typer.Option("--config", help="round.toml to use (assets, prices); default: the 22 standard assets."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a round already in OUT_DIR.")] = False,
    round_id: Annotated[
        str | None, typer.Option("--round-id", help="Round id for round.toml (default: the config's).")
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option("--snapshot", help="Snapshot time, RFC 3339 with an offset, e.g. 2024-07-31T16:00:00Z."),
    ] = None,
) -> None:
    """Generate a synthetic exchange: round.toml and a users file.

    Heavy-tailed balances (most users small, a few whales); about 3 % of users have margin debt.

    The same seed always gives the same files. A new OUT_DIR appears complete or not at all.

    Set the round: --round-id 2024-07 --snapshot 2024-07-31T16:00:00Z (next month: `zkpor round next`).

    Example: zkpor generate --users 1000000 --seed 7 ./round-2024-06
    """
    config = load_round_config(config_path) if config_path else None
    if round_id or snapshot:
        config = with_round(
            config or default_round_config(), round_id, parse_snapshot_option(snapshot) if snapshot else None
        )
    started = time.perf_counter()
    with _progress_bar(f"writing {users:,} users", users, byte_counts=False) as advance:
        users_file = generate_round(
            out_dir,
            users,
            seed,
            config=config,
            file_format=file_format.value,
            overwrite=force,
            progress=advance,
        )
    elapsed = time.perf_counter() - started
    console.print(
        f"Wrote {out_dir / 'round.toml'} and {users_file} ({users:,} users, "
        f"{_human_size(users_file.stat().st_size)}) in {elapsed:.1f} s."
    )


@app.command()
def check(
    round_dir: Annotated[
        Path, typer.Argument(help="Round directory holding round.toml and users.csv or users.jsonl.")
    ],
) -> None:
    """Validate a round's inputs (round.toml and the users file) and print a summary.

    Shows users, per-asset totals of equity, debt and net, bounds, price weights and headroom.

    The first problem (including a user with a negative net value) is reported with file, line, field.

    Example: zkpor check ./round-2024-06
    """
    check_and_print(round_dir)


# ------------------------------------------------------------------------------------ helpers
def _human_size(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{size / 1e3:,.1f} kB"


@contextmanager
def _progress_bar(description: str, total: int, *, byte_counts: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar (only drawn on a terminal); yields a (done, total) callback."""
    columns = [TextColumn("{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if byte_counts else TextColumn("{task.percentage:>3.0f}%"))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(description, total=total)

        def advance(done: int, total_now: int) -> None:
            progress.update(task, completed=done, total=total_now)

        yield advance


def check_and_print(round_dir: Path) -> RoundInputs:
    started = time.perf_counter()
    users_files = [path for path in (round_dir / "users.csv", round_dir / "users.jsonl") if path.is_file()]
    size = users_files[0].stat().st_size if users_files else 0
    with _progress_bar("loading users", size, byte_counts=True) as advance:
        inputs = load_round_inputs(round_dir, progress=advance)
    elapsed = time.perf_counter() - started
    summary = summarize(inputs.config, inputs.users)
    _print_summary(inputs, summary, elapsed)
    return inputs


def _print_summary(inputs: RoundInputs, summary: RoundSummary, elapsed: float) -> None:
    config, users = inputs.config, inputs.users
    # Exact totals are long: off a terminal (pipes, CI logs) give them room instead of folding lines.
    out = console if console.is_terminal else Console(file=console.file, width=150)
    snapshot = config.snapshot_time.isoformat().replace("+00:00", "Z")
    out.print(
        f"Round [bold]{config.round_id}[/] · snapshot {snapshot} · {len(config.assets)} assets · "
        f"prices with {config.price_decimals} decimals",
        highlight=False,
    )
    out.print(
        f"{users.path} ({users.file_format.upper()}): [bold]{summary.n_users:,}[/] users, "
        f"{summary.users_with_debt:,} with debt · loaded and checked in {elapsed:.2f} s",
        highlight=False,
    )
    limits = Table(
        title="Assets, bounds and prices",
        title_justify="left",
        show_edge=False,
        box=None,
        header_style="bold",
    )
    for title in ("asset", "decimals", "bound", "max per user", "price USD", "weight w_j"):
        limits.add_column(title, justify="left" if title == "asset" else "right", overflow="fold")
    totals = Table(title="Totals", title_justify="left", show_edge=False, box=None, header_style="bold")
    for title in ("asset", "holders", "debtors", "equity", "debt", "net", "net USD"):
        totals.add_column(title, justify="left" if title == "asset" else "right", overflow="fold")
    for asset in summary.assets:
        limits.add_row(
            asset.symbol,
            str(asset.decimals),
            f"< 2^{asset.bits}",
            format_units_grouped(2**asset.bits - 1, asset.decimals, display_decimals=0),
            format_units_grouped(asset.price_units, config.price_decimals),
            f"{asset.weight:,}",
        )
        totals.add_row(
            asset.symbol,
            f"{asset.holders:,}",
            f"{asset.debtors:,}",
            format_units_grouped(asset.equity_total, asset.decimals),
            format_units_grouped(asset.debt_total, asset.decimals),
            format_units_grouped(asset.net_total, asset.decimals),
            format_units_grouped(asset.net_value_usd, summary.net_value_decimals, display_decimals=2),
        )
    out.print(limits, highlight=False)
    out.print(totals, highlight=False)
    total_usd = format_units_grouped(
        summary.total_net_value_usd, summary.net_value_decimals, display_decimals=2
    )
    out.print(f"Total net liabilities: [bold]{total_usd} USD[/]", highlight=False)
    out.print(
        f"No-wrap rule: every w_j < 2^40 = {PRICE_WEIGHT_LIMIT:,} "
        f"(largest ≈ 2^{summary.largest_weight_bits:.1f}); "
        f"2·Σw·(2^16−1)·2 = {summary.net_value_bound:,} < (p−1)/2 = {NET_VALUE_LIMIT:,} "
        f"({summary.headroom_bits:.1f} bits of headroom). Net values are in units of "
        f"10^-{summary.net_value_decimals} USD.",
        highlight=False,
    )
    out.print(
        f"[green]OK[/]: {inputs.directory} holds a valid round; every user's net value is ≥ 0.",
        highlight=False,
    )
