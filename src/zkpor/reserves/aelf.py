"""aelf: the address is base58check (double-SHA-256 checksum, no version byte) of
`SHA-256(SHA-256(uncompressed public key))`, written bare or as `ELF_<address>_<chain>`; signatures
are 65-byte recoverable secp256k1 (r || s || v) over SHA-256 of the data (Keccak-256 is accepted
for the exchange envelope, as published files use it)."""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, b58check_decode, b58check_encode
from zkpor.reserves.evm import parse_recoverable
from zkpor.reserves.framing import framings
from zkpor.reserves.hashing import keccak256, sha256
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.secp256k1 import recover, uncompressed


def parse_address(text: str) -> bytes:
    parts = text.split("_")
    if len(parts) == 3 and parts[0] == "ELF":
        text = parts[1]
    elif len(parts) != 1:
        raise Rejected("aelf address must be ADDRESS or ELF_ADDRESS_CHAIN")
    try:
        payload = b58check_decode(text)
    except CodecError as error:
        raise Rejected(f"invalid aelf address: {error}") from None
    if len(payload) != 32:
        raise Rejected("aelf address must hold 32 bytes")
    return payload


def canonical(chain: object, text: str) -> str:
    """The bare base58check address (`ELF_<address>_AELF` names the same account)."""
    return b58check_encode(parse_address(text))


def address_of_key(key65: bytes) -> bytes:
    return sha256(sha256(key65))


def verify(row: ReserveRow) -> str:
    expected = parse_address(row.address)
    r, s, v = parse_recoverable(row.signature1)
    for label, data in framings(row.message):
        for hash_name, digest in (("SHA-256", sha256(data)), ("Keccak-256", keccak256(data))):
            try:
                key = uncompressed(recover(digest, r, s, v, allow_high_s=True))
            except Rejected:
                continue
            if hmac.compare_digest(address_of_key(key), expected):
                return f"aelf secp256k1 ({label}, {hash_name})"
    raise Rejected("signature does not recover to this aelf address")
