"""Errors of the hashing layer."""

from __future__ import annotations

from zkpor.errors import VerificationError


class MalformedProofError(VerificationError, ValueError):
    """Serialized proof data that cannot be parsed: truncated, oversized, trailing bytes, bad values.

    A ValueError too, so callers parsing untrusted bytes can catch either.
    """
