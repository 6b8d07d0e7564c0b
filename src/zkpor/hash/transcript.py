"""The Fiat-Shamir transcript: prover and verifier run this same code to derive challenges.

Construction. The transcript is one running keyed BLAKE3 hash (purpose ``fiat-shamir``, see
`zkpor.hash.bytehash`) of a sequence of framed records::

    record = op (1 byte) ‖ len(label) (u32 LE) ‖ label ‖ len(data) (u64 LE) ‖ data

``op`` says what the record is (protocol label, bytes, field elements, digest, challenge, proof of
work), and every length is explicit, so two different sequences of calls never feed the same bytes
to the hash. The first record is the protocol label given to the constructor.

Challenges. A challenge first appends a record (op "challenge", its label, the number of values),
then reads the BLAKE3 extendable output of everything absorbed so far. Because the record is
absorbed, the next challenge (even with the same label) reads a different stream.

- `challenge_element`: 8-byte little-endian words of the stream; a word >= p is rejected and the
  next one read (probability 2^-32 per word), so the result is uniform in [0, p) with no modular
  bias.
- `challenge_ext`: two such elements (c0, c1) meaning c0 + c1*x in F_p[x]/(x^2 - 7).
- `challenge_indices`: uniform indices in a domain whose size is a power of two, by masking 8-byte
  words (exactly uniform, no rejection needed). Indices are drawn independently, so duplicates are
  kept: the count is fixed, and callers that open them (Merkle multi-openings) deduplicate.
- `challenge_distinct_indices`: the same stream of masked words, skipping any index already drawn,
  until ``count`` distinct indices are found (in the order drawn). A STARK draws its query positions
  this way, so the number of positions it opens, and credits in its security level, is exact.

Proof of work (`grind` / `check_grinding`). A record (op "pow", the number of bits) is absorbed, and
the seed = BLAKE3 output of the transcript so far keys a BLAKE3 hash of an 8-byte nonce. The prover
searches the smallest nonce whose hash starts with ``bits`` zero bits (the first bytes read as a
big-endian number) with the numba kernel, all cores; the verifier checks one hash with the blake3
package. Both then absorb the nonce (op "pow-nonce"), so the challenges after grinding depend on it.
"""

from __future__ import annotations

from collections.abc import Iterable

import blake3

from zkpor.hash import bytehash
from zkpor.hash.poseidon2 import P
from zkpor.hash.transcript_poseidon2 import canonical_elements

TRANSCRIPT_PURPOSE = "fiat-shamir"
MAX_GRINDING_BITS = 48  # 2^48 hashes is days of work; a larger request is a caller bug
MAX_CHALLENGES = 1 << 20  # bounds one challenge call, so a hostile parameter cannot exhaust memory

_OP_PROTOCOL = 0
_OP_BYTES = 1
_OP_ELEMENTS = 2
_OP_DIGEST = 3
_OP_CHALLENGE = 4
_OP_POW = 5
_OP_POW_NONCE = 6

_GRIND_BATCH = 1 << 16  # nonces tried per parallel batch; the smallest passing one is kept


def _label_bytes(label: bytes | str) -> bytes:
    if isinstance(label, str):
        label = label.encode("utf-8")
    if not isinstance(label, bytes | bytearray):
        raise TypeError(f"a transcript label is bytes or str, not {type(label).__name__}")
    if not label:
        raise ValueError("a transcript label must not be empty")
    return bytes(label)


def _elements_bytes(values: Iterable[int]) -> bytes:
    return b"".join(x.to_bytes(8, "little") for x in canonical_elements(values))


def pow_hash_ok(seed: bytes, nonce: int, bits: int) -> bool:
    """Whether keyed BLAKE3 (key ``seed``) of the nonce's 8 LE bytes starts with ``bits`` zero bits."""
    digest = blake3.blake3(nonce.to_bytes(8, "little"), key=seed).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits) == 0 if bits else True


class Transcript:
    """A Fiat-Shamir transcript (see the module docstring for the construction)."""

    def __init__(self, protocol_label: bytes | str) -> None:
        self._hash = blake3.blake3(key=bytehash.purpose_key(TRANSCRIPT_PURPOSE))
        self._record(_OP_PROTOCOL, b"protocol", _label_bytes(protocol_label))

    def _record(self, op: int, label: bytes, data: bytes) -> None:
        self._hash.update(
            bytes([op]) + len(label).to_bytes(4, "little") + label + len(data).to_bytes(8, "little") + data
        )

    # -- absorbing -------------------------------------------------------------------------------

    def absorb_bytes(self, label: bytes | str, data: bytes) -> None:
        """Absorb arbitrary bytes (e.g. a serialized statement)."""
        self._record(_OP_BYTES, _label_bytes(label), bytes(data))

    def absorb_elements(self, label: bytes | str, values: Iterable[int]) -> None:
        """Absorb field elements: ints or a numpy uint64 array (any shape, read in C order)."""
        if hasattr(values, "ravel"):  # a numpy array (duck-typed: this module does not import numpy)
            flat = values.ravel()
            if str(flat.dtype) == "uint64":  # fast path: one range check, bytes in one go
                if flat.size and int(flat.max()) >= P:
                    raise ValueError("an absorbed value is not a canonical Goldilocks element")
                data = flat.astype("<u8").tobytes()
            else:
                data = _elements_bytes(flat.tolist())
        else:
            data = _elements_bytes(values)
        self._record(_OP_ELEMENTS, _label_bytes(label), data)

    def absorb_digest(self, label: bytes | str, digest: bytes) -> None:
        """Absorb a 32-byte digest (a Merkle root, a hash of public inputs)."""
        if not isinstance(digest, bytes | bytearray) or len(digest) != bytehash.DIGEST_SIZE:
            raise ValueError(f"a digest is {bytehash.DIGEST_SIZE} bytes")
        self._record(_OP_DIGEST, _label_bytes(label), bytes(digest))

    # -- challenges ------------------------------------------------------------------------------

    def _stream(self, label: bytes | str, what: bytes, count: int) -> _Stream:
        self._record(_OP_CHALLENGE, _label_bytes(label), what + count.to_bytes(8, "little"))
        return _Stream(self._hash.copy())

    def challenge_elements(self, label: bytes | str, count: int) -> list[int]:
        """``count`` independent uniform elements of [0, p)."""
        _check_count(count)
        stream = self._stream(label, b"base", count)
        out = []
        while len(out) < count:
            v = stream.word()
            if v < P:  # rejection, not reduction: no modular bias
                out.append(v)
        return out

    def challenge_element(self, label: bytes | str) -> int:
        """A uniform element of [0, p)."""
        return self.challenge_elements(label, 1)[0]

    def challenge_ext(self, label: bytes | str) -> tuple[int, int]:
        """A uniform element (c0, c1) of the quadratic extension, i.e. c0 + c1*x."""
        _check_count(1)
        stream = self._stream(label, b"ext2", 1)
        out: list[int] = []
        while len(out) < 2:
            v = stream.word()
            if v < P:
                out.append(v)
        return out[0], out[1]

    def challenge_indices(self, label: bytes | str, domain_size_pow2: int, count: int) -> list[int]:
        """``count`` independent uniform indices in [0, domain_size_pow2); duplicates are kept.

        ``domain_size_pow2`` is the domain *size*, a power of two (e.g. ``1 << 20``), not its log.
        """
        _check_domain_size(domain_size_pow2)
        _check_count(count)
        mask = domain_size_pow2 - 1
        stream = self._stream(label, b"idx" + domain_size_pow2.bit_length().to_bytes(1, "little"), count)
        return [stream.word() & mask for _ in range(count)]

    def challenge_distinct_indices(self, label: bytes | str, domain_size_pow2: int, count: int) -> list[int]:
        """``count`` distinct uniform indices in [0, domain_size_pow2), in the order drawn (sampling
        without replacement). ``count`` must not exceed the domain size."""
        _check_domain_size(domain_size_pow2)
        _check_count(count)
        if count > domain_size_pow2:
            raise ValueError(f"cannot draw {count} distinct indices from a domain of {domain_size_pow2}")
        mask = domain_size_pow2 - 1
        stream = self._stream(label, b"didx" + domain_size_pow2.bit_length().to_bytes(1, "little"), count)
        drawn: dict[int, None] = {}  # insertion-ordered set
        while len(drawn) < count:
            drawn.setdefault(stream.word() & mask)
        return list(drawn)

    def state_digest(self) -> bytes:
        """32 bytes summarising everything absorbed so far (changes nothing)."""
        return self._hash.copy().digest()

    # -- proof of work ---------------------------------------------------------------------------

    def _pow_seed(self, bits: int) -> bytes:
        if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= MAX_GRINDING_BITS:
            raise ValueError(f"grinding bits must be an int in [0, {MAX_GRINDING_BITS}], not {bits!r}")
        self._record(_OP_POW, b"pow", bits.to_bytes(1, "little"))
        return self._hash.copy().digest()

    def grind(self, bits: int) -> int:
        """Find the smallest nonce passing the proof of work, absorb it, and return it (prover)."""
        seed = self._pow_seed(bits)
        nonce = _search_nonce(seed, bits)
        self._record(_OP_POW_NONCE, b"pow-nonce", nonce.to_bytes(8, "little"))
        return nonce

    def check_grinding(self, nonce: int, bits: int) -> bool:
        """Check a prover's nonce (verifier) and absorb it; False if it fails or is out of range.

        The nonce is absorbed even when it fails, so prover and verifier transcripts stay in step;
        a verifier must reject the proof on False anyway.
        """
        seed = self._pow_seed(bits)
        valid = isinstance(nonce, int) and not isinstance(nonce, bool) and 0 <= nonce < 1 << 64
        n = nonce if valid else 0
        self._record(_OP_POW_NONCE, b"pow-nonce", n.to_bytes(8, "little"))
        return valid and pow_hash_ok(seed, n, bits)


class _Stream:
    """Sequential 8-byte words of a BLAKE3 extendable output."""

    _CHUNK = 512  # bytes read per XOF call

    def __init__(self, hasher: blake3.blake3) -> None:
        self._hasher = hasher
        self._buffer = b""
        self._offset = 0  # bytes of the XOF already read into buffers
        self._pos = 0

    def word(self) -> int:
        if self._pos + 8 > len(self._buffer):
            self._buffer = self._hasher.digest(length=self._CHUNK, seek=self._offset)
            self._offset += self._CHUNK
            self._pos = 0
        v = int.from_bytes(self._buffer[self._pos : self._pos + 8], "little")
        self._pos += 8
        return v


def _check_domain_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size & (size - 1) or size > 1 << 63:
        raise ValueError(f"the domain size must be a power of two in [1, 2^63], not {size!r}")


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_CHALLENGES:
        raise ValueError(f"a challenge count must be an int in [0, {MAX_CHALLENGES}], not {count!r}")


def _search_nonce(seed: bytes, bits: int) -> int:
    """The smallest nonce with `pow_hash_ok(seed, nonce, bits)`: numba kernel on all threads."""
    import numpy as np  # the prover's search only; verifiers never get here

    from zkpor.field.parallel import parallel_ranges
    from zkpor.hash import blake3_columns

    key = np.frombuffer(seed, dtype="<u4").astype(np.uint64)
    start = 0
    while start < 1 << 64:
        count = min(_GRIND_BATCH, (1 << 64) - start)
        # one range per thread: each stops at its first passing nonce (more ranges would be searched
        # past the first hit)
        found = parallel_ranges(
            blake3_columns.grind_range, count, key, bits, np.uint64(start), grain=1024, per_thread=1
        )
        hits = [int(f) for f in found if f >= 0]
        if hits:
            return min(hits)  # ranges are in order, so this is the smallest passing nonce
        start += count
    raise RuntimeError("no proof-of-work nonce exists for these bits")  # unreachable for bits <= 48
