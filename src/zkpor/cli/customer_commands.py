"""The customer's command, verify-user: it imports no numpy and no numba (the check is pure Python),
so it starts in a fraction of a second. Thin: the work is in `zkpor.liabilities.inclusion`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zkpor.cli.app_state import app, console
from zkpor.liabilities import inclusion


@app.command("verify-user")
def verify_user(
    proof_file: Annotated[Path, typer.Argument(metavar="PROOF", help="An inclusion proof from export-user.")],
    uid: Annotated[
        str | None, typer.Option("--uid", help="Your user id: refuse a proof made out for anyone else.")
    ] = None,
    global_json: Annotated[
        Path | None,
        typer.Option("--global", help="The round's published global.json: also check against it."),
    ] = None,
) -> None:
    """Check a customer's inclusion proof and print their balances as committed.

    Recomputes the statement digest, the leaf, the paths to the root: a matching root vouches for all shown.

    --uid refuses another customer's proof; --global also compares with the round's global.json.

    Example: zkpor verify-user alice.json --uid 8405227119 --global round-2024-06/proof/global.json
    """
    proof = inclusion.load_inclusion_proof(proof_file)
    global_proof = inclusion.load_global(global_json) if global_json else None
    check = inclusion.verify_inclusion(proof, global_proof, uid=uid)
    for line in inclusion.describe(check):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
