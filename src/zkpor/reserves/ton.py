"""TON: an address is the hash of a wallet contract's initial state; signatures are ed25519.

A TON account address is `workchain:hash`, where `hash` is the representation hash of the StateInit
cell the wallet was deployed with: its code cell (the wallet contract, identical for every wallet of a
version) and its data cell (seqno 0, a wallet id, the owner's public key, ...). So an address can be
checked against a public key by rebuilding the StateInit of each standard wallet for that key and
comparing hashes; there is no other link between the two.

Cells (TVM spec, tvm.pdf §3.1; docs.ton.org "Cells"): up to 1023 data bits and 4 references. The
representation hash of an ordinary cell is

    sha256(d1 ‖ d2 ‖ data padded with a completion tag ‖ depth(child) (2 bytes each) ‖ hash(child) ...)

with d1 = number of references (+8 if exotic, +32·level), d2 = ⌊bits/8⌋ + ⌈bits/8⌉, and the completion
tag a single 1 bit followed by zeros up to a whole byte when the bit count is not a multiple of 8. A
parent needs only the hash and depth of each child, so the wallet code is embedded as (hash, depth)
instead of a parsed BOC. StateInit (block.tlb) is `split_depth:(Maybe ...) special:(Maybe ...)
code:(Maybe ^Cell) data:(Maybe ^Cell) library:(HashmapE ...)`, i.e. the five bits 0 0 1 1 0 and two
references.

User-friendly addresses are base64 (url-safe or standard) of 36 bytes: flags (0x11 bounceable, 0x51
non-bounceable, +0x80 testnet), the workchain as a signed byte, the hash, and CRC16-XModem of the first
34 bytes. The bounce flag only tells senders how to send; both forms name the same account.

What is signed: OKX's published rows sign `varstr("OKX Signed Message:\\n") ‖ varstr(message)` with the
wallet's ed25519 key (okx/proof-of-reserves, common/hash.go HashEd25519Msg); the raw message is
accepted too (see framing.py). TON Connect `ton_proof` and `signData` bind a domain and a timestamp
that the published layout has no column for, so they are not accepted.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zkpor.reserves.framing import decode_blob, verify_ed25519_framed
from zkpor.reserves.hashing import sha256
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rows import ReserveRow

BASECHAIN, MASTERCHAIN = 0, -1
MAINNET_GLOBAL_ID = -239  # the network id wallet v5 mixes into its wallet id
DEFAULT_WALLET_ID = 698983191  # v3/v4 default subwallet id (+ workchain, as the wallet SDKs do)

_BOUNCEABLE, _NON_BOUNCEABLE, _TESTNET = 0x11, 0x51, 0x80
_RAW_ADDRESS = re.compile(r"(-?[0-9]{1,3}):([0-9a-fA-F]{64})")


# --- cells ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellRef:
    """What a parent cell's hash needs of a child: its representation hash and depth."""

    hash: bytes
    depth: int


class Bits:
    """A cell's data bits, built front to back (big-endian, as TL-B stores integers)."""

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def uint(self, value: int, width: int) -> Bits:
        if not 0 <= value < 1 << width:
            raise ValueError(f"{value} does not fit in {width} unsigned bits")
        self.value = (self.value << width) | value
        self.length += width
        return self

    def bit(self, flag: bool) -> Bits:
        return self.uint(int(flag), 1)

    def raw(self, data: bytes) -> Bits:
        return self.uint(int.from_bytes(data, "big"), 8 * len(data))


def ordinary_cell(bits: Bits, refs: Sequence[CellRef] = ()) -> CellRef:
    """Hash and depth of an ordinary level-0 cell (all the cells a wallet's StateInit is made of)."""
    if bits.length > 1023 or len(refs) > 4:
        raise ValueError("a cell holds at most 1023 bits and 4 references")
    length, value = bits.length, bits.value
    if length % 8:
        pad = 8 - length % 8  # completion tag: one 1 bit, then zeros to the byte boundary
        value, length = (value << pad) | (1 << (pad - 1)), length + pad
    descriptors = bytes([len(refs), bits.length // 8 + (bits.length + 7) // 8])
    depths = b"".join(ref.depth.to_bytes(2, "big") for ref in refs)
    digest = sha256(
        descriptors + value.to_bytes(length // 8, "big") + depths + b"".join(ref.hash for ref in refs)
    )
    return CellRef(digest, 1 + max(ref.depth for ref in refs) if refs else 0)


def state_init(code: CellRef, data: CellRef) -> CellRef:
    """StateInit with code and data and nothing else: no split depth, not special, no libraries."""
    return ordinary_cell(Bits().bit(0).bit(0).bit(1).bit(1).bit(0), (code, data))


# --- standard wallets ----------------------------------------------------------------------------

# Code cells as (representation hash, depth). Computed from the code BOCs published as constants in
# xssnick/tonutils-go (ton/wallet/v3.go, v4r2.go, v5r1.go, highloadv3.go); the hashes are the
# well-known code hashes of these contracts (e.g. v4r2 /rX/aCDi/w2Ug+fg1iyBfYRniftK5YDIeIZtlZ2r1cA=).
# The tests derive published addresses from published keys with them, which checks hash and depth.
_CODE = {
    "v3r1": CellRef(bytes.fromhex("b61041a58a7980b946e8fb9e198e3c904d24799ffa36574ea4251c41a566f581"), 0),
    "v3r2": CellRef(bytes.fromhex("84dafa449f98a6987789ba232358072bc0f76dc4524002a5d0918b9a75d2d599"), 0),
    "v4r2": CellRef(bytes.fromhex("feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0"), 7),
    "v5r1": CellRef(bytes.fromhex("20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f"), 6),
    "highload-v3": CellRef(
        bytes.fromhex("11acad7955844090f283bf238bc1449871f783e7cc0979408d3f4859483e8525"), 6
    ),
}

# Highload v3 has no default wallet id or message timeout; these are the values OKX's verifier
# derives (okx/proof-of-reserves common/verify.go: subwallet 4269, MessageTTL 12 h), and the highload
# address in OKX's example file is derived from them.
OKX_HIGHLOAD_SUBWALLET = 4269
OKX_HIGHLOAD_TIMEOUT = 60 * 60 * 12


def _v3_data(key: bytes, workchain: int) -> Bits:
    # seqno:uint32 wallet_id:uint32 public_key:bits256
    return Bits().uint(0, 32).uint(DEFAULT_WALLET_ID + workchain, 32).raw(key)


def _v4_data(key: bytes, workchain: int) -> Bits:
    # as v3, then plugins:(HashmapE ...) — one 0 bit for the empty dictionary
    return _v3_data(key, workchain).bit(0)


def v5_wallet_id(workchain: int, network_global_id: int = MAINNET_GLOBAL_ID, subwallet: int = 0) -> int:
    """Wallet v5's id: a client context (1 bit set, workchain int8, version 0 uint8, subwallet uint15)
    XOR the network's global id, both as 32-bit words."""
    context = (1 << 31) | ((workchain & 0xFF) << 23) | (0 << 15) | subwallet
    return context ^ (network_global_id & 0xFFFFFFFF)


def _v5_data(key: bytes, workchain: int) -> Bits:
    # is_signature_allowed:bool seqno:uint32 wallet_id:uint32 public_key:bits256 extensions:(HashmapE ...)
    return Bits().bit(1).uint(0, 32).uint(v5_wallet_id(workchain), 32).raw(key).bit(0)


def _highload_v3_data(key: bytes, workchain: int) -> Bits:
    # public_key:bits256 subwallet_id:uint32 old_queries:(HashmapE) queries:(HashmapE)
    # last_clean_time:uint64 timeout:uint22 — both dictionaries empty, never cleaned
    return Bits().raw(key).uint(OKX_HIGHLOAD_SUBWALLET, 32).uint(0, 2 + 64).uint(OKX_HIGHLOAD_TIMEOUT, 22)


@dataclass(frozen=True, slots=True)
class Wallet:
    name: str
    code: CellRef
    data: Callable[[bytes, int], Bits]

    def address_hash(self, public_key: bytes, workchain: int) -> bytes:
        return state_init(self.code, ordinary_cell(self.data(public_key, workchain))).hash


WALLETS = (
    Wallet("v4r2", _CODE["v4r2"], _v4_data),
    Wallet("v5r1", _CODE["v5r1"], _v5_data),
    Wallet("v3r2", _CODE["v3r2"], _v3_data),
    Wallet("highload-v3", _CODE["highload-v3"], _highload_v3_data),
    Wallet("v3r1", _CODE["v3r1"], _v3_data),
)
WALLET_NAMES = ", ".join(wallet.name for wallet in WALLETS)


# --- addresses -----------------------------------------------------------------------------------


def crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        crc &= 0xFFFF
    return crc


def encode_address(workchain: int, account: bytes, *, bounceable: bool = True) -> str:
    body = bytes([_BOUNCEABLE if bounceable else _NON_BOUNCEABLE, workchain & 0xFF]) + account
    return base64.urlsafe_b64encode(body + crc16_xmodem(body).to_bytes(2, "big")).decode()


def parse_address(text: str) -> tuple[int, bytes]:
    """(workchain, account hash) of a raw `wc:hex` or user-friendly mainnet address."""
    text = text.strip()
    if ":" in text:
        raw = _RAW_ADDRESS.fullmatch(text)
        if raw is None:
            raise Rejected("invalid raw TON address (want workchain:64 hex digits)")
        workchain, account = int(raw[1]), bytes.fromhex(raw[2])
    else:
        if len(text) != 48:
            raise Rejected("a TON address is 48 base64 characters or workchain:hex")
        try:
            raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise Rejected("TON address is not base64") from None
        body, crc = raw[:34], raw[34:]
        if not hmac.compare_digest(crc16_xmodem(body).to_bytes(2, "big"), crc):
            raise Rejected("TON address checksum (CRC16) does not match")
        if body[0] & _TESTNET:
            raise Rejected("a testnet TON address (wrong network)")
        if body[0] not in (_BOUNCEABLE, _NON_BOUNCEABLE):
            raise Rejected(f"unknown TON address flags 0x{body[0]:02x}")
        workchain, account = int.from_bytes(body[1:2], "big", signed=True), body[2:]
    if workchain not in (BASECHAIN, MASTERCHAIN):
        raise Rejected(f"workchain {workchain} has no standard wallets (only 0 and -1)")
    return workchain, account


def canonical(chain: object, text: str) -> str:
    return raw_address(text)


def raw_address(text: str) -> str:
    """The `wc:hex` form, the one both flag variants of an address share (for duplicate checks)."""
    workchain, account = parse_address(text)
    return f"{workchain}:{account.hex()}"


def wallet_of(public_key: bytes, workchain: int, account: bytes) -> Wallet:
    """The standard wallet of `public_key` deployed at `workchain:account`; raises Rejected if none."""
    for wallet in WALLETS:
        if hmac.compare_digest(wallet.address_hash(public_key, workchain), account):
            return wallet
    # Say what went wrong when the key's wallet is in the other workchain.
    other = MASTERCHAIN if workchain == BASECHAIN else BASECHAIN
    for wallet in WALLETS:
        if hmac.compare_digest(wallet.address_hash(public_key, other), account):
            raise Rejected(
                f"this is the key's wallet {wallet.name} hash for workchain {other}, "
                f"but the address says workchain {workchain}"
            )
    raise Rejected(
        f"public key does not derive this address as any standard wallet ({WALLET_NAMES}, default wallet "
        "ids); another contract or wallet id would need the account's on-chain code and data"
    )


def verify(row: ReserveRow) -> str:
    workchain, account = parse_address(row.address)
    if not row.script_or_key:
        raise Rejected("TON rows need the wallet's ed25519 public key in the public key column")
    if row.signature2:
        raise Rejected("two signatures for a single-key wallet")
    key = decode_blob(row.script_or_key, what="public key", sizes=(32,))
    wallet = wallet_of(key, workchain, account)
    signature = decode_blob(row.signature1, what="signature", sizes=(64,))
    return f"TON wallet {wallet.name} ed25519 ({verify_ed25519_framed(key, signature, row.message)})"
