"""`zkpor reserves`: check a proof-of-assets file (address ownership and balances) and reserve ratios."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zkpor.cli.app_state import app, console
from zkpor.errors import InputError


def _sources(balances: Path | None, eos_accounts: Path | None, rpc: list[str], token: list[str]):  # noqa: ANN202
    """(balance source, account-key source) from the command line; either may be None."""
    from zkpor.reserves.accounts import CombinedAccounts, EosAccountsFile, EosAccountsRpc
    from zkpor.reserves.balances import CombinedBalances, SnapshotBalances
    from zkpor.reserves.networks import resolve_chain
    from zkpor.reserves.rpc import BitcoinCoreBalances, EvmBalances, HttpJson, JsonRpc

    sources = []
    accounts = []
    if balances is not None:
        sources.append(SnapshotBalances(balances))
    if eos_accounts is not None:
        accounts.append(EosAccountsFile(eos_accounts))
    tokens: dict[str, dict[str, tuple[str, int]]] = {}
    for spec in token:
        try:
            where, contract_and_decimals = spec.split("=", 1)
            network, asset = where.split(":", 1)
            contract, decimals = contract_and_decimals.rsplit(":", 1)
            chain = resolve_chain(network)
            if chain is None:
                raise InputError(f"--token: unknown network {network!r}")
            tokens.setdefault(chain.id, {})[asset.upper()] = (contract, int(decimals))
        except ValueError:
            raise InputError(f"--token {spec!r}: expected NETWORK:ASSET=CONTRACT:DECIMALS") from None
    for spec in rpc:
        network, sep, url = spec.partition("=")
        chain = resolve_chain(network)
        if not sep or chain is None:
            raise InputError(f"--rpc {spec!r}: expected NETWORK=URL with a known network")
        try:
            client = JsonRpc(url)
        except ValueError as error:
            raise InputError(f"--rpc {spec!r}: {error}") from None
        if chain.family == "evm":
            sources.append(
                EvmBalances(chain.id, client, chain.native, chain.decimals, tokens.get(chain.id, {}))
            )
        elif chain.family == "bitcoin":
            sources.append(BitcoinCoreBalances(chain.id, client))
        elif chain.family == "eos":
            # An EOS node answers which keys control an account (its balances come from --balances).
            accounts.append(EosAccountsRpc(HttpJson(url)))
        else:
            raise InputError(f"--rpc: balances over RPC are not supported for {chain.id} (use --balances)")
    return (
        CombinedBalances(sources) if sources else None,
        CombinedAccounts(accounts) if accounts else None,
    )


@app.command()
def reserves(
    reserves_file: Annotated[
        Path, typer.Argument(help="Reserves CSV (published 11/12-column layout or plain).")
    ],
    balances: Annotated[
        Path | None, typer.Option("--balances", help="Snapshot CSV: coin,network,height,address,balance.")
    ] = None,
    eos_accounts: Annotated[
        Path | None,
        typer.Option("--eos-accounts", help="JSON of get_account records: which keys control EOS accounts."),
    ] = None,
    rpc: Annotated[
        list[str] | None,
        typer.Option(
            "--rpc", help="NETWORK=URL of a node (EVM, Bitcoin Core; EOS for account keys); repeatable."
        ),
    ] = None,
    token: Annotated[
        list[str] | None,
        typer.Option("--token", help="NETWORK:ASSET=CONTRACT:DECIMALS of an ERC-20 for --rpc; repeatable."),
    ] = None,
    liabilities: Annotated[
        Path | None,
        typer.Option(
            "--liabilities",
            help="A proven round's proof/summary.json, or JSON "
            '{"assets": {"BTC": {"net": "1.5"}}, "prices": {...}}.',
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for results.csv and sums.json.")] = Path(
        "reserves-out"
    ),
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Processes checking rows (default: one per available core; 1 = no pool)."
        ),
    ] = None,
    tolerance: Annotated[
        str, typer.Option("--tolerance", help="Largest accepted |declared - chain balance|.")
    ] = "0",
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 if any row failed.")] = False,
) -> None:
    """Verify address ownership signatures and balances of a reserves file; sum reserves per asset.

    Writes OUT/results.csv (one line per row: verified / failed with the reason / unsupported) and
    OUT/sums.json (verified reserves per asset and network, and reserve ratios with --liabilities).

    Example: zkpor reserves por.csv --balances snapshot.csv --rpc ethereum=http://127.0.0.1:8545 --out audit
    """
    from zkpor.reserves.engine import count_rows, verify_reserves, write_summary
    from zkpor.reserves.ratios import load_liabilities, reserve_ratios

    try:
        allowed = Decimal(tolerance)
    except InvalidOperation:
        raise InputError(f"--tolerance {tolerance!r} is not a number") from None
    sources, accounts = _sources(balances, eos_accounts, rpc or [], token or [])
    owed = load_liabilities(liabilities) if liabilities is not None else None
    total = count_rows(reserves_file) if reserves_file.is_file() else 0
    with Progress(
        TextColumn("[bold]checking rows"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("rows", total=total)
        summary = verify_reserves(
            reserves_file,
            out / "results.csv",
            balances=sources,
            accounts=accounts,
            tolerance=allowed,
            workers=workers,
            on_progress=lambda rows: progress.advance(task, rows),
        )
    report = reserve_ratios(summary.verified_by_asset(), owed[0], owed[1]) if owed else None
    write_summary(summary, out / "sums.json", {"ratios": report.to_json()} if report else None)

    table = Table(title=f"Reserves in {reserves_file.name} ({summary.layout} layout)")
    for column in ("asset", "verified", "balance-checked", "declared", "rows ok / failed / unsupported"):
        table.add_column(column, justify="right" if column != "asset" else "left")
    for asset in sorted(summary.assets):
        sums = summary.assets[asset]
        counts = sums.counts
        table.add_row(
            asset,
            str(sums.verified),
            str(sums.balance_checked),
            str(sums.declared),
            f"{counts['verified']} / {counts['failed']} / {counts['unsupported']}",
        )
    console.print(table)
    if report is not None:
        ratios = Table(title="Reserve ratios")
        for column in ("asset", "reserves", "net liabilities", "ratio", "reserves USD"):
            ratios.add_column(column, justify="right" if column != "asset" else "left")
        for entry in report.assets:
            ratio = "n/a" if entry.ratio is None else f"{entry.ratio * 100:.2f} %"
            style = "bold red" if entry.short else None
            usd = "unpriced" if entry.reserves_usd is None else f"{entry.reserves_usd:,.2f}"
            ratios.add_row(entry.asset, str(entry.reserves), str(entry.liabilities), ratio, usd, style=style)
        console.print(ratios)
        total_ratio = report.total_ratio
        console.print(
            f"total: reserves {report.reserves_usd:,.2f} USD, liabilities {report.liabilities_usd:,.2f} USD"
            + (f", ratio {total_ratio * 100:.2f} %" if total_ratio is not None else "")
        )
    counts = summary.counts
    console.print(
        f"{summary.rows} rows: {counts['verified']} verified, {counts['failed']} failed, "
        f"{counts['unsupported']} unsupported. Results: {out / 'results.csv'}, sums: {out / 'sums.json'}"
    )
    if strict and counts["failed"]:
        raise typer.Exit(1)
