"""Reserve ratios from a round's proven totals: `zkpor reserves --liabilities proof/summary.json`."""

import json
from decimal import Decimal
from pathlib import Path

from liabilities_testing import make_round, prove_small

from zkpor.reserves.ratios import load_liabilities, reserve_ratios


def test_summary_json_gives_the_proven_net_liabilities_and_prices(tmp_path: Path) -> None:
    secret = make_round(tmp_path, users=40)
    prove_small(tmp_path, secret)
    summary = tmp_path / "proof" / "summary.json"
    net, prices = load_liabilities(summary)
    assets = json.loads(summary.read_text())["assets"]
    assert net == {a["symbol"]: Decimal(a["net"]) for a in assets}
    assert set(prices) == set(net) and all(p > 0 for p in prices.values())
    # 104 % of every asset with a positive net liability: every ratio is 1.04, none short.
    reserves = {symbol: value * Decimal("1.04") for symbol, value in net.items() if value > 0}
    report = reserve_ratios(reserves, net, prices)
    positive = [a for a in report.assets if a.liabilities > 0]
    assert positive and all(a.ratio == Decimal("1.04") and not a.short for a in positive)
