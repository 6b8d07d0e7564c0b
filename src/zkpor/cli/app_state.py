"""The typer app and the consoles every command module shares."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="zkpor",
    help="Zero-knowledge Proof of Reserves: prove liabilities, verify reserves, publish a report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Rich colours only when writing to a terminal (and honours NO_COLOR).
console = Console()
error_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """zkpor: zero-knowledge Proof of Reserves. Run `zkpor demo` for a whole round on generated data."""


# Options every command that verifies a liabilities proof takes (verify, reserves, publish).
MinSecurityBits = Annotated[
    int,
    typer.Option("--min-security-bits", min=0, help="Refuse liabilities proofs with fewer conjectured bits."),
]
MinProvenBits = Annotated[
    int, typer.Option("--min-proven-bits", min=0, help="Refuse liabilities proofs with fewer proven bits.")
]
AllowNonZk = Annotated[
    bool,
    typer.Option(
        "--allow-non-zk", help="Accept a liabilities proof without zero knowledge (it leaks balances)."
    ),
]
WithBatchProofs = Annotated[
    bool,
    typer.Option(
        "--with-batch-proofs",
        help="Also verify (publish: also publish) the batch proofs; the round proof alone proves the round.",
    ),
]
