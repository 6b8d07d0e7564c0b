"""Faults the `zkpor` command must survive: a full disk, a read-only or missing directory, an output
that exists, Ctrl-C, two provers on one round, a damaged batch file, a demo aimed at a real round.
Each gives one `error:` line naming the path and exit code 2 (130 for Ctrl-C), never a traceback,
and leaves nothing half-written that a later run would trust.

The full and read-only disks are real: a tmpfs mounted for the test (as root; skipped elsewhere).
One test injects ENOSPC at the atomic-write helper instead, so that path runs everywhere.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from zkpor.liabilities.round_proof import verify_round
from zkpor.round.generate import generate_round

ZKPOR = str(Path(sys.executable).parent / "zkpor")
Run = Callable[..., Any]


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def no_temporaries(directory: Path) -> None:
    assert not [p for p in directory.rglob(".*") if ".tmp" in p.name], "a temporary file was left behind"


def proven_round(tmp_path: Path, run_main: Run, users: int = 70) -> Path:
    generate_round(tmp_path / "r", users, 3)
    proved = run_main("prove", "r", "--batch-size", "32", cwd=tmp_path)
    assert proved.returncode == 0, proved.stderr
    return tmp_path / "r"


def some_uid(round_dir: Path) -> str:
    return (round_dir / "users.csv").read_text().splitlines()[3].split(",")[0]


# ---- real small filesystems ------------------------------------------------------------------------


@pytest.fixture
def full_disk(small_filesystem: Callable[..., Path]) -> Path:
    return small_filesystem("4m")


@pytest.fixture
def read_only_dir(tmp_path: Path, small_filesystem: Callable[..., Path]) -> Iterator[Path]:
    if os.geteuid() != 0:  # permissions stop anyone but root
        where = tmp_path / "read-only"
        where.mkdir(mode=0o555)
        yield where
        where.chmod(0o755)
        return
    yield small_filesystem("64k", read_only=True)


# ---- 1. private vs public ----------------------------------------------------------------------


def test_no_private_file_is_in_the_publishable_folder(
    tmp_path: Path, run_main: Run, private_config_home: Path
) -> None:
    round_dir = proven_round(tmp_path, run_main)
    secret_path = private_config_home / "zkpor/secrets/2024-06.secret"
    secret = secret_path.read_bytes()
    assert secret_path.stat().st_mode & 0o777 == 0o600 and secret_path.parent.stat().st_mode & 0o777 == 0o700
    assert (round_dir / "private").stat().st_mode & 0o777 == 0o700
    assert (round_dir / "private/inclusion.sqlite").is_file()
    assert run_main("export-user", "r", some_uid(round_dir), "-o", "r/me.json", cwd=tmp_path).returncode == 0

    users_text = (round_dir / "users.csv").read_bytes()
    uids = [line.split(b",")[0] for line in users_text.splitlines()[1:]]
    published = [p for p in (round_dir / "proof").rglob("*") if p.is_file()]
    assert {p.name for p in published} >= {"global.json", "summary.json", "00000.zkp"}
    for path in published:
        data = path.read_bytes()
        assert path.suffix not in (".sqlite", ".secret", ".csv", ".jsonl", ".lock"), path
        assert data[:16] != b"SQLite format 3\0", path
        assert secret not in data and secret.hex().encode() not in data, path
        assert not any(uid in data for uid in uids), f"{path} names a customer"
    # Nothing anywhere in the round directory holds the secret: it lives in the per-user config.
    for path in round_dir.rglob("*"):
        assert not path.is_file() or secret not in path.read_bytes(), path

    (round_dir / "proof/my.secret").write_bytes(os.urandom(32))
    os.chmod(round_dir / "proof/my.secret", 0o600)
    inside = run_main("prove", "r", "--secret", "r/proof/my.secret", cwd=tmp_path)
    assert inside.returncode == 2
    assert "r/proof/my.secret" in one_error_line(inside.stderr) and "for publishing" in inside.stderr


def test_a_round_from_before_the_split_gets_the_commands_that_move_it(
    tmp_path: Path, run_main: Run, private_config_home: Path
) -> None:
    round_dir = proven_round(tmp_path, run_main)
    default_secret = private_config_home / "zkpor/secrets/2024-06.secret"
    default_secret.rename(round_dir / "exchange.secret")
    (round_dir / "private/inclusion.sqlite").rename(round_dir / "proof/inclusion.sqlite")

    old_secret = run_main("prove", "r", "--batch-size", "32", cwd=tmp_path)
    line = one_error_line(old_secret.stderr)
    assert old_secret.returncode == 2 and f"mv r/exchange.secret {default_secret}" in line
    store = run_main("prove", "r", "--batch-size", "32", "--secret", "r/exchange.secret", cwd=tmp_path)
    assert store.returncode == 2
    assert "mv r/proof/inclusion.sqlite r/private/" in one_error_line(store.stderr)
    for command in (("export-user", "r", some_uid(round_dir)), ("verify", "r")):
        refused = run_main(*command, cwd=tmp_path)
        assert refused.returncode == 2 and "publishable proof/ folder" in one_error_line(refused.stderr)

    # Following the advice, the round carries on as before.
    (round_dir / "exchange.secret").rename(default_secret)
    (round_dir / "proof/inclusion.sqlite").rename(round_dir / "private/inclusion.sqlite")
    again = run_main("prove", "r", "--batch-size", "32", cwd=tmp_path)
    assert again.returncode == 0 and "Proved 0 batches (3 reused)" in again.stdout


# ---- 2. a full disk, a read-only or missing directory, an output that exists -------------------------


def test_a_full_disk_while_exporting_and_generating(
    tmp_path: Path, run_main: Run, full_disk: Path, fill_disk: Callable[..., Path]
) -> None:
    round_dir = proven_round(tmp_path, run_main)
    fill_disk(full_disk)
    before = sorted(os.listdir(full_disk))
    target = full_disk / "me.json"
    exported = run_main("export-user", "r", some_uid(round_dir), "-o", str(target), cwd=tmp_path)
    assert exported.returncode == 2
    assert one_error_line(exported.stderr) == (
        f"error: {target}: cannot write: no space left on device; nothing was written there"
    )
    generated = run_main("generate", "--users", "3000", str(full_disk / "new-round"), cwd=tmp_path)
    assert generated.returncode == 2
    line = one_error_line(generated.stderr)
    assert f"{full_disk}/new-round" in line and "no space left on device" in line and ".tmp" not in line
    assert sorted(os.listdir(full_disk)) == before, "nothing half-written"


@pytest.mark.slow
@pytest.mark.parametrize("room", [0, 20_000, 100_000, 235_000, 300_000])
def test_a_full_disk_while_proving_keeps_what_was_proven(
    tmp_path: Path, run_main: Run, full_disk: Path, fill_disk: Callable[..., Path], room: int
) -> None:
    """`room` bytes left: the disk fills at the lock, the store, the first or second batch file, or
    the store's commit after a batch (about 90 KB of proof each: the degree-7 gadget at blowup 8)."""
    generate_round(full_disk / "r", 150, 3)  # 5 batches of 32
    filler = fill_disk(full_disk, leave=room)
    failed = run_main("prove", "r", "--batch-size", "32", cwd=full_disk)
    assert failed.returncode == 2
    line = one_error_line(failed.stderr)
    assert line.startswith("error: r/"), line
    assert "no space left on device" in line or "database or disk is full" in line
    assert not list(full_disk.glob("r/proof/*.json"))
    no_temporaries(full_disk)

    filler.unlink()
    resumed = run_main("prove", "r", "--batch-size", "32", cwd=full_disk)
    assert resumed.returncode == 0, resumed.stderr
    if room == 235_000:
        assert "Resuming: 1 of 5 batches" in resumed.stdout, "the batch proven before the disk filled is kept"
    assert verify_round(full_disk / "r").global_proof.batch_count == 5


def test_enospc_at_the_atomic_write_helper(
    tmp_path: Path, run_main: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs everywhere (no mount needed): the disk fills up at the helper's fsync."""
    round_dir = proven_round(tmp_path, run_main)
    (tmp_path / "me.json").write_text("an older file, kept as it was")

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    exported = run_main("export-user", "r", some_uid(round_dir), "-o", "me.json", "--force", cwd=tmp_path)
    assert exported.returncode == 2
    assert one_error_line(exported.stderr) == (
        "error: me.json: cannot write: no space left on device; nothing was written there"
    )
    assert (tmp_path / "me.json").read_text() == "an older file, kept as it was"
    no_temporaries(tmp_path)


def test_a_read_only_or_missing_directory(tmp_path: Path, run_main: Run, read_only_dir: Path) -> None:
    round_dir = proven_round(tmp_path, run_main)
    uid = some_uid(round_dir)
    read_only = run_main("export-user", "r", uid, "-o", str(read_only_dir / "me.json"), cwd=tmp_path)
    assert read_only.returncode == 2
    line = one_error_line(read_only.stderr)
    assert f"{read_only_dir}/me.json: cannot write: " in line
    assert "read-only file system" in line or "permission denied" in line
    generated = run_main("generate", "--users", "10", str(read_only_dir / "r"), cwd=tmp_path)
    assert generated.returncode == 2 and f"{read_only_dir}/r" in one_error_line(generated.stderr)

    missing = run_main("export-user", "r", uid, "-o", "no-such-dir/me.json", cwd=tmp_path)
    assert missing.returncode == 2
    assert one_error_line(missing.stderr) == (
        "error: no-such-dir/me.json: cannot write: directory no-such-dir does not exist; "
        "nothing was written there"
    )


def test_an_existing_output_is_not_replaced_without_force(tmp_path: Path, run_main: Run) -> None:
    round_dir = proven_round(tmp_path, run_main)
    (tmp_path / "me.json").write_text("somebody's file")
    refused = run_main("export-user", "r", some_uid(round_dir), "-o", "me.json", cwd=tmp_path)
    assert refused.returncode == 2
    assert one_error_line(refused.stderr) == "error: me.json: already exists; pass --force to replace it"
    assert (tmp_path / "me.json").read_text() == "somebody's file"
    forced = run_main("export-user", "r", some_uid(round_dir), "-o", "me.json", "--force", cwd=tmp_path)
    assert forced.returncode == 0 and json.loads((tmp_path / "me.json").read_text())["uid"]


# ---- 3. and 4. two provers on one round, Ctrl-C, a stale lock ---------------------------------------


def _start_prove(round_dir: Path) -> subprocess.Popen[str]:
    # SIGINT back to its default: a test runner started in the background may have it ignored, and a
    # process that starts with SIGINT ignored never sees Ctrl-C.
    return subprocess.Popen(
        [ZKPOR, "prove", str(round_dir), "--batch-size", "32"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the prover ended early: {process.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_second_prove_is_refused_and_ctrl_c_keeps_the_proven_batches(tmp_path: Path) -> None:
    round_dir = tmp_path / "r"
    generate_round(round_dir, 24 * 32, 3)  # 24 batches: long enough to be interrupted part-way
    first = _start_prove(round_dir)
    try:
        _wait_for(lambda: (round_dir / "proof/batches/00000.zkp").exists(), first)
        second = subprocess.run(
            [ZKPOR, "prove", str(round_dir), "--batch-size", "32"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2
        line = one_error_line(second.stderr)
        assert f"{round_dir}/private/prove.lock: zkpor prove is already running" in line
        assert f"pid {first.pid} on host {socket.gethostname()}, since 20" in line

        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, stderr
    line = one_error_line(stderr)
    assert line.startswith("error: interrupted: ") and "of 24 batches are proven and kept" in line
    assert f"`zkpor prove {round_dir}` again to resume" in line
    kept = int(line.split("interrupted: ")[1].split(" of ")[0])
    assert 1 <= kept < 24
    assert not (round_dir / "proof/global.json").exists()
    no_temporaries(round_dir)

    resumed = subprocess.run(
        [ZKPOR, "prove", str(round_dir), "--batch-size", "32"], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming: {kept} of 24 batches are already proven" in resumed.stdout
    assert "stale lock" not in resumed.stdout, "an interrupted prove releases its lock"


def test_ctrl_c_in_another_long_command_leaves_nothing_half_written(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [ZKPOR, "generate", "--users", "5000000", str(tmp_path / "big")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        _wait_for(lambda: any(tmp_path.glob(".big.*.tmp/.users.csv.*.tmp")), process)  # writing users
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert one_error_line(stderr).startswith(
        "error: interrupted; every output is written whole or not at all"
    )
    assert list(tmp_path.iterdir()) == [], "neither the round nor its temporary directory remains"


def test_a_stale_lock_is_taken_over_with_a_notice(tmp_path: Path, run_main: Run) -> None:
    round_dir = proven_round(tmp_path, run_main)
    dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])  # a process that has ended
    dead_pid.wait()
    lock = round_dir / "private/prove.lock"
    holder = {"pid": dead_pid.pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00Z"}
    lock.write_text(json.dumps(holder))
    proved = run_main("prove", "r", "--batch-size", "32", cwd=tmp_path)
    assert proved.returncode == 0, proved.stderr
    assert (
        f"Took over a stale lock r/private/prove.lock: pid {dead_pid.pid} on host {socket.gethostname()}, "
        "since 2026-01-01T00:00:00Z is gone." in proved.stdout
    )
    assert not lock.exists(), "removed at the end"


def test_the_lock_is_removed_and_a_lock_deleted_under_a_waiter_is_not_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zkpor import fsutil
    from zkpor.fsutil import LockedError, exclusive_lock

    lock = tmp_path / "prove.lock"
    with exclusive_lock(lock, "zkpor prove") as me:
        assert json.loads(lock.read_text())["pid"] == me.pid
        with pytest.raises(LockedError, match=f"pid {me.pid} on host"), exclusive_lock(lock, "zkpor prove"):
            pass
    assert not lock.exists()

    # A process that opened the lock file just before its holder deleted it must not run beside
    # one that creates the file anew: it sees the path names another file and locks that one.
    real_flock = fsutil.fcntl.flock
    deletions: list[Path] = []

    def holder_deletes_first(descriptor: int, operation: int) -> None:
        if not deletions:
            deletions.append(lock)
            os.unlink(lock)  # the finishing holder, between our open and our flock
        real_flock(descriptor, operation)

    monkeypatch.setattr(fsutil.fcntl, "flock", holder_deletes_first)
    with exclusive_lock(lock, "zkpor prove"):
        assert len(deletions) == 1 and lock.exists(), "it locked the file created after the deletion"
        with pytest.raises(LockedError), exclusive_lock(lock, "zkpor prove"):
            pass
    assert not lock.exists()


# ---- 5. a finished batch file that changed -----------------------------------------------------------


def test_a_changed_batch_file_is_named_and_proven_again(tmp_path: Path, run_main: Run) -> None:
    round_dir = proven_round(tmp_path, run_main)
    original = (round_dir / "proof/batches/00001.zkp").read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 1
    (round_dir / "proof/batches/00001.zkp").write_bytes(bytes(damaged))
    (round_dir / "proof/batches/00002.zkp").unlink()

    resumed = run_main("prove", "r", "--batch-size", "32", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (
        "Batch 1: r/proof/batches/00001.zkp does not match the SHA-256 recorded when it was proven "
        "(changed or damaged since); proving it again." in resumed.stdout
    )
    assert "Batch 2: r/proof/batches/00002.zkp is missing; proving it again." in resumed.stdout
    assert "Proved 2 batches (1 reused)" in resumed.stdout
    assert (round_dir / "proof/batches/00001.zkp").read_bytes() != bytes(damaged)
    assert run_main("verify", "r", cwd=tmp_path).returncode == 0


# ---- 6. the demo leaves other rounds alone -------------------------------------------------------------


@pytest.mark.slow
def test_demo_refuses_a_round_it_did_not_make(tmp_path: Path, run_main: Run) -> None:
    generate_round(tmp_path / "mine", 20, 5)
    users_before = (tmp_path / "mine/users.csv").read_bytes()
    refused = run_main("demo", "mine", "--users", "40", cwd=tmp_path)
    assert refused.returncode == 2
    assert one_error_line(refused.stderr) == (
        "error: mine exists and was not made by `zkpor demo`; choose another directory, or pass --force "
        "to replace the round in it"
    )
    assert (tmp_path / "mine/users.csv").read_bytes() == users_before
    assert sorted(os.listdir(tmp_path / "mine")) == ["round.toml", "users.csv"]

    forced = run_main("demo", "mine", "--users", "40", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "mine/.zkpor-demo").is_file() and "Verified and published" in forced.stdout
    again = run_main("demo", "mine", "--users", "40", cwd=tmp_path)
    assert again.returncode == 0, "a demo directory is the demo's to replace"


# Ctrl-C while a command's libraries are imported (zkpor.console): before, the traceback of the
# import it interrupted. The process sends itself SIGINT when it starts importing the module named:
# before the CLI module (typer), while `zkpor prove` registers its commands, and in numpy's import.
_INTERRUPT_AT_IMPORT = """
import os, signal, sys

interrupted = sys.argv[1]

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == interrupted:
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["zkpor", "prove", "some-round"]
from zkpor.console import run
run()
"""


@pytest.mark.parametrize("module", ["typer", "zkpor.cli.liabilities_commands", "numpy"])
def test_ctrl_c_while_a_command_starts_is_one_line_and_exit_130(module: str) -> None:
    started = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_AT_IMPORT, module],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert started.returncode == 130, started.stderr
    assert started.stderr == "error: interrupted while starting; nothing was written\n"
    assert started.stdout == ""


def test_once_started_ctrl_c_is_the_commands_own_again() -> None:
    # SIGINT after the command's modules are imported raises KeyboardInterrupt (which the commands
    # turn into what they kept), and a process started with SIGINT ignored keeps it ignored.
    script = (
        "import signal, sys\n"
        "sys.argv = ['zkpor', 'version']\n"
        "import zkpor.console, zkpor.cli\n"
        "print(signal.getsignal(signal.SIGINT) is zkpor.console.interrupted_while_starting)\n"
        "zkpor.cli.register_commands(sys.argv[1:2]); zkpor.cli._python_handles_ctrl_c()\n"
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    )
    handled = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    assert handled.stdout.split() == ["True", "True"], handled.stderr
    ignored = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # fmt: skip
    assert ignored.stdout.split() == ["False", "False"], ignored.stderr


def test_a_real_ctrl_c_at_start_prints_no_traceback(tmp_path: Path) -> None:
    # SIGINT as soon as the console script's entry module is imported (Python reports each import
    # on stderr as it completes, -X importtime), while `zkpor prove` goes on importing typer, numpy
    # and numba: half a second or more, all after the guard.
    process = subprocess.Popen(
        [ZKPOR, "prove", str(tmp_path / "r")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.rstrip().endswith("| zkpor.console"):
            break
    else:
        raise AssertionError("zkpor.console was never imported")
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    said = [line for line in rest.splitlines() if not line.startswith("import time:")]
    assert process.returncode == 130, rest
    assert said == ["error: interrupted while starting; nothing was written"]
