"""EOS: K1 keys (`EOS…` legacy or `PUB_K1_…`) and `SIG_K1_…` signatures over SHA-256 of the data.

Key and signature strings carry a RIPEMD-160 checksum (with the "K1" suffix for the new forms);
signatures must be canonical as eosio requires. An EOS account is a name whose keys live in chain
state, so a signature by the listed key proves the key, and the account → key link is reported as
unsupported (it needs `get_account`); a row whose address *is* the key verifies fully.
"""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, b58decode
from zkpor.reserves.framing import framings  # noqa: I001
from zkpor.reserves.hashing import ripemd160, sha256
from zkpor.reserves.outcome import Rejected, Unsupported
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.secp256k1 import compressed, recover


def parse_public_key(text: str) -> bytes:
    if text.startswith("PUB_K1_"):
        body, suffix = text[7:], b"K1"
    elif text.startswith("EOS"):
        body, suffix = text[3:], b""
    else:
        raise Rejected("EOS public key must start with EOS or PUB_K1_")
    try:
        raw = b58decode(body)
    except CodecError as error:
        raise Rejected(f"invalid EOS public key: {error}") from None
    if len(raw) != 37 or not hmac.compare_digest(ripemd160(raw[:33] + suffix)[:4], raw[33:]):
        raise Rejected("invalid EOS public key (length or checksum)")
    return raw[:33]


def encode_public_key(key33: bytes) -> str:
    from zkpor.reserves.codecs import b58encode

    return "PUB_K1_" + b58encode(key33 + ripemd160(key33 + b"K1")[:4])


def parse_signature(text: str) -> tuple[int, int, int]:
    if not text.startswith("SIG_K1_"):
        raise Rejected("EOS signature must start with SIG_K1_")
    try:
        raw = b58decode(text[7:])
    except CodecError as error:
        raise Rejected(f"invalid EOS signature: {error}") from None
    if len(raw) != 69 or not hmac.compare_digest(ripemd160(raw[:65] + b"K1")[:4], raw[65:]):
        raise Rejected("invalid EOS signature (length or checksum)")
    data = raw[:65]
    # eosio's canonical rule: neither r nor s may have its top bit set or a needless leading zero byte.
    if (
        data[1] & 0x80
        or (data[1] == 0 and not data[2] & 0x80)
        or data[33] & 0x80
        or (data[33] == 0 and not data[34] & 0x80)
    ):
        raise Rejected("non-canonical EOS signature")
    if not 27 <= data[0] <= 34:
        raise Rejected("invalid EOS signature recovery byte")
    return int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:65], "big"), (data[0] - 27) & 3


def verify(row: ReserveRow) -> str:
    r, s, recid = parse_signature(row.signature1)
    key_text = row.script_or_key or (row.address if row.address.startswith(("EOS", "PUB_K1_")) else "")
    if not key_text:
        raise Rejected("EOS rows need the account's public key in the public key column")
    expected = parse_public_key(key_text)
    for label, data in framings(row.message):
        if hmac.compare_digest(compressed(recover(sha256(data), r, s, recid, allow_high_s=False)), expected):
            if row.address.startswith(("EOS", "PUB_K1_")):
                return f"EOS K1 ({label})"
            raise Unsupported(
                f"signature valid for key {key_text} ({label}); that account {row.address} holds this key "
                "needs an on-chain lookup (get_account), which is not implemented"
            )
    raise Rejected("signature is not by this public key")
