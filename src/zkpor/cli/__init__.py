"""The `zkpor` command: a thin layer over the library. Each command group lives in its own module."""

from __future__ import annotations

import sys

from zkpor.cli import app_state
from zkpor.errors import ZkporError

app = app_state.app

# Importing the command modules registers their commands on `app`.
from zkpor.cli import (  # noqa: E402,F401
    history_commands,
    liabilities_commands,
    publish_commands,
    reserves_commands,
    round_commands,
    serve_commands,
)


def main() -> None:
    """Entry point: usage errors are typer's; a ZkporError becomes one line on stderr and exit code 2."""
    try:
        app()
    except ZkporError as error:
        app_state.error_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(2)
