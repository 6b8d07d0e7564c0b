"""BLAKE3 (keyed-hash mode) in numba, for hashing many short messages in parallel.

The `blake3` package is fast on one long input, but hashing 2^20 matrix rows one Python call at a
time costs about 2.6 us a row on one core whatever its SIMD, and it holds the GIL on inputs this
short. These kernels hash the rows in parallel threads with no Python call per row. They implement
the BLAKE3 specification (chunks of 1024 bytes, blocks of 64, 7-round compression, binary tree of
chunk chaining values) for messages that are sequences of little-endian uint64 words, which is all
we hash: rows of field elements, salts, and pairs of digests. The tests check them against the
`blake3` package on every length class (empty, one block, partial block, one chunk, several chunks).

Digests are returned as 4 uint64 words: the 32 digest bytes read as little-endian uint64.
"""

from __future__ import annotations

import numpy as np

from zkpor.field.jit import njit

_M32 = np.uint64(0xFFFF_FFFF)
_S32 = np.uint64(32)
_R16 = np.uint64(16)
_R12 = np.uint64(12)
_R8 = np.uint64(8)
_R7 = np.uint64(7)
_L16 = np.uint64(16)
_L20 = np.uint64(20)
_L24 = np.uint64(24)
_L25 = np.uint64(25)

IV = np.array(
    [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19],
    dtype=np.uint64,
)
IV.flags.writeable = False

CHUNK_START = np.uint64(1)
CHUNK_END = np.uint64(2)
PARENT = np.uint64(4)
ROOT = np.uint64(8)
KEYED_HASH = np.uint64(16)

CHUNK_LEN = 1024
BLOCK_LEN = 64
_WORDS_PER_BLOCK = 8  # uint64 message words per 64-byte block
_WORDS_PER_CHUNK = 128  # uint64 message words per 1024-byte chunk
_MAX_DEPTH = 56  # chaining-value stack depth: enough for 2^56 chunks


@njit(cache=True)
def _g(
    a: np.uint64, b: np.uint64, c: np.uint64, d: np.uint64, mx: np.uint64, my: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """The BLAKE3 quarter-round on 32-bit words held in uint64 (numba widens uint32 arithmetic)."""
    a = (a + b + mx) & _M32
    d ^= a
    d = ((d >> _R16) | (d << _L16)) & _M32
    c = (c + d) & _M32
    b ^= c
    b = ((b >> _R12) | (b << _L20)) & _M32
    a = (a + b + my) & _M32
    d ^= a
    d = ((d >> _R8) | (d << _L24)) & _M32
    c = (c + d) & _M32
    b ^= c
    b = ((b >> _R7) | (b << _L25)) & _M32
    return a, b, c, d


@njit(cache=True)
def rounds(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15,
           m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15):  # fmt: skip
    """The seven rounds of the compression on the state words v and message words m (32-bit
    values in uint64); returns the 8 words of the new chaining value (v_i ^ v_{i+8})."""
    # Seven rounds written out with the message schedule of the specification (the message
    # permutation applied r times), as BLAKE3's reference C code does: 1.4x faster than a loop
    # that permutes the message words, which LLVM does not unroll.
    # round 1: message words 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m0, m1)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m2, m3)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m4, m5)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m6, m7)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m8, m9)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m10, m11)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m12, m13)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m14, m15)
    # round 2: message words 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m2, m6)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m3, m10)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m7, m0)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m4, m13)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m1, m11)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m12, m5)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m9, m14)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m15, m8)
    # round 3: message words 3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m3, m4)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m10, m12)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m13, m2)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m7, m14)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m6, m5)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m9, m0)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m11, m15)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m8, m1)
    # round 4: message words 10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m10, m7)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m12, m9)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m14, m3)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m13, m15)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m4, m0)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m11, m2)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m5, m8)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m1, m6)
    # round 5: message words 12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m12, m13)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m9, m11)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m15, m10)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m14, m8)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m7, m2)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m5, m3)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m0, m1)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m6, m4)
    # round 6: message words 9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m9, m14)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m11, m5)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m8, m12)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m15, m1)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m13, m3)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m0, m10)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m2, m6)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m4, m7)
    # round 7: message words 11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m11, m15)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m5, m0)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m1, m9)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m8, m6)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m14, m10)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m2, m12)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m3, m4)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m7, m13)
    return v0 ^ v8, v1 ^ v9, v2 ^ v10, v3 ^ v11, v4 ^ v12, v5 ^ v13, v6 ^ v14, v7 ^ v15


@njit(cache=True)
def compress(
    cv: np.ndarray,
    block: np.ndarray,
    counter: np.uint64,
    block_len: np.uint64,
    flags: np.uint64,
    out: np.ndarray,
) -> None:
    """BLAKE3 compression: chaining value cv (8 words), block (16 words) -> out[:8] (new cv).

    cv and out may be the same array. Words are 32-bit values stored in uint64.
    """
    b = block
    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = rounds(
        cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
        IV[0], IV[1], IV[2], IV[3], counter & _M32, counter >> _S32, block_len, flags,
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15],
    )  # fmt: skip


@njit(cache=True)
def _message_word(prefix: np.ndarray, row: np.ndarray, i: int) -> np.uint64:
    """uint64 word i of the message prefix ‖ row (0 past the end, which pads the last block)."""
    k = prefix.shape[0]
    if i < k:
        return prefix[i]
    if i < k + row.shape[0]:
        return row[i - k]
    return np.uint64(0)


@njit(cache=True)
def _load_block(prefix: np.ndarray, row: np.ndarray, first_word: int, block: np.ndarray) -> None:
    """The 16 32-bit words of the block starting at uint64 word `first_word` (little-endian)."""
    k = prefix.shape[0]
    if first_word >= k and first_word + _WORDS_PER_BLOCK <= k + row.shape[0]:
        # Fast path, nearly every block of a long row: eight words straight from the row.
        base = first_word - k
        for j in range(_WORDS_PER_BLOCK):
            w = row[base + j]
            block[2 * j] = w & _M32
            block[2 * j + 1] = w >> _S32
        return
    for j in range(_WORDS_PER_BLOCK):
        w = _message_word(prefix, row, first_word + j)
        block[2 * j] = w & _M32
        block[2 * j + 1] = w >> _S32


@njit(cache=True)
def _cv_to_digest(cv: np.ndarray, out: np.ndarray) -> None:
    for j in range(4):
        out[j] = cv[2 * j] | (cv[2 * j + 1] << _S32)


@njit(cache=True)
def block_flags(b: int, n_blocks: int, n_chunks: int, chunk_words: int) -> tuple[np.uint64, np.uint64]:
    """(flags, byte length) of block b of a chunk of `chunk_words` words, in a keyed hash."""
    flags = KEYED_HASH
    if b == 0:
        flags |= CHUNK_START
    if b == n_blocks - 1:
        flags |= CHUNK_END
        if n_chunks == 1:
            flags |= ROOT
    return flags, np.uint64(8 * min(_WORDS_PER_BLOCK, chunk_words - b * _WORDS_PER_BLOCK))


@njit(cache=True)
def hash_words_keyed(
    key: np.ndarray,
    prefix: np.ndarray,
    row: np.ndarray,
    out: np.ndarray,
    block: np.ndarray,
    cv: np.ndarray,
    stack: np.ndarray,
) -> None:
    """Keyed BLAKE3 of the bytes of prefix ‖ row (uint64 little-endian) into out (4 uint64 words).

    key: 8 32-bit words. block (16), cv (16) and stack (_MAX_DEPTH, 8) are caller scratch space so a
    kernel hashing many rows allocates them once.
    """
    n_words = prefix.shape[0] + row.shape[0]
    n_chunks = max(1, (n_words + _WORDS_PER_CHUNK - 1) // _WORDS_PER_CHUNK)
    depth = 0
    for c in range(n_chunks):
        chunk_words = min(_WORDS_PER_CHUNK, n_words - c * _WORDS_PER_CHUNK)
        n_blocks = max(1, (chunk_words + _WORDS_PER_BLOCK - 1) // _WORDS_PER_BLOCK)
        for j in range(8):
            cv[j] = key[j]
        for b in range(n_blocks):
            _load_block(prefix, row, c * _WORDS_PER_CHUNK + b * _WORDS_PER_BLOCK, block)
            flags, block_len = block_flags(b, n_blocks, n_chunks, chunk_words)
            compress(cv, block, np.uint64(c), block_len, flags, cv)
        if c == n_chunks - 1:
            break
        # Push this chunk's chaining value and merge completed subtrees: after chunk c, as many
        # merges as trailing zero bits of the chunk count c + 1 (the specification's stack rule).
        for j in range(8):
            stack[depth, j] = cv[j]
        depth += 1
        total = c + 1
        while total & 1 == 0:
            depth -= 1
            for j in range(8):
                block[j] = stack[depth - 1, j]
                block[8 + j] = stack[depth, j]
            compress(key, block, np.uint64(0), np.uint64(BLOCK_LEN), KEYED_HASH | PARENT, stack[depth - 1])
            total >>= 1
    # The last chunk's chaining value merges with the stack from the top; the final merge is the root.
    while depth > 0:
        depth -= 1
        for j in range(8):
            block[j] = stack[depth, j]
            block[8 + j] = cv[j]
        flags = KEYED_HASH | PARENT
        if depth == 0:
            flags |= ROOT
        compress(key, block, np.uint64(0), np.uint64(BLOCK_LEN), flags, cv)
    _cv_to_digest(cv, out)


@njit(cache=True, nogil=True)
def hash_rows_range(
    lo: int,
    hi: int,
    key: np.ndarray,
    prefix: np.ndarray,
    rows: np.ndarray,
    out: np.ndarray,
    bound: np.uint64,
) -> int:
    """out[i] = keyed BLAKE3 of prefix[i] ‖ rows[i] for i in [lo, hi); run by `parallel_ranges`.

    Returns how many words are >= bound: callers hashing field elements pass p and get the
    canonical-form check for free while the row is in cache (2^64 - 1 checks nothing useful).
    """
    block = np.empty(16, dtype=np.uint64)
    cv = np.empty(16, dtype=np.uint64)
    stack = np.empty((_MAX_DEPTH, 8), dtype=np.uint64)
    above = 0
    for i in range(lo, hi):
        hash_words_keyed(key, prefix[i], rows[i], out[i], block, cv, stack)
        for j in range(prefix.shape[1]):
            if prefix[i, j] >= bound:
                above += 1
        for j in range(rows.shape[1]):
            if rows[i, j] >= bound:
                above += 1
    return above
