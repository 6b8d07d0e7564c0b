"""Reserve ratios: exact arithmetic (issue 9 gap 7) and liabilities only from a proof that verifies
(issue 9 gap 3)."""

from __future__ import annotations

import json
import shutil
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.exact import decimal_text, parse_amount, percent_text
from zkpor.reserves.ratios import Requirements, load_liabilities, reserve_ratios

from . import signers as s

sys.path.insert(0, str(Path(__file__).parents[1] / "liabilities"))
from liabilities_testing import make_round, prove_small  # noqa: E402

MESSAGE = "I am an exchange address"
TEST = Requirements(min_security_bits=0)  # the test rounds' proofs are far below 100 bits


# ---- gap 7: exact arithmetic -------------------------------------------------------------------


def test_a_ratio_just_under_100_percent_never_reads_100() -> None:
    owed = Fraction(1_000_000)
    report = reserve_ratios({"BTC": owed - 1}, {"BTC": owed}, {"BTC": Fraction(67000)})
    (btc,) = report.assets
    assert btc.ratio == Fraction(999_999, 1_000_000) and btc.short  # exactly, not after rounding
    assert btc.percent() == "99.99 %" and btc.percent(4) == "99.9999 %"
    document = report.to_json()
    assert document["assets"]["BTC"]["ratio"] == {
        "exact": "999999/1000000",
        "percent": "99.999900",
        "below_100_percent": True,
    }
    assert document["total"]["ratio"]["below_100_percent"] is True
    # A hair under (one part in 10^30): still flagged, still not shown as 100.
    tiny = reserve_ratios({"X": Fraction(10**30 - 1, 10**30)}, {"X": Fraction(1)}, {})
    assert tiny.assets[0].short and tiny.assets[0].percent(8) == "99.99999999 %"
    exact = reserve_ratios({"X": Fraction(1)}, {"X": Fraction(1)}, {})
    assert not exact.assets[0].short and exact.assets[0].percent() == "100.00 %"


def test_exact_text_and_parsing() -> None:
    assert parse_amount("0.000000000000000001") == Fraction(1, 10**18)
    assert [parse_amount(t) for t in ("1e3", "-1", ".5", "5.", "NaN", "1,000", "")] == [None] * 7
    assert decimal_text(Fraction(12345, 100)) == "123.45" and decimal_text(Fraction(-5, 2)) == "-2.5"
    with pytest.raises(ValueError, match="no finite decimal"):
        decimal_text(Fraction(1, 3))
    assert percent_text(Fraction(2, 3)) == "66.66"  # rounded down, not 66.67


def test_sums_of_large_amounts_are_exact(tmp_path: Path) -> None:
    # 31 significant digits each: a 28-digit Decimal context would round these sums.
    big = ["1234567890123.123456789012345678", "9876543210987.000000000000000001"]
    keys = [s.key(900 + i) for i in range(2)]
    path = tmp_path / "big.csv"
    path.write_text(
        "coin,network,height,address,amount,message,signature\n"
        + "".join(
            f"ETH,ethereum,1,{s.evm_address(k)},{amount},{MESSAGE},{s.personal_sign(k, MESSAGE)}\n"
            for k, amount in zip(keys, big, strict=True)
        )
    )
    summary = verify_reserves(path, tmp_path / "r.csv", workers=1)
    assert summary.assets["ETH"].verified == sum(parse_amount(a) for a in big)
    assert summary.to_json()["assets"]["ETH"]["verified"] == "11111111101110.123456789012345679"


def test_tolerance_is_validated(tmp_path: Path, run_main) -> None:  # noqa: ANN001
    path = tmp_path / "r.csv"
    path.write_text("coin,network,height,address,amount,message,signature\n")
    for bad in ("NaN", "-1", "1e-3", "abc", "Infinity"):
        result = run_main(
            "reserves", str(path), "--tolerance", bad, "--out", str(tmp_path / "o"), cwd=tmp_path
        )
        assert result.returncode == 2 and "--tolerance" in result.stderr, bad


# ---- gap 3: liabilities only from a verified proof ----------------------------------------------


@pytest.fixture(scope="module")
def proven_round(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("round")
    prove_small(directory, make_round(directory, users=40))
    return directory


def _copy(proven_round: Path, tmp_path: Path) -> Path:
    target = tmp_path / "round"
    shutil.copytree(proven_round, target)
    return target


def _usdt_reserves(tmp_path: Path, amount: Fraction) -> Path:
    key = s.key(4242)
    path = tmp_path / "por.csv"
    signature = s.personal_sign(key, MESSAGE)
    row = f"USDT,ethereum,1,{s.evm_address(key)},{decimal_text(amount)},{MESSAGE},{signature}"
    path.write_text(f"coin,network,height,address,amount,message,signature\n{row}\n")
    return path


def _forge_usdt_net(proof: Path, factor: Fraction) -> None:
    summary = json.loads((proof / "summary.json").read_text())
    for asset in summary["assets"]:
        if asset["symbol"] == "USDT":
            asset["net"] = decimal_text(Fraction(asset["net"]) * factor)
    (proof / "summary.json").write_text(json.dumps(summary))


def test_ratios_come_from_the_verified_proof(proven_round: Path, tmp_path: Path, run_main) -> None:  # noqa: ANN001
    owed = load_liabilities(proven_round / "proof", TEST)
    summary = json.loads((proven_round / "proof" / "summary.json").read_text())
    assert owed.net == {a["symbol"]: Fraction(a["net"]) for a in summary["assets"]}
    assert owed.round_id == summary["round_id"] and owed.how == "verified"
    assert set(owed.files) >= {"global.json", "summary.json"} and len(owed.files) > 2

    usdt = owed.net["USDT"]
    reserves = _usdt_reserves(tmp_path, usdt * Fraction(97, 100))
    out = tmp_path / "audit"
    result = run_main(
        "reserves", str(reserves), "--liabilities", str(proven_round), "--min-security-bits", "0",
        "--out", str(out), "--workers", "1", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (usdt_line,) = [line for line in result.stdout.splitlines() if "USDT " in line and "%" in line]
    assert "97.00 %" in usdt_line and "SHORT" in usdt_line
    sums = json.loads((out / "sums.json").read_text())
    assert sums["ratios"]["assets"]["USDT"]["ratio"]["percent"] == "97.000000"
    used = sums["ratios"]["liabilities"]
    assert used["round_id"] == owed.round_id and used["root"] == owed.root
    assert used["snapshot_time"] == owed.snapshot_time
    record = json.loads((out / "liabilities-verification.json").read_text())
    assert record["files"] == owed.files

    reuse = ["--verified-record", str(out / "liabilities-verification.json"), "--json", "--workers", "1"]
    result = run_main(
        "reserves", str(reserves), "--liabilities", str(proven_round), "--min-security-bits", "0",
        "--out", str(tmp_path / "again"), *reuse, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ratios"]["liabilities"]["how"].startswith("recorded verification")
    result = run_main("reserves", str(reserves), *reuse, cwd=tmp_path)
    assert result.returncode == 2 and "--verified-record needs --liabilities" in result.stderr
    # The recorded verification stands in for a second verification of exactly those files ...
    again = load_liabilities(proven_round, TEST, record=out / "liabilities-verification.json")
    assert again.net == owed.net and again.how.startswith("recorded verification")
    # ... not of a changed one, nor for a stricter security minimum than it was made with.
    copy = _copy(proven_round, tmp_path)
    _forge_usdt_net(copy / "proof", Fraction(1, 4))
    with pytest.raises(VerificationError, match="summary.json: SHA-256 differs"):
        load_liabilities(copy, TEST, record=out / "liabilities-verification.json")
    with pytest.raises(VerificationError, match="weaker than asked"):
        load_liabilities(proven_round, Requirements(), record=out / "liabilities-verification.json")
    # A published folder alone (no round.toml, no private inclusion store) verifies the same.
    public = tmp_path / "public"
    public.mkdir()
    for name in owed.files:
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(proven_round / "proof" / name, public / name)
    assert load_liabilities(public, TEST).net == owed.net


def test_a_forged_summary_is_refused(proven_round: Path, tmp_path: Path, run_main) -> None:  # noqa: ANN001
    # Before: a summary.json with a quarter of the USDT net turned 97 % into 388 %.
    copy = _copy(proven_round, tmp_path)
    owed = load_liabilities(copy, TEST)
    reserves = _usdt_reserves(tmp_path, owed.net["USDT"] * Fraction(97, 100))
    _forge_usdt_net(copy / "proof", Fraction(1, 4))
    with pytest.raises(VerificationError, match="summary.json field"):
        load_liabilities(copy, TEST)
    out = tmp_path / "audit"
    for given in (copy / "proof", copy / "proof" / "summary.json"):
        result = run_main(
            "reserves", str(reserves), "--liabilities", str(given), "--min-security-bits", "0",
            "--out", str(out), "--workers", "1", cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 2 and "%" not in result.stdout, result.stdout
        assert "summary.json" in result.stderr
    assert not out.exists()  # nothing written from an unverified round
    with pytest.raises(InputError, match="needs the round's proof folder"):
        load_liabilities(copy / "proof" / "summary.json")


def test_a_proof_below_the_security_minimum_is_refused(proven_round: Path) -> None:
    with pytest.raises(ZkporError):
        load_liabilities(proven_round)  # the test round's proofs are far below 100 bits
