"""The pure-Python field (no numpy, no numba): Fp helpers, Ext, and the polynomial helpers."""

from __future__ import annotations

import subprocess
import sys

import pytest
from field_helpers import P, elements, ext_elements, naive_ext_inv, naive_ext_mul, nonzero_elements, relaxed
from hypothesis import given
from hypothesis import strategies as st

from zkpor.field import pure
from zkpor.field.pure import Ext, fp_inv, fp_pow, fp_root_of_unity, horner, lagrange_at, vanishing_at


def test_seven_is_a_non_residue_so_the_extension_is_a_field() -> None:
    assert pow(7, (P - 1) // 2, P) == P - 1


def test_generator_generates_the_multiplicative_group() -> None:
    # P - 1 = 2^32 · 3 · 5 · 17 · 257 · 65537
    factors = [2, 3, 5, 17, 257, 65537]
    assert 2**32 * 3 * 5 * 17 * 257 * 65537 == P - 1
    for q in factors:
        assert pow(pure.GENERATOR, (P - 1) // q, P) != 1


def test_roots_of_unity_are_plonky3s() -> None:
    # Plonky3's Goldilocks::two_adic_generator(32), and a few of its table entries
    assert fp_root_of_unity(32) == 0x185629DCDA58878C
    assert fp_root_of_unity(1) == P - 1
    assert fp_root_of_unity(2) == 0x0001000000000000  # 2^48
    assert fp_root_of_unity(3) == 0xFFFFFFFEFF000001  # -2^24
    assert fp_root_of_unity(24) == 0x86CDCC31C307E171
    for k in range(33):
        w = fp_root_of_unity(k)
        assert pow(w, 1 << k, P) == 1
        assert k == 0 or pow(w, 1 << (k - 1), P) != 1
    with pytest.raises(ValueError):
        fp_root_of_unity(33)


@relaxed
@given(nonzero_elements, st.integers(-(2**70), 2**70))
def test_fp_pow_and_inverse(a: int, e: int) -> None:
    assert fp_inv(a) * a % P == 1
    assert fp_pow(a, e) == (pow(a, e, P) if e >= 0 else pow(fp_inv(a), -e, P))


def test_fp_inverse_of_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        fp_inv(0)
    with pytest.raises(ZeroDivisionError):
        fp_inv(P)


def test_fp_bytes_are_strict() -> None:
    assert pure.fp_from_bytes(pure.fp_to_bytes(P - 1)) == P - 1
    with pytest.raises(ValueError):
        pure.fp_from_bytes((P).to_bytes(8, "little"))
    with pytest.raises(ValueError):
        pure.fp_from_bytes(b"\x00" * 7)


@relaxed
@given(ext_elements, ext_elements)
def test_ext_matches_naive(a: tuple[int, int], b: tuple[int, int]) -> None:
    x, y = Ext(*a), Ext(*b)
    assert (x * y).to_pair() == naive_ext_mul(a, b)
    assert (x + y).to_pair() == ((a[0] + b[0]) % P, (a[1] + b[1]) % P)
    assert (x - y).to_pair() == ((a[0] - b[0]) % P, (a[1] - b[1]) % P)
    assert (-x).to_pair() == (-a[0] % P, -a[1] % P)
    assert x.square() == x * x


@relaxed
@given(ext_elements, ext_elements, ext_elements)
def test_ext_field_axioms(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> None:
    x, y, z = Ext(*a), Ext(*b), Ext(*c)
    assert x * y == y * x
    assert (x * y) * z == x * (y * z)
    assert x * (y + z) == x * y + x * z
    assert x + Ext(0, 0) == x and x * Ext(1, 0) == x
    assert x - x == 0
    if x:
        assert x * x.inverse() == 1
        assert (y / x) * x == y


def test_x_squared_is_seven() -> None:
    x = Ext(0, 1)
    assert x * x == 7
    assert x**2 == Ext(7, 0)


@relaxed
@given(ext_elements.filter(lambda t: t != (0, 0)))
def test_ext_inverse_matches_brute_force(a: tuple[int, int]) -> None:
    assert Ext(*a).inverse().to_pair() == naive_ext_inv(a)


@relaxed
@given(ext_elements, st.integers(-50, 200))
def test_ext_pow(a: tuple[int, int], e: int) -> None:
    x = Ext(*a)
    if not x and e < 0:
        with pytest.raises(ZeroDivisionError):
            x**e
        return
    expected = Ext(1, 0)
    for _ in range(abs(e)):
        expected = expected * x
    if e < 0:
        expected = expected.inverse()
    assert x**e == expected


def test_ext_pow_group_order() -> None:
    x = Ext(3, 5)
    assert x ** (P * P - 1) == 1
    assert x ** (P * P) == x
    assert Ext(0, 0) ** 0 == 1 and Ext(0, 0) ** 5 == 0


def test_ext_zero_inverse() -> None:
    with pytest.raises(ZeroDivisionError):
        Ext(0, 0).inverse()
    with pytest.raises(ZeroDivisionError):
        _ = Ext(1, 2) / 0


@relaxed
@given(elements, ext_elements)
def test_ext_int_interop(k: int, a: tuple[int, int]) -> None:
    x = Ext(*a)
    assert x + k == k + x == Ext(a[0] + k, a[1])
    assert x * k == k * x == Ext(a[0] * k, a[1] * k)
    assert k - x == Ext(k - a[0], -a[1])
    assert Ext(k, 0) == k and hash(Ext(k, 0)) == hash(k)
    assert Ext.from_base(k) == Ext(k)
    if x:
        assert (k / x) * x == k


def test_ext_reduces_inputs_and_is_immutable() -> None:
    assert Ext(P + 3, -1) == Ext(3, P - 1)
    with pytest.raises(AttributeError):
        Ext(1, 2).c0 = 5  # type: ignore[misc]
    assert Ext(1, 2) != Ext(2, 1)
    assert Ext(1, 2) != "Ext(1, 2)"
    assert len({Ext(1, 2), Ext(1, 2), Ext(1, 0), 1}) == 2


@relaxed
@given(ext_elements)
def test_ext_bytes_round_trip(a: tuple[int, int]) -> None:
    x = Ext(*a)
    data = x.to_bytes()
    assert len(data) == 16 and Ext.from_bytes(data) == x


def test_ext_from_bytes_is_strict() -> None:
    with pytest.raises(ValueError):
        Ext.from_bytes(b"\x00" * 15)
    with pytest.raises(ValueError):
        Ext.from_bytes(b"\x00" * 8 + (2**64 - 1).to_bytes(8, "little"))


def test_pure_module_needs_neither_numpy_nor_numba() -> None:
    code = (
        "import sys; sys.modules['numpy'] = None; sys.modules['numba'] = None\n"
        "from zkpor.field.pure import Ext, horner\n"
        "assert horner([1, 2], Ext(0, 1)) == Ext(1, 2)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@relaxed
@given(st.lists(elements, max_size=8), ext_elements)
def test_horner(coeffs: list[int], z: tuple[int, int]) -> None:
    zz = Ext(*z)
    expected = Ext(0, 0)
    for i, c in enumerate(coeffs):
        expected = expected + c * zz**i
    assert horner(coeffs, zz) == expected


@pytest.mark.parametrize("shift", [1, 7])
def test_vanishing_and_lagrange_on_a_coset(shift: int) -> None:
    log_n = 3
    n = 1 << log_n
    w = fp_root_of_unity(log_n)
    points = [shift * pow(w, i, P) % P for i in range(n)]
    for x in points:
        assert vanishing_at(x, n, shift) == 0
        for i, xi in enumerate(points):
            assert lagrange_at(i, x, log_n, shift) == (1 if x == xi else 0)
    z = Ext(123456789, 987654321)
    assert vanishing_at(z, n, shift) == z**n - pow(shift, n, P)
    # the Lagrange basis sums to 1 and interpolates: Σ L_i(z)·x_i^k = z^k for k < n
    for k in (0, 1, n - 1):
        total = Ext(0, 0)
        for i, xi in enumerate(points):
            total = total + lagrange_at(i, z, log_n, shift) * pow(xi, k, P)
        assert total == z**k
