"""How a user becomes a leaf, and leaves become a tree. Pure Python: a customer's verifier uses it.

    nonce    = HKDF-SHA256(exchange secret, salt = round id, info = "zkpor-user-nonce-v1" ‖ uid), 32 bytes
    id_hash  = Poseidon2-sponge("zkpor-id-v1", bytes_to_elements(uid ‖ 0x00 ‖ nonce))        4 elements
    capacity = Poseidon2-sponge("zkpor-leaf-v2", statement digest ‖ [4 + 2A])               4 elements
    leaf     = the overwrite sponge started from [0]*8 ‖ capacity, absorbing
               id_hash ‖ e_1 ‖ d_1 ‖ … ‖ e_A ‖ d_A (blocks of 8), output lanes 0..3         4 elements
    node     = Poseidon2-sponge("zkpor-node-v1", left ‖ right)                              4 elements

Balances are integers in base units; e_j, d_j are equity and debt of asset j. The asset list is
padded with always-zero assets to A ≡ 2 (mod 4), so that 4 + 2A fills whole sponge blocks of 8
(22 assets: exactly 6 blocks). A node is one width-12 permutation, the same one the leaf rows use,
so the AIR needs a single permutation gadget. The nonce makes a user's id hash unlinkable across
rounds and unguessable without the exchange's secret. The leaf's initial capacity is derived from
the round's statement digest (`statement`), so a leaf commits to the round id, the asset labels,
decimals and prices: an inclusion proof that relabels anything no longer reaches the root. The
capacity is a public constant of the round, so the AIR pins it on each leaf's first row at no cost.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence

from zkpor.hash import poseidon2

LEAF_DOMAIN = "zkpor-leaf-v2"
NODE_DOMAIN = "zkpor-node-v1"
ID_DOMAIN = "zkpor-id-v1"
NONCE_INFO = b"zkpor-user-nonce-v1"
NONCE_BYTES = 32
SPONGE_RATE = 8


def padded_asset_count(assets: int) -> int:
    """The smallest A' >= assets with 4 + 2A' a multiple of the sponge rate."""
    return assets + (-(4 + 2 * assets) // 2) % (SPONGE_RATE // 2)


class KeyedHmac:
    """HMAC-SHA256 (RFC 2104) under one key, of `prefix` ‖ message for many messages: the keyed
    state (and the prefix) is set up once and copied per message (`hmac.HMAC.copy`), where
    `hmac.digest` sets it up again on every call: about half the CPU for the round's short
    messages, one HMAC per user (docs/performance.md, "the round's own work")."""

    def __init__(self, key: bytes, prefix: bytes = b"") -> None:
        self._keyed = hmac.new(key, prefix, "sha256")

    def digest(self, message: bytes) -> bytes:
        return self.digests((message,))[0]

    def digests(self, messages: Iterable[bytes]) -> list[bytes]:
        out = []
        keyed_state = self._keyed.copy
        for message in messages:
            mac = keyed_state()
            mac.update(message)
            out.append(mac.digest())
        return out


def _hkdf_sha256(key: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF (extract, then expand)."""
    return _hkdf_expand(_hkdf_extract(key, salt), info, length)


def _hkdf_extract(key: bytes, salt: bytes) -> bytes:
    return hmac.digest(salt, key, "sha256")


def _hkdf_expand(prk: bytes | KeyedHmac, info: bytes, length: int) -> bytes:
    """RFC 5869's expand step from the pseudorandom key `prk` (or an HMAC keyed with it)."""
    keyed = prk if isinstance(prk, KeyedHmac) else KeyedHmac(prk)
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = keyed.digest(block + info + bytes([counter]))
        out += block
        counter += 1
    return out[:length]


def user_nonce(exchange_secret: bytes, round_id: str, uid: str) -> bytes:
    """Per user and per round: two rounds never share a nonce, so id hashes cannot be linked."""
    return user_nonces(exchange_secret, round_id, [uid.encode()])[0]


def user_nonces(exchange_secret: bytes, round_id: str, uids: Sequence[bytes]) -> list[bytes]:
    """`user_nonce` of many users (uids in UTF-8): HKDF's extract step, the same for every user of
    the round, once; then one HMAC per user (a nonce is HKDF-expand's first block: HMAC(prk,
    info ‖ uid ‖ 0x01), 32 bytes)."""
    assert NONCE_BYTES == 32  # one SHA-256 block of output
    keyed = KeyedHmac(_hkdf_extract(exchange_secret, round_id.encode()), NONCE_INFO)
    return keyed.digests(uid + b"\x01" for uid in uids)


def bytes_to_elements(data: bytes) -> list[int]:
    """Injective for a fixed domain: the length first, then 7-byte little-endian chunks (< 2^56)."""
    return [len(data)] + [int.from_bytes(data[i : i + 7], "little") for i in range(0, len(data), 7)]


def id_hash(uid: str, nonce: bytes) -> list[int]:
    return poseidon2.sponge_hash(ID_DOMAIN, bytes_to_elements(uid.encode() + b"\0" + nonce))


def leaf_elements(identity: Sequence[int], equity: Sequence[int], debt: Sequence[int]) -> list[int]:
    if len(identity) != 4 or len(equity) != len(debt):
        raise ValueError("a leaf takes a 4-element id hash and equal numbers of equity and debt values")
    padding = padded_asset_count(len(equity)) - len(equity)
    values = [v for pair in zip(equity, debt, strict=True) for v in pair] + [0] * (2 * padding)
    return list(identity) + values


def leaf_capacity(statement_digest: Sequence[int], element_count: int) -> list[int]:
    """The leaf sponge's initial capacity: the statement digest and the leaf length, under the leaf tag."""
    if len(statement_digest) != 4:
        raise ValueError("a statement digest has 4 elements")
    return poseidon2.sponge_hash(LEAF_DOMAIN, [*statement_digest, element_count])


def leaf_hash(
    statement_digest: Sequence[int], identity: Sequence[int], equity: Sequence[int], debt: Sequence[int]
) -> list[int]:
    elements = leaf_elements(identity, equity, debt)
    return poseidon2.sponge_from_capacity(leaf_capacity(statement_digest, len(elements)), elements)


def node_hash(left: Sequence[int], right: Sequence[int]) -> list[int]:
    return poseidon2.sponge_hash(NODE_DOMAIN, list(left) + list(right))


def merkle_root(leaves: Sequence[Sequence[int]]) -> list[int]:
    """Root of a complete binary tree over a power-of-two number of leaves."""
    level = [list(leaf) for leaf in leaves]
    if not level or len(level) & (len(level) - 1):
        raise ValueError("the number of leaves must be a power of two")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]
