"""What a round publishes about its liabilities: global.json, the top tree, summary.json.

Pure Python (standard library, Poseidon2, the leaf encoding): a customer's verifier reads global.json
with it, without numpy or numba.

global.json (format "zkpor-global-v2") — everything an auditor needs besides the batch files:

    round_id, snapshot_time, price_decimals        the round statement (`statement`), canonical
    assets          [{symbol, decimals, bits, price, weight}]   price as exact decimal text; weight
                    w_j = price · 10^price_decimals · 10^(D − decimals), checked by the verifier
    limb_bits, batch_size, batch_count             the rest of the statement
    statement_digest  hex: the digest of the statement above, every batch proof's public input
    proof_options   {blowup, num_queries, grinding_bits, fri_folding_log, fri_final_degree,
                     zero_knowledge, hasher}
    batches         [{index, file, root, equity, debt}]  equity/debt: exact per-asset totals of the
                    batch, integers in base units written as decimal strings
    top_tree        {leaves, filler}
    root            hex: the global root, the one number customers compare
    round_proof     (when the round is aggregated) the round proof's file name, "round.zkp": one
                    proof of everything the batch proofs prove (`round_tree`); the batch files are
                    then an optional extra

The top tree is a complete binary tree over the batch roots, padded to a power of two (`leaves`)
with the filler digest ``Poseidon2-sponge("zkpor-empty-batch-v1", [])``, a constant no batch root
can equal; its nodes are `encoding.node_hash(left, right)`, as in the batch trees. With one batch
the global root is that batch's root.

A digest is written as 64 hex characters: its 4 field elements, each as 8 little-endian bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkpor.errors import InputError
from zkpor.hash import poseidon2
from zkpor.liabilities.encoding import node_hash
from zkpor.liabilities.statement import Statement, StatementAsset, utf8_text
from zkpor.round.decimal_text import format_units

GLOBAL_FORMAT = "zkpor-global-v2"
SUMMARY_FORMAT = "zkpor-summary-v2"
TOP_FILLER_DOMAIN = "zkpor-empty-batch-v1"
ROUND_PROOF_FILE = "round.zkp"
MAX_JSON_BYTES = 64 << 20  # 2^20 batches would be far past any round; bounds a hostile file
OPTION_FIELDS = (
    "blowup",
    "num_queries",
    "grinding_bits",
    "fri_folding_log",
    "fri_final_degree",
    "zero_knowledge",
    "hasher",
)
STATEMENT_FIELDS = ("round_id", "snapshot_time", "price_decimals", "limb_bits", "batch_size", "batch_count")
GLOBAL_FIELDS = (
    "format",
    *STATEMENT_FIELDS,
    "assets",
    "statement_digest",
    "proof_options",
    "batches",
    "top_tree",
    "root",
    "round_proof",
)
ASSET_FIELDS = ("symbol", "decimals", "bits", "price", "weight")
BATCH_FIELDS = ("index", "file", "root", "equity", "debt")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_UNSIGNED = re.compile(r"0|[1-9][0-9]{0,77}")

Digest = tuple[int, int, int, int]


# ---- digests and the top tree ----------------------------------------------------------------


def digest_hex(digest: Sequence[int]) -> str:
    return poseidon2.digest_to_bytes(list(digest)).hex()


def parse_digest_hex(text: object) -> Digest | None:
    """The digest written as `text`, or None if it is not 64 lower-case hex digits of a digest."""
    if not isinstance(text, str) or not _HEX_DIGEST.fullmatch(text):
        return None
    try:
        return tuple(poseidon2.digest_from_bytes(bytes.fromhex(text)))  # type: ignore[return-value]
    except ValueError:
        return None


def top_filler() -> Digest:
    return tuple(poseidon2.sponge_hash(TOP_FILLER_DOMAIN, []))  # type: ignore[return-value]


def top_tree_leaves(batch_count: int) -> int:
    return 1 << max(0, (batch_count - 1).bit_length())


def top_tree_leaf_digests(batch_roots: Sequence[Sequence[int]]) -> list[Digest]:
    """The top tree's leaves: the batch roots, then the filler up to `top_tree_leaves`."""
    level: list[Digest] = [tuple(r) for r in batch_roots]  # type: ignore[misc]
    return level + [top_filler()] * (top_tree_leaves(len(level)) - len(level))


def top_tree_levels(batch_roots: Sequence[Sequence[int]]) -> list[list[Digest]]:
    """Level 0 is the padded batch roots, the last level is [global root]."""
    level = top_tree_leaf_digests(batch_roots)
    levels = [level]
    while len(level) > 1:
        level = [tuple(node_hash(level[i], level[i + 1])) for i in range(0, len(level), 2)]  # type: ignore[misc]
        levels.append(level)
    return levels


def tree_path(levels: Sequence[Sequence[Digest]], index: int) -> list[Digest]:
    """Sibling digests from the leaf `index` up to (not including) the root."""
    path = []
    for level in levels[:-1]:
        path.append(level[index ^ 1])
        index >>= 1
    return path


def climb(leaf: Sequence[int], index: int, path: Sequence[Sequence[int]]) -> Digest:
    """The root a leaf at `index` reaches along `path` (siblings bottom-up)."""
    node = list(leaf)
    for sibling in path:
        node = node_hash(node, sibling) if index % 2 == 0 else node_hash(sibling, node)
        index >>= 1
    return tuple(node)  # type: ignore[return-value]


# ---- global.json -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchEntry:
    index: int
    file: str
    root: Digest
    equity: tuple[int, ...]  # per asset, base units
    debt: tuple[int, ...]


# ---- the statement in JSON ---------------------------------------------------------------------


def statement_json(statement: Statement, *, compact: bool = False) -> dict[str, Any]:
    """The statement's fields for a JSON file: global.json lists assets as objects with their
    weight (for people), an inclusion proof as compact [symbol, decimals, bits, price] arrays."""
    document: dict[str, Any] = {name: getattr(statement, name) for name in STATEMENT_FIELDS}
    if compact:
        document["assets"] = [[a.symbol, a.decimals, a.bits, a.price] for a in statement.assets]
    else:
        document["assets"] = [
            {"symbol": a.symbol, "decimals": a.decimals, "bits": a.bits, "price": a.price, "weight": w}
            for a, w in zip(statement.assets, statement.weights, strict=True)
        ]
    return document


def parse_statement(r: JsonFields, *, compact: bool = False) -> Statement:
    """The statement of a global.json (objects) or inclusion proof (compact arrays); every field
    canonical, every weight the one its price gives. Errors name the field."""
    assets = []
    raw_assets = r.get("assets", list)
    if not 1 <= len(raw_assets) <= 256:
        raise r.error("assets", "must list 1–256 assets")
    weights = []
    for i, raw in enumerate(raw_assets):
        if compact:
            if not (isinstance(raw, list) and len(raw) == 4 and isinstance(raw[0], str)
                    and type(raw[1]) is int and type(raw[2]) is int and isinstance(raw[3], str)):  # fmt: skip
                raise r.error(f"assets[{i}]", "must be [symbol, decimals, bits, price]")
            assets.append(StatementAsset(*raw))
            continue
        a = JsonFields(raw, r.source, r.where(f"assets[{i}]"), ASSET_FIELDS)
        assets.append(StatementAsset(a.get("symbol", str), a.get("decimals", int), a.get("bits", int),
                                     a.get("price", str)))  # fmt: skip
        weights.append(a.get("weight", int))
    values = [r.get(name, str if name in ("round_id", "snapshot_time") else int) for name in STATEMENT_FIELDS]
    statement = Statement(values[0], values[1], values[2], tuple(assets), *values[3:])
    problem = next(statement.problems(), None)
    if problem:
        raise r.error(problem[0], problem[1])
    for i, (stated, derived) in enumerate(zip(weights, statement.weights, strict=False)):
        if stated != derived:
            a = assets[i]
            raise r.error(
                f"assets[{i}].weight", f"is {stated}, but {a.symbol}'s price and decimals give {derived}"
            )
    return statement


# ---- global.json -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GlobalProof:
    statement: Statement
    proof_options: dict[str, Any]
    statement_digest: Digest
    batches: tuple[BatchEntry, ...]
    top_leaves: int
    root: Digest
    round_proof: str | None = None  # the round proof's file (relative), when the round is aggregated

    @property
    def round_id(self) -> str:
        return self.statement.round_id

    @property
    def snapshot_time(self) -> str:
        return self.statement.snapshot_time

    @property
    def assets(self) -> tuple[StatementAsset, ...]:
        return self.statement.assets

    @property
    def symbols(self) -> list[str]:
        return self.statement.symbols

    @property
    def batch_size(self) -> int:
        return self.statement.batch_size

    @property
    def batch_count(self) -> int:
        return self.statement.batch_count

    @property
    def limb_bits(self) -> int:
        return self.statement.limb_bits

    def to_json(self) -> bytes:
        document = {
            "format": GLOBAL_FORMAT,
            **statement_json(self.statement),
            "statement_digest": digest_hex(self.statement_digest),
            "proof_options": self.proof_options,
            "batches": [
                {
                    "index": b.index,
                    "file": b.file,
                    "root": digest_hex(b.root),
                    "equity": [str(v) for v in b.equity],
                    "debt": [str(v) for v in b.debt],
                }
                for b in self.batches
            ],
            "top_tree": {"leaves": self.top_leaves, "filler": digest_hex(top_filler())},
            "root": digest_hex(self.root),
        }
        if self.round_proof is not None:
            document["round_proof"] = self.round_proof
        return json_text(document)

    @staticmethod
    def from_json(data: bytes, source: str) -> GlobalProof:
        """Parse and check the shape of a global.json; any problem is an InputError naming the field."""
        doc = load_json_object(data, source)
        fmt = doc.get("format")
        if fmt == "zkpor-global-v1":
            raise InputError(
                "this is a v1 global.json from an older zkpor (its statement does not pin decimals, "
                "prices or the snapshot time); re-prove the round with this zkpor, or verify it with "
                "zkpor 0.1",
                path=source,
                field="format",
            )
        r = JsonFields(doc, source, "", GLOBAL_FIELDS)
        if r.get("format", str) != GLOBAL_FORMAT:
            raise InputError(f"not a {GLOBAL_FORMAT} file", path=source, field="format")
        statement = parse_statement(r)
        if r.digest("statement_digest") != statement.digest():
            raise r.error("statement_digest", "is not the digest of the statement this file lists")
        n_assets = len(statement.assets)
        options = r.get("proof_options", dict)
        for name in OPTION_FIELDS:
            JsonFields(options, source, "proof_options", OPTION_FIELDS).get(
                name, {"zero_knowledge": bool, "hasher": str}.get(name, int)
            )
        batches = []
        for i, raw in enumerate(r.get("batches", list)):
            b = JsonFields(raw, source, f"batches[{i}]", BATCH_FIELDS)
            equity, debt = b.amounts("equity", n_assets), b.amounts("debt", n_assets)
            batches.append(
                BatchEntry(b.get("index", int), b.get("file", str), b.digest("root"), equity, debt)
            )
        top = JsonFields(r.get("top_tree", dict), source, "top_tree", ("leaves", "filler"))
        round_proof = r.get("round_proof", str) if "round_proof" in doc else None
        if round_proof is not None and round_proof != ROUND_PROOF_FILE:
            raise r.error("round_proof", f"the round proof is {ROUND_PROOF_FILE!r}, not {round_proof!r}")
        proof = GlobalProof(
            statement,
            options,
            statement.digest(),
            tuple(batches),
            top.get("leaves", int),
            r.digest("root"),
            round_proof,
        )
        if proof.batch_count != len(batches):
            raise InputError(
                f"batch_count is {proof.batch_count} but {len(batches)} batches are listed",
                path=source,
                field="batch_count",
            )
        for i, b in enumerate(batches):
            if b.index != i:
                raise InputError(
                    f"batch {i} is listed with index {b.index}", path=source, field=f"batches[{i}].index"
                )
        if proof.top_leaves != top_tree_leaves(proof.batch_count):
            raise InputError(
                "the top tree's size does not fit the batch count", path=source, field="top_tree.leaves"
            )
        if top.digest("filler") != top_filler():
            raise InputError(
                "the top tree's filler is not the documented one", path=source, field="top_tree.filler"
            )
        return proof


def json_text(document: object) -> bytes:
    """JSON for people and diffs: one field per line, but short lists and flat objects on one line."""

    def flat(value: object) -> bool:
        if isinstance(value, list):
            return all(not isinstance(v, dict | list) for v in value)
        if isinstance(value, dict):
            return all(not isinstance(v, dict | list) for v in value.values())
        return True

    def dump(value: object, indent: str) -> str:
        if flat(value):
            return json.dumps(value, ensure_ascii=False)
        inner = indent + "  "
        if isinstance(value, dict):
            items = [f"{inner}{json.dumps(k)}: {dump(v, inner)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + f"\n{indent}}}"
        assert isinstance(value, list)
        return "[\n" + ",\n".join(inner + dump(v, inner) for v in value) + f"\n{indent}]"

    return (dump(document, "") + "\n").encode()


def read_bounded(path: str | Path, limit: int) -> bytes:
    """A file's bytes, refusing (InputError) a missing, unreadable or oversized file."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path=path) from None
    if len(data) > limit:
        raise InputError(f"file is larger than {limit} bytes", path=path)
    return data


def load_json_object(data: bytes, source: str) -> dict[str, Any]:
    """A JSON object from `data`, or an InputError naming `source`."""
    if len(data) > MAX_JSON_BYTES:
        raise InputError("file is too large", path=source)
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=source) from None
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON: {error.msg}", path=source, line=error.lineno) from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise InputError("not valid JSON: an integer has too many digits", path=source) from None
    except RecursionError:
        raise InputError("not valid JSON: nested too deeply", path=source) from None
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object", path=source)
    return doc


class JsonFields:
    """Typed field access on a parsed JSON object; errors name the file and the field path."""

    def __init__(self, obj: object, source: str, prefix: str = "", fields: tuple[str, ...] = ()) -> None:
        if not isinstance(obj, dict):
            raise InputError("expected a JSON object", path=source, field=prefix or None)
        self.obj, self.source, self.prefix = obj, source, prefix
        unknown = [key for key in obj if key not in fields]
        if unknown:  # strict: a field we do not know is a file we do not understand
            raise InputError("unknown field", path=source, field=self.where(unknown[0]))

    def where(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, message: str) -> InputError:
        return InputError(message, path=self.source, field=self.where(key))

    def get(self, key: str, kind: type) -> Any:
        if key not in self.obj:
            raise InputError("missing", path=self.source, field=self.where(key))
        value = self.obj[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InputError(
                f"must be {kind.__name__}, not {type(value).__name__}",
                path=self.source,
                field=self.where(key),
            )
        if kind is int and not 0 <= value < 1 << 64:
            raise InputError(f"{value} is out of range", path=self.source, field=self.where(key))
        if kind is str and not utf8_text(value):
            raise InputError("not valid Unicode (a lone surrogate)", path=self.source, field=self.where(key))
        return value

    def digest(self, key: str) -> Digest:
        value = parse_digest_hex(self.get(key, str))
        if value is None:
            raise InputError(
                "not a digest (64 lower-case hex digits, canonical elements)",
                path=self.source,
                field=self.where(key),
            )
        return value

    def amounts(self, key: str, count: int) -> tuple[int, ...]:
        values = self.get(key, list)
        if len(values) != count or not all(isinstance(v, str) and _UNSIGNED.fullmatch(v) for v in values):
            raise InputError(
                f"expected {count} non-negative integers written as strings",
                path=self.source,
                field=self.where(key),
            )
        return tuple(int(v) for v in values)


# ---- summary.json ------------------------------------------------------------------------------


def summary_document(
    g: GlobalProof,
    totals: Sequence[tuple[int, int]],
    security: Mapping[str, int],
    proof_bytes: int,
    round_proof: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """summary.json (format "zkpor-summary-v2"): the round's headline figures, in whole coins.

    The prover writes it and the verifier rebuilds it from the proofs and compares field by field:
    every number is the proven limb totals read at the proven statement's decimals and prices.
    `users_rounded_up` is batch_count · batch_size: the real count is only revealed to that precision.
    `security` is the weakest batch's bits (`SecurityLevel.as_dict`) — with a round proof, the
    weakest level of the stack, and `round_proof` says {file, bytes, top ("node", or "batch" for a
    round of one batch), nodes_per_level, security per level}; `proof_bytes` is then the round
    proof's size (what an auditor downloads)."""
    return {
        "format": SUMMARY_FORMAT,
        "round_id": g.round_id,
        "snapshot_time": g.snapshot_time,
        "statement_digest": digest_hex(g.statement_digest),
        "root": digest_hex(g.root),
        "users_rounded_up": g.batch_count * g.batch_size,
        "batch_size": g.batch_size,
        "batch_count": g.batch_count,
        "assets": [
            {
                "symbol": a.symbol,
                "decimals": a.decimals,
                "price": a.price,
                "equity": format_units(equity, a.decimals),
                "debt": format_units(debt, a.decimals),
                "net": format_units(equity - debt, a.decimals),
            }
            for a, (equity, debt) in zip(g.assets, totals, strict=True)
        ],
        "security": dict(security),
        "proof_options": g.proof_options,
        "proof_bytes": proof_bytes,
        **({"round_proof": dict(round_proof)} if round_proof is not None else {}),
    }


def first_difference(expected: object, actual: object, path: str = "") -> tuple[str, object, object] | None:
    """(field path, expected, actual) of the first place two JSON values differ, or None."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in list(expected) + [k for k in actual if k not in expected]:
            where = f"{path}.{key}" if path else str(key)
            if key not in actual or key not in expected:
                return where, expected.get(key, "(absent)"), actual.get(key, "(absent)")
            found = first_difference(expected[key], actual[key], where)
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            label = e.get("symbol", i) if isinstance(e, dict) else i
            found = first_difference(e, a, f"{path}[{label}]")
            if found:
                return found
        return None
    if type(expected) is not type(actual) or expected != actual:
        return path, expected, actual
    return None
