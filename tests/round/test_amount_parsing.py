"""The numba amount parser and formatter against the Python reference (decimal_text.py), on random text."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkpor.round import users_kernels as kernels
from zkpor.round.decimal_text import DecimalTextError, format_units, format_units_grouped, parse_decimal_units
from zkpor.round.users_writer import _POWERS_OF_TEN, _write_units


def kernel_parse(text: str, decimals: int, bits: int, allow_negative: bool) -> tuple[int, int, bool]:
    raw = np.frombuffer(text.encode(), dtype=np.uint8)
    code, units, negative = kernels.parse_amount(
        raw, 0, raw.shape[0], decimals, np.uint64(2**bits - 1), allow_negative
    )
    return code, int(units), bool(negative)


def reference_parse(text: str, decimals: int, bits: int, allow_negative: bool) -> int | None:
    """Units as the Python reference reads them, or None where the kernel must report an error."""
    try:
        units = parse_decimal_units(text, decimals, allow_negative=allow_negative)
    except DecimalTextError:
        return None
    return None if abs(units) >= 2**bits else units


amount_text = st.one_of(
    st.from_regex(r"-?[0-9]{1,22}(\.[0-9]{1,22})?", fullmatch=True),
    st.text(alphabet="0123456789.-+eE ,x", max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(text=amount_text, decimals=st.integers(0, 18), bits=st.integers(1, 63), allow_negative=st.booleans())
def test_kernel_agrees_with_reference(text: str, decimals: int, bits: int, allow_negative: bool) -> None:
    code, units, negative = kernel_parse(text, decimals, bits, allow_negative)
    expected = reference_parse(text, decimals, bits, allow_negative)
    if expected is None:
        assert code != kernels.OK, (text, decimals, bits)
    else:
        assert code == kernels.OK, (text, decimals, bits, code)
        assert (-units if negative else units) == expected


@pytest.mark.parametrize(
    ("text", "decimals", "bits", "allow_negative", "code"),
    [
        ("", 8, 52, True, kernels.E_EMPTY_AMOUNT),
        ("1.x", 8, 52, True, kernels.E_MALFORMED_NUMBER),
        ("-1.123456789", 8, 52, False, kernels.E_NEGATIVE),  # syntax first, then sign, then precision
        ("1.123456789", 8, 52, True, kernels.E_TOO_MANY_DECIMALS),
        ("99999999999.123456789", 8, 52, True, kernels.E_TOO_MANY_DECIMALS),  # precision before bound
        ("99999999999", 8, 52, True, kernels.E_OVER_BOUND),
        ("1", 0, 1, True, kernels.OK),
        ("2", 0, 1, True, kernels.E_OVER_BOUND),
        ("9", 0, 1, True, kernels.E_OVER_BOUND),  # digit larger than the whole bound
    ],
)
def test_error_precedence(text: str, decimals: int, bits: int, allow_negative: bool, code: int) -> None:
    assert kernel_parse(text, decimals, bits, allow_negative)[0] == code


@settings(max_examples=300, deadline=None)
@given(units=st.integers(0, 2**64 - 1), decimals=st.integers(0, 18), negative=st.booleans())
def test_writer_formats_like_reference(units: int, decimals: int, negative: bool) -> None:
    out = np.zeros(64, dtype=np.uint8)
    end = _write_units(out, 0, np.uint64(units), decimals, negative, _POWERS_OF_TEN)
    written = bytes(out[:end]).decode()
    assert written == format_units(-units if negative else units, decimals)
    assert parse_decimal_units(written, decimals) == (-units if negative else units)


def test_format_units_grouped() -> None:
    assert format_units_grouped(123_456_789_000_000, 8) == "1,234,567.89"
    assert format_units_grouped(-150_000_000, 8) == "-1.5"
    assert format_units_grouped(100_401_700, 3, display_decimals=2) == "100,401.70"
    assert format_units_grouped(-1, 8, display_decimals=2) == "0.00"
    assert format_units_grouped(2**52 - 1, 8, display_decimals=0) == "45,035,996"
