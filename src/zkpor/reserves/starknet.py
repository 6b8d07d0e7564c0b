"""Starknet: account addresses are field elements (felts) below 2**251, written 0x + up to 64 hex digits."""

from __future__ import annotations

from zkpor.reserves.outcome import Rejected, Unsupported
from zkpor.reserves.rows import ReserveRow

ADDRESS_BOUND = 2**251


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


def verify(row: ReserveRow) -> str:
    parse_felt(row.address)
    raise Unsupported("Starknet signatures are not implemented yet")
