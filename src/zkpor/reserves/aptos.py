"""Aptos: ed25519 keys; an account's address is its original authentication key,
`sha3_256(public key || 0x00)` (scheme byte 0 = single ed25519). A rotated key no longer derives the
address, which only the chain can confirm, so such rows fail with that reason."""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, hex_bytes
from zkpor.reserves.framing import decode_blob, verify_ed25519_framed
from zkpor.reserves.hashing import sha3_256
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rows import ReserveRow


def parse_address(text: str) -> bytes:
    body = text[2:] if text[:2].lower() == "0x" else text
    if not 1 <= len(body) <= 64:
        raise Rejected("an Aptos address is up to 64 hex digits")
    try:
        return hex_bytes(body.rjust(64, "0"), what="address")  # short forms drop leading zeros
    except CodecError as error:
        raise Rejected(str(error)) from None


def canonical(chain: object, text: str) -> str:
    """0x + 64 hex digits: the long form of `0x1`-style short addresses."""
    return "0x" + parse_address(text).hex()


def authentication_key(public_key: bytes) -> bytes:
    return sha3_256(public_key + b"\x00")


def verify(row: ReserveRow) -> str:
    address = parse_address(row.address)
    if not row.script_or_key:
        raise Rejected("Aptos rows need the ed25519 public key in the public key column")
    key = decode_blob(row.script_or_key, what="public key", sizes=(32,))
    if not hmac.compare_digest(authentication_key(key), address):
        raise Rejected("public key does not derive this address (a rotated key needs an on-chain lookup)")
    signature = decode_blob(row.signature1, what="signature", sizes=(64,))
    return f"Aptos ed25519 ({verify_ed25519_framed(key, signature, row.message)})"
