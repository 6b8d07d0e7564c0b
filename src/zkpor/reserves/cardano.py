"""Cardano (Shelley addresses, CIP-19): bech32 `addr1…` of a header byte and credentials. The header's
high nibble is the address type, the low nibble the network (1 = mainnet). Types whose payment
credential is a key hash, `blake2b-224(ed25519 public key)`: 0 (base), 2 (base, script stake), 4 (pointer)
and 6 (enterprise: the form OKX publishes). Script-payment addresses and Byron addresses are unsupported.

The signature is ed25519 over the raw message or OKX's envelope. CIP-8/CIP-30 `signData` (COSE_Sign1)
is not accepted: its signed structure carries headers the file has no column for.
"""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, bech32_bytes_decode
from zkpor.reserves.framing import decode_blob, verify_ed25519_framed
from zkpor.reserves.hashing import blake2b
from zkpor.reserves.outcome import Rejected, Unsupported
from zkpor.reserves.rows import ReserveRow

MAINNET = 1
KEY_PAYMENT_TYPES = {0: "base", 2: "base", 4: "pointer", 6: "enterprise"}


def parse_address(text: str) -> tuple[str, bytes]:
    """(address type name, payment key hash) of a mainnet key-payment Shelley address."""
    if text[:5].lower() != "addr1":
        if text[:10].lower() == "addr_test1":
            raise Rejected("a Cardano testnet address (wrong network)")
        raise Unsupported("only Shelley `addr1…` addresses are checked (Byron addresses are not)")
    try:
        raw = bech32_bytes_decode("addr", text, max_length=200)
    except CodecError as error:
        raise Rejected(f"invalid Cardano address: {error}") from None
    if len(raw) < 29:
        raise Rejected("Cardano address too short")
    kind, network = raw[0] >> 4, raw[0] & 0x0F
    if network != MAINNET:
        raise Rejected(f"Cardano address for network {network}, not mainnet (wrong network)")
    if kind not in KEY_PAYMENT_TYPES:
        raise Unsupported(f"Cardano address type {kind}: its payment credential is not a key")
    return KEY_PAYMENT_TYPES[kind], raw[1:29]


def canonical(chain: object, text: str) -> str:
    parse_address(text)
    return text.lower()


def key_hash(public_key: bytes) -> bytes:
    return blake2b(public_key, 28)


def verify(row: ReserveRow) -> str:
    kind, payment_hash = parse_address(row.address)
    if not row.script_or_key:
        raise Rejected("Cardano rows need the ed25519 payment public key in the public key column")
    key = decode_blob(row.script_or_key, what="public key", sizes=(32,))
    if not hmac.compare_digest(key_hash(key), payment_hash):
        raise Rejected("public key is not this address's payment key")
    signature = decode_blob(row.signature1, what="signature", sizes=(64,))
    return f"Cardano {kind} address ed25519 ({verify_ed25519_framed(key, signature, row.message)})"
