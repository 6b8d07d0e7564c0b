"""A round's configuration, ``round.toml``: round id, snapshot time, assets, USD prices.

Example (``zkpor generate`` writes the 22 default assets in this form)::

    round_id = "2024-06"
    snapshot_time = "2024-06-30T16:00:00Z"   # RFC 3339, with a UTC offset
    price_decimals = 6                       # USD prices carry at most this many decimals

    assets = [
      # symbol, proof precision of amounts (decimals), per-user cap: amount < 2^bits base units
      { symbol = "BTC",  decimals = 8, bits = 52 },
      { symbol = "USDT", decimals = 6, bits = 59 },
    ]

    [prices]   # USD per whole coin, as decimal strings (a TOML float may already be rounded)
    BTC = "67000"
    USDT = "1"

Amounts are integers in base units of ``10^-decimals`` of a coin; ``decimals`` is the precision the
proof works at, not necessarily the chain's (ETH has 18 on chain, 8 here).

The no-wrap rule (the solvency AIR enforces the same inequalities, so keep the two in step)
------------------------------------------------------------------------------------------------
The prover computes each user's net value with integer price weights::

    w_j = price_j · 10^price_decimals · 10^(D − decimals_j),   D = max_j decimals_j

so net value = Σ_j w_j · (equity_j − debt_j) in units of 10^−(price_decimals + D) USD, and every w_j
must be an exact integer (a price with a non-zero digit past ``price_decimals`` is an error).
Amounts are split into four 16-bit limbs; per limb position the AIR sums
``Σ_j w_j · (equity_limb_j − debt_limb_j)``, a signed value of magnitude at most ``Σ_j w_j · (2^16 − 1)``
represented in the Goldilocks field p = 2^64 − 2^32 + 1. For that never to wrap we require

    every w_j < 2^40    and    2 · Σ_j w_j · (2^16 − 1) · 2 < (p − 1) / 2

(the first 2 covers the signed range, the second leaves room for the carry chain between limbs).
Each amount is also capped by its asset's bit bound, ``amount < 2^bits`` with ``bits ≤ 63``, so an
amount is below p as a field element and fits four 16-bit limbs.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zkpor.errors import InputError
from zkpor.field.pure import P  # not field.scalar: reading a round.toml needs no numba
from zkpor.fsutil import write_atomically
from zkpor.round.decimal_text import DecimalTextError, format_units, parse_decimal_units

LIMB_BITS = 16
LIMBS_PER_AMOUNT = 4
MAX_ASSET_BITS = 63  # amount < 2^63 < p, and 63 bits fit four 16-bit limbs
MAX_DECIMALS = 18
MAX_PRICE_DECIMALS = 18
PRICE_WEIGHT_LIMIT = 2**40  # exclusive bound on every w_j
NET_VALUE_LIMIT = (P - 1) // 2  # exclusive bound on 2 · Σ w_j · (2^16 − 1) · 2
MAX_ASSETS = 256  # far above any exchange's list; keeps a hostile round.toml from costing much

ROUND_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Letters and digits only: '_' would make the CSV column 'X_equity' ambiguous, and "uid" cannot
# collide with a symbol because symbols are compared case-insensitively against it.
SYMBOL_PATTERN = re.compile(r"[A-Za-z0-9]{1,16}")
RFC3339_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")

TOP_LEVEL_FIELDS = ("round_id", "snapshot_time", "price_decimals", "assets", "prices")
ASSET_FIELDS = ("symbol", "decimals", "bits")

DEFAULT_ROUND_ID = "2024-06"
DEFAULT_SNAPSHOT_TIME = datetime(2024, 6, 30, 16, 0, 0, tzinfo=UTC)
# 6 decimals price sub-cent coins (PEOPLE at $0.08 keeps 4 significant digits) while BTC's weight,
# price · 10^6 with D = 8, stays below 2^40 up to a BTC price of about $1.1 million.
DEFAULT_PRICE_DECIMALS = 6

# symbol, proof decimals, approximate maximum supply in whole coins, example USD price (mid-2024).
# The default bit bound lets one account hold twice the whole supply: no real account is refused,
# while a value in the wrong unit (wei instead of ETH, say) still is. DOGE at 8 decimals hits the
# 63-bit ceiling, which is still 60 % of its supply.
DEFAULT_ASSETS: tuple[tuple[str, int, int, str], ...] = (
    ("BTC", 8, 21_000_000, "67000"),
    ("ETH", 8, 120_000_000, "3500"),
    ("USDT", 6, 150_000_000_000, "1"),
    ("USDC", 6, 60_000_000_000, "1"),
    ("XRP", 6, 100_000_000_000, "0.52"),
    ("DOGE", 8, 150_000_000_000, "0.16"),
    ("SOL", 8, 600_000_000, "150"),
    ("OKB", 8, 300_000_000, "45"),
    ("APT", 8, 1_200_000_000, "8.5"),
    ("DASH", 8, 19_000_000, "28"),
    ("DOT", 8, 1_500_000_000, "7"),
    ("ELF", 8, 1_000_000_000, "0.45"),
    ("EOS", 4, 2_100_000_000, "0.8"),
    ("ETC", 8, 210_700_000, "27"),
    ("FIL", 8, 2_000_000_000, "5.8"),
    ("LINK", 8, 1_000_000_000, "15"),
    ("LTC", 8, 84_000_000, "80"),
    ("OKT", 8, 21_000_000, "12"),
    ("PEOPLE", 8, 5_060_000_000, "0.08"),
    ("TON", 8, 5_100_000_000, "7"),
    ("TRX", 6, 90_000_000_000, "0.12"),
    ("UNI", 8, 1_000_000_000, "10"),
)


def bits_for_supply(max_supply: int, decimals: int) -> int:
    """Smallest bit bound that lets one account hold twice ``max_supply`` coins, capped at 63."""
    return min(MAX_ASSET_BITS, (2 * max_supply * 10**decimals).bit_length())


@dataclass(frozen=True)
class AssetConfig:
    """One covered asset. Amounts are integers in base units of 10^-decimals coin, below 2^bits."""

    symbol: str
    decimals: int
    bits: int

    @property
    def max_units(self) -> int:
        """Largest amount (equity or debt, in base units) one user may have in this asset."""
        return 2**self.bits - 1


@dataclass(frozen=True)
class RoundConfig:
    """A validated round.toml. Constructing one checks every rule, including the no-wrap rule.

    ``price_units[j]`` is asset j's USD price times ``10^price_decimals`` (an exact integer).
    ``source`` is the file it came from, used to locate errors; it takes no part in equality.
    """

    round_id: str
    snapshot_time: datetime
    price_decimals: int
    assets: tuple[AssetConfig, ...]
    price_units: tuple[int, ...]
    source: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self._check_fields()
        self.check_net_value_headroom()

    # ----------------------------------------------------------------------------------- views
    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(asset.symbol for asset in self.assets)

    @property
    def max_decimals(self) -> int:
        """D in the no-wrap rule: the largest ``decimals`` over the assets."""
        return max(asset.decimals for asset in self.assets)

    @property
    def net_value_decimals(self) -> int:
        """Net values are integers in units of 10^-(price_decimals + D) USD."""
        return self.price_decimals + self.max_decimals

    def asset_index(self, symbol: str) -> int:
        return self.symbols.index(symbol)

    def price_text(self, symbol: str) -> str:
        """The USD price of one whole coin, as exact decimal text."""
        return format_units(self.price_units[self.asset_index(symbol)], self.price_decimals)

    def price_weights(self) -> tuple[int, ...]:
        """``w_j = price_j · 10^price_decimals · 10^(D − decimals_j)``, exact integers (see module doc)."""
        top = self.max_decimals
        return tuple(
            units * 10 ** (top - asset.decimals)
            for units, asset in zip(self.price_units, self.assets, strict=True)
        )

    def net_value_bound(self) -> int:
        """``2 · Σ_j w_j · (2^16 − 1) · 2``: must stay below (p − 1) / 2."""
        return 2 * sum(self.price_weights()) * (2**LIMB_BITS - 1) * 2

    def headroom_bits(self) -> float:
        """How many doublings of all prices the no-wrap rule still allows (for reports)."""
        return math.log2(NET_VALUE_LIMIT / self.net_value_bound())

    # ------------------------------------------------------------------------------ validation
    def _error(self, message: str, field_name: str | None = None) -> InputError:
        return InputError(message, path=self.source or "round.toml", field=field_name)

    def check_net_value_headroom(self) -> None:
        """Raise InputError unless every w_j < 2^40 and 2·Σw_j·(2^16−1)·2 < (p−1)/2 (module doc)."""
        weights = self.price_weights()
        for asset, weight in zip(self.assets, weights, strict=True):
            if weight >= PRICE_WEIGHT_LIMIT:
                raise self._error(
                    f"price weight of {asset.symbol} is {weight} = price · 10^{self.price_decimals} · "
                    f"10^{self.max_decimals - asset.decimals}, not below 2^40 = {PRICE_WEIGHT_LIMIT}, so "
                    "the net-value sum could wrap modulo p; lower price_decimals or raise this asset's "
                    "decimals",
                    f"prices.{asset.symbol}",
                )
        if self.net_value_bound() >= NET_VALUE_LIMIT:
            heaviest = max(range(len(weights)), key=weights.__getitem__)
            raise self._error(
                f"prices too large for the no-wrap rule: 2 · Σ w_j · (2^16 − 1) · 2 = "
                f"{self.net_value_bound()} is not below (p − 1)/2 = {NET_VALUE_LIMIT}; the largest "
                f"weight is {self.assets[heaviest].symbol}'s ({weights[heaviest]}); lower price_decimals",
                f"prices.{self.assets[heaviest].symbol}",
            )

    def _check_fields(self) -> None:
        if not ROUND_ID_PATTERN.fullmatch(self.round_id):
            raise self._error(
                f"round_id {self.round_id!r} must be 1–64 letters, digits, '.', '_' or '-', starting "
                "with a letter or digit",
                "round_id",
            )
        if self.snapshot_time.tzinfo is None:
            raise self._error("snapshot_time needs a UTC offset (RFC 3339), e.g. 'Z'", "snapshot_time")
        if not 0 <= self.price_decimals <= MAX_PRICE_DECIMALS:
            raise self._error(
                f"price_decimals is {self.price_decimals}; it must be 0..{MAX_PRICE_DECIMALS}",
                "price_decimals",
            )
        if not self.assets:
            raise self._error("no assets: list at least one", "assets")
        if len(self.assets) > MAX_ASSETS:
            raise self._error(f"{len(self.assets)} assets; at most {MAX_ASSETS} are supported", "assets")
        if len(self.price_units) != len(self.assets):
            raise self._error("one price per asset is needed", "prices")
        seen: dict[str, str] = {}
        for asset, units in zip(self.assets, self.price_units, strict=True):
            where = f"assets.{asset.symbol}"
            bad_symbol = _symbol_problem(asset.symbol)
            if bad_symbol:
                raise self._error(bad_symbol, "assets.symbol")
            if asset.symbol.upper() in seen:
                earlier = seen[asset.symbol.upper()]
                raise self._error(
                    f"duplicate asset symbol {asset.symbol!r} (also listed as {earlier!r})", where
                )
            seen[asset.symbol.upper()] = asset.symbol
            if not 0 <= asset.decimals <= MAX_DECIMALS:
                raise self._error(
                    f"decimals is {asset.decimals}; it must be 0..{MAX_DECIMALS}", f"{where}.decimals"
                )
            if not 1 <= asset.bits <= MAX_ASSET_BITS:
                raise self._error(
                    f"bits is {asset.bits}; it must be 1..{MAX_ASSET_BITS} (amounts must stay below "
                    "p = 2^64 − 2^32 + 1 and fit four 16-bit limbs)",
                    f"{where}.bits",
                )
            if units <= 0:
                raise self._error(f"price of {asset.symbol} must be positive", f"prices.{asset.symbol}")


def _symbol_problem(symbol: str) -> str | None:
    """Why ``symbol`` cannot name an asset, or None if it can."""
    if not SYMBOL_PATTERN.fullmatch(symbol):
        return f"asset symbol {symbol!r} must be 1–16 letters or digits"
    if symbol.lower() == "uid":
        return "'uid' is reserved for the user id column"
    return None


def default_round_config(
    round_id: str = DEFAULT_ROUND_ID, snapshot_time: datetime = DEFAULT_SNAPSHOT_TIME
) -> RoundConfig:
    """The 22 assets a large exchange reports, with example mid-2024 prices."""
    assets = tuple(
        AssetConfig(symbol, decimals, bits_for_supply(supply, decimals))
        for symbol, decimals, supply, _ in DEFAULT_ASSETS
    )
    prices = tuple(parse_decimal_units(price, DEFAULT_PRICE_DECIMALS) for *_, price in DEFAULT_ASSETS)
    return RoundConfig(round_id, snapshot_time, DEFAULT_PRICE_DECIMALS, assets, prices)


# ------------------------------------------------------------------------------------- reading
def load_round_config(path: str | Path) -> RoundConfig:
    """Read and validate a round.toml; any problem is an InputError naming the file and field."""
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise InputError("round.toml not found", path=path) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path=path) from None
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not valid UTF-8 text (TOML files are UTF-8)", path=path) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line_match = re.search(r"at line (\d+)", str(error))
        raise InputError(
            f"not valid TOML: {error}", path=path, line=int(line_match.group(1)) if line_match else None
        ) from None
    return round_config_from_document(document, source=path)


def round_config_from_document(document: Mapping[str, Any], source: Path | None = None) -> RoundConfig:
    """Build a RoundConfig from parsed TOML, checking field names and types on the way."""

    def error(message: str, field_name: str | None = None) -> InputError:
        return InputError(message, path=source or "round.toml", field=field_name)

    def require(table: Mapping[str, Any], key: str, kind: type, field_name: str) -> Any:
        if key not in table:
            raise error(f"missing field '{key}'", field_name)
        value = table[key]
        # bool is an int in Python; `decimals = true` is still a mistake.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise error(f"must be {_toml_kind(kind)}, not {_toml_kind(type(value))}", field_name)
        return value

    unknown = [key for key in document if key not in TOP_LEVEL_FIELDS]
    if unknown:
        raise error(f"unknown field '{unknown[0]}' (known: {', '.join(TOP_LEVEL_FIELDS)})", unknown[0])

    round_id = require(document, "round_id", str, "round_id")
    snapshot_time = parse_snapshot_time(document.get("snapshot_time"), error)
    price_decimals = require(document, "price_decimals", int, "price_decimals")
    asset_tables = require(document, "assets", list, "assets")
    price_table = require(document, "prices", dict, "prices")
    if len(asset_tables) > MAX_ASSETS:
        raise error(f"{len(asset_tables)} assets; at most {MAX_ASSETS} are supported", "assets")

    assets = []
    for position, table in enumerate(asset_tables):
        if not isinstance(table, dict):
            raise error(
                'each asset must be a table like { symbol = "BTC", decimals = 8, bits = 52 }',
                f"assets[{position}]",
            )
        symbol = require(table, "symbol", str, f"assets[{position}].symbol")
        bad_symbol = _symbol_problem(symbol)
        if bad_symbol:
            raise error(bad_symbol, f"assets[{position}].symbol")
        for key in table:
            if key not in ASSET_FIELDS:
                raise error(
                    f"unknown field '{key}' (known: {', '.join(ASSET_FIELDS)})", f"assets.{symbol}.{key}"
                )
        decimals = require(table, "decimals", int, f"assets.{symbol}.decimals")
        bits = require(table, "bits", int, f"assets.{symbol}.bits")
        assets.append(AssetConfig(symbol, decimals, bits))

    symbols = [asset.symbol for asset in assets]
    first_spelling: dict[str, str] = {}
    for symbol in symbols:
        if symbol.upper() in first_spelling:
            raise error(
                f"duplicate asset symbol {symbol!r} (also listed as {first_spelling[symbol.upper()]!r})",
                f"assets.{symbol}",
            )
        first_spelling[symbol.upper()] = symbol
    for symbol in price_table:
        if symbol not in symbols:
            raise error(f"price given for '{symbol}', which is not in assets", f"prices.{symbol}")
    if not 0 <= price_decimals <= MAX_PRICE_DECIMALS:
        raise error(
            f"price_decimals is {price_decimals}; it must be 0..{MAX_PRICE_DECIMALS}", "price_decimals"
        )
    price_units = []
    for symbol in symbols:
        if symbol not in price_table:
            raise error(f"missing price for {symbol}", f"prices.{symbol}")
        price = price_table[symbol]
        if not isinstance(price, str):
            raise error(
                f'price must be a decimal string like "{price}", not {_toml_kind(type(price))} '
                "(a TOML float may already be rounded)",
                f"prices.{symbol}",
            )
        try:
            units = parse_decimal_units(price, price_decimals)
        except DecimalTextError as reason:
            raise error(f"price {reason} (price_decimals = {price_decimals})", f"prices.{symbol}") from None
        if units <= 0:
            raise error(f"price of {symbol} must be positive, got {price!r}", f"prices.{symbol}")
        price_units.append(units)

    return RoundConfig(round_id, snapshot_time, price_decimals, tuple(assets), tuple(price_units), source)


def parse_snapshot_time(value: object, error: Any) -> datetime:
    if value is None:
        raise error("missing field 'snapshot_time'", "snapshot_time")
    if isinstance(value, datetime):  # an unquoted TOML date-time
        parsed = value
    elif isinstance(value, str) and RFC3339_PATTERN.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
        except ValueError:
            parsed = None
        if parsed is None:
            raise error(f"{value!r} is not a valid date and time", "snapshot_time")
    else:
        raise error(
            f'{value!r} is not an RFC 3339 date-time with an offset, like "2024-06-30T16:00:00Z"',
            "snapshot_time",
        )
    if parsed.tzinfo is None:
        raise error("snapshot_time needs a UTC offset (RFC 3339), e.g. 'Z'", "snapshot_time")
    return parsed


def _toml_kind(kind: type) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a float",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
        datetime: "a date-time",
    }
    return names.get(kind, kind.__name__)


# ------------------------------------------------------------------------------------- writing
def format_snapshot_time(moment: datetime) -> str:
    """RFC 3339 text, with 'Z' for UTC."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def round_config_toml(config: RoundConfig) -> str:
    """The round.toml text for ``config`` (loading it gives back an equal RoundConfig)."""
    width = max(len(symbol) for symbol in config.symbols) + 3
    lines = [
        "# zkpor round configuration. Amounts in the users file are decimal strings with at most",
        "# `decimals` decimals per asset; every amount must be below 2^bits base units.",
        f'round_id = "{config.round_id}"',
        f'snapshot_time = "{format_snapshot_time(config.snapshot_time)}"',
        f"price_decimals = {config.price_decimals}   # USD prices carry at most this many decimals",
        "",
        "assets = [",
    ]
    for asset in config.assets:
        quoted = f'"{asset.symbol}",'
        lines.append(
            f"  {{ symbol = {quoted:<{width}} decimals = {asset.decimals:>2}, bits = {asset.bits:>2} }},"
        )
    lines += ["]", "", "[prices]   # USD per whole coin, as decimal strings"]
    for symbol, units in zip(config.symbols, config.price_units, strict=True):
        lines.append(f'{symbol} = "{format_units(units, config.price_decimals)}"')
    return "\n".join(lines) + "\n"


def write_round_config(config: RoundConfig, path: str | Path) -> None:
    """Write ``config`` as round.toml, atomically (a reader sees the old file or the new one)."""
    write_atomically(Path(path), round_config_toml(config).encode("utf-8"))


def write_default_round_config(path: str | Path) -> RoundConfig:
    """Write the default 22-asset round.toml to ``path`` and return it."""
    config = default_round_config()
    write_round_config(config, path)
    return config
