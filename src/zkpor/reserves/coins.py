"""Exchange coin names → (asset, chain): the documented, user-extensible map in coin_names.toml.

Exchanges name one asset many ways (`USDT-TRC20`, `OKB-X1-USDT` is USDT on X Layer, `POLY-USDC`,
`LTCK-OKC20` is LTC wrapped on OKC, `TONCOIN-NEW`, `ETH(ALL)` in a totals section), and some names
look like an asset they are not. So a row's asset comes only from this map, never from the shape of
its name: an unknown name is reported, not guessed. See coin_names.toml for the format.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from zkpor.errors import InputError
from zkpor.reserves.networks import Chain, resolve_chain

_SYMBOL = re.compile(r"[A-Z0-9.]{1,16}")
ALL_NETWORKS = "(ALL)"  # suffix of a totals-section name covering every network of an asset
UNKNOWN_COIN = "unknown coin name"  # how the reason of a row with an unmapped name begins


class CoinNameError(ValueError):
    """The row's coin and network do not name an asset on a known chain; the message says why."""


@dataclass(frozen=True, slots=True)
class CoinName:
    asset: str
    network: str  # a chain id or alias; "" = none
    pinned: bool  # True for names that carry their network ([coins]); False for plain symbols ([assets])


def name_key(name: str) -> str:
    """Names compare ignoring case, spaces and `_` versus `-`."""
    return re.sub(r"\s+", "", name).upper().replace("_", "-")


class CoinMap:
    """The shipped map, extended by user files in order (a later entry replaces an earlier one)."""

    def __init__(self, files: tuple[str, ...] = ()) -> None:
        self.files = files
        self.names: dict[str, CoinName] = {}
        shipped = resources.files("zkpor.reserves").joinpath("coin_names.toml")
        self._add(shipped.read_text(encoding="utf-8"), "coin_names.toml (shipped)")
        for file in files:
            try:
                text = Path(file).read_text(encoding="utf-8")
            except OSError as error:
                raise InputError(f"cannot read coin-name map: {error.strerror}", path=file) from None
            except UnicodeDecodeError:
                raise InputError("coin-name map is not UTF-8 text", path=file) from None
            self._add(text, file)

    def _add(self, text: str, source: str) -> None:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise InputError(f"coin-name map is not valid TOML: {error}", path=source) from None
        unknown = set(document) - {"assets", "coins"}
        if unknown:
            raise InputError(
                f"unknown table(s) {sorted(unknown)}: expected [assets] and [coins]", path=source
            )
        for name, home in document.get("assets", {}).items():
            where = f"assets.{name}"
            if not isinstance(home, str):
                message = 'an asset\'s value is its home network as a string ("" for none)'
                raise InputError(message, path=source, field=where)
            self._put(name, CoinName(name_key(name), home, pinned=False), source, where)
        for name, entry in document.get("coins", {}).items():
            where = f"coins.{name}"
            if not isinstance(entry, dict) or set(entry) != {"asset", "network"}:
                raise InputError('expected { asset = "SYMBOL", network = "CHAIN" }', path=source, field=where)
            if not all(isinstance(value, str) for value in entry.values()) or not entry["network"]:
                raise InputError("asset and network must be non-empty strings", path=source, field=where)
            self._put(name, CoinName(name_key(entry["asset"]), entry["network"], pinned=True), source, where)

    def _put(self, name: str, coin: CoinName, source: str, where: str) -> None:
        if not _SYMBOL.fullmatch(coin.asset):
            message = f"asset symbol {coin.asset!r} is not 1-16 letters or digits"
            raise InputError(message, path=source, field=where)
        if coin.network and resolve_chain(coin.network) is None:
            raise InputError(f"unknown network {coin.network!r}", path=source, field=where)
        self.names[name_key(name)] = coin

    def lookup(self, coin: str) -> CoinName | None:
        return self.names.get(name_key(coin))

    def resolve(self, coin: str, network: str) -> tuple[str, Chain]:
        """(asset, chain) of a row from its coin and network cells; raises CoinNameError why not."""
        entry = self.lookup(coin) if coin.strip() else None
        if entry is None:
            if not coin.strip():
                raise CoinNameError("no coin name")
            raise CoinNameError(
                f"{UNKNOWN_COIN} {coin.strip()!r}: not in the coin-name map (add it with --asset-map)"
            )
        home = resolve_chain(entry.network) if entry.network else None  # checked when loaded
        if network.strip():
            chain = resolve_chain(network)
            if chain is None:
                raise CoinNameError(f"unknown network {network.strip()!r}")
            if entry.pinned and home != chain:
                raise CoinNameError(
                    f"coin {coin.strip()} is {entry.asset} on {home.id if home else '?'}, but the "
                    f"network column says {network.strip()!r} ({chain.id})"
                )
            return entry.asset, chain
        if home is None:
            raise CoinNameError(f"coin {coin.strip()} is on several networks and the row names none")
        return entry.asset, home

    def totals_scope(self, name: str) -> tuple[str, Chain | None]:
        """(asset, chain) a totals-section line covers; chain None for `ASSET(ALL)`."""
        if name_key(name).endswith(ALL_NETWORKS):
            base = name_key(name)[: -len(ALL_NETWORKS)]
            entry = self.lookup(base)
            if entry is None:
                raise CoinNameError(f"{UNKNOWN_COIN} {base!r}")
            return entry.asset, None
        return self.resolve(name, "")


_CACHE: dict[tuple[str, ...], CoinMap] = {}


def coin_map(files: tuple[str, ...] = ()) -> CoinMap:
    """The map for these extension files, loaded once per process (workers ask for it per job)."""
    if files not in _CACHE:
        _CACHE[files] = CoinMap(files)
    return _CACHE[files]
