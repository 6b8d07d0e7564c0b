"""A Fiat–Shamir transcript over Poseidon2: the recursion-friendly twin of `transcript.Transcript`.

Same methods, same records, but every record is a sequence of field elements absorbed by a
Poseidon2 width-12 duplex sponge (rate 8, capacity 4, overwrite mode, as Plonky3's
`DuplexChallenger`), so a verifier running inside an AIR (DESIGN.md, "Aggregation") recomputes the
challenges with the permutation it already has, and no byte hash.

Records (each element < p):

    record  = op ‖ label ‖ data
    label   = [len(label bytes)] ‖ label bytes in 7-byte little-endian chunks
    data    = bytes:    [len] ‖ 7-byte chunks
              elements: [count] ‖ elements
              digest:   4 elements, the 32 bytes as little-endian words when all four are < p (a
                        Poseidon2 Merkle root), else a record of op "digest-bytes" with the bytes

Every part is length-prefixed and starts with its op, so two different call sequences never absorb
the same elements. A record is absorbed in blocks of 8 that overwrite lanes 0..7 (the last block
padded with zeros), with a permutation after each block.

Challenges: a record (op "challenge", label, kind, count) is absorbed, then outputs are read from
lanes 0..7, permuting again for more. An element is uniform in [0, p); an index in a power-of-two
domain is an element's low bits (bias below 2^-32 per index, as Plonky3's `sample_bits`).

Proof of work: after a record (op "pow", bits), the nonce n (< p) passes when lane 0 of the
permutation of the current state with lane 0 set to n starts with `bits` zero bits (as a 64-bit
word); the prover searches n = 0, 1, … with the batched numba permutation, then both sides absorb
the nonce (op "pow-nonce").
"""

from __future__ import annotations

import operator
from collections.abc import Iterable

from zkpor.hash.poseidon2 import RATE, P

MAX_GRINDING_BITS = 48
MAX_CHALLENGES = 1 << 20

OP_PROTOCOL = 0
OP_BYTES = 1
OP_ELEMENTS = 2
OP_DIGEST = 3
OP_CHALLENGE = 4
OP_POW = 5
OP_POW_NONCE = 6
OP_DIGEST_BYTES = 7
KIND_BASE, KIND_EXT, KIND_INDICES, KIND_DISTINCT = 0, 1, 2, 3
_CHUNK = 7  # bytes per element: 7 bytes < 2^56 < p


def permute(state: list[int]) -> list[int]:
    """`poseidon2.permute` of a width-12 state of canonical elements, by the numba kernel: a
    proof's transcript permutes a few hundred times, ~2 ms each in pure Python (0.3-0.6 s a proof,
    and as much again to verify it), a few µs here."""
    import numpy as np

    from zkpor.hash.poseidon2_batch import permute12_inplace

    lanes = np.array(state, dtype=np.uint64)
    permute12_inplace(lanes)
    return lanes.tolist()


def bytes_elements(data: bytes) -> list[int]:
    return [len(data)] + [int.from_bytes(data[i : i + _CHUNK], "little") for i in range(0, len(data), _CHUNK)]


def label_elements(label: bytes | str) -> list[int]:
    if isinstance(label, str):
        label = label.encode("utf-8")
    if not isinstance(label, bytes | bytearray) or not label:
        raise ValueError("a transcript label is non-empty bytes or str")
    return bytes_elements(bytes(label))


def canonical_elements(values: Iterable[int]) -> list[int]:
    """The values as Goldilocks elements, refusing a bool or anything outside [0, p): both transcripts."""
    out = []
    for v in values:
        if isinstance(v, bool):
            raise ValueError("a bool is not a field element")
        x = operator.index(v)
        if not 0 <= x < P:
            raise ValueError(f"{x} is not a canonical Goldilocks element")
        out.append(x)
    return out


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_CHALLENGES:
        raise ValueError(f"a challenge count must be an int in [0, {MAX_CHALLENGES}], not {count!r}")


def _check_domain_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size & (size - 1) or size > 1 << 32:
        raise ValueError(f"the domain size must be a power of two in [1, 2^32], not {size!r}")


def pow_ok(state: list[int], nonce: int, bits: int) -> bool:
    """Whether `nonce` passes the proof of work from this sponge state (see the module docstring)."""
    trial = list(state)
    trial[0] = nonce
    return permute(trial)[0] >> (64 - bits) == 0 if bits else True


class Poseidon2Transcript:
    """A Fiat–Shamir transcript on a Poseidon2 duplex sponge (see the module docstring)."""

    def __init__(self, protocol_label: bytes | str) -> None:
        self._state = [0] * 12
        self._record(OP_PROTOCOL, b"protocol", bytes_elements(self._label_bytes(protocol_label)))

    @staticmethod
    def _label_bytes(label: bytes | str) -> bytes:
        return label.encode("utf-8") if isinstance(label, str) else bytes(label)

    def _record(self, op: int, label: bytes | str, data: list[int]) -> None:
        elements = [op, *label_elements(label), *data]
        for start in range(0, len(elements), RATE):
            block = elements[start : start + RATE]
            self._state[:RATE] = block + [0] * (RATE - len(block))
            self._state = permute(self._state)

    def _squeeze(self, count: int) -> list[int]:
        out: list[int] = []
        while True:
            out += self._state[: min(RATE, count - len(out))]
            if len(out) >= count:
                return out
            self._state = permute(self._state)

    # -- absorbing -------------------------------------------------------------------------------

    def absorb_bytes(self, label: bytes | str, data: bytes) -> None:
        self._record(OP_BYTES, label, bytes_elements(bytes(data)))

    def absorb_elements(self, label: bytes | str, values: Iterable[int]) -> None:
        """Absorb field elements: ints or a numpy uint64 array (any shape, read in C order)."""
        if hasattr(values, "ravel"):
            values = values.ravel().tolist()
        elements = canonical_elements(values)
        self._record(OP_ELEMENTS, label, [len(elements), *elements])

    def absorb_digest(self, label: bytes | str, digest: bytes) -> None:
        """A 32-byte digest: as its 4 words when they are field elements (a Poseidon2 root)."""
        if not isinstance(digest, bytes | bytearray) or len(digest) != 32:
            raise ValueError("a digest is 32 bytes")
        words = [int.from_bytes(digest[i : i + 8], "little") for i in range(0, 32, 8)]
        if all(w < P for w in words):
            self._record(OP_DIGEST, label, words)
        else:
            self._record(OP_DIGEST_BYTES, label, bytes_elements(bytes(digest)))

    # -- challenges ------------------------------------------------------------------------------

    def _challenge(self, label: bytes | str, kind: int, count: int, extra: int = 0) -> None:
        _check_count(count)
        self._record(OP_CHALLENGE, label, [kind, extra, count])

    def challenge_elements(self, label: bytes | str, count: int) -> list[int]:
        self._challenge(label, KIND_BASE, count)
        return self._squeeze(count)

    def challenge_element(self, label: bytes | str) -> int:
        return self.challenge_elements(label, 1)[0]

    def challenge_ext(self, label: bytes | str) -> tuple[int, int]:
        self._challenge(label, KIND_EXT, 1)
        c0, c1 = self._squeeze(2)
        return c0, c1

    def challenge_indices(self, label: bytes | str, domain_size_pow2: int, count: int) -> list[int]:
        _check_domain_size(domain_size_pow2)
        self._challenge(label, KIND_INDICES, count, domain_size_pow2.bit_length())
        return [v & (domain_size_pow2 - 1) for v in self._squeeze(count)]

    def challenge_distinct_indices(self, label: bytes | str, domain_size_pow2: int, count: int) -> list[int]:
        return list(dict.fromkeys(self.distinct_index_draws(label, domain_size_pow2, count)))

    def distinct_index_draws(self, label: bytes | str, domain_size_pow2: int, count: int) -> list[int]:
        """What `challenge_distinct_indices` reads, repeats included: every lane's index in order,
        up to the one that completes `count` distinct ones (a compiled verifier checks each)."""
        _check_domain_size(domain_size_pow2)
        if count > domain_size_pow2:
            raise ValueError(f"cannot draw {count} distinct indices from a domain of {domain_size_pow2}")
        self._challenge(label, KIND_DISTINCT, count, domain_size_pow2.bit_length())
        draws: list[int] = []
        distinct: set[int] = set()
        while True:
            for v in self._state[:RATE]:
                draws.append(v & (domain_size_pow2 - 1))
                distinct.add(draws[-1])
                if len(distinct) == count:
                    return draws
            self._state = permute(self._state)

    # -- proof of work ---------------------------------------------------------------------------

    def _pow_seed(self, bits: int) -> list[int]:
        if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= MAX_GRINDING_BITS:
            raise ValueError(f"grinding bits must be an int in [0, {MAX_GRINDING_BITS}], not {bits!r}")
        self._record(OP_POW, b"pow", [bits])
        return list(self._state)

    def copy(self) -> Poseidon2Transcript:
        """An independent transcript in the same state (a prover trying a nonce ahead)."""
        twin = object.__new__(Poseidon2Transcript)
        twin._state = list(self._state)
        return twin

    def grind(self, bits: int, start: int = 0) -> int:
        """Find the smallest passing nonce >= `start`, absorb it, and return it (prover)."""
        seed = self._pow_seed(bits)
        nonce = _search_nonce(seed, bits, start)
        self._record(OP_POW_NONCE, b"pow-nonce", [nonce])
        return nonce

    def check_grinding(self, nonce: int, bits: int) -> bool:
        """Check a prover's nonce and absorb it (absorbed even when it fails, as `Transcript`)."""
        seed = self._pow_seed(bits)
        valid = isinstance(nonce, int) and not isinstance(nonce, bool) and 0 <= nonce < P
        n = nonce if valid else 0
        self._record(OP_POW_NONCE, b"pow-nonce", [n])
        return valid and pow_ok(seed, n, bits)


def _search_nonce(seed: list[int], bits: int, start: int = 0) -> int:
    """The smallest nonce >= `start` passing `pow_ok`, tried many at a time with the numba
    permutation."""
    if not 0 <= start < P:
        raise ValueError(f"a nonce search starts in [0, p), not at {start}")
    if bits == 0:
        return start
    from zkpor.hash.poseidon2_lanes import search_nonce

    return search_nonce(seed, bits, start)
