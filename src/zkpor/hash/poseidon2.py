"""Poseidon2 over Goldilocks in pure Python: permutation, sponge and 2-to-1 compression.

No numpy, no numba: a customer's inclusion-proof verifier imports this module and nothing heavier,
so it runs anywhere Python does (a browser included). It is slow (tens of microseconds a
permutation) and meant for a few dozen hashes; `zkpor.hash.poseidon2_batch` computes the same
functions over many inputs with numba, and the tests check that the two agree bit for bit.

Permutation
    Equal to Plonky3's ``default_goldilocks_poseidon2_8`` / ``default_goldilocks_poseidon2_12``:
    S-box ``x^7``; an initial external linear layer, 4 full rounds, 22 partial rounds, 4 full rounds.
    A full round adds a constant to every lane, applies the S-box to every lane and then the external
    layer; a partial round adds one constant to lane 0, applies the S-box to lane 0 and then the
    internal layer. The external layer applies Plonky3's ``MDSMat4``
    ``[[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]]`` to each block of four lanes and then adds, to every
    lane, the sum of the lanes in the same position of all blocks (the ``circ(2M4, M4, ...)`` matrix
    of the Poseidon2 paper). The internal layer is ``state[i] <- D[i]*state[i] + sum(state)``.

Sponge (`sponge_hash`), width 12, rate 8, capacity 4, overwrite mode
    The state starts as ``[0]*8 + [t0, t1, t2, n]``: the capacity holds a 3-element tag derived from
    the domain (`domain_tag`) and the number of input elements ``n``. The input is split into
    blocks of 8; each block overwrites lanes 0..7 (the last block is filled up with zeros) and the
    state is permuted; an empty input absorbs one all-zero block. The output is read from lanes 0..7,
    permuting again between blocks of 8 when more than 8 elements are asked for.

    Why the length in the capacity rather than ``10*`` padding: our inputs always have a length
    known before hashing (a leaf is a fixed number of field elements), so binding the length in the
    initial state makes ``[a]`` and ``[a, 0]`` (and any two inputs of different lengths) start from
    different states, with no extra permutation when the length is a multiple of 8 and a constant
    initial state for the AIR that recomputes leaves in the trace. It is the approach of the SAFE
    sponge API (the IO pattern in the capacity).

Domain tag (`domain_tag`)
    The domain (bytes, or a str taken as UTF-8, 1..255 bytes) is encoded as field elements:
    ``[len(domain)]`` followed by the bytes in little-endian chunks of 7 (each < 2^56 < p), and
    hashed by the same overwrite sponge started from the all-zero state; the tag is lanes 0..2 of the
    result. The encoding is injective (the length comes first, chunks cannot overflow p), and an
    all-zero capacity is never that of a real sponge call unless a tag happens to be (0, 0, 0).

Compression (`compress`)
    ``compress(left, right) = permute8(left + right)[:4]`` on 4-element digests: Plonky3's
    ``TruncatedPermutation<Poseidon2Goldilocks<8>, 2, 4, 8>``, the compression its Goldilocks Merkle
    trees use. A width-8 permutation is the cheapest in an AIR, and the 4-element (256-bit) output
    keeps 128-bit collision resistance. It has no domain input: it is only used inside trees of a
    fixed, known depth, where a node can never be confused with a leaf.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from zkpor.hash import poseidon2_constants as consts

P = consts.P
RATE = 8
CAPACITY = 4
SPONGE_WIDTH = RATE + CAPACITY
DIGEST_LEN = 4
MAX_DOMAIN_LEN = 255
_DOMAIN_CHUNK = 7  # bytes per field element when encoding a domain: 7 bytes < 2^56 < p

_Rounds = tuple[tuple[int, ...], ...]
# width -> (initial full-round constants, partial-round constants, final full-round constants, diagonal)
_PARAMS: dict[int, tuple[_Rounds, tuple[int, ...], _Rounds, tuple[int, ...]]] = {
    8: (consts.RC8_EXTERNAL_INITIAL, consts.RC8_INTERNAL, consts.RC8_EXTERNAL_FINAL, consts.DIAG8),
    12: (consts.RC12_EXTERNAL_INITIAL, consts.RC12_INTERNAL, consts.RC12_EXTERNAL_FINAL, consts.DIAG12),
}


def _sbox(x: int) -> int:
    x2 = x * x % P
    x3 = x2 * x % P
    x4 = x2 * x2 % P
    return x3 * x4 % P


def _external_linear_layer(s: list[int]) -> list[int]:
    # Plonky3's MDSMat4 on each block of four lanes (row by row: small coefficients, reduced below).
    out = [0] * len(s)
    for b in range(0, len(s), 4):
        x0, x1, x2, x3 = s[b], s[b + 1], s[b + 2], s[b + 3]
        out[b] = 2 * x0 + 3 * x1 + x2 + x3
        out[b + 1] = x0 + 2 * x1 + 3 * x2 + x3
        out[b + 2] = x0 + x1 + 2 * x2 + 3 * x3
        out[b + 3] = 3 * x0 + x1 + x2 + 2 * x3
    # Then add to each lane the sum of the same position over all blocks: circ(2*M4, M4, ..., M4).
    sums = [sum(out[k::4]) for k in range(4)]
    return [(v + sums[i % 4]) % P for i, v in enumerate(out)]


def _internal_linear_layer(s: list[int], diag: tuple[int, ...]) -> list[int]:
    total = sum(s)
    return [(d * v + total) % P for d, v in zip(diag, s, strict=True)]


def _as_elements(values: Sequence[int], what: str) -> list[int]:
    """Canonical field elements as Python ints; numpy integers are accepted through __index__."""
    out = []
    for v in values:
        if isinstance(v, bool):
            raise ValueError(f"{what}: {v!r} is a bool, not a field element")
        try:
            x = operator.index(v)
        except TypeError:
            raise ValueError(f"{what}: {v!r} is not an integer") from None
        if not 0 <= x < P:
            raise ValueError(f"{what}: {x} is not a canonical Goldilocks element (an int in [0, p))")
        out.append(x)
    return out


def permute(state: Sequence[int]) -> list[int]:
    """Apply the Poseidon2 permutation; the width (8 or 12) is ``len(state)``.

    Elements must be canonical ints in ``[0, p)``; a new list is returned.
    """
    width = len(state)
    if width not in _PARAMS:
        raise ValueError(f"Poseidon2 state must have 8 or 12 elements, not {width}")
    return _permute_unchecked(_as_elements(state, "Poseidon2 state"))


def _permute_unchecked(s: list[int]) -> list[int]:
    initial, internal, final, diag = _PARAMS[len(s)]
    s = _external_linear_layer(s)
    for rc in initial:
        s = _external_linear_layer([_sbox((v + c) % P) for v, c in zip(s, rc, strict=True)])
    for c in internal:
        s[0] = _sbox((s[0] + c) % P)
        s = _internal_linear_layer(s, diag)
    for rc in final:
        s = _external_linear_layer([_sbox((v + c) % P) for v, c in zip(s, rc, strict=True)])
    return s


def _domain_bytes(domain: bytes | str) -> bytes:
    if isinstance(domain, str):
        domain = domain.encode("utf-8")
    if not isinstance(domain, bytes | bytearray):
        raise TypeError(f"domain must be bytes or str, not {type(domain).__name__}")
    if not 1 <= len(domain) <= MAX_DOMAIN_LEN:
        raise ValueError(f"domain must be 1..{MAX_DOMAIN_LEN} bytes long, not {len(domain)}")
    return bytes(domain)


_TAG_CACHE: dict[bytes, tuple[int, int, int]] = {}


def domain_tag(domain: bytes | str) -> tuple[int, int, int]:
    """The three capacity elements that separate the sponge of ``domain`` from every other domain."""
    d = _domain_bytes(domain)
    tag = _TAG_CACHE.get(d)
    if tag is None:
        encoded = [len(d)] + [
            int.from_bytes(d[i : i + _DOMAIN_CHUNK], "little") for i in range(0, len(d), _DOMAIN_CHUNK)
        ]
        out = _absorb([0] * SPONGE_WIDTH, encoded)
        tag = (out[0], out[1], out[2])
        _TAG_CACHE[d] = tag
    return tag


def _absorb(state: list[int], elements: Sequence[int]) -> list[int]:
    """Overwrite-mode absorption of ``elements`` (zero-filled last block; one block if empty)."""
    n = len(elements)
    for start in range(0, max(n, 1), RATE):
        block = list(elements[start : start + RATE])
        state[:RATE] = block + [0] * (RATE - len(block))
        state = _permute_unchecked(state)
    return state


def sponge_initial_state(domain: bytes | str, n_elements: int) -> list[int]:
    """The width-12 state before the first absorption: zero rate, then ``tag ‖ n_elements``.

    Exposed for an AIR that recomputes sponge hashes in its trace (the state is a public constant).
    """
    if not 0 <= n_elements < P:
        raise ValueError(f"sponge input length {n_elements} out of range")
    return [0] * RATE + list(domain_tag(domain)) + [n_elements]


def sponge_hash(domain: bytes | str, elements: Sequence[int], out_len: int = DIGEST_LEN) -> list[int]:
    """Hash a sequence of field elements to ``out_len`` field elements under ``domain``.

    See the module docstring for the construction (width 12, rate 8, length in the capacity).
    """
    if out_len < 1:
        raise ValueError(f"out_len must be at least 1, not {out_len}")
    values = _as_elements(elements, "sponge input")
    state = _absorb(sponge_initial_state(domain, len(values)), values)
    out = state[:RATE]
    while len(out) < out_len:
        state = _permute_unchecked(state)
        out.extend(state[:RATE])
    return out[:out_len]


def sponge_from_capacity(capacity: Sequence[int], elements: Sequence[int]) -> list[int]:
    """The overwrite sponge of `sponge_hash` started from ``[0]*8 + capacity`` instead of a domain
    tag and length: for a caller that derives a keyed capacity (a zkpor leaf binds its round so).
    Returns lanes 0..3 (a digest)."""
    if len(capacity) != CAPACITY:
        raise ValueError(f"a capacity has {CAPACITY} elements, not {len(capacity)}")
    state = [0] * RATE + _as_elements(capacity, "capacity")
    return _absorb(state, _as_elements(elements, "sponge input"))[:DIGEST_LEN]


def compress(left: Sequence[int], right: Sequence[int]) -> list[int]:
    """2-to-1 compression of two 4-element digests: ``permute8(left + right)[:4]``."""
    if len(left) != DIGEST_LEN or len(right) != DIGEST_LEN:
        raise ValueError(f"compress takes two {DIGEST_LEN}-element digests, not {len(left)} and {len(right)}")
    state = _as_elements(list(left) + list(right), "compress input")
    return _permute_unchecked(state)[:DIGEST_LEN]


def digest_to_bytes(digest: Sequence[int]) -> bytes:
    """32-byte encoding of a 4-element digest (little-endian u64 per element)."""
    if len(digest) != DIGEST_LEN:
        raise ValueError(f"a digest has {DIGEST_LEN} elements, not {len(digest)}")
    return b"".join(v.to_bytes(8, "little") for v in _as_elements(digest, "digest"))


def digest_from_bytes(data: bytes) -> list[int]:
    """Inverse of `digest_to_bytes`; rejects a wrong length or a non-canonical element."""
    if len(data) != 8 * DIGEST_LEN:
        raise ValueError(f"a Poseidon2 digest is {8 * DIGEST_LEN} bytes, not {len(data)}")
    out = [int.from_bytes(data[i : i + 8], "little") for i in range(0, len(data), 8)]
    for v in out:
        if v >= P:
            raise ValueError(f"digest element 0x{v:016x} is not canonical (>= p)")
    return out
