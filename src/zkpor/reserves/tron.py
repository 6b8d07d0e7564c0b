"""TRON: base58check addresses (version 0x41) and TronWeb's signed messages.

`signMessageV2` hashes `"\\x19TRON Signed Message:\\n" || len(message) || message` with Keccak-256;
the older `signMessage` signs `"\\x19TRON Signed Message:\\n32" || keccak256(message)`. Both are
65-byte r || s || v signatures; the address is `0x41 || keccak256(x || y)[12:]`. High s is refused,
as on Ethereum.
"""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, b58check_decode, b58check_encode
from zkpor.reserves.evm import address_of_key, hashed_personal_digest, parse_recoverable, personal_digest
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.secp256k1 import recover, uncompressed

PREFIX = b"\x19TRON Signed Message:\n"


def v2_digest(message: bytes) -> bytes:
    return personal_digest(message, PREFIX)


def v1_digest(message: bytes) -> bytes:
    return hashed_personal_digest(message, PREFIX)


def parse_address(text: str) -> bytes:
    try:
        payload = b58check_decode(text)
    except CodecError as error:
        raise Rejected(f"invalid TRON address: {error}") from None
    if len(payload) != 21 or payload[0] != 0x41:
        raise Rejected("not a TRON mainnet address (version byte 0x41)")
    return payload[1:]


def encode_address(address20: bytes) -> str:
    return b58check_encode(b"\x41" + address20)


def verify(address: str, message: str, signature: str) -> str:
    expected = parse_address(address)
    r, s, v = parse_recoverable(signature)
    recovered = []
    data = message.encode()
    for label, digest in (
        ("TRON signMessageV2", v2_digest(data)),
        ("TRON signMessage (v1)", v1_digest(data)),
    ):
        try:
            signer = address_of_key(uncompressed(recover(digest, r, s, v, allow_high_s=False)))
        except Rejected as error:
            if "high-s" in str(error) or "range" in str(error):
                raise
            continue
        if hmac.compare_digest(signer, expected):
            return label
        recovered.append(encode_address(signer))
    raise Rejected(f"signature recovers to {recovered[0] if recovered else 'no key'}, not {address}")
