"""Users → batches: the batch shape, the keyed shuffle, padding users, and each batch's id hashes.

Everything here is a deterministic function of (exchange secret, round id, users file, batch size),
so a restarted `zkpor prove` rebuilds exactly the batches it had started with.

Batch shape
    B users per batch, a power of two. Unless given, B = min(2^13, next power of two ≥ users), and
    at least the smallest batch whose trace covers the 2^L-row range table. The limb size L is 16
    when the trace has ≥ 2^16 rows (B · block ≥ 2^16, i.e. B ≥ 8192 for 22 assets) and 8 otherwise.

Keyed shuffle
    Every slot of every batch — the n real users plus the `batch_count · B − n` padding users — gets
    the sort key HMAC-SHA256(secret, "zkpor-shuffle-v1" ‖ 0 ‖ round id ‖ 0 ‖ tag), with tag
    "u" ‖ uid for a user and "p" ‖ index (8 bytes, big-endian) for padding user `index`. Slots are
    ordered by key (the first 16 bytes; ties are astronomically unlikely and broken by position, so
    the order is still deterministic): slot s lands in batch s // B at position s % B. Without the
    secret the order is unpredictable, so a batch's public subtotals describe a random subset of
    users, and padding users are spread over all batches instead of piling up in the last one.

Padding users
    Zero balances and an id hash of 4 field elements from
    HKDF-SHA256(secret, salt = round id, info = "zkpor-padding-v1" ‖ index), 16 bytes per element
    reduced mod p: indistinguishable from a real id hash without the secret, and reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from zkpor.errors import ZkporError
from zkpor.field.goldilocks import P
from zkpor.hash.poseidon2_batch import sponge_hash_batch
from zkpor.liabilities.encoding import ID_DOMAIN, KeyedHmac, _hkdf_expand, _hkdf_extract, user_nonces
from zkpor.liabilities.layout import SolvencyLayout
from zkpor.round.users import UserBalances

MAX_AUTO_BATCH = 1 << 13
# With the round proof, larger batches: a level-1 node's cost is per child proof, nearly whatever its
# size, so 16,384-user batches halve the tree's lower levels. At 2^20 users the round with
# aggregation took 519 s against 576 s with 8,192 (1.70x the round without it at the same batch
# size, against 2.01x), its peak 4.9 GB against 3.2 (docs/round-proof.md, "Batch size").
MAX_AUTO_BATCH_AGGREGATED = 1 << 14
MAX_BATCH = 1 << 20
SHUFFLE_DOMAIN = b"zkpor-shuffle-v1"
PADDING_INFO = b"zkpor-padding-v1"
_LIMB_CHOICES = (16, 8)  # the widest limb the trace allows: fewer limb columns, so a cheaper proof


def _next_power_of_two(x: int) -> int:
    return 1 << max(0, (x - 1).bit_length())


@dataclass(frozen=True)
class BatchShape:
    batch_size: int
    limb_bits: int
    batch_count: int

    @property
    def slots(self) -> int:
        """Users in all batches, padding included: the published (rounded-up) user count."""
        return self.batch_size * self.batch_count


def block_rows(asset_bits: tuple[int, ...]) -> int:
    """Trace rows per user for this asset list (8 for 22 assets)."""
    return SolvencyLayout(asset_bits, 16, 1 << 16).block


def choose_batch_shape(
    n_users: int,
    asset_bits: tuple[int, ...],
    batch_size: int | None = None,
    *,
    largest_auto: int = MAX_AUTO_BATCH,
) -> BatchShape:
    """The batch size (given, or chosen from the user count, at most `largest_auto`) and the limb
    size it allows."""
    if n_users < 1:
        raise ZkporError("the round has no users")
    block = block_rows(asset_bits)
    smallest = _next_power_of_two(-(-(1 << min(_LIMB_CHOICES)) // block))
    if batch_size is None:
        batch_size = max(smallest, min(largest_auto, _next_power_of_two(n_users)))
    elif batch_size < smallest or batch_size & (batch_size - 1) or batch_size > MAX_BATCH:
        raise ZkporError(
            f"batch size {batch_size} must be a power of two between {smallest} (the range table needs "
            f"{1 << min(_LIMB_CHOICES)} trace rows, {block} per user) and {MAX_BATCH}"
        )
    limb_bits = next(L for L in _LIMB_CHOICES if batch_size * block >= 1 << L)
    return BatchShape(batch_size, limb_bits, -(-n_users // batch_size))


def shuffle_slots(secret: bytes, round_id: str, uids: list[bytes], slots: int) -> np.ndarray:
    """Slot order: entry s is the user row in slot s, or −1 − k for padding user k (see module doc)."""
    return _slot_order(secret, round_id, len(uids), slots, lambda start, end: uids[start:end])


# Users whose shuffle keys are made at a time: the tags of a whole round would be a Python object
# per user (about 1.5 GB for 10^7 users); keys are 16 bytes each.
_KEY_CHUNK = 1 << 16


def _slot_order(
    secret: bytes, round_id: str, n: int, slots: int, uids_of: Callable[[int, int], Sequence[bytes]]
) -> np.ndarray:
    if slots < n:
        raise ValueError("fewer slots than users")
    keys = np.empty(2 * slots, dtype=">u8")
    keyed = KeyedHmac(secret, SHUFFLE_DOMAIN + b"\0" + round_id.encode() + b"\0")  # then the tag
    for start in range(0, slots, _KEY_CHUNK):
        end = min(start + _KEY_CHUNK, slots)
        users = uids_of(start, min(end, n)) if start < n else []
        tags = [b"u" + uid for uid in users]
        tags += [b"p" + (k - n).to_bytes(8, "big") for k in range(max(start, n), end)]
        chunk = b"".join(key[:16] for key in keyed.digests(tags))
        keys[2 * start : 2 * end] = np.frombuffer(chunk, dtype=">u8")
    high, low = keys[0::2], keys[1::2]
    order = np.lexsort((low, high))  # stable: equal keys keep their input order
    del keys, high, low
    who = np.arange(slots, dtype=np.int64)
    who[n:] = -1 - np.arange(slots - n, dtype=np.int64)
    return who[order]


def padding_id_hash(secret: bytes, round_id: str, index: int) -> list[int]:
    return _padding_id_hash(_hkdf_extract(secret, round_id.encode()), index)


def _padding_id_hash(prk: bytes | KeyedHmac, index: int) -> list[int]:
    """`padding_id_hash` from the HKDF's extract step (`prk`), the same for every padding user."""
    material = _hkdf_expand(prk, PADDING_INFO + index.to_bytes(8, "big"), 64)
    return [int.from_bytes(material[i : i + 16], "big") % P for i in range(0, 64, 16)]


def id_hashes_of(uids: list[str], nonces: list[bytes]) -> np.ndarray:
    """`encoding.id_hash` of many users at once: (n, 4) uint64."""
    return _id_hashes([uid.encode() for uid in uids], nonces)


def _id_hashes(uids: list[bytes], nonces: list[bytes]) -> np.ndarray:
    """`id_hashes_of` from UTF-8 uids. The sponge's inputs (`encoding.bytes_to_elements` of
    uid ‖ 0 ‖ nonce) are built with numpy for all rows of equal input length at once, and hashed by
    one numba sponge call per length (the input length is part of the sponge's initial state)."""
    out = np.zeros((len(uids), 4), dtype=np.uint64)
    data = [uid + b"\0" + nonce for uid, nonce in zip(uids, nonces, strict=True)]
    groups: dict[int, list[int]] = {}
    for i, item in enumerate(data):
        groups.setdefault(len(item), []).append(i)
    for length, members in groups.items():
        chunks = -(-length // 7)  # 7-byte little-endian chunks, the last one zero-padded
        raw = np.zeros((len(members), chunks * 7), dtype=np.uint8)
        joined = b"".join(data[i] for i in members)
        raw[:, :length] = np.frombuffer(joined, dtype=np.uint8).reshape(-1, length)
        words = np.zeros((len(members), chunks, 8), dtype=np.uint8)
        words[:, :, :7] = raw.reshape(len(members), chunks, 7)
        rows = np.empty((len(members), 1 + chunks), dtype=np.uint64)
        rows[:, 0] = length
        rows[:, 1:] = words.view("<u8").reshape(len(members), chunks)
        out[members] = sponge_hash_batch(ID_DOMAIN, rows)
    return out


@dataclass(frozen=True)
class BatchPlan:
    """Where every user sits. `slots[i·B + j]` is the user row at position j of batch i (−1 − k:
    padding user k)."""

    shape: BatchShape
    slots: np.ndarray

    @property
    def batch_size(self) -> int:
        return self.shape.batch_size

    def members(self, batch: int) -> np.ndarray:
        B = self.shape.batch_size
        return self.slots[batch * B : (batch + 1) * B]


def plan_batches(secret: bytes, round_id: str, users: UserBalances, shape: BatchShape) -> BatchPlan:
    def uids_of(start: int, end: int) -> list[bytes]:
        offsets = users.uid_offsets[start : end + 1].tolist()
        text = users.uid_bytes[offsets[0] : offsets[-1]].tobytes()
        base = offsets[0]
        return [text[a - base : b - base] for a, b in zip(offsets, offsets[1:], strict=False)]

    return BatchPlan(shape, _slot_order(secret, round_id, len(users), shape.slots, uids_of))


@dataclass(frozen=True)
class BatchMembers:
    """One batch's inputs: what the prover needs, and what the inclusion store keeps per user."""

    rows: np.ndarray  # (B,) user rows, −1 − k for padding user k
    uids: list[str | None]  # None for padding
    nonces: list[bytes | None]
    id_hashes: np.ndarray  # (B, 4) uint64
    equity: np.ndarray  # (B, assets) uint64
    debt: np.ndarray


def batch_members(
    plan: BatchPlan, batch: int, secret: bytes, round_id: str, users: UserBalances
) -> BatchMembers:
    rows = plan.members(batch)
    real = rows >= 0
    real_rows = rows[real]
    uids = _uid_bytes(users, real_rows)
    nonces = user_nonces(secret, round_id, uids)
    id_hashes = np.zeros((rows.shape[0], 4), dtype=np.uint64)
    if uids:
        id_hashes[real] = _id_hashes(uids, nonces)
    padding = np.flatnonzero(~real)
    if padding.size:
        prk = KeyedHmac(_hkdf_extract(secret, round_id.encode()))
        for position in padding:
            id_hashes[position] = _padding_id_hash(prk, int(-1 - rows[position]))
    n_assets = users.equity.shape[1]
    equity = np.zeros((rows.shape[0], n_assets), dtype=np.uint64)
    debt = np.zeros_like(equity)
    equity[real], debt[real] = users.take_rows(real_rows)
    all_uids: list[str | None] = [None] * rows.shape[0]
    all_nonces: list[bytes | None] = [None] * rows.shape[0]
    for position, uid, nonce in zip(np.flatnonzero(real).tolist(), uids, nonces, strict=True):
        all_uids[position], all_nonces[position] = uid.decode("utf-8"), nonce
    return BatchMembers(rows, all_uids, all_nonces, id_hashes, equity, debt)


def _uid_bytes(users: UserBalances, rows: np.ndarray) -> list[bytes]:
    """The UTF-8 uids of the given user rows: one gather from the uid buffer, then split."""
    starts, ends = users.uid_offsets[rows], users.uid_offsets[rows + 1]
    lengths = ends - starts
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    # byte j of the gathered text comes from starts[row] + (j − bounds[row])
    index = np.repeat(starts - bounds[:-1], lengths) + np.arange(bounds[-1])
    text = users.uid_bytes[index].tobytes()
    cuts = bounds.tolist()
    return [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
