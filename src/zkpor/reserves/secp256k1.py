"""secp256k1 operations shared by the chains: public-key recovery, ECDSA and BIP-340 verification.

libsecp256k1 (through coincurve) does the curve arithmetic; this module adds the encodings and the
rules that differ between chains, above all whether a high-s ("malleated") signature is accepted.
"""

from __future__ import annotations

import coincurve

from zkpor.reserves.outcome import Rejected

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N // 2


def check_scalars(r: int, s: int, *, allow_high_s: bool) -> None:
    if not (0 < r < N and 0 < s < N):
        raise Rejected("signature r or s out of range")
    if s > HALF_N and not allow_high_s:
        raise Rejected("high-s (malleated) signature: this chain requires s <= n/2")


def recover(digest: bytes, r: int, s: int, recid: int, *, allow_high_s: bool) -> coincurve.PublicKey:
    """The public key that signed `digest` with (r, s) and recovery id 0..3."""
    check_scalars(r, s, allow_high_s=allow_high_s)
    if not 0 <= recid <= 3:
        raise Rejected(f"invalid recovery id {recid}")
    compact = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recid])
    try:
        return coincurve.PublicKey.from_signature_and_message(compact, digest, hasher=None)
    except Exception:  # noqa: BLE001 - libsecp256k1 reports only "failed"
        raise Rejected("no public key recovers from this signature") from None


def parse_der(der: bytes) -> tuple[int, int]:
    """(r, s) of a strictly DER-encoded signature (BIP-66 rules)."""
    if len(der) < 8 or len(der) > 72 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise Rejected("signature is not strict DER")
    values = []
    pos = 2
    for _ in range(2):
        if pos + 2 > len(der) or der[pos] != 0x02:
            raise Rejected("signature is not strict DER")
        length = der[pos + 1]
        body = der[pos + 2 : pos + 2 + length]
        if (
            length == 0
            or len(body) != length
            or body[0] & 0x80
            or (length > 1 and body[0] == 0 and not body[1] & 0x80)
        ):
            raise Rejected("signature is not strict DER")
        values.append(int.from_bytes(body, "big"))
        pos += 2 + length
    if pos != len(der):
        raise Rejected("signature is not strict DER")
    return values[0], values[1]


def verify_ecdsa(public_key: bytes, digest: bytes, r: int, s: int, *, allow_high_s: bool) -> bool:
    """ECDSA verification of a 32-byte digest; libsecp256k1 checks the low-s form, so normalise first."""
    check_scalars(r, s, allow_high_s=allow_high_s)
    if s > HALF_N:
        s = N - s  # (r, n-s) is the same signature mirrored; only accepted when the chain allows it
    try:
        key = coincurve.PublicKey(public_key)
    except Exception:  # noqa: BLE001
        raise Rejected("invalid secp256k1 public key") from None
    return key.verify(_der_encode(r, s), digest, hasher=None)


def _der_encode(r: int, s: int) -> bytes:
    def integer(value: int) -> bytes:
        body = value.to_bytes((value.bit_length() + 8) // 8, "big")
        return b"\x02" + bytes([len(body)]) + body

    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


def verify_schnorr(xonly_key: bytes, digest: bytes, signature: bytes) -> bool:
    """BIP-340 verification against a 32-byte x-only key."""
    if len(signature) != 64:
        raise Rejected("BIP-340 signature must be 64 bytes")
    try:
        key = coincurve.PublicKeyXOnly(xonly_key)
    except Exception:  # noqa: BLE001
        raise Rejected("invalid x-only public key") from None
    return key.verify(signature, digest)


def compressed(key: coincurve.PublicKey) -> bytes:
    return key.format(compressed=True)


def uncompressed(key: coincurve.PublicKey) -> bytes:
    return key.format(compressed=False)
