"""Figures describing a round's inputs: per-asset totals (exact integers), bounds, weights, headroom.

``zkpor check`` prints them; reports can reuse them. Amounts are in base units, USD values in units
of 10^-net_value_decimals USD, so nothing here is rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zkpor.round.config import RoundConfig
from zkpor.round.net_value import asset_totals
from zkpor.round.users import UserBalances


@dataclass(frozen=True)
class AssetSummary:
    symbol: str
    decimals: int
    bits: int
    price_units: int  # USD price · 10^price_decimals
    weight: int  # w_j of the no-wrap rule
    equity_total: int  # base units
    debt_total: int
    holders: int  # users with equity > 0
    debtors: int  # users with debt > 0

    @property
    def net_total(self) -> int:
        return self.equity_total - self.debt_total

    @property
    def net_value_usd(self) -> int:
        """Net total times price, in units of 10^-net_value_decimals USD."""
        return self.net_total * self.weight


@dataclass(frozen=True)
class RoundSummary:
    n_users: int
    users_with_debt: int
    assets: tuple[AssetSummary, ...]
    net_value_decimals: int
    net_value_bound: int  # 2·Σw·(2^16−1)·2, below (p−1)/2
    headroom_bits: float
    largest_weight_bits: float  # log2 of the largest w_j, below 40

    @property
    def total_net_value_usd(self) -> int:
        return sum(asset.net_value_usd for asset in self.assets)


def summarize(config: RoundConfig, users: UserBalances) -> RoundSummary:
    weights = config.price_weights()
    equity_totals = asset_totals(users.equity)
    debt_totals = asset_totals(users.debt)
    holders = np.count_nonzero(users.equity, axis=0)
    debtors = np.count_nonzero(users.debt, axis=0)
    assets = tuple(
        AssetSummary(
            symbol=asset.symbol,
            decimals=asset.decimals,
            bits=asset.bits,
            price_units=config.price_units[j],
            weight=weights[j],
            equity_total=equity_totals[j],
            debt_total=debt_totals[j],
            holders=int(holders[j]),
            debtors=int(debtors[j]),
        )
        for j, asset in enumerate(config.assets)
    )
    return RoundSummary(
        n_users=users.n_users,
        users_with_debt=int(np.count_nonzero(users.debt.any(axis=1))),
        assets=assets,
        net_value_decimals=config.net_value_decimals,
        net_value_bound=config.net_value_bound(),
        headroom_bits=config.headroom_bits(),
        largest_weight_bits=math.log2(max(weights)),
    )
