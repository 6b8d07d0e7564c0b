"""BLAKE3 (keyed) of the rows of a column-major matrix, many rows at once in SIMD lanes.

`blake3_kernels.hash_rows_range` hashes one row after another; here `LANES` consecutive rows are
hashed side by side, one row per lane: a compression is one loop over the lanes whose body is the
whole compression of one lane, which LLVM turns into 16-wide 32-bit vector instructions (AVX-512)
or 8-wide (AVX2), the state and message kept in vector registers for all seven rounds. Each lane's
message words come from one column at consecutive rows, which is exactly how a column-major matrix
(columns, rows) lies in memory, so the STARK's LDE is hashed where it is, with no transpose.

The digests are those of `blake3_kernels` (the tests compare them): keyed BLAKE3 of the bytes of
prefix[i] ‖ columns[:, i], uint64 words little-endian.
"""

from __future__ import annotations

import numpy as np

from zkpor.field.jit import njit
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

LANES = 128  # rows side by side: 8 AVX-512 vectors a step (256 lanes: within the noise)
_M32 = np.uint64(0xFFFF_FFFF)
_S32 = np.uint64(32)
_WORDS_PER_BLOCK = 8  # uint64 message words per 64-byte block
_WORDS_PER_CHUNK = 128
_MAX_DEPTH = 56

_R16, _R12, _R8, _R7 = np.uint32(16), np.uint32(12), np.uint32(8), np.uint32(7)
_U32 = np.uint32(32)


@njit(cache=True, nogil=True, inline="always")
def _rotr(x, r):
    # uint32 arithmetic widens in numba: cut back to 32 bits after every step
    return np.uint32((x >> r) | (x << (_U32 - r)))


@njit(cache=True, nogil=True, inline="always")
def _mix(a, b, c, d, m, rd, rb):  # half a quarter-round
    a = np.uint32(a + b + m)
    d = _rotr(np.uint32(d ^ a), rd)
    c = np.uint32(c + d)
    return a, _rotr(np.uint32(b ^ c), rb), c, d


@njit(cache=True, nogil=True, inline="always")
def _g(a, b, c, d, mx, my):  # the quarter-round on one lane's words
    a, b, c, d = _mix(a, b, c, d, mx, _R16, _R12)
    return _mix(a, b, c, d, my, _R8, _R7)


@njit(cache=True, nogil=True, inline="always")
def _round(s, m):
    """One round on one lane's state s (16 words) with message m (16 words, the round's schedule)."""
    s0, s4, s8, s12 = _g(s[0], s[4], s[8], s[12], m[0], m[1])
    s1, s5, s9, s13 = _g(s[1], s[5], s[9], s[13], m[2], m[3])
    s2, s6, s10, s14 = _g(s[2], s[6], s[10], s[14], m[4], m[5])
    s3, s7, s11, s15 = _g(s[3], s[7], s[11], s[15], m[6], m[7])
    s0, s5, s10, s15 = _g(s0, s5, s10, s15, m[8], m[9])
    s1, s6, s11, s12 = _g(s1, s6, s11, s12, m[10], m[11])
    s2, s7, s8, s13 = _g(s2, s7, s8, s13, m[12], m[13])
    s3, s4, s9, s14 = _g(s3, s4, s9, s14, m[14], m[15])
    return (s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15)


@njit(cache=True, nogil=True, inline="always")
def _permute(m):
    """The specification's message permutation."""
    return (m[2], m[6], m[3], m[10], m[7], m[0], m[4], m[13], m[1], m[11], m[12], m[5], m[9], m[14],
            m[15], m[8])  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _three_rounds(s, m):
    """Three rounds, and the message permuted for the next."""
    s, m = _round(s, m), _permute(m)
    s, m = _round(s, m), _permute(m)
    return _round(s, m), _permute(m)


@njit(cache=True, nogil=True)
def _compress(cv, m, counter, block_len, flags, out) -> None:
    """out = compression of cv with block m: flat arrays of 8, 16 and 8 rows of LANES words (word i
    of lane j at i·LANES + j: constant distances, so LLVM checks each array's overlap once, not
    each row's); out must not overlap cv or m (LLVM would fall back to its scalar loop).
    One loop over the lanes whose body is the whole compression on scalars, fully unrolled: LLVM
    vectorises the loop, so a lane group's state and message stay in vector registers for all
    seven rounds (a loop over the lanes per quarter-round loaded and stored the state each time:
    1.8 against 3.x GB/s, see `hash_columns_range`)."""
    counter_lo = np.uint32(np.uint64(counter) & _M32)
    counter_hi = np.uint32(np.uint64(counter) >> _S32)
    block_len, flags = np.uint32(block_len), np.uint32(flags)
    iv0, iv1, iv2, iv3 = np.uint32(IV[0]), np.uint32(IV[1]), np.uint32(IV[2]), np.uint32(IV[3])
    L = LANES
    for j in range(L):
        s = (cv[j], cv[L + j], cv[2 * L + j], cv[3 * L + j], cv[4 * L + j], cv[5 * L + j], cv[6 * L + j],
             cv[7 * L + j], iv0, iv1, iv2, iv3, counter_lo, counter_hi, block_len, flags)  # fmt: skip
        w = (m[j], m[L + j], m[2 * L + j], m[3 * L + j], m[4 * L + j], m[5 * L + j], m[6 * L + j],
             m[7 * L + j], m[8 * L + j], m[9 * L + j], m[10 * L + j], m[11 * L + j], m[12 * L + j],
             m[13 * L + j], m[14 * L + j], m[15 * L + j])  # fmt: skip
        # straight-line code, no loop over the rounds (LLVM vectorises only innermost loops)
        s, w = _three_rounds(s, w)
        s, w = _three_rounds(s, w)
        s = _round(s, w)
        out[j] = s[0] ^ s[8]
        out[1 * L + j] = s[1] ^ s[9]
        out[2 * L + j] = s[2] ^ s[10]
        out[3 * L + j] = s[3] ^ s[11]
        out[4 * L + j] = s[4] ^ s[12]
        out[5 * L + j] = s[5] ^ s[13]
        out[6 * L + j] = s[6] ^ s[14]
        out[7 * L + j] = s[7] ^ s[15]


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
            column = columns[word - k, row:]  # see `_load_columns`
            for j in range(lanes):
                x = column[j]
                above += x >= bound
                m[2 * w, j] = x & _M32
                m[2 * w + 1, j] = x >> _S32
        else:
            for j in range(LANES):
                m[2 * w, j] = 0
                m[2 * w + 1, j] = 0
    return above


@njit(cache=True, nogil=True)
def _load_columns(columns, first, row, m, bound) -> int:
    """The message block of a full lane group from 8 matrix rows (columns first … first+7, rows
    row … row+LANES−1) into m (flat, see `_compress`), in one loop over the lanes; returns how many
    of its words are >= bound."""
    L = LANES
    # views from the group's first row: indices from 0 that LLVM knows are not negative (row + j
    # could be, for all it knows, and a negative index wraps around: a gather, not a load)
    c0, c1, c2, c3 = (
        columns[first, row:],
        columns[first + 1, row:],
        columns[first + 2, row:],
        columns[first + 3, row:],
    )
    c4, c5, c6, c7 = (
        columns[first + 4, row:],
        columns[first + 5, row:],
        columns[first + 6, row:],
        columns[first + 7, row:],
    )
    above = 0
    for j in range(L):
        x0, x1, x2, x3, x4, x5, x6, x7 = c0[j], c1[j], c2[j], c3[j], c4[j], c5[j], c6[j], c7[j]
        above += (x0 >= bound) + (x1 >= bound) + (x2 >= bound) + (x3 >= bound)
        above += (x4 >= bound) + (x5 >= bound) + (x6 >= bound) + (x7 >= bound)
        m[j], m[L + j] = x0 & _M32, x0 >> _S32
        m[2 * L + j], m[3 * L + j] = x1 & _M32, x1 >> _S32
        m[4 * L + j], m[5 * L + j] = x2 & _M32, x2 >> _S32
        m[6 * L + j], m[7 * L + j] = x3 & _M32, x3 >> _S32
        m[8 * L + j], m[9 * L + j] = x4 & _M32, x4 >> _S32
        m[10 * L + j], m[11 * L + j] = x5 & _M32, x5 >> _S32
        m[12 * L + j], m[13 * L + j] = x6 & _M32, x6 >> _S32
        m[14 * L + j], m[15 * L + j] = x7 & _M32, x7 >> _S32
    return above


@njit(cache=True, nogil=True)
def hash_columns_range(lo, hi, key, prefix, columns, out, bound) -> int:
    """out[i] = keyed BLAKE3 of prefix[i] ‖ columns[:, i] for i in [lo, hi), LANES rows at a time;
    returns how many words are >= bound (see `blake3_kernels.hash_rows_range`)."""
    k = prefix.shape[1]
    n_words = k + columns.shape[0]
    n_chunks = max(1, (n_words + _WORDS_PER_CHUNK - 1) // _WORDS_PER_CHUNK)
    # 32-bit lanes: 16 per AVX-512 register; flat rows of LANES words (see `_compress`)
    m = np.zeros(16 * LANES, dtype=np.uint32)
    message = m.reshape((16, LANES))
    cv = np.empty(8 * LANES, dtype=np.uint32)
    spare = np.empty(8 * LANES, dtype=np.uint32)  # a compression's output: never its input
    keys = _lane_keys(key)
    stack = np.empty((_MAX_DEPTH, 8 * LANES), dtype=np.uint32)
    half = 8 * LANES
    above = 0
    for row in range(lo, hi, LANES):
        lanes = min(LANES, hi - row)
        depth = 0
        for c in range(n_chunks):
            chunk_words = min(_WORDS_PER_CHUNK, n_words - c * _WORDS_PER_CHUNK)
            n_blocks = max(1, (chunk_words + _WORDS_PER_BLOCK - 1) // _WORDS_PER_BLOCK)
            cv[:] = keys
            for b in range(n_blocks):
                first = c * _WORDS_PER_CHUNK + b * _WORDS_PER_BLOCK
                if lanes == LANES and first >= k and first + _WORDS_PER_BLOCK <= n_words:
                    above += _load_columns(columns, first - k, row, m, bound)
                else:
                    above += _load_block(prefix, columns, row, lanes, first, n_words, message, bound)
                flags, block_len = block_flags(b, n_blocks, n_chunks, chunk_words)
                _compress(cv, m, c, block_len, flags, spare)
                cv, spare = spare, cv
            if c == n_chunks - 1:
                break
            stack[depth] = cv
            depth += 1
            total = c + 1
            while total & 1 == 0:
                depth -= 1
                m[:half] = stack[depth - 1]
                m[half:] = stack[depth]
                parent = KEYED_HASH | PARENT
                _compress(keys, m, 0, np.uint64(BLOCK_LEN), parent, stack[depth - 1])
                total >>= 1
        while depth > 0:
            depth -= 1
            m[:half] = stack[depth]
            m[half:] = cv
            flags = KEYED_HASH | PARENT
            if depth == 0:
                flags |= ROOT
            _compress(keys, m, 0, np.uint64(BLOCK_LEN), flags, cv)
        for j in range(lanes):
            for w in range(4):
                out[row + j, w] = cv[2 * w * LANES + j] | (cv[(2 * w + 1) * LANES + j] << _S32)
    return above


@njit(cache=True, nogil=True)
def _lane_keys(key):
    """The key words (8) repeated in every lane, flat (see `_compress`)."""
    keys = np.empty(8 * LANES, dtype=np.uint32)
    for i in range(8):
        keys[i * LANES : (i + 1) * LANES] = key[i]
    return keys


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
    m = np.zeros(16 * LANES, dtype=np.uint32)
    keys = _lane_keys(key)
    out = np.empty(8 * LANES, dtype=np.uint32)
    flags = KEYED_HASH | CHUNK_START | CHUNK_END | ROOT
    shift = np.uint64(64 - bits)
    for first in range(lo, hi, LANES):
        base = start + np.uint64(first)
        for j in range(LANES):
            nonce = base + np.uint64(j)
            m[0 * LANES + j] = nonce & _M32
            m[1 * LANES + j] = nonce >> _S32
        _compress(keys, m, 0, np.uint64(8), flags, out)
        for j in range(min(LANES, hi - first)):
            if bits == 0 or (_big_endian_head(np.uint64(out[j]), np.uint64(out[LANES + j])) >> shift) == 0:
                return np.int64(base + np.uint64(j))
    return np.int64(-1)
