"""The round's report as data (report.json), built from a verified liabilities proof, the checked
reserves results and the earlier rounds in the history store. `zkpor.report` renders it.

Exact throughout: amounts are Decimals or integers, ratios are Fractions until they are written, and
a ratio is written rounded *down* (`ratio`, 6 decimals) next to its exact value (`ratio_exact`,
"numerator/denominator"), so a shortfall of 0.0001 % never reads as 100 %.

USD liabilities count only assets whose customer net is positive: an asset customers owe the exchange
in aggregate (e.g. borrowed USDT) needs no reserves, and its debt is not counted as an asset.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from zkpor.liabilities.published import digest_hex
from zkpor.round.decimal_text import format_units
from zkpor.round.history import AssetFigures, RoundRecord, relative_change, year_earlier_of
from zkpor.round.reserves_results import ReservesResults

if TYPE_CHECKING:  # the prover's module (numba) is not needed to read a verification's results
    from zkpor.liabilities.round_proof import RoundVerification

REPORT_FORMAT = "zkpor-report-v1"
RATIO_PLACES = 6

NOT_COVERED = [
    "Liabilities other than customer balances (loans, payables, obligations to other parties) are not "
    "part of the proof.",
    "A signature proves that the exchange controls a key, not that no one else does, nor that the funds "
    "are free of pledges or loans.",
    "Reserves are counted at the snapshot heights only; movements before or after are not covered.",
    "Assets held off-chain (bank deposits, other custodians) are not counted.",
    "Rows whose signature failed or could not be checked count for nothing, whatever they declare.",
    "Customer debt (an asset whose net balance is negative) is not counted as a reserve.",
    "USD values use the prices pinned in the round's statement, not a market feed.",
]


@dataclass(frozen=True)
class AssetLine:
    symbol: str
    decimals: int
    price: Decimal
    equity: int  # base units
    debt: int
    reserves: Decimal  # whole coins
    by_network: dict[str, Decimal]

    @property
    def net(self) -> int:
        return self.equity - self.debt

    @property
    def owed(self) -> Fraction:
        """Net liabilities in whole coins, never below zero."""
        return Fraction(max(self.net, 0), 10**self.decimals)

    @property
    def ratio(self) -> Fraction | None:
        return Fraction(self.reserves) / self.owed if self.owed else None


def ratio_fields(ratio: Fraction | None) -> dict[str, str | None]:
    """A ratio as report.json writes it: rounded down to RATIO_PLACES decimals, and exactly."""
    if ratio is None:
        return {"ratio": None, "ratio_exact": None}
    return {
        "ratio": str(floor_decimal(ratio, RATIO_PLACES)),
        "ratio_exact": f"{ratio.numerator}/{ratio.denominator}",
    }


def floor_decimal(value: Fraction, places: int) -> Decimal:
    return Decimal(math.floor(value * 10**places)).scaleb(-places)


def exact_decimal(value: Fraction) -> Decimal:
    """A fraction with a power-of-ten denominator (products of prices and amounts) as an exact Decimal."""
    with decimal.localcontext() as context:
        context.prec = 200
        context.traps[decimal.Inexact] = True
        return Decimal(value.numerator) / Decimal(value.denominator)


def _change(earlier: Decimal | int | None, now: Decimal | int) -> str | None:
    if earlier is None:
        return None
    change = relative_change(earlier, now)
    return None if change is None else str(change)


def _zero_knowledge(verification: RoundVerification) -> bool:
    """Every proof has it: the batches' options and, with a round proof, every level of its tree
    (inner nodes too: a stack is zero-knowledge only if each of its levels is)."""
    rp = verification.round_proof
    batches = bool(verification.global_proof.proof_options["zero_knowledge"])
    if rp is None:
        return batches
    return batches and all(options.zero_knowledge for options in rp.round_proof.stack_options().values())


def build_report(
    verification: RoundVerification,
    reserves: ReservesResults,
    earlier: list[RoundRecord],
    published_at: datetime,
) -> dict[str, Any]:
    """report.json for the round `verification` proved; `earlier`: recorded rounds before it, oldest first."""
    g = verification.global_proof
    lines = [
        AssetLine(
            asset.symbol,
            asset.decimals,
            Decimal(asset.price),
            equity,
            debt,
            reserves.verified.get(asset.symbol, Decimal(0)),
            reserves.by_network.get(asset.symbol, {}),
        )
        for asset, (equity, debt) in zip(g.assets, verification.totals, strict=True)
    ]
    reserves_usd = sum((Fraction(a.reserves) * Fraction(a.price) for a in lines), Fraction(0))
    liabilities_usd = sum((a.owed * Fraction(a.price) for a in lines), Fraction(0))
    previous = earlier[-1] if earlier else None
    year_back = year_earlier_of(_parse_time(g.snapshot_time), earlier)
    total_ratio = reserves_usd / liabilities_usd if liabilities_usd else None
    covered = {a.symbol for a in lines}
    options = g.proof_options
    return {
        "format": REPORT_FORMAT,
        "round_id": g.round_id,
        "snapshot_time": g.snapshot_time,
        "published_at": published_at.isoformat().replace("+00:00", "Z"),
        "totals": {
            "reserves_usd": str(exact_decimal(reserves_usd)),
            "liabilities_usd": str(exact_decimal(liabilities_usd)),
            **ratio_fields(total_ratio),
            "change_vs_previous": _usd_change(previous, reserves_usd, liabilities_usd),
            "change_vs_year_earlier": _usd_change(year_back, reserves_usd, liabilities_usd),
        },
        "assets": [_asset_entry(a, previous, year_back) for a in lines],
        "uncovered_reserves": sorted(set(reserves.verified) - covered),
        "proof": {
            "root": digest_hex(g.root),
            "users_rounded_up": g.batch_count * g.batch_size,
            "batch_count": g.batch_count,
            "batch_size": g.batch_size,
            "conjectured_security_bits": verification.security.conjectured_bits,
            "proven_security_bits": verification.security.proven_bits,
            "proof_bytes": verification.proof_bytes,
            "zero_knowledge": _zero_knowledge(verification),
            "blowup": options["blowup"],
            "queries": options["num_queries"],
            "grinding_bits": options["grinding_bits"],
            "verified": True,
            "verification_seconds": round(verification.seconds, 3),
            "round_proof": verification.round_proof is not None,  # one proof of every batch (round.zkp)
            # what round.zkp is: "node" (a tree's top node) or "batch" (a round of one batch: its proof)
            "round_proof_top": verification.round_proof.round_proof.top if verification.round_proof else None,
        },
        "addresses": {
            "rows": reserves.rows,
            "liabilities_round_id": reserves.liabilities_round_id,
            "liabilities_root": reserves.liabilities_root,
            "chains": [
                {
                    "network": chain.network,
                    **chain.counts,
                    "reasons": [{"status": s, "reason": r, "rows": n} for s, r, n in chain.reasons],
                    "other_reasons": chain.other_reasons,
                }
                for chain in reserves.chains
            ],
        },
        "history": _history(earlier, g.round_id, g.snapshot_time, lines, reserves_usd, liabilities_usd),
        "gaps": monthly_gaps([r.snapshot_time for r in earlier] + [_parse_time(g.snapshot_time)]),
        "consecutive_rounds": consecutive_rounds(
            [r.snapshot_time for r in earlier] + [_parse_time(g.snapshot_time)]
        ),
        "not_covered": NOT_COVERED
        + [
            f"{a.symbol}: customers are owed {format_units(a.net, a.decimals)} {a.symbol} and no verified "
            f"reserves were listed."
            for a in lines
            if a.net > 0 and not a.reserves
        ],
    }


def _asset_entry(a: AssetLine, previous: RoundRecord | None, year_back: RoundRecord | None) -> dict[str, Any]:
    def change(record: RoundRecord | None) -> dict[str, Any] | None:
        then = record.asset(a.symbol) if record else None
        if then is None:
            return None
        return {
            "round_id": record.round_id,  # type: ignore[union-attr]
            "liabilities": _change(then.net_liabilities, a.net),
            "reserves": _change(then.verified_reserves, reserves_base_units(a)),
        }

    return {
        "symbol": a.symbol,
        "decimals": a.decimals,
        "price_usd": str(a.price),
        "equity": format_units(a.equity, a.decimals),
        "debt": format_units(a.debt, a.decimals),
        "net_liabilities": format_units(a.net, a.decimals),
        "reserves": str(a.reserves),
        "reserves_by_network": {k: str(v) for k, v in sorted(a.by_network.items())},
        **ratio_fields(a.ratio),
        "reserves_usd": str(exact_decimal(Fraction(a.reserves) * Fraction(a.price))),
        "liabilities_usd": str(exact_decimal(a.owed * Fraction(a.price))),
        "change_vs_previous": change(previous),
        "change_vs_year_earlier": change(year_back),
    }


def _usd_change(record: RoundRecord | None, reserves: Fraction, liabilities: Fraction) -> dict | None:
    if record is None:
        return None
    return {
        "round_id": record.round_id,
        "reserves": _change(record.total_reserves_usd, exact_decimal(reserves)),
        "liabilities": _change(record.total_liabilities_usd, exact_decimal(liabilities)),
    }


def reserves_base_units(a: AssetLine) -> int:
    """Reserves in the round's base units, rounded down (chains may count finer than the round)."""
    return math.floor(Fraction(a.reserves) * 10**a.decimals)


def _history(
    earlier: list[RoundRecord],
    round_id: str,
    snapshot: str,
    lines: list[AssetLine],
    reserves_usd: Fraction,
    liabilities_usd: Fraction,
) -> list[dict[str, Any]]:
    points = [
        {
            "round_id": r.round_id,
            "snapshot_time": r.snapshot_time.isoformat().replace("+00:00", "Z"),
            "reserves_usd": str(r.total_reserves_usd),
            "liabilities_usd": str(r.total_liabilities_usd),
            "ratio": None if r.reserve_ratio is None else str(r.reserve_ratio),
            "asset_ratios": {
                a.symbol: None if a.reserve_ratio is None else str(a.reserve_ratio) for a in r.assets
            },
        }
        for r in earlier
    ]
    total = reserves_usd / liabilities_usd if liabilities_usd else None
    points.append(
        {
            "round_id": round_id,
            "snapshot_time": snapshot,
            "reserves_usd": str(exact_decimal(reserves_usd)),
            "liabilities_usd": str(exact_decimal(liabilities_usd)),
            "ratio": ratio_fields(total)["ratio"],
            "asset_ratios": {a.symbol: ratio_fields(a.ratio)["ratio"] for a in lines},
        }
    )
    return points


def round_record(report: dict[str, Any], lines_source: RoundVerification, report_sha256: str) -> RoundRecord:
    """The history row of a published round: its headline and per-asset figures from report.json."""
    g = lines_source.global_proof
    assets = []
    for asset, (equity, debt), entry in zip(g.assets, lines_source.totals, report["assets"], strict=True):
        line = AssetLine(asset.symbol, asset.decimals, Decimal(asset.price), equity, debt,
                         Decimal(entry["reserves"]), {})  # fmt: skip
        assets.append(
            AssetFigures(
                symbol=asset.symbol,
                decimals=asset.decimals,
                price_usd=line.price,
                total_equity=equity,
                total_debt=debt,
                net_liabilities=line.net,
                verified_reserves=reserves_base_units(line),
                reserve_ratio=None if line.ratio is None else floor_decimal(line.ratio, RATIO_PLACES),
            )
        )
    proof = report["proof"]
    return RoundRecord(
        round_id=g.round_id,
        snapshot_time=_parse_time(g.snapshot_time),
        status="published",
        liabilities_root=proof["root"],
        user_count=proof["users_rounded_up"],
        proof_size_bytes=proof["proof_bytes"],
        security_bits=proof["conjectured_security_bits"],
        total_liabilities_usd=Decimal(report["totals"]["liabilities_usd"]),
        total_reserves_usd=Decimal(report["totals"]["reserves_usd"]),
        assets=tuple(assets),
        report_sha256=report_sha256,
    )


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _month(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def monthly_gaps(snapshots: list[datetime]) -> list[str]:
    """The months (YYYY-MM) with no round between the first and the last snapshot."""
    months = sorted({_month(s) for s in snapshots})
    missing = []
    for before, after in zip(months, months[1:], strict=False):
        missing += [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(before + 1, after)]
    return missing


def consecutive_rounds(snapshots: list[datetime]) -> int:
    """How many monthly rounds in a row end with the last one (1 for a first round)."""
    months = sorted({_month(s) for s in snapshots})
    count = 1 if months else 0
    for later, earlier in zip(reversed(months), list(reversed(months))[1:], strict=False):
        if later - earlier != 1:
            break
        count += 1
    return count
