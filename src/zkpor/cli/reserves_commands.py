"""`zkpor reserves`: check a proof-of-assets file (address ownership and balances) and reserve ratios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zkpor.cli.app_state import app, console
from zkpor.errors import InputError
from zkpor.reserves.exact import decimal_text


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
            help="The round's proof folder (ROUND_DIR/proof or a published folder): verified, then its "
            "proven net totals give the reserve ratios.",
        ),
    ] = None,
    verified_record: Annotated[
        Path | None,
        typer.Option(
            "--verified-record",
            help="A liabilities-verification.json from an earlier run: accept --liabilities without "
            "verifying again if its files are byte for byte the ones recorded.",
        ),
    ] = None,
    min_security_bits: Annotated[
        int,
        typer.Option(
            "--min-security-bits", min=0, help="Refuse liabilities proofs with fewer conjectured bits."
        ),
    ] = 100,
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
    OUT/sums.json (verified reserves per asset and network, and reserve ratios with --liabilities,
    from a proof of liabilities that verified: OUT/liabilities-verification.json records which).

    Example: zkpor reserves por.csv --balances snapshot.csv --rpc ethereum=http://127.0.0.1:8545 --out audit
    """
    from zkpor.reserves.engine import count_rows, verify_reserves, write_atomically_json, write_summary
    from zkpor.reserves.exact import parse_amount
    from zkpor.reserves.ratios import load_liabilities, reserve_ratios

    allowed = parse_amount(tolerance)
    if allowed is None:
        raise InputError(f"--tolerance {tolerance!r}: expected a non-negative decimal number such as 0.0001")
    if verified_record is not None and liabilities is None:
        raise InputError("--verified-record needs --liabilities (the proof folder it records)")
    sources, accounts = _sources(balances, eos_accounts, rpc or [], token or [])
    owed = None
    if liabilities is not None:
        owed = load_liabilities(liabilities, record=verified_record, min_security_bits=min_security_bits)
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
    report = None
    if owed is not None:
        report = reserve_ratios(summary.verified_by_asset(), owed.net, owed.prices, owed.to_json())
        write_atomically_json(out / "liabilities-verification.json", owed.verification_record())
    write_summary(summary, out / "sums.json", {"ratios": report.to_json()} if report else None)

    table = Table(title=f"Reserves in {reserves_file.name} ({summary.layout} layout)")
    for column in ("asset", "verified", "balance-checked", "declared", "rows ok / failed / unsupported"):
        table.add_column(column, justify="right" if column != "asset" else "left")
    for asset in sorted(summary.assets):
        sums = summary.assets[asset]
        counts = sums.counts
        table.add_row(
            asset,
            decimal_text(sums.verified),
            decimal_text(sums.balance_checked),
            decimal_text(sums.declared),
            f"{counts['verified']} / {counts['failed']} / {counts['unsupported']}",
        )
    console.print(table)
    if report is not None:
        _print_ratios(report, owed)
    counts = summary.counts
    console.print(
        f"{summary.rows} rows: {counts['verified']} verified, {counts['failed']} failed, "
        f"{counts['unsupported']} unsupported. Results: {out / 'results.csv'}, sums: {out / 'sums.json'}"
    )
    if strict and counts["failed"]:
        raise typer.Exit(1)


def _print_ratios(report, owed) -> None:  # noqa: ANN001 - a RatioReport and its ProvenLiabilities
    """Ratios rounded down, below 100 % in red and marked, so 99.9999 % can never read as 100 %."""
    from zkpor.reserves.exact import percent_text, truncated_text

    ratios = Table(title=f"Reserve ratios against round {owed.round_id} (root {owed.root[:16]}…, {owed.how})")
    for column in ("asset", "reserves", "net liabilities", "ratio", "< 100 %", "reserves USD"):
        ratios.add_column(column, justify="right" if column != "asset" else "left", no_wrap=True)
    for entry in report.assets:
        usd = "unpriced" if entry.reserves_usd is None else truncated_text(entry.reserves_usd, 2)
        style = "bold red" if entry.short else None
        ratios.add_row(
            entry.asset,
            decimal_text(entry.reserves),
            decimal_text(entry.liabilities),
            entry.percent(),
            "SHORT" if entry.short else "",
            usd,
            style=style,
        )
    console.print(ratios)
    total = report.total_ratio
    console.print(
        f"total: reserves {truncated_text(report.reserves_usd, 2)} USD, liabilities "
        f"{truncated_text(report.liabilities_usd, 2)} USD"
        + (f", ratio {percent_text(total)} %" if total is not None else "")
        + (f" (below 100 %: {', '.join(report.short)})" if report.short else ""),
        highlight=False,
    )
