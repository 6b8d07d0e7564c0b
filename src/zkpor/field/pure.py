"""Pure-Python Goldilocks and quadratic-extension arithmetic, for verifiers that must run anywhere.

Nothing here imports numpy or numba: a verifier (or a browser build) can use this module alone.
The numba kernels in ``goldilocks.py`` and ``extension.py`` compute the same functions on arrays;
the tests check them against each other.

Elements of F_p are plain ``int`` in ``[0, P)``. Elements of F_p[x]/(x^2 - 7) are ``Ext`` objects
(Plonky3's ``BinomialExtensionField<Goldilocks, 2>``, whose W is 7).
"""

from __future__ import annotations

import operator

P = 0xFFFF_FFFF_0000_0001
W = 7  # x^2 = W in the extension; 7 is a quadratic non-residue mod P (tested)
GENERATOR = 7  # generates the multiplicative group F_p^*, as in Plonky3
TWO_ADICITY = 32  # 2^32 divides P - 1

_ELEMENT_BYTES = 8


def fp(value: int) -> int:
    """Reduce any Python int (negative too) to its canonical representative in [0, P)."""
    return value % P


def fp_add(a: int, b: int) -> int:
    return (a + b) % P


def fp_sub(a: int, b: int) -> int:
    return (a - b) % P


def fp_neg(a: int) -> int:
    return -a % P


def fp_mul(a: int, b: int) -> int:
    return a * b % P


def fp_inv(a: int) -> int:
    """Multiplicative inverse; ZeroDivisionError for 0 (mod P)."""
    if a % P == 0:
        raise ZeroDivisionError("inverse of zero in the Goldilocks field")
    return pow(a, P - 2, P)


def fp_pow(a: int, e: int) -> int:
    """a^e mod P; a negative e means (a^-1)^|e|."""
    if e < 0:
        return pow(fp_inv(a), -e, P)
    return pow(a, e, P)


def fp_root_of_unity(log_n: int) -> int:
    """The generator of the order-2^log_n subgroup used throughout zkpor (and Plonky3)."""
    if not 0 <= log_n <= TWO_ADICITY:
        raise ValueError(f"log_n must be in [0, {TWO_ADICITY}], got {log_n}")
    return pow(GENERATOR, (P - 1) >> log_n, P)


def fp_to_bytes(a: int) -> bytes:
    """8 bytes, little-endian, canonical."""
    return (a % P).to_bytes(_ELEMENT_BYTES, "little")


def fp_from_bytes(data: bytes) -> int:
    """Inverse of ``fp_to_bytes``; rejects wrong lengths and non-canonical encodings (>= P)."""
    if len(data) != _ELEMENT_BYTES:
        raise ValueError(f"a field element is {_ELEMENT_BYTES} bytes, got {len(data)}")
    value = int.from_bytes(data, "little")
    if value >= P:
        raise ValueError("non-canonical field element encoding (value >= P)")
    return value


class Ext:
    """An element c0 + c1·x of F_p[x]/(x^2 - 7). Immutable; mixes freely with Python ints."""

    __slots__ = ("c0", "c1")
    c0: int
    c1: int

    def __init__(self, c0: int = 0, c1: int = 0) -> None:
        # object.__setattr__ because __setattr__ is blocked below to keep elements immutable
        # (they are hashed and used as dictionary keys by callers).
        object.__setattr__(self, "c0", int(c0) % P)
        object.__setattr__(self, "c1", int(c1) % P)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Ext is immutable")

    @classmethod
    def from_base(cls, a: int) -> Ext:
        return cls(a, 0)

    @classmethod
    def from_pair(cls, pair: object) -> Ext:
        """From any 2-sequence of ints, e.g. one row ``[c0, c1]`` of a numpy ext array."""
        c0, c1 = pair  # type: ignore[misc]
        return cls(int(c0), int(c1))

    def to_pair(self) -> tuple[int, int]:
        return self.c0, self.c1

    # -- arithmetic ------------------------------------------------------------------------

    @staticmethod
    def _coerce(other: object) -> Ext | None:
        if isinstance(other, Ext):
            return other
        if isinstance(other, int):  # bool is an int too; harmless
            return Ext(other, 0)
        # numpy integer scalars and anything else with __index__ (no numpy import needed)
        index = getattr(other, "__index__", None)
        if index is not None:
            return Ext(index(), 0)
        return None

    def __add__(self, other: object) -> Ext:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Ext(self.c0 + o.c0, self.c1 + o.c1)

    __radd__ = __add__

    def __sub__(self, other: object) -> Ext:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return Ext(self.c0 - o.c0, self.c1 - o.c1)

    def __rsub__(self, other: object) -> Ext:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o - self

    def __neg__(self) -> Ext:
        return Ext(-self.c0, -self.c1)

    def __pos__(self) -> Ext:
        return self

    def __mul__(self, other: object) -> Ext:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        a0, a1, b0, b1 = self.c0, self.c1, o.c0, o.c1
        return Ext(a0 * b0 + W * a1 * b1, a0 * b1 + a1 * b0)

    __rmul__ = __mul__

    def square(self) -> Ext:
        a0, a1 = self.c0, self.c1
        return Ext(a0 * a0 + W * a1 * a1, 2 * a0 * a1)

    def norm(self) -> int:
        """c0^2 - 7·c1^2, the product of the element and its conjugate; zero only for zero."""
        return (self.c0 * self.c0 - W * self.c1 * self.c1) % P

    def conjugate(self) -> Ext:
        return Ext(self.c0, -self.c1)

    def inverse(self) -> Ext:
        """(c0 - c1·x) / norm; ZeroDivisionError for zero."""
        n = self.norm()
        if n == 0:
            raise ZeroDivisionError("inverse of zero in the extension field")
        n_inv = pow(n, P - 2, P)
        return Ext(self.c0 * n_inv, -self.c1 * n_inv)

    def __truediv__(self, other: object) -> Ext:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self * o.inverse()

    def __rtruediv__(self, other: object) -> Ext:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o * self.inverse()

    def __pow__(self, e: int) -> Ext:
        if not isinstance(e, int):
            return NotImplemented
        base = self
        if e < 0:
            base, e = self.inverse(), -e
        result = Ext(1, 0)
        while e:
            if e & 1:
                result = result * base
            base = base.square()
            e >>= 1
        return result

    # -- comparison and encoding -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self.c0 == o.c0 and self.c1 == o.c1

    def __hash__(self) -> int:
        # Consistent with == on ints: Ext(a, 0) == a, so they must hash alike.
        return hash(self.c0) if self.c1 == 0 else hash((self.c0, self.c1))

    def __bool__(self) -> bool:
        return self.c0 != 0 or self.c1 != 0

    def is_base(self) -> bool:
        return self.c1 == 0

    def __repr__(self) -> str:
        return f"Ext({self.c0}, {self.c1})"

    def to_bytes(self) -> bytes:
        """16 bytes: c0 then c1, each 8 bytes little-endian."""
        return self.c0.to_bytes(_ELEMENT_BYTES, "little") + self.c1.to_bytes(_ELEMENT_BYTES, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> Ext:
        """Inverse of ``to_bytes``; rejects wrong lengths and non-canonical coordinates."""
        if len(data) != 2 * _ELEMENT_BYTES:
            raise ValueError(f"an extension element is {2 * _ELEMENT_BYTES} bytes, got {len(data)}")
        return cls(fp_from_bytes(data[:_ELEMENT_BYTES]), fp_from_bytes(data[_ELEMENT_BYTES:]))


EXT_ZERO = Ext(0, 0)
EXT_ONE = Ext(1, 0)


# -- polynomials, for verifiers ----------------------------------------------------------------


def horner(coeffs: list[int] | list[Ext], z: int | Ext) -> Ext:
    """Σ coeffs[i]·z^i (coefficients in the base field or the extension), as an Ext. At a base point
    z the two coordinates are evaluated apart, on integers (a verifier's FRI final polynomial)."""
    if isinstance(z, int):
        c0 = c1 = 0
        for c in reversed(coeffs):
            a0, a1 = (c.c0, c.c1) if isinstance(c, Ext) else (c, 0)
            c0, c1 = (c0 * z + a0) % P, (c1 * z + a1) % P
        return Ext(c0, c1)
    acc = Ext(0, 0)
    for c in reversed(coeffs):
        acc = acc * z + c
    return acc


def ext_base_dot(c0: list[int], c1: list[int], base: list[int]) -> Ext:
    """Σ_k (c0_k + c1_k·x)·b_k for base elements b_k, given the extension elements by coordinates:
    two integer dot products, reduced once (a verifier's DEEP sum and FRI fold)."""
    return Ext(sum(map(operator.mul, c0, base)) % P, sum(map(operator.mul, c1, base)) % P)


def ext_powers_list(base: Ext, count: int, start: int = 0) -> list[Ext]:
    """[base^start, base^(start+1), …] (count of them): the weights of a random linear combination."""
    value = base**start
    out = []
    for _ in range(count):
        out.append(value)
        value = value * base
    return out


def _as_ext(z: int | Ext) -> Ext:
    return z if isinstance(z, Ext) else Ext(z, 0)


def vanishing_at(z: int | Ext, n: int, shift: int = 1) -> Ext:
    """Z(z) = z^n - shift^n, the polynomial of degree n vanishing on the coset shift·⟨ω_n⟩."""
    return _as_ext(z) ** n - pow(shift, n, P)


def lagrange_at(index: int, z: int | Ext, log_n: int, shift: int = 1) -> Ext:
    """L_index(z): the Lagrange basis polynomial of the coset D = shift·⟨ω_n⟩ (n = 2^log_n)
    that is 1 at x_index = shift·ω^index and 0 at the other points of D.

    L_i(z) = Z(z)·x_i / (n·shift^n·(z - x_i)), from Z'(x_i) = n·x_i^(n-1) = n·shift^n / x_i.
    At z = x_i itself it is 1 (and 0 at the other points of D)."""
    n = 1 << log_n
    z = _as_ext(z)
    x_i = shift * pow(fp_root_of_unity(log_n), index % n, P) % P
    if z == x_i:
        return Ext(1, 0)
    z_n = vanishing_at(z, n, shift)
    if not z_n:
        return Ext(0, 0)  # another point of D
    return z_n * x_i / ((z - x_i) * (n * pow(shift, n, P)))
