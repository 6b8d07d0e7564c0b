"""round.toml: defaults, round trip, and every validation error with a real bad file."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from round_testing import SMALL_ROUND_TOML, SMALL_WEIGHTS, expect_input_error, write_file

from zkpor.field.scalar import P_INT
from zkpor.round.config import (
    NET_VALUE_LIMIT,
    PRICE_WEIGHT_LIMIT,
    AssetConfig,
    RoundConfig,
    default_round_config,
    load_round_config,
    round_config_toml,
    write_default_round_config,
    write_round_config,
)

DEFAULT_SYMBOLS = (
    "BTC ETH USDT USDC XRP DOGE SOL OKB APT DASH DOT ELF EOS ETC FIL LINK LTC OKT PEOPLE TON TRX UNI".split()
)


def test_default_config_covers_the_22_assets_in_order() -> None:
    config = default_round_config()
    assert config.symbols == tuple(DEFAULT_SYMBOLS)
    assert all(1 <= asset.bits <= 63 for asset in config.assets)
    by_symbol = {asset.symbol: asset for asset in config.assets}
    assert (by_symbol["ETH"].decimals, by_symbol["USDT"].decimals, by_symbol["EOS"].decimals) == (8, 6, 4)
    # The whole BTC supply (21M coins in satoshis) fits one account's bound.
    assert by_symbol["BTC"].max_units >= 21_000_000 * 10**8


def test_default_round_toml_round_trips(tmp_path: Path) -> None:
    written = write_default_round_config(tmp_path / "round.toml")
    loaded = load_round_config(tmp_path / "round.toml")
    assert loaded == written == default_round_config()
    assert loaded.source == tmp_path / "round.toml"
    assert not list(tmp_path.glob(".*tmp")), "temporary file left behind"


def test_custom_config_round_trips(tmp_path: Path) -> None:
    config = RoundConfig(
        round_id="2025-01.b",
        snapshot_time=datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC),
        price_decimals=9,
        assets=(AssetConfig("ABC", 0, 1), AssetConfig("xyz9", 2, 63)),
        price_units=(1, 123_456_789),  # 0.000000001 and 0.123456789 USD
    )
    write_round_config(config, tmp_path / "round.toml")
    assert load_round_config(tmp_path / "round.toml") == config
    assert "2025-01-31T23:59:59Z" in (tmp_path / "round.toml").read_text()


def test_small_config_fields(small_config: RoundConfig) -> None:
    assert small_config.round_id == "test-1"
    assert small_config.snapshot_time == datetime(2024, 6, 30, 16, tzinfo=UTC)
    assert small_config.price_text("BTC") == "60000.5"
    assert small_config.price_weights() == SMALL_WEIGHTS
    assert small_config.net_value_decimals == 2 + 8


def test_price_weight_formula() -> None:
    """w_j = price_j · 10^price_decimals · 10^(D − decimals_j), computed independently here."""
    config = default_round_config()
    top = max(asset.decimals for asset in config.assets)
    for asset, weight in zip(config.assets, config.price_weights(), strict=True):
        price = Decimal(config.price_text(asset.symbol))
        assert weight == int(price * 10**config.price_decimals) * 10 ** (top - asset.decimals), asset.symbol
    assert NET_VALUE_LIMIT == (P_INT - 1) // 2
    assert config.net_value_bound() == 2 * sum(config.price_weights()) * (2**16 - 1) * 2
    assert config.net_value_bound() < NET_VALUE_LIMIT
    assert config.headroom_bits() > 0


def test_snapshot_time_as_toml_datetime_and_offset(tmp_path: Path) -> None:
    text = SMALL_ROUND_TOML.replace('"2024-06-30T16:00:00Z"', "2024-06-30T18:00:00+02:00")
    config = load_round_config(write_file(tmp_path, "round.toml", text))
    assert config.snapshot_time == datetime(2024, 6, 30, 16, tzinfo=UTC)


def _bad_config(tmp_path: Path, old: str, new: str, **expected: object) -> None:
    assert old in SMALL_ROUND_TOML
    path = write_file(tmp_path, "round.toml", SMALL_ROUND_TOML.replace(old, new))
    expect_input_error(lambda: load_round_config(path), path=path, **expected)


@pytest.mark.parametrize(
    ("old", "new", "match", "field"),
    [
        # duplicate symbols, exact and differing only in case
        ('symbol = "ETH"', 'symbol = "BTC"', "duplicate asset symbol 'BTC'", "assets.BTC"),
        ('symbol = "ETH"', 'symbol = "btc"', "duplicate asset symbol 'btc'", "assets.btc"),
        # unknown fields, top level and per asset
        ('round_id = "test-1"', 'round_id = "test-1"\nroundid = "x"', "unknown field 'roundid'", "roundid"),
        ("bits = 52 }", "bits = 52, precision = 8 }", "unknown field 'precision'", "assets.BTC.precision"),
        # decimals 0..18, bits 1..63
        ("decimals = 6", "decimals = 19", "decimals is 19; it must be 0..18", "assets.USDT.decimals"),
        ("decimals = 6", "decimals = -1", "decimals is -1", "assets.USDT.decimals"),
        ("bits = 52", "bits = 64", "bits is 64; it must be 1..63", "assets.BTC.bits"),
        ("bits = 52", "bits = 0", "bits is 0", "assets.BTC.bits"),
        ("bits = 52", "bits = 52.0", "must be an integer, not a float", "assets.BTC.bits"),
        ("bits = 52", "bits = true", "must be an integer, not a boolean", "assets.BTC.bits"),
        # prices: zero, negative, missing, unknown asset, float, too many decimals, malformed
        ('ETH = "3000"', 'ETH = "0"', "price of ETH must be positive", "prices.ETH"),
        ('ETH = "3000"', 'ETH = "0.00"', "price of ETH must be positive", "prices.ETH"),
        ('ETH = "3000"', 'ETH = "-3000"', "price of ETH must be positive", "prices.ETH"),
        ('ETH = "3000"\n', "", "missing price for ETH", "prices.ETH"),
        ('USDT = "1"', 'USDT = "1"\nDOGE = "0.1"', "price given for 'DOGE'", "prices.DOGE"),
        ('ETH = "3000"', "ETH = 3000.5", "must be a decimal string", "prices.ETH"),
        ('ETH = "3000"', "ETH = 3000", "not an integer", "prices.ETH"),
        ('ETH = "3000"', 'ETH = "3000.001"', "more than 2 decimals", "prices.ETH"),
        ('ETH = "3000"', 'ETH = "3e3"', "exponents are not allowed", "prices.ETH"),
        ('ETH = "3000"', 'ETH = "3,000"', "not a decimal number", "prices.ETH"),
        # round id, snapshot time, price_decimals, missing sections
        ('round_id = "test-1"', 'round_id = "../etc"', "round_id '../etc' must be", "round_id"),
        ('round_id = "test-1"', "round_id = 7", "must be a string", "round_id"),
        ('"2024-06-30T16:00:00Z"', '"2024-06-30T16:00:00"', "RFC 3339", "snapshot_time"),
        ('"2024-06-30T16:00:00Z"', "2024-06-30T16:00:00", "needs a UTC offset", "snapshot_time"),
        ('"2024-06-30T16:00:00Z"', '"2024-02-30T16:00:00Z"', "not a valid date", "snapshot_time"),
        ('"2024-06-30T16:00:00Z"', '"June 30"', "RFC 3339", "snapshot_time"),
        ("price_decimals = 2", "price_decimals = 19", "price_decimals is 19", "price_decimals"),
        ("price_decimals = 2", "", "missing field 'price_decimals'", "price_decimals"),
        (
            '{ symbol = "BTC", decimals = 8, bits = 52 },',
            '{ symbol = "BTC", decimals = 8 },',
            "missing field 'bits'",
            "assets.BTC.bits",
        ),
        ('symbol = "ETH"', 'symbol = "ETH_2"', "must be 1–16 letters or digits", "assets[1].symbol"),
        ('symbol = "ETH"', 'symbol = "UID"', "'uid' is reserved", "assets[1].symbol"),
    ],
)
def test_bad_round_toml(tmp_path: Path, old: str, new: str, match: str, field: str) -> None:
    _bad_config(tmp_path, old, new, match=match, field=field)


def test_empty_asset_list(tmp_path: Path) -> None:
    text = SMALL_ROUND_TOML.split("assets = [")[0] + "assets = []\n[prices]\n"
    path = write_file(tmp_path, "round.toml", text)
    expect_input_error(lambda: load_round_config(path), match="no assets", field="assets")


def test_price_weight_must_stay_below_2_pow_40(tmp_path: Path) -> None:
    # BTC at 8 decimals is the top precision, so its weight is price · 10^2: 2^40 / 100 ≈ 1.1e10 USD.
    _bad_config(
        tmp_path,
        'BTC = "60000.5"',
        'BTC = "10995116277.76"',  # exactly 2^40 / 100
        match="price weight of BTC is 1099511627776",
        field="prices.BTC",
    )
    config = load_round_config(
        write_file(tmp_path, "round.toml", SMALL_ROUND_TOML.replace('"60000.5"', '"10995116277.75"'))
    )
    assert config.price_weights()[0] == PRICE_WEIGHT_LIMIT - 1


def test_sum_of_weights_must_leave_headroom(tmp_path: Path) -> None:
    """Each w_j < 2^40 but their sum breaks 2·Σw·(2^16−1)·2 < (p−1)/2: 40 assets at w ≈ 2^40 − 1."""
    assets = "\n".join(f'  {{ symbol = "A{k}", decimals = 0, bits = 8 }},' for k in range(40))
    prices = "\n".join(f'A{k} = "{PRICE_WEIGHT_LIMIT - 1}"' for k in range(40))
    text = (
        f'round_id = "r"\nsnapshot_time = "2024-06-30T16:00:00Z"\nprice_decimals = 0\n'
        f"assets = [\n{assets}\n]\n[prices]\n{prices}\n"
    )
    path = write_file(tmp_path, "round.toml", text)
    expect_input_error(
        lambda: load_round_config(path), match="prices too large for the no-wrap rule", field="prices.A0"
    )
    # With 30 such assets the bound still holds: 4 · 30 · 2^40 · 65535 < 2^63.
    text_ok = text.replace(assets, "\n".join(assets.splitlines()[:30])).replace(
        prices, "\n".join(prices.splitlines()[:30])
    )
    config = load_round_config(write_file(tmp_path, "round.toml", text_ok))
    assert config.net_value_bound() < NET_VALUE_LIMIT


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write_file(tmp_path, "round.toml", SMALL_ROUND_TOML.replace('ETH = "3000"', "ETH = "))
    error = expect_input_error(lambda: load_round_config(path), match="not valid TOML", line=12)
    assert error.path == str(path)


def test_missing_and_non_utf8_round_toml(tmp_path: Path) -> None:
    expect_input_error(lambda: load_round_config(tmp_path / "round.toml"), match="round.toml not found")
    path = write_file(tmp_path, "round.toml", SMALL_ROUND_TOML.encode("utf-16"))
    expect_input_error(lambda: load_round_config(path), match="not valid UTF-8")


def test_constructing_an_invalid_config_directly_fails() -> None:
    assets = (AssetConfig("BTC", 8, 52),)
    expect_input_error(
        lambda: RoundConfig("r", datetime(2024, 1, 1, tzinfo=UTC), 2, assets, (0,)),
        match="price of BTC must be positive",
        field="prices.BTC",
    )
    expect_input_error(
        lambda: RoundConfig("r", datetime(2024, 1, 1), 2, assets, (1,)),
        match="needs a UTC offset",
        field="snapshot_time",
    )


def test_round_config_toml_is_what_write_round_config_writes(tmp_path: Path) -> None:
    config = default_round_config()
    write_round_config(config, tmp_path / "round.toml")
    assert (tmp_path / "round.toml").read_text() == round_config_toml(config)
