"""BIP-322 "simple" signatures for P2WPKH and P2TR (key path) addresses.

The signer proves it could spend from the address by signing a virtual transaction `to_sign` that
spends a virtual output `to_spend`, whose input script commits to the BIP-340 tagged hash of the
message. A simple signature is the base64 of `to_sign`'s consensus-encoded witness stack. We build
both transactions, compute the input's signature hash (BIP-143 for v0, BIP-341 for taproot) and check
the witness, with the standard-policy rules (strict DER, low s, SIGHASH_ALL/DEFAULT only).
"""

from __future__ import annotations

from zkpor.reserves.codecs import CodecError, base64_bytes, compact_size, var_str
from zkpor.reserves.hashing import hash160, sha256, sha256d, tagged_hash
from zkpor.reserves.outcome import Rejected, Unsupported
from zkpor.reserves.secp256k1 import parse_der, verify_ecdsa, verify_schnorr

SIGHASH_DEFAULT = 0x00
SIGHASH_ALL = 0x01


def message_hash(message: str) -> bytes:
    return tagged_hash("BIP0322-signed-message", message.encode())


def to_spend_txid(script_pubkey: bytes, message: str) -> bytes:
    """Internal-byte-order txid of the virtual `to_spend` transaction."""
    script_sig = b"\x00\x20" + message_hash(message)  # OP_0 PUSH32 <message hash>
    tx = (
        (0).to_bytes(4, "little")  # version 0
        + b"\x01"
        + b"\x00" * 32
        + b"\xff\xff\xff\xff"  # one input: the null outpoint (index 0xFFFFFFFF)
        + var_str(script_sig)
        + (0).to_bytes(4, "little")  # sequence 0
        + b"\x01"
        + (0).to_bytes(8, "little")
        + var_str(script_pubkey)  # one output of 0 to the address
        + (0).to_bytes(4, "little")  # locktime 0
    )
    return sha256d(tx)


def to_sign_txid(script_pubkey: bytes, message: str) -> bytes:
    """Internal-byte-order txid of the unsigned `to_sign` transaction (for the BIP's test vectors)."""
    return sha256d(_to_sign_parts(to_spend_txid(script_pubkey, message)))


def _to_sign_parts(spend_txid: bytes) -> bytes:
    return (
        (0).to_bytes(4, "little")
        + b"\x01"
        + spend_txid
        + (0).to_bytes(4, "little")
        + b"\x00"
        + (0).to_bytes(4, "little")
        + b"\x01"
        + (0).to_bytes(8, "little")
        + var_str(b"\x6a")  # one OP_RETURN output of 0
        + (0).to_bytes(4, "little")
    )


def parse_witness(data: bytes) -> list[bytes]:
    """A consensus-encoded witness stack; the whole input must be consumed."""
    pos = 0

    def read_size() -> int:
        nonlocal pos
        if pos >= len(data):
            raise Rejected("truncated BIP-322 witness")
        first = data[pos]
        width = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(first, 0)
        if pos + 1 + width > len(data):
            raise Rejected("truncated BIP-322 witness")
        value = first if not width else int.from_bytes(data[pos + 1 : pos + 1 + width], "little")
        if width and compact_size(value) != data[pos : pos + 1 + width]:
            raise Rejected("non-canonical size in BIP-322 witness")
        pos += 1 + width
        return value

    count = read_size()
    if count > 100:
        raise Rejected("BIP-322 witness has too many items")
    items = []
    for _ in range(count):
        size = read_size()
        if pos + size > len(data):
            raise Rejected("truncated BIP-322 witness")
        items.append(data[pos : pos + size])
        pos += size
    if pos != len(data):
        raise Rejected("trailing bytes after BIP-322 witness")
    return items


def _bip143_digest(spend_txid: bytes, script_code: bytes, sighash: int) -> bytes:
    outpoint = spend_txid + (0).to_bytes(4, "little")
    sequence = (0).to_bytes(4, "little")
    output = (0).to_bytes(8, "little") + var_str(b"\x6a")
    preimage = (
        (0).to_bytes(4, "little")
        + sha256d(outpoint)
        + sha256d(sequence)
        + outpoint
        + var_str(script_code)
        + (0).to_bytes(8, "little")
        + sequence
        + sha256d(output)
        + (0).to_bytes(4, "little")
        + sighash.to_bytes(4, "little")
    )
    return sha256d(preimage)


def _bip341_digest(spend_txid: bytes, script_pubkey: bytes, sighash: int) -> bytes:
    preimage = (
        b"\x00"  # sighash epoch
        + bytes([sighash])
        + (0).to_bytes(4, "little")
        + (0).to_bytes(4, "little")  # version, locktime
        + sha256(spend_txid + (0).to_bytes(4, "little"))  # sha_prevouts
        + sha256((0).to_bytes(8, "little"))  # sha_amounts
        + sha256(var_str(script_pubkey))  # sha_scriptpubkeys
        + sha256((0).to_bytes(4, "little"))  # sha_sequences
        + sha256((0).to_bytes(8, "little") + var_str(b"\x6a"))  # sha_outputs
        + b"\x00"  # spend type: key path, no annex
        + (0).to_bytes(4, "little")  # input index
    )
    return tagged_hash("TapSighash", preimage)


def verify_simple(kind: str, program: bytes, script_pubkey: bytes, message: str, signature: str) -> str:
    """Verify a BIP-322 simple signature for a P2WPKH or P2TR address; returns the scheme label."""
    try:
        witness = parse_witness(base64_bytes(signature, what="BIP-322 signature"))
    except CodecError as error:
        raise Rejected(str(error)) from None
    spend_txid = to_spend_txid(script_pubkey, message)
    if kind == "p2wpkh":
        if len(witness) != 2:
            raise Rejected("P2WPKH witness must be <signature> <public key>")
        der_and_type, key = witness
        if len(key) != 33 or key[0] not in (2, 3):
            raise Rejected("P2WPKH witness key must be a compressed public key")
        if hash160(key) != program:
            raise Rejected("witness key is not this address's key")
        if not der_and_type or der_and_type[-1] != SIGHASH_ALL:
            raise Rejected("only SIGHASH_ALL BIP-322 signatures are accepted")
        r, s = parse_der(der_and_type[:-1])
        script_code = b"\x76\xa9\x14" + program + b"\x88\xac"
        if not verify_ecdsa(
            key, _bip143_digest(spend_txid, script_code, SIGHASH_ALL), r, s, allow_high_s=False
        ):
            raise Rejected("BIP-322 signature does not verify (wrong message or key)")
        return "BIP-322 simple P2WPKH"
    if kind == "p2tr":
        if len(witness) >= 2 and witness[-1][:1] == b"\x50":
            raise Unsupported("BIP-322 taproot witness with an annex")
        if len(witness) >= 2:
            control = witness[-1]
            if len(control) >= 33 and (len(control) - 33) % 32 == 0 and control[0] & 0xFE == 0xC0:
                raise Unsupported("BIP-322 taproot script-path spends are not supported (key path only)")
            raise Rejected("not a taproot key-path witness (one 64/65-byte signature expected)")
        if len(witness) != 1:
            raise Rejected("empty BIP-322 witness")
        sig = witness[0]
        if len(sig) == 65:
            if sig[64] != SIGHASH_ALL:
                raise Rejected("only SIGHASH_DEFAULT or SIGHASH_ALL taproot signatures are accepted")
            sighash, sig = SIGHASH_ALL, sig[:64]
        elif len(sig) == 64:
            sighash = SIGHASH_DEFAULT
        else:
            raise Rejected(f"taproot signature must be 64 or 65 bytes, got {len(sig)}")
        if not verify_schnorr(program, _bip341_digest(spend_txid, script_pubkey, sighash), sig):
            raise Rejected("BIP-322 signature does not verify (wrong message or key)")
        return "BIP-322 simple P2TR"
    raise Unsupported(f"BIP-322 for {kind.upper()} addresses")
