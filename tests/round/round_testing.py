"""Sample files and helpers shared by the round-input tests (tests/round is on sys.path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zkpor.errors import InputError

# Three assets with different decimals and bounds, small enough to reason about by hand.
# Weights (price_decimals 2, D = 8): BTC 60000.5·10^2 = 6_000_050; ETH 300_000; USDT 100·10^2 = 10_000.
SMALL_ROUND_TOML = """\
round_id = "test-1"
snapshot_time = "2024-06-30T16:00:00Z"
price_decimals = 2
assets = [
  { symbol = "BTC", decimals = 8, bits = 52 },
  { symbol = "ETH", decimals = 8, bits = 40 },
  { symbol = "USDT", decimals = 6, bits = 40 },
]

[prices]
BTC = "60000.5"
ETH = "3000"
USDT = "1"
"""
SMALL_WEIGHTS = (6_000_050, 300_000, 10_000)

PAIR_HEADER = "uid,BTC_equity,BTC_debt,ETH_equity,ETH_debt,USDT_equity,USDT_debt"
NET_HEADER = "uid,BTC,ETH,USDT"


def write_file(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def expect_bad_users_file(
    directory: Path,
    config: Any,
    name: str,
    text: str | bytes,
    *,
    match: str,
    line: int | None,
    field: str | None,
) -> None:
    """Write a users file `name` and require loading it to fail exactly as described."""
    from zkpor.round.users import load_users

    path = write_file(directory, name, text)
    expect_input_error(lambda: load_users(path, config), match=match, line=line, field=field, path=path)


def expect_input_error(
    action: Callable[[], Any],
    *,
    match: str,
    line: int | None = None,
    field: str | None = None,
    path: Path | None = None,
) -> InputError:
    """Run ``action()`` and require an InputError containing ``match``, located exactly at ``line``
    and ``field`` (None means "no line" / "no field"), and naming ``path`` when given."""
    with pytest.raises(InputError) as caught:
        action()
    error = caught.value
    assert match in str(error), f"{match!r} not in {str(error)!r}"
    assert error.line == line, f"line {error.line} != {line} in {str(error)!r}"
    assert error.field == field, f"field {error.field!r} != {field!r} in {str(error)!r}"
    if path is not None:
        assert error.path == str(path), f"path {error.path} != {path}"
    return error
