"""The `zkpor` console script's entry point: Ctrl-C while a command starts is one line, exit 130.

A command starts by importing its libraries (typer for every command; numpy and numba for `prove`
and `verify`: half a second or more). Ctrl-C in that time would print the traceback of whichever
import it interrupted. So from the moment the console script imports this module until the
command's modules are imported (`zkpor.cli.run`, which then puts Python's handler back), SIGINT
prints the line below and ends the process with the exit code of any other interruption (130).
Nothing has been written by then, so nothing is half-written. A process started with SIGINT
ignored (a background job) keeps it ignored.
"""

from __future__ import annotations

import os
import signal

from zkpor.errors import INTERRUPTED_WHILE_STARTING, InterruptError


def interrupted_while_starting(signum: int, frame: object) -> None:
    """SIGINT's handler until the command's modules are imported."""
    os.write(2, f"error: {INTERRUPTED_WHILE_STARTING}\n".encode())
    os._exit(InterruptError.exit_code)


# At import, not in `run`: the console script imports this module, then calls `run`, and Ctrl-C
# between the two would otherwise still raise KeyboardInterrupt there.
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, interrupted_while_starting)


def run() -> None:
    from zkpor import cli

    cli.run()
