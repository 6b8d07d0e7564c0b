"""A customer's inclusion proof: the file, and its check. Pure Python (no numpy, no numba).

Run it anywhere Python runs, without installing zkpor's heavy dependencies:

    python -m zkpor.liabilities.inclusion my-proof.json [--uid UID] [--global global.json]

The file (format "zkpor-inclusion-v2", JSON, one field per line; docs/inclusion-format.md is the
byte-level specification):

    round_id, snapshot_time, price_decimals, limb_bits, batch_size, batch_count
                 the round statement (`statement.Statement`) …
    assets       … with its assets as [symbol, decimals, bits, price] in the round's order
    uid          the customer's user id
    nonce        64 hex digits: the per-user, per-round nonce (id_hash = H(uid ‖ nonce))
    equity, debt one decimal string per asset, in whole coins (exact: at most `decimals` decimals)
    batch, position   where the leaf sits: batch index, position in the batch
    leaf_path    base64 of the sibling digests (32 bytes each) from the leaf to the batch root
    batch_root   hex digest
    top_path     base64 of the sibling digests from the batch root to the global root
    root         hex digest: the global root

The check recomputes the statement digest from the statement fields, id_hash, the leaf (whose
sponge starts from a capacity derived from the statement digest, `encoding.leaf_hash`), climbs the
leaf path to the batch root and the top path to the global root, and compares them with the file
and, when given, with the round's global.json. Since the batch proofs pin every leaf's capacity to
the statement, a root that matches the published one vouches for every field the file shows: the
round, the snapshot time, the asset labels, decimals and prices, and the balances.
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
    parse_statement,
    read_bounded,
    statement_json,
    top_tree_leaves,
)
from zkpor.liabilities.statement import Statement
from zkpor.round.decimal_text import DecimalTextError, format_units, parse_decimal_units

INCLUSION_FORMAT = "zkpor-inclusion-v2"
OLD_FORMATS = {"zkpor-inclusion-v1": "v1"}
MAX_FILE_BYTES = 64 << 10
MAX_DEPTH = 40  # 2^40 users per batch or batches per round: far past anything real
MAX_UID_BYTES = 128
FIELDS = (
    "format",
    "round_id",
    "snapshot_time",
    "price_decimals",
    "limb_bits",
    "batch_size",
    "batch_count",
    "assets",
    "uid",
    "nonce",
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
    statement: Statement
    uid: str
    nonce: bytes
    equity: tuple[int, ...]  # base units
    debt: tuple[int, ...]
    batch: int
    position: int
    leaf_path: tuple[Digest, ...]
    batch_root: Digest
    top_path: tuple[Digest, ...]
    root: Digest

    @property
    def round_id(self) -> str:
        return self.statement.round_id

    @property
    def assets(self) -> tuple[tuple[str, int], ...]:
        """(symbol, decimals) per asset, as shown to the customer."""
        return tuple((a.symbol, a.decimals) for a in self.statement.assets)

    def to_json(self) -> bytes:
        """One field per line, each value compact: readable, and small."""

        def amounts(values: Sequence[int]) -> list[str]:
            return [format_units(v, d) for v, (_, d) in zip(values, self.assets, strict=True)]

        fields = {
            "format": INCLUSION_FORMAT,
            **statement_json(self.statement, compact=True),
            "uid": self.uid,
            "nonce": self.nonce.hex(),
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
        document = load_json_object(data, source)
        old_format = document.get("format")
        if isinstance(old_format, str) and old_format in OLD_FORMATS:  # a list or an object is unhashable
            raise InputError(
                f"this is a {OLD_FORMATS[old_format]} inclusion proof from an older zkpor (0.1), "
                "which does not bind the round, asset labels or decimals to the root; ask the exchange "
                f"for a new one ({INCLUSION_FORMAT}), or check this one with zkpor 0.1",
                path=source,
                field="format",
            )
        r = JsonFields(document, source, "", FIELDS)
        if r.get("format", str) != INCLUSION_FORMAT:
            raise r.error("format", f"not a {INCLUSION_FORMAT} file")
        statement = parse_statement(r, compact=True)
        uid: str = r.get("uid", str)
        if not 1 <= len(uid.encode()) <= MAX_UID_BYTES:
            raise r.error("uid", f"must be 1–{MAX_UID_BYTES} bytes")
        nonce: str = r.get("nonce", str)
        if not _NONCE.fullmatch(nonce):
            raise r.error("nonce", "must be 64 lower-case hex digits")
        positions = []
        for name in ("batch", "position"):
            positions.append(r.get(name, int))
            if positions[-1] >> MAX_DEPTH:
                raise r.error(name, "out of range")
        return InclusionProof(
            statement,
            uid,
            bytes.fromhex(nonce),
            _amounts(r, "equity", statement),
            _amounts(r, "debt", statement),
            positions[0],
            positions[1],
            _path(r, "leaf_path"),
            r.digest("batch_root"),
            _path(r, "top_path"),
            r.digest("root"),
        )


def _amounts(r: JsonFields, name: str, statement: Statement) -> tuple[int, ...]:
    values = r.get(name, list)
    if len(values) != len(statement.assets):
        raise r.error(name, f"must hold one amount per asset ({len(statement.assets)})")
    out = []
    for asset, text in zip(statement.assets, values, strict=True):
        if not isinstance(text, str):
            raise r.error(f"{name}.{asset.symbol}", "must be a decimal string")
        try:
            units = parse_decimal_units(text, asset.decimals, allow_negative=False)
        except DecimalTextError as error:
            raise r.error(f"{name}.{asset.symbol}", str(error)) from None
        if units >> asset.bits:
            raise r.error(f"{name}.{asset.symbol}", f"amount is over 2^{asset.bits} base units")
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


def verify_inclusion(
    proof: InclusionProof, global_proof: GlobalProof | None = None, *, uid: str | None = None
) -> InclusionCheck:
    """Recompute statement digest, leaf, batch root and global root; raise VerificationError naming
    what differs. With `uid`, also refuse a proof made out for another customer."""
    if uid is not None and proof.uid != uid:
        raise VerificationError(f"inclusion proof is for uid {proof.uid!r}, not {uid!r}")
    statement = proof.statement
    if 1 << len(proof.leaf_path) != statement.batch_size or 1 << len(proof.top_path) != top_tree_leaves(
        statement.batch_count
    ):
        raise VerificationError(
            "inclusion proof: the path lengths do not fit the round's batch size and batch count"
        )
    if proof.position >= statement.batch_size or proof.batch >= statement.batch_count:
        raise VerificationError("inclusion proof: position or batch index is past the end of its tree")
    identity = tuple(encoding.id_hash(proof.uid, proof.nonce))
    leaf = tuple(encoding.leaf_hash(statement.digest(), identity, proof.equity, proof.debt))
    if climb(leaf, proof.position, proof.leaf_path) != proof.batch_root:
        raise VerificationError(
            "inclusion proof: the leaf (round statement, uid, nonce and balances) does not hash up the "
            "leaf path to the batch root: a statement field (round, snapshot, assets, decimals, prices), a "
            "balance, the nonce, the position or a sibling was changed"
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

    difference = proof.statement.first_difference(g.statement)
    if difference:
        name, mine, published = difference
        raise fail(f"{name} is {mine!r} here, {published!r} in global.json")
    if g.batches[proof.batch].root != proof.batch_root:
        raise fail(f"batch {proof.batch}'s root differs")
    if g.root != proof.root:
        raise fail("the global root differs")


def describe(check: InclusionCheck) -> list[str]:
    """What the customer reads: the balances as committed, then what was checked."""
    p = check.proof
    lines = [
        f"Inclusion proof of uid {p.uid} in round {p.round_id} (batch {p.batch}, position {p.position})",
        f"Snapshot {p.statement.snapshot_time}. Balances as committed (whole coins; the round's USD prices):",
    ]
    width = max(len(s) for s, _ in p.assets)
    zero = []
    for asset, equity, debt in zip(p.statement.assets, p.equity, p.debt, strict=True):
        if equity == 0 and debt == 0:
            zero.append(asset.symbol)
            continue
        line = f"  {asset.symbol:<{width}}  equity {format_units(equity, asset.decimals)}"
        line += f"  debt {format_units(debt, asset.decimals)}" if debt else ""
        lines.append(line + f"  @ {asset.price} USD")
    if zero:
        lines.append(f"  {', '.join(zero)}: 0" if len(zero) <= 6 else f"  the other {len(zero)} assets: 0")
    lines += [
        f"leaf        {digest_hex(check.leaf)}",
        f"batch root  {digest_hex(p.batch_root)}",
        f"root        {digest_hex(p.root)}",
        f"Checked: the leaf from the round statement, uid, nonce and balances; its path of "
        f"{len(p.leaf_path)} nodes to the batch root; the top path of {len(p.top_path)} nodes to the root.",
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
    """`python -m zkpor.liabilities.inclusion PROOF [--uid UID] [--global GLOBAL]`: exit 0 if it checks."""
    parser = argparse.ArgumentParser(
        prog="python -m zkpor.liabilities.inclusion",
        description="Check a zkpor inclusion proof (pure Python).",
        epilog="Example: python -m zkpor.liabilities.inclusion me.json --uid 8405227119 --global global.json",
    )
    parser.add_argument("proof", help="the inclusion proof file from the exchange")
    parser.add_argument("--uid", help="your user id: refuse a proof made out for anyone else")
    parser.add_argument("--global", dest="global_json", help="the round's published global.json")
    args = parser.parse_args(argv)
    try:
        proof = load_inclusion_proof(args.proof)
        global_proof = load_global(args.global_json) if args.global_json else None
        check = verify_inclusion(proof, global_proof, uid=args.uid)
    except ZkporError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(describe(check)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
