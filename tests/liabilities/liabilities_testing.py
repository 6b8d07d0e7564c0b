"""Helpers for the round-level liabilities tests (tests/liabilities is on sys.path)."""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from zkpor.liabilities.published import GlobalProof, digest_hex, json_text
from zkpor.liabilities.round_proof import ProveReport, RoundVerification, prove_round, verify_round
from zkpor.liabilities.round_tree import TreeOptions
from zkpor.liabilities.secret import default_secret_path, load_secret
from zkpor.liabilities.statement import Statement, StatementAsset
from zkpor.round.config import load_round_config
from zkpor.round.decimal_text import format_units
from zkpor.round.generate import generate_round
from zkpor.stark.params import ProofOptions

# Far below 100 bits: the tests check logic, not security (verify with min_security_bits=0).
CHEAP = ProofOptions(
    blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4, zero_knowledge=True
)
# The round proof's tree at the same cheap options, zero-knowledge at every level as by default.
CHEAP_TREE = TreeOptions(
    batch=replace(CHEAP, hasher="poseidon2"), inner=replace(CHEAP, hasher="poseidon2"), top=CHEAP
)
SMALL_BATCH = 32  # the smallest batch for 22 assets: 32 users × 8 rows = the 2^8-row range table


def make_round(directory: Path, users: int, seed: int = 1) -> bytes:
    """A generated 22-asset round with its exchange secret where `zkpor prove` looks for it by
    default (per test: tests/conftest.py sets XDG_CONFIG_HOME); returns the secret."""
    generate_round(directory, users, seed)
    secret, _ = load_secret(round_secret_path(directory), create=True)
    return secret


def round_secret_path(directory: Path) -> Path:
    return default_secret_path(load_round_config(directory / "round.toml").round_id)


def prove_small(directory: Path, secret: bytes, **kwargs: object) -> ProveReport:
    """Batch proofs only unless `aggregate=True` (then give `tree`: cheap tree options)."""
    kwargs.setdefault("batch_size", SMALL_BATCH)
    kwargs.setdefault("aggregate", False)
    return prove_round(directory, secret, CHEAP, **kwargs)  # type: ignore[arg-type]


def public_folder(round_dir: Path, target: Path) -> Path:
    """What an auditor downloads of an aggregated round: global.json, summary.json and round.zkp."""
    target.mkdir(parents=True)
    for name in ("global.json", "summary.json", "round.zkp"):
        shutil.copy(round_dir / "proof" / name, target / name)
    return target


def verify_cheap(path: Path, **kwargs: object) -> RoundVerification:
    """`verify_round` of a round proven at the tests' cheap options (far below 100 bits)."""
    return verify_round(path, min_security_bits=0, **kwargs)  # type: ignore[arg-type]


def edit_round_header(data: bytes, edit: Callable[[dict], dict | bytes]) -> bytes:
    """round.zkp with its JSON header replaced by `edit(header)` (the payload unchanged)."""
    magic, version, length = struct.unpack_from("<8sHI", data)
    edited = edit(json.loads(data[14 : 14 + length]))
    text = edited if isinstance(edited, bytes) else json.dumps(edited).encode()
    return struct.pack("<8sHI", magic, version, len(text)) + text + data[14 + length :]


def copy_round(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def append_user_line(directory: Path, fields: dict[str, str]) -> int:
    """Append a user to users.csv (unlisted columns are 0); returns the line number it landed on."""
    path = directory / "users.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    lines.append(",".join(fields.get(column, "0") for column in header))
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def restate(proof_dir: Path, change: Callable[[dict], None]) -> None:
    """Apply `change` to global.json's statement, then make the file and summary.json consistent
    with it: weights, statement digest, and every whole-coin figure read at the restated decimals."""
    path = proof_dir / "global.json"
    document = json.loads(path.read_text())
    change(document)
    assets = tuple(StatementAsset(a["symbol"], a["decimals"], a["bits"], a["price"])
                   for a in document["assets"])  # fmt: skip
    statement = Statement(*(document[k] for k in ("round_id", "snapshot_time", "price_decimals")), assets,
                          *(document[k] for k in ("limb_bits", "batch_size", "batch_count")))  # fmt: skip
    for entry, weight in zip(document["assets"], statement.weights, strict=True):
        entry["weight"] = weight
    document["statement_digest"] = digest_hex(statement.digest())
    path.write_bytes(json_text(document))
    g = GlobalProof.from_json(path.read_bytes(), str(path))
    summary = json.loads((proof_dir / "summary.json").read_text())
    summary.update(round_id=g.round_id, snapshot_time=g.snapshot_time,
                   statement_digest=document["statement_digest"])  # fmt: skip
    for entry, asset in zip(summary["assets"], g.assets, strict=True):
        equity = sum(b.equity[g.symbols.index(asset.symbol)] for b in g.batches)
        debt = sum(b.debt[g.symbols.index(asset.symbol)] for b in g.batches)
        entry.update(symbol=asset.symbol, decimals=asset.decimals, price=asset.price,
                     equity=format_units(equity, asset.decimals), debt=format_units(debt, asset.decimals),
                     net=format_units(equity - debt, asset.decimals))  # fmt: skip
    (proof_dir / "summary.json").write_bytes(json_text(summary))


def every_decimals_plus_one(g: dict) -> None:
    for asset in g["assets"]:
        asset["decimals"] += 1  # weights unchanged: D − decimals is the same for every asset
