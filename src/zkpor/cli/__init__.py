"""The `zkpor` command: a thin layer over the library. Each command group lives in its own module.

Exit codes (README, "Exit codes"): 0 success; 2 an error — bad input or usage, a proof or figure
that does not verify, a fault such as a full disk — reported as one `error:` line on stderr;
130 interrupted (Ctrl-C), saying what was kept.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from zkpor.cli import app_state
from zkpor.errors import InterruptError, ZkporError

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
    """Entry point: usage errors are typer's; a ZkporError becomes one line on stderr and its exit
    code; an OSError nothing anticipated still becomes one line naming its file, never a traceback."""
    try:
        app()
    except ZkporError as error:
        _error(str(error))
        sys.exit(error.exit_code)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        _error(f"{where}{(error.strerror or str(error)).lower()}")
        sys.exit(2)
    except SystemExit as exit_:
        # typer turns Ctrl-C into exit code 130, silently; commands with something to resume
        # raise InterruptError (above) instead, saying what was kept.
        if exit_.code == InterruptError.exit_code:
            _error("interrupted; every output is written whole or not at all, so nothing was half-written")
        raise


def _error(message: str) -> None:
    app_state.error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
