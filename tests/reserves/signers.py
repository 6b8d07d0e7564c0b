"""Test-only signers: real keys make real signatures in each chain's format, so verification is
tested against signatures the tests did not copy from anywhere."""

from __future__ import annotations

import base64

import coincurve

from zkpor.reserves import bip322, evm, tron
from zkpor.reserves.bitcoin import COINS, Address, message_digest
from zkpor.reserves.codecs import b58check_encode, b58encode, cashaddr_encode, compact_size, segwit_encode
from zkpor.reserves.hashing import hash160, ripemd160, sha256, tagged_hash
from zkpor.reserves.secp256k1 import N


def key(seed: int) -> coincurve.PrivateKey:
    return coincurve.PrivateKey((seed % (N - 1) + 1).to_bytes(32, "big"))


# --- Bitcoin family ------------------------------------------------------------------------------


def p2pkh(coin: str, pub: bytes) -> str:
    params = COINS[coin]
    if params.cashaddr:
        return cashaddr_encode(params.cashaddr, 0, hash160(pub))
    return b58check_encode(bytes([params.p2pkh[0]]) + hash160(pub))


def p2pkh_legacy(coin: str, pub: bytes) -> str:
    return b58check_encode(bytes([COINS[coin].p2pkh[0]]) + hash160(pub))


def p2sh(coin: str, script: bytes) -> str:
    params = COINS[coin]
    if params.cashaddr:
        return cashaddr_encode(params.cashaddr, 1, hash160(script))
    return b58check_encode(bytes([params.p2sh[0]]) + hash160(script))


def p2sh_p2wpkh(coin: str, pub: bytes) -> str:
    return p2sh(coin, b"\x00\x14" + hash160(pub))


def p2wpkh(coin: str, pub: bytes) -> str:
    return segwit_encode(COINS[coin].hrp, 0, hash160(pub))


def p2wsh(coin: str, script: bytes) -> str:
    return segwit_encode(COINS[coin].hrp, 0, sha256(script))


def legacy_sign(
    private: coincurve.PrivateKey, coin: str, message: str, kind: str = "p2pkh", compressed: bool = True
) -> str:
    compact = private.sign_recoverable(message_digest(COINS[coin], message), hasher=None)
    offset = {"p2pkh": 27 + (4 if compressed else 0), "p2sh-p2wpkh": 35, "p2wpkh": 39}[kind]
    return base64.b64encode(bytes([offset + compact[64]]) + compact[:64]).decode()


def multisig_script(m: int, pubs: list[bytes]) -> bytes:
    return bytes([0x50 + m]) + b"".join(bytes([len(p)]) + p for p in pubs) + bytes([0x50 + len(pubs), 0xAE])


def witness(items: list[bytes]) -> str:
    return base64.b64encode(
        compact_size(len(items)) + b"".join(compact_size(len(i)) + i for i in items)
    ).decode()


def bip322_p2wpkh(private: coincurve.PrivateKey, coin: str, message: str) -> tuple[str, str]:
    pub = private.public_key.format()
    address = Address("p2wpkh", hash160(pub))
    txid = bip322.to_spend_txid(address.script_pubkey, message)
    digest = bip322._bip143_digest(txid, b"\x76\xa9\x14" + hash160(pub) + b"\x88\xac", 1)
    der = private.sign(digest, hasher=None)
    return p2wpkh(coin, pub), witness([der + b"\x01", pub])


def taproot_output_key(private: coincurve.PrivateKey) -> tuple[coincurve.PrivateKey, bytes]:
    """BIP-86 style key-path-only output: tweak by the internal key alone (no script tree)."""
    d = int.from_bytes(private.secret, "big")
    point = coincurve.PublicKey.from_secret(private.secret).format(compressed=False)
    if point[64] & 1:
        d = N - d
    internal_x = point[1:33]
    tweak = int.from_bytes(tagged_hash("TapTweak", internal_x), "big")
    q = (d + tweak) % N
    tweaked = coincurve.PrivateKey(q.to_bytes(32, "big"))
    return tweaked, tweaked.public_key.format(compressed=False)[1:33]


def bip322_p2tr(
    private: coincurve.PrivateKey, coin: str, message: str, sighash_all: bool = False
) -> tuple[str, str]:
    tweaked, output_x = taproot_output_key(private)
    address = Address("p2tr", output_x)
    txid = bip322.to_spend_txid(address.script_pubkey, message)
    sighash = 1 if sighash_all else 0
    digest = bip322._bip341_digest(txid, address.script_pubkey, sighash)
    # libsecp256k1 negates the key itself when its point has an odd y, as BIP-340 signing requires.
    sig = tweaked.sign_schnorr(digest, b"\x07" * 32)
    return segwit_encode(COINS[coin].hrp, 1, output_x), witness([sig + (b"\x01" if sighash_all else b"")])


# --- EVM / TRON -----------------------------------------------------------------------------------


def evm_address(private: coincurve.PrivateKey) -> str:
    return evm.to_checksum_address(evm.address_of_key(private.public_key.format(compressed=False)))


def evm_sign(private: coincurve.PrivateKey, digest: bytes) -> str:
    compact = private.sign_recoverable(digest, hasher=None)
    return "0x" + (compact[:64] + bytes([27 + compact[64]])).hex()


def personal_sign(private: coincurve.PrivateKey, message: str) -> str:
    return evm_sign(private, evm.personal_digest(message.encode()))


def tron_address(private: coincurve.PrivateKey) -> str:
    return tron.encode_address(evm.address_of_key(private.public_key.format(compressed=False)))


def high_s(signature_hex: str) -> str:
    """The mirrored (r, n - s) form of a 65-byte r || s || v signature, with v flipped to match."""
    raw = bytes.fromhex(signature_hex[2:])
    s = int.from_bytes(raw[32:64], "big")
    v = 27 + ((raw[64] - 27) ^ 1)
    return "0x" + (raw[:32] + (N - s).to_bytes(32, "big") + bytes([v])).hex()


# --- EOS ------------------------------------------------------------------------------------------


def eos_sign(private: coincurve.PrivateKey, digest: bytes) -> str:
    """A `SIG_K1_` signature of `digest`; eosio only accepts canonical ones (no high bit, no needless
    zero byte in r or s), so re-sign with fresh nonces until one is."""
    for nonce in range(100):
        compact = (
            private.sign_recoverable(digest, hasher=None)
            if nonce == 0
            else _sign_with_extra_nonce(private, digest, nonce)
        )
        data = bytes([27 + 4 + compact[64]]) + compact[:64]
        if not (data[1] & 0x80 or data[33] & 0x80 or data[1] == 0 or data[33] == 0):
            return "SIG_K1_" + b58encode(data + ripemd160(data + b"K1")[:4])
    raise AssertionError("no canonical signature")


def _sign_with_extra_nonce(private: coincurve.PrivateKey, digest: bytes, nonce: int) -> bytes:
    # Another valid signature of the same digest: extra nonce data (libsecp256k1's ndata) changes k.
    from coincurve._libsecp256k1 import ffi, lib
    from coincurve.context import GLOBAL_CONTEXT

    signature = ffi.new("secp256k1_ecdsa_recoverable_signature *")
    ndata = ffi.new("unsigned char [32]", nonce.to_bytes(32, "big"))
    assert lib.secp256k1_ecdsa_sign_recoverable(
        GLOBAL_CONTEXT.ctx, signature, digest, private.secret, ffi.NULL, ndata
    )
    output = ffi.new("unsigned char [64]")
    recid = ffi.new("int *")
    lib.secp256k1_ecdsa_recoverable_signature_serialize_compact(GLOBAL_CONTEXT.ctx, output, recid, signature)
    return bytes(ffi.buffer(output, 64)) + bytes([recid[0]])


segwit_encode = segwit_encode
sha256 = sha256
