"""Bitcoin and its kin (BTC, LTC, DOGE, DASH, BCH): addresses, BIP-137 signed messages, m-of-n multisig.

A row proves control of an address in one of three ways:

* a legacy signed message (Bitcoin Core `signmessage`, BIP-137 header flags): a 65-byte recoverable
  signature over `sha256d(varstr(magic) || varstr(message))`; the recovered key must hash to the
  address (P2PKH, P2SH-P2WPKH or P2WPKH);
* m-of-n multisig: the redeem/witness script is given, its hash must be the address (P2SH, P2WSH or
  P2SH-P2WSH), and at least m of the signature columns must be legacy signatures by distinct keys of
  the script;
* a BIP-322 "simple" signature (see `bip322.py`), for P2WPKH and P2TR.

Where a legacy signature is accepted, so is OKX's hex form (its verification tool's `0x` signatures):
65 bytes r || s || v over Keccak-256 of OKX's envelope, the key taken compressed.

Each coin signs with its own message magic and encodes addresses with its own version bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkpor.reserves import bip322
from zkpor.reserves.codecs import (
    CodecError,
    b58check_decode,
    b58check_encode,
    base64_bytes,
    cashaddr_decode,
    cashaddr_encode,
    hex_bytes,
    segwit_decode,
    segwit_encode,
    var_str,
)
from zkpor.reserves.evm import okx_envelope_digest, parse_recoverable
from zkpor.reserves.hashing import hash160, sha256, sha256d
from zkpor.reserves.outcome import VERIFIED, Outcome, Rejected, Unsupported
from zkpor.reserves.secp256k1 import compressed, recover, uncompressed


@dataclass(frozen=True, slots=True)
class CoinParams:
    symbol: str
    magic: str  # the message prefix of the coin's `signmessage`
    p2pkh: tuple[int, ...]  # base58 version bytes
    p2sh: tuple[int, ...]
    hrp: str = ""  # bech32 prefix; empty when the coin has no segwit
    cashaddr: str = ""  # CashAddr prefix (Bitcoin Cash)


COINS = {
    "BTC": CoinParams("BTC", "Bitcoin Signed Message:\n", (0x00,), (0x05,), hrp="bc"),
    # Litecoin moved P2SH from 5 ("3...") to 50 ("M..."); both are still in use.
    "LTC": CoinParams("LTC", "Litecoin Signed Message:\n", (0x30,), (0x32, 0x05), hrp="ltc"),
    "DOGE": CoinParams("DOGE", "Dogecoin Signed Message:\n", (0x1E,), (0x16,)),
    # Dash kept the magic of its first name.
    "DASH": CoinParams("DASH", "DarkCoin Signed Message:\n", (0x4C,), (0x10,)),
    "BCH": CoinParams("BCH", "Bitcoin Signed Message:\n", (0x00,), (0x05,), cashaddr="bitcoincash"),
    # Bitcoin SV kept Bitcoin's magic and version bytes, and has no segwit or CashAddr.
    "BSV": CoinParams("BSV", "Bitcoin Signed Message:\n", (0x00,), (0x05,)),
}


@dataclass(frozen=True, slots=True)
class Address:
    kind: str  # p2pkh | p2sh | p2wpkh | p2wsh | p2tr
    payload: bytes  # key/script hash, or witness program

    @property
    def script_pubkey(self) -> bytes:
        if self.kind == "p2pkh":
            return b"\x76\xa9\x14" + self.payload + b"\x88\xac"
        if self.kind == "p2sh":
            return b"\xa9\x14" + self.payload + b"\x87"
        version = 1 if self.kind == "p2tr" else 0
        return bytes([0x50 + version if version else 0, len(self.payload)]) + self.payload


def decode_address(coin: CoinParams, text: str) -> Address:
    """Decode an address of `coin`; raises Rejected for another coin's address or a bad checksum."""
    try:
        if coin.hrp and text.lower().startswith(coin.hrp + "1"):
            version, program = segwit_decode(coin.hrp, text)
            if version == 0:
                return Address("p2wpkh" if len(program) == 20 else "p2wsh", program)
            if version == 1 and len(program) == 32:
                return Address("p2tr", program)
            raise Unsupported(f"witness version {version} addresses are not supported")
        if coin.cashaddr and (":" in text or text[:1].lower() in "qp"):
            _, kind, hash_bytes = cashaddr_decode(text, coin.cashaddr)
            if kind not in (0, 1) or len(hash_bytes) != 20:
                raise Unsupported("CashAddr type other than P2PKH/P2SH")
            return Address("p2pkh" if kind == 0 else "p2sh", hash_bytes)
        payload = b58check_decode(text)
    except CodecError as error:
        raise Rejected(f"invalid {coin.symbol} address: {error}") from None
    if len(payload) != 21:
        raise Rejected(f"invalid {coin.symbol} address: wrong length")
    if payload[0] in coin.p2pkh:
        return Address("p2pkh", payload[1:])
    if payload[0] in coin.p2sh:
        return Address("p2sh", payload[1:])
    raise Rejected(f"address version byte {payload[0]} is not a {coin.symbol} address (wrong network?)")


def encode_address(coin: CoinParams, address: Address) -> str:
    """The coin's preferred spelling: CashAddr on BCH, the newest P2SH version (LTC `M…`), bech32 lower."""
    if address.kind in ("p2pkh", "p2sh"):
        if coin.cashaddr:
            return cashaddr_encode(coin.cashaddr, 0 if address.kind == "p2pkh" else 1, address.payload)
        version = (coin.p2pkh if address.kind == "p2pkh" else coin.p2sh)[0]
        return b58check_encode(bytes([version]) + address.payload)
    return segwit_encode(coin.hrp, 1 if address.kind == "p2tr" else 0, address.payload)


def canonical(chain: object, text: str) -> str:
    coin = COINS[chain.coin]  # type: ignore[attr-defined]
    return encode_address(coin, decode_address(coin, text))


def message_digest(coin: CoinParams, message: str) -> bytes:
    return sha256d(var_str(coin.magic.encode()) + var_str(message.encode()))


def parse_compact(signature: str) -> tuple[int, int, int, bool]:
    """(r, s, recovery id, compressed) of a base64 BIP-137 signature; raises Rejected if malformed."""
    raw = base64_bytes(signature, what="signature") if signature else b""
    if len(raw) != 65:
        raise Rejected(f"legacy signature must be 65 bytes, got {len(raw)}")
    header = raw[0]
    if not 27 <= header <= 42:
        raise Rejected(f"invalid BIP-137 header byte {header}")
    return (
        int.from_bytes(raw[1:33], "big"),
        int.from_bytes(raw[33:65], "big"),
        (header - 27) & 3,
        header >= 31,
    )


def _form(signature: str) -> str:
    return "OKX hex" if signature[:2] == "0x" else "BIP-137"


def recover_signer(coin: CoinParams, message: str, signature: str) -> bytes:
    """The public key (as the header says: compressed or not) that made a legacy signature."""
    if _form(signature) == "OKX hex":
        r, s, recid = parse_recoverable(signature)
        return compressed(recover(okx_envelope_digest(message.encode()), r, s, recid, allow_high_s=True))
    r, s, recid, is_compressed = parse_compact(signature)
    # Bitcoin Core's message verification recovers without a low-s rule, so neither do we.
    key = recover(message_digest(coin, message), r, s, recid, allow_high_s=True)
    return compressed(key) if is_compressed else uncompressed(key)


def verify_bip137(coin: CoinParams, address: Address, message: str, signature: str) -> str:
    """Check a legacy signed message; returns the scheme label or raises Rejected."""
    key = recover_signer(coin, message, signature)
    key_hash = hash160(key)
    if address.kind == "p2pkh":
        if key_hash == address.payload:
            return f"{_form(signature)} P2PKH"
    elif address.kind == "p2sh":
        # Only a single-key P2SH-P2WPKH wrapper can be proven without a script.
        if len(key) == 33 and hash160(b"\x00\x14" + key_hash) == address.payload:
            return f"{_form(signature)} P2SH-P2WPKH"
        raise Rejected(
            "signing key's P2SH-P2WPKH address is not this address (multisig needs its redeem script)"
        )
    elif address.kind == "p2wpkh":
        if len(key) == 33 and key_hash == address.payload:
            return f"{_form(signature)} P2WPKH"
    else:
        raise Rejected(f"a legacy signed message cannot prove a {address.kind.upper()} address; use BIP-322")
    raise Rejected("signature is not from this address's key (wrong message, key or network)")


def parse_multisig(script: bytes) -> tuple[int, list[bytes]]:
    """(m, keys) of a bare `OP_m <key>... OP_n OP_CHECKMULTISIG` script; raises Rejected otherwise."""
    if (
        len(script) < 3
        or script[-1] != 0xAE
        or not 0x51 <= script[0] <= 0x60
        or not 0x51 <= script[-2] <= 0x60
    ):
        raise Rejected("redeem script is not an m-of-n OP_CHECKMULTISIG script")
    m, n = script[0] - 0x50, script[-2] - 0x50
    keys, pos = [], 1
    while pos < len(script) - 2:
        size = script[pos]
        key = script[pos + 1 : pos + 1 + size]
        if size not in (33, 65) or len(key) != size or key[0] not in ((2, 3) if size == 33 else (4,)):
            raise Rejected("redeem script holds something other than public keys")
        keys.append(key)
        pos += 1 + size
    if pos != len(script) - 2 or len(keys) != n or not 1 <= m <= n:
        raise Rejected("malformed multisig redeem script")
    return m, keys


def verify_multisig(
    coin: CoinParams, address: Address, message: str, signatures: list[str], script_hex: str
) -> str:
    try:
        script = hex_bytes(script_hex, what="redeem script")
    except CodecError as error:
        raise Rejected(str(error)) from None
    m, keys = parse_multisig(script)
    if address.kind == "p2sh" and hash160(script) == address.payload:
        label = "P2SH"
    elif address.kind == "p2sh" and hash160(b"\x00\x20" + sha256(script)) == address.payload:
        label = "P2SH-P2WSH"
    elif address.kind == "p2wsh" and sha256(script) == address.payload:
        label = "P2WSH"
    else:
        raise Rejected("redeem script does not hash to this address")
    signed: set[bytes] = set()
    for number, signature in enumerate(signatures, start=1):
        try:
            key = recover_signer(coin, message, signature)
        except Rejected as error:
            raise Rejected(f"signature {number}: {error}") from None
        point = compressed(_as_point(key))
        members = {compressed(_as_point(k)) for k in keys}
        if point not in members:
            raise Rejected(f"signature {number} is not from a key of the redeem script")
        if point in signed:
            raise Rejected(f"signature {number} is from a key that already signed")
        signed.add(point)
    if len(signed) < m:
        raise Rejected(f"{m}-of-{len(keys)} multisig: only {len(signed)} valid signature(s)")
    forms = " and ".join(sorted({_form(signature) for signature in signatures}))
    return f"{m}-of-{len(keys)} multisig {label} ({forms} signatures)"


def _as_point(key: bytes):  # noqa: ANN202 - a coincurve.PublicKey
    import coincurve

    return coincurve.PublicKey(key)


def _looks_like_multisig(script_or_key: str) -> bool:
    text = script_or_key.strip().lower()
    return len(text) > 70 and text.endswith("ae") and text[:2] in {f"{0x50 + m:x}" for m in range(1, 17)}


def verify(
    coin_symbol: str, address_text: str, message: str, sig1: str, sig2: str, script_or_key: str
) -> Outcome:
    """Verify one Bitcoin-family row; raises Rejected/Unsupported, returns a VERIFIED outcome."""
    coin = COINS[coin_symbol]
    address = decode_address(coin, address_text)
    if not sig1:
        raise Rejected("no signature")
    if _looks_like_multisig(script_or_key):
        signatures = [s for s in (sig1, sig2) if s]
        return Outcome(VERIFIED, verify_multisig(coin, address, message, signatures, script_or_key))
    if sig2:
        raise Rejected("two signatures but no multisig redeem script")
    if _is_legacy(sig1) or address.kind == "p2pkh":  # P2PKH can only be proven by a legacy signature
        return Outcome(VERIFIED, verify_bip137(coin, address, message, sig1))
    if address.kind in ("p2wpkh", "p2tr"):
        return Outcome(
            VERIFIED,
            bip322.verify_simple(address.kind, address.payload, address.script_pubkey, message, sig1),
        )
    if address.kind in ("p2sh", "p2wsh"):
        raise Rejected("script address without a multisig redeem script")
    raise Rejected("signature is neither a legacy (BIP-137) nor a BIP-322 signature for this address")


def _is_legacy(signature: str) -> bool:
    if _form(signature) == "OKX hex":
        return True
    try:
        raw = base64_bytes(signature)
    except CodecError:
        raise Rejected("signature is not valid base64") from None
    return len(raw) == 65 and 27 <= raw[0] <= 42
