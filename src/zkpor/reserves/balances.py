"""Balances at the snapshot height: from a snapshot file, or from nodes (see `rpc.py`).

A balance source answers `balance(asset, chain, address, height)` with an exact number (a Fraction or
a finite Decimal) in the asset's units, or raises `BalanceUnavailable` with the reason.
`covers(chain)` tells whether it has anything for that chain at all: rows on chains no source covers
are reported as "balance not checked".

Snapshot file (CSV, header required): `coin,network,height,address,balance`, balances in whole units
as decimal strings, e.g. `USDT,ethereum,20914735,0x0cdc…,1500.25`.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from zkpor.errors import InputError, not_utf8_error
from zkpor.reserves.coins import CoinMap, CoinNameError, coin_map
from zkpor.reserves.exact import parse_amount
from zkpor.reserves.networks import Chain, canonical_address


class SourceUnavailable(Exception):  # noqa: N818
    """A chain-state source (snapshot file or node) has no answer for this row; the message says why."""


BalanceUnavailable = SourceUnavailable  # the name the balance code reads best with


class BalanceSource(Protocol):
    def covers(self, chain: Chain) -> bool: ...

    def balance(self, asset: str, chain: Chain, address: str, height: int) -> Fraction | Decimal: ...


class SnapshotBalances:
    """Balances read once from a snapshot CSV into memory (one entry per address and asset)."""

    def __init__(self, path: str | Path, coins: CoinMap | None = None) -> None:
        coins = coins or coin_map()
        self._balances: dict[tuple[str, str, str], tuple[int, Fraction]] = {}
        self._chains: set[str] = set()
        path = Path(path)
        try:
            handle = path.open(newline="", encoding="utf-8-sig")
        except OSError as error:
            raise InputError(f"cannot read balances file: {error.strerror}", path=path) from None
        with handle:
            reader = csv.DictReader(handle)
            try:
                self._read(reader, path, coins)
            except UnicodeDecodeError:
                raise not_utf8_error(path) from None
            except csv.Error as error:
                raise InputError(f"unreadable CSV: {error}", path=path, line=reader.line_num) from None

    def _read(self, reader: csv.DictReader, path: Path, coins: CoinMap) -> None:
        """Fill the balances from the rows of a snapshot CSV."""
        wanted = {"coin", "network", "height", "address", "balance"}
        fields = {name.strip().lower() for name in reader.fieldnames or []}
        if not wanted <= fields:
            raise InputError(f"balances file needs columns {', '.join(sorted(wanted))}", path=path, line=1)
        for record in reader:
            record = {k.strip().lower(): (v or "").strip() for k, v in record.items() if k}
            line = reader.line_num
            try:
                asset, chain = coins.resolve(record["coin"], record["network"])
            except CoinNameError as error:
                raise InputError(str(error), path=path, line=line, field="coin") from None
            amount = parse_amount(record["balance"])
            if amount is None:
                raise InputError("balance is not a decimal number", path=path, line=line, field="balance")
            if not record["height"].isdigit():
                raise InputError("height is not a block number", path=path, line=line, field="height")
            key = (asset, chain.id, canonical_address(chain, record["address"]))
            if key in self._balances:
                raise InputError("address listed twice for this asset", path=path, line=line, field="address")
            self._balances[key] = (int(record["height"]), amount)
            self._chains.add(chain.id)

    def covers(self, chain: Chain) -> bool:
        return chain.id in self._chains

    def balance(self, asset: str, chain: Chain, address: str, height: int) -> Fraction | Decimal:
        entry = self._balances.get((asset, chain.id, canonical_address(chain, address)))
        if entry is None:
            raise BalanceUnavailable(f"{asset} balance of this address is not in the snapshot file")
        at, amount = entry
        if at != height:
            raise BalanceUnavailable(f"snapshot file has height {at}, the row says {height}")
        return amount


class CombinedBalances:
    """Ask each source in turn: the first that covers the chain answers."""

    def __init__(self, sources: list[BalanceSource]) -> None:
        self.sources = sources

    def covers(self, chain: Chain) -> bool:
        return any(source.covers(chain) for source in self.sources)

    def balance(self, asset: str, chain: Chain, address: str, height: int) -> Fraction | Decimal:
        for source in self.sources:
            if source.covers(chain):
                return source.balance(asset, chain, address, height)
        raise BalanceUnavailable(f"no balance source for {chain.id}")
