"""Solana: an address is the base58 of the account's ed25519 public key; the signature is ed25519."""

from __future__ import annotations

from zkpor.reserves.codecs import CodecError, b58decode
from zkpor.reserves.framing import decode_blob, verify_ed25519_framed
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rows import ReserveRow


def verify(row: ReserveRow) -> str:
    try:
        key = b58decode(row.address)
    except CodecError as error:
        raise Rejected(f"invalid Solana address: {error}") from None
    if len(key) != 32:
        raise Rejected("a Solana address is a 32-byte public key")
    if row.script_or_key and decode_blob(row.script_or_key, what="public key", sizes=(32,)) != key:
        raise Rejected("the public key column is not this address's key")
    signature = decode_blob(row.signature1, what="signature", sizes=(64,))
    return f"Solana ed25519 ({verify_ed25519_framed(key, signature, row.message)})"
