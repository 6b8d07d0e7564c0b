"""EVM chains (Ethereum, ETC, OKC, Arbitrum, Optimism, Base, Linea, zkSync Era, Polygon, Avalanche C,
BSC, X Layer).

Ownership is an EIP-191 version 0x45 signature ("personal_sign"):
`keccak256("\\x19Ethereum Signed Message:\\n" || len(message) || message)`, 65 bytes r || s || v with
v in {27, 28} (or {0, 1}); the recovered key's address, `keccak256(x || y)[12:]`, must be the row's.
Some exchanges sign the 32-byte Keccak hash of the message instead of the message itself; that
variant is accepted too and named in the result. High-s signatures are refused (EIP-2).
A mixed-case address must carry a valid EIP-55 checksum.

OKC (OKT chain) also takes OKX's envelope, as its verification tool checks OKC rows:
`keccak256(varstr("OKX Signed Message:\n") || varstr(message))`, and its Cosmos-style `ex1…` addresses
(bech32 of the same 20 bytes).
"""

from __future__ import annotations

import hmac

from zkpor.reserves.codecs import CodecError, bech32_bytes_decode, hex_bytes, var_str
from zkpor.reserves.framing import ENVELOPE_PREFIX
from zkpor.reserves.hashing import keccak256
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.secp256k1 import recover, uncompressed

PREFIX = b"\x19Ethereum Signed Message:\n"


def personal_digest(message: bytes, prefix: bytes = PREFIX) -> bytes:
    """EIP-191 personal_sign (TRON's signMessageV2 is the same under its own prefix)."""
    return keccak256(prefix + str(len(message)).encode() + message)


def hashed_personal_digest(message: bytes, prefix: bytes = PREFIX) -> bytes:
    """The variant that signs keccak256(message) as a 32-byte personal message (TRON's v1)."""
    return keccak256(prefix + b"32" + keccak256(message))


def okx_envelope_digest(message: bytes) -> bytes:
    """OKX's envelope hashed with Keccak-256 (its tool's check for OKC, Filecoin f1, XRP, aelf...)."""
    return keccak256(var_str(ENVELOPE_PREFIX) + var_str(message))


OKC_BECH32_PREFIX = "ex"


def to_checksum_address(address20: bytes) -> str:
    """EIP-55: upper-case each hex letter whose nibble in keccak256(lower-case hex) is >= 8."""
    lower = address20.hex()
    digest = keccak256(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest[:40], strict=True)
    )


def parse_address(text: str) -> bytes:
    """20 address bytes; a mixed-case address must pass EIP-55, an all-lower/upper one is taken as is."""
    if len(text) != 42 or text[:2] not in ("0x", "0X"):
        raise Rejected("EVM address must be 0x followed by 40 hex digits")
    try:
        raw = hex_bytes(text, what="address")
    except CodecError as error:
        raise Rejected(str(error)) from None
    body = text[2:]
    if body != body.lower() and body != body.upper() and to_checksum_address(raw) != text:
        raise Rejected("address fails its EIP-55 checksum")
    return raw


def parse_okc_address(text: str) -> bytes:
    """20 address bytes of an OKC address, 0x hex or its bech32 `ex1…` spelling."""
    if text[:3].lower() != "ex1":
        return parse_address(text)
    try:
        raw = bech32_bytes_decode(OKC_BECH32_PREFIX, text)
    except CodecError as error:
        raise Rejected(f"invalid OKC ex1 address: {error}") from None
    if len(raw) != 20:
        raise Rejected("an OKC ex1 address holds 20 bytes")
    return raw


def canonical(chain: object, text: str) -> str:
    """Lower-case 0x hex, whatever the case (or, on OKC, the `ex1` spelling). Longer hex identifiers
    (a staking row's 48-byte validator key) are lower-cased too."""
    body = text[2:]
    if text[:2] in ("0x", "0X") and body and all(c in "0123456789abcdefABCDEF" for c in body):
        return "0x" + body.lower()
    return "0x" + parse_okc_address(text).hex()


def address_of_key(key65: bytes) -> bytes:
    return keccak256(key65[1:])[12:]


def parse_recoverable(signature: str) -> tuple[int, int, int]:
    """(r, s, recovery id) of a 65-byte hex r || s || v signature."""
    try:
        raw = hex_bytes(signature, what="signature")
    except CodecError as error:
        raise Rejected(str(error)) from None
    if len(raw) != 65:
        raise Rejected(f"signature must be 65 bytes (r || s || v), got {len(raw)}")
    v = raw[64]
    if v in (27, 28):
        v -= 27
    elif v not in (0, 1):
        raise Rejected(f"invalid recovery byte v={raw[64]}")
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), v


def recover_address(digest: bytes, signature: str) -> bytes:
    r, s, v = parse_recoverable(signature)
    return address_of_key(uncompressed(recover(digest, r, s, v, allow_high_s=False)))


def signer_matches(expected: bytes, message: str, signature: str, *, okx_envelope: bool = False) -> str:
    """Scheme label when `signature` over `message` recovers to `expected`; raises Rejected otherwise.

    `okx_envelope` also accepts OKX's Keccak-256 envelope (OKC rows)."""
    data = message.encode()
    recovered = []
    digests = [
        ("EIP-191 personal_sign", personal_digest(data)),
        ("EIP-191 personal_sign of keccak256(message)", hashed_personal_digest(data)),
    ]
    if okx_envelope:
        digests.append(("OKX envelope, Keccak-256", okx_envelope_digest(data)))
    for label, digest in digests:
        try:
            address = recover_address(digest, signature)
        except Rejected as error:
            if (
                "high-s" in str(error)
                or "must be" in str(error)
                or "hex" in str(error)
                or "recovery byte" in str(error)
            ):
                raise
            continue
        if hmac.compare_digest(address, expected):
            return label
        recovered.append(to_checksum_address(address))
    signer = recovered[0] if recovered else "no key"
    raise Rejected(f"signature recovers to {signer}, not {to_checksum_address(expected)}")


def verify(address: str, message: str, sig1: str, sig2: str, *, okc: bool = False) -> str:
    """Verify an externally owned address (contract wallets and staking rows: see contracts.py)."""
    expected = parse_okc_address(address) if okc else parse_address(address)
    if not sig1:
        raise Rejected("no signature")
    if sig2:
        raise Rejected("two signatures for a single-key address")
    return signer_matches(expected, message, sig1, okx_envelope=okc)


def verify_owners(
    message: str, sig1: str, sig2: str, eoa1: str, eoa2: str, *, okc: bool = False
) -> list[str]:
    """Check that each owner EOA signed; returns their checksummed addresses."""
    owners = []
    for number, (sig, eoa) in enumerate(((sig1, eoa1), (sig2, eoa2)), start=1):
        if not eoa and not sig:
            continue
        if not (eoa and sig):
            raise Rejected(f"owner {number}: address and signature must both be given")
        expected = parse_okc_address(eoa) if okc else parse_address(eoa)
        try:
            signer_matches(expected, message, sig, okx_envelope=okc)
        except Rejected as error:
            raise Rejected(f"owner {number}: {error}") from None
        owners.append(to_checksum_address(expected))
    if not owners:
        raise Rejected("no owner signatures")
    return owners
