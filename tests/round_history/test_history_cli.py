"""`zkpor history`: listing rounds and showing one, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from zkpor.cli import app, main
from zkpor.errors import ZkporError
from zkpor.round.history import HistoryStore

runner = CliRunner()


@pytest.fixture
def recorded(history_url, make_round) -> str:
    """A history with June 2024, May 2025 and June 2025 (the latter with a report digest)."""
    with HistoryStore.open(history_url) as store:
        store.record_round(make_round("2024-06", datetime(2024, 6, 30, tzinfo=UTC)))
        store.record_round(make_round("2025-05", datetime(2025, 5, 31, tzinfo=UTC), scale=2))
        latest = make_round("2025-06", datetime(2025, 6, 30, tzinfo=UTC), scale=3)
        store.record_round(replace(latest, report_sha256="5a" * 32))
    return history_url


def run(*args: str):
    # Wide enough that rich never wraps a figure across lines.
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"}, terminal_width=200)
    return result


def test_history_lists_rounds_oldest_first(recorded):
    result = run("history", "--db", recorded)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line for line in lines if re.match(r"\s*\d{4}-\d\d\s", line)]
    assert [row.split()[0] for row in rows] == ["2024-06", "2025-05", "2025-06"]
    assert "3,145,728" in rows[2]  # users, scale 3
    assert "45,370,370,367" in rows[2]  # USD liabilities, 15123456789.123456789 x 3, whole dollars
    assert "102.64 %" in rows[0]


def test_history_shows_one_round_with_growth(recorded):
    result = run("history", "2025-06", "--db", recorded)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "2025-06 (published)" in out and "5a" * 32 in out
    # ETH net liabilities: 1,950,000 ETH x 3, exact in whole coins.
    assert "5,850,000" in out
    # vs May (scale 2 -> 3): +50 %; vs June 2024 (scale 1 -> 3): +200 %.
    assert "+50.00 % / +50.00 % (2025-05)" in out
    assert "+200.00 % / +200.00 % (2024-06)" in out


def test_history_with_the_database_from_the_environment(recorded):
    result = runner.invoke(app, ["history"], env={"ZKPOR_HISTORY_DB": recorded, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2025-06" in result.output


def test_history_of_an_empty_store(history_url):
    HistoryStore.open(history_url).close()
    result = run("history", "--db", history_url)
    assert result.exit_code == 0
    assert "No rounds recorded" in result.output


def test_history_of_an_unknown_round_is_an_error(recorded):
    result = run("history", "1999-01", "--db", recorded)
    assert isinstance(result.exception, ZkporError)
    assert "'1999-01' is not in the history database" in str(result.exception)


def test_errors_reach_the_user_as_one_line_without_a_traceback(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "history.sqlite"
    monkeypatch.setattr(sys, "argv", ["zkpor", "history", "--db", str(missing)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: no history database at" in err and "Traceback" not in err
    assert not missing.exists()  # a read-only command never creates an empty database


def test_help_has_an_example():
    result = run("history", "--help")
    assert result.exit_code == 0
    assert "Example: zkpor history" in result.output
