"""Files that are never half-written, faults reported as one line, and a lock naming its holder.

Every output zkpor writes goes through `atomic_output`: the data goes to a temporary file in the
target's directory, is fsynced, and is renamed over the target (`os.replace`, atomic on POSIX), so
a reader sees the old file or the new one, never a torn one. A fault on the way (a full disk, a
read-only or missing directory, Ctrl-C) removes the temporary file and leaves the target as it was;
an OSError becomes one `OutputError` naming the path.

Cross-cutting like `zkpor.errors`: every layer may use it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from zkpor.errors import ZkporError


class OutputError(ZkporError):
    """An output could not be written (disk full, no permission, missing directory, already there)."""


_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def output_error(path: str | Path, error: OSError, what: str = "cannot write") -> OutputError:
    """One line naming the path and what went wrong, and that nothing was left half-written."""
    path = Path(path)
    if error.errno == errno.ENOENT and not path.parent.is_dir():
        reason = f"directory {path.parent} does not exist"
    else:
        reason = _REASONS.get(error.errno or 0) or (error.strerror or str(error)).lower()
    return OutputError(f"{path}: {what}: {reason}; nothing was written there")


@contextlib.contextmanager
def atomic_output(path: str | Path, *, replace: bool = True, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A temporary file next to `path`; on success it becomes `path`, on any error it vanishes.

    `replace=False` refuses an existing `path` (checked first, and again race-free at the end).
    `mode` 0o600 makes a private file: it is never readable by others, not even for a moment.
    """
    path = Path(path)
    if not replace and path.exists():
        raise OutputError(f"{path}: already exists; not replaced")
    try:
        descriptor, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise output_error(path, error) from None
    temporary = Path(temporary_name)
    try:
        os.chmod(temporary, mode)  # mkstemp makes it 0600
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if `path` appeared meanwhile; never clobbers
            temporary.unlink()
        _fsync_directory(path.parent)
    except FileExistsError:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"{path}: already exists; not replaced") from None
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.filename not in (None, temporary_name, str(path)):
            raise  # about another file (an input read while writing): not this output's fault
        raise output_error(path, error) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_text_output(path: str | Path, *, replace: bool = True) -> Iterator[TextIO]:
    """`atomic_output` as UTF-8 text, line ends as written."""
    with atomic_output(path, replace=replace) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        yield text
        text.flush()
        text.detach()  # leave closing (and the fsync before it) to atomic_output


def write_atomically(path: str | Path, data: bytes, *, replace: bool = True, mode: int = 0o644) -> None:
    """Write `data` to `path` atomically (see `atomic_output`)."""
    with atomic_output(path, replace=replace, mode=mode) as stream:
        stream.write(data)


def copy_atomically(source: str | Path, target: str | Path, *, replace: bool = True) -> None:
    """Copy `source` to `target` atomically (see `atomic_output`); a fault names `target`."""
    try:
        reading = open(source, "rb")  # noqa: SIM115 — closed below, after the copy
    except OSError as error:
        raise output_error(source, error, "cannot read") from None
    with reading, atomic_output(target, replace=replace) as stream:
        shutil.copyfileobj(reading, stream, 1 << 20)


def renamed_in_message(error: OutputError, temporary: Path, final: Path) -> OutputError:
    """An error about a file in a directory built under a temporary name, told with the final name."""
    return OutputError(str(error).replace(str(temporary), str(final)))


def make_directory(path: str | Path, *, mode: int = 0o777) -> Path:
    """`mkdir -p`, with a fault reported as an `OutputError` naming the directory."""
    path = Path(path)
    try:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path}: exists and is not a directory") from None
    except OSError as error:
        raise output_error(path, error, "cannot create the directory") from None
    return path


def remove_stale_temporaries(directory: Path) -> None:
    """`atomic_output` leaves `.NAME.*.tmp` behind only when the process was killed mid-write."""
    for path in directory.glob(".*.tmp"):
        path.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a power cut after this keeps the new file)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# ---- a lock naming its holder ------------------------------------------------------------------


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    started: str  # RFC 3339, UTC

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host}, since {self.started}"


class LockedError(ZkporError):
    """Another process holds the lock."""


@contextlib.contextmanager
def exclusive_lock(
    path: Path, what: str, notice: Callable[[str], None] | None = None
) -> Iterator[LockHolder]:
    """Hold `path` exclusively for this process, or raise `LockedError` naming the holder.

    The kernel's `flock` does the excluding, so a holder that dies (even by SIGKILL or a power cut)
    releases it; the file's text says who holds it. Text left behind by such a holder is a stale
    lock: it is taken over, with a notice naming the process that is gone. A holder that finishes
    deletes the file (while still holding it); a process that locked the file just before it was
    deleted sees that the path no longer names its file and starts over with the new one.
    """
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise output_error(path, error, "cannot create the lock") from None
        stream = os.fdopen(descriptor, "r+b", buffering=0)  # unbuffered: no late flush to fail
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(stream)
            stream.close()
            who = holder.describe() if holder else "a process that has not yet written its name"
            raise LockedError(f"{path}: {what} is already running ({who}); wait for it to end") from None
        except OSError as error:  # a filesystem without locks (some network mounts)
            stream.close()
            raise output_error(path, error, "cannot lock") from None
        if _names_same_file(path, stream):
            break
        stream.close()  # the holder deleted it as we locked it: lock the file now at `path`
    with stream:
        previous = _read_holder(stream)
        if previous is not None and notice is not None:
            notice(f"Took over a stale lock {path}: {previous.describe()} is gone.")
        me = LockHolder(os.getpid(), socket.gethostname(), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        try:
            try:
                _write_holder(stream, json.dumps(me.__dict__).encode())
            except OSError as error:
                raise output_error(path, error, "cannot write the lock") from None
            yield me
        finally:
            # Deleted while still locked; if deleting fails, emptied (an empty lock is not stale).
            try:
                path.unlink()
            except OSError:
                with contextlib.suppress(OSError):
                    _write_holder(stream, b"")


def _names_same_file(path: Path, stream: BinaryIO) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(stream.fileno())
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def _read_holder(stream: BinaryIO) -> LockHolder | None:
    stream.seek(0)
    text = stream.read(4096)
    try:
        fields = json.loads(text)
        return LockHolder(int(fields["pid"]), str(fields["host"]), str(fields["started"]))
    except (ValueError, KeyError, TypeError):
        return None


def _write_holder(stream: BinaryIO, data: bytes) -> None:
    stream.seek(0)
    stream.truncate()
    stream.write(data)
    stream.flush()
    os.fsync(stream.fileno())
