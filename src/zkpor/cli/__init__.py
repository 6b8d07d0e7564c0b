"""The `zkpor` command: a thin layer over the library. Each command group lives in its own module.

Exit codes (README, "Exit codes"): 0 success; 2 an error — bad input or usage, a proof or figure
that does not verify, a fault such as a full disk — reported as one `error:` line on stderr;
130 interrupted (Ctrl-C), saying what was kept.
"""

from __future__ import annotations

import gc
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

# typer 0.29 vendors click; its usage errors are these classes, not an installed click's.
from typer._click import exceptions as click
from typer.main import get_command_name
from typer.models import CommandInfo

from zkpor.cli import app_state
from zkpor.errors import InterruptError, ZkporError

if TYPE_CHECKING:
    from zkpor.field.jit import Preloader

# The module defining each command, in the order `zkpor --help` lists them. Importing a module
# registers its commands on the app, so `zkpor CMD` imports only CMD's module and what it needs:
# `zkpor verify-user` loads no numpy or numba, `zkpor prove` no SQL, report or reserves libraries.
COMMAND_MODULES = {
    "history": "history_commands",
    "prove": "liabilities_commands",
    "verify": "liabilities_commands",
    "export-user": "liabilities_commands",
    "verify-user": "customer_commands",
    "publish": "publish_commands",
    "demo": "publish_commands",
    "reserves": "reserves_commands",
    "version": "version_command",
    "generate": "round_commands",
    "check": "round_commands",
    "serve": "serve_commands",
    "round": "publish_commands",
}


# Commands whose first proof or verification loads kernels from numba's cache: a thread loads them
# while the command parses its options and reads its inputs (`run`; zkpor.round.preloaded_kernels).
PRELOADED_KERNELS = {"prove": "prove_kernels", "verify": "verify_kernels"}


def register_commands(argv: Sequence[str] = ()) -> typer.Typer:
    """The app with the command `argv` starts with registered, or with every command when argv names
    none (`zkpor`, `zkpor --help`, a mistyped name: the help and the error list them all)."""
    name = argv[0] if argv else None
    modules = [COMMAND_MODULES[name]] if name in COMMAND_MODULES else dict.fromkeys(COMMAND_MODULES.values())
    for module in modules:
        importlib.import_module(f"zkpor.cli.{module}")
    app = app_state.app
    # In `zkpor --help`'s order whichever module was imported first (tests import several).
    app.registered_commands.sort(key=_help_position)
    return app


def _help_position(info: CommandInfo) -> int:
    assert info.callback is not None
    name = info.name or get_command_name(info.callback.__name__)
    order = list(COMMAND_MODULES)
    return order.index(name) if name in order else len(order)  # a command missing from the table: last


def __getattr__(name: str) -> typer.Typer:
    """`from zkpor.cli import app`: the app with every command registered."""
    if name == "app":
        return register_commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    """The `zkpor` console script: `main()` in a process of its own, which ends when it returns."""
    # The command's modules (numba's alone are hundreds of thousands of objects) live as long as
    # the process: no collection while they are imported (it would find no garbage: ~0.05 CPU-s),
    # then frozen, so the garbage collector no longer traverses them on every full collection, and
    # on the way out it does not collect everything one object at a time (0.2-0.3 CPU-s after a
    # proof, more than the imports): the OS frees the memory at once.
    gc.disable()
    try:
        register_commands(sys.argv[1:2])
    finally:
        gc.freeze()
        gc.enable()
    _python_handles_ctrl_c()
    preloader = _start_preloading(sys.argv[1:2])
    try:
        main()
    finally:
        gc.freeze()
        # Before the process ends: the loader's thread stops after the kernel it is loading.
        failure = preloader.stop() if preloader is not None else None
        if failure is not None:
            _warning(f"loading a kernel from numba's cache in the background failed: {failure}")


def _python_handles_ctrl_c() -> None:
    """Ctrl-C raises KeyboardInterrupt again, which the commands turn into what they kept, once the
    command's modules are imported: until then `zkpor.console`'s handler ends the process."""
    console = sys.modules.get("zkpor.console")
    if console is not None and signal.getsignal(signal.SIGINT) is console.interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _start_preloading(argv: Sequence[str]) -> Preloader | None:
    """A `zkpor.field.jit.Preloader` of the command's kernels, or None for a command without."""
    function = PRELOADED_KERNELS.get(argv[0]) if argv else None
    if function is None:
        return None
    from zkpor.field.jit import Preloader
    from zkpor.round import preloaded_kernels

    return Preloader(getattr(preloaded_kernels, function)())


def main() -> None:
    """Entry point: a usage error (a missing argument, a value out of range, an unknown option) or a
    ZkporError becomes one `error:` line on stderr and its exit code; an OSError nothing anticipated
    still becomes one line naming its file, never a traceback."""
    app = register_commands(sys.argv[1:2])
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
    _stderr_line("[bold red]error:[/]", message)


def _warning(message: str) -> None:
    _stderr_line("[bold yellow]warning:[/]", message)


def _stderr_line(label: str, message: str) -> None:
    app_state.error_console.print(f"{label} {escape(message)}", highlight=False, soft_wrap=True)
