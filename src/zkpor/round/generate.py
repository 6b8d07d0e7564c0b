"""A synthetic exchange for tests, demos and benchmarks: ``zkpor generate --users N --seed S OUT/``.

The shape follows what exchanges publish about their books:
- asset popularity: most users hold USDT and/or BTC/ETH; long-tail coins are held by a few percent;
- heavy-tailed balances: each holding's USD value is lognormal (median about $40), scaled by a per-user
  Pareto wealth factor (α = 1.3), so most users hold little and a handful are whales;
- margin debt: about 3 % of users borrow (mostly USDT) against their other holdings, at 5–80 % of
  their collateral's USD value, so every user's net value by the AIR's weights stays ≥ 0;
- uids are distinct 10-digit numbers (a bijection of the user index, offset by the seed).

Users are made a block of 2^20 at a time, each block from its own ``numpy.random.Generator``
stream of the seed S, so a seed always gives the same bytes and 10^7 users take no more memory
than 10^6. Work is vectorised over the held cells only, and the file is formatted by a numba kernel.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from zkpor.errors import InputError
from zkpor.fsutil import OutputError, make_directory, output_error, renamed_in_message
from zkpor.round.config import RoundConfig, default_round_config, write_round_config
from zkpor.round.directory import ROUND_CONFIG_NAME
from zkpor.round.net_value import first_negative_net_value_row
from zkpor.round.users import USERS_FILE_NAMES
from zkpor.round.users_writer import UsersBlock, write_users_blocks

# Share of users holding each asset (long-tail assets not listed get DEFAULT_HOLDING_PROBABILITY).
HOLDING_PROBABILITY = {
    "USDT": 0.55,
    "BTC": 0.30,
    "ETH": 0.25,
    "USDC": 0.12,
    "SOL": 0.10,
    "DOGE": 0.10,
    "XRP": 0.08,
    "TRX": 0.06,
    "OKB": 0.05,
    "TON": 0.05,
    "LTC": 0.04,
    "LINK": 0.04,
    "PEOPLE": 0.03,
    "DOT": 0.03,
    "FIL": 0.025,
    "ETC": 0.025,
    "APT": 0.02,
    "UNI": 0.02,
    "OKT": 0.015,
    "EOS": 0.015,
    "DASH": 0.01,
    "ELF": 0.008,
}
DEFAULT_HOLDING_PROBABILITY = 0.02
# What margin borrowers owe, as a share of borrowers (assets missing from the round are skipped).
DEBT_ASSET_SHARE = {"USDT": 0.6, "USDC": 0.1, "BTC": 0.15, "ETH": 0.15}
BORROWER_SHARE = 0.03
HOLDING_MEDIAN_USD = 40.0
HOLDING_LOG_SIGMA = 1.8
WEALTH_PARETO_ALPHA = 1.3
LOAN_TO_VALUE = (0.05, 0.80)
UID_DIGITS = 10


# Users are generated (and written) a block at a time, so memory stays flat at any user count.
GENERATE_BLOCK = 1 << 20
# uid = 10^9 + (index · stride + offset) mod 9·10^9: the stride is a prime not dividing 9·10^9, so
# distinct indices give distinct 10-digit uids; index · stride stays below 2^63.
UID_SPACE = 9 * 10 ** (UID_DIGITS - 1)
_UID_STRIDE = 999_999_937


def generate_users(config: RoundConfig, n_users: int, seed: int, usd_scale: float = 1.0) -> UsersBlock:
    """``n_users`` synthetic users for ``config``'s assets, the same for the same seed.

    ``usd_scale`` multiplies every holding's USD value: the same customers, richer or poorer (the demo
    grows its exchange from month to month this way)."""
    blocks = list(generate_user_blocks(config, n_users, seed, usd_scale=usd_scale))
    if len(blocks) == 1:
        return blocks[0]
    offsets = [blocks[0].uid_offsets]
    for block in blocks[1:]:
        offsets.append(block.uid_offsets[1:] + offsets[-1][-1])
    return UsersBlock(
        np.concatenate([b.uid_bytes for b in blocks]),
        np.concatenate(offsets),
        np.concatenate([b.equity for b in blocks]),
        np.concatenate([b.debt for b in blocks]),
    )


def generate_user_blocks(
    config: RoundConfig, n_users: int, seed: int, block: int | None = None, *, usd_scale: float = 1.0
) -> Iterator[UsersBlock]:
    """The same users as `generate_users`, ``block`` at a time (each block from its own stream of
    the seed, so any block can be made without the ones before it)."""
    if n_users < 1:
        raise InputError("--users must be at least 1")
    if n_users >= UID_SPACE:
        raise InputError(f"--users must be below {UID_SPACE}")
    block = block or GENERATE_BLOCK
    uid_offset = int(np.random.default_rng([seed, 0]).integers(UID_SPACE))
    for k, first in enumerate(range(0, n_users, block)):
        rng = np.random.default_rng([seed, 1, k])
        count = min(block, n_users - first)
        equity, debt = _balances(config, count, rng, usd_scale)
        yield UsersBlock(*_uids(first, count, uid_offset), equity, debt)


def _balances(
    config: RoundConfig, n_users: int, rng: np.random.Generator, usd_scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    n_assets = len(config.assets)
    prices = np.array([units / 10**config.price_decimals for units in config.price_units])
    scales = np.array([10.0**asset.decimals for asset in config.assets])
    # Half the bound: whales stay valid even after float64 rounds the cap up a little.
    caps = np.array([asset.max_units // 2 for asset in config.assets], dtype=np.uint64)

    popularity = np.array([HOLDING_PROBABILITY.get(s, DEFAULT_HOLDING_PROBABILITY) for s in config.symbols])
    holds = np.empty((n_users, n_assets), dtype=bool)
    for asset in range(n_assets):  # a column at a time: a (users × assets) float array would be 8x larger
        holds[:, asset] = rng.random(n_users) < popularity[asset]
    empty = np.flatnonzero(~holds.any(axis=1))
    holds[empty, rng.choice(n_assets, size=empty.size, p=popularity / popularity.sum())] = True
    rows, columns = np.nonzero(holds)
    del holds

    wealth = 1.0 + rng.pareto(WEALTH_PARETO_ALPHA, n_users)
    usd = wealth[rows] * rng.lognormal(np.log(HOLDING_MEDIAN_USD), HOLDING_LOG_SIGMA, rows.size) * usd_scale
    units = _usd_to_units(usd, columns, prices, scales, caps)
    equity = np.zeros((n_users, n_assets), dtype=np.uint64)
    equity[rows, columns] = units

    debt = np.zeros((n_users, n_assets), dtype=np.uint64)
    debt_choices = [
        (config.symbols.index(s), share) for s, share in DEBT_ASSET_SHARE.items() if s in config.symbols
    ]
    if not debt_choices:
        debt_choices = [(0, 1.0)]
    debt_assets = np.array([asset for asset, _ in debt_choices])
    debt_shares = np.array([share for _, share in debt_choices])
    borrowers = np.flatnonzero(rng.random(n_users) < BORROWER_SHARE)
    owed_asset = rng.choice(debt_assets, size=borrowers.size, p=debt_shares / debt_shares.sum())
    collateral_usd = np.bincount(
        rows, weights=units.astype(np.float64) / scales[columns] * prices[columns], minlength=n_users
    )[borrowers]
    loan_usd = collateral_usd * rng.uniform(*LOAN_TO_VALUE, borrowers.size)
    debt[borrowers, owed_asset] = _usd_to_units(loan_usd, owed_asset, prices, scales, caps, minimum=0)

    # Floats only ever pick sizes; the exact integer net-value check (as the prover does it) decides.
    # A loan of at most 80 % cannot go negative, but a failure here must never reach a file.
    if first_negative_net_value_row(equity, debt, config) is not None:
        raise AssertionError("generator produced a user with negative net value")
    return equity, debt


def _uids(first: int, count: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Users first … first+count−1 as distinct 10-digit uids: bytes and offsets."""
    index = np.arange(first, first + count, dtype=np.int64)
    uid_numbers = (index * _UID_STRIDE + offset) % UID_SPACE + 10 ** (UID_DIGITS - 1)
    uid_digits = np.empty((count, UID_DIGITS), dtype=np.uint8)
    for position in range(UID_DIGITS):  # digit by digit: a (users × digits) int64 temporary is 8x larger
        uid_digits[:, position] = uid_numbers // 10 ** (UID_DIGITS - 1 - position) % 10 + ord("0")
    uid_offsets = np.arange(0, (count + 1) * UID_DIGITS, UID_DIGITS, dtype=np.int64)
    return uid_digits.ravel(), uid_offsets


def _usd_to_units(
    usd: np.ndarray,
    assets: np.ndarray,
    prices: np.ndarray,
    scales: np.ndarray,
    caps: np.ndarray,
    minimum: int = 1,
) -> np.ndarray:
    """Base units worth ``usd`` (rounded down), clipped to [minimum, cap] per asset."""
    amounts = np.floor(usd / prices[assets] * scales[assets])
    amounts = np.minimum(amounts, caps[assets].astype(np.float64))
    return np.maximum(amounts, minimum).astype(np.uint64)


def generate_round(
    out_dir: str | Path,
    n_users: int,
    seed: int,
    *,
    config: RoundConfig | None = None,
    file_format: str = "csv",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    usd_scale: float = 1.0,
) -> Path:
    """Write a round directory (round.toml + users.csv or users.jsonl); return the users file's path.

    A new directory is built under a temporary name and renamed into place, so it appears complete
    or not at all. Into an existing directory each file is replaced atomically, and only with
    ``overwrite`` if it already holds round files.
    """
    if file_format not in ("csv", "jsonl"):
        raise InputError(f"unknown users file format {file_format!r}: use csv or jsonl")
    out_dir = Path(out_dir)
    config = config or default_round_config()
    users_name = f"users.{file_format}"
    blocks = generate_user_blocks(config, n_users, seed, usd_scale=usd_scale)
    first_block = next(blocks)  # a bad user count fails here, before anything is written

    def write_into(directory: Path) -> None:
        users = itertools.chain([first_block], blocks)
        write_users_blocks(directory / users_name, config, users, n_users, progress=progress)
        for other in USERS_FILE_NAMES:
            if other != users_name:
                (directory / other).unlink(missing_ok=True)  # a round directory has one users file
        write_round_config(config, directory / ROUND_CONFIG_NAME)

    if out_dir.exists():
        if not out_dir.is_dir():
            raise InputError("exists and is not a directory", path=out_dir)
        existing = [name for name in (ROUND_CONFIG_NAME, *USERS_FILE_NAMES) if (out_dir / name).exists()]
        if existing and not overwrite:
            raise InputError(
                f"already holds a round ({', '.join(existing)}); pass --force to replace it", path=out_dir
            )
        write_into(out_dir)
    else:
        make_directory(out_dir.parent)
        # Not mkdtemp: that makes the directory private, and a round directory is ordinary data.
        building = out_dir.parent / f".{out_dir.name}.{secrets.token_hex(6)}.tmp"
        try:
            building.mkdir()
        except OSError as error:
            raise output_error(out_dir, error, "cannot create the directory") from None
        try:
            write_into(building)
            os.rename(building, out_dir)
        except OSError as error:
            shutil.rmtree(building, ignore_errors=True)
            raise output_error(out_dir, error) from None
        except OutputError as error:  # name the files as they would have been, not the temporary
            shutil.rmtree(building, ignore_errors=True)
            raise renamed_in_message(error, building, out_dir) from None
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return out_dir / users_name
