"""Uniform Goldilocks elements for zero-knowledge blinding: a CSPRNG, on all threads.

The hiding randomness of a batch proof is ~25 M field elements (200 MB): the main trace's
randomiser alone is its 298 × 65,536 coefficients. It is drawn from AES-256 in counter mode under a
fresh 256-bit key from `secrets` (one key per call, never stored or reused): the keystream of a
block cipher in counter mode is indistinguishable from random to anyone without the key (NIST's
CTR_DRBG is built the same way), and it costs ~0.2 ns per byte with AES-NI. Row r of a matrix
takes the counter blocks from r·⌈8c/16⌉ on (c elements a row), so rows are disjoint pieces of one
keystream and can be filled on several threads at once (pycryptodome's cipher calls release the
GIL). A word ≥ p (probability 2^-32 each) is redrawn from the operating system (`os.urandom`), so
the elements are exactly uniform.

(Until this module, the prover drew them from numpy's PCG64DXSM seeded with 128 bits from
`secrets`: a fast statistical generator, not a cryptographic one, and on one thread.)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

import numpy as np

from zkpor.field import parallel
from zkpor.field.pure import P

_P = np.uint64(P)
# Elements a thread must get before another thread is woken (a wake-up costs ~20 µs; AES-CTR
# makes ~2^15 elements in that time).
_GRAIN = 1 << 15


def uniform_row(row: np.ndarray, key: bytes, first_block: int) -> None:
    """Fill a contiguous 1-D uint64 array with uniform field elements: the AES-256-CTR keystream
    under `key` from counter block `first_block` on, words ≥ p redrawn."""
    from Crypto.Cipher import AES  # here: 20 ms of imports that a verifier never needs

    row.fill(0)
    data = memoryview(row.view(np.uint8))
    AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=first_block).encrypt(data, output=data)
    bad = np.flatnonzero(row >= _P)
    while bad.size:
        row[bad] = np.frombuffer(os.urandom(8 * bad.size), dtype="<u8")
        bad = bad[row[bad] >= _P]


def fill_uniform_rows(rows: np.ndarray, after: Callable[[int], None] | None = None) -> None:
    """Fill every row of a 2-D uint64 array whose rows are contiguous (a C-contiguous matrix, or
    a slice of columns of one) with uniform field elements, rows split over the field threads.
    `after(r)`, when given, runs on the thread that filled row r right after it, while the row is
    in its cache (e.g. the subtraction that uses it); it must not use the field threads itself."""
    if rows.ndim != 2 or rows.dtype != np.uint64 or (rows.shape[1] > 1 and rows.strides[1] != 8):
        raise ValueError("fill_uniform_rows takes a 2-D uint64 array with contiguous rows")
    if not rows.flags.writeable:
        raise ValueError("fill_uniform_rows: the array is read-only")
    key = secrets.token_bytes(32)
    blocks_per_row = -(-rows.shape[1] // 2)  # 16-byte counter blocks, 2 elements each

    def fill(lo: int, hi: int) -> None:
        with parallel.serial():  # `after`'s kernels run on this thread, not back on the pool
            for r in range(lo, hi):
                uniform_row(rows[r], key, r * blocks_per_row)
                if after is not None:
                    after(r)

    parallel.parallel_ranges(fill, rows.shape[0], grain=max(1, _GRAIN // max(1, rows.shape[1])))


def uniform_elements(shape: int | tuple[int, ...]) -> np.ndarray:
    """A fresh array of uniform field elements (see the module's doc for the source)."""
    values = np.empty(shape, dtype=np.uint64)
    if values.size:
        fill_uniform_rows(values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values.reshape(1, -1))
    return values
