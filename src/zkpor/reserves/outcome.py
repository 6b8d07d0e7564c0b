"""What checking one row can conclude, and the exceptions chain modules raise to say so."""

from __future__ import annotations

from dataclasses import dataclass

VERIFIED = "verified"
FAILED = "failed"
UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The verdict on one row's ownership proof: status, the scheme that decided it, and why."""

    status: str  # VERIFIED, FAILED or UNSUPPORTED
    scheme: str = ""
    reason: str = ""


class Rejected(Exception):  # noqa: N818 - reads as "the row was rejected"
    """The proof does not hold: wrong key, bad encoding, wrong message... The message is the reason."""


class Unsupported(Exception):  # noqa: N818
    """The row uses a scheme or address kind we do not check; it is reported, never counted."""
