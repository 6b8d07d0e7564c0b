"""Reserve wallets for the demo: real keys on several chains, real ownership signatures in each chain's
format, and a balance snapshot file, so `zkpor demo` checks reserves exactly as a real round would.

The keys are derived from a fixed public label: anyone can recompute them, so they are demo keys and
hold nothing. Wallets stay the same from round to round (as an exchange's do); their balances are
set per round to the round's proven net liabilities times a reserve ratio drawn between 101 % and
125 %. One extra row carries a signature made by the wrong key, to show a failed check in the report;
it is not counted.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import coincurve
import nacl.signing

from zkpor.fsutil import make_directory, write_atomically
from zkpor.reserves import evm, tron
from zkpor.reserves.bitcoin import COINS, message_digest
from zkpor.reserves.codecs import b58check_encode, b58encode, segwit_encode
from zkpor.reserves.hashing import hash160
from zkpor.round.config import RoundConfig, default_round_config
from zkpor.round.decimal_text import format_units

RESERVES_NAME = "reserves.csv"
BALANCES_NAME = "balances.csv"
KEY_LABEL = b"zkpor demo wallet key (public, holds nothing)"
WALLETS_PER_CHAIN = 2
RATIO_RANGE = (1.01, 1.25)
# Where the demo keeps each asset: (network, family). Assets not listed get no wallet.
WALLET_CHAINS: dict[str, tuple[tuple[str, str], ...]] = {
    "BTC": (("bitcoin", "btc-p2wpkh"), ("bitcoin", "btc-p2pkh")),
    "ETH": (("ethereum", "evm"), ("arbitrum", "evm")),
    "USDT": (("ethereum", "evm"), ("tron", "tron")),
    "USDC": (("ethereum", "evm"),),
    "SOL": (("solana", "solana"),),
    "DOGE": (("dogecoin", "doge-p2pkh"),),
    "LTC": (("litecoin", "ltc-p2wpkh"),),
    "TRX": (("tron", "tron"),),
    "ETC": (("ethereum-classic", "evm"),),
    "LINK": (("ethereum", "evm"),),
    "UNI": (("ethereum", "evm"),),
    "OKB": (("xlayer", "evm"),),
}
# Block heights at the snapshot: one per network, as a real round has.
BASE_HEIGHTS = {
    "bitcoin": 850_000, "ethereum": 20_000_000, "arbitrum": 220_000_000, "tron": 62_000_000,
    "solana": 270_000_000, "dogecoin": 5_250_000, "litecoin": 2_700_000, "ethereum-classic": 20_100_000,
    "xlayer": 2_500_000,
}  # fmt: skip


@dataclass(frozen=True)
class Wallet:
    network: str
    address: str
    signature: str


def _secret(network: str, family: str, index: int) -> bytes:
    return hashlib.sha256(KEY_LABEL + f"|{network}|{family}|{index}".encode()).digest()


def _bitcoin(coin: str, kind: str, private: coincurve.PrivateKey, message: str) -> tuple[str, str]:
    """A BIP-137 signed message: header 31 for compressed P2PKH, 39 for P2WPKH, then r || s."""
    params = COINS[coin]
    public = private.public_key.format()
    if kind == "p2wpkh":
        address, header = segwit_encode(params.hrp, 0, hash160(public)), 39
    else:
        address, header = b58check_encode(bytes([params.p2pkh[0]]) + hash160(public)), 31
    compact = private.sign_recoverable(message_digest(params, message), hasher=None)
    return address, base64.b64encode(bytes([header + compact[64]]) + compact[:64]).decode()


def _recoverable(private: coincurve.PrivateKey, digest: bytes) -> str:
    compact = private.sign_recoverable(digest, hasher=None)
    return "0x" + (compact[:64] + bytes([27 + compact[64]])).hex()


def sign_wallet(
    network: str, family: str, index: int, message: str, *, signer_index: int | None = None
) -> Wallet:
    """A wallet of `family` on `network` and its signature of `message` (by another of the demo's
    keys when `signer_index` is given: a signature that must fail)."""
    secret = _secret(network, family, index)
    signing = _secret(network, family, index if signer_index is None else signer_index)
    private, signer = coincurve.PrivateKey(secret), coincurve.PrivateKey(signing)
    if family.startswith(("btc-", "doge-", "ltc-")):
        coin, kind = family.split("-")
        address, _ = _bitcoin(coin.upper(), kind, private, message)
        return Wallet(network, address, _bitcoin(coin.upper(), kind, signer, message)[1])
    if family == "evm":
        address = evm.to_checksum_address(evm.address_of_key(private.public_key.format(compressed=False)))
        return Wallet(network, address, _recoverable(signer, evm.personal_digest(message.encode())))
    if family == "tron":
        address = tron.encode_address(evm.address_of_key(private.public_key.format(compressed=False)))
        return Wallet(network, address, _recoverable(signer, tron.v2_digest(message.encode())))
    if family == "solana":
        key = nacl.signing.SigningKey(secret)
        signature = nacl.signing.SigningKey(signing).sign(message.encode()).signature
        return Wallet(network, b58encode(bytes(key.verify_key)), b58encode(signature))
    raise ValueError(f"no demo wallets for {family}")


def demo_message(round_id: str) -> str:
    """The message every demo wallet signs for a round (a row signing another is a possible replay)."""
    return f"zkpor demo exchange, proof of reserves round {round_id}: this address belongs to us"


def write_demo_reserves(
    directory: Path,
    round_id: str,
    owed: Mapping[str, tuple[int, int]],
    seed: int,
) -> tuple[Path, Path]:
    """Write DIRECTORY/reserves.csv (address rows with signatures, plain layout) and balances.csv
    (the snapshot: each address's balance at its network's height). `owed`: asset → (net liabilities
    in base units, decimals). Returns the two paths."""
    rng = random.Random(f"{round_id}|{seed}")
    message = demo_message(round_id)
    month = sum(map(ord, round_id))
    reserves = io.StringIO()
    balances = io.StringIO()
    rows = csv.writer(reserves, lineterminator="\n")
    snapshot = csv.writer(balances, lineterminator="\n")
    rows.writerow(["coin", "network", "height", "address", "amount", "message", "signature"])
    snapshot.writerow(["coin", "network", "height", "address", "balance"])
    for asset, (net, decimals) in owed.items():
        chains = WALLET_CHAINS.get(asset)
        if not chains or net <= 0:
            continue
        target = int(net * rng.uniform(*RATIO_RANGE)) + 1
        slots = [(network, family, i) for network, family in chains for i in range(WALLETS_PER_CHAIN)]
        weights = [rng.randint(30, 130) for _ in slots]
        shares = [target * w // sum(weights) for w in weights]
        shares[0] += target - sum(shares)
        for (network, family, i), units in zip(slots, shares, strict=True):
            wallet = sign_wallet(network, family, i, message)
            height = BASE_HEIGHTS[network] + month
            amount = format_units(units, decimals)
            rows.writerow([asset, network, height, wallet.address, amount, message, wallet.signature])
            snapshot.writerow([asset, network, height, wallet.address, amount])
    if "BTC" in owed:  # signed by the wrong key: the checks must reject it and count nothing
        wrong = sign_wallet("bitcoin", "btc-p2pkh", 7, message, signer_index=8)
        height = BASE_HEIGHTS["bitcoin"] + month
        rows.writerow(["BTC", "bitcoin", height, wrong.address, "0.5", message, wrong.signature])
        snapshot.writerow(["BTC", "bitcoin", height, wrong.address, "0.5"])
    make_directory(directory)
    reserves_path, balances_path = directory / RESERVES_NAME, directory / BALANCES_NAME
    write_atomically(reserves_path, reserves.getvalue().encode())
    write_atomically(balances_path, balances.getvalue().encode())
    return reserves_path, balances_path


DEMO_ASSETS = ("BTC", "ETH", "USDT", "USDC", "SOL", "DOGE", "LTC", "TRX", "ETC", "LINK")


def demo_round_config(round_id: str) -> RoundConfig:
    """The demo exchange's round: ten of the default assets (each with demo wallets), the snapshot at
    the end of the round's month when the id is YYYY-MM, and prices that drift from round to round."""
    from zkpor.round.next_round import month_end, month_of

    base = default_round_config()
    month = month_of(round_id)
    snapshot = month_end(*month, base.snapshot_time) if month else base.snapshot_time
    rng = random.Random(f"prices|{round_id}")
    keep = [base.asset_index(symbol) for symbol in DEMO_ASSETS]
    # A stablecoin keeps its price; others move by up to ±8 % (cut to price_decimals: exact units).
    prices = tuple(
        base.price_units[i]
        if base.symbols[i] in ("USDT", "USDC")
        else base.price_units[i] * rng.randint(92, 108) // 100
        for i in keep
    )
    return RoundConfig(round_id, snapshot, base.price_decimals, tuple(base.assets[i] for i in keep), prices)


def demo_growth(round_id: str) -> float:
    """How much richer the demo's customers are in this round: about 3 % a month from January 2024, with
    some noise, so consecutive demo rounds show a plausible history."""
    from zkpor.round.next_round import month_of

    month = month_of(round_id)
    if month is None:
        return 1.0
    months = (month[0] - 2024) * 12 + month[1] - 1
    return 1.03**months * random.Random(f"growth|{round_id}").uniform(0.97, 1.03)
