"""XRP Ledger: classic addresses are base58check (XRPL alphabet, version 0) of the AccountID,
`RIPEMD-160(SHA-256(public key))` with the 33-byte key (secp256k1 compressed, or 0xED || ed25519 key).

secp256k1 signs SHA-512Half of the data and must be fully canonical (low s); ed25519 signs the data.
Without a public key, a secp256k1 signature is checked by recovering the key candidates. An account
whose master key is disabled or uses a regular key needs the ledger, which is not read here.

OKX's form: a 65-byte recoverable r || s || v signature over Keccak-256 of OKX's envelope (its tool
compares the recovered key with the public key column; here that key must also derive the account).
"""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import RIPPLE_ALPHABET, CodecError, b58check_decode, hex_bytes
from zkpor.reserves.evm import okx_envelope_digest, parse_recoverable
from zkpor.reserves.framing import decode_blob, ed25519_verify, framings
from zkpor.reserves.hashing import hash160, sha512half
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.secp256k1 import compressed, parse_der, recover, verify_ecdsa


def parse_address(text: str) -> bytes:
    try:
        payload = b58check_decode(text, RIPPLE_ALPHABET)
    except CodecError as error:
        raise Rejected(f"invalid XRP Ledger address: {error}") from None
    if len(payload) != 21 or payload[0] != 0:
        raise Rejected("not an XRP Ledger classic address")
    return payload[1:]


def _signature_scalars(signature: bytes) -> tuple[int, int]:
    if len(signature) == 64:
        return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return parse_der(signature)


def _public_key(text: str) -> bytes:
    """33-byte key (compressed secp256k1 or 0xED || ed25519); OKX also writes secp256k1 as 64-byte x || y."""
    key = decode_blob(text, what="public key", sizes=(33, 64))
    if len(key) == 64:
        key = bytes([2 + (key[63] & 1)]) + key[:32]
    return key


def _verify_okx_recoverable(account: bytes, key: bytes, signature: bytes, message: str) -> str:
    r, s, v = parse_recoverable("0x" + signature.hex())
    recovered = compressed(recover(okx_envelope_digest(message.encode()), r, s, v, allow_high_s=True))
    if key and not hmac.compare_digest(recovered, key):
        raise Rejected("signature over the OKX envelope is not by the public key column's key")
    if not hmac.compare_digest(hash160(recovered), account):
        raise Rejected("signature over the OKX envelope recovers a key that is not this account's")
    return "XRPL secp256k1 (OKX envelope, Keccak-256, key recovered)"


def verify(row: ReserveRow) -> str:
    account = parse_address(row.address)
    try:
        signature = hex_bytes(row.signature1, what="signature")
    except CodecError as error:
        raise Rejected(str(error)) from None
    key = _public_key(row.script_or_key) if row.script_or_key else b""
    if key and not hmac.compare_digest(hash160(key), account):
        raise Rejected("public key does not derive this address (regular keys need a ledger lookup)")
    if len(signature) == 65 and key[:1] != b"\xed":
        return _verify_okx_recoverable(account, key, signature, row.message)
    if key[:1] == b"\xed":
        for label, data in framings(row.message):
            if ed25519_verify(key[1:], signature, data):
                return f"XRPL ed25519 ({label})"
        raise Rejected("ed25519 signature does not verify")
    r, s = _signature_scalars(signature)
    for label, data in framings(row.message):
        digest = sha512half(data)
        if key:
            if verify_ecdsa(key, digest, r, s, allow_high_s=False):
                return f"XRPL secp256k1 ({label})"
            continue
        for recid in range(4):
            try:
                candidate = compressed(recover(digest, r, s, recid, allow_high_s=False))
            except Rejected as error:
                if "high-s" in str(error):
                    raise
                continue
            if hmac.compare_digest(hash160(candidate), account):
                return f"XRPL secp256k1 ({label}, key recovered)"
    raise Rejected("secp256k1 signature does not verify for this account")
