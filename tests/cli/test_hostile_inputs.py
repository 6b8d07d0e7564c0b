"""Hostile inputs to every command: a missing path, a directory where a file belongs, an empty or
truncated file, bytes that are not UTF-8. Each is one `error:` line naming the file, exit code 2,
never a traceback. (Faults while writing are tests/cli/test_faults.py's.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]

NOT_UTF8 = b"\xff\xfe\x00\x80 not text"


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """A folder of bad inputs: `dir/` (a directory), `empty`, `not-utf8`, `truncated.json`, and round
    folders whose round.toml or users file is one of those."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "not-utf8").write_bytes(NOT_UTF8)
    (tmp_path / "truncated.json").write_text('{"format": "zkpor-inclusion-v2", "round_id": ')
    (tmp_path / "bad.toml").write_text("round_id = [\n")
    for name, toml, users in [
        ("round-toml-dir", None, b"uid\n"),
        ("round-toml-not-utf8", NOT_UTF8, b"uid\n"),
        ("round-toml-malformed", b"round_id = [\n", b"uid\n"),
        ("users-empty", b'round_id = "r"\n', b""),
        ("users-not-utf8", b'round_id = "r"\n', NOT_UTF8),
    ]:
        folder = tmp_path / name
        folder.mkdir()
        if toml is None:
            (folder / "round.toml").mkdir()
        else:
            (folder / "round.toml").write_bytes(toml)
        (folder / "users.csv").write_bytes(users)
    (tmp_path / "reserves.csv").write_text("coin,address,message,signature\nBTC,1abc,hello,xyz\n")
    return tmp_path


ROUND_DIRS = ["missing", "dir", "empty", "not-utf8", "round-toml-dir", "round-toml-not-utf8",
              "round-toml-malformed", "users-empty", "users-not-utf8"]  # fmt: skip
FILES = ["missing", "dir", "empty", "not-utf8", "truncated.json", "bad.toml"]


def refused(result: Any, names: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert names in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("where", ROUND_DIRS)
@pytest.mark.parametrize(
    "command",
    [["check"], ["prove", "--secret", "secret"], ["verify"], ["export-user", "{}", "7"], ["publish"],
     ["round", "next", "{}", "next-round"], ["serve", "--port", "0"]],
    ids=lambda c: c[0] if c[0] != "round" else "round-next",
)  # fmt: skip
def test_a_bad_round_directory(bad: Path, run_main: Run, command: list[str], where: str) -> None:
    (bad / "secret").write_bytes(bytes(32))
    (bad / "secret").chmod(0o600)
    args = [a.replace("{}", where) for a in command]
    if "{}" not in command:
        args.insert(len(command) if command[0] in ("check", "verify", "publish") else 1, where)
    refused(run_main(*args, "--db", str(bad / "h.sqlite"), cwd=bad) if command == ["publish"] else
            run_main(*args, cwd=bad), where)  # fmt: skip


@pytest.mark.parametrize("what", FILES)
def test_a_bad_inclusion_proof(bad: Path, run_main: Run, what: str) -> None:
    refused(run_main("verify-user", what, cwd=bad), what)


@pytest.mark.parametrize("what", FILES)
@pytest.mark.parametrize("option", ["--balances", "--eos-accounts", "--owners", "--asset-map", "--round"])
def test_a_bad_reserves_input(bad: Path, run_main: Run, option: str, what: str) -> None:
    refused(run_main("reserves", what, cwd=bad), what)
    if what == "empty" and option in ("--owners", "--asset-map", "--round"):  # no owners/names/settings
        return
    refused(run_main("reserves", "reserves.csv", option, what, cwd=bad), what)


def test_a_balances_file_with_bad_bytes_after_a_good_line_names_the_line(bad: Path, run_main: Run) -> None:
    (bad / "balances.csv").write_bytes(b"coin,network,height,address,balance\n" + NOT_UTF8 + b"\n")
    result = run_main("reserves", "reserves.csv", "--balances", "balances.csv", cwd=bad)
    assert refused(result, "balances.csv") == "error: balances.csv:2: not UTF-8 text"


@pytest.mark.parametrize("what", ["dir", "not-utf8", "bad.toml", "missing", "empty"])
def test_a_bad_history_database_or_generate_config(bad: Path, run_main: Run, what: str) -> None:
    refused(run_main("history", "--db", what, cwd=bad), what)  # reading: an empty file is left empty
    assert not (bad / what).is_file() or (bad / what).stat().st_size < 100
    refused(run_main("generate", "--users", "5", "out", "--config", what, cwd=bad), what)
    assert not (bad / "out").exists()


def test_a_history_database_that_is_another_small_file_is_refused_not_overwritten(
    bad: Path, run_main: Run
) -> None:
    (bad / "typo").write_bytes(b"x")  # SQLite itself would turn a file this short into a database
    line = refused(run_main("history", "--db", "typo", cwd=bad), "typo")
    assert "is not a SQLite database" in line and (bad / "typo").read_bytes() == b"x"


def test_a_proven_round_whose_round_toml_became_a_directory(tmp_path: Path, run_main: Run) -> None:
    """Not taken for a published folder (which has no round.toml), where verify would skip the
    round's own checks and publish would go ahead."""
    from zkpor.round.generate import generate_round

    generate_round(tmp_path / "r", 40, 3)
    assert run_main("prove", "r", "--batch-size", "32", cwd=tmp_path).returncode == 0
    (tmp_path / "r/round.toml").unlink()
    (tmp_path / "r/round.toml").mkdir()
    for command in (["verify", "r"], ["publish", "r"]):
        refused(run_main(*command, cwd=tmp_path), "r/round.toml: cannot read")
    assert not (tmp_path / "r/public").exists()


def test_demo_with_a_history_store_it_cannot_use_fails_first(bad: Path, run_main: Run) -> None:
    for db in ("dir", "not-utf8", "missing-folder/h.sqlite"):
        refused(run_main("demo", "d", "--users", "40", "--db", db, cwd=bad), db)
        assert not (bad / "d").exists(), "nothing generated or proven"


@pytest.mark.parametrize("address", ["garbage", "tcp://host-without-port", "foo://x:1"])
def test_prove_on_a_cluster_address_that_is_not_one(tmp_path: Path, run_main: Run, address: str) -> None:
    from zkpor.round.generate import generate_round

    generate_round(tmp_path / "r", 40, 3)
    line = refused(run_main("prove", "r", "--cluster", address, cwd=tmp_path), address)
    assert "is not a Dask scheduler address" in line


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["verify"], "Missing argument"),
        (["demo", "d", "--users", "-1"], "--users"),
        (["serve", "r", "--port", "99999"], "--port"),
        (["reserves", "reserves.csv", "--no-such-option"], "--no-such-option"),
        (["round", "next", "only-one"], "Missing argument"),
    ],
)
def test_a_usage_error_is_one_line_too(bad: Path, run_main: Run, args: list[str], names: str) -> None:
    line = refused(run_main(*args, cwd=bad), names)
    assert f"(see zkpor {args[0] if args[0] != 'round' else 'round next'} --help)" in line
    assert not (bad / "d").exists()


def test_help_is_still_help(bad: Path, run_main: Run) -> None:
    result = run_main("verify", "--help", cwd=bad)
    assert result.returncode == 0 and "Usage: zkpor verify" in result.stdout and not result.stderr
    no_arguments = run_main("round", cwd=bad)  # a group without a command shows its help
    assert no_arguments.returncode == 2 and "next" in no_arguments.stdout + no_arguments.stderr


def test_verify_says_when_it_could_not_compare_the_inputs_with_what_was_proven(
    tmp_path: Path, run_main: Run
) -> None:
    """Without its private store, a round's inputs cannot be compared with the proven fingerprint:
    verify still checks the proofs, and says on a line of its own what it did not check, and why.
    A store that is there but not an inclusion store is an error."""
    from zkpor.round.generate import generate_round

    generate_round(tmp_path / "r", 40, 3)
    assert run_main("prove", "r", "--batch-size", "32", cwd=tmp_path).returncode == 0
    store = tmp_path / "r/private/inclusion.sqlite"
    proven = run_main("verify", "r", cwd=tmp_path)
    assert (
        proven.returncode == 0 and "unchanged since proving" in proven.stdout and "note:" not in proven.stdout
    )
    store.rename(tmp_path / "kept.sqlite")
    for state in ("is missing", "is a directory, not the inclusion store"):
        result = run_main("verify", "r", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        [note] = [line for line in result.stdout.splitlines() if line.startswith("note:")]
        assert (
            "were not compared with what was proven" in note and f"r/private/inclusion.sqlite {state}" in note
        )
        assert "unchanged since proving" not in result.stdout
        store.mkdir(exist_ok=True)
    store.rmdir()
    for content in (b"", b"not a database at all, just some bytes here" * 4):
        store.write_bytes(content)
        refused(run_main("verify", "r", cwd=tmp_path), "r/private/inclusion.sqlite")


def test_reserves_warns_of_an_rpc_node_that_does_not_answer(bad: Path, run_main: Run) -> None:
    """A node that is down turns its rows to failed: one warning line names it (without the
    credentials in its URL); the exit code stays 0 unless --strict."""
    (bad / "eth.csv").write_text("coin,address,message,signature\nETH,0x" + "00" * 19 + "01,hello,0xabc\n")
    args = ["reserves", "eth.csv", "--rpc", "ethereum=http://user:secret@127.0.0.1:1", "--workers", "1"]
    result = run_main(*args, cwd=bad)  # nothing listens on port 1
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("warning: --rpc ethereum=http://127.0.0.1:1: no answer: node unreachable"), line
    assert "secret" not in result.stderr + result.stdout
    assert run_main(*args, "--strict", cwd=bad).returncode == 1
