"""One proof-of-assets check from a reserves file to its output folder — what `zkpor reserves` and
`zkpor publish` both run: every row checked (engine.py), the sums, and with a verified proof of
liabilities the reserve ratios and the record of which proof files were verified.

OUT/results.csv   one line per row (engine.RESULT_COLUMNS)
OUT/sums.json     the summary (tally.Summary.to_json) and, with liabilities, "ratios"
OUT/liabilities-verification.json   the SHA-256 of every liabilities file verified (ratios.py)

Every file is written atomically. The liabilities are loaded by the caller first, so a proof that
does not verify stops the check before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkpor.reserves.engine import verify_reserves, write_atomically_json
from zkpor.reserves.ratios import ProvenLiabilities, RatioReport, reserve_ratios
from zkpor.reserves.tally import Summary

RESULTS_NAME = "results.csv"
SUMS_NAME = "sums.json"
RECORD_NAME = "liabilities-verification.json"


@dataclass(frozen=True)
class Audit:
    summary: Summary
    ratios: RatioReport | None
    liabilities: ProvenLiabilities | None
    out_dir: Path

    def document(self) -> dict:
        """What sums.json holds."""
        extra = {"ratios": self.ratios.to_json()} if self.ratios is not None else {}
        return self.summary.to_json() | extra


def audit_reserves(
    reserves_csv: str | Path,
    out_dir: str | Path,
    *,
    liabilities: ProvenLiabilities | None = None,
    **check: Any,
) -> Audit:
    """Check `reserves_csv` (`check` are `verify_reserves`' options) and write OUT_DIR's files."""
    out_dir = Path(out_dir)
    summary = verify_reserves(reserves_csv, out_dir / RESULTS_NAME, **check)
    ratios = None
    if liabilities is not None:
        ratios = reserve_ratios(
            summary.verified_by_asset(), liabilities.net, liabilities.prices, liabilities.to_json()
        )
        write_atomically_json(out_dir / RECORD_NAME, liabilities.verification_record())
    audit = Audit(summary, ratios, liabilities, out_dir)
    write_atomically_json(out_dir / SUMS_NAME, audit.document())
    return audit
