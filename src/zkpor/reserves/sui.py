"""SUI: an address is `blake2b-256(flag || public key)`, flag 0x00 for ed25519 (the only key scheme
checked here; secp256k1/secp256r1/multisig/zkLogin accounts are unsupported).

Signed data: the raw message, OKX's envelope (its verification tool's form), or a wallet's
`signPersonalMessage`: `blake2b-256(intent [3, 0, 0] || BCS(message bytes))`. The signature is 64 bytes,
or SUI's serialized form `flag || signature || public key` (97 bytes, usually base64).
"""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, hex_bytes
from zkpor.reserves.framing import decode_blob, ed25519_verify, framings
from zkpor.reserves.hashing import blake2b
from zkpor.reserves.outcome import Rejected, Unsupported
from zkpor.reserves.rows import ReserveRow

ED25519_FLAG = 0x00
PERSONAL_MESSAGE_INTENT = bytes([3, 0, 0])  # scope PersonalMessage, version V0, app Sui


def parse_address(text: str) -> bytes:
    body = text[2:] if text[:2].lower() == "0x" else ""
    if not 1 <= len(body) <= 64:
        raise Rejected("a SUI address is 0x followed by up to 64 hex digits")
    try:
        return hex_bytes(body.rjust(64, "0"), what="address")
    except CodecError as error:
        raise Rejected(str(error)) from None


def canonical(chain: object, text: str) -> str:
    return "0x" + parse_address(text).hex()


def address_of_key(public_key: bytes, flag: int = ED25519_FLAG) -> bytes:
    return blake2b(bytes([flag]) + public_key, 32)


def _uleb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def personal_message_digest(message: bytes) -> bytes:
    """What a SUI wallet's signPersonalMessage signs: the intent message's BLAKE2b-256."""
    return blake2b(PERSONAL_MESSAGE_INTENT + _uleb128(len(message)) + message, 32)


def verify(row: ReserveRow) -> str:
    address = parse_address(row.address)
    signature = decode_blob(row.signature1, what="signature", sizes=(64, 97))
    key = decode_blob(row.script_or_key, what="public key", sizes=(32, 33)) if row.script_or_key else b""
    if len(key) == 33:  # SUI's flagged public key
        if key[0] != ED25519_FLAG:
            raise Unsupported(f"SUI key scheme flag {key[0]} (only ed25519 is checked)")
        key = key[1:]
    if len(signature) == 97:
        if signature[0] != ED25519_FLAG:
            raise Unsupported(f"SUI signature scheme flag {signature[0]} (only ed25519 is checked)")
        signature, embedded = signature[1:65], signature[65:]
        if key and not hmac.compare_digest(key, embedded):
            raise Rejected("the signature's embedded public key is not the public key column's")
        key = embedded
    if not key:
        raise Rejected("SUI rows need the ed25519 public key (column or serialized signature)")
    if not hmac.compare_digest(address_of_key(key), address):
        raise Rejected("public key does not derive this address")
    data = row.message.encode()
    for label, signed in framings(row.message) + [("personal message", personal_message_digest(data))]:
        if ed25519_verify(key, signature, signed):
            return f"SUI ed25519 ({label})"
    raise Rejected("ed25519 signature does not verify for this key and message")
