"""What checking one row can conclude, and the exceptions chain modules raise to say so."""

from __future__ import annotations

from dataclasses import dataclass

VERIFIED = "verified"
FAILED = "failed"
UNSUPPORTED = "unsupported"

# An ownership claim that only chain state can settle: (account, public key, scheme that checked the
# signature). EOS accounts are names whose keys live in their permissions.
KeyLink = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The verdict on one row's ownership proof: status, the scheme that decided it, and why."""

    status: str  # VERIFIED, FAILED or UNSUPPORTED
    scheme: str = ""
    reason: str = ""
    link: KeyLink | None = None  # set when the row is UNSUPPORTED only for want of account state


class Rejected(Exception):  # noqa: N818 - reads as "the row was rejected"
    """The proof does not hold: wrong key, bad encoding, wrong message... The message is the reason."""


class Unsupported(Exception):  # noqa: N818
    """The row uses a scheme or address kind we do not check; it is reported, never counted."""


class KeyNotLinked(Unsupported):
    """The signature is valid for a key, but that the key controls the account is chain state.

    The row stays unsupported unless an account source (snapshot or node) links the two.
    """

    def __init__(self, reason: str, link: KeyLink) -> None:
        super().__init__(reason)
        self.link = link
