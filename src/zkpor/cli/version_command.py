"""`zkpor version`: in a module of its own, so that printing the version imports no numpy or numba
(as part of `round_commands` it loaded both, ~0.5 CPU-s)."""

from __future__ import annotations

from zkpor.cli.app_state import app, console


@app.command()
def version() -> None:
    """Print the zkpor version.

    Example: zkpor version
    """
    from zkpor import __version__

    console.print(f"zkpor {__version__}")
