"""Aptos: ed25519 keys; an account's address is its original authentication key,
`sha3_256(public key || 0x00)` (scheme byte 0 = single ed25519).

A rotated key no longer derives the address. OKX's files then put the account's current authentication
key in EOA1 ("owner" mode): the signature and the key are checked against EOA1, and that EOA1 was the
account's authentication key at the snapshot is account state, settled by an owners file record
(owners.py); without one the row is unsupported. A rotated key without EOA1 fails with that reason."""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, hex_bytes
from zkpor.reserves.framing import decode_blob, verify_ed25519_framed
from zkpor.reserves.hashing import sha3_256
from zkpor.reserves.outcome import KeyNotLinked, Rejected
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
    owner = parse_address(row.eoa1) if row.eoa1 else b""
    if not hmac.compare_digest(authentication_key(key), owner or address):
        which = "EOA1 (the current authentication key)" if owner else "this address"
        raise Rejected(
            f"public key does not derive {which}"
            + ("" if owner else " (a rotated key: give the current authentication key as EOA1)")
        )
    signature = decode_blob(row.signature1, what="signature", sizes=(64,))
    scheme = f"Aptos ed25519 ({verify_ed25519_framed(key, signature, row.message)})"
    if not owner or owner == address:
        return scheme
    owner_text = "0x" + owner.hex()
    raise KeyNotLinked(
        f"{scheme} valid for authentication key {owner_text}; that it was {row.address}'s authentication "
        "key at the snapshot (a rotated key) is account state: give it with --owners FILE",
        (row.address, owner_text, f"{scheme}, rotated key {owner_text}"),
    )
