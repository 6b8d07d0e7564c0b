"""The file layer: CSV layouts, per-row reasons, duplicates, sums, snapshot balances, Bitcoin Core RPC,
reserve ratios, the multi-process path and the `zkpor reserves` command."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zkpor.errors import InputError
from zkpor.reserves import engine, workers
from zkpor.reserves import rows as rows_module
from zkpor.reserves.balances import BalanceUnavailable, SnapshotBalances
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.networks import CHAINS, asset_symbol, resolve_chain
from zkpor.reserves.ratios import reserve_ratios
from zkpor.reserves.rows import open_reserves
from zkpor.reserves.rpc import BitcoinCoreBalances, JsonRpc

from . import signers as s

MESSAGE = "I am an exchange address"


def _rows(n_keys: int = 3) -> list[tuple[str, str, str]]:
    """(btc address, btc signature, eth address, eth signature) material from real keys."""
    out = []
    for i in range(n_keys):
        key = s.key(500 + i)
        out.append(
            (
                s.p2pkh("BTC", key.public_key.format()),
                s.legacy_sign(key, "BTC", MESSAGE),
                s.evm_address(key),
                s.personal_sign(key, MESSAGE),
            )
        )
    return out


def published_file(path: Path, twelve: bool = False) -> Path:
    (b1, bs1, e1, es1), (b2, bs2, e2, es2), _ = _rows()
    kind = "Non Staking," if twelve else ""
    header = (
        (
            "coin,Type,Network,Snapshot Height,address,amount,message,signature1,signature2,"
            "redeem script/public key,EOA1,EOA2"
        )
        if twelve
        else (
            "coin,Network,Snapshot Height,address,amount,message,signature1,signature2,"
            "redeem script/ public key, eoa1, eoa2"
        )
    )
    path.write_text(
        "\n".join(
            [
                "coin,snapshot height,amount",
                "BTC,800000,1.5",
                "ETH,-,2",
                "",
                header,
                f"BTC,{kind}BTC,800000,{b1},1.0,{MESSAGE},{bs1},,",
                f"BTC,{kind}Bitcoin,800000,{b2}, 0.5,{MESSAGE},{bs2},,,,",
                f"ETH,{kind}ETH,19000000,{e1},2,{MESSAGE},{es1},,",
                f"USDT-ERC20,{kind}ERC20,19000000,{e1},100,{MESSAGE},{es1},,",  # same address, other asset
                f"ETH,{kind}Ethereum,19000000,{e1.lower()},2,{MESSAGE},{es1},,",  # listed twice
                f"ETH,{kind}ETH,19000000,{e2},3,{MESSAGE},{es1},,",  # swapped signature
                f"ETH,{kind}Moonchain,19000000,{e2},3,{MESSAGE},{es2},,",  # unknown network
                f"DOGE,{kind}ETH,19000000,{e2},-3,{MESSAGE},{es2},,",  # negative amount
                f"LINK,{kind}ETH,19000000,{e2},1e3,{MESSAGE},{es2},,",  # exponent
                "ETH,ETH,too,short",
                f"SOL,{kind}Solana,250000000,So1ana,5,{MESSAGE},abc,,",
                "",
            ]
        )
    )
    return path


@pytest.mark.parametrize("twelve", [False, True])
def test_published_layouts(tmp_path: Path, twelve: bool) -> None:
    path = published_file(tmp_path / "por.csv", twelve)
    info, rows = open_reserves(path)
    assert info.layout == ("published-12" if twelve else "published-11")
    assert info.declared_totals == {"BTC": ("800000", "1.5"), "ETH": ("-", "2")}
    assert len(list(rows)) == 11
    summary = verify_reserves(path, tmp_path / "out" / "results.csv", workers=1)
    results = (tmp_path / "out" / "results.csv").read_text().splitlines()
    by_line = {int(line.split(",")[0]): line for line in results[1:]}
    assert ",verified,BIP-137 P2PKH," in by_line[6] and ",verified," in by_line[7]
    assert ",verified,EIP-191 personal_sign," in by_line[8] and ",verified," in by_line[9]
    assert "duplicate: already counted on line 8" in by_line[10]
    assert "recovers to" in by_line[11]
    assert "unknown network 'Moonchain'" in by_line[12]
    assert "not a non-negative decimal" in by_line[13] and "not a non-negative decimal" in by_line[14]
    assert "malformed row" in by_line[15]
    assert ",unsupported," in by_line[16] or ",failed," in by_line[16]
    assert summary.assets["BTC"].verified == Decimal("1.5")
    assert summary.assets["ETH"].verified == Decimal(2)
    assert summary.assets["USDT"].verified == Decimal(100)
    assert summary.counts["verified"] == 4


def test_plain_layout_any_order_and_missing_header(tmp_path: Path) -> None:
    b1, bs1, _, _ = _rows(1)[0]
    path = tmp_path / "plain.csv"
    path.write_text(
        f'signature,address,coin,network,height,amount,message\n{bs1},{b1},BTC,bitcoin,1,2,"{MESSAGE}"\n'
    )
    summary = verify_reserves(path, tmp_path / "r.csv", workers=1)
    assert summary.layout == "plain" and summary.counts["verified"] == 1
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InputError, match="no address-table header"):
        open_reserves(path)


def test_snapshot_balances(tmp_path: Path) -> None:
    (b1, bs1, e1, es1), (b2, bs2, *_), _ = _rows()
    snapshot = tmp_path / "snap.csv"
    snapshot.write_text(
        f"coin,network,height,address,balance\nBTC,bitcoin,800000,{b1},1.0\n"
        f"BTC,bitcoin,799999,{b2},0.5\nETH,ethereum,19000000,{e1.lower()},2.5\n"
    )
    reserves = tmp_path / "r.csv"
    reserves.write_text(
        "coin,network,height,address,amount,message,signature\n"
        f"BTC,bitcoin,800000,{b1},1,{MESSAGE},{bs1}\n"
        f"BTC,bitcoin,800000,{b2},0.5,{MESSAGE},{bs2}\n"
        f"ETH,ethereum,19000000,{e1},2,{MESSAGE},{es1}\n"
        f"USDT,ethereum,19000000,{e1},2,{MESSAGE},{es1}\n"
    )
    summary = verify_reserves(reserves, tmp_path / "out.csv", balances=SnapshotBalances(snapshot), workers=1)
    text = (tmp_path / "out.csv").read_text()
    assert summary.assets["BTC"].balance_checked == Decimal("1.0")
    assert "snapshot file has height 799999, the row says 800000" in text
    assert "declared amount 2 ≠ chain balance 2.5" in text
    assert "USDT balance of this address is not in the snapshot file" in text
    snapshot.write_text("coin,network,height,address,balance\nBTC,bitcoin,1,x,abc\n")
    with pytest.raises(InputError, match="not a decimal"):
        SnapshotBalances(snapshot)


class _FakeBitcoind(BaseHTTPRequestHandler):
    """A Bitcoin Core-shaped JSON-RPC endpoint: scantxoutset answers from a fixed UTXO set."""

    tip = 800_000
    utxos = {}

    def do_POST(self) -> None:  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.headers["Authorization"].startswith("Basic ")
        address = request["params"][1][0][5:-1]
        body = {
            "result": {"success": True, "height": self.tip, "total_amount": self.utxos.get(address, 0)},
            "error": None,
            "id": request["id"],
        }
        # Amounts go over the wire as JSON numbers; ours must be read as exact decimals.
        data = json.dumps(body).replace('"AMOUNT"', "0.12345678").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_bitcoin_core_scantxoutset(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _FakeBitcoind)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        (b1, *_), (b2, *_), _ = _rows()
        _FakeBitcoind.utxos = {b1: "AMOUNT"}
        url = f"http://user:secret@127.0.0.1:{server.server_port}"
        source = BitcoinCoreBalances("bitcoin", JsonRpc(url))
        assert source.balance("BTC", CHAINS["bitcoin"], b1, 800_000) == Decimal("0.12345678")
        assert source.balance("BTC", CHAINS["bitcoin"], b2, 800_000) == 0
        with pytest.raises(BalanceUnavailable, match="UTXO set is at height 800000"):
            source.balance("BTC", CHAINS["bitcoin"], b1, 799_000)
    finally:
        server.shutdown()
        server.server_close()
    source = BitcoinCoreBalances("bitcoin", JsonRpc(url, timeout=5))
    with pytest.raises(BalanceUnavailable, match="unreachable"):
        source.balance("BTC", CHAINS["bitcoin"], b1, 800_000)


def test_reserve_ratios() -> None:
    report = reserve_ratios(
        {"BTC": Fraction(104), "ETH": Fraction(90), "DOGE": Fraction(5)},
        {"BTC": Fraction(100), "ETH": Fraction(100), "SOL": Fraction(1)},
        {"BTC": Fraction(60000), "ETH": Fraction(3000), "SOL": Fraction(150)},
    )
    by_asset = {a.asset: a for a in report.assets}
    assert by_asset["BTC"].ratio == Fraction(104, 100) and not by_asset["BTC"].short
    assert by_asset["ETH"].short and by_asset["SOL"].ratio == 0
    assert by_asset["DOGE"].ratio is None and report.unpriced == ["DOGE"]
    assert report.reserves_usd == 104 * 60000 + 90 * 3000
    assert report.liabilities_usd == 100 * 60000 + 100 * 3000 + 150


def test_network_names_and_assets() -> None:
    assert resolve_chain("Avalanche C-Chain").id == "avalanche-c"
    assert resolve_chain("", "USDT-TRC20").id == "tron"
    assert resolve_chain("X Layer").id == "xlayer" and resolve_chain("bitcoin-cash").id == "bitcoin-cash"
    assert resolve_chain("nowhere") is None
    assert [asset_symbol(c) for c in ("USDT-ERC20", "ETH(ALL)", "TONCOIN-NEW", "okb")] == [
        "USDT",
        "ETH",
        "TON",
        "OKB",
    ]


def test_two_worker_processes_give_the_same_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    material = _rows(4)
    lines = ["coin,network,height,address,amount,message,signature"]
    for i in range(200):
        b, bs, e, es = material[i % 4]
        lines.append(f"ETH,ethereum,7,{e if i % 2 else b},1,{MESSAGE},{es if i % 2 else bs}")
    lines[50] = "ETH,ethereum,1,short"  # a malformed record inside a chunk
    lines[70] = ""  # and a blank line
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    # Small chunks, so these 200 rows make enough jobs for the worker processes to be used.
    monkeypatch.setattr(engine, "CHUNK_ROWS", 16)
    pools = []

    class Spy(workers.WorkerPool):
        def __init__(self, count: int) -> None:
            super().__init__(count)
            pools.append([process.pid for process in self.processes])

    monkeypatch.setattr(workers, "WorkerPool", Spy)
    one = verify_reserves(path, tmp_path / "one.csv", workers=1)
    assert pools == []
    progress = []
    two = verify_reserves(path, tmp_path / "two.csv", workers=2, on_progress=progress.append)
    assert len(pools) == 1 and len(pools[0]) == 2 and sum(progress) == 199 and max(progress) == 16
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "two.csv").read_text()
    assert (
        one.counts == two.counts and one.counts["verified"] == 2
    )  # two ETH keys; the rest: duplicates, BTC rows on ETH, one malformed
    assert one.to_json() == two.to_json()


def test_cli_reserves_command(tmp_path: Path) -> None:
    from zkpor.cli import app

    path = published_file(tmp_path / "por.csv")
    out = tmp_path / "audit"
    result = CliRunner().invoke(app, ["reserves", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "4 verified" in result.output
    sums = json.loads((out / "sums.json").read_text())
    assert sums["assets"]["BTC"]["verified"] == "1.5"
    btc, eth = sums["published_totals"]
    assert btc == {
        "coin": "BTC", "line": 2, "height": "800000", "published": "1.5", "asset": "BTC",
        "network": "bitcoin", "rows_declared": "1.5", "rows_verified": "1.5", "difference": "0",
        "agrees": True,
    }  # fmt: skip
    assert eth["network"] == "ethereum" and eth["rows_verified"] == "2" and eth["agrees"]
    assert not list(out.glob(".*"))  # no temporary files left behind
    strict = CliRunner().invoke(app, ["reserves", str(path), "--out", str(out), "--workers", "1", "--strict"])
    assert strict.exit_code == 1
    help_text = CliRunner().invoke(app, ["reserves", "--help"]).output
    assert "Example:" in help_text


def test_chunks_end_at_record_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Records the file cuts must not split: quoted fields with line breaks (one at the very end of a
    # chunk, one spanning three lines), a stray quote inside an unquoted field, CRLF and lone CR
    # endings, blank lines, and a field longer than csv's limit (an unreadable record).
    key = s.key(77)
    address = s.p2pkh("BTC", key.public_key.format())
    multiline = "I am\nan exchange\r\naddress"
    signature = s.legacy_sign(key, "BTC", multiline)
    table = [
        "coin,network,height,address,amount,message,signature\r\n",
        f'BTC,bitcoin,1,{address},1,"{multiline}",{signature}\r\n',
        'BTC,bitcoin,1,x"y,1,"a ""quoted"" message",sig\n',
        "\n",
        f'BTC,bitcoin,1,{address}2,1,"one\nline break",sig\r',
        "BTC,bitcoin,1,z,1," + "m" * 200_000 + ",sig\n",
        f'BTC,bitcoin,1,{address},2,"{multiline}",{signature}\n',
        "BTC,bitcoin,1,last,1,plain,sig\n",
    ]
    path = tmp_path / "tricky.csv"
    path.write_text("".join(table), newline="")

    def all_records(size: int) -> list:
        _, chunks = rows_module.open_chunks(path, size)
        return [record for chunk in chunks for record in rows_module.records(chunk)]

    whole = all_records(10_000)
    assert [line for line, _ in whole] == [4, 5, 6, 8, 9, 12, 13]  # a record's last physical line
    assert whole[0][1][5] == multiline and isinstance(whole[4][1], str)  # the long field: unreadable
    for size in (1, 2, 3, 4, 5):
        assert all_records(size) == whole, size
    outputs = []
    for size in (2, 10_000):
        monkeypatch.setattr(engine, "CHUNK_ROWS", size)
        summary = verify_reserves(path, tmp_path / f"out-{size}.csv", workers=1)
        outputs.append((tmp_path / f"out-{size}.csv").read_text())
    assert outputs[0] == outputs[1]
    assert summary.counts["verified"] == 1 and "duplicate: already counted on line 4" in outputs[0]
    path.write_bytes(b"coin,network,height,address,amount,message,signature\n" + b"BTC,\xff\n" * 3)
    with pytest.raises(InputError, match="not UTF-8"):
        verify_reserves(path, tmp_path / "bad.csv", workers=1)


def test_worker_processes_speak_json_lines_and_a_dead_worker_is_an_error() -> None:
    job = engine._job_json(engine.Job(rows_module.RowShape({"coin": 0}, 1, 1), rows_module.Chunk(0, [])))
    with workers.WorkerPool(2) as pool:
        assert list(pool.results([job] * 5)) == [b"[]\n"] * 5
    with workers.WorkerPool(1) as pool, pytest.raises(RuntimeError, match="stopped"):
        list(pool.results([b"not json\n"]))  # the worker fails on it (traceback on stderr) and exits


@pytest.mark.timeout(30)
def test_stopping_early_does_not_hang_on_full_pipes() -> None:
    # Answers far bigger than a pipe holds, and a reader that gives up after the first one.
    lines = ["x\n"] * 3000  # 3,000 malformed rows: a long answer each
    job = engine._job_json(engine.Job(rows_module.RowShape({"coin": 0}, 1, 2), rows_module.Chunk(1, lines)))
    with pytest.raises(ZeroDivisionError), workers.WorkerPool(2) as pool:
        for answer in pool.results([job] * 8):
            assert len(answer) > 300_000
            raise ZeroDivisionError
