"""The blinding randomness (`field.randomness`): AES-256-CTR under a fresh key, rows on all threads."""

from __future__ import annotations

import numpy as np
import pytest
from Crypto.Cipher import AES

from zkpor.field import goldilocks as gl
from zkpor.field import parallel, randomness
from zkpor.field.pure import P

KEY = bytes(range(32))


def _keystream_words(key: bytes, words: int) -> np.ndarray:
    stream = AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=0).encrypt(bytes(8 * words))
    return np.frombuffer(stream, dtype="<u8")


def test_rows_are_disjoint_pieces_of_one_keystream_whatever_the_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(randomness.secrets, "token_bytes", lambda n: KEY[:n])
    rows, columns = 40, 1 << 12  # enough rows for every thread to take some
    stream = _keystream_words(KEY, rows * columns).reshape(rows, columns)
    old = parallel.num_threads()
    try:
        for threads in (1, 2, 3):
            parallel.set_num_threads(threads)
            matrix = np.ones((rows, columns), dtype=np.uint64)
            randomness.fill_uniform_rows(matrix)
            assert np.array_equal(matrix, stream)  # (no word of this stream is >= p)
    finally:
        parallel.set_num_threads(old)
    odd = np.empty((3, 5), dtype=np.uint64)  # an odd row length: each row starts a new block
    randomness.fill_uniform_rows(odd)
    for r in range(3):
        first = AES.new(KEY, AES.MODE_CTR, nonce=b"", initial_value=3 * r).encrypt(bytes(40))
        assert np.array_equal(odd[r], np.frombuffer(first, dtype="<u8"))


def test_fresh_key_every_call_and_elements_look_uniform() -> None:
    a = randomness.uniform_elements((64, 1 << 10))
    b = randomness.uniform_elements((64, 1 << 10))
    assert a.shape == (64, 1 << 10) and a.dtype == np.uint64
    assert np.all(a < np.uint64(P)) and np.all(b < np.uint64(P))
    assert not np.any(a == b)  # 2^16 equal pairs of 64-bit words would be a repeated keystream
    assert len(np.unique(a)) == a.size
    # each of the 64 bits is set about half the time (2^16 samples: 6 standard deviations = 768)
    bits = (a.reshape(-1, 1) >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    assert np.all(np.abs(bits.sum(axis=0).astype(np.int64) - a.size // 2) < 768)
    assert gl.random_elements((3, 4)).shape == (3, 4) and randomness.uniform_elements(0).size == 0


def test_words_not_below_p_are_redrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    class AllOnes:  # a keystream of 2^64 − 1 words: every one must be redrawn
        def encrypt(self, data: memoryview, output: memoryview) -> None:
            np.frombuffer(output, dtype=np.uint8)[:] = 0xFF

    monkeypatch.setattr(AES, "new", lambda *args, **kwargs: AllOnes())
    row = np.zeros(1000, dtype=np.uint64)
    randomness.uniform_row(row, KEY, 0)
    assert np.all(row < np.uint64(P)) and len(np.unique(row)) == row.size


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="contiguous rows"):
        randomness.fill_uniform_rows(np.zeros((4, 4), dtype=np.uint64).T)
    with pytest.raises(ValueError, match="contiguous rows"):
        randomness.fill_uniform_rows(np.zeros(4, dtype=np.uint64))
    read_only = np.zeros((2, 2), dtype=np.uint64)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        randomness.fill_uniform_rows(read_only)

