"""BLAKE3 (keyed) of the rows of a column-major matrix, many rows at once in SIMD lanes.

`blake3_kernels.hash_rows_range` hashes one row after another; here `LANES` consecutive rows are
hashed side by side, one row per lane: every step of the compression is a loop over the lanes,
which LLVM turns into 16-wide 32-bit vector instructions (AVX-512) or 8-wide (AVX2). Each lane's
message words come from one column at consecutive rows, which is exactly how a column-major matrix
(columns, rows) lies in memory, so the STARK's LDE is hashed where it is, with no transpose.

The digests are those of `blake3_kernels` (the tests compare them): keyed BLAKE3 of the bytes of
prefix[i] ‖ columns[:, i], uint64 words little-endian.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from zkpor.hash.blake3_kernels import (
    BLOCK_LEN,
    CHUNK_END,
    CHUNK_START,
    IV,
    KEYED_HASH,
    PARENT,
    ROOT,
    block_flags,
)

LANES = 128  # rows side by side: 8 AVX-512 vectors a step (16 lanes: 1.2 GB/s, 64: 2.4, 128: 3.0)
_M32 = np.uint64(0xFFFF_FFFF)
_S32 = np.uint64(32)
_WORDS_PER_BLOCK = 8  # uint64 message words per 64-byte block
_WORDS_PER_CHUNK = 128
_MAX_DEPTH = 56

# Per round, the eight quarter-rounds: state words (a, b, c, d) and the positions in the round's
# message schedule of their two message words; then each round's schedule (the specification's
# message permutation applied r times).
_QUARTERS = np.array(
    [[0, 4, 8, 12], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15],
     [0, 5, 10, 15], [1, 6, 11, 12], [2, 7, 8, 13], [3, 4, 9, 14]],
    dtype=np.int64,
)  # fmt: skip
_SCHEDULE = np.array(
    [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8],
        [3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1],
        [10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6],
        [12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4],
        [9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7],
        [11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13],
    ],
    dtype=np.int64,
)
_R16, _R12, _R8, _R7 = np.uint32(16), np.uint32(12), np.uint32(8), np.uint32(7)
_L16, _L20, _L24, _L25 = np.uint32(16), np.uint32(20), np.uint32(24), np.uint32(25)


@njit(cache=True, nogil=True)
def _compress(cv, m, counter, block_len, flags, out, v, quarters, schedule) -> None:
    """out (8, LANES) = compression of cv (8, LANES) with block m (16, LANES); out may be cv.
    v (16, LANES) is scratch. Every step is a loop over the lanes (one vector instruction)."""
    for i in range(8):
        for j in range(LANES):
            v[i, j] = cv[i, j]
    for j in range(LANES):
        v[8, j] = IV[0]
        v[9, j] = IV[1]
        v[10, j] = IV[2]
        v[11, j] = IV[3]
        v[12, j] = np.uint64(counter) & _M32
        v[13, j] = np.uint64(counter) >> _S32
        v[14, j] = block_len
        v[15, j] = flags
    for r in range(7):
        for q in range(8):
            a, b, c, d = quarters[q, 0], quarters[q, 1], quarters[q, 2], quarters[q, 3]
            x, y = schedule[r, 2 * q], schedule[r, 2 * q + 1]
            for j in range(LANES):
                # uint32 arithmetic widens in numba: cut back to 32 bits after every step
                va = np.uint32(v[a, j] + v[b, j] + m[x, j])
                vd = np.uint32(v[d, j] ^ va)
                vd = np.uint32((vd >> _R16) | (vd << _L16))
                vc = np.uint32(v[c, j] + vd)
                vb = np.uint32(v[b, j] ^ vc)
                vb = np.uint32((vb >> _R12) | (vb << _L20))
                va = np.uint32(va + vb + m[y, j])
                vd = np.uint32(vd ^ va)
                vd = np.uint32((vd >> _R8) | (vd << _L24))
                vc = np.uint32(vc + vd)
                vb = np.uint32(vb ^ vc)
                vb = np.uint32((vb >> _R7) | (vb << _L25))
                v[a, j], v[b, j], v[c, j], v[d, j] = va, vb, vc, vd
    for i in range(8):
        for j in range(LANES):
            out[i, j] = v[i, j] ^ v[8 + i, j]


@njit(cache=True, nogil=True)
def _load_block(prefix, columns, row, lanes, first_word, n_words, m, bound) -> int:
    """Message block of rows row … row+lanes−1 (lanes ≤ LANES; the other lanes keep stale words
    and their digests are never written), from uint64 word `first_word`; returns how many of its
    words are >= bound (checked while they are in registers)."""
    k = prefix.shape[1]
    above = 0
    for w in range(_WORDS_PER_BLOCK):
        word = first_word + w
        if word < k:
            for j in range(lanes):
                x = prefix[row + j, word]
                above += x >= bound
                m[2 * w, j] = x & _M32
                m[2 * w + 1, j] = x >> _S32
        elif word < n_words:
            column = columns[word - k]
            for j in range(lanes):
                x = column[row + j]
                above += x >= bound
                m[2 * w, j] = x & _M32
                m[2 * w + 1, j] = x >> _S32
        else:
            for j in range(LANES):
                m[2 * w, j] = 0
                m[2 * w + 1, j] = 0
    return above


@njit(cache=True, nogil=True)
def hash_columns_range(lo, hi, key, prefix, columns, out, bound) -> int:
    """out[i] = keyed BLAKE3 of prefix[i] ‖ columns[:, i] for i in [lo, hi), LANES rows at a time;
    returns how many words are >= bound (see `blake3_kernels.hash_rows_range`)."""
    n_words = prefix.shape[1] + columns.shape[0]
    n_chunks = max(1, (n_words + _WORDS_PER_CHUNK - 1) // _WORDS_PER_CHUNK)
    # 32-bit lanes: 16 per AVX-512 register
    v = np.empty((16, LANES), dtype=np.uint32)
    m = np.empty((16, LANES), dtype=np.uint32)
    cv = np.empty((8, LANES), dtype=np.uint32)
    keys = np.empty((8, LANES), dtype=np.uint32)
    stack = np.empty((_MAX_DEPTH, 8, LANES), dtype=np.uint32)
    for i in range(8):
        for j in range(LANES):
            keys[i, j] = key[i]
    above = 0
    m.fill(0)
    for row in range(lo, hi, LANES):
        lanes = min(LANES, hi - row)
        depth = 0
        for c in range(n_chunks):
            chunk_words = min(_WORDS_PER_CHUNK, n_words - c * _WORDS_PER_CHUNK)
            n_blocks = max(1, (chunk_words + _WORDS_PER_BLOCK - 1) // _WORDS_PER_BLOCK)
            cv[:] = keys
            for b in range(n_blocks):
                first = c * _WORDS_PER_CHUNK + b * _WORDS_PER_BLOCK
                above += _load_block(prefix, columns, row, lanes, first, n_words, m, bound)
                flags, block_len = block_flags(b, n_blocks, n_chunks, chunk_words)
                _compress(cv, m, c, block_len, flags, cv, v, _QUARTERS, _SCHEDULE)
            if c == n_chunks - 1:
                break
            stack[depth] = cv
            depth += 1
            total = c + 1
            while total & 1 == 0:
                depth -= 1
                m[:8] = stack[depth - 1]
                m[8:] = stack[depth]
                parent = KEYED_HASH | PARENT
                _compress(keys, m, 0, np.uint64(BLOCK_LEN), parent, stack[depth - 1], v, _QUARTERS, _SCHEDULE)
                total >>= 1
        while depth > 0:
            depth -= 1
            m[:8] = stack[depth]
            m[8:] = cv
            flags = KEYED_HASH | PARENT
            if depth == 0:
                flags |= ROOT
            _compress(keys, m, 0, np.uint64(BLOCK_LEN), flags, cv, v, _QUARTERS, _SCHEDULE)
        for j in range(lanes):
            for w in range(4):
                out[row + j, w] = cv[2 * w, j] | (cv[2 * w + 1, j] << _S32)
    return above


@njit(cache=True, nogil=True)
def _big_endian_head(w0: np.uint64, w1: np.uint64) -> np.uint64:
    """The first 8 bytes of a digest whose first two 32-bit words are w0, w1, as a big-endian
    integer, as `transcript.pow_hash_ok` reads it."""
    head = np.uint64(0)
    for w in (w0, w1):
        for byte in range(4):
            head = (head << np.uint64(8)) | ((w >> np.uint64(8 * byte)) & np.uint64(0xFF))
    return head


@njit(cache=True, nogil=True)
def grind_range(lo: int, hi: int, key: np.ndarray, bits: int, start: np.uint64) -> np.int64:
    """The smallest nonce in [start + lo, start + hi) whose keyed BLAKE3 (of its 8 bytes,
    little-endian) starts with `bits` zero bits, or -1 (`transcript.pow_hash_ok`); LANES consecutive
    nonces are hashed side by side, one compression each (an 8-byte message). One nonce after
    another, the row kernel took ~100 ns each, much of it the reference counting of its helpers'
    array arguments."""
    v = np.empty((16, LANES), dtype=np.uint32)
    m = np.zeros((16, LANES), dtype=np.uint32)
    keys = np.empty((8, LANES), dtype=np.uint32)
    out = np.empty((8, LANES), dtype=np.uint32)
    for i in range(8):
        for j in range(LANES):
            keys[i, j] = key[i]
    flags = KEYED_HASH | CHUNK_START | CHUNK_END | ROOT
    shift = np.uint64(64 - bits)
    for first in range(lo, hi, LANES):
        base = start + np.uint64(first)
        for j in range(LANES):
            nonce = base + np.uint64(j)
            m[0, j] = nonce & _M32
            m[1, j] = nonce >> _S32
        _compress(keys, m, 0, np.uint64(8), flags, out, v, _QUARTERS, _SCHEDULE)
        for j in range(min(LANES, hi - first)):
            if bits == 0 or (_big_endian_head(np.uint64(out[0, j]), np.uint64(out[1, j])) >> shift) == 0:
                return np.int64(base + np.uint64(j))
    return np.int64(-1)
