"""Shared fixtures: `run_main` (the `zkpor` command in this process), and a real PostgreSQL server,
started once per test session from Debian's packages.

`postgres_url` is the SQLAlchemy URL of the server's `postgres` database as a superuser (trust auth,
listening only on 127.0.0.1 and a socket in the server's temporary directory). Tests that need a
clean database create their own on it. When the server binaries are not installed the tests using
it are skipped, with the reason; `scripts/setup.sh --test` (and so CI) installs them.
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from zkpor.cli import main


@pytest.fixture(scope="session", autouse=True)
def session_config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A ~/.config for the whole session (where exchange secrets go by default), never the real one:
    session- and module-scoped fixtures that prove rounds keep their secrets here."""
    home = tmp_path_factory.mktemp("session-config-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(home))
        patch.delenv("ZKPOR_SECRET_FILE", raising=False)
        # Derived round-proof verification keys: one cache for the session, never the user's.
        patch.setenv("ZKPOR_KEY_CACHE", str(tmp_path_factory.mktemp("key-cache")))
        # `zkpor prove` folds batches into a round proof by default; the tests of other things prove
        # batch proofs only (seconds instead of a minute a round). Round-proof tests ask for it, and
        # `zkpor demo` (tests/publish) always aggregates.
        patch.setenv("ZKPOR_AGGREGATE", "0")
        yield home


@pytest.fixture(autouse=True)
def private_config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own ~/.config, so a secret one test creates is not another's."""
    home = tmp_path_factory.mktemp("config-home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """A factory of real small filesystems, `small_filesystem("4m", read_only=False)`: tmpfs mounts,
    so only as root; the test is skipped where mounting is not permitted."""
    mounted: list[Path] = []

    def mount(size: str, *, read_only: bool = False) -> Path:
        where = tmp_path / f"filesystem-{len(mounted)}"
        where.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.decode().strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill_disk(directory: Path, leave: int = 0) -> Path:
    """Fill the filesystem holding `directory` with one file, then free `leave` bytes of it again."""
    filler = directory / "filler"
    # Unbuffered: a write the disk takes only part of leaves nothing for close() to fail on.
    with filler.open("wb", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 65536)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.fixture
def fill_disk() -> Callable[..., Path]:
    """`fill_disk(directory, leave=0)`: fill its filesystem; returns the filler file."""
    return _fill_disk


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``main()`` in this process, as `zkpor ARGS...` run in ``cwd``: the same code path minus the fork."""

    def run(*args: str, cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["zkpor", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


SUPERUSER = "zkpor"


def _postgres_bin_dir() -> Path | None:
    """The newest installed server's bin dir: Debian puts them in /usr/lib/postgresql/<major>/bin."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    found = [d for d in found if (d / "initdb").exists() and (d.parent.name.isdigit())]
    return max(found, key=lambda d: int(d.parent.name)) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(run scripts/setup.sh --test as root, or apt-get install postgresql)"
        )
    # PostgreSQL refuses to run as root: then run it as the 'postgres' user the Debian package creates.
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
        as_user = ["runuser", "-u", "postgres", "--"]

    # Not pytest's tmp_path: that sits under a root-only directory the postgres user cannot enter.
    base = Path(tempfile.mkdtemp(prefix="zkpor-pg-"))
    data, log = base / "data", base / "server.log"
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)

    def run(*args: str) -> None:
        # cwd=base: the postgres user may not be allowed into the directory pytest was started from.
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True, cwd=base)

    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        port = _free_port()
        # Durability is pointless for a throw-away server; turning it off makes DDL-heavy tests fast.
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"
        )
    except subprocess.CalledProcessError as error:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {error.cmd}\n{error.stdout}\n{error.stderr}\n{server_log}")

    try:
        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres"
    finally:
        # Immediate: nothing on this server needs to survive, and it skips the shutdown checkpoint.
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd=base,
        )
        shutil.rmtree(base, ignore_errors=True)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root in a sandbox with no network: no sandbox, no GPU, and none of Chromium's background
# connections (they would be refused here and slow every start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian Chromium for the session, driven by Playwright (sync API).

    Tests open their own pages with ``browser.new_page()`` (or a context) and close them. Skipped,
    with the reason, where Chromium or Playwright is missing (`scripts/setup.sh --test` installs both).
    """
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh --test installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (scripts/setup.sh --test installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
