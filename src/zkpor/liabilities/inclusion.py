"""A customer's inclusion proof: the file, and its check. Pure Python (no numpy, no numba).

Run it anywhere Python runs, without installing zkpor's heavy dependencies:

    python -m zkpor.liabilities.inclusion my-proof.json [--global global.json]

The file (format "zkpor-inclusion-v1", JSON, one field per line, under 2 KB for 22 assets):

    round_id     the round
    uid          the customer's user id
    nonce        64 hex digits: the per-user, per-round nonce (id_hash = H(uid ‖ nonce))
    assets       [[symbol, decimals], …] in the round's order
    equity, debt one decimal string per asset, in whole coins (exact: at most `decimals` decimals)
    batch, position   where the leaf sits: batch index, position in the batch
    leaf_path    base64 of the sibling digests (32 bytes each) from the leaf to the batch root
    batch_root   hex digest
    top_path     base64 of the sibling digests from the batch root to the global root
    root         hex digest: the global root

The check recomputes id_hash, the leaf (`encoding.leaf_hash`), climbs the leaf path to the batch
root and the top path to the global root, and compares them with the file and, when given, with
the round's global.json (round id, asset list, tree depths, the batch's root, the global root).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.liabilities import encoding
from zkpor.liabilities.published import (
    MAX_JSON_BYTES,
    Digest,
    GlobalProof,
    JsonFields,
    climb,
    digest_hex,
    load_json_object,
    parse_digest_hex,
    read_bounded,
)
from zkpor.round.decimal_text import DecimalTextError, format_units, parse_decimal_units

INCLUSION_FORMAT = "zkpor-inclusion-v1"
MAX_FILE_BYTES = 64 << 10
MAX_DEPTH = 40  # 2^40 users per batch or batches per round: far past anything real
MAX_UID_BYTES = 128
MAX_AMOUNT = (1 << 63) - 1  # round.toml caps every asset at 63 bits
FIELDS = (
    "format",
    "round_id",
    "uid",
    "nonce",
    "assets",
    "equity",
    "debt",
    "batch",
    "position",
    "leaf_path",
    "batch_root",
    "top_path",
    "root",
)
_NONCE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class InclusionProof:
    round_id: str
    uid: str
    nonce: bytes
    assets: tuple[tuple[str, int], ...]  # (symbol, decimals)
    equity: tuple[int, ...]  # base units
    debt: tuple[int, ...]
    batch: int
    position: int
    leaf_path: tuple[Digest, ...]
    batch_root: Digest
    top_path: tuple[Digest, ...]
    root: Digest

    def to_json(self) -> bytes:
        """One field per line, each value compact: readable, and small."""

        def amounts(values: Sequence[int]) -> list[str]:
            return [format_units(v, d) for v, (_, d) in zip(values, self.assets, strict=True)]

        fields = {
            "format": INCLUSION_FORMAT,
            "round_id": self.round_id,
            "uid": self.uid,
            "nonce": self.nonce.hex(),
            "assets": [list(a) for a in self.assets],
            "equity": amounts(self.equity),
            "debt": amounts(self.debt),
            "batch": self.batch,
            "position": self.position,
            "leaf_path": _path_text(self.leaf_path),
            "batch_root": digest_hex(self.batch_root),
            "top_path": _path_text(self.top_path),
            "root": digest_hex(self.root),
        }
        lines = [
            f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'), ensure_ascii=False)}"
            for k, v in fields.items()
        ]
        return ("{\n" + ",\n".join(lines) + "\n}\n").encode()

    @staticmethod
    def from_json(data: bytes, source: str) -> InclusionProof:
        """Parse strictly; any problem is an InputError naming the file and the field."""
        if len(data) > MAX_FILE_BYTES:
            raise InputError("too large for an inclusion proof", path=source)
        r = JsonFields(load_json_object(data, source), source, "", FIELDS)
        if r.get("format", str) != INCLUSION_FORMAT:
            raise r.error("format", f"not a {INCLUSION_FORMAT} file")
        uid: str = r.get("uid", str)
        if not 1 <= len(uid.encode()) <= MAX_UID_BYTES:
            raise r.error("uid", f"must be 1–{MAX_UID_BYTES} bytes")
        nonce: str = r.get("nonce", str)
        if not _NONCE.fullmatch(nonce):
            raise r.error("nonce", "must be 64 lower-case hex digits")
        assets = [_asset(r, i, entry) for i, entry in enumerate(r.get("assets", list))]
        if not 1 <= len(assets) <= 256:
            raise r.error("assets", "must list 1–256 assets")
        positions = []
        for name in ("batch", "position"):
            positions.append(r.get(name, int))
            if positions[-1] >> MAX_DEPTH:
                raise r.error(name, "out of range")
        return InclusionProof(
            r.get("round_id", str),
            uid,
            bytes.fromhex(nonce),
            tuple(assets),
            _amounts(r, "equity", assets),
            _amounts(r, "debt", assets),
            positions[0],
            positions[1],
            _path(r, "leaf_path"),
            r.digest("batch_root"),
            _path(r, "top_path"),
            r.digest("root"),
        )


def _asset(r: JsonFields, i: int, entry: object) -> tuple[str, int]:
    if not (
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and type(entry[1]) is int
        and 0 <= entry[1] <= 18
    ):
        raise r.error(f"assets[{i}]", "must be [symbol, decimals] with decimals 0..18")
    return entry[0], entry[1]


def _amounts(r: JsonFields, name: str, assets: list[tuple[str, int]]) -> tuple[int, ...]:
    values = r.get(name, list)
    if len(values) != len(assets):
        raise r.error(name, f"must hold one amount per asset ({len(assets)})")
    out = []
    for (symbol, decimals), text in zip(assets, values, strict=True):
        if not isinstance(text, str):
            raise r.error(f"{name}.{symbol}", "must be a decimal string")
        try:
            units = parse_decimal_units(text, decimals, allow_negative=False)
        except DecimalTextError as error:
            raise r.error(f"{name}.{symbol}", str(error)) from None
        if units > MAX_AMOUNT:
            raise r.error(f"{name}.{symbol}", "amount is over 2^63 base units")
        out.append(units)
    return tuple(out)


def _path(r: JsonFields, name: str) -> tuple[Digest, ...]:
    try:
        raw = base64.b64decode(r.get(name, str), validate=True)
    except (binascii.Error, ValueError):
        raise r.error(name, "not base64") from None
    if len(raw) % 32 or len(raw) // 32 > MAX_DEPTH:
        raise r.error(name, f"must be at most {MAX_DEPTH} digests of 32 bytes")
    digests = [parse_digest_hex(raw[i : i + 32].hex()) for i in range(0, len(raw), 32)]
    if any(d is None for d in digests):
        raise r.error(name, "holds a non-canonical digest")
    return tuple(d for d in digests if d is not None)


def _path_text(path: Sequence[Sequence[int]]) -> str:
    return base64.b64encode(b"".join(bytes.fromhex(digest_hex(d)) for d in path)).decode()


@dataclass(frozen=True)
class InclusionCheck:
    proof: InclusionProof
    id_hash: Digest
    leaf: Digest
    against_global: bool


def verify_inclusion(proof: InclusionProof, global_proof: GlobalProof | None = None) -> InclusionCheck:
    """Recompute leaf, batch root and global root; raise VerificationError naming what differs."""
    identity = tuple(encoding.id_hash(proof.uid, proof.nonce))
    leaf = tuple(encoding.leaf_hash(identity, proof.equity, proof.debt))
    if proof.position >> len(proof.leaf_path) or proof.batch >> len(proof.top_path):
        raise VerificationError("inclusion proof: position or batch index is past the end of its tree")
    if climb(leaf, proof.position, proof.leaf_path) != proof.batch_root:
        raise VerificationError(
            "inclusion proof: the leaf (uid, nonce and balances) does not hash up the leaf path to the "
            "batch root: a balance, the nonce, the position or a sibling was changed"
        )
    if climb(proof.batch_root, proof.batch, proof.top_path) != proof.root:
        raise VerificationError(
            "inclusion proof: the batch root does not hash up the top path to the global root: "
            "the batch index, a sibling of the top path or the root was changed"
        )
    if global_proof is not None:
        _compare_with_global(proof, global_proof)
    return InclusionCheck(proof, identity, leaf, global_proof is not None)  # type: ignore[arg-type]


def _compare_with_global(proof: InclusionProof, g: GlobalProof) -> None:
    def fail(what: str) -> VerificationError:
        return VerificationError(f"inclusion proof does not match global.json: {what}")

    if proof.round_id != g.round_id:
        raise fail(f"round {proof.round_id!r} vs {g.round_id!r}")
    if list(proof.assets) != [(a.symbol, a.decimals) for a in g.assets]:
        raise fail("the asset lists (symbols, decimals) differ")
    if 1 << len(proof.leaf_path) != g.batch_size or 1 << len(proof.top_path) != g.top_leaves:
        raise fail("the path lengths do not fit the round's batch size and batch count")
    if proof.batch >= g.batch_count:
        raise fail(f"batch {proof.batch} is past the round's {g.batch_count} batches")
    if g.batches[proof.batch].root != proof.batch_root:
        raise fail(f"batch {proof.batch}'s root differs")
    if g.root != proof.root:
        raise fail("the global root differs")


def describe(check: InclusionCheck) -> list[str]:
    """What the customer reads: the balances as committed, then what was checked."""
    p = check.proof
    lines = [
        f"Inclusion proof of uid {p.uid} in round {p.round_id} (batch {p.batch}, position {p.position})",
        "Balances as committed (whole coins):",
    ]
    width = max(len(s) for s, _ in p.assets)
    zero = []
    for (symbol, decimals), equity, debt in zip(p.assets, p.equity, p.debt, strict=True):
        if equity == 0 and debt == 0:
            zero.append(symbol)
            continue
        line = f"  {symbol:<{width}}  equity {format_units(equity, decimals)}"
        lines.append(line + (f"  debt {format_units(debt, decimals)}" if debt else ""))
    if zero:
        lines.append(f"  {', '.join(zero)}: 0" if len(zero) <= 6 else f"  the other {len(zero)} assets: 0")
    lines += [
        f"leaf        {digest_hex(check.leaf)}",
        f"batch root  {digest_hex(p.batch_root)}",
        f"root        {digest_hex(p.root)}",
        f"Checked: the leaf from uid, nonce and balances; its path of {len(p.leaf_path)} nodes to the batch "
        f"root; the top path of {len(p.top_path)} nodes to the root.",
    ]
    if check.against_global:
        lines.append("OK: the balances above are a leaf under the round's published root (global.json).")
    else:
        lines.append(
            "OK: the balances above are a leaf under this root. Compare it with the root the "
            "exchange published (summary.json), or pass --global global.json."
        )
    return lines


def load_inclusion_proof(path: str | Path) -> InclusionProof:
    return InclusionProof.from_json(read_bounded(path, MAX_FILE_BYTES), str(path))


def load_global(path: str | Path) -> GlobalProof:
    return GlobalProof.from_json(read_bounded(path, MAX_JSON_BYTES), str(path))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m zkpor.liabilities.inclusion PROOF [--global GLOBAL]`: exit 0 when it checks out."""
    parser = argparse.ArgumentParser(
        prog="python -m zkpor.liabilities.inclusion",
        description="Check a zkpor inclusion proof (pure Python).",
        epilog="Example: python -m zkpor.liabilities.inclusion me.json --global global.json",
    )
    parser.add_argument("proof", help="the inclusion proof file from the exchange")
    parser.add_argument("--global", dest="global_json", help="the round's published global.json")
    args = parser.parse_args(argv)
    try:
        proof = load_inclusion_proof(args.proof)
        global_proof = load_global(args.global_json) if args.global_json else None
        check = verify_inclusion(proof, global_proof)
    except ZkporError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(describe(check)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
