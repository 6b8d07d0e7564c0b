"""Polkadot: SS58 addresses (prefix 0) of a 32-byte sr25519 or ed25519 public key.

SS58 = base58(prefix || key || blake2b-512("SS58PRE" || prefix || key)[:2]). Signatures are 64 bytes,
or 65 with the MultiSignature type byte in front (0 = ed25519, 1 = sr25519). polkadot.js wallets
sign `<Bytes>message</Bytes>`; raw and envelope framings are accepted too.
"""

from __future__ import annotations

import hmac

import sr25519

from zkpor.reserves.codecs import CodecError, b58decode, b58encode
from zkpor.reserves.framing import decode_blob, ed25519_verify, framings
from zkpor.reserves.hashing import blake2b
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rows import ReserveRow

POLKADOT_PREFIX = 0


def _checksum(body: bytes) -> bytes:
    return blake2b(b"SS58PRE" + body, 64)[:2]


def ss58_encode(public_key: bytes, prefix: int = POLKADOT_PREFIX) -> str:
    head = (
        bytes([prefix])
        if prefix < 64
        else bytes([((prefix & 0xFC) >> 2) | 0x40, (prefix >> 8) | ((prefix & 3) << 6)])
    )
    return b58encode(head + public_key + _checksum(head + public_key))


def ss58_decode(address: str) -> tuple[int, bytes]:
    try:
        raw = b58decode(address)
    except CodecError as error:
        raise Rejected(f"invalid SS58 address: {error}") from None
    if len(raw) < 3:
        raise Rejected("invalid SS58 address: too short")
    if raw[0] < 64:
        prefix, head = raw[0], raw[:1]
    elif raw[0] < 128:
        prefix = ((raw[0] & 0x3F) << 2) | (raw[1] >> 6) | ((raw[1] & 0x3F) << 8)
        head = raw[:2]
    else:
        raise Rejected("invalid SS58 address prefix")
    body = raw[len(head) :]
    if len(body) != 34:
        raise Rejected("SS58 address does not hold a 32-byte public key")
    key, checksum = body[:32], body[32:]
    if not hmac.compare_digest(_checksum(head + key), checksum):
        raise Rejected("bad SS58 checksum")
    return prefix, key


def verify(row: ReserveRow) -> str:
    prefix, key = ss58_decode(row.address)
    if prefix != POLKADOT_PREFIX:
        raise Rejected(f"SS58 prefix {prefix} is not Polkadot's ({POLKADOT_PREFIX}): wrong network")
    signature = decode_blob(row.signature1, what="signature", sizes=(64, 65))
    kinds = ("sr25519", "ed25519")
    if len(signature) == 65:
        if signature[0] not in (0, 1):
            raise Rejected("MultiSignature type must be ed25519 (0) or sr25519 (1)")
        kinds, signature = (("ed25519",) if signature[0] == 0 else ("sr25519",)), signature[1:]
    message_framings = framings(row.message) + [
        ("<Bytes> wrapper", b"<Bytes>" + row.message.encode() + b"</Bytes>")
    ]
    for label, data in message_framings:
        for kind in kinds:
            if _verify(kind, key, signature, data):
                return f"Polkadot {kind} ({label})"
    raise Rejected("signature does not verify for this address (sr25519 or ed25519)")


def _verify(kind: str, key: bytes, signature: bytes, data: bytes) -> bool:
    if kind == "ed25519":
        return ed25519_verify(key, signature, data)
    try:
        return sr25519.verify(signature, data, key)
    except ValueError:  # not a schnorrkel-marked signature at all
        return False
