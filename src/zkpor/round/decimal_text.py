"""Exact conversion between decimal text and integers in base units. Nothing here rounds.

The one grammar used for every amount and price zkpor reads:

    [-] digits [ . digits ]

No exponent, no leading ``+``, no ``.5`` or ``5.``, no spaces, no thousands separators. Digits past
the allowed number of decimals are accepted only when they are all zeros (``"1.50000000000"`` for
an 8-decimal asset is exactly 150000000 base units); a non-zero digit there is an error, because
representing it would need rounding. The numba users-file parser follows exactly this grammar; this
module is the Python reference used for prices and by the tests.
"""

from __future__ import annotations

import re

DECIMAL_TEXT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


class DecimalTextError(ValueError):
    """The text is not an exact decimal number at the requested precision; the message says why."""


def parse_decimal_units(text: str, decimals: int, *, allow_negative: bool = True) -> int:
    """Return ``text`` as an integer number of base units (``10^-decimals``), or raise DecimalTextError.

    Example: ``parse_decimal_units("1.5", 8) == 150_000_000``.
    """
    match = DECIMAL_TEXT.fullmatch(text)
    if match is None:
        hint = " (exponents are not allowed)" if re.search(r"[eE]", text) else ""
        raise DecimalTextError(f"not a decimal number: {text!r}{hint}")
    sign, integer_digits, fraction_digits = match.groups()
    if sign and not allow_negative:
        raise DecimalTextError(f"must not be negative: {text!r}")
    fraction_digits = fraction_digits or ""
    kept, beyond = fraction_digits[:decimals], fraction_digits[decimals:]
    if beyond.strip("0"):
        raise DecimalTextError(
            f"{text!r} has more than {decimals} decimals; zkpor never rounds, so give at most "
            f"{decimals} decimals"
        )
    units = int(integer_digits + kept.ljust(decimals, "0"))
    return -units if sign else units


def format_units(units: int, decimals: int) -> str:
    """Inverse of parse_decimal_units, without trailing zeros: ``format_units(150_000_000, 8) == "1.5"``."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**decimals)
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(fraction).rjust(decimals, '0').rstrip('0')}"


def format_units_grouped(units: int, decimals: int, display_decimals: int | None = None) -> str:
    """Like format_units but with thousands separators, for people: ``1,234.5``.

    With ``display_decimals`` the fraction is cut (towards zero) or zero-padded to exactly that many
    digits, for display only (never for data): ``format_units_grouped(100_401_700, 3, 2) == "100,401.70"``.
    """
    negative = units < 0
    whole, fraction = divmod(abs(units), 10**decimals)
    fraction_text = str(fraction).rjust(decimals, "0") if decimals else ""
    if display_decimals is None:
        fraction_text = fraction_text.rstrip("0")
    else:
        fraction_text = fraction_text[:display_decimals].ljust(display_decimals, "0")
    text = f"{whole:,}.{fraction_text}" if fraction_text else f"{whole:,}"
    return f"-{text}" if negative and text.strip("0.,") else text
