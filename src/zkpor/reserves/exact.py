"""Exact numbers for proof of assets: decimal text ↔ Fraction, and percentages that never round up.

Reserve sums and ratios are exact rational numbers (`fractions.Fraction`), never `Decimal`s under a
28-digit context: 10^12 ETH with 18 decimals is already 31 digits, and a Decimal sum of such amounts
would round without a word. Sums of decimal amounts stay finite decimals and are written back
exactly (`decimal_text`); ratios are not, so they are shown rounded *down* (`percent_text`): a
ratio of 99.99999 % reads "99.99 %", never "100.00 %", and `is below 100 %` is decided on the
exact fraction.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


def parse_amount(text: str) -> Fraction | None:
    """An exact non-negative decimal amount, or None if `text` is not one (no signs, no exponents,
    no `.5` or `5.`, no separators)."""
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        return None
    whole, fraction = match.groups()
    if not fraction:
        return Fraction(int(whole))
    return Fraction(int(whole + fraction), 10 ** len(fraction))


def to_fraction(value: Fraction | Decimal | int) -> Fraction:
    """A chain source's exact answer as a Fraction (a finite Decimal converts exactly)."""
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    return Fraction(value)


def decimal_text(value: Fraction) -> str:
    """The exact decimal text of a finite decimal (a sum of decimal amounts, or one times a price);
    raises ValueError for a fraction such as 1/3 that has no finite decimal form."""
    numerator, denominator = value.numerator, value.denominator
    twos = fives = 0
    rest = denominator
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        raise ValueError(f"{value} has no finite decimal form")
    places = max(twos, fives)
    units = numerator * 10**places // denominator
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**places)
    if not places or not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(fraction).rjust(places, '0').rstrip('0')}"


def truncated_text(value: Fraction, places: int) -> str:
    """`value` with exactly `places` decimals, cut towards zero (never rounded up)."""
    scaled = abs(value.numerator) * 10**places // value.denominator
    sign = "-" if value < 0 and scaled else ""
    whole, fraction = divmod(scaled, 10**places)
    return f"{sign}{whole}.{str(fraction).rjust(places, '0')}" if places else f"{sign}{whole}"


def percent_text(ratio: Fraction, places: int = 2) -> str:
    """A ratio as a percentage with `places` decimals, rounded down: 0.9999999 → "99.99"."""
    return truncated_text(ratio * 100, places)
