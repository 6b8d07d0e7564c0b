"""`zkpor reserves`: check a proof-of-assets file (address ownership and balances) and reserve ratios."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zkpor.cli.app_state import AllowNonZk, MinProvenBits, MinSecurityBits, app, console, error_console
from zkpor.errors import InputError
from zkpor.reserves.exact import decimal_text


def _sources(  # noqa: ANN202
    balances: Path | None,
    eos_accounts: Path | None,
    rpc: list[str],
    token: list[str],
    coins,  # noqa: ANN001
    owners: Path | None = None,
):
    """(balance source, account-key source, the --rpc nodes as (network, node, family)) from the
    command line; either source may be None."""
    from zkpor.reserves.accounts import CombinedAccounts, EosAccountsFile, EosAccountsRpc
    from zkpor.reserves.balances import CombinedBalances, SnapshotBalances
    from zkpor.reserves.networks import resolve_chain
    from zkpor.reserves.owners import OwnersFile, SafeOwnersRpc
    from zkpor.reserves.rpc import BitcoinCoreBalances, EvmBalances, HttpJson, JsonRpc

    sources = []
    accounts = []
    nodes = []
    if balances is not None:
        sources.append(SnapshotBalances(balances, coins))
    if eos_accounts is not None:
        accounts.append(EosAccountsFile(eos_accounts))
    if owners is not None:
        accounts.append(OwnersFile(owners))
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
        if chain.family in ("evm", "bitcoin", "eos"):
            nodes.append((chain.id, client, chain.family))
        if chain.family == "evm":
            sources.append(
                EvmBalances(chain.id, client, chain.native, chain.decimals, tokens.get(chain.id, {}))
            )
            accounts.append(SafeOwnersRpc(chain.id, client))  # contract wallets' owners at the snapshot
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
        nodes,
    )


@app.command()
def reserves(
    reserves_file: Annotated[
        Path, typer.Argument(help="Reserves CSV (OKX's 9-, 11- or 12-column layouts, or plain).")
    ],
    balances: Annotated[
        Path | None, typer.Option("--balances", help="Snapshot CSV: coin,network,height,address,balance.")
    ] = None,
    eos_accounts: Annotated[
        Path | None,
        typer.Option("--eos-accounts", help="JSON of get_account records: which keys control EOS accounts."),
    ] = None,
    owners: Annotated[
        Path | None,
        typer.Option(
            "--owners",
            help="JSON of owner records at the snapshot (validators, restaking, contract wallets, "
            "rotated Aptos keys): who may sign for an address that cannot sign.",
        ),
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
    min_security_bits: MinSecurityBits = 100,
    min_proven_bits: MinProvenBits = 0,
    allow_non_zk: AllowNonZk = False,
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
    round_dir: Annotated[
        Path | None,
        typer.Option(
            "--round", help="Round directory whose reserves.toml gives the message, heights and coin maps."
        ),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option("--message", help="The round's message: rows signing another fail as possible replays."),
    ] = None,
    height: Annotated[
        list[str] | None,
        typer.Option("--height", help="CHAIN=HEIGHT: the round's snapshot height on a chain; repeatable."),
    ] = None,
    asset_map: Annotated[
        list[Path] | None,
        typer.Option("--asset-map", help="TOML file of coin names extending the shipped map; repeatable."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (for machines) instead of tables.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 if any row failed.")] = False,
) -> None:
    """Verify address ownership signatures and balances of a reserves file; sum reserves per asset.

    Writes OUT/results.csv (one line per row: verified / failed with the reason / unsupported) and
    OUT/sums.json (verified reserves per asset and network, and reserve ratios with --liabilities,
    from a proof of liabilities that verified: OUT/liabilities-verification.json records which).

    Example: zkpor reserves por.csv --message "I am an OKX address" --height ethereum=20914735
    --balances snapshot.csv --rpc ethereum=http://127.0.0.1:8545 --liabilities round/proof --out audit
    """
    from zkpor.reserves.audit import RESULTS_NAME, SUMS_NAME, audit_reserves
    from zkpor.reserves.coins import coin_map
    from zkpor.reserves.config import ReservesConfig, load_reserves_config
    from zkpor.reserves.engine import count_rows
    from zkpor.reserves.exact import parse_amount
    from zkpor.reserves.ratios import Requirements, load_liabilities
    from zkpor.reserves.rpc import why_node_silent

    allowed = parse_amount(tolerance)
    if allowed is None:
        raise InputError(f"--tolerance {tolerance!r}: expected a non-negative decimal number such as 0.0001")
    if verified_record is not None and liabilities is None:
        raise InputError("--verified-record needs --liabilities (the proof folder it records)")
    settings = load_reserves_config(round_dir) if round_dir is not None else ReservesConfig()
    message = message if message is not None else settings.message
    heights = settings.heights | _heights(height or [])
    maps = [*settings.asset_maps, *(asset_map or [])]
    coins = coin_map(tuple(str(path.resolve()) for path in maps))
    sources, accounts, nodes = _sources(balances, eos_accounts, rpc or [], token or [], coins, owners)
    for network, node, family in nodes:  # before the check, so it is seen even if the table scrolls
        silent = why_node_silent(node, family)
        if silent:
            error_console.print(
                f"[bold yellow]warning:[/] --rpc {network}={node.url}: {escape(silent)}; the rows this node "
                "checks will end failed or unsupported",
                highlight=False,
                soft_wrap=True,
            )
    owed = None
    if liabilities is not None:
        requirements = Requirements(min_security_bits, min_proven_bits, allow_non_zk)
        owed = load_liabilities(liabilities, requirements, record=verified_record)
    total = count_rows(reserves_file) if reserves_file.is_file() else 0
    with Progress(
        TextColumn("[bold]checking rows"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("rows", total=total)
        audit = audit_reserves(
            reserves_file,
            out,
            liabilities=owed,
            balances=sources,
            accounts=accounts,
            tolerance=allowed,
            message=message,
            heights=heights,
            coin_maps=coins.files,
            workers=workers,
            on_progress=lambda rows: progress.advance(task, rows),
        )
    summary, report = audit.summary, audit.ratios
    if as_json:
        document = audit.document() | {"results": str(out / RESULTS_NAME)}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_summary(summary, reserves_file.name)
        if report is not None:
            _print_ratios(report, owed)
            unchecked = sorted(
                a for a, sums in summary.assets.items() if sums.balance_checked != sums.verified
            )
            if unchecked:
                console.print(
                    f"[yellow]note: the reserves of {', '.join(unchecked)} include declared amounts no "
                    "balance source confirmed (see the balance column of results.csv)[/]",
                    highlight=False,
                )
        counts = summary.counts
        console.print(
            f"{summary.rows} rows: {counts['verified']} verified, {counts['failed']} failed, "
            f"{counts['unsupported']} unsupported. Results: {out / RESULTS_NAME}, sums: {out / SUMS_NAME}",
            highlight=False,
        )
    if strict and summary.counts["failed"]:
        raise typer.Exit(1)


def _heights(specs: list[str]) -> dict[str, int]:
    """--height CHAIN=HEIGHT options as {chain id: height}."""
    from zkpor.reserves.networks import resolve_chain

    heights: dict[str, int] = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        chain = resolve_chain(name)
        if chain is None or not value.strip().isdigit():
            raise InputError(
                f"--height {spec!r}: expected CHAIN=HEIGHT with a known network and a block number"
            )
        if heights.get(chain.id, int(value)) != int(value):
            raise InputError(f"--height: two heights for {chain.id}")
        heights[chain.id] = int(value)
    return heights


def _print_summary(summary, source: str) -> None:  # noqa: ANN001 - a tally.Summary
    """One screen: sums per asset and chain with the chain's height, then what needs attention."""
    table = Table(title=f"Reserves in {source} ({summary.layout} layout)", show_edge=False)
    for column in ("asset", "network", "height", "verified", "declared", "ok / failed / unsupp."):
        table.add_column(column, justify="left" if column in ("asset", "network") else "right")
    for asset in sorted(summary.assets):
        sums = summary.assets[asset]
        rows = [(chain, sums.networks[chain]) for chain in sorted(sums.networks)]
        if len(rows) != 1:
            rows.append(("all", sums))
        for chain, part in rows:
            counts = part.counts
            table.add_row(
                asset,
                chain or "(unknown)",
                str(summary.heights[chain][0]) if chain in summary.heights else "",
                decimal_text(part.verified),
                decimal_text(part.declared),
                f"{counts['verified']} / {counts['failed']} / {counts['unsupported']}",
                style="bold" if chain == "all" else None,
            )
    console.print(table)
    for entry in summary.reconciliation:
        where = f"totals line {entry['line']} ({entry['coin']})"
        if "problem" in entry:
            console.print(f"[yellow]{where}: {entry['problem']}[/]", highlight=False)
        elif not entry["agrees"] or "height_differs" in entry:
            note = f"; height: {entry['height_differs']}" if "height_differs" in entry else ""
            console.print(
                f"[yellow]{where}: published {entry['published']}, rows verified {entry['rows_verified']}, "
                f"difference {entry['difference']}{note}[/]",
                highlight=False,
            )
    if summary.expected_message is None:
        seen = summary.messages.most_common(5)
        more = f" and {len(summary.messages) - len(seen)} more" if len(summary.messages) > len(seen) else ""
        listed = ", ".join(f"{m!r} ({n} rows)" for m, n in seen)
        console.print(f"messages signed (no --message given): {listed}{more}", highlight=False)
    for notice in summary.notices:
        console.print(f"[yellow]note: {notice}[/]", highlight=False)


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
