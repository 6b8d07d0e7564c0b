"""Errors a user can act on. The CLI prints them as one clear message, never as a traceback."""

from __future__ import annotations

from pathlib import Path


class ZkporError(Exception):
    """Base class: anything raised as a ZkporError is reported to the user as its message."""

    exit_code = 2  # the `zkpor` command's exit code for it (README, "Exit codes")


class InputError(ZkporError):
    """Bad input, located as precisely as we can: file, line (1-based) and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path if line is None else f"{self.path}:{line}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


def not_utf8_error(path: str | Path) -> InputError:
    """An error "not UTF-8 text" at the line of the first byte that is not UTF-8 (a text reader decodes
    ahead in blocks, so the line it had reached may be earlier)."""
    raw = Path(path).read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return InputError("not UTF-8 text", path=path, line=raw.count(b"\n", 0, error.start) + 1)
    return InputError("not UTF-8 text", path=path)


class VerificationError(ZkporError):
    """A proof, a signature or a published figure did not check out; the message says which."""


# What Ctrl-C while a command imports its libraries says (zkpor.console).
INTERRUPTED_WHILE_STARTING = "interrupted while starting; nothing was written"


class InterruptError(ZkporError):
    """Ctrl-C during a long command; the message says what was kept and how to resume."""

    exit_code = 130  # the shell's convention for a process ended by SIGINT (128 + 2)
