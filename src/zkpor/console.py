"""The `zkpor` console script's entry point: nothing is imported before Ctrl-C is handled.

A command starts by importing its libraries (typer for every command; numpy and numba for `prove`
and `verify`: half a second or more). Ctrl-C in that time would otherwise print the traceback of
whichever import it interrupted. Here, and in `zkpor.cli.run` while the command's modules are
imported, it ends as Ctrl-C does at any other time: one `error:` line and exit code 130. Nothing
has been written yet, so nothing is half-written.
"""

from __future__ import annotations

import sys

from zkpor.errors import InterruptError

INTERRUPTED_WHILE_STARTING = "interrupted while starting; nothing was written"


def run() -> None:
    try:
        from zkpor import cli
    except KeyboardInterrupt:
        # rich (the CLI's console) may be half-imported: a plain line, as `_error` would print it.
        sys.stderr.write(f"error: {INTERRUPTED_WHILE_STARTING}\n")
        sys.exit(InterruptError.exit_code)
    cli.run()
