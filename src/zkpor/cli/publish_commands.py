"""Commands that publish a month: `zkpor publish`, `zkpor round next`, and `zkpor demo`, which runs a
whole round on generated data. Thin: the work is in `zkpor.round.publish`, `zkpor.round.next_round`,
`zkpor.round.demo_reserves` and the commands of the other modules.

Typer keeps the line breaks inside every help paragraph but the first, so each docstring paragraph
after the first is one source line.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from zkpor.cli.app_state import AllowNonZk, MinProvenBits, MinSecurityBits, WithBatchProofs, app, console
from zkpor.errors import InputError
from zkpor.fsutil import make_directory, write_atomically
from zkpor.liabilities.secret import SECRET_ENV
from zkpor.round.history import HistoryStore, default_history_path
from zkpor.round.publish import PUBLIC_DIR, RESERVES_DIR, PublishResult, publish_round

DEMO_USERS = 2_000
DEMO_SEED = 2024
DEMO_MARKER = ".zkpor-demo"  # a directory the demo made, and may therefore replace
DEMO_BATCH = 512

round_app = typer.Typer(help="Start a round from the last one.", no_args_is_help=True)
app.add_typer(round_app, name="round")


@app.command()
def publish(
    round_dir: Annotated[Path, typer.Argument(help="A proven round with its reserves results.")],
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="ZKPOR_HISTORY_DB",
            help="History database (SQLite path or URL). Default: history.sqlite in ROUND_DIR's parent.",
        ),
    ] = None,
    reserves_dir: Annotated[
        Path | None,
        typer.Option("--reserves", help=f"`zkpor reserves --out` folder. Default: ROUND_DIR/{RESERVES_DIR}."),
    ] = None,
    min_security_bits: MinSecurityBits = 100,
    min_proven_bits: MinProvenBits = 0,
    allow_non_zk: AllowNonZk = False,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret",
            envvar=SECRET_ENV,
            help="Where the exchange's secret lives, if not at its default: it is never read, only "
            "refused as a public file.",
        ),
    ] = None,
    with_batch_proofs: WithBatchProofs = False,
) -> None:
    """Verify a round as an auditor would, write ROUND_DIR/public/ and record it in the history store.

    public/ gets the liabilities proof (round.zkp, global.json, summary.json), reserves results, report.

    Batch proofs are not needed to verify the round proof: --with-batch-proofs publishes them as an extra.

    manifest.json lists every public file with its SHA-256 and size. Nothing private is published.

    The reserves results must come from `zkpor reserves --liabilities ROUND_DIR/proof`, this round's proof.

    A round is published and recorded once. Check the result with `zkpor verify ROUND_DIR/public`.

    Example: zkpor publish ./round-2024-06
    """
    started = time.perf_counter()
    result = publish_round(
        round_dir,
        history_db=db,
        reserves_dir=reserves_dir,
        min_security_bits=min_security_bits,
        min_proven_bits=min_proven_bits,
        allow_non_zk=allow_non_zk,
        secret_file=secret_file,
        with_batch_proofs=with_batch_proofs,
        notice=lambda message: console.print(message, markup=False, highlight=False, soft_wrap=True),
    )
    _print_published(result, time.perf_counter() - started)


@round_app.command("next")
def round_next(
    previous_dir: Annotated[Path, typer.Argument(help="Last month's round directory.")],
    new_dir: Annotated[Path, typer.Argument(help="The new round's directory (created).")],
    round_id: Annotated[
        str | None, typer.Option("--round-id", help="Default: the next month of a YYYY-MM round id.")
    ] = None,
    snapshot: Annotated[
        str | None,
        typer.Option("--snapshot", help="RFC 3339 time. Default: the same point of the next month."),
    ] = None,
    price: Annotated[
        list[str] | None, typer.Option("--price", help="SYMBOL=USD, a new price; repeatable.")
    ] = None,
    users: Annotated[
        Path | None, typer.Option("--users", help="This month's users.csv or users.jsonl, copied in.")
    ] = None,
) -> None:
    """Start next month's round: NEW_DIR/round.toml from the last one's, with a new id, snapshot and prices.

    Assets, decimals and bounds carry over; nothing needs editing by hand.

    Example: zkpor round next rounds/2024-06 rounds/2024-07 --price BTC=64000 --users exports/users.csv
    """
    from zkpor.round.next_round import parse_snapshot_option, start_next_round

    prices = {}
    for spec in price or []:
        symbol, sep, value = spec.partition("=")
        if not sep:
            raise InputError(f"--price {spec!r}: expected SYMBOL=USD, e.g. BTC=64000")
        prices[symbol.strip()] = value.strip()
    config = start_next_round(
        previous_dir,
        new_dir,
        round_id=round_id,
        snapshot_time=parse_snapshot_option(snapshot) if snapshot else None,
        prices=prices,
        users_file=users,
    )
    snapshot_text = config.snapshot_time.isoformat().replace("+00:00", "Z")
    console.print(
        f"Wrote {new_dir / 'round.toml'}: round {config.round_id}, snapshot {snapshot_text}, "
        f"{len(config.assets)} assets." + ("" if users else f" Add this month's users file to {new_dir}."),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to put the demo round.")] = Path("demo-round"),
    round_id: Annotated[
        str, typer.Option("--round", help="Round id (YYYY-MM: the snapshot is that month's last day).")
    ] = "2024-06",
    users: Annotated[int, typer.Option("--users", "-n", min=1, help="Number of users.")] = DEMO_USERS,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="ZKPOR_HISTORY_DB",
            help="History database. Default: history.sqlite beside DIRECTORY.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Use DIRECTORY even if it holds a round the demo did not make.")
    ] = False,
) -> None:
    """Run a whole round on generated data, from users and wallets to the published report.

    Generates users, and reserve wallets on several chains (real keys, signatures, a balance snapshot).

    Proves and verifies the liabilities, checks the reserves against the verified proof, and publishes.

    Ends by checking one customer's inclusion proof against the published root.

    Demos in sibling directories share one history store (three --round values: a 3-round history).

    Replaces an earlier demo in the same directory (and its history row); any other round only with --force.

    Example: zkpor demo demos/2024-06 --round 2024-06
    """
    from zkpor.cli.liabilities_commands import demo_customer_check, demo_prove_and_verify
    from zkpor.cli.round_commands import check_and_print
    from zkpor.round.demo_reserves import demo_growth, demo_message, demo_round_config, write_demo_reserves
    from zkpor.round.generate import generate_round
    from zkpor.round.reserves_results import check_round_reserves

    started = time.perf_counter()
    if db is None:  # the default store sits beside DIRECTORY: its parent must exist before it opens
        make_directory(Path(directory).resolve().parent)
    history = db or str(default_history_path(directory))
    with HistoryStore.open(history) as store:  # one it cannot use fails now, not after proving
        _clear_earlier_demo(directory, round_id, store, force=force)

    console.rule("[bold]1. generate a synthetic exchange")
    config = demo_round_config(round_id)
    generate_round(
        directory, users, DEMO_SEED, config=config, overwrite=True, usd_scale=demo_growth(round_id)
    )
    write_atomically(directory / DEMO_MARKER, b"made by `zkpor demo`; the next demo here replaces it\n")
    console.print(
        f"Wrote {directory}/round.toml and users.csv ({users:,} users, round {round_id}).", highlight=False
    )
    console.rule("[bold]2. check the round's inputs")
    check_and_print(directory)
    # Batches of 512 keep the demo to seconds and still show several batches under the top tree.
    verification = demo_prove_and_verify(
        directory, batch_size=DEMO_BATCH if users > DEMO_BATCH else None, step=3
    )

    console.rule("[bold]5. reserve wallets on several chains (real keys, signatures, balances)")
    g = verification.global_proof
    owed = {a.symbol: (e - d, a.decimals) for a, (e, d) in zip(g.assets, verification.totals, strict=True)}
    reserves_csv, balances_csv = write_demo_reserves(directory / "wallets", round_id, owed, DEMO_SEED)
    console.print(f"Wrote {reserves_csv} (address rows with signatures) and {balances_csv}.", highlight=False)
    console.rule("[bold]6. check the reserves against the verified liabilities proof")
    reserves = check_round_reserves(
        reserves_csv,
        balances_csv,
        verification.proof_dir,
        directory / RESERVES_DIR,
        message=demo_message(round_id),
    )
    counts = {s: sum(c.counts[s] for c in reserves.chains) for s in ("verified", "failed", "unsupported")}
    console.print(
        f"{reserves.rows} address rows on {len(reserves.chains)} networks: {counts['verified']} verified, "
        f"{counts['failed']} failed (a signature by the wrong key, planted to show a rejection), "
        f"{counts['unsupported']} unsupported. Results in {directory / RESERVES_DIR}.",
        highlight=False,
        soft_wrap=True,
    )

    console.rule("[bold]7. publish: verify everything again, write public/, record the round")
    result = publish_round(
        directory,
        history_db=history,
        notice=lambda message: console.print(message, markup=False, highlight=False, soft_wrap=True),
    )
    _print_published(result, None)
    uid = demo_customer_check(directory, result.public_dir / "global.json", step=8)

    with HistoryStore.open(history, create=False) as store:
        rounds = store.list_rounds()
    console.rule("[bold green]verified and published")
    console.print(_summary_table(result, uid, len(rounds), time.perf_counter() - started))
    console.print(
        f"[bold green]Verified and published[/]: round {round_id}. "
        f"Report: [bold]{result.public_dir / 'report.html'}[/]",
        highlight=False,
        soft_wrap=True,
    )


def _clear_earlier_demo(directory: Path, round_id: str, store: HistoryStore, *, force: bool) -> None:
    """Remove what an earlier demo left in `directory`, and its row in the history store. Anything
    else there is refused unless `force` (and then its history row is left alone)."""
    if not directory.exists():
        return
    # Older demos left no marker but did leave their customer's proof file.
    made_by_demo = (directory / DEMO_MARKER).is_file() or (directory / "inclusion-demo-user.json").is_file()
    if any(directory.iterdir()) and not made_by_demo and not force:
        raise InputError(
            f"{directory} exists and was not made by `zkpor demo`; choose another directory, or pass "
            "--force to replace the round in it"
        )
    earlier = None
    config_path = directory / "round.toml"
    if made_by_demo and config_path.is_file():
        from zkpor.round.config import load_round_config

        earlier = load_round_config(config_path).round_id
    for name in (PUBLIC_DIR, RESERVES_DIR, "proof", "wallets"):
        shutil.rmtree(directory / name, ignore_errors=True)
    for old in {earlier, round_id} - {None}:
        if store.delete_round(old):  # type: ignore[arg-type]
            console.print(f"Replacing the earlier demo round {old} in the history store.", highlight=False)


def _print_published(result: PublishResult, seconds: float | None) -> None:
    from zkpor.report.render import percent, usd

    r = result.report
    totals, proof = r["totals"], r["proof"]
    console.print(
        f"[green]OK[/]: liabilities proof verified ({proof['conjectured_security_bits']}-bit conjectured, "
        f"{proof['proven_security_bits']}-bit proven), reserves bound to root {proof['root'][:16]}…; "
        f"reserve ratio [bold]{percent(totals['ratio'])}[/] ({usd(totals['reserves_usd'])} reserves, "
        f"{usd(totals['liabilities_usd'])} net liabilities).",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"Wrote {result.public_dir}/ ({len(result.files)} files listed in manifest.json)"
        + (f" in {seconds:.1f} s" if seconds is not None else "")
        + f" and recorded round {r['round_id']} in {result.history_url}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _summary_table(result: PublishResult, uid: str, history_rounds: int, seconds: float) -> Table:
    from zkpor.report.render import percent, usd

    r = result.report
    proof, totals = r["proof"], r["totals"]
    chains = r["addresses"]["chains"]
    table = Table(box=box.SIMPLE_HEAD, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows = [
        ("Round", f"{r['round_id']} (snapshot {r['snapshot_time']})"),
        ("Liabilities root", proof["root"]),
        ("Accounts", f"{proof['users_rounded_up']:,} (rounded up), {proof['batch_count']} batch proofs"),
        (
            "Security",
            f"{proof['conjectured_security_bits']} bits conjectured, {proof['proven_security_bits']} proven",
        ),
        ("Proof size", f"{proof['proof_bytes']:,} bytes"),
        ("Reserves", f"{usd(totals['reserves_usd'])} on {len(chains)} networks"),
        ("Net liabilities", usd(totals["liabilities_usd"])),
        ("Reserve ratio", percent(totals["ratio"])),
        (
            "Address rows",
            f"{sum(c['verified'] for c in chains)} verified, {sum(c['failed'] for c in chains)} failed, "
            f"{sum(c['unsupported'] for c in chains)} unsupported",
        ),
        ("Customer check", f"{uid}: included under the published root"),
        ("History", f"{history_rounds} round(s) in {result.history_url}"),
        ("Report", f"{result.public_dir / 'report.html'} (and report.pdf)"),
        ("Customer page", f"{result.public_dir / 'verify.html'}: open inclusion-demo-user.json in it"),
        ("Time", f"{seconds:.1f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table
