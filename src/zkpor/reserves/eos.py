"""EOS: K1 keys (`EOS…` legacy or `PUB_K1_…`) and `SIG_K1_…` signatures over SHA-256 of the data.

Key and signature strings carry a RIPEMD-160 checksum (with the "K1" suffix for the new forms);
signatures must be canonical as eosio requires. An EOS account is a name whose keys live in chain
state (its permissions), so a signature by the listed key proves the key only: the row stays
unsupported, carrying the (account, key) link, until an account source (a snapshot of `get_account`
answers or a node, see accounts.py) shows that the key alone satisfies the account's `owner` or
`active` permission (`key_authority`). A row whose address *is* the key verifies fully.
"""

from __future__ import annotations

import hmac
import re

from zkpor.reserves.codecs import CodecError, b58decode
from zkpor.reserves.framing import framings  # noqa: I001
from zkpor.reserves.hashing import ripemd160, sha256
from zkpor.reserves.outcome import KeyNotLinked, Rejected
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.secp256k1 import compressed, recover


def parse_public_key(text: str) -> bytes:
    if text.startswith("PUB_K1_"):
        body, suffix = text[7:], b"K1"
    elif text.startswith("EOS"):
        body, suffix = text[3:], b""
    else:
        raise Rejected("EOS public key must start with EOS or PUB_K1_")
    try:
        raw = b58decode(body)
    except CodecError as error:
        raise Rejected(f"invalid EOS public key: {error}") from None
    if len(raw) != 37 or not hmac.compare_digest(ripemd160(raw[:33] + suffix)[:4], raw[33:]):
        raise Rejected("invalid EOS public key (length or checksum)")
    return raw[:33]


def encode_public_key(key33: bytes) -> str:
    from zkpor.reserves.codecs import b58encode

    return "PUB_K1_" + b58encode(key33 + ripemd160(key33 + b"K1")[:4])


def parse_signature(text: str) -> tuple[int, int, int]:
    if not text.startswith("SIG_K1_"):
        raise Rejected("EOS signature must start with SIG_K1_")
    try:
        raw = b58decode(text[7:])
    except CodecError as error:
        raise Rejected(f"invalid EOS signature: {error}") from None
    if len(raw) != 69 or not hmac.compare_digest(ripemd160(raw[:65] + b"K1")[:4], raw[65:]):
        raise Rejected("invalid EOS signature (length or checksum)")
    data = raw[:65]
    # eosio's canonical rule: neither r nor s may have its top bit set or a needless leading zero byte.
    if (
        data[1] & 0x80
        or (data[1] == 0 and not data[2] & 0x80)
        or data[33] & 0x80
        or (data[33] == 0 and not data[34] & 0x80)
    ):
        raise Rejected("non-canonical EOS signature")
    if not 27 <= data[0] <= 34:
        raise Rejected("invalid EOS signature recovery byte")
    return int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:65], "big"), (data[0] - 27) & 3


# Account names: up to 12 characters of a-z, 1-5 and '.', not ending in '.'; a 13th may be a-j or 1-5.
_ACCOUNT_NAME = re.compile(r"[a-z1-5.]{0,11}[a-z1-5]|[a-z1-5.]{12}[a-j1-5]")

# Permissions through which a key controls an account's funds; custom permissions are linked to
# particular actions only, so they do not count.
CONTROLLING_PERMISSIONS = ("owner", "active")


def verify(row: ReserveRow) -> str:
    r, s, recid = parse_signature(row.signature1)
    address_is_key = row.address.startswith(("EOS", "PUB_K1_"))
    if not address_is_key and not _ACCOUNT_NAME.fullmatch(row.address):
        raise Rejected("address is neither an EOS account name nor an EOS public key")
    key_text = row.script_or_key or (row.address if address_is_key else "")
    if not key_text:
        raise Rejected("EOS rows need the account's public key in the public key column")
    expected = parse_public_key(key_text)
    if address_is_key and parse_public_key(row.address) != expected:
        raise Rejected("the public key column is not the address's key")
    for label, data in framings(row.message):
        if hmac.compare_digest(compressed(recover(sha256(data), r, s, recid, allow_high_s=False)), expected):
            if address_is_key:
                return f"EOS K1 ({label})"
            raise KeyNotLinked(
                f"signature valid for key {key_text} ({label}); whether it controls account {row.address} "
                "is in the account's permissions (get_account): give them with --eos-accounts FILE or "
                "--rpc eos=URL",
                (row.address, key_text, f"EOS K1 ({label})"),
            )
    raise Rejected("signature is not by this public key")


def key_authority(account: object, name: str, key: bytes) -> str:
    """How `key` alone controls account `name`, from that account's `get_account` answer.

    The key must carry at least the threshold weight of the account's owner or active permission;
    keys of delegated accounts (`accounts` in the authority) are not followed. Raises Rejected.
    """
    if not isinstance(account, dict) or not isinstance(account.get("permissions"), list):
        raise Rejected(f"account data for {name} has no permissions list")
    if account.get("account_name") != name:
        raise Rejected(f"account data is for {account.get('account_name')!r}, not {name}")
    short = []
    for permission in account["permissions"]:
        if not isinstance(permission, dict) or permission.get("perm_name") not in CONTROLLING_PERMISSIONS:
            continue
        authority = permission.get("required_auth")
        if not isinstance(authority, dict) or not isinstance(authority.get("keys"), list):
            continue
        threshold = authority.get("threshold")
        for entry in authority["keys"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("weight"), int):
                continue
            try:
                listed = parse_public_key(str(entry.get("key", "")))
            except Rejected:
                continue  # R1/WebAuthn keys, or junk: never this K1 key
            if not hmac.compare_digest(listed, key):
                continue
            where = f"{name}@{permission['perm_name']}"
            if isinstance(threshold, int) and 1 <= threshold <= entry["weight"]:
                return f"{where} (weight {entry['weight']} of threshold {threshold})"
            short.append(f"{where} (weight {entry['weight']} of threshold {threshold})")
    if short:
        raise Rejected(f"the key alone does not satisfy {', '.join(short)}: more signatures would be needed")
    raise Rejected(
        f"the key is not in {name}'s owner or active permission (keys of delegated accounts are not followed)"
    )
