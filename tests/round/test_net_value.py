"""Exact net values and totals (the limb/carry kernels) against plain Python integers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from round_testing import NET_HEADER, SMALL_WEIGHTS, expect_input_error, write_file

from zkpor.round.config import RoundConfig, default_round_config
from zkpor.round.net_value import asset_totals, check_net_values, first_negative_net_value_row
from zkpor.round.users import load_users


def python_net_values(equity: np.ndarray, debt: np.ndarray, weights: tuple[int, ...]) -> list[int]:
    return [
        sum(w * (int(e) - int(d)) for w, e, d in zip(weights, equity_row, debt_row, strict=True))
        for equity_row, debt_row in zip(equity, debt, strict=True)
    ]


def test_net_value_sign_matches_python_near_zero_and_near_bounds() -> None:
    """Users built so their net value lands within one weight of zero, on either side, with amounts up
    to each asset's bound: exactly the cases where a wrong carry chain would flip the sign."""
    config = default_round_config()
    weights = config.price_weights()
    bounds = [asset.max_units for asset in config.assets]
    rng = np.random.default_rng(3)
    n_users, n_assets = 3000, len(config.assets)
    equity = np.zeros((n_users, n_assets), dtype=np.uint64)
    debt = np.zeros((n_users, n_assets), dtype=np.uint64)
    for row in range(n_users):
        held = rng.choice(n_assets, size=3, replace=False)
        for asset in held:
            equity[row, asset] = int(
                rng.integers(0, bounds[asset] >> int(rng.integers(0, 20)), dtype=np.uint64)
            )
        value = sum(weights[a] * int(equity[row, a]) for a in held)
        owed = int(rng.integers(0, n_assets))
        units = value // weights[owed] + int(rng.integers(-1, 3))  # just below, at or just above the value
        debt[row, owed] = min(max(units, 0), bounds[owed])
    expected = python_net_values(equity, debt, weights)
    assert any(v < 0 for v in expected) and any(v >= 0 for v in expected)

    first = next(row for row, value in enumerate(expected) if value < 0)
    assert first_negative_net_value_row(equity, debt, config) == first
    for row in range(n_users):  # every row on its own, so every sign is checked, not just the first
        got = first_negative_net_value_row(equity[row : row + 1], debt[row : row + 1], config)
        assert (got == 0) == (expected[row] < 0), (row, expected[row])


def test_extreme_values_do_not_overflow() -> None:
    """Every asset at its cap on one side: the largest magnitudes the AIR can ever see."""
    config = default_round_config()
    caps = np.array([[asset.max_units for asset in config.assets]], dtype=np.uint64)
    zeros = np.zeros_like(caps)
    assert first_negative_net_value_row(caps, zeros, config) is None
    assert first_negative_net_value_row(zeros, caps, config) == 0
    assert first_negative_net_value_row(caps, caps, config) is None  # exactly zero
    one_more_debt = caps.copy()
    one_less = caps.copy()
    one_less[0, 5] -= 1
    assert first_negative_net_value_row(one_less, one_more_debt, config) == 0


def test_asset_totals_are_exact_past_uint64() -> None:
    rng = np.random.default_rng(8)
    amounts = rng.integers(0, 2**63 - 1, size=(5000, 4), dtype=np.uint64)
    amounts[:100, 0] = 2**63 - 1
    expected = [sum(int(v) for v in amounts[:, column]) for column in range(4)]
    assert expected[0] > 2**64
    assert asset_totals(amounts) == expected
    assert asset_totals(np.zeros((0, 3), dtype=np.uint64)) == [0, 0, 0]


def test_check_net_values_reports_the_first_negative_line(tmp_path: Path, small_config: RoundConfig) -> None:
    # ETH weight 300_000 per base unit = USDT weight 10_000 × 30: 1e-8 ETH of debt is 0.00003 USDT.
    assert small_config.price_weights() == SMALL_WEIGHTS
    text = (
        f"{NET_HEADER}\n"
        "exactly-zero,0,-0.00000001,0.00003\n"
        "rich,1,-1,-1\n"
        "short,0,-0.00000001,0.000029\n"
        "also-short,-1,0,0\n"
    )
    path = write_file(tmp_path, "users.csv", text)
    users = load_users(path, small_config)
    assert python_net_values(users.equity, users.debt, SMALL_WEIGHTS)[:3] == [
        0,
        6_000_050 * 10**8 - 300_000 * 10**8 - 10_000 * 10**6,
        -10_000,
    ]
    expect_input_error(
        lambda: check_net_values(users, small_config),
        match="user 'short' has a negative net value of -0.000001 USD",
        line=4,
        path=path,
    )
