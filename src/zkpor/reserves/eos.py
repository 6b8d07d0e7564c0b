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
import json
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


def _signed_keys(row: ReserveRow) -> list[tuple[str, str]]:
    """(key text, signature) pairs: one key, or OKX's two-key form `{"publicKey1": …, "publicKey2": …}`
    in the public key column with signature1 and signature2."""
    text = row.script_or_key.strip()
    if not text.startswith("{"):
        if row.signature2:
            raise Rejected("two signatures but one public key")
        return [(text, row.signature1)]
    try:
        keys = json.loads(text)
    except ValueError:
        raise Rejected("public key column is neither an EOS key nor JSON of publicKey1/publicKey2") from None
    if not isinstance(keys, dict) or set(keys) != {"publicKey1", "publicKey2"}:
        raise Rejected("two-key EOS rows need exactly publicKey1 and publicKey2")
    if keys["publicKey1"] == keys["publicKey2"]:
        raise Rejected("publicKey1 and publicKey2 are the same key")
    return [(str(keys["publicKey1"]), row.signature1), (str(keys["publicKey2"]), row.signature2)]


def _framing_signed(key_text: str, signature: str, message: str) -> str:
    r, s, recid = parse_signature(signature)
    expected = parse_public_key(key_text)
    for label, data in framings(message):
        if hmac.compare_digest(compressed(recover(sha256(data), r, s, recid, allow_high_s=False)), expected):
            return label
    raise Rejected(f"signature is not by public key {key_text}")


def verify(row: ReserveRow) -> str:
    address_is_key = row.address.startswith(("EOS", "PUB_K1_"))
    if not address_is_key and not _ACCOUNT_NAME.fullmatch(row.address):
        raise Rejected("address is neither an EOS account name nor an EOS public key")
    if address_is_key:
        if row.script_or_key and parse_public_key(row.script_or_key) != parse_public_key(row.address):
            raise Rejected("the public key column is not the address's key")
        return f"EOS K1 ({_framing_signed(row.address, row.signature1, row.message)})"
    if not row.script_or_key:
        raise Rejected("EOS rows need the account's public key in the public key column")
    signed = _signed_keys(row)
    labels = sorted({_framing_signed(key, signature, row.message) for key, signature in signed})
    keys = ",".join(key for key, _ in signed)
    subject = f"keys {keys} (both signed)" if len(signed) > 1 else f"key {keys}"
    raise KeyNotLinked(
        f"signature valid for {subject} ({', '.join(labels)}); whether that controls account "
        f"{row.address} is in the account's permissions (get_account): give them with "
        "--eos-accounts FILE or --rpc eos=URL",
        (row.address, keys, f"EOS K1 ({', '.join(labels)})"),
    )


def key_authority(account: object, name: str, keys: list[bytes]) -> str:
    """How `keys` (one, or the distinct keys that signed) together control account `name`, from that
    account's `get_account` answer.

    Their weights in the account's owner or active permission must add up to its threshold; keys of
    delegated accounts (`accounts` in the authority) are not followed. Raises Rejected.
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
        weight, matched = 0, set()
        for entry in authority["keys"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("weight"), int) or entry["weight"] < 0:
                continue
            try:
                listed = parse_public_key(str(entry.get("key", "")))
            except Rejected:
                continue  # R1/WebAuthn keys, or junk: never this K1 key
            if listed in matched or not any(hmac.compare_digest(listed, key) for key in keys):
                continue
            matched.add(listed)
            weight += entry["weight"]
        if not matched:
            continue
        where = f"{name}@{permission['perm_name']}"
        if isinstance(threshold, int) and 1 <= threshold <= weight:
            return f"{where} (weight {weight} of threshold {threshold})"
        short.append(f"{where} (weight {weight} of threshold {threshold})")
    subject = "the key alone does" if len(keys) == 1 else "the signing keys together do"
    if short:
        raise Rejected(f"{subject} not satisfy {', '.join(short)}: more signatures would be needed")
    raise Rejected(
        f"{'the key is' if len(keys) == 1 else 'no signing key is'} not in {name}'s owner or active "
        "permission (keys of delegated accounts are not followed)"
    )
