"""Cost of `zkpor publish` by stage, on a demo round: the auditor's verification, the report model,
report.html (Jinja2 + pygal charts), report.pdf (WeasyPrint), verify.html, and the whole publish
(which also verifies the built folder on its own), with the sizes of what it writes.

Usage: .venv/bin/python benchmarks/bench_publish.py [--users 2000] [--rounds 3]
The demo rounds (generated, proven, reserves checked) are built first and not timed; with
--rounds N the last round's report carries an N-round history.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from zkpor.liabilities.round_proof import PROOF_DIR, prove_round, verify_round
from zkpor.liabilities.secret import load_secret
from zkpor.report.render import render_html, render_pdf
from zkpor.round.demo_reserves import demo_growth, demo_message, demo_round_config, write_demo_reserves
from zkpor.round.generate import generate_round
from zkpor.round.history import HistoryStore
from zkpor.round.publish import PUBLIC_DIR, RESERVES_DIR, publish_round
from zkpor.round.report_model import build_report
from zkpor.round.reserves_results import check_round_reserves
from zkpor.site.verify_page import render_verify_page


def prepare(base: Path, round_id: str, users: int) -> Path:
    directory = base / round_id
    generate_round(
        directory, users, 2024, config=demo_round_config(round_id), usd_scale=demo_growth(round_id)
    )
    secret, _ = load_secret(base / f"{round_id}.secret", create=True)
    prove_round(directory, secret, batch_size=512 if users > 512 else None)
    verification = verify_round(directory)
    g = verification.global_proof
    owed = {a.symbol: (e - d, a.decimals) for a, (e, d) in zip(g.assets, verification.totals, strict=True)}
    reserves_csv, balances_csv = write_demo_reserves(directory / "wallets", round_id, owed, 2024)
    check_round_reserves(
        reserves_csv,
        balances_csv,
        directory / PROOF_DIR,
        directory / RESERVES_DIR,
        message=demo_message(round_id),
    )
    return directory


def timed(label: str, action):  # noqa: ANN001, ANN202 - a benchmark helper
    started = time.perf_counter()
    result = action()
    print(f"  {label:<34} {time.perf_counter() - started:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as temp:
        base = Path(temp)
        round_ids = [f"2024-{month:02d}" for month in range(1, args.rounds + 1)]
        print(f"preparing {args.rounds} demo round(s) of {args.users:,} users (not timed)…")
        directories = [prepare(base, round_id, args.users) for round_id in round_ids]
        for directory in directories[:-1]:
            publish_round(directory)
        last = directories[-1]
        print(f"round {round_ids[-1]} ({args.users:,} users, {args.rounds}-round history):")
        from zkpor.round.reserves_results import load_reserves_results

        verification = timed("verify the liabilities proof", lambda: verify_round(last))
        reserves = timed("read and cross-check reserves", lambda: load_reserves_results(last / RESERVES_DIR))
        with HistoryStore.open(base / "history.sqlite") as store:
            earlier = store.list_rounds()
        report = timed(
            "report model", lambda: build_report(verification, reserves, earlier, datetime.now(UTC))
        )
        html = timed("report.html (Jinja2 + pygal)", lambda: render_html(report))
        pdf = timed("report.pdf (WeasyPrint)", lambda: render_pdf(html))
        page = timed("verify.html", lambda: render_verify_page(verification.global_proof))
        timed("zkpor publish, whole", lambda: publish_round(last))
        public = last / PUBLIC_DIR
        total = sum(p.stat().st_size for p in public.rglob("*") if p.is_file())
        print(
            f"  sizes: report.html {len(html):,} B, report.pdf {len(pdf):,} B, verify.html {len(page):,} B; "
            f"public/ {total:,} B in {sum(1 for p in public.rglob('*') if p.is_file())} files"
        )


if __name__ == "__main__":
    main()
