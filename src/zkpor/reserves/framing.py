"""Message framings and ed25519 shared by the chains that have no single message-signing standard.

Wallets of these chains sign either the message bytes themselves or a wrapped form. We accept a short,
fixed list per chain, and the result names the framing that matched. Every framing is an unambiguous
encoding of the message, so a signature over one can never pass as a signature of another message:

* `raw`: the UTF-8 bytes of the message;
* `exchange envelope`: `varstr("OKX Signed Message:\\n") || varstr(message)`, the convention of OKX's
  published reserve files for non-Bitcoin, non-EVM chains (varstr = Bitcoin CompactSize length + bytes);
* chain-specific ones (Polkadot's `<Bytes>…</Bytes>`) are added by the chain module.
"""

from __future__ import annotations

import base64
import binascii

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from zkpor.reserves.codecs import CodecError, b58decode, hex_bytes, var_str
from zkpor.reserves.outcome import Rejected

ENVELOPE_PREFIX = b"OKX Signed Message:\n"


def framings(message: str) -> list[tuple[str, bytes]]:
    data = message.encode()
    return [("raw", data), ("exchange envelope", var_str(ENVELOPE_PREFIX) + var_str(data))]


def ed25519_verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        VerifyKey(public_key).verify(data, signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def decode_blob(text: str, *, what: str, sizes: tuple[int, ...]) -> bytes:
    """A signature or key given as hex (0x optional), base58 or base64, of one of the expected sizes."""
    text = text.strip()
    if not text:
        raise Rejected(f"no {what}")
    candidates = []
    for decoder in (lambda t: hex_bytes(t), b58decode, lambda t: base64.b64decode(t, validate=True)):
        try:
            candidates.append(decoder(text))
        except (CodecError, ValueError, binascii.Error):
            continue
    for raw in candidates:
        if len(raw) in sizes:
            return raw
    if not candidates:
        raise Rejected(f"{what} is neither hex, base58 nor base64")
    raise Rejected(f"{what} must be {' or '.join(map(str, sizes))} bytes, got {len(candidates[0])}")


def verify_ed25519_framed(
    public_key: bytes, signature: bytes, message: str, extra: list[tuple[str, bytes]] | None = None
) -> str:
    """The label of the first framing the signature verifies; raises Rejected if none does."""
    for label, data in framings(message) + (extra or []):
        if ed25519_verify(public_key, signature, data):
            return label
    raise Rejected("ed25519 signature does not verify for this key and message")
