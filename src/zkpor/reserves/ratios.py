"""Reserve ratios: per asset, verified reserves ÷ customer net liabilities, with USD values.

The function takes plain mappings so a round can pass its proven per-asset totals directly; the
`--liabilities` file is a stop-gap with the same content:
`{"assets": {"BTC": {"net": "123.45"}, ...}, "prices": {"BTC": "65000", ...}}` (decimal strings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from zkpor.errors import InputError


@dataclass(frozen=True)
class AssetRatio:
    asset: str
    reserves: Decimal
    liabilities: Decimal
    ratio: Decimal | None  # None when there are no liabilities to cover
    price: Decimal | None
    reserves_usd: Decimal | None
    liabilities_usd: Decimal | None

    @property
    def short(self) -> bool:
        """Reserves below 100 % of liabilities: the figure a report must make stand out."""
        return self.ratio is not None and self.ratio < 1


@dataclass(frozen=True)
class RatioReport:
    assets: list[AssetRatio]
    reserves_usd: Decimal
    liabilities_usd: Decimal
    unpriced: list[str]

    @property
    def total_ratio(self) -> Decimal | None:
        return self.reserves_usd / self.liabilities_usd if self.liabilities_usd else None

    def to_json(self) -> dict:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "assets": {
                a.asset: {
                    "reserves": str(a.reserves),
                    "liabilities": str(a.liabilities),
                    "ratio": text(a.ratio),
                    "below_100_percent": a.short,
                    "price_usd": text(a.price),
                    "reserves_usd": text(a.reserves_usd),
                    "liabilities_usd": text(a.liabilities_usd),
                }
                for a in self.assets
            },
            "total": {
                "reserves_usd": str(self.reserves_usd),
                "liabilities_usd": str(self.liabilities_usd),
                "ratio": text(self.total_ratio),
            },
            "unpriced_assets": self.unpriced,
        }


def reserve_ratios(
    reserves: Mapping[str, Decimal], liabilities: Mapping[str, Decimal], prices: Mapping[str, Decimal]
) -> RatioReport:
    """Ratios for every asset that has reserves or liabilities; USD totals over priced assets only."""
    rows, unpriced = [], []
    total_reserves = total_liabilities = Decimal(0)
    for asset in sorted(set(reserves) | set(liabilities)):
        held, owed = Decimal(reserves.get(asset, 0)), Decimal(liabilities.get(asset, 0))
        price = prices.get(asset)
        price = Decimal(price) if price is not None else None
        held_usd = owed_usd = None
        if price is None:
            unpriced.append(asset)
        else:
            held_usd, owed_usd = held * price, owed * price
            total_reserves += held_usd
            total_liabilities += owed_usd
        rows.append(
            AssetRatio(asset, held, owed, held / owed if owed > 0 else None, price, held_usd, owed_usd)
        )
    return RatioReport(rows, total_reserves, total_liabilities, unpriced)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read liabilities file: {error.strerror}", path=path) from None
    except ValueError as error:
        raise InputError(f"not valid JSON: {error}", path=path) from None


def _proven_liabilities(path: Path, summary: dict) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Net liabilities from a round's `summary.json` (the proven totals written by `zkpor prove`),
    prices from the `global.json` beside it. A negative net (customers borrowed more of an asset
    than they hold) is kept: that asset then needs no reserves."""
    assets = summary.get("assets")
    if not isinstance(assets, list):
        raise InputError("summary.json has no asset list", path=path, field="assets")
    net = {}
    for i, entry in enumerate(assets):
        try:
            net[str(entry["symbol"]).upper()] = Decimal(str(entry["net"]))
        except (KeyError, TypeError, InvalidOperation):
            raise InputError(
                "each asset needs a symbol and a decimal net", path=path, field=f"assets[{i}]"
            ) from None
    global_path = path.with_name("global.json")
    prices: dict[str, Decimal] = {}
    if global_path.exists():
        document = _read_json(global_path)
        for i, entry in enumerate(document.get("assets", []) if isinstance(document, dict) else []):
            try:
                prices[str(entry["symbol"]).upper()] = Decimal(str(entry["price"]))
            except (KeyError, TypeError, InvalidOperation):
                raise InputError(
                    "each asset needs a decimal price", path=global_path, field=f"assets[{i}]"
                ) from None
    return net, prices


def load_liabilities(path: str | Path) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(net liabilities, USD prices) from a liabilities JSON file, or from a proven round's
    `proof/summary.json` (with the prices of the `global.json` next to it)."""
    path = Path(path)
    document = _read_json(path)
    if isinstance(document, dict) and document.get("format") == "zkpor-summary-v1":
        return _proven_liabilities(path, document)
    if not isinstance(document, dict) or not isinstance(document.get("assets"), dict):
        raise InputError('expected {"assets": {SYMBOL: {"net": "..."}}, "prices": {...}}', path=path)

    def number(value: object, where: str) -> Decimal:
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise InputError(f"{where} is not a number: {value!r}", path=path) from None
        if not result.is_finite() or result < 0:
            raise InputError(f"{where} must be a finite non-negative number", path=path)
        return result

    net = {}
    for asset, entry in document["assets"].items():
        value = entry.get("net") if isinstance(entry, dict) else entry
        net[asset.upper()] = number(value, f"assets.{asset}.net")
    prices = {
        asset.upper(): number(value, f"prices.{asset}")
        for asset, value in (document.get("prices") or {}).items()
    }
    return net, prices
