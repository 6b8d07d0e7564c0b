"""EOS account rows: the key is proven by the signature, the account → key link by the account's
permissions, from a snapshot of get_account records or a node (a fake nodeos on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zkpor.errors import InputError
from zkpor.reserves import engine, eos
from zkpor.reserves.accounts import CombinedAccounts, EosAccountsFile, EosAccountsRpc
from zkpor.reserves.balances import SnapshotBalances, SourceUnavailable
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.hashing import sha256
from zkpor.reserves.networks import CHAINS
from zkpor.reserves.outcome import KeyNotLinked, Rejected
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.rpc import HttpJson

from . import signers as s

MESSAGE = "I am an exchange address"
EOS = CHAINS["eos"]
KEY = s.key(4242)
KEY_TEXT = eos.encode_public_key(KEY.public_key.format())
LEGACY_KEY_TEXT = "EOS" + s.b58encode(KEY.public_key.format() + s.ripemd160(KEY.public_key.format())[:4])
OTHER_KEY_TEXT = eos.encode_public_key(s.key(4243).public_key.format())
SIGNATURE = s.eos_sign(KEY, sha256(MESSAGE.encode()))

# okx/proof-of-reserves example/test.csv: a published EOS ("Vaulta") row.
OKX_ACCOUNT, OKX_KEY = "okbwallet1tr", "EOS7nGMZSQxyvJkH5WDnuGsSQMp7yCRYA5AX4GMAXh6WtmqnMT79X"
OKX_SIGNATURE = (
    "SIG_K1_K1fyBKSBw62ioqwFAFUhuFeCF5SbjbDv387RMAoQVy2VqmM1MhEXZSQ4A38PX7g128NBAanXMkwqYErAD1LNZR2ZWQigJz"
)


def permission(name: str, keys: list[tuple[str, int]], threshold: int = 1) -> dict:
    return {
        "perm_name": name,
        "parent": "owner" if name != "owner" else "",
        "required_auth": {
            "threshold": threshold,
            "keys": [{"key": key, "weight": weight} for key, weight in keys],
            "accounts": [],
            "waits": [],
        },
    }


def account(name: str, *permissions: dict) -> dict:
    """A get_account answer, shaped as nodeos returns it (fields we do not read left out)."""
    return {
        "account_name": name,
        "head_block_num": 431_000_000,
        "core_liquid_balance": "1.0000 EOS",
        "permissions": list(permissions),
    }


ACCOUNTS = {
    "exchangehot1": account(
        "exchangehot1",
        permission("owner", [(OTHER_KEY_TEXT, 1)]),
        permission("active", [(LEGACY_KEY_TEXT, 1)]),
    ),
    "exchangemsig": account(
        "exchangemsig", permission("active", [(KEY_TEXT, 1), (OTHER_KEY_TEXT, 1)], threshold=2)
    ),
    "exchangeelse": account("exchangeelse", permission("active", [(OTHER_KEY_TEXT, 1)])),
    "exchangeclm": account(
        "exchangeclm", permission("active", [(OTHER_KEY_TEXT, 1)]), permission("claimer", [(KEY_TEXT, 1)])
    ),
    OKX_ACCOUNT: account(
        OKX_ACCOUNT, permission("owner", [(OKX_KEY, 1)]), permission("active", [(OKX_KEY, 1)])
    ),
}


def reserves_file(path: Path) -> Path:
    rows = [
        ("exchangehot1", SIGNATURE, KEY_TEXT, MESSAGE, "10"),  # active key: verified
        ("exchangemsig", SIGNATURE, KEY_TEXT, MESSAGE, "1"),  # 1 of 2 signatures
        ("exchangeelse", SIGNATURE, KEY_TEXT, MESSAGE, "1"),  # not this account's key
        ("exchangeclm", SIGNATURE, KEY_TEXT, MESSAGE, "1"),  # only a custom permission
        ("exchangenone", SIGNATURE, KEY_TEXT, MESSAGE, "1"),  # no such account
        (OKX_ACCOUNT, OKX_SIGNATURE, OKX_KEY, "OKC_DTT_AUP2025", "2"),  # published row
        ("exchangehot1", SIGNATURE, OTHER_KEY_TEXT, MESSAGE, "5"),  # signature not by the key (dup too)
    ]
    path.write_text(
        "coin,network,height,address,amount,message,signature,public_key\n"
        + "".join(f"EOS,Vaulta,431000000,{a},{amount},{m},{sig},{k}\n" for a, sig, k, m, amount in rows)
    )
    return path


def results(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()[1:]
    return {line.split(",")[0]: line for line in lines}  # line number -> the CSV line


class _FakeNodeos(BaseHTTPRequestHandler):
    """nodeos' /v1/chain/get_account: a record, or its HTTP 500 error body for an unknown account."""

    requests: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.path == "/v1/chain/get_account"
        self.requests.append(body["account_name"])
        record = ACCOUNTS.get(body["account_name"])
        if record is None:
            status, record = (
                500,
                {
                    "code": 500,
                    "message": "Internal Service Error",
                    "error": {"code": 0, "name": "exception", "what": "unknown key", "details": []},
                },
            )
        else:
            status = 200
        data = json.dumps(record).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nodeos() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _FakeNodeos)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    _FakeNodeos.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_key_authority_rules() -> None:
    key = [KEY.public_key.format()]
    assert eos.key_authority(ACCOUNTS["exchangehot1"], "exchangehot1", key) == (
        "exchangehot1@active (weight 1 of threshold 1)"
    )
    with pytest.raises(Rejected, match="does not satisfy exchangemsig@active"):
        eos.key_authority(ACCOUNTS["exchangemsig"], "exchangemsig", key)
    # Both keys of the 2-of-2 together meet its threshold; the same key twice does not.
    both = key + [s.key(4243).public_key.format()]
    assert eos.key_authority(ACCOUNTS["exchangemsig"], "exchangemsig", both) == (
        "exchangemsig@active (weight 2 of threshold 2)"
    )
    with pytest.raises(Rejected, match="weight 1 of threshold 2"):
        eos.key_authority(ACCOUNTS["exchangemsig"], "exchangemsig", key + key)
    with pytest.raises(Rejected, match="not in exchangeelse's owner or active"):
        eos.key_authority(ACCOUNTS["exchangeelse"], "exchangeelse", key)
    with pytest.raises(Rejected, match="not in exchangeclm's owner or active"):
        eos.key_authority(ACCOUNTS["exchangeclm"], "exchangeclm", key)
    with pytest.raises(Rejected, match="is for 'exchangehot1'"):  # a record for another account
        eos.key_authority(ACCOUNTS["exchangehot1"], "exchangeelse", key)
    for junk in (None, [], {"account_name": "a"}, {"account_name": "a", "permissions": "x"}):
        with pytest.raises(Rejected, match="no permissions"):
            eos.key_authority(junk, "a", key)
    hostile = account("a", {"perm_name": "active", "required_auth": {"keys": [{"key": 5}, "x"]}}, "junk")
    with pytest.raises(Rejected, match="not in a's"):
        eos.key_authority(hostile, "a", key)


def test_rows_without_account_data_stay_unsupported(tmp_path: Path) -> None:
    summary = verify_reserves(reserves_file(tmp_path / "r.csv"), tmp_path / "out.csv", workers=1)
    assert summary.counts == {"verified": 0, "failed": 1, "unsupported": 6}
    assert summary.assets["EOS"].verified == 0


def test_account_rows_through_a_node(tmp_path: Path, nodeos: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = EosAccountsRpc(HttpJson(nodeos))
    out = tmp_path / "out.csv"
    summary = verify_reserves(reserves_file(tmp_path / "r.csv"), out, accounts=source, workers=1)
    by_line = results(out)
    assert (
        ",verified,EOS K1 (raw); key of exchangehot1@active (weight 1 of threshold 1) at block 431000000,"
        in (by_line["2"])
    )
    assert "more signatures would be needed" in by_line["3"]
    assert "the key is not in exchangeelse's owner or active" in by_line["4"]
    assert "the key is not in exchangeclm's owner or active" in by_line["5"]
    assert (
        "account permissions unavailable: get_account exchangenone: node error: unknown key" in by_line["6"]
    )
    assert ",verified,EOS K1 (exchange envelope); key of okbwallet1tr@owner" in by_line["7"]
    assert ",failed," in by_line["8"] and "not by" in by_line["8"]
    assert summary.counts == {"verified": 2, "failed": 5, "unsupported": 0}
    assert summary.assets["EOS"].verified == Decimal(12)
    assert _FakeNodeos.requests.count("exchangehot1") == 1  # one query per account, then the cache
    # The pending links cross from worker processes to the merge intact (chunks of two rows).
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    monkeypatch.setattr(engine, "MIN_PARALLEL_CHUNKS", 2)
    verify_reserves(reserves_file(tmp_path / "r.csv"), tmp_path / "two.csv", accounts=source, workers=2)
    assert (tmp_path / "two.csv").read_text() == out.read_text()


def test_account_rows_from_a_snapshot_file_and_balances(tmp_path: Path, nodeos: str) -> None:
    snapshot = tmp_path / "accounts.json"
    snapshot.write_text(json.dumps([ACCOUNTS["exchangehot1"], ACCOUNTS["exchangemsig"]]))
    balances = tmp_path / "balances.csv"
    balances.write_text("coin,network,height,address,balance\nEOS,eos,431000000,exchangehot1,10.0000\n")
    # The file answers what it has; the node answers the rest.
    source = CombinedAccounts([EosAccountsFile(snapshot), EosAccountsRpc(HttpJson(nodeos))])
    out = tmp_path / "out.csv"
    summary = verify_reserves(
        reserves_file(tmp_path / "r.csv"),
        out,
        accounts=source,
        balances=SnapshotBalances(balances),
        workers=1,
    )
    by_line = results(out)
    assert ",verified," in by_line["2"] and ",matched,10," in by_line["2"]
    assert "more signatures" in by_line["3"]
    assert _FakeNodeos.requests == ["exchangeelse", "exchangeclm", "exchangenone", OKX_ACCOUNT]
    assert summary.assets["EOS"].balance_checked == Decimal(10)
    # Other shapes of the same snapshot: an object by account name, and JSON Lines.
    snapshot.write_text(json.dumps({name: ACCOUNTS[name] for name in ACCOUNTS}))
    assert "exchangehot1@active" in EosAccountsFile(snapshot).authority(EOS, "exchangehot1", KEY_TEXT)
    snapshot.write_text("\n".join(json.dumps(record) for record in ACCOUNTS.values()))
    assert "okbwallet1tr@owner" in EosAccountsFile(snapshot).authority(EOS, OKX_ACCOUNT, OKX_KEY)
    with pytest.raises(SourceUnavailable, match="not in the EOS accounts file"):
        EosAccountsFile(snapshot).authority(EOS, "nobody", KEY_TEXT)
    for bad in ("[1, 2]", "{not json", json.dumps([ACCOUNTS["exchangehot1"]] * 2)):
        snapshot.write_text(bad)
        with pytest.raises(InputError):
            EosAccountsFile(snapshot)
    for empty in ("", " \n", "[]", "{}"):  # no accounts: an export gone wrong, refused by name
        snapshot.write_text(empty)
        with pytest.raises(InputError, match=f"{snapshot}: EOS accounts file lists no accounts"):
            EosAccountsFile(snapshot)


def test_unreachable_node() -> None:
    source = EosAccountsRpc(HttpJson("http://127.0.0.1:1", timeout=5))  # nothing listens on port 1
    with pytest.raises(SourceUnavailable, match="unreachable"):
        source.authority(EOS, "exchangehot1", KEY_TEXT)


def test_cli_eos_accounts(tmp_path: Path, nodeos: str) -> None:
    from zkpor.cli import app

    path = reserves_file(tmp_path / "r.csv")
    snapshot = tmp_path / "accounts.json"
    snapshot.write_text(json.dumps(list(ACCOUNTS.values())))
    for option in (["--eos-accounts", str(snapshot)], ["--rpc", f"eos={nodeos}"]):
        out = tmp_path / "audit"
        result = CliRunner().invoke(
            app, ["reserves", str(path), "--out", str(out), "--workers", "1", *option]
        )
        assert result.exit_code == 0, result.output
        assert "2 verified" in result.output and "warning" not in result.output  # the node answers
        assert json.loads((out / "sums.json").read_text())["assets"]["EOS"]["verified"] == "12"


def test_two_key_rows_in_okx_json_form(tmp_path: Path) -> None:
    # OKX's tool reads `{"publicKey1": …, "publicKey2": …}` with signature1 and signature2.
    other = s.key(4243)
    keys = json.dumps({"publicKey1": KEY_TEXT, "publicKey2": OTHER_KEY_TEXT})
    other_signature = s.eos_sign(other, sha256(MESSAGE.encode()))
    row = ReserveRow(
        1, "EOS", "EOS", "1", "exchangemsig", "1", MESSAGE, SIGNATURE, other_signature, keys, "", "", "", ""
    )
    with pytest.raises(KeyNotLinked) as pending:
        eos.verify(row)
    account, linked_keys, scheme = pending.value.link
    assert (account, linked_keys) == ("exchangemsig", f"{KEY_TEXT},{OTHER_KEY_TEXT}")
    accounts_file = tmp_path / "accounts.json"
    accounts_file.write_text(json.dumps(list(ACCOUNTS.values())))
    source = EosAccountsFile(accounts_file)
    assert "weight 2 of threshold 2" in source.authority(EOS, account, linked_keys)
    # One of the two signatures altered, swapped keys, or the same key twice: refused.
    with pytest.raises(Rejected):
        eos.verify(row._replace(signature2=SIGNATURE))
    with pytest.raises(Rejected, match="same key"):
        eos.verify(row._replace(script_or_key=json.dumps({"publicKey1": KEY_TEXT, "publicKey2": KEY_TEXT})))
    with pytest.raises(Rejected, match="two signatures but one public key"):
        eos.verify(row._replace(script_or_key=KEY_TEXT))
