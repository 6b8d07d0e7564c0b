"""Filecoin: f1 (secp256k1) addresses and f410 (Ethereum-style) delegated addresses.

f1 = "f1" || base32(blake2b-160(uncompressed key) || blake2b-32(0x01 || payload)); the signature is
65-byte recoverable r || s || v (optionally led by the type byte 0x01) over blake2b-256 of the data
(Filecoin wallets), or over Keccak-256 of OKX's envelope (OKX's verification tool).
An f410f address wraps a 20-byte Ethereum address (namespace 10) and is signed as on Ethereum
(EIP-191). BLS (f3) and actor (f2) addresses are unsupported.
"""

from __future__ import annotations

import hmac

from zkpor.reserves import evm
from zkpor.reserves.codecs import CodecError, base32_lower_decode, hex_bytes
from zkpor.reserves.framing import framings
from zkpor.reserves.hashing import blake2b
from zkpor.reserves.outcome import Rejected, Unsupported
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.secp256k1 import recover, uncompressed


def _decode(text: str, protocol: int, payload_prefix: bytes, body: str) -> bytes:
    try:
        raw = base32_lower_decode(body)
    except CodecError as error:
        raise Rejected(f"invalid Filecoin address: {error}") from None
    if len(raw) != 24:
        raise Rejected("invalid Filecoin address length")
    payload, checksum = raw[:20], raw[20:]
    if not hmac.compare_digest(blake2b(bytes([protocol]) + payload_prefix + payload, 4), checksum):
        raise Rejected("bad Filecoin address checksum")
    return payload


def _f410_payload(text: str) -> bytes:
    return _decode(text, 4, b"\x0a", text[5:])


def canonical(chain: object, text: str) -> str:
    """f410f… and 0x… name one Ethereum-style account: lower-case 0x hex. Other kinds: lower case."""
    if text[:2].lower() == "0x":
        return "0x" + evm.parse_address(text).hex()
    if text.startswith("f410f"):
        return "0x" + _f410_payload(text).hex()
    return text.lower()


def address_of_key(key65: bytes) -> bytes:
    return blake2b(key65, 20)


def verify(row: ReserveRow) -> str:
    text = row.address.strip()
    if text[:2].lower() == "0x" or text.startswith(("f410f", "t410f")):
        eth = evm.parse_address(text) if text[:2].lower() == "0x" else _f410_payload(text)
        return "Filecoin f410 " + evm.signer_matches(eth, row.message, row.signature1)
    if text[:2] not in ("f1", "t1"):
        raise Unsupported(f"Filecoin address kind {text[:2]!r} (only f1 secp256k1 and f410 are supported)")
    expected = _decode(text, 1, b"", text[2:])
    try:
        raw = hex_bytes(row.signature1, what="signature")
    except CodecError as error:
        raise Rejected(str(error)) from None
    if len(raw) == 66 and raw[0] == 1:
        raw = raw[1:]
    recid = raw[64] - 27 if len(raw) == 65 and raw[64] in (27, 28) else raw[-1]  # OKX writes v as 27/28
    if len(raw) != 65 or recid > 3:
        raise Rejected("Filecoin secp256k1 signature must be 65 bytes r || s || v")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
    digests = [(f"{label}, blake2b-256", blake2b(data, 32)) for label, data in framings(row.message)]
    digests.append(("OKX envelope, Keccak-256", evm.okx_envelope_digest(row.message.encode())))
    for label, digest in digests:
        try:
            key = uncompressed(recover(digest, r, s, recid, allow_high_s=True))
        except Rejected:
            continue
        if hmac.compare_digest(address_of_key(key), expected):
            return f"Filecoin f1 secp256k1 ({label})"
    raise Rejected("signature does not recover to this f1 address")
