"""EVM balances at a past block from a real node: anvil (npm @foundry-rs/anvil-linux-amd64, see tools/).

The fixture starts anvil on 127.0.0.1 with a free port, the test deploys a token, moves funds over
several blocks, and checks eth_getBalance / balanceOf at an earlier height through the whole
`verify_reserves` path. Skipped (with the reason) when anvil is not installed, except on CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from zkpor.reserves.balances import BalanceUnavailable
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.networks import CHAINS
from zkpor.reserves.rpc import EvmBalances, JsonRpc

from . import signers as s
from .evm_token import deploy_code, transfer_data

ROOT = Path(__file__).resolve().parents[2]


def _anvil() -> str | None:
    for candidate in (
        ROOT / "tools/node_modules/.bin/anvil",
        ROOT / "tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil",
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which("anvil")


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    binary = _anvil()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("anvil is not installed: scripts/setup.sh --test installs it from npm into tools/")
        pytest.skip("anvil not installed (scripts/setup.sh --test installs it into tools/)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603
        [binary, "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                JsonRpc(url, timeout=2).call("eth_blockNumber", [])
                break
            except BalanceUnavailable:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"anvil did not start: {process.stderr.read().decode()[-500:]}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _send(rpc: JsonRpc, tx: dict) -> dict:
    tx_hash = rpc.call("eth_sendTransaction", [tx])
    for _ in range(100):
        receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
        if receipt:
            assert receipt["status"] == "0x1", receipt
            return receipt
        time.sleep(0.05)
    raise AssertionError("transaction not mined")


def test_balances_at_a_past_height(anvil_url: str, tmp_path: Path) -> None:
    rpc = JsonRpc(anvil_url)
    funder = rpc.call("eth_accounts", [])[0]  # anvil's unlocked development account
    holder_key = s.key(20261123)
    holder = s.evm_address(holder_key)
    holder_raw = bytes.fromhex(holder[2:])

    token = _send(rpc, {"from": funder, "data": "0x" + deploy_code(10**30).hex(), "gas": hex(500_000)})
    contract = token["contractAddress"]
    _send(
        rpc,
        {"from": funder, "to": contract, "data": transfer_data(holder_raw, 1_500_250_000), "gas": "0x30000"},
    )
    _send(rpc, {"from": funder, "to": holder, "value": hex(3 * 10**18)})
    snapshot = int(rpc.call("eth_blockNumber", []), 16)
    # Later blocks change both balances: the check must read the snapshot height, not the tip.
    _send(
        rpc, {"from": funder, "to": contract, "data": transfer_data(holder_raw, 7_000_000), "gas": "0x30000"}
    )
    _send(rpc, {"from": funder, "to": holder, "value": hex(10**18)})
    assert int(rpc.call("eth_blockNumber", []), 16) == snapshot + 2

    source = EvmBalances("ethereum", rpc, "ETH", 18, {"USDT": (contract, 6)})
    chain = CHAINS["ethereum"]
    assert source.balance("ETH", chain, holder, snapshot) == Decimal(3)
    assert source.balance("USDT", chain, holder, snapshot) == Decimal("1500.25")
    assert source.balance("USDT", chain, holder, snapshot + 2) == Decimal("1507.25")
    assert source.balance("USDT", chain, holder, 1) == 0  # before the first transfer
    with pytest.raises(BalanceUnavailable, match="no token contract"):
        source.balance("USDC", chain, holder, snapshot)

    message = "zkpor test reserves"
    signature = s.personal_sign(holder_key, message)
    reserves = tmp_path / "reserves.csv"
    reserves.write_text(
        "coin,network,height,address,amount,message,signature\n"
        f"ETH,ethereum,{snapshot},{holder},3,{message},{signature}\n"
        f"USDT,ethereum,{snapshot},{holder},1500.25,{message},{signature}\n"
        f"USDT,ethereum,{snapshot + 2},{holder},1507.25,{message},{signature}\n"
    )
    summary = verify_reserves(reserves, tmp_path / "results.csv", balances=source, workers=1)
    lines = (tmp_path / "results.csv").read_text().splitlines()
    assert summary.counts == {"verified": 2, "failed": 1, "unsupported": 0}, lines
    assert "matched" in lines[1] and "matched" in lines[2]
    # One snapshot height per chain per round: a row at another height is refused, whatever its balance.
    assert f"is not ethereum's height for this round, {snapshot}" in lines[3]
    assert summary.assets["USDT"].verified == Decimal("1500.25")
    assert summary.assets["ETH"].balance_checked == Decimal(3)

    # The declared amount must be the balance at the row's own height.
    reserves.write_text(
        "coin,network,height,address,amount,message,signature\n"
        f"USDT,ethereum,{snapshot},{holder},1507.25,{message},{signature}\n"
    )
    summary = verify_reserves(reserves, tmp_path / "results.csv", balances=source, workers=1)
    assert summary.counts["failed"] == 1
    assert "declared amount 1507.25 ≠ chain balance 1500.25" in (tmp_path / "results.csv").read_text()
    assert summary.assets["USDT"].verified == 0
