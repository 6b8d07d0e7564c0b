"""What a reserves check adds up to: exact sums per asset and chain, the snapshot height of each chain,
the messages signed, and the file's own totals section reconciled with the rows.

Everything is exact (Fractions, written back as exact decimal text): see exact.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from zkpor.reserves.coins import CoinMap, CoinNameError
from zkpor.reserves.exact import decimal_text, parse_amount
from zkpor.reserves.outcome import FAILED, UNSUPPORTED, VERIFIED

MESSAGES_LISTED = 20  # distinct messages listed in the summary; the rest are counted


def _statuses() -> dict[str, int]:
    return {VERIFIED: 0, FAILED: 0, UNSUPPORTED: 0}


class ExactSum:
    """A running exact sum of rationals, cheap per addition: numerators are added as integers per
    denominator (amounts are decimals, so there are few denominators: powers of ten), and one Fraction
    is made when the value is read."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: dict[int, int] = {}

    def add(self, value: Fraction) -> None:
        denominator = value.denominator
        self._parts[denominator] = self._parts.get(denominator, 0) + value.numerator

    def merge(self, other: ExactSum) -> None:
        for denominator, numerator in other._parts.items():
            self._parts[denominator] = self._parts.get(denominator, 0) + numerator

    @property
    def value(self) -> Fraction:
        return sum((Fraction(n, d) for d, n in self._parts.items()), Fraction(0))


class Sums:
    """Row counts and exact sums of one asset on one chain (or, merged, on all of them)."""

    def __init__(self) -> None:
        self._verified = ExactSum()  # reserves that count: ownership proven, balance not contradicted
        self._balance_checked = ExactSum()  # the part of `verified` whose balance a chain source read
        self._declared = ExactSum()  # every declared amount listed, whatever its status
        self.counts = _statuses()
        self.uncounted = 0  # verified rows with neither a declared amount nor a balance read: count 0

    @property
    def verified(self) -> Fraction:
        return self._verified.value

    @property
    def balance_checked(self) -> Fraction:
        return self._balance_checked.value

    @property
    def declared(self) -> Fraction:
        return self._declared.value

    def add(self, status: str, declared: Fraction | None, counted: Fraction | None, checked: bool) -> None:
        self.counts[status] += 1
        if declared is not None:
            self._declared.add(declared)
        if status == VERIFIED:
            if counted is None:
                self.uncounted += 1
                return
            self._verified.add(counted)
            if checked:
                self._balance_checked.add(counted)

    def merge(self, other: Sums) -> None:
        for mine, theirs in zip(self._parts(), other._parts(), strict=True):
            mine.merge(theirs)
        for status, count in other.counts.items():
            self.counts[status] += count
        self.uncounted += other.uncounted

    def _parts(self) -> tuple[ExactSum, ExactSum, ExactSum]:
        return self._verified, self._balance_checked, self._declared

    def to_json(self) -> dict:
        document = {
            "verified": decimal_text(self.verified),
            "balance_checked": decimal_text(self.balance_checked),
            "declared": decimal_text(self.declared),
            "rows": self.counts,
        }
        if self.uncounted:
            document["verified_rows_without_amount"] = self.uncounted
        return document


class AssetSums(Sums):
    """An asset's sums over all its chains, and per chain (`networks`); rows of an unknown network
    count under the chain id ""."""

    def __init__(self) -> None:
        super().__init__()
        self.networks: dict[str, Sums] = {}

    def to_json(self) -> dict:
        networks = {k: v.to_json() for k, v in sorted(self.networks.items()) if k}
        return super().to_json() | {"networks": networks}


@dataclass
class Summary:
    source: str
    layout: str
    expected_message: str | None = None
    rows: int = 0
    counts: dict[str, int] = field(default_factory=_statuses)
    assets: dict[str, AssetSums] = field(default_factory=dict)
    declared_totals: dict[str, tuple[str, str]] = field(default_factory=dict)
    totals_lines: dict[str, int] = field(default_factory=dict)
    heights: dict[str, tuple[int, str]] = field(default_factory=dict)  # chain id -> (height, set by)
    messages: Counter[str] = field(default_factory=Counter)
    unknown_coins: Counter[str] = field(default_factory=Counter)  # coin name -> rows
    notices: list[str] = field(default_factory=list)
    reconciliation: list[dict] = field(default_factory=list)
    _by_chain: dict[tuple[str, str], Sums] = field(default_factory=dict, repr=False)

    def count(
        self,
        asset: str,
        chain: str,
        status: str,
        declared: Fraction | None,
        counted: Fraction | None,
        checked: bool,
    ) -> None:
        self.rows += 1
        self.counts[status] += 1
        if not asset:
            return
        sums = self._by_chain.get((asset, chain))
        if sums is None:
            sums = self._by_chain[(asset, chain)] = Sums()
        sums.add(status, declared, counted, checked)

    def close(self) -> None:
        """Fold the per-chain sums into `assets` (per asset, with its `networks`): once, at the end."""
        for (asset, chain), sums in self._by_chain.items():
            total = self.assets.get(asset)
            if total is None:
                total = self.assets[asset] = AssetSums()
            total.merge(sums)
            total.networks[chain] = sums
        self._by_chain.clear()

    def verified_by_asset(self) -> dict[str, Fraction]:
        return {asset: sums.verified for asset, sums in self.assets.items()}

    def reconcile(self, coins: CoinMap) -> None:
        """Compare each line of the file's totals section with the sums of its rows."""
        for coin, (height, amount) in self.declared_totals.items():
            line = self.totals_lines.get(coin)
            entry: dict = {"coin": coin, "line": line, "height": height, "published": amount}
            try:
                asset, chain = coins.totals_scope(coin)
            except CoinNameError as error:
                self.reconciliation.append(entry | {"problem": str(error)})
                continue
            entry |= {"asset": asset, "network": chain.id if chain else "all"}
            published = parse_amount(amount)
            if published is None:
                self.reconciliation.append(entry | {"problem": f"amount {amount!r} is not a decimal number"})
                continue
            asset_sums = self.assets.get(asset)
            sums = asset_sums if chain is None or asset_sums is None else asset_sums.networks.get(chain.id)
            verified = sums.verified if sums else Fraction(0)
            declared = sums.declared if sums else Fraction(0)
            entry |= {
                "rows_declared": decimal_text(declared),
                "rows_verified": decimal_text(verified),
                "difference": decimal_text(published - verified),
                "agrees": published == verified,
            }
            if chain is not None and height.isdigit() and chain.id in self.heights:
                used = self.heights[chain.id][0]
                if int(height) != used:
                    entry["height_differs"] = f"totals say {height}, the rows' snapshot is {used}"
            self.reconciliation.append(entry)

    def to_json(self) -> dict:
        listed = self.messages.most_common(MESSAGES_LISTED)
        return {
            "source": self.source,
            "layout": self.layout,
            "rows": self.rows,
            "status": self.counts,
            "message": {
                "expected": self.expected_message,
                "seen": [{"message": m, "rows": n} for m, n in listed],
                "other_messages": len(self.messages) - len(listed),
            },
            "heights": {
                chain: {"height": h, "set_by": by} for chain, (h, by) in sorted(self.heights.items())
            },
            "assets": {asset: self.assets[asset].to_json() for asset in sorted(self.assets)},
            "unknown_coin_names": dict(self.unknown_coins.most_common()),
            "published_totals": self.reconciliation,
            "notices": self.notices,
        }
