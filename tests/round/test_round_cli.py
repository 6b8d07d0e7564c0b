"""`zkpor generate` and `zkpor check` as a user runs them: exit codes, messages, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from round_testing import NET_HEADER, SMALL_ROUND_TOML, write_file
from typer.testing import CliRunner

from zkpor.cli import app


def run_zkpor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real entry point in a fresh process, with output to a pipe (so: no colours). About 2 s each,
    mostly imports, so most tests use run_main instead."""
    return subprocess.run(
        [sys.executable, "-c", "from zkpor.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", ["generate", "check", "demo"])
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: zkpor {command}" in result.output


def test_generate_then_check(tmp_path: Path, run_main: Callable[..., Any]) -> None:
    generated = run_main("generate", "--users", "500", "--seed", "3", "out", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert "500 users" in generated.stdout
    checked = run_zkpor("check", "out", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    for expected in (
        "Round 2024-06",
        "500 users",
        "BTC",
        "UNI",
        "2^52",
        "Total net liabilities",
        "bits of headroom",
        "OK: out holds a valid round; every user's net value is ≥ 0",
    ):
        assert expected in checked.stdout, expected
    assert "\x1b[" not in checked.stdout, "no colour codes when not writing to a terminal"

    again = run_zkpor("generate", "--users", "10", "out", cwd=tmp_path)  # refused, in a real process
    assert again.returncode == 2
    assert "already holds a round" in again.stderr and "--force" in again.stderr
    forced = run_main("generate", "--users", "10", "--force", "--format", "jsonl", "out", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["round.toml", "users.jsonl"]


@pytest.mark.parametrize(
    ("users_csv", "message"),
    [
        (
            f"{NET_HEADER}\nu1,1,0,0\nu2,1.123456789,0,0\n",
            "users.csv:3, field 'BTC': '1.123456789' has more than 8 decimals",
        ),
        (
            f"{NET_HEADER}\nu1,1,0,0\nu2,0,-1,0\n",
            "users.csv:3: user 'u2' has a negative net value of -3000 USD",
        ),
        ("uid,BTC,ETH\nu1,1,0\n", "users.csv:1, field 'USDT': missing column for asset USDT"),
        ("", "users.csv: empty file"),
    ],
)
def test_check_reports_bad_input_in_one_line(
    tmp_path: Path, users_csv: str, message: str, run_main: Callable[..., Any]
) -> None:
    write_file(tmp_path, "round.toml", SMALL_ROUND_TOML)
    write_file(tmp_path, "users.csv", users_csv)
    result = run_main("check", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) <= 2  # one message (rich may wrap a long one)


def test_check_layout_errors(tmp_path: Path, run_main: Callable[..., Any]) -> None:
    missing = run_main("check", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "not a round directory" in missing.stderr
    write_file(tmp_path, "round.toml", SMALL_ROUND_TOML)
    no_users = run_main("check", ".", cwd=tmp_path)
    assert no_users.returncode == 2 and "no users file: expected users.csv or users.jsonl" in no_users.stderr
    write_file(tmp_path, "users.csv", f"{NET_HEADER}\nu,1,0,0\n")
    write_file(tmp_path, "users.jsonl", '{"uid": "u"}\n')
    both = run_main("check", ".", cwd=tmp_path)
    assert both.returncode == 2 and "keep exactly one users file" in both.stderr
    assert "Traceback" not in missing.stderr + no_users.stderr + both.stderr
