"""The `zkpor` command: a thin layer over the library. Each command group lives in its own module.

Exit codes (README, "Exit codes"): 0 success; 2 an error — bad input or usage, a proof or figure
that does not verify, a fault such as a full disk — reported as one `error:` line on stderr;
130 interrupted (Ctrl-C), saying what was kept.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

# typer 0.29 vendors click; its usage errors are these classes, not an installed click's.
from typer._click import exceptions as click

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
    """Entry point: a usage error (a missing argument, a value out of range, an unknown option) or a
    ZkporError becomes one `error:` line on stderr and its exit code; an OSError nothing anticipated
    still becomes one line naming its file, never a traceback."""
    try:
        # Not standalone, so that click's usage errors reach us instead of typer's multi-line box.
        code = app(prog_name="zkpor", standalone_mode=False)
    except click.NoArgsIsHelpError as usage:  # `zkpor round`: its help, printed as it was made
        sys.exit(usage.exit_code)
    except click.UsageError as usage:  # BadParameter, MissingParameter, NoSuchOption, ...
        _error(_usage_line(usage))
        sys.exit(2)
    except click.ClickException as other:
        _error(" ".join(other.format_message().split()))
        sys.exit(other.exit_code)
    except typer.Abort:
        _error("aborted")
        sys.exit(1)
    except ZkporError as error:
        _error(str(error))
        sys.exit(error.exit_code)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        _error(f"{where}{(error.strerror or str(error)).lower()}")
        sys.exit(2)
    # Not standalone, typer.Exit (--help, --strict, Ctrl-C as 130) comes back as its exit code.
    if code == InterruptError.exit_code:
        # Commands with something to resume raise InterruptError (above) instead, saying what was kept.
        _error("interrupted; every output is written whole or not at all, so nothing was half-written")
    if isinstance(code, int) and code:
        sys.exit(code)


def _usage_line(usage: click.UsageError) -> str:
    """`zkpor verify: Missing argument 'ROUND_DIR'. (see zkpor verify --help)` on one line."""
    command = usage.ctx.command_path if usage.ctx is not None else "zkpor"
    message = " ".join(usage.format_message().split())
    return f"{command}: {message} (see {command} --help)"


def _error(message: str) -> None:
    app_state.error_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
