"""Text encodings of keys, addresses and signatures: base58(check), bech32/bech32m, CashAddr, base32.

Decoders are strict: a bad character, a bad checksum or a wrong length raises `CodecError` with a
reason fit for a per-row report. Nothing here knows about a particular chain beyond its alphabet.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from zkpor.reserves.hashing import sha256d


class CodecError(ValueError):
    """A string that does not decode; the message says why."""


# --- base58 -----------------------------------------------------------------------------------------

BITCOIN_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
RIPPLE_ALPHABET = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"

_B58_INDEX = {
    alphabet: {c: i for i, c in enumerate(alphabet)} for alphabet in (BITCOIN_ALPHABET, RIPPLE_ALPHABET)
}


def b58decode(text: str, alphabet: str = BITCOIN_ALPHABET) -> bytes:
    if not text:
        raise CodecError("empty base58 string")
    if len(text) > 512:
        raise CodecError("base58 string too long")
    index = _B58_INDEX[alphabet]
    value = 0
    for char in text:
        digit = index.get(char)
        if digit is None:
            raise CodecError(f"invalid base58 character {char!r}")
        value = value * 58 + digit
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    leading_zeros = len(text) - len(text.lstrip(alphabet[0]))
    return b"\x00" * leading_zeros + body


def b58encode(data: bytes, alphabet: str = BITCOIN_ALPHABET) -> str:
    value = int.from_bytes(data, "big")
    chars = []
    while value:
        value, digit = divmod(value, 58)
        chars.append(alphabet[digit])
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return alphabet[0] * leading_zeros + "".join(reversed(chars))


def b58check_decode(text: str, alphabet: str = BITCOIN_ALPHABET) -> bytes:
    """Payload (version byte(s) included) of a base58check string with a double-SHA-256 checksum."""
    raw = b58decode(text, alphabet)
    if len(raw) < 5:
        raise CodecError("base58check string too short")
    payload, checksum = raw[:-4], raw[-4:]
    if not hmac.compare_digest(sha256d(payload)[:4], checksum):
        raise CodecError("bad base58check checksum")
    return payload


def b58check_encode(payload: bytes, alphabet: str = BITCOIN_ALPHABET) -> str:
    return b58encode(payload + sha256d(payload)[:4], alphabet)


# --- bech32 / bech32m (BIP-173, BIP-350) ------------------------------------------------------------

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(BECH32_CHARSET)}
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            checksum ^= generator[i] if (top >> i) & 1 else 0
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(text: str, *, max_length: int = 90) -> tuple[str, list[int], int]:
    """(hrp, 5-bit data without checksum, checksum constant) of a bech32 or bech32m string."""
    if len(text) > max_length:
        raise CodecError("bech32 string too long")
    if text.lower() != text and text.upper() != text:
        raise CodecError("bech32 string mixes upper and lower case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise CodecError("bech32 separator misplaced")
    hrp, rest = text[:pos], text[pos + 1 :]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise CodecError("bech32 prefix has invalid characters")
    try:
        data = [_BECH32_INDEX[c] for c in rest]
    except KeyError as missing:
        raise CodecError(f"invalid bech32 character {missing.args[0]!r}") from None
    const = _bech32_polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST):
        raise CodecError("bad bech32 checksum")
    return hrp, data[:-6], const


def bech32_encode(hrp: str, data: list[int], const: int) -> str:
    values = _hrp_expand(hrp) + data
    polymod = _bech32_polymod(values + [0] * 6) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    accumulator = bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        if value >> from_bits:
            raise CodecError("value out of range in bit conversion")
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((accumulator >> bits) & max_value)
    if pad:
        if bits:
            out.append((accumulator << (to_bits - bits)) & max_value)
    elif bits >= from_bits or (accumulator << (to_bits - bits)) & max_value:
        raise CodecError("non-zero padding in bit conversion")
    return out


def segwit_decode(expected_hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, program) of a segwit address, following BIP-173/BIP-350 exactly."""
    hrp, data, const = bech32_decode(address)
    if hrp != expected_hrp:
        raise CodecError(f"address prefix {hrp!r}, expected {expected_hrp!r}")
    if not data:
        raise CodecError("segwit address has no witness version")
    version = data[0]
    if version > 16:
        raise CodecError("invalid witness version")
    program = bytes(convert_bits(data[1:], 5, 8, pad=False))
    if not 2 <= len(program) <= 40:
        raise CodecError("invalid witness program length")
    if version == 0 and len(program) not in (20, 32):
        raise CodecError("invalid v0 witness program length")
    if (version == 0) != (const == BECH32_CONST):
        raise CodecError("wrong checksum variant for this witness version (bech32 vs bech32m)")
    return version, program


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    const = BECH32_CONST if version == 0 else BECH32M_CONST
    return bech32_encode(hrp, [version] + convert_bits(program, 8, 5, pad=True), const)


def bech32_bytes_decode(expected_hrp: str, text: str, *, max_length: int = 90) -> bytes:
    """The bytes of a plain (non-segwit) bech32 string such as OKC's `ex1…` or Cardano's `addr1…`."""
    hrp, data, const = bech32_decode(text, max_length=max_length)
    if hrp != expected_hrp:
        raise CodecError(f"address prefix {hrp!r}, expected {expected_hrp!r}")
    if const != BECH32_CONST:
        raise CodecError("bech32m checksum where bech32 is expected")
    return bytes(convert_bits(data, 5, 8, pad=False))


def bech32_bytes_encode(hrp: str, data: bytes) -> str:
    return bech32_encode(hrp, convert_bits(data, 8, 5, pad=True), BECH32_CONST)


# --- CashAddr (Bitcoin Cash) -------------------------------------------------------------------------


def _cashaddr_polymod(values: list[int]) -> int:
    generator = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)
    checksum = 1
    for value in values:
        top = checksum >> 35
        checksum = ((checksum & 0x07FFFFFFFF) << 5) ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= generator[i]
    return checksum ^ 1


def cashaddr_decode(address: str, default_prefix: str = "bitcoincash") -> tuple[str, int, bytes]:
    """(prefix, type, hash) of a CashAddr; type 0 is P2PKH, 1 is P2SH."""
    if address.lower() != address and address.upper() != address:
        raise CodecError("CashAddr mixes upper and lower case")
    address = address.lower()
    prefix, _, payload = address.rpartition(":")
    prefix = prefix or default_prefix
    try:
        data = [_BECH32_INDEX[c] for c in payload]
    except KeyError as missing:
        raise CodecError(f"invalid CashAddr character {missing.args[0]!r}") from None
    if len(data) < 9:
        raise CodecError("CashAddr too short")
    if _cashaddr_polymod([ord(c) & 31 for c in prefix] + [0] + data) != 0:
        raise CodecError("bad CashAddr checksum")
    raw = bytes(convert_bits(data[:-8], 5, 8, pad=False))
    version, hash_bytes = raw[0], raw[1:]
    sizes = {0: 20, 1: 24, 2: 28, 3: 32, 4: 40, 5: 48, 6: 56, 7: 64}
    if len(hash_bytes) != sizes[version & 7]:
        raise CodecError("CashAddr hash length does not match its version byte")
    return prefix, version >> 3, hash_bytes


def cashaddr_encode(prefix: str, kind: int, hash_bytes: bytes) -> str:
    size_code = {20: 0, 24: 1, 28: 2, 32: 3, 40: 4, 48: 5, 56: 6, 64: 7}[len(hash_bytes)]
    data = convert_bits(bytes([(kind << 3) | size_code]) + hash_bytes, 8, 5, pad=True)
    polymod = _cashaddr_polymod([ord(c) & 31 for c in prefix] + [0] + data + [0] * 8)
    checksum = [(polymod >> 5 * (7 - i)) & 31 for i in range(8)]
    return prefix + ":" + "".join(BECH32_CHARSET[d] for d in data + checksum)


# --- plain byte encodings -----------------------------------------------------------------------------


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def hex_bytes(text: str, *, what: str = "value") -> bytes:
    """Bytes of a hex string, with or without 0x; strict (no spaces, even length)."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if not body or len(body) % 2 or not _HEX_DIGITS.issuperset(body):
        raise CodecError(f"{what} is not valid hex")
    return bytes.fromhex(body)


def base64_bytes(text: str, *, what: str = "value") -> bytes:
    """Bytes of a standard base64 string (padding required, no stray characters)."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CodecError(f"{what} is not valid base64") from None


def base32_lower(data: bytes) -> str:
    """RFC 4648 base32, lower case, no padding (Filecoin addresses)."""
    return base64.b32encode(data).decode().rstrip("=").lower()


def base32_lower_decode(text: str) -> bytes:
    if text.lower() != text:
        raise CodecError("base32 part must be lower case")
    try:
        return base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise CodecError("invalid base32") from None


def compact_size(n: int) -> bytes:
    """Bitcoin's variable-length integer (CompactSize)."""
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def var_str(data: bytes) -> bytes:
    return compact_size(len(data)) + data
