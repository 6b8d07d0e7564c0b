"""Reserve ratios: per asset, verified reserves ÷ customer net liabilities, with USD values — exact.

Liabilities come only from a proof of liabilities that verifies (DESIGN.md: "never from a summary
file taken on trust"): `load_liabilities` takes a round's proof folder (`ROUND_DIR/proof`, a round
directory, or a published folder holding global.json), runs the liabilities verifier on it, and
returns the proven per-asset net totals with the round id, root and snapshot time they belong to.
A verification is expensive on a large round, so it can be *recorded*: `verification_record()` lists
the SHA-256 of every file the verifier read, and a later run given that record accepts the folder
without verifying again only if exactly those files, byte for byte, are there. Anything else — a
bare summary.json, a hand-written totals file, a folder that does not verify — is refused.

Every number is a Fraction: sums and USD values print exactly; ratios print rounded down (see
exact.py), and "below 100 %" is decided on the exact ratio.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from zkpor.errors import InputError, VerificationError
from zkpor.liabilities.published import MAX_JSON_BYTES, GlobalProof, digest_hex, read_bounded
from zkpor.reserves.exact import decimal_text, percent_text

RECORD_FORMAT = "zkpor-liabilities-verification-v1"
PERCENT_PLACES = 2  # shown; the JSON also carries the exact fraction and 6 places


class Requirements(NamedTuple):
    """What the liabilities verifier is asked to demand (as `zkpor verify` does)."""

    min_security_bits: int = 100  # conjectured bits
    min_proven_bits: int = 0
    allow_non_zk: bool = False  # accept proofs without zero knowledge (they leak balances)

    def at_least(self, asked: Requirements) -> bool:
        """True when a verification made under these requirements also satisfies `asked`."""
        return (
            self.min_security_bits >= asked.min_security_bits
            and self.min_proven_bits >= asked.min_proven_bits
            and (asked.allow_non_zk or not self.allow_non_zk)
        )

    @classmethod
    def from_json(cls, document: object, source: Path) -> Requirements:
        fields = cls._fields
        if not isinstance(document, dict) or set(document) != set(fields):
            raise InputError(
                f"verification record needs 'requirements' with {', '.join(fields)}", path=source
            )
        kinds = (int, int, bool)
        if not all(type(document[name]) is kind for name, kind in zip(fields, kinds, strict=True)):
            raise InputError("verification record: malformed 'requirements'", path=source)
        return cls(**document)


DEFAULT_REQUIREMENTS = Requirements()


@dataclass(frozen=True)
class ProvenLiabilities:
    """Net liabilities (whole coins) and USD prices of a round whose proof verified."""

    round_id: str
    root: str  # hex, the number customers compare
    snapshot_time: str
    net: dict[str, Fraction]  # symbol -> equity − debt in whole coins (may be negative)
    prices: dict[str, Fraction]  # symbol -> USD per whole coin, as global.json pins it
    files: dict[str, str]  # path relative to the proof folder -> SHA-256 hex of what was verified
    requirements: Requirements  # what the verification demanded
    security: str
    how: str  # "verified" or "recorded verification (FILE)"

    def to_json(self) -> dict:
        """What the outputs record: which round, root and snapshot the ratios used, and how."""
        return {
            "round_id": self.round_id,
            "root": self.root,
            "snapshot_time": self.snapshot_time,
            "how": self.how,
            "security": self.security,
            "files": self.files,
        }

    def verification_record(self) -> dict:
        return {
            "format": RECORD_FORMAT,
            "round_id": self.round_id,
            "root": self.root,
            "snapshot_time": self.snapshot_time,
            "requirements": self.requirements._asdict(),
            "security": self.security,
            "files": self.files,
        }


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path=path) from None


def _proof_dir(path: Path) -> Path:
    from zkpor.liabilities.round_proof import GLOBAL_NAME, proof_dir_of

    if path.is_file() or not path.exists():
        what = "a file" if path.is_file() else "missing"
        raise InputError(
            f"--liabilities needs the round's proof folder (ROUND_DIR/proof or a published folder with "
            f"{GLOBAL_NAME}), which is verified before use; this is {what}. Totals taken on trust from "
            "a summary or a hand-written file are refused",
            path=path,
        )
    proof_dir = proof_dir_of(path)
    if not (proof_dir / GLOBAL_NAME).is_file():
        raise InputError(f"no {GLOBAL_NAME} here or in its proof/ folder", path=path)
    return proof_dir


def _verified_files(proof_dir: Path, g: GlobalProof) -> dict[str, str]:
    """SHA-256 of every file the liabilities verifier reads: global.json, summary.json, the batches."""
    from zkpor.liabilities.round_proof import GLOBAL_NAME, SUMMARY_NAME

    names = [GLOBAL_NAME, SUMMARY_NAME, *(entry.file for entry in g.batches)]
    return {name: _sha256(proof_dir / name) for name in names}


def _proven(g: GlobalProof, totals: list[tuple[int, int]], **rest: object) -> ProvenLiabilities:
    net = {
        asset.symbol.upper(): Fraction(equity - debt, 10**asset.decimals)
        for asset, (equity, debt) in zip(g.assets, totals, strict=True)
    }
    prices = {asset.symbol.upper(): Fraction(asset.price) for asset in g.assets}
    return ProvenLiabilities(g.round_id, digest_hex(g.root), g.snapshot_time, net, prices, **rest)  # type: ignore[arg-type]


def verify_liabilities(
    path: str | Path, requirements: Requirements = DEFAULT_REQUIREMENTS
) -> ProvenLiabilities:
    """Run the liabilities verifier on the proof folder at `path`; the proven net totals.

    Raises VerificationError (or InputError) when anything fails: nothing unverified comes back.
    """
    from zkpor.liabilities.round_proof import verify_round

    proof_dir = _proof_dir(Path(path))
    before = _verified_files(proof_dir, _read_global(proof_dir))
    result = verify_round(proof_dir, **requirements._asdict())
    files = _verified_files(proof_dir, result.global_proof)
    if files != before:  # a file replaced while we verified: what we checked is not what we hashed
        raise VerificationError(f"{proof_dir}: proof files changed during verification; run again")
    return _proven(
        result.global_proof,
        result.totals,
        files=files,
        requirements=requirements,
        security=result.security.describe(),
        how="verified",
    )


def _read_global(proof_dir: Path) -> GlobalProof:
    from zkpor.liabilities.round_proof import GLOBAL_NAME

    path = proof_dir / GLOBAL_NAME
    return GlobalProof.from_json(read_bounded(path, MAX_JSON_BYTES), str(path))


def recorded_liabilities(
    path: str | Path, record_path: str | Path, requirements: Requirements = DEFAULT_REQUIREMENTS
) -> ProvenLiabilities:
    """The proven totals of the proof folder at `path`, vouched for by an earlier verification's
    record instead of verifying again: every file it lists must be there with the same SHA-256, and
    the folder's global.json must list no file the record lacks."""
    proof_dir, record_path = _proof_dir(Path(path)), Path(record_path)
    try:
        record = json.loads(read_bounded(record_path, MAX_JSON_BYTES))
    except ValueError as error:
        raise InputError(f"verification record is not JSON: {error}", path=record_path) from None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise InputError(f"not a verification record (format {RECORD_FORMAT})", path=record_path)
    recorded = record.get("files")
    if not isinstance(recorded, dict):
        raise InputError("verification record needs 'files'", path=record_path)
    made_with = Requirements.from_json(record.get("requirements"), record_path)
    if not made_with.at_least(requirements):
        raise VerificationError(
            f"{record_path}: made with {made_with._asdict()}, weaker than asked {requirements._asdict()}"
        )
    g = _read_global(proof_dir)
    files = _verified_files(proof_dir, g)
    if set(files) != set(recorded):
        extra = sorted(set(files) ^ set(recorded))
        raise VerificationError(
            f"{record_path}: records other files than {proof_dir} has ({', '.join(extra[:3])}); verify again"
        )
    for name, digest in files.items():
        if not isinstance(recorded[name], str) or not hmac.compare_digest(digest, recorded[name]):
            raise VerificationError(
                f"{proof_dir / name}: SHA-256 differs from the verification record {record_path}; "
                "the file changed since it was verified"
            )
    totals = [
        (sum(b.equity[a] for b in g.batches), sum(b.debt[a] for b in g.batches)) for a in range(len(g.assets))
    ]
    return _proven(
        g,
        totals,
        files=files,
        requirements=made_with,
        security=str(record.get("security", "")),
        how=f"recorded verification ({record_path})",
    )


def load_liabilities(
    path: str | Path, requirements: Requirements = DEFAULT_REQUIREMENTS, *, record: str | Path | None = None
) -> ProvenLiabilities:
    """Verify the proof folder at `path`, or accept it on `record` (see `recorded_liabilities`)."""
    if record is not None:
        return recorded_liabilities(path, record, requirements)
    return verify_liabilities(path, requirements)


# ---- ratios ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetRatio:
    asset: str
    reserves: Fraction
    liabilities: Fraction
    ratio: Fraction | None  # None when there are no (positive) liabilities to cover
    price: Fraction | None
    reserves_usd: Fraction | None
    liabilities_usd: Fraction | None

    @property
    def short(self) -> bool:
        """Reserves below 100 % of liabilities, decided exactly: the figure a report must flag."""
        return self.ratio is not None and self.ratio < 1

    def percent(self, places: int = PERCENT_PLACES) -> str:
        """The ratio in percent, rounded down ("n/a" without liabilities)."""
        return "n/a" if self.ratio is None else f"{percent_text(self.ratio, places)} %"


def _text(value: Fraction | None) -> str | None:
    return None if value is None else decimal_text(value)


def _ratio_json(ratio: Fraction | None) -> dict | None:
    if ratio is None:
        return None
    return {
        "exact": f"{ratio.numerator}/{ratio.denominator}",
        "percent": percent_text(ratio, 6),  # rounded down
        "below_100_percent": ratio < 1,
    }


@dataclass(frozen=True)
class RatioReport:
    assets: list[AssetRatio]
    reserves_usd: Fraction
    liabilities_usd: Fraction
    unpriced: list[str]
    liabilities: dict = field(default_factory=dict)  # which proven round the liabilities came from

    @property
    def total_ratio(self) -> Fraction | None:
        return self.reserves_usd / self.liabilities_usd if self.liabilities_usd > 0 else None

    @property
    def short(self) -> list[str]:
        return [a.asset for a in self.assets if a.short]

    def to_json(self) -> dict:
        return {
            "liabilities": self.liabilities,
            "assets": {
                a.asset: {
                    "reserves": decimal_text(a.reserves),
                    "liabilities": decimal_text(a.liabilities),
                    "ratio": _ratio_json(a.ratio),
                    "below_100_percent": a.short,
                    "price_usd": _text(a.price),
                    "reserves_usd": _text(a.reserves_usd),
                    "liabilities_usd": _text(a.liabilities_usd),
                }
                for a in self.assets
            },
            "total": {
                "reserves_usd": decimal_text(self.reserves_usd),
                "liabilities_usd": decimal_text(self.liabilities_usd),
                "ratio": _ratio_json(self.total_ratio),
            },
            "unpriced_assets": self.unpriced,
        }


def reserve_ratios(
    reserves: Mapping[str, Fraction],
    liabilities: Mapping[str, Fraction],
    prices: Mapping[str, Fraction],
    source: dict | None = None,
) -> RatioReport:
    """Ratios for every asset that has reserves or liabilities; USD totals over priced assets only.

    A negative net liability (customers borrowed more than they hold) needs no reserves: its ratio
    is None and its USD liability counts as zero.
    """
    rows, unpriced = [], []
    total_reserves = total_liabilities = Fraction(0)
    for asset in sorted(set(reserves) | set(liabilities)):
        held, owed = Fraction(reserves.get(asset, 0)), Fraction(liabilities.get(asset, 0))
        price = prices.get(asset)
        price = Fraction(price) if price is not None else None
        held_usd = owed_usd = None
        if price is None:
            unpriced.append(asset)
        else:
            held_usd, owed_usd = held * price, max(owed, Fraction(0)) * price
            total_reserves += held_usd
            total_liabilities += owed_usd
        ratio = held / owed if owed > 0 else None
        rows.append(AssetRatio(asset, held, owed, ratio, price, held_usd, owed_usd))
    return RatioReport(rows, total_reserves, total_liabilities, unpriced, source or {})
