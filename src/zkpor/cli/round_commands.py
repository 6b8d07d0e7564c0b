"""Commands on a round's inputs: generate, check, demo."""

from __future__ import annotations

import typer

from zkpor.cli.app_state import app, console


@app.command()
def version() -> None:
    """Print the zkpor version.

    Example: zkpor version
    """
    from zkpor import __version__

    console.print(f"zkpor {__version__}")
