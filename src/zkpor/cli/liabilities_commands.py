"""Commands on the proof of liabilities: prove, verify, export-user (verify-user, the customer's, is
in `customer_commands`, free of numpy and numba).

Thin: the work is in `zkpor.liabilities.round_proof` and `zkpor.liabilities.inclusion`. Typer keeps
the line breaks inside every help paragraph but the first, so each docstring paragraph after the
first is one source line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from zkpor.cli.app_state import AllowNonZk, MinProvenBits, MinSecurityBits, WithBatchProofs, app, console
from zkpor.errors import ZkporError
from zkpor.fsutil import OutputError, write_atomically
from zkpor.liabilities import inclusion
from zkpor.liabilities.distributed import BatchRunner, DaskRunner
from zkpor.liabilities.published import digest_hex
from zkpor.liabilities.round_proof import (
    PRIVATE_DIR,
    ProveReport,
    RoundVerification,
    conjectured_options,
    export_user,
    profile_options,
    prove_round,
    verify_round,
)
from zkpor.liabilities.round_tree import TOP_BATCH, TOP_NODE, RoundProofCheck, describe_stack, tree_options
from zkpor.liabilities.secret import SECRET_ENV, load_secret, secret_path_for
from zkpor.round.config import load_round_config
from zkpor.round.decimal_text import format_units_grouped
from zkpor.round.directory import ROUND_CONFIG_NAME

AGGREGATE_ENV = "ZKPOR_AGGREGATE"
RoundDir = Annotated[Path, typer.Argument(help="Round directory (round.toml, users file, proof/).")]


@app.command()
def prove(
    round_dir: RoundDir,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret",
            "--secret-file",
            envvar=SECRET_ENV,
            help="The exchange's secret (nonces, shuffle, padding), mode 0600. Default: "
            "~/.config/zkpor/secrets/ROUND_ID.secret ($XDG_CONFIG_HOME), created if missing.",
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Users per batch, a power of two. Default: from the user count, "
                     "at most 8,192, or 16,384 with the round proof."),
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            "--profile",
            help="Proof parameters: 'conjectured' (100 conjectured bits) or 'proven' (≥ 100 proven bits: "
            "about 3× the queries, so larger proofs).",
        ),
    ] = "conjectured",
    security_bits: Annotated[
        int,
        typer.Option("--security-bits", min=80, max=128, help="Conjectured bits (conjectured profile)."),
    ] = 100,
    blowup: Annotated[
        int, typer.Option("--blowup", help="FRI blowup factor, power of two ≥ 4 (conjectured profile).")
    ] = 4,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Discard batches proven by an earlier run and start over.")
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Prove batches on the workers of this Dask scheduler (tcp://HOST:PORT, tls://…).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Prove batches on a local Dask cluster of N worker processes."),
    ] = None,
    aggregate: Annotated[
        bool,
        typer.Option(
            "--aggregate/--no-aggregate",
            envvar=AGGREGATE_ENV,
            help="Fold the batch proofs into one round proof, round.zkp (the default; not with --profile "
            "proven).",
        ),
    ] = True,
    inner_zk: Annotated[
        bool,
        typer.Option(
            "--inner-zk/--no-inner-zk",
            help="Prove the round proof's inner nodes with zero knowledge (the default; every level is "
            "zero-knowledge). --no-inner-zk is cheaper, recorded in round.zkp, and refused by zkpor verify "
            "unless --allow-non-zk.",
        ),
    ] = True,
) -> None:
    """Prove a round's liabilities: one zk-STARK per batch of users, folded into one round proof.

    Writes ROUND_DIR/proof/: round.zkp, global.json, summary.json (publish these), batches/, nodes/.

    And ROUND_DIR/private/inclusion.sqlite: PRIVATE, every user's nonce and balances, for export-user.

    A killed or interrupted (Ctrl-C) run restarted on the same round skips the batches already proven.

    One prove at a time per round: a second is refused, naming the first (private/prove.lock).

    --cluster/--workers: batches go to Dask workers (they see balances, never the secret or uids).

    A user with a negative net value is refused, naming the users file and line.

    Example: zkpor prove ./round-2024-06 --profile proven
    """
    options = profile_options(profile)
    if (security_bits, blowup) != (100, 4):
        if profile != "conjectured":
            raise ZkporError(f"--security-bits and --blowup set the conjectured profile, not {profile!r}")
        options = conjectured_options(security_bits, blowup)
    if cluster is not None and workers is not None:
        raise ZkporError("give --cluster or --workers, not both")
    if aggregate and profile == "proven":
        _notice(
            "The proven profile publishes batch proofs: the round proof's tree has no proven-profile options."
        )
        aggregate = False
    secret = _secret(round_dir, secret_file)
    with _batch_runner(cluster, workers) as runner, _batch_bar("proving batches") as advance:
        report = prove_round(
            round_dir,
            secret,
            options,
            batch_size=batch_size,
            fresh=fresh,
            progress=advance,
            notice=_notice,
            runner=runner,
            aggregate=aggregate,
            tree=tree_options(options, inner_zk=inner_zk) if aggregate else None,
        )
    _print_prove_report(report)


@contextmanager
def _batch_runner(cluster: str | None, workers: int | None) -> Iterator[BatchRunner | None]:
    if cluster is None and workers is None:
        yield None
        return
    with DaskRunner(address=cluster, workers=workers) as runner:
        _notice(f"Proving batches on {runner.description}.")
        yield runner


@app.command()
def verify(
    round_dir: Annotated[
        Path, typer.Argument(help="Round directory, or the published proof folder holding global.json.")
    ],
    min_security_bits: MinSecurityBits = 100,
    min_proven_bits: MinProvenBits = 0,
    allow_non_zk: AllowNonZk = False,
    with_batch_proofs: WithBatchProofs = False,
) -> None:
    """Verify a round's proof of liabilities as an auditor: the round proof (or every batch), the totals.

    Takes the round's parameters from global.json, checked against round.toml when it is there.

    Verifies round.zkp (one proof for all batches), else every batch proof; compares summary.json.

    Round proof keys are derived from the code, never read from the folder; cached in ~/.cache/zkpor/keys.

    Prints the security level of every kind of proof (batch, inner, top) and the proof parameters.

    Refuses proofs made without zero knowledge unless --allow-non-zk.

    A published folder (ROUND_DIR/public) is first checked against its manifest.json.

    Example: zkpor verify ./round-2024-06 --min-proven-bits 100
    """
    from zkpor.round.publish import is_public_folder, verify_public_folder

    with _batch_bar("verifying batches") as advance:
        check = verify_public_folder if is_public_folder(round_dir) else verify_round
        result = check(
            round_dir,
            min_security_bits=min_security_bits,
            min_proven_bits=min_proven_bits,
            allow_non_zk=allow_non_zk,
            progress=advance,
            check_batches=True if with_batch_proofs else None,
            notice=_notice,
        )
    if is_public_folder(round_dir):
        console.print(
            f"[green]OK[/]: every file of {round_dir} matches manifest.json, and report.json states what "
            "the proof and the reserves results give.",
            highlight=False,
            soft_wrap=True,
        )
    _print_verification(result)


@app.command("export-user")
def export_user_command(
    round_dir: RoundDir,
    uid: Annotated[str, typer.Argument(help="The customer's user id.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write it ('-': standard output). Default: ./inclusion-UID.json"
        ),
    ] = None,
    allow_stale: Annotated[
        bool,
        typer.Option(
            "--allow-stale",
            help="Export even though round.toml or the users file changed since proving (the proof "
            "shows the balances as proven).",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Write one customer's inclusion proof: uid, nonce, balances, Merkle paths, root (JSON, < 2 KB).

    It carries the round statement (round, snapshot, assets, decimals, prices): the root binds them.

    Refused when round.toml or the users file changed after proving (a stale proof), unless --allow-stale.

    The customer checks it with `zkpor verify-user`, or without installing zkpor's dependencies:

    python -m zkpor.liabilities.inclusion PROOF --uid UID --global global.json

    Example: zkpor export-user ./round-2024-06 8405227119 -o alice.json
    """
    proof = export_user(round_dir, uid, allow_stale=allow_stale)
    data = proof.to_json()
    if output == Path("-"):
        typer.echo(data.decode(), nl=False)
        return
    output = output or Path(f"inclusion-{re.sub(r'[^A-Za-z0-9._-]', '_', uid)}.json")
    if output.exists() and not force:
        raise OutputError(f"{output}: already exists; pass --force to replace it")
    write_atomically(output, data)
    console.print(
        f"Wrote {output} ({len(data):,} bytes): uid {uid}, batch {proof.batch}, position {proof.position}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


# ------------------------------------------------------------------------------------ the demo
def demo_prove_and_verify(round_dir: Path, *, batch_size: int | None, step: int) -> RoundVerification:
    """`zkpor demo`'s proof part: prove the liabilities, then verify them as an auditor (two steps)."""
    console.rule(f"[bold]{step}. prove the liabilities (zk-STARK per batch, folded into one round proof)")
    secret = _secret(round_dir, None)
    with _batch_bar("proving batches") as advance:
        report = prove_round(
            round_dir, secret, batch_size=batch_size, fresh=True, progress=advance, notice=_notice
        )
    _print_prove_report(report)
    console.rule(f"[bold]{step + 1}. verify the liabilities proof, as an auditor")
    with _batch_bar("verifying batches") as advance:
        verification = verify_round(round_dir, progress=advance, notice=_notice)
    _print_verification(verification)
    return verification


def demo_customer_check(round_dir: Path, global_json: Path, *, step: int) -> str:
    """`zkpor demo`'s customer part: export one customer's inclusion proof and check it against the
    published global.json. Returns the customer's uid."""
    console.rule(f"[bold]{step}. export one customer's inclusion proof and check it")
    uid = _first_uid(round_dir)
    proof = export_user(round_dir, uid)
    proof_path = round_dir / "inclusion-demo-user.json"
    write_atomically(proof_path, proof.to_json())
    console.print(
        f"Wrote {proof_path} ({proof_path.stat().st_size:,} bytes).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    published = inclusion.load_global(global_json)
    check = inclusion.verify_inclusion(inclusion.load_inclusion_proof(proof_path), published, uid=uid)
    for line in inclusion.describe(check):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return uid


def _first_uid(round_dir: Path) -> str:
    """The uid on the users file's first data line (the demo's customer)."""
    for name in ("users.csv", "users.jsonl"):
        path = round_dir / name
        if path.is_file():
            with path.open(encoding="utf-8") as stream:
                if name.endswith(".csv"):
                    stream.readline()
                    return stream.readline().split(",", 1)[0]
                return json.loads(stream.readline())["uid"]
    raise ZkporError(f"{round_dir}: no users file")


# ------------------------------------------------------------------------------------ helpers
def _secret(round_dir: Path, secret_file: Path | None) -> bytes:
    """The round's secret: --secret / $ZKPOR_SECRET_FILE, else the per-user default, created if missing."""
    round_id = load_round_config(round_dir / ROUND_CONFIG_NAME).round_id
    path = secret_path_for(round_dir, round_id, secret_file)
    secret, created = load_secret(path, create=secret_file is None)
    if created:
        _notice(
            f"Created a new exchange secret in {path} (32 random bytes, readable only by you). Keep it: "
            "a resumed or repeated `zkpor prove` of this round needs it. Never publish it."
        )
    return secret


def _notice(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def _batch_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over batches (drawn only on a terminal); yields a (done, total) callback."""
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def _wide() -> Console:
    """Exact totals are long: off a terminal (pipes, CI logs) give them room instead of folding."""
    return console if console.is_terminal else Console(file=console.file, width=150)


def _print_prove_report(report: ProveReport) -> None:
    s = report.summary
    users_per_second = s["batch_size"] * report.batches_proven / report.seconds
    console.print(
        f"Proved {report.batches_proven} batches ({report.batches_reused} reused) in {report.seconds:.1f} s"
        + (f" ({users_per_second:,.0f} users/s)" if report.batches_proven else "")
        + f". Root [bold]{s['root']}[/]",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"{s['batch_count']} batches × {s['batch_size']} users = {s['users_rounded_up']:,} "
        "(users rounded up); "
        f"{s['security']['conjectured_bits']} bits conjectured, {s['security']['proven_bits']} bits proven "
        f"security; {s['proof_bytes']:,} bytes of {'round proof' if report.tree else 'batch proofs'}.",
        highlight=False,
        soft_wrap=True,
    )
    if report.tree and report.tree.round_proof.top == TOP_NODE:  # (one batch: prove_tree said so)
        t = report.tree
        levels = ", ".join(
            f"level {level}: {len(lengths)} program(s) of 2^{max(lengths).bit_length() - 1} rows"
            for level, lengths in sorted(t.trace_lengths.items())
        )
        console.print(
            f"Round proof {report.proof_dir}/round.zkp: {t.nodes_proven} node(s) proven among the batches "
            f"({sum(t.seconds_per_level):.1f} s of node jobs), {t.nodes_reused} reused ({levels}).",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    published = (
        "global.json, summary.json, round.zkp" if report.tree else "global.json, summary.json, batches/"
    )
    console.print(
        f"Publish {report.proof_dir}/ ({published}); keep "
        f"{report.proof_dir.parent / PRIVATE_DIR}/ and the exchange secret private.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _round_proof_timing(rp: RoundProofCheck) -> str:
    """How long the round proof's check took, its verification keys apart: deriving them is a setup
    step done once per zkpor version, statement shape and tree height (then cached)."""
    if rp.round_proof.top == TOP_BATCH:
        return f"round proof checked in {rp.seconds:.2f} s (no verification keys: a batch proof)"
    if rp.keys_built:
        keys = (f"derived now in {rp.keys_seconds:.2f} s, once per zkpor version, statement shape and "
                "tree height, and cached")  # fmt: skip
    else:
        keys = f"read from the local cache in {rp.keys_seconds:.2f} s (derived earlier on this machine)"
    return (f"round proof checked in {rp.seconds - rp.keys_seconds:.2f} s; its verification keys {keys}; "
            f"top key {rp.top_key}")  # fmt: skip


def _print_verification(result: RoundVerification) -> None:
    g = result.global_proof
    out = _wide()
    options = g.proof_options
    out.print(
        f"Round [bold]{g.round_id}[/] · {len(g.assets)} assets · {g.batch_count} batches × {g.batch_size} "
        f"users · {g.limb_bits}-bit limbs · blowup {options['blowup']}, {options['num_queries']} queries, "
        f"{options['grinding_bits']} grinding bits, FRI folding {1 << options['fri_folding_log']} to degree "
        f"{options['fri_final_degree']}, zero knowledge {'on' if options['zero_knowledge'] else 'OFF'}",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title="Proven totals", title_justify="left", show_edge=False, box=None, header_style="bold")
    for title in ("asset", "equity", "debt", "net"):
        table.add_column(title, justify="left" if title == "asset" else "right", overflow="fold")
    for asset, (equity, debt) in zip(g.assets, result.totals, strict=True):
        table.add_row(
            asset.symbol,
            format_units_grouped(equity, asset.decimals),
            format_units_grouped(debt, asset.decimals),
            format_units_grouped(equity - debt, asset.decimals),
        )
    out.print(table, highlight=False)
    parameters = "from global.json"
    if result.checked_against_round_toml:
        parameters = "checked against round.toml" + (
            " (round.toml and the users file unchanged since proving)" if result.inputs_unchanged else ""
        )
    what = f"{g.batch_count} batch proofs"
    if result.round_proof is not None:
        rp = result.round_proof
        levels = len(rp.round_proof.nodes_per_level)
        what = f"the round proof ({rp.proof_bytes:,} bytes, {levels} level(s) over {g.batch_count} batches"
        if rp.round_proof.top == TOP_BATCH:
            what = f"the round proof ({rp.proof_bytes:,} bytes: the round's one batch proof, no tree"
        what += ", and every batch proof)" if result.batches_verified else "; batch proofs not needed)"
        for line in describe_stack(rp.security, rp.round_proof.stack_options()):
            out.print(f"  security, {line}", markup=False, highlight=False, soft_wrap=True)
        out.print(f"  {_round_proof_timing(rp)}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"[green]OK[/]: {what}, the top tree (root [bold]{digest_hex(g.root)}[/]), the "
        f"totals and summary.json verified in {result.seconds:.1f} s; round statement "
        f"{digest_hex(g.statement_digest)[:16]}… (snapshot {g.snapshot_time}) {parameters}. Security: "
        f"{result.security.describe()}; {result.proof_bytes:,} bytes of proofs.",
        highlight=False,
        soft_wrap=True,
    )
    if result.inputs_not_compared:
        out.print(f"[yellow]note: {escape(result.inputs_not_compared)}[/]", highlight=False, soft_wrap=True)
