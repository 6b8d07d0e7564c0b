"""The data side of proof of assets (issue 10): the layouts exchanges publish, placeholders, extra
columns, the totals section reconciled, coin names, counting each address once, one snapshot height
per chain, replayed messages, balances without declared amounts, and the outputs."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from zkpor.errors import InputError
from zkpor.reserves import aptos
from zkpor.reserves.balances import SnapshotBalances
from zkpor.reserves.codecs import b58check_encode, base32_lower
from zkpor.reserves.coins import CoinMap, CoinNameError, coin_map
from zkpor.reserves.engine import RESULT_COLUMNS, verify_reserves
from zkpor.reserves.hashing import blake2b, hash160
from zkpor.reserves.rows import RowShape, make_row, open_reserves

from . import signers as s

OKX = Path(__file__).parent / "data" / "okx"
MESSAGE = "I am an exchange address"
HEADER = "coin,network,height,address,amount,message,signature"


def results(path: Path) -> dict[int, dict[str, str]]:
    with path.open(newline="") as handle:
        return {int(row["line"]): row for row in csv.DictReader(handle)}


def evm_row(seed: int, coin: str = "ETH", network: str = "ethereum", height: str = "100", amount: str = "1",
            message: str = MESSAGE, address: str | None = None) -> str:  # fmt: skip
    key = s.key(seed)
    address = address or s.evm_address(key)
    return f"{coin},{network},{height},{address},{amount},{message},{s.personal_sign(key, message)}"


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- layouts -------------------------------------------------------------------------------------


def test_okx_newer_layout_reads_with_heights_from_the_command_line(tmp_path: Path) -> None:
    info, rows = open_reserves(OKX / "test.csv")
    rows = list(rows)
    assert info.layout == "published-9" and len(rows) == 9 and not info.ignored_columns
    assert {(r.coin, r.network) for r in rows} >= {("USDT", "ETH"), ("ETH", "STARKNET"), ("ETC", "OKC")}
    assert rows[0].signature2 == "" and rows[0].height == "" and rows[0].amount == ""  # "null" → empty
    summary = verify_reserves(
        OKX / "test.csv", tmp_path / "r.csv", heights={"ethereum": 21_000_000, "bitcoin": 880_000}, workers=1
    )
    by_line = results(tmp_path / "r.csv")
    assert summary.counts["failed"] == 0, [r["reason"] for r in by_line.values() if r["status"] == "failed"]
    assert by_line[2]["asset"] == "USDT" and by_line[2]["network"] == "ethereum"
    assert by_line[2]["height"] == "21000000" and by_line[4]["height"] == "880000"
    assert by_line[3]["asset"] == "ETH" and by_line[3]["network"] == "starknet"
    assert by_line[8]["asset"] == "ETC" and by_line[8]["network"] == "okc"
    assert "counts 0: no declared amount" in by_line[2]["reason"]  # no amount column, no balances
    assert summary.heights["ethereum"] == (21_000_000, "--height")
    assert any("no snapshot height for" in n and "tron" in n for n in summary.notices)
    assert summary.messages == {"OKC_DTT_AUP2025": 9}


def test_okx_published_examples_reconcile_their_totals(tmp_path: Path) -> None:
    summary = verify_reserves(OKX / "okx_por_example.csv", tmp_path / "r.csv", workers=1)
    assert summary.layout == "published-11"
    by_coin = {entry["coin"]: entry for entry in summary.reconciliation}
    assert set(by_coin) == {
        "ETH(ALL)", "USDT(ALL)", "USDT-TRC20", "ETH", "USDT-POLY", "USDT-AVAXC", "ETH-ARBITRUM",
        "ETH-OPTIMISM", "USDT-ERC20", "USDT-ARBITRUM", "USDT-OPTIMISM", "BTC",
    }  # fmt: skip
    assert by_coin["ETH(ALL)"]["network"] == "all" and by_coin["USDT-TRC20"]["network"] == "tron"
    usdt = by_coin["USDT(ALL)"]  # OKX's example totals do not match its rows: the difference is reported
    assert (
        usdt["rows_verified"] == "170.479995" and usdt["difference"] == "5398.520005" and not usdt["agrees"]
    )
    assert by_coin["USDT-ERC20"]["agrees"]  # 0 published, 0 listed
    assert "height_differs" in by_coin["ETH"]  # totals at 16005122, rows at 20914735
    staking = verify_reserves(OKX / "okx_por_staking_example.csv", tmp_path / "s.csv", workers=1)
    rows = results(tmp_path / "s.csv")
    assert staking.layout == "published-12" and rows[6]["type"] == "Native ETH Staking"
    # Row by row, OKX's examples verify or are unsupported with the reason (owners, rotated keys).
    assert summary.counts["failed"] == 0 and staking.counts["failed"] == 0


@pytest.mark.parametrize("name", ["test.csv", "okx_por_example.csv", "okx_por_staking_example.csv"])
def test_no_altered_okx_row_verifies(tmp_path: Path, name: str) -> None:
    text = (OKX / name).read_text()
    for signed, altered in [
        ("I am an OKX address", "I am an OKX address."),
        ("OKC_DTT_AUP2025", "OKC_DTT_AUP2026"),
    ]:
        text = text.replace(signed, altered)
    path = write(tmp_path / name, text)
    summary = verify_reserves(path, tmp_path / "r.csv", workers=1)
    assert summary.rows > 0 and summary.counts["verified"] == 0, results(tmp_path / "r.csv")


def test_placeholders_extra_columns_and_unquoted_json(tmp_path: Path) -> None:
    key = s.key(11)
    path = write(
        tmp_path / "p.csv",
        "coin,network,height,address,amount,message,signature,signature2,public key,status,comment",
        f"ETH,ETH,NULL,{s.evm_address(key)},null,{MESSAGE},{s.personal_sign(key, MESSAGE)},null,\\N,5,x",
    )
    info, (row,) = open_reserves(path)
    assert info.ignored_columns == ["status", "comment"]
    assert (row.height, row.amount, row.signature2, row.script_or_key) == ("", "", "", "")
    summary = verify_reserves(path, tmp_path / "r.csv", heights={"ethereum": 5}, workers=1)
    assert summary.counts["verified"] == 1
    assert summary.notices[0] == "columns ignored (not a reserves column): status, comment"
    # OKX writes two-key JSON unquoted; its commas do not split the cell.
    shape = RowShape({"coin": 0, "address": 1, "message": 2, "signature1": 3, "script_or_key": 4}, 5, 4)
    cells = ["EOS", "acct", "m", "SIG", '{"publicKey1": "EOS1"', ' "publicKey2": "EOS2"}']
    assert make_row(2, cells, shape).script_or_key == '{"publicKey1": "EOS1", "publicKey2": "EOS2"}'


# ---- coin names ------------------------------------------------------------------------------------


def test_coin_names_resolve_or_are_reported() -> None:
    coins = coin_map()
    cases = {
        ("USDT-TRC20", ""): ("USDT", "tron"),
        ("OKB-X1-USDT", ""): ("USDT", "xlayer"),
        ("POLY-USDC", ""): ("USDC", "polygon"),
        ("LTCK-OKC20", "OKC"): ("LTC", "okc"),
        ("BCHN", ""): ("BCH", "bitcoin-cash"),
        ("TONCOIN_NEW", "TON"): ("TON", "ton"),
        ("usdt", "ERC20"): ("USDT", "ethereum"),
        ("ETH", "Starknet"): ("ETH", "starknet"),
        ("APTOS", ""): ("APT", "aptos"),
    }
    for (coin, network), (asset, chain) in cases.items():
        got = coins.resolve(coin, network)
        assert (got[0], got[1].id) == (asset, chain), coin
    assert coins.totals_scope("ETH(ALL)") == ("ETH", None)
    for coin, network, reason in [
        ("WBTC", "ETH", "unknown coin name 'WBTC'"),  # never guessed from its shape
        ("USDT-TRC20", "ETH", "is USDT on tron, but the network column says 'ETH'"),
        ("USDT", "", "on several networks and the row names none"),
        ("ETH", "Moonchain", "unknown network 'Moonchain'"),
    ]:
        with pytest.raises(CoinNameError, match=reason):
            coins.resolve(coin, network)


def test_user_coin_map_extends_the_shipped_one(tmp_path: Path) -> None:
    extra = tmp_path / "coins.toml"
    extra.write_text(
        '[assets]\nWBTC = "ethereum"\n[coins]\n"USDT-BEP20" = { asset = "USDT", network = "bsc" }\n'
    )
    path = write(
        tmp_path / "r.csv", HEADER, evm_row(1, "WBTC", ""), evm_row(2, "USDT-BEP20", ""), evm_row(3, "XYZ")
    )
    summary = verify_reserves(path, tmp_path / "out.csv", coin_maps=[extra], workers=1)
    by_line = results(tmp_path / "out.csv")
    assert (by_line[2]["asset"], by_line[2]["network"], by_line[2]["status"]) == (
        "WBTC",
        "ethereum",
        "verified",
    )
    assert (by_line[3]["asset"], by_line[3]["network"]) == ("USDT", "bsc")
    assert by_line[4]["status"] == "failed" and "unknown coin name 'XYZ'" in by_line[4]["reason"]
    assert summary.counts == {"verified": 2, "failed": 1, "unsupported": 0}
    assert (
        summary.unknown_coins == {"XYZ": 1}
        and "unknown coin names, not counted: XYZ (1 rows)" in summary.notices[0]
    )
    for text, field in [
        ('[coins]\nX = { asset = "X" }\n', "coins.X"),
        ('[coins]\nX = { asset = "X", network = "moon" }\n', "coins.X"),
        ("[assets]\nX = 1\n", "assets.X"),
    ]:
        extra.write_text(text)
        with pytest.raises(InputError, match=field):
            CoinMap((str(extra),))
    extra.write_text("[assets\n")
    with pytest.raises(InputError, match="not valid TOML"):
        CoinMap((str(extra),))


# ---- counting once -------------------------------------------------------------------------------


def _f410(evm_address: str) -> str:
    payload = bytes.fromhex(evm_address[2:])
    return "f410f" + base32_lower(payload + blake2b(b"\x04\x0a" + payload, 4))


def _aptos_key_with_short_address() -> tuple[SigningKey, str]:
    for seed in range(1, 4096):
        key = SigningKey(seed.to_bytes(32, "big"))
        address = aptos.authentication_key(bytes(key.verify_key)).hex()
        if address.startswith("0"):
            return key, address
    raise AssertionError("no key found")


def test_one_address_counts_once_whatever_its_spelling(tmp_path: Path) -> None:
    key = s.key(21)
    pub = key.public_key.format()
    eth = s.evm_address(key)
    ltc_m = s.p2sh_p2wpkh("LTC", pub)
    ltc_3 = b58check_encode(b"\x05" + hash160(b"\x00\x14" + hash160(pub)))
    ltc_sig = s.legacy_sign(key, "LTC", MESSAGE, "p2sh-p2wpkh")
    bch_sig = s.legacy_sign(key, "BCH", MESSAGE)
    apt_key, apt_address = _aptos_key_with_short_address()
    apt_sig, apt_pub = apt_key.sign(MESSAGE.encode()).signature.hex(), bytes(apt_key.verify_key).hex()
    path = write(
        tmp_path / "r.csv",
        HEADER + ",public_key",
        evm_row(21, address=eth) + ",",
        evm_row(21, address=eth.lower()) + ",",  # 3: EVM case
        evm_row(21, address=eth, coin="USDT") + ",",  # same address, another asset: counts
        f"LTC,litecoin,7,{ltc_m},1,{MESSAGE},{ltc_sig},",
        f"LTC,litecoin,7,{ltc_3},1,{MESSAGE},{ltc_sig},",  # 6: LTC 3… and M… of one script
        f"BCH,bitcoin-cash,8,{s.p2pkh('BCH', pub)},1,{MESSAGE},{bch_sig},",
        f"BCH,bitcoin-cash,8,{s.p2pkh_legacy('BCH', pub)},1,{MESSAGE},{bch_sig},",  # 8: legacy vs CashAddr
        f"APT,aptos,9,0x{apt_address},1,{MESSAGE},{apt_sig},{apt_pub}",
        f"APT,aptos,9,0x{apt_address.lstrip('0')},1,{MESSAGE},{apt_sig},{apt_pub}",  # 10: short form
        evm_row(21, "FIL", "filecoin", "10", address=eth) + ",",
        evm_row(21, "FIL", "FEVM", "10", address=_f410(eth)) + ",",  # 12: f410 vs 0x
    )
    summary = verify_reserves(path, tmp_path / "out.csv", workers=1)
    by_line = results(tmp_path / "out.csv")
    duplicates = {line for line, row in by_line.items() if "duplicate: already counted" in row["reason"]}
    assert duplicates == {3, 6, 8, 10, 12}, {k: v["reason"] for k, v in by_line.items()}
    assert by_line[12]["canonical_address"] == eth.lower()
    assert summary.counts == {"verified": 6, "failed": 5, "unsupported": 0}
    for asset in ("ETH", "USDT", "LTC", "BCH", "APT", "FIL"):
        assert summary.assets[asset].verified == 1, asset


def test_one_snapshot_height_per_chain(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        HEADER,
        evm_row(31, height="99", address=s.evm_address(s.key(30))),  # failed: does not set the height
        evm_row(32),
        evm_row(33, height="101"),  # another height on ethereum: refused
        evm_row(34, "ETH", "arbitrum", height="5"),  # another chain, its own height
    )
    summary = verify_reserves(path, tmp_path / "out.csv", workers=1)
    by_line = results(tmp_path / "out.csv")
    assert summary.heights == {"ethereum": (100, "line 3"), "arbitrum": (5, "line 5")}
    assert by_line[4]["status"] == "failed"
    assert (
        "snapshot height 101 is not ethereum's height for this round, 100 (set by line 3)"
        in by_line[4]["reason"]
    )
    verify_reserves(path, tmp_path / "out.csv", heights={"ethereum": 101}, workers=1)
    by_line = results(tmp_path / "out.csv")
    assert by_line[3]["status"] == "failed" and "(set by --height)" in by_line[3]["reason"]
    assert by_line[4]["status"] == "verified"


# ---- replay, balances, outputs -------------------------------------------------------------------


def test_replayed_messages(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv", HEADER, evm_row(41), evm_row(42, message="I am an exchange address 2023")
    )
    summary = verify_reserves(path, tmp_path / "out.csv", workers=1)
    assert summary.counts["verified"] == 2  # without --message both verify, and the summary lists both
    assert [entry["message"] for entry in summary.to_json()["message"]["seen"]] == [
        MESSAGE, "I am an exchange address 2023",
    ]  # fmt: skip
    summary = verify_reserves(path, tmp_path / "out.csv", message=MESSAGE, workers=1)
    by_line = results(tmp_path / "out.csv")
    assert by_line[2]["status"] == "verified" and by_line[3]["status"] == "failed"
    assert "a possible replay" in by_line[3]["reason"] and summary.to_json()["message"]["expected"] == MESSAGE


def test_balances_exact_and_without_declared_amounts(tmp_path: Path) -> None:
    keys = [s.key(51), s.key(52)]
    addresses = [s.evm_address(k) for k in keys]
    snapshot = write(
        tmp_path / "snap.csv",
        "coin,network,height,address,balance",
        f"ETH,ethereum,100,{addresses[0]},1",
        f"ETH,ethereum,100,{addresses[1]},2.5",
    )
    declared = write(
        tmp_path / "r.csv", HEADER, evm_row(51, amount="1.000000000000000001"), evm_row(52, amount="2.5")
    )
    summary = verify_reserves(declared, tmp_path / "o.csv", balances=SnapshotBalances(snapshot), workers=1)
    assert (
        summary.counts["failed"] == 1
        and "≠ chain balance 1 at height 100" in results(tmp_path / "o.csv")[2]["reason"]
    )
    summary = verify_reserves(
        declared, tmp_path / "o.csv", balances=SnapshotBalances(snapshot),
        tolerance=Fraction(1, 10**18), workers=1,
    )  # fmt: skip
    assert summary.counts["verified"] == 2 and summary.assets["ETH"].verified == Fraction(7, 2)
    # OKX's 9-column layout declares no amounts: the balance at --height counts.
    newer = write(
        tmp_path / "n.csv",
        "digitalAsset,network,address,signedMessage,signedMessage2,message,publicKey,owner1,owner2",
        *(
            f"ETH,ETH,{a},{s.personal_sign(k, MESSAGE)},null,{MESSAGE},,,"
            for a, k in zip(addresses, keys, strict=True)
        ),
    )
    summary = verify_reserves(
        newer, tmp_path / "o.csv", balances=SnapshotBalances(snapshot), heights={"ethereum": 100}, workers=1
    )
    assert summary.assets["ETH"].verified == Fraction(7, 2) and summary.assets[
        "ETH"
    ].balance_checked == Fraction(7, 2)
    assert results(tmp_path / "o.csv")[2]["chain_balance"] == "1"


def test_outputs_and_the_command(tmp_path: Path, run_main) -> None:  # noqa: ANN001
    path = write(tmp_path / "r.csv", HEADER, evm_row(61), evm_row(62, "USDT-TRC20"), evm_row(63, "XYZ"))
    out = tmp_path / "audit"
    options = ["--workers", "1", "--json", "--message", MESSAGE, "--height", "ethereum=100"]
    result = run_main("reserves", str(path), "--out", str(out), *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["heights"]["ethereum"] == {"height": 100, "set_by": "--height"}
    assert document["message"]["expected"] == MESSAGE and document["status"]["verified"] == 1
    assert document["assets"]["ETH"]["networks"]["ethereum"]["verified"] == "1"
    with (out / "results.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == RESULT_COLUMNS
    assert rows[0]["height"] == "100" and rows[0]["message"] == MESSAGE and rows[0]["canonical_address"]
    assert "is USDT on tron" in rows[1]["reason"]
    table = run_main("reserves", str(path), "--out", str(out), "--workers", "1", cwd=tmp_path)
    assert table.returncode == 0 and "ethereum" in table.stdout and "messages signed" in table.stdout
    for bad in (
        ["--height", "moon=1"],
        ["--height", "ethereum=x"],
        ["--asset-map", str(tmp_path / "none.toml")],
    ):
        result = run_main("reserves", str(path), "--out", str(out), *bad, cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr


def test_the_rounds_reserves_settings(tmp_path: Path, run_main) -> None:  # noqa: ANN001
    (tmp_path / "coins.toml").write_text('[assets]\nWBTC = "ethereum"\n')
    (tmp_path / "reserves.toml").write_text(
        f'message = "{MESSAGE}"\nasset_maps = ["coins.toml"]\n[heights]\nETH = 100\n'
    )
    path = write(tmp_path / "r.csv", HEADER, evm_row(71, "WBTC", height=""), evm_row(72, message="old"))
    out = tmp_path / "audit"
    result = run_main(
        "reserves", str(path), "--round", str(tmp_path), "--out", str(out), "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["message"]["expected"] == MESSAGE and document["heights"]["ethereum"]["height"] == 100
    by_line = results(out / "results.csv")
    assert (
        by_line[2]["asset"] == "WBTC" and by_line[2]["height"] == "100" and by_line[2]["status"] == "verified"
    )
    assert "a possible replay" in by_line[3]["reason"]
    (tmp_path / "reserves.toml").write_text("[heights]\nmoon = 1\n")
    result = run_main("reserves", str(path), "--round", str(tmp_path), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2 and "heights.moon" in result.stderr


def test_settings_reach_the_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zkpor.reserves import engine

    extra = tmp_path / "coins.toml"
    extra.write_text('[assets]\nWBTC = "ethereum"\n')
    lines = [HEADER]
    for i in range(40):
        coin = ("WBTC", "ETH", "XYZ")[i % 3]
        lines.append(evm_row(80 + i % 7, coin, message=MESSAGE if i % 5 else "old"))
    path = write(tmp_path / "r.csv", *lines)
    monkeypatch.setattr(engine, "CHUNK_ROWS", 4)
    monkeypatch.setattr(engine, "MIN_PARALLEL_CHUNKS", 2)
    outputs = []
    for workers in (1, 2):
        summary = verify_reserves(
            path, tmp_path / f"{workers}.csv", message=MESSAGE, coin_maps=[extra], workers=workers
        )
        outputs.append(((tmp_path / f"{workers}.csv").read_text(), summary.to_json()))
    assert outputs[0] == outputs[1]
    text = outputs[0][0]
    assert ",WBTC,WBTC," in text and "a possible replay" in text and "unknown coin name 'XYZ'" in text


def test_a_balance_source_answering_nan_fails_the_row(tmp_path: Path) -> None:
    from decimal import Decimal

    class Broken:
        def covers(self, chain: object) -> bool:
            return True

        def balance(self, *args: object) -> Decimal:
            return Decimal("NaN")

    path = write(tmp_path / "r.csv", HEADER, evm_row(91))
    summary = verify_reserves(path, tmp_path / "o.csv", balances=Broken(), workers=1)
    assert summary.counts["failed"] == 1 and "not a finite number" in results(tmp_path / "o.csv")[2]["reason"]


def test_the_shipped_map_agrees_with_okx_own_units() -> None:
    # OKX's tool names some units differently from the round's asset symbols.
    renamed = {"RIPPLE": "XRP", "APTOS": "APT", "TONCOIN-NEW": "TON", "BCHN": "BCH"}
    # Coins on chains zkpor has no network for: reported as unknown names, never guessed.
    no_network = {"BCHA", "BTG", "BCD", "DGB", "QTUM", "RVN", "ZEC", "ETHW", "OPTIMISM", "BETH", "CFX",
                  "LUNC", "XLM", "PI", "NEAR", "HBAR", "A", "USDT-ALGO"}  # fmt: skip
    coins = coin_map()
    with (OKX / "coin_units.csv").open(newline="") as handle:
        units = {row["coin"]: row["unit"] for row in csv.DictReader(handle)}
    assert len(units) > 100
    for name, unit in units.items():
        entry = coins.lookup(name)
        if name in no_network:
            assert entry is None, name
        else:
            assert entry is not None and entry.asset == renamed.get(unit, unit), (name, unit, entry)
