"""The byte hash of the STARK's own commitments: BLAKE3, keyed per purpose, 32-byte digests.

Domain separation: every use names a *purpose* (e.g. ``"merkle-leaf"``, ``"merkle-node"``,
``"fiat-shamir"``), and hashes in BLAKE3's keyed mode under the key

    key(purpose) = BLAKE3-derive_key(context=KEY_CONTEXT, key material=purpose as UTF-8)

so two purposes are two independent keyed functions, and none of them is plain BLAKE3 of the same
bytes. Field elements and digests are hashed as little-endian uint64 words.

Two implementations compute the same digests: the `blake3` package (one message at a time, used by
verifiers: `hash_bytes`, `hash_words`), and the numba kernels of `zkpor.hash.blake3_kernels`
(many rows at once, used by provers: `hash_rows`, `hash_pairs`). Hashing one 1,600-byte row with
the package costs ~2.6 us of Python overhead and work on one core; the kernels hash rows on all
cores with no Python call per row (see benchmarks/bench_hash.py for the figures).

Importing this module loads only the `blake3` package, so verifiers (and the Fiat-Shamir
transcript) stay free of numpy and numba; the batch functions load them on first use.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING

import blake3

if TYPE_CHECKING:
    import numpy as np

DIGEST_SIZE = 32
_P = 0xFFFF_FFFF_0000_0001
KEY_CONTEXT = "zkpor 2026-08 bytehash purpose key v1"


@functools.lru_cache(maxsize=64)
def purpose_key(purpose: str) -> bytes:
    """The 32-byte BLAKE3 key of a purpose (see the module docstring)."""
    if not isinstance(purpose, str) or not purpose:
        raise ValueError("a hash purpose is a non-empty str")
    return blake3.blake3(purpose.encode("utf-8"), derive_key_context=KEY_CONTEXT).digest()


@functools.lru_cache(maxsize=64)
def _key_words(purpose: str) -> np.ndarray:
    import numpy as np

    words = np.frombuffer(purpose_key(purpose), dtype="<u4").astype(np.uint64)
    words.flags.writeable = False
    return words


def hash_bytes(purpose: str, data: bytes) -> bytes:
    """Keyed BLAKE3 of ``data`` under ``purpose``: 32 bytes."""
    return blake3.blake3(bytes(data), key=purpose_key(purpose)).digest()


def words_to_bytes(words: Sequence[int]) -> bytes:
    """Little-endian bytes of a sequence of uint64 values (ints or numpy integers)."""
    out = bytearray()
    for w in words:
        v = operator.index(w)
        if not 0 <= v < 1 << 64:
            raise ValueError(f"{v} does not fit in 64 bits")
        out += v.to_bytes(8, "little")
    return bytes(out)


def hash_words(purpose: str, words: Sequence[int]) -> bytes:
    """Keyed BLAKE3 of uint64 words (little-endian): equal to one row of `hash_rows`."""
    return hash_bytes(purpose, words_to_bytes(words))


def _as_u64_matrix(a: np.ndarray, name: str) -> np.ndarray:
    import numpy as np

    if not isinstance(a, np.ndarray) or a.dtype != np.uint64 or a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D numpy uint64 array")
    return np.ascontiguousarray(a)


def hash_rows(
    purpose: str, rows: np.ndarray, prefix: np.ndarray | None = None, *, field_elements: bool = False
) -> np.ndarray:
    """Keyed BLAKE3 of every row (optionally ``prefix[i] ‖ rows[i]``); (n, m) -> (n, 4) uint64.

    Each output row holds the 32 digest bytes as 4 little-endian uint64 words
    (`digests_to_bytes` turns it into bytes). Parallel over rows. With ``field_elements=True``
    a ValueError is raised if a value is >= p (checked in the same pass, at no extra cost).
    """
    import numpy as np

    from zkpor.field.parallel import parallel_ranges
    from zkpor.hash import blake3_kernels

    rows = _as_u64_matrix(rows, "rows")
    if prefix is None:
        prefix = np.zeros((rows.shape[0], 0), dtype=np.uint64)
    else:
        prefix = _as_u64_matrix(prefix, "prefix")
        if prefix.shape[0] != rows.shape[0]:
            raise ValueError("prefix and rows must have the same number of rows")
    out = np.empty((rows.shape[0], 4), dtype=np.uint64)
    bound = np.uint64(_P if field_elements else (1 << 64) - 1)
    above = parallel_ranges(
        blake3_kernels.hash_rows_range, rows.shape[0], _key_words(purpose), prefix, rows, out, bound, grain=64
    )
    if field_elements and sum(above):
        raise ValueError("a hashed value is >= p (not a canonical Goldilocks element)")
    return out


def hash_columns(
    purpose: str, columns: np.ndarray, prefix: np.ndarray | None = None, *, field_elements: bool = False
) -> np.ndarray:
    """`hash_rows` of the rows of a column-major matrix: row i is columns[:, i]; (m, n) -> (n, 4).

    Equal to ``hash_rows(purpose, columns.T, prefix)`` without transposing: rows are hashed
    side by side in vector lanes (`blake3_columns`), parallel over rows."""
    import numpy as np

    from zkpor.field.parallel import parallel_ranges
    from zkpor.hash import blake3_columns

    columns = _as_u64_matrix(columns, "columns")
    n = columns.shape[1]
    lanes = blake3_columns.LANES
    if prefix is None:
        prefix = np.zeros((n, 0), dtype=np.uint64)
    else:
        prefix = _as_u64_matrix(prefix, "prefix")
        if prefix.shape[0] != n:
            raise ValueError("prefix and columns must have the same number of rows")
    out = np.empty((n, 4), dtype=np.uint64)
    bound = np.uint64(_P if field_elements else (1 << 64) - 1)
    key = _key_words(purpose)

    def lane_groups(lo: int, hi: int) -> int:
        first, last = lo * lanes, min(n, hi * lanes)
        return blake3_columns.hash_columns_range(first, last, key, prefix, columns, out, bound)

    above = parallel_ranges(lane_groups, -(-n // lanes), grain=1)
    if field_elements and sum(above):
        raise ValueError("a hashed value is >= p (not a canonical Goldilocks element)")
    return out


def hash_pairs(purpose: str, nodes: np.ndarray) -> np.ndarray:
    """One tree level: row i of the result hashes nodes[2i] ‖ nodes[2i+1]; (2n, 4) -> (n, 4)."""
    import numpy as np

    nodes = _as_u64_matrix(nodes, "nodes")
    if nodes.shape[1] != 4 or nodes.shape[0] % 2:
        raise ValueError("nodes must have 4 columns and an even number of rows")
    # Row i of the (n, 8) view is nodes[2i] ‖ nodes[2i+1], the message: hashed as the prefix of an
    # empty column-major matrix, so many nodes go side by side in vector lanes (`hash_columns`).
    # The row kernel took ~370 ns a node, a third of it in atomic reference counting: its helper
    # calls take row views, each an atomic increment and decrement of a count all threads share.
    pairs = nodes.reshape(-1, 8)
    return hash_columns(purpose, np.empty((0, pairs.shape[0]), dtype=np.uint64), prefix=pairs)


def digests_to_bytes(digests: np.ndarray) -> list[bytes]:
    """Rows of 4 uint64 words -> 32-byte digests."""
    import numpy as np

    raw = np.ascontiguousarray(digests, dtype="<u8").tobytes()
    return [raw[i : i + DIGEST_SIZE] for i in range(0, len(raw), DIGEST_SIZE)]


def digest_to_words(digest: bytes) -> np.ndarray:
    """A 32-byte digest as 4 little-endian uint64 words."""
    if len(digest) != DIGEST_SIZE:
        raise ValueError(f"a digest is {DIGEST_SIZE} bytes, not {len(digest)}")
    import numpy as np

    return np.frombuffer(digest, dtype="<u8").astype(np.uint64)
