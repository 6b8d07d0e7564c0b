"""The typer app and the consoles every command module shares."""

from __future__ import annotations

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
