"""Next month's round without hand-editing round.toml: `zkpor round next` and `zkpor generate
--round-id/--snapshot`."""

from __future__ import annotations

from datetime import UTC, datetime

from zkpor.round.config import load_round_config
from zkpor.round.next_round import next_snapshot


def test_generate_sets_round_id_and_snapshot(tmp_path, run_main):
    result = run_main(
        "generate",
        "-n",
        "20",
        "--round-id",
        "2025-02",
        "--snapshot",
        "2025-02-28T16:00:00Z",
        "r",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    config = load_round_config(tmp_path / "r" / "round.toml")
    assert config.round_id == "2025-02" and config.snapshot_time == datetime(2025, 2, 28, 16, tzinfo=UTC)
    bad = run_main("generate", "-n", "20", "--snapshot", "2025-02-28 16:00", "s", cwd=tmp_path)
    assert bad.returncode == 2 and "--snapshot" in bad.stderr and not (tmp_path / "s").exists()


def test_round_next_advances_id_snapshot_and_prices(tmp_path, run_main):
    assert run_main("generate", "-n", "20", "--round-id", "2025-01", "--snapshot", "2025-01-31T16:00:00Z",
                    "jan", cwd=tmp_path).returncode == 0  # fmt: skip
    result = run_main(
        "round", "next", "jan", "feb", "--price", "BTC=64000.5", "--users", "jan/users.csv", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    before, after = (
        load_round_config(tmp_path / "jan/round.toml"),
        load_round_config(tmp_path / "feb/round.toml"),
    )
    assert after.round_id == "2025-02"
    assert after.snapshot_time == datetime(2025, 2, 28, 16, tzinfo=UTC)  # the month's end, as January's
    assert after.price_text("BTC") == "64000.5" and after.price_text("ETH") == before.price_text("ETH")
    assert after.assets == before.assets
    assert (tmp_path / "feb/users.csv").read_bytes() == (tmp_path / "jan/users.csv").read_bytes()
    assert run_main("check", "feb", cwd=tmp_path).returncode == 0

    again = run_main("round", "next", "jan", "feb", cwd=tmp_path)
    assert again.returncode == 2 and "already holds a round.toml" in again.stderr
    unknown = run_main("round", "next", "jan", "mar", "--price", "XYZ=1", cwd=tmp_path)
    assert unknown.returncode == 2 and "XYZ" in unknown.stderr
    backwards = run_main("round", "next", "jan", "dec", "--snapshot", "2024-12-31T00:00:00Z", cwd=tmp_path)
    assert backwards.returncode == 2 and "not after" in backwards.stderr


def test_round_next_needs_an_id_when_it_cannot_guess(tmp_path, run_main):
    assert run_main("generate", "-n", "5", "--round-id", "q1-final", "q1", cwd=tmp_path).returncode == 0
    result = run_main("round", "next", "q1", "q2", cwd=tmp_path)
    assert result.returncode == 2 and "--round-id" in result.stderr
    assert run_main("round", "next", "q1", "q2", "--round-id", "q2-final", cwd=tmp_path).returncode == 0


def test_next_snapshot_keeps_month_ends_and_days():
    assert next_snapshot(datetime(2024, 1, 31, 16, tzinfo=UTC)) == datetime(2024, 2, 29, 16, tzinfo=UTC)
    assert next_snapshot(datetime(2024, 12, 31, tzinfo=UTC)) == datetime(2025, 1, 31, tzinfo=UTC)
    assert next_snapshot(datetime(2024, 1, 15, 8, tzinfo=UTC)) == datetime(2024, 2, 15, 8, tzinfo=UTC)
