"""The synthetic exchange: deterministic, realistic in shape, valid, and written atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from round_testing import SMALL_ROUND_TOML, expect_input_error, write_file

from zkpor.fsutil import OutputError
from zkpor.round import generate
from zkpor.round.config import default_round_config, load_round_config
from zkpor.round.directory import load_round_inputs
from zkpor.round.generate import generate_round, generate_users
from zkpor.round.net_value import first_negative_net_value_row
from zkpor.round.users import load_users
from zkpor.round.users_writer import write_users_file


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = generate_round(tmp_path / "a", 3000, seed=42)
    second = generate_round(tmp_path / "b", 3000, seed=42)
    third = generate_round(tmp_path / "c", 3000, seed=43)
    assert digest(first) == digest(second) != digest(third)
    assert digest(tmp_path / "a" / "round.toml") == digest(tmp_path / "c" / "round.toml")


def test_generated_round_loads_and_matches_the_generator(tmp_path: Path) -> None:
    config = default_round_config()
    expected = generate_users(config, 5000, seed=9)
    users_file = generate_round(tmp_path / "round", 5000, seed=9)
    inputs = load_round_inputs(tmp_path / "round")  # also checks every net value is ≥ 0
    assert inputs.users.path == users_file
    assert inputs.config == config
    assert np.array_equal(inputs.users.equity, expected.equity)
    assert np.array_equal(inputs.users.debt, expected.debt)
    assert np.array_equal(inputs.users.uid_bytes, expected.uid_bytes)


def test_balances_are_heavy_tailed_with_some_margin_debt(tmp_path: Path) -> None:
    config = default_round_config()
    users = generate_users(config, 20_000, seed=1)
    usdt = config.asset_index("USDT")
    weights = np.array(config.price_weights(), dtype=np.float64)
    user_value = (users.equity.astype(np.float64) * weights).sum(axis=1)
    median, top = np.median(user_value), user_value.max()
    assert top > 1000 * median, "expected whales far above the median user"
    assert np.mean(user_value < 10 * median) > 0.7, "expected most users to be small"
    assert (users.equity != 0).any(axis=1).all(), "every user holds something"
    borrowers = (users.debt != 0).any(axis=1).mean()
    assert 0.01 < borrowers < 0.06
    assert (users.debt[:, usdt] != 0).sum() > (users.debt != 0).sum() / 3, "USDT is the usual loan"
    holders = (users.equity != 0).mean(axis=0)
    assert holders[usdt] > holders[config.asset_index("ELF")] * 10, "asset popularity differs a lot"
    assert first_negative_net_value_row(users.equity, users.debt, config) is None
    for asset in config.assets:
        column = config.asset_index(asset.symbol)
        assert int(users.equity[:, column].max()) <= asset.max_units
    uids = {
        bytes(users.uid_bytes[start:end])
        for start, end in zip(users.uid_offsets[:-1], users.uid_offsets[1:], strict=True)
    }
    assert len(uids) == 20_000


def test_jsonl_format_and_custom_config(tmp_path: Path) -> None:
    config_path = write_file(tmp_path, "custom.toml", SMALL_ROUND_TOML)
    config = load_round_config(config_path)
    csv_file = generate_round(tmp_path / "csv", 2000, seed=5, config=config)
    jsonl_file = generate_round(tmp_path / "jsonl", 2000, seed=5, config=config, file_format="jsonl")
    from_csv = load_round_inputs(tmp_path / "csv").users
    from_jsonl = load_round_inputs(tmp_path / "jsonl").users
    assert csv_file.name == "users.csv" and jsonl_file.name == "users.jsonl"
    assert np.array_equal(from_csv.equity, from_jsonl.equity)
    assert np.array_equal(from_csv.debt, from_jsonl.debt)
    assert np.array_equal(from_csv.uid_bytes, from_jsonl.uid_bytes)
    assert load_round_config(tmp_path / "jsonl" / "round.toml") == config


def test_refuses_to_overwrite_without_force_and_replaces_with_it(tmp_path: Path) -> None:
    generate_round(tmp_path / "r", 100, seed=1, file_format="jsonl")
    before = digest(tmp_path / "r" / "users.jsonl")
    expect_input_error(
        lambda: generate_round(tmp_path / "r", 100, seed=2),
        match="already holds a round (round.toml, users.jsonl); pass --force",
    )
    assert digest(tmp_path / "r" / "users.jsonl") == before
    generate_round(tmp_path / "r", 100, seed=2, overwrite=True)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["round.toml", "users.csv"]


def test_into_an_existing_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    generate_round(tmp_path / "r", 10, seed=1)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["round.toml", "users.csv"]


def test_failure_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("zkpor.round.generate.write_round_config", crash)
    with pytest.raises(OutputError, match="new: cannot write: disk full; nothing was written there"):
        generate_round(tmp_path / "new", 100, seed=1)
    assert list(tmp_path.iterdir()) == [], "neither the round nor its temporary directory may remain"


def test_writer_failure_leaves_no_partial_users_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = default_round_config()
    users = generate_users(config, 1000, seed=1)
    calls = []

    def fail_midway(done: int, total: int) -> None:
        calls.append(done)
        raise KeyboardInterrupt

    monkeypatch.setattr("zkpor.round.users_writer.ROWS_PER_BLOCK", 100)
    with pytest.raises(KeyboardInterrupt):
        write_users_file(
            tmp_path / "users.csv",
            config,
            users.uid_bytes,
            users.uid_offsets,
            users.equity,
            users.debt,
            progress=fail_midway,
        )
    assert calls == [100]
    assert list(tmp_path.iterdir()) == []


def test_signed_net_csv_round_trips(tmp_path: Path) -> None:
    config = default_round_config()
    users = generate_users(config, 2000, seed=4)
    users.equity[users.debt != 0] = 0  # net columns hold one side per asset
    write_users_file(
        tmp_path / "users.csv",
        config,
        users.uid_bytes,
        users.uid_offsets,
        users.equity,
        users.debt,
        signed_net=True,
    )
    assert (tmp_path / "users.csv").read_text().startswith("uid,BTC,ETH,USDT,")
    loaded = load_users(tmp_path / "users.csv", config)
    assert np.array_equal(loaded.equity, users.equity)
    assert np.array_equal(loaded.debt, users.debt)


def test_bad_user_counts(tmp_path: Path) -> None:
    expect_input_error(lambda: generate_round(tmp_path / "r", 0, seed=1), match="--users must be at least 1")
    expect_input_error(
        lambda: generate_round(tmp_path / "r", 1, seed=1, file_format="xml"),
        match="unknown users file format 'xml'",
    )


def test_a_round_generated_in_blocks_is_one_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large rounds are made and written a block at a time: the blocks join into one file whose
    users are all distinct and equal to what `generate_users` returns."""
    monkeypatch.setattr(generate, "GENERATE_BLOCK", 1000)
    config = default_round_config()
    users_file = generate_round(tmp_path / "round", 2500, seed=5)
    loaded = load_round_inputs(tmp_path / "round").users
    expected = generate_users(config, 2500, seed=5)
    assert np.array_equal(loaded.equity, expected.equity) and np.array_equal(loaded.debt, expected.debt)
    assert np.array_equal(loaded.uid_bytes, expected.uid_bytes)
    uids = {loaded.uid(r) for r in range(len(loaded))}
    assert len(uids) == 2500 and all(len(u) == 10 for u in uids)
    # Blocks are independent streams: the first block does not depend on how many follow.
    first = next(generate.generate_user_blocks(config, 1000, seed=5))
    assert np.array_equal(first.equity, expected.equity[:1000])
    assert users_file.stat().st_size > 0
