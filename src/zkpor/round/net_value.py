"""Exact per-user net values and per-asset totals, computed the way the solvency AIR computes them.

Net value of a user = Σ_j w_j · (equity_j − debt_j) with the price weights w_j of RoundConfig
(units of 10^-(price_decimals + D) USD). The products reach ~2^103, past any machine integer, so the
kernel works like the AIR: per 16-bit limb position k it sums s_k = Σ_j w_j · (equity_limb − debt_limb)
(|s_k| < 2^61 by the no-wrap rule, so int64 is exact), then runs the carry chain over k = 0..3. The
value is Σ_k limb_k · 2^16k + carry · 2^64 with every limb in [0, 2^16), so it is negative exactly
when the final carry is.
"""

from __future__ import annotations

import numpy as np

from zkpor.errors import InputError
from zkpor.field.jit import njit
from zkpor.round.config import LIMB_BITS, LIMBS_PER_AMOUNT, RoundConfig
from zkpor.round.decimal_text import format_units
from zkpor.round.users import UserBalances

CHECK_ROWS = 1 << 18  # users checked at a time (spilled balances are released after each chunk)
_LIMB_MASK = np.uint64(2**LIMB_BITS - 1)
_LIMB_SHIFTS = np.array([LIMB_BITS * k for k in range(LIMBS_PER_AMOUNT)], dtype=np.uint64)


@njit(cache=True)
def _first_negative_net_value(equity, debt, weights, limb_shifts, limb_mask):
    """Row of the first user whose net value is negative, or -1."""
    n_users, n_assets = equity.shape
    for row in range(n_users):
        carry = np.int64(0)
        for shift in limb_shifts:
            limb_sum = np.int64(0)
            for asset in range(n_assets):
                equity_limb = np.int64((equity[row, asset] >> shift) & limb_mask)
                debt_limb = np.int64((debt[row, asset] >> shift) & limb_mask)
                limb_sum += weights[asset] * (equity_limb - debt_limb)
            carry = (limb_sum + carry) >> 16  # arithmetic shift: floor division by 2^16
        if carry < 0:
            return row
    return -1


@njit(cache=True)
def _limb_sums(amounts, limb_shifts, limb_mask):
    """Per asset and limb position, the sum over users of that 16-bit limb (exact below 2^48 users)."""
    n_users, n_assets = amounts.shape
    sums = np.zeros((n_assets, limb_shifts.shape[0]), dtype=np.uint64)
    for row in range(n_users):
        for asset in range(n_assets):
            value = amounts[row, asset]
            for k in range(limb_shifts.shape[0]):
                sums[asset, k] += (value >> limb_shifts[k]) & limb_mask
    return sums


def asset_totals(amounts: np.ndarray) -> list[int]:
    """Exact per-asset column sums of a (n_users, n_assets) uint64 array, as Python ints."""
    sums = _limb_sums(np.ascontiguousarray(amounts), _LIMB_SHIFTS, _LIMB_MASK)
    return [
        sum(int(sums[asset, k]) << int(_LIMB_SHIFTS[k]) for k in range(LIMBS_PER_AMOUNT))
        for asset in range(sums.shape[0])
    ]


def user_net_value(users: UserBalances, config: RoundConfig, row: int) -> int:
    """One user's exact net value, in units of 10^-net_value_decimals USD (Python integers)."""
    return sum(
        weight * (int(users.equity[row, asset]) - int(users.debt[row, asset]))
        for asset, weight in enumerate(config.price_weights())
    )


def first_negative_net_value_row(equity: np.ndarray, debt: np.ndarray, config: RoundConfig) -> int | None:
    """Row of the first user with a negative net value, or None if every user's is ≥ 0."""
    weights = np.array(config.price_weights(), dtype=np.int64)
    row = _first_negative_net_value(
        np.ascontiguousarray(equity, dtype=np.uint64),
        np.ascontiguousarray(debt, dtype=np.uint64),
        weights,
        _LIMB_SHIFTS,
        _LIMB_MASK,
    )
    return None if row < 0 else int(row)


def check_net_values(users: UserBalances, config: RoundConfig) -> None:
    """Raise InputError at the first user whose debts outweigh their equity (the prover refuses them)."""
    for start, equity, debt in users.row_chunks(CHECK_ROWS):
        found = first_negative_net_value_row(equity, debt, config)
        if found is not None:
            row = start + found
            break
    else:
        return
    value = format_units(user_net_value(users, config, row), config.net_value_decimals)
    raise InputError(
        f"user {users.uid(row)!r} has a negative net value of {value} USD at round.toml's prices; "
        "the solvency proof requires every user's net value to be ≥ 0",
        path=users.path,
        line=users.line_of(row),
    )
