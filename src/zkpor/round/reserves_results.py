"""A `zkpor reserves` output folder, read back for publishing: results.csv (one verdict per address
row) and sums.json (verified reserves per asset and network).

Publishing trusts neither file blindly: the per-asset and per-network sums are rebuilt from
results.csv and must equal sums.json exactly, and the folder must name the liabilities proof it was
run against (round id and root), which `publish` compares with the proof it has just verified.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from zkpor.errors import InputError, VerificationError, not_utf8_error
from zkpor.liabilities.published import MAX_JSON_BYTES, load_json_object, read_bounded
from zkpor.reserves.ratios import RECORD_FORMAT

RESULTS_NAME = "results.csv"  # the names zkpor.reserves.audit writes
SUMS_NAME = "sums.json"
RECORD_NAME = "liabilities-verification.json"  # which proof files the liabilities verifier read
STATUSES = ("verified", "failed", "unsupported")
REASONS_PER_CHAIN = 6  # distinct reasons shown per chain and status; the rest are counted


@dataclass(frozen=True)
class ChainCheck:
    """How the address rows of one network fared."""

    network: str
    counts: dict[str, int]  # status -> rows
    reasons: list[tuple[str, str, int]]  # (status, reason, rows), most frequent first
    other_reasons: int = 0  # rows whose reason is not among `reasons`


@dataclass(frozen=True)
class ReservesResults:
    directory: Path
    verified: dict[str, Decimal]  # asset -> verified reserves, whole coins, exact
    by_network: dict[str, dict[str, Decimal]]  # asset -> network -> verified reserves
    chains: list[ChainCheck]
    rows: int
    liabilities_round_id: str | None
    liabilities_root: str | None
    files: dict[str, Path] = field(default_factory=dict)  # public name -> source file


def load_reserves_results(directory: str | Path) -> ReservesResults:
    """Read and cross-check a reserves output folder; any inconsistency is an error naming the file."""
    directory = Path(directory)
    results_path, sums_path = directory / RESULTS_NAME, directory / SUMS_NAME
    for path in (results_path, sums_path):
        if not path.is_file():
            raise InputError(
                "missing: run `zkpor reserves RESERVES.csv --liabilities ROUND_DIR/proof "
                f"--out {directory}` first",
                path=path,
            )
    sums = _read_sums(sums_path)
    try:
        verified, by_network, chains, rows = _sum_results(results_path)
    except UnicodeDecodeError:
        raise not_utf8_error(results_path) from None
    except csv.Error as error:
        raise InputError(f"unreadable CSV: {error}", path=results_path) from None
    _compare_sums(sums_path, sums, verified, by_network)
    round_id, root = _liabilities_binding(sums)
    files = {f"reserves/{RESULTS_NAME}": results_path, f"reserves/{SUMS_NAME}": sums_path}
    record_path = directory / RECORD_NAME
    if record_path.exists():
        _check_record(record_path, round_id, root)
        files[f"reserves/{RECORD_NAME}"] = record_path
    return ReservesResults(directory, verified, by_network, chains, rows, round_id, root, files)


def _check_record(path: Path, round_id: str | None, root: str | None) -> None:
    """The verification record `zkpor reserves` wrote beside the results is published with them: it
    must be one, for the same proof the sums name."""
    record = load_json_object(read_bounded(path, MAX_JSON_BYTES), str(path))
    if record.get("format") != RECORD_FORMAT:
        raise InputError(f"not a verification record (format {RECORD_FORMAT})", path=path)
    if (record.get("round_id"), record.get("root")) != (round_id, root):
        raise VerificationError(
            f"{path}: records the proof of round {record.get('round_id')!r}, root {record.get('root')!r}; "
            f"sums.json names round {round_id!r}, root {root!r}"
        )


def _read_sums(path: Path) -> dict:
    document = load_json_object(read_bounded(path, MAX_JSON_BYTES), str(path))
    if not isinstance(document.get("assets"), dict):
        raise InputError("expected a JSON object with an 'assets' object", path=path)
    return document


def _decimal(text: str, path: Path, line: int, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputError(f"not a decimal number: {text!r}", path=path, line=line, field=name) from None
    if not value.is_finite() or value < 0:
        raise InputError(f"not a non-negative amount: {text!r}", path=path, line=line, field=name)
    return value


def _sum_results(
    path: Path,
) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]], list[ChainCheck], int]:
    """Verified sums per asset and network, and per-network verdicts, rebuilt from results.csv.

    A verified row counts its chain balance when one was matched, else its declared amount, as
    `zkpor reserves` counts it."""
    verified: dict[str, Decimal] = {}
    by_network: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, Counter[str]] = {}
    reasons: dict[str, Counter[tuple[str, str]]] = {}
    rows = 0
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        needed = {"asset", "network", "amount", "status", "balance", "chain_balance", "reason"}
        missing = needed - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"missing columns {', '.join(sorted(missing))}", path=path, line=1)
        for record in reader:
            rows += 1
            line = reader.line_num
            status = record["status"]
            if status not in STATUSES:
                raise InputError(f"unknown status {status!r}", path=path, line=line, field="status")
            network = record["network"] or "(unknown network)"
            counts.setdefault(network, Counter())[status] += 1
            if status != "verified":
                reasons.setdefault(network, Counter())[(status, record["reason"] or "(no reason given)")] += 1
                continue
            # As `zkpor reserves` counts a verified row: the chain's balance when one was read and
            # matched, else the declared amount; a row with neither counts nothing.
            column = "chain_balance" if record["balance"] == "matched" else "amount"
            amount = _decimal(record[column], path, line, column) if record[column] else Decimal(0)
            asset = record["asset"]
            verified[asset] = verified.get(asset, Decimal(0)) + amount
            per_network = by_network.setdefault(asset, {})
            per_network[network] = per_network.get(network, Decimal(0)) + amount
    chains = []
    for network in sorted(counts):
        ranked = sorted(reasons.get(network, Counter()).items(), key=lambda item: (-item[1], item[0]))
        shown = [(status, reason, n) for (status, reason), n in ranked[:REASONS_PER_CHAIN]]
        rest = sum(n for _, n in ranked[REASONS_PER_CHAIN:])
        chains.append(ChainCheck(network, {s: counts[network][s] for s in STATUSES}, shown, rest))
    return verified, by_network, chains, rows


def _compare_sums(
    path: Path,
    sums: dict,
    verified: dict[str, Decimal],
    by_network: dict[str, dict[str, Decimal]],
) -> None:
    stated = sums["assets"]
    for asset in sorted(set(stated) | set(verified)):
        entry = stated.get(asset)
        if not isinstance(entry, dict):
            raise VerificationError(f"{path}: results.csv has verified {asset} rows that sums.json omits")
        try:
            total = Decimal(str(entry.get("verified", "0")))
            networks = {k: Decimal(str(v["verified"])) for k, v in (entry.get("networks") or {}).items()}
        except (InvalidOperation, AttributeError, KeyError, TypeError):
            raise InputError("not decimal amounts", path=path, field=f"assets.{asset}") from None
        if total != verified.get(asset, Decimal(0)):
            raise VerificationError(
                f"{path}: assets.{asset}.verified says {total}; the verified rows of results.csv sum to "
                f"{verified.get(asset, Decimal(0))}"
            )
        rebuilt = {k: v for k, v in by_network.get(asset, {}).items() if v}
        if {k: v for k, v in networks.items() if v} != rebuilt:
            raise VerificationError(
                f"{path}: assets.{asset}.networks differs from the verified rows of results.csv"
            )


def _liabilities_binding(sums: dict) -> tuple[str | None, str | None]:
    """The (round id, root) of the verified liabilities proof `zkpor reserves --liabilities` used."""
    ratios = sums.get("ratios")
    section = ratios.get("liabilities") if isinstance(ratios, dict) else None
    if isinstance(section, dict):
        round_id, root = section.get("round_id"), section.get("root")
        if isinstance(round_id, str) and isinstance(root, str):
            return round_id, root
    return None, None


def check_round_reserves(
    reserves_csv: Path,
    balances_csv: Path | None,
    proof_dir: Path,
    out_dir: Path,
    *,
    message: str | None = None,
    workers: int | None = None,
) -> ReservesResults:
    """What `zkpor reserves RESERVES.csv --balances B --liabilities PROOF_DIR --out OUT` does: verify
    the liabilities proof, check every row (signatures, balances against the snapshot file), and write
    OUT/results.csv, sums.json (with the ratios and the proof they came from) and the verification
    record."""
    from zkpor.reserves.audit import audit_reserves
    from zkpor.reserves.balances import SnapshotBalances
    from zkpor.reserves.ratios import load_liabilities

    owed = load_liabilities(proof_dir)
    sources = SnapshotBalances(balances_csv) if balances_csv is not None else None
    audit_reserves(
        reserves_csv, out_dir, liabilities=owed, balances=sources, message=message, workers=workers
    )
    return load_reserves_results(out_dir)
