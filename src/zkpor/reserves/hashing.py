"""The hash functions the chains use, in one place so each chain module reads like its spec."""

from __future__ import annotations

import hashlib

from Crypto.Hash import RIPEMD160, keccak


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    """Bitcoin's double SHA-256 (txids, base58check checksums, message hashes)."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def ripemd160(data: bytes) -> bytes:
    # pycryptodome's, because OpenSSL 3 builds may leave RIPEMD-160 out of hashlib.
    return RIPEMD160.new(data).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256: Bitcoin-family key and script hashes, XRP account ids."""
    return ripemd160(sha256(data))


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (the pre-standard padding, not SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


def sha3_256(data: bytes) -> bytes:
    return hashlib.sha3_256(data).digest()


def sha512half(data: bytes) -> bytes:
    """XRP Ledger's hash: the first 32 bytes of SHA-512."""
    return hashlib.sha512(data).digest()[:32]


def blake2b(data: bytes, size: int, *, person: bytes = b"") -> bytes:
    return hashlib.blake2b(data, digest_size=size, person=person).digest()


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP-340 tagged hash: SHA-256(SHA-256(tag) || SHA-256(tag) || data); the tag separates domains."""
    tag_hash = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_hash + tag_hash + data).digest()
