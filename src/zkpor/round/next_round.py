"""Starting next month's round from the last one, without hand-editing round.toml.

Round ids of the form YYYY-MM advance by a month; the snapshot moves to the same day-of-month and
time in the new month (the month's last day when the old snapshot was on a month end).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from zkpor.errors import InputError
from zkpor.fsutil import copy_atomically, make_directory
from zkpor.round.config import RoundConfig, load_round_config, parse_snapshot_time, write_round_config
from zkpor.round.decimal_text import parse_decimal_units
from zkpor.round.directory import ROUND_CONFIG_NAME
from zkpor.round.users import USERS_FILE_NAMES

_MONTH_ID = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def month_of(round_id: str) -> tuple[int, int] | None:
    match = _MONTH_ID.fullmatch(round_id)
    return (int(match.group(1)), int(match.group(2))) if match else None


def month_end(year: int, month: int, like: datetime) -> datetime:
    """The last day of the month at `like`'s time and offset."""
    return like.replace(year=year, month=month, day=calendar.monthrange(year, month)[1])


def add_month(year: int, month: int) -> tuple[int, int]:
    return (year + month // 12, month % 12 + 1)


def next_snapshot(previous: datetime) -> datetime:
    year, month = add_month(previous.year, previous.month)
    last_day = calendar.monthrange(previous.year, previous.month)[1]
    if previous.day == last_day:
        return month_end(year, month, previous)
    return previous.replace(
        year=year, month=month, day=min(previous.day, calendar.monthrange(year, month)[1])
    )


def next_round_config(
    config: RoundConfig,
    *,
    round_id: str | None = None,
    snapshot_time: datetime | None = None,
    prices: dict[str, str] | None = None,
) -> RoundConfig:
    """The round after `config`: the next month's id and snapshot unless given, new prices where given."""
    if round_id is None:
        month = month_of(config.round_id)
        if month is None:
            raise InputError(
                f"round id {config.round_id!r} is not YYYY-MM, so the next id cannot be guessed: "
                "pass --round-id"
            )
        round_id = "{:04d}-{:02d}".format(*add_month(*month))
    if round_id == config.round_id:
        raise InputError(f"the new round needs a new round id, not {round_id!r} again")
    snapshot = snapshot_time or next_snapshot(config.snapshot_time)
    if snapshot <= config.snapshot_time:
        raise InputError(f"the new snapshot {snapshot.isoformat()} is not after the last one")
    units = list(config.price_units)
    for symbol, text in (prices or {}).items():
        if symbol not in config.symbols:
            raise InputError(f"--price {symbol}: not an asset of this round ({', '.join(config.symbols)})")
        try:
            units[config.asset_index(symbol)] = parse_decimal_units(
                text, config.price_decimals, allow_negative=False
            )
        except ValueError as error:
            raise InputError(f"--price {symbol}={text}: {error}") from None
    return replace(config, round_id=round_id, snapshot_time=snapshot, price_units=tuple(units), source=None)


def start_next_round(
    previous_dir: Path,
    new_dir: Path,
    *,
    round_id: str | None = None,
    snapshot_time: datetime | None = None,
    prices: dict[str, str] | None = None,
    users_file: Path | None = None,
) -> RoundConfig:
    """Write NEW_DIR/round.toml for the round after PREVIOUS_DIR's (and copy the month's users file in)."""
    config = next_round_config(
        load_round_config(previous_dir / ROUND_CONFIG_NAME),
        round_id=round_id,
        snapshot_time=snapshot_time,
        prices=prices,
    )
    if (new_dir / ROUND_CONFIG_NAME).exists():
        raise InputError("already holds a round.toml", path=new_dir)
    if users_file is not None and users_file.name not in USERS_FILE_NAMES:
        raise InputError(f"the users file must be named {' or '.join(USERS_FILE_NAMES)}", path=users_file)
    make_directory(new_dir)
    if users_file is not None:
        copy_atomically(users_file, new_dir / users_file.name)
    write_round_config(config, new_dir / ROUND_CONFIG_NAME)
    return config


def parse_snapshot_option(text: str, option: str = "--snapshot") -> datetime:
    """An RFC 3339 date-time with an offset, as round.toml's snapshot_time takes it."""

    def error(message: str, _field: str) -> InputError:
        return InputError(f"{option}: {message}")

    return parse_snapshot_time(text, error)


def with_round(config: RoundConfig, round_id: str | None, snapshot_time: datetime | None) -> RoundConfig:
    """`config` with another round id and/or snapshot time (validated as round.toml would be)."""
    return replace(
        config,
        round_id=round_id or config.round_id,
        snapshot_time=snapshot_time or config.snapshot_time,
        source=None,
    )
