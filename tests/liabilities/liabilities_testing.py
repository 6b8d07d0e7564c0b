"""Helpers for the round-level liabilities tests (tests/liabilities is on sys.path)."""

from __future__ import annotations

import shutil
from pathlib import Path

from zkpor.liabilities.round_proof import ProveReport, load_secret, prove_round
from zkpor.round.generate import generate_round
from zkpor.stark.params import ProofOptions

# Far below 100 bits: the tests check logic, not security (verify with min_security_bits=0).
CHEAP = ProofOptions(
    blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4, zero_knowledge=True
)
SMALL_BATCH = 32  # the smallest batch for 22 assets: 32 users × 8 rows = the 2^8-row range table


def make_round(directory: Path, users: int, seed: int = 1) -> bytes:
    """A generated 22-asset round with its exchange secret; returns the secret."""
    generate_round(directory, users, seed)
    secret, _ = load_secret(directory / "exchange.secret", create=True)
    return secret


def prove_small(directory: Path, secret: bytes, **kwargs: object) -> ProveReport:
    kwargs.setdefault("batch_size", SMALL_BATCH)
    return prove_round(directory, secret, CHEAP, **kwargs)  # type: ignore[arg-type]


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


