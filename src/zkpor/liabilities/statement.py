"""The round statement: everything a report or a customer reads, pinned by one digest.

Pure Python (standard library and Poseidon2): the customer's verifier recomputes the digest.

A statement is the round id, the snapshot time, `price_decimals`, every asset's symbol, decimals,
bit bound, price text and price weight, and the batch shape (limb bits, batch size, batch count).
Its digest is a public input of every batch proof (absorbed into the STARK transcript) and the
initial capacity of every leaf sponge is derived from it (`encoding.leaf_capacity`), so a published
file or an inclusion proof that restates any field no longer matches the proofs or the root.

Canonical encoding (docs/inclusion-format.md has the byte-level specification):

    u8 version (1) | str round_id | str snapshot_time | u8 price_decimals | u8 limb_bits
    | u32 batch_size | u32 batch_count | u16 asset count
    | per asset: str symbol | u8 decimals | u8 bits | str price | u64 weight

all integers little-endian, `str` a u16 byte length then UTF-8. The digest is
Poseidon2-sponge("zkpor-statement-v1", bytes_to_elements(encoding)), 4 field elements.

The texts are canonical, so one statement has exactly one encoding: the snapshot time in UTC as
RFC 3339 with "Z" (`2024-06-30T16:00:00Z`, microseconds only when non-zero), a price as the
shortest exact decimal text of price · 10^price_decimals units (`0.52`, `67000`), and the weight
w_j = price_j · 10^price_decimals · 10^(D − decimals_j) with D the largest decimals.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from zkpor.hash import poseidon2
from zkpor.liabilities.encoding import bytes_to_elements
from zkpor.round.decimal_text import DecimalTextError, format_units, parse_decimal_units

if TYPE_CHECKING:
    from zkpor.round.config import RoundConfig

STATEMENT_DOMAIN = "zkpor-statement-v1"
ENCODING_VERSION = 1
MAX_ENCODED_BYTES = 1 << 16  # 256 assets with 16-byte symbols and long prices stay far below
MAX_ASSETS = 256
Digest = tuple[int, int, int, int]

_SNAPSHOT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")


class StatementFormatError(ValueError):
    """An encoded statement that is not canonical or is cut short; the message says where."""


@dataclass(frozen=True)
class StatementAsset:
    symbol: str
    decimals: int
    bits: int
    price: str  # USD per whole coin, canonical exact decimal text


@dataclass(frozen=True)
class Statement:
    round_id: str
    snapshot_time: str  # canonical RFC 3339 in UTC (see the module doc)
    price_decimals: int
    assets: tuple[StatementAsset, ...]
    limb_bits: int
    batch_size: int
    batch_count: int

    # ---- derived numbers ------------------------------------------------------------------

    @property
    def symbols(self) -> list[str]:
        return [a.symbol for a in self.assets]

    @property
    def price_units(self) -> tuple[int, ...]:
        return tuple(parse_decimal_units(a.price, self.price_decimals) for a in self.assets)

    @property
    def weights(self) -> tuple[int, ...]:
        top = max(a.decimals for a in self.assets)
        return tuple(u * 10 ** (top - a.decimals) for u, a in zip(self.price_units, self.assets, strict=True))

    # ---- digest and encoding --------------------------------------------------------------

    def digest(self) -> Digest:
        return tuple(poseidon2.sponge_hash(STATEMENT_DOMAIN, bytes_to_elements(self.encode())))  # type: ignore[return-value]

    def encode(self) -> bytes:
        out = [struct.pack("<B", ENCODING_VERSION), _text(self.round_id), _text(self.snapshot_time)]
        out.append(struct.pack("<BBIIH", self.price_decimals, self.limb_bits, self.batch_size,
                               self.batch_count, len(self.assets)))  # fmt: skip
        for asset, weight in zip(self.assets, self.weights, strict=True):
            out += [_text(asset.symbol), struct.pack("<BB", asset.decimals, asset.bits), _text(asset.price)]
            out.append(struct.pack("<Q", weight))
        return b"".join(out)

    @staticmethod
    def decode(data: bytes) -> Statement:
        """Inverse of `encode`; refuses trailing bytes and anything not canonical."""
        reader = _Reader(data)
        if reader.unpack("<B")[0] != ENCODING_VERSION:
            raise StatementFormatError("unknown statement encoding version")
        round_id, snapshot = reader.text(), reader.text()
        price_decimals, limb_bits, batch_size, batch_count, count = reader.unpack("<BBIIH")
        assets, weights = [], []
        for _ in range(count):
            symbol = reader.text()
            decimals, bits = reader.unpack("<BB")
            assets.append(StatementAsset(symbol, decimals, bits, reader.text()))
            weights.append(reader.unpack("<Q")[0])
        if reader.offset != len(data):
            raise StatementFormatError("trailing bytes after the statement")
        statement = Statement(round_id, snapshot, price_decimals, tuple(assets), limb_bits, batch_size,
                              batch_count)  # fmt: skip
        problem = next(statement.problems(), None)
        if problem:
            raise StatementFormatError(f"field '{problem[0]}': {problem[1]}")
        if tuple(weights) != statement.weights or statement.encode() != data:
            raise StatementFormatError("the encoded weights are not the ones the prices give")
        return statement

    # ---- checks and comparison -------------------------------------------------------------

    def problems(self) -> Iterator[tuple[str, str]]:
        """(field, reason) for every rule a canonical statement breaks (the shape, not the no-wrap
        rule, which `round.config` checks)."""
        texts = [("round_id", self.round_id), ("snapshot_time", self.snapshot_time)]
        texts += [(f"assets[{i}].{name}", getattr(a, name)) for i, a in enumerate(self.assets)
                  for name in ("symbol", "price")]  # fmt: skip
        for name, text in texts:
            if not utf8_text(text):
                yield name, "must be valid Unicode text"
                return
        if not 1 <= len(self.round_id.encode()) <= 64:
            yield "round_id", "must be 1–64 bytes"
        if not canonical_snapshot_time(self.snapshot_time):
            yield "snapshot_time", "must be RFC 3339 in UTC with 'Z', like 2024-06-30T16:00:00Z"
        if not 0 <= self.price_decimals <= 18:
            yield "price_decimals", "must be 0..18"
        if self.limb_bits not in (8, 16):
            yield "limb_bits", "must be 8 or 16"
        if not 2 <= self.batch_size <= 1 << 24 or self.batch_size & (self.batch_size - 1):
            yield "batch_size", "must be a power of two, 2 … 2^24"
        if not 1 <= self.batch_count < 1 << 32:
            yield "batch_count", "must be 1 … 2^32 − 1"
        if not 1 <= len(self.assets) <= MAX_ASSETS:
            yield "assets", f"must list 1–{MAX_ASSETS} assets"
        for i, a in enumerate(self.assets):
            if not 1 <= len(a.symbol.encode()) <= 16:
                yield f"assets[{i}].symbol", "must be 1–16 bytes"
            if not 0 <= a.decimals <= 18:
                yield f"assets[{i}].decimals", "must be 0..18"
            if not 1 <= a.bits <= 63:
                yield f"assets[{i}].bits", "must be 1..63"
            try:
                units = parse_decimal_units(a.price, self.price_decimals, allow_negative=False)
            except DecimalTextError as error:
                yield f"assets[{i}].price", str(error)
                continue
            if units <= 0 or format_units(units, self.price_decimals) != a.price:
                yield f"assets[{i}].price", f"{a.price!r} is not a positive price in its shortest form"
        try:
            weights = self.weights
        except ValueError:  # a price or the asset list is already reported above
            return
        for i, weight in enumerate(weights):
            if weight >= 1 << 64:  # the encoding's u64: refuse here rather than fail in `encode`
                yield f"assets[{i}].price", "gives a price weight of 2^64 or more: too large to encode"

    def fields(self) -> list[tuple[str, object]]:
        """Every field, flattened and named as `first_difference` reports it (assets by symbol)."""
        out: list[tuple[str, object]] = [
            ("round_id", self.round_id),
            ("snapshot_time", self.snapshot_time),
            ("price_decimals", self.price_decimals),
            ("limb_bits", self.limb_bits),
            ("batch_size", self.batch_size),
            ("batch_count", self.batch_count),
            ("assets (symbols, in order)", tuple(self.symbols)),
        ]
        for a, weight in zip(self.assets, self.weights, strict=True):
            where = f"assets[{a.symbol}]"
            out += [(f"{where}.decimals", a.decimals), (f"{where}.bits", a.bits), (f"{where}.price", a.price)]
            out.append((f"{where}.weight", weight))
        return out

    def first_difference(self, other: Statement) -> tuple[str, object, object] | None:
        """(field, this value, other value) of the first field where two statements differ."""
        for (name, mine), (_, theirs) in zip(self.fields(), other.fields(), strict=False):
            if mine != theirs:
                return name, mine, theirs
        return None

    # ---- building -------------------------------------------------------------------------

    @staticmethod
    def from_config(config: RoundConfig, limb_bits: int, batch_size: int, batch_count: int) -> Statement:
        assets = tuple(
            StatementAsset(a.symbol, a.decimals, a.bits, config.price_text(a.symbol)) for a in config.assets
        )
        return Statement(config.round_id, snapshot_text(config.snapshot_time), config.price_decimals,
                         assets, limb_bits, batch_size, batch_count)  # fmt: skip

    def config_document(self) -> dict[str, Any]:
        """The statement as a round.toml document, for `round.config`'s checks (the no-wrap rule)."""
        return {
            "round_id": self.round_id,
            "snapshot_time": self.snapshot_time,
            "price_decimals": self.price_decimals,
            "assets": [{"symbol": a.symbol, "decimals": a.decimals, "bits": a.bits} for a in self.assets],
            "prices": {a.symbol: a.price for a in self.assets},
        }


def snapshot_text(moment: datetime) -> str:
    """The canonical text of a snapshot time: UTC, RFC 3339 with 'Z'."""
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z"


def canonical_snapshot_time(text: str) -> bool:
    if not _SNAPSHOT.fullmatch(text):
        return False
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return snapshot_text(moment) == text


def utf8_text(value: object) -> bool:
    """A str that UTF-8 can encode (JSON's \\ud800 escapes give lone surrogates, which it cannot)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _text(value: str) -> bytes:
    data = value.encode()
    return struct.pack("<H", len(data)) + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        if len(data) > MAX_ENCODED_BYTES:
            raise StatementFormatError("the encoded statement is over its size limit")
        self.data, self.offset = data, 0

    def unpack(self, layout: str) -> tuple[int, ...]:
        size = struct.calcsize(layout)
        if self.offset + size > len(self.data):
            raise StatementFormatError("the encoded statement is cut short")
        values = struct.unpack_from(layout, self.data, self.offset)
        self.offset += size
        return values

    def text(self) -> str:
        (length,) = self.unpack("<H")
        raw = self.data[self.offset : self.offset + length]
        if len(raw) != length:
            raise StatementFormatError("the encoded statement is cut short")
        self.offset += length
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise StatementFormatError("a text of the statement is not UTF-8") from None
