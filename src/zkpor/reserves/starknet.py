"""Starknet: a typed-data (SNIP-12, revision 0) message signed with the STARK curve's ECDSA.

What OKX's verification tool checks, and so what its files carry: the public key column holds the
signer's STARK public key (x coordinate), the signature is r || s (64 hex digits each), and the signed
hash is that of the typed data

    domain  StarkNetDomain { name: "OKX POR MESSAGE", version: 1, chainId: "SN_MAIN" }
    message Message        { contents: <the row's message as a felt> }

for the row's account address. The signature proves the key signed a message naming the account; that
the key controls the account is the account contract's state, so the row is counted only when an owners
file (owners.py) records the key for that account at the snapshot — otherwise it is unsupported.

The STARK curve, its generator and the Pedersen hash's five points are StarkWare's published constants
(StarkEx crypto docs). Arithmetic here is plain affine Python: a few Starknet rows, not millions.
"""

from __future__ import annotations

from functools import lru_cache

from zkpor.reserves.codecs import CodecError, hex_bytes
from zkpor.reserves.hashing import keccak256
from zkpor.reserves.outcome import KeyNotLinked, Rejected
from zkpor.reserves.rows import ReserveRow

FIELD = 2**251 + 17 * 2**192 + 1
ORDER = 0x800000000000010FFFFFFFFFFFFFFFFB781126DCAE7B2321E66A241ADC64D2F
ALPHA = 1
BETA = 0x6F21413EFBE40DE150E596D72F7A8C5609AD26C15C915C1F4CDFCB99CEE9E89
GENERATOR = (
    0x1EF15C18599971B7BECED415A40F0C7DEACFD9B0D1819E03D723D8BC943CFCA,
    0x5668060AA49730B7BE4801DF46EC62DE53ECD11ABE43A32873000C36E8DC1F,
)
# Pedersen: shift point, then the points for a's low 248 bits, a's high 4 bits, b's low, b's high.
PEDERSEN_POINTS = (
    (
        0x49EE3EBA8C1600700EE1B87EB599F16716B0B1022947733551FDE4050CA6804,
        0x3CA0CFE4B3BC6DDF346D49D06EA0ED34E621062C0E056C1D0405D266E10268A,
    ),
    (
        0x234287DCBAFFE7F969C748655FCA9E58FA8120B6D56EB0C1080D17957EBE47B,
        0x3B056F100F96FB21E889527D41F4E39940135DD7A6C94CC6ED0268EE89E5615,
    ),
    (
        0x4FA56F376C83DB33F9DAB2656558F3399099EC1DE5E3018B7A6932DBA8AA378,
        0x3FA0984C931C9E38113E0C0E47E4401562761F92A7A23B45168F4E80FF5B54D,
    ),
    (
        0x4BA4CC166BE8DEC764910F75B45F74B40C690C74709E90F3AA372F0BD2D6997,
        0x40301CF5C1751F4B971E46C4EDE85FCAC5C59A5CE5AE7C48151F27B24B219C,
    ),
    (
        0x54302DCB0E6CC1C6E44CCA8F61A63BB2CA65048D53FB325D36FF12C49A58202,
        0x1B77B3E37D13504B348046268D8AE25CE98AD783C25561A879DCC77E99C2426,
    ),
)
ADDRESS_BOUND = 2**251  # addresses, message hashes and r are below this (StarkWare's ECDSA rules)
LOW_BITS = 248

Point = tuple[int, int] | None  # None is the point at infinity


def _add(p: Point, q: Point) -> Point:
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0]:
        if (p[1] + q[1]) % FIELD == 0:
            return None
        slope = (3 * p[0] * p[0] + ALPHA) * pow(2 * p[1], -1, FIELD) % FIELD
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, FIELD) % FIELD
    x = (slope * slope - p[0] - q[0]) % FIELD
    return x, (slope * (p[0] - x) - p[1]) % FIELD


def _multiply(point: Point, scalar: int) -> Point:
    result = None
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def on_curve(point: tuple[int, int]) -> bool:
    x, y = point
    return (y * y - (x * x * x + ALPHA * x + BETA)) % FIELD == 0


def pedersen(a: int, b: int) -> int:
    """StarkWare's Pedersen hash of two field elements."""
    if not (0 <= a < FIELD and 0 <= b < FIELD):
        raise ValueError("Pedersen inputs must be field elements")
    shift, a_low, a_high, b_low, b_high = PEDERSEN_POINTS
    point: Point = shift
    for value, low_point, high_point in ((a, a_low, a_high), (b, b_low, b_high)):
        point = _add(point, _multiply(low_point, value & ((1 << LOW_BITS) - 1)))
        point = _add(point, _multiply(high_point, value >> LOW_BITS))
    assert point is not None
    return point[0]


def hash_on_elements(values: list[int]) -> int:
    """`compute_hash_on_elements`: Pedersen-fold from 0, then the length."""
    state = 0
    for value in values:
        state = pedersen(state, value)
    return pedersen(state, len(values))


def starknet_keccak(data: bytes) -> int:
    return int.from_bytes(keccak256(data), "big") & (2**250 - 1)


def felt_of(text: str) -> int:
    """A typed-data felt as SNIP-12 revision 0 reads a string: 0x hex, decimal digits, or else a short
    string (up to 31 ASCII characters, big-endian)."""
    if text[:2] in ("0x", "0X"):
        value = int(text, 16)
    elif text.isdigit():
        value = int(text)
    else:
        raw = text.encode()
        if len(raw) > 31 or not text.isascii():
            raise Rejected("a Starknet short-string message is at most 31 ASCII characters")
        value = int.from_bytes(raw, "big")
    if value >= FIELD:
        raise Rejected("message is not a Starknet field element")
    return value


DOMAIN_TYPE = "StarkNetDomain(name:felt,version:felt,chainId:felt)"
MESSAGE_TYPE = "Message(contents:felt)"
OKX_DOMAIN = ("OKX POR MESSAGE", "1", "0x534e5f4d41494e")  # name, version, chainId (SN_MAIN)


@lru_cache(maxsize=8)
def _domain_hash(name: str, version: str, chain_id: str) -> int:
    type_hash = starknet_keccak(DOMAIN_TYPE.encode())
    return hash_on_elements([type_hash, felt_of(name), felt_of(version), felt_of(chain_id)])


def typed_message_hash(account: int, message: str, domain: tuple[str, str, str] = OKX_DOMAIN) -> int:
    """The SNIP-12 (revision 0) hash of OKX's one-field message, signed for `account`."""
    struct = hash_on_elements([starknet_keccak(MESSAGE_TYPE.encode()), felt_of(message)])
    return hash_on_elements([felt_of("StarkNet Message"), _domain_hash(*domain), account, struct])


def points_of_x(x: int) -> list[tuple[int, int]]:
    """Both curve points with this x (a STARK public key is often given as x alone)."""
    rhs = (x * x * x + ALPHA * x + BETA) % FIELD
    y = _sqrt(rhs)
    if y is None:
        return []
    return [(x, y), (x, FIELD - y)] if y else [(x, 0)]


def _sqrt(value: int) -> int | None:
    """Square root modulo FIELD (Tonelli-Shanks; FIELD - 1 = 2**192 * odd)."""
    if value == 0:
        return 0
    if pow(value, (FIELD - 1) // 2, FIELD) != 1:
        return None
    odd, twos = FIELD - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    non_residue = 3
    while pow(non_residue, (FIELD - 1) // 2, FIELD) != FIELD - 1:
        non_residue += 1
    m, c, t, r = twos, pow(non_residue, odd, FIELD), pow(value, odd, FIELD), pow(value, (odd + 1) // 2, FIELD)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2, i = t2 * t2 % FIELD, i + 1
        b = pow(c, 1 << (m - i - 1), FIELD)
        m, c, t, r = i, b * b % FIELD, t * b * b % FIELD, r * b % FIELD
    return r


def ecdsa_verify(message_hash: int, r: int, s: int, public_key: tuple[int, int]) -> bool:
    """StarkWare's ECDSA rules: 1 <= r < 2**251, 1 <= s < n, w = s^-1 below 2**251, hash below 2**251."""
    if not (1 <= r < ADDRESS_BOUND and 1 <= s < ORDER and 0 <= message_hash < ADDRESS_BOUND):
        return False
    w = pow(s, -1, ORDER)
    if not 1 <= w < ADDRESS_BOUND:
        return False
    point = _multiply(_add(_multiply(GENERATOR, message_hash), _multiply(public_key, r)), w)
    return point is not None and point[0] == r


def parse_felt(text: str, *, what: str = "address") -> int:
    body = text[2:] if text[:2].lower() == "0x" else ""
    try:
        value = int(body, 16) if 1 <= len(body) <= 64 else -1
    except ValueError:
        value = -1
    if not 0 <= value < ADDRESS_BOUND:
        raise Rejected(f"Starknet {what} must be 0x followed by hex digits, below 2**251")
    return value


def canonical(chain: object, text: str) -> str:
    return f"0x{parse_felt(text):064x}"


def _signature(text: str) -> tuple[int, int]:
    try:
        raw = hex_bytes(text.strip(), what="signature")
    except CodecError as error:
        raise Rejected(str(error)) from None
    if len(raw) != 64:
        raise Rejected(f"Starknet signature must be r || s, 64 bytes, got {len(raw)}")
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")


def verify(row: ReserveRow) -> str:
    account = parse_felt(row.address)
    if not row.script_or_key:
        raise Rejected("Starknet rows need the signer's STARK public key in the public key column")
    key_x = parse_felt(row.script_or_key, what="public key")
    candidates = points_of_x(key_x)
    if not candidates:
        raise Rejected("public key is not the x coordinate of a STARK curve point")
    r, s = _signature(row.signature1)
    message_hash = typed_message_hash(account, row.message)
    if not any(ecdsa_verify(message_hash, r, s, point) for point in candidates):
        raise Rejected("STARK signature does not verify for this key, account and message")
    key = f"0x{key_x:064x}"
    scheme = "Starknet SNIP-12 typed data, STARK ECDSA"
    raise KeyNotLinked(
        f"{scheme}: signature by key {key} over the message naming this account is valid; that the key "
        "controls the account is the account contract's state: give it with --owners FILE",
        (row.address, key, scheme),
    )
