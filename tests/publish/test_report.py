"""The published report as a reader sees it: report.html in headless Chromium (desktop and phone),
report.pdf through pdftoppm and pdftotext, report.json's figures, and ratios that never round up."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from fractions import Fraction

import pytest

from zkpor.report.render import percent, render_html, signed_percent
from zkpor.round.report_model import consecutive_rounds, monthly_gaps, ratio_fields

from .conftest import ROUNDS


@pytest.fixture
def report(demos) -> dict:
    return json.loads((demos.public() / "report.json").read_text())


def test_report_json_has_the_figures_of_the_round(demos, report):
    assert report["round_id"] == ROUNDS[-1] and report["snapshot_time"] == "2024-07-31T16:00:00Z"
    summary = json.loads((demos.public() / "summary.json").read_text())
    assert report["proof"]["root"] == summary["root"]
    assert report["proof"]["users_rounded_up"] == summary["users_rounded_up"]
    assert report["proof"]["verified"] is True and report["proof"]["conjectured_security_bits"] >= 100
    assert report["proof"]["proof_bytes"] == summary["proof_bytes"]
    by_symbol = {a["symbol"]: a for a in report["assets"]}
    for asset in summary["assets"]:
        assert by_symbol[asset["symbol"]]["net_liabilities"] == asset["net"]
    btc = by_symbol["BTC"]
    assert set(btc["reserves_by_network"]) == {"bitcoin"}
    num, den = map(int, btc["ratio_exact"].split("/"))
    assert Decimal(btc["reserves"]) / Decimal(btc["net_liabilities"]) == Decimal(num) / Decimal(den)
    assert Fraction(num, den) >= Fraction(btc["ratio"])  # written rounded down
    assert by_symbol["USDT"]["reserves_by_network"].keys() == {"ethereum", "tron"}
    chains = {c["network"]: c for c in report["addresses"]["chains"]}
    assert chains["bitcoin"]["failed"] == 1 and chains["bitcoin"]["reasons"][0]["status"] == "failed"
    assert sum(c["verified"] for c in chains.values()) == report["addresses"]["rows"] - 1
    assert [p["round_id"] for p in report["history"]] == list(ROUNDS)
    assert report["gaps"] == ["2024-06"] and report["consecutive_rounds"] == 1
    assert report["totals"]["change_vs_previous"]["round_id"] == "2024-05"
    assert report["totals"]["change_vs_year_earlier"] is None
    assert any("controls a key" in item for item in report["not_covered"])


def test_report_html_in_chromium_shows_the_figures_offline(demos, report, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    html_path = demos.public() / "report.html"
    page.goto(html_path.as_uri())
    page.screenshot(path=str(tmp_path / "report-desktop.png"), full_page=True)
    assert requests == [html_path.as_uri()], "the report must load nothing but itself"
    text = page.inner_text("body")
    assert percent(report["totals"]["ratio"]) in page.inner_text("#total-ratio")
    assert page.inner_text("#total-reserves").startswith("$")
    for asset in report["assets"]:
        row = page.inner_text(f"#assets tbody tr:has(th:text-is('{asset['symbol']}'))")
        assert percent(asset["ratio"]) in row
    history = page.inner_text("#history")
    for round_id in ROUNDS:
        assert round_id in history
    assert "2024-06" in page.inner_text("#gaps")
    assert page.locator("#chart-totals svg").count() == 1
    assert page.locator("#chart-ratios svg").count() == len(report["assets"])
    assert page.locator("#chart-totals svg .line").count() >= 2  # reserves and liabilities lines
    assert "not made" not in text and "Wallet address checks" in text
    page.close()


def test_report_html_reads_on_a_phone(demos, browser, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto((demos.public() / "report.html").as_uri())
    page.screenshot(path=str(tmp_path / "report-phone.png"), full_page=True)
    # Nothing but the scrollable tables may be wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 14
    page.close()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_report_pdf_has_the_same_content(demos, report, tmp_path):
    pdf = demos.public() / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2 and all(p.stat().st_size > 20_000 for p in pages)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert f"round {ROUNDS[-1]}" in text.lower()
    assert percent(report["totals"]["ratio"]) in text
    for asset in report["assets"]:
        assert percent(asset["ratio"]) in text
    for round_id in ROUNDS:
        assert round_id in text
    assert "What this report does not cover" in text and "page 1 of" in text


def test_ratios_are_cut_never_rounded_up():
    assert ratio_fields(Fraction(999_999_9, 10_000_000))["ratio"] == "0.999999"
    assert percent(ratio_fields(Fraction(9_999_999, 10_000_000))["ratio"]) == "99.99 %"
    assert percent("1.0409999") == "104.09 %" and percent(None) == "—"
    assert signed_percent("-0.000049") == "-0.00 %" and signed_percent("0.015") == "+1.50 %"


def test_a_shortfall_is_shown_as_one(report):
    shaky = json.loads(json.dumps(report))
    shaky["totals"]["ratio"] = "0.999999"
    shaky["assets"][0]["ratio"] = "0.999999"
    html = render_html(shaky)
    assert "not fully backed" in html and "99.99 %" in html and "100.00 %" not in html


def test_gaps_and_consecutive_rounds():
    from datetime import UTC, datetime

    months = [datetime(2024, m, 28, tzinfo=UTC) for m in (1, 2, 3, 6, 7)]
    assert monthly_gaps(months) == ["2024-04", "2024-05"]
    assert consecutive_rounds(months) == 2
    assert consecutive_rounds(months[:3]) == 3


def test_change_vs_a_year_earlier(demos):
    """The report compares with the round closest to the same date a year before, as `zkpor history`
    does; with a month missed, the round twelve rounds back (13 months) is not "a year earlier"."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from zkpor.liabilities.round_proof import verify_round
    from zkpor.round.history import HistoryStore
    from zkpor.round.report_model import build_report
    from zkpor.round.reserves_results import load_reserves_results

    with HistoryStore.open(demos.history) as store:
        april = store.get_round(ROUNDS[0])
    earlier = [
        replace(april, round_id=f"2023-{m:02d}", snapshot_time=datetime(2023, m, 28, tzinfo=UTC))
        for m in range(7, 13)
    ] + [
        replace(april, round_id=f"2024-{m:02d}", snapshot_time=datetime(2024, m, 28, tzinfo=UTC))
        for m in range(1, 7)
    ]
    round_dir = demos.round_dir(ROUNDS[-1])
    verification = verify_round(round_dir)
    report = build_report(
        verification, load_reserves_results(round_dir / "reserves"), earlier, datetime.now(UTC)
    )
    year = report["totals"]["change_vs_year_earlier"]
    assert year["round_id"] == "2023-07" and report["totals"]["change_vs_previous"]["round_id"] == "2024-06"
    assert report["consecutive_rounds"] == 13 and report["gaps"] == []
    assert all(a["change_vs_year_earlier"]["round_id"] == "2023-07" for a in report["assets"])
    html = render_html(report)
    assert "reserves vs 2023-07" in html and "13th consecutive monthly report" in html

    june = replace(april, round_id="2023-06", snapshot_time=datetime(2023, 6, 28, tzinfo=UTC))
    gapped = [june] + [r for r in earlier if r.round_id != "2023-07"]  # still 12 rounds: July 2023 missed
    report = build_report(
        verification, load_reserves_results(round_dir / "reserves"), gapped, datetime.now(UTC)
    )
    assert report["totals"]["change_vs_year_earlier"] is None, "2023-06 is 13 months back, not a year"
    assert all(a["change_vs_year_earlier"] is None for a in report["assets"])
    assert "appears once a round about a year earlier is recorded" in render_html(report)


def test_the_report_says_zero_knowledge_only_if_the_round_proof_has_it(demos):
    """With a round proof, the published proof is its top node: a top proven without zero knowledge
    (accepted with --allow-non-zk) must not be reported as zero-knowledge because the batches are."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from zkpor.liabilities.aggregation import NodePublic
    from zkpor.liabilities.round_proof import verify_round
    from zkpor.liabilities.round_tree import RoundProof, TreeOptions
    from zkpor.round.report_model import build_report
    from zkpor.round.reserves_results import load_reserves_results
    from zkpor.stark.params import ProofOptions

    round_dir = demos.round_dir(ROUNDS[-1])
    verification = verify_round(round_dir)
    assert verification.round_proof is not None
    reserves = load_reserves_results(round_dir / "reserves")
    assert build_report(verification, reserves, [], datetime.now(UTC))["proof"]["zero_knowledge"] is True
    check = verification.round_proof
    # The demo round is one batch: its round proof is its batch proof (global.json's options).
    assert check.round_proof.top == "batch"
    assert build_report(verification, reserves, [], datetime.now(UTC))["proof"]["round_proof_top"] == "batch"
    # A round of several batches: the top node's options decide, not the batches'.
    g = verification.global_proof
    batches = ProofOptions(**g.proof_options)
    tree = TreeOptions(batches, batches, replace(batches, zero_knowledge=False))
    public = NodePublic(g.statement_digest, 0, g.root, (), g.batch_count, g.statement.weights)
    top = replace(check, round_proof=RoundProof(g.round_id, g.batch_count, tree, (1,), public, b""))
    non_zk_top = replace(verification, round_proof=top)
    assert build_report(non_zk_top, reserves, [], datetime.now(UTC))["proof"]["zero_knowledge"] is False
