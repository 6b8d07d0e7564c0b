"""Contract wallets owned by signing EOAs, against a real node (anvil): the owners and threshold at the
snapshot block decide, not the signatures alone. Staking rows and rotated Aptos keys: by an owners file.

The wallet (evm_multisig.py) answers the Safe interface's getOwners()/getThreshold(); its owners change
by transactions after the snapshot, so the node must be asked at the row's block.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkpor.errors import InputError
from zkpor.reserves.accounts import CombinedAccounts
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.owners import OwnersFile, SafeOwnersRpc
from zkpor.reserves.rpc import JsonRpc

from . import signers as s
from .evm_multisig import RUNTIME as WALLET_RUNTIME
from .evm_multisig import deploy_code, set_owners_data, storage
from .test_anvil_rpc import _send, anvil_url  # noqa: F401 - the node fixture

MESSAGE = "I am an OKX address"
HEADER = (
    "coin,Type,Network,Snapshot Height,address,amount,message,signature1,signature2,"
    "redeem script/public key,EOA1,EOA2\n"
)

# okx/proof-of-reserves example/okx_por_example.csv: a contract wallet with two signing owners.
OKX_WALLET = "0x57e2dcd253527a0f70c6a3de3556f6e6e163f19c"
OKX_OWNER1, OKX_SIG1 = (
    "0x0cdcdb19a857c2ac24818ca4fdfe38cce071483e",
    "0x07f19879aa28d51c97cddfdfecffe7ed96525545d041aee4f4386b0bf4c1a26924b637fb02ccbb97305c13daa51a0f50b8896fb25ecbaf60020cde920d227a221b",
)
OKX_OWNER2, OKX_SIG2 = (
    "0x16f01cfc16b0b8c3400fb8e5099b0974fcc9fc12",
    "0xf6e60fd5d2692eaf813cbb38369c160781a063e39dbadde9a88998a4c8019e08488f83a6e7ee5e5b3fbdd50f25db631150070e8bb470d1474eb0e6d9a1fd0c561c",
)


def _line(address: str, height: int, signers: list, row_type: str = "Non Staking", eoa2: str = "") -> str:
    """A 12-column row signed by `signers` [(key or (address, signature))...]."""
    pairs = [
        (p if isinstance(p, tuple) else (s.evm_address(p), s.personal_sign(p, MESSAGE))) for p in signers
    ]
    (eoa1, sig1), (owner2, sig2) = pairs[0], (pairs[1] if len(pairs) > 1 else (eoa2, ""))
    return f"ETH,{row_type},ETH,{height},{address},1,{MESSAGE},{sig1},{sig2},,{eoa1},{owner2}\n"


def _run(tmp_path: Path, lines: list[str], accounts) -> list[str]:  # noqa: ANN001
    reserves = tmp_path / "reserves.csv"
    reserves.write_text(HEADER + "".join(lines))
    verify_reserves(reserves, tmp_path / "results.csv", accounts=accounts, workers=1)
    return (tmp_path / "results.csv").read_text().splitlines()[1:]


def test_safe_owners_at_the_snapshot_block(anvil_url: str, tmp_path: Path) -> None:  # noqa: F811
    rpc = JsonRpc(anvil_url)
    deployer = rpc.call("eth_accounts", [])[0]
    a, b, c = (s.key(880 + i) for i in range(3))
    wallet = _send(rpc, {"from": deployer, "data": "0x" + deploy_code().hex(), "gas": hex(300_000)})[
        "contractAddress"
    ]
    owners_ab = [s.evm_address(a), s.evm_address(b)]
    _send(rpc, {"from": deployer, "to": wallet, "data": set_owners_data(2, owners_ab), "gas": "0x30000"})
    snapshot = int(rpc.call("eth_blockNumber", []), 16)
    # After the snapshot: b leaves, c joins.
    owners_ac = [s.evm_address(a), s.evm_address(c)]
    _send(rpc, {"from": deployer, "to": wallet, "data": set_owners_data(2, owners_ac), "gas": "0x30000"})
    later = snapshot + 1
    # Only the deployer may change the owners (the node reverts anyone else's call).
    with pytest.raises(AssertionError):
        _send(
            rpc,
            {"from": rpc.call("eth_accounts", [])[1], "to": wallet, "data": set_owners_data(1, owners_ac)},
        )

    source = SafeOwnersRpc("ethereum", rpc)
    assert source.ownership(wallet, snapshot).threshold == 2
    assert source.ownership(wallet, snapshot).owners == {o.lower() for o in owners_ab}
    assert source.ownership(wallet, later).owners == {o.lower() for o in owners_ac}
    accounts = CombinedAccounts([source])

    lines = _run(tmp_path, [_line(wallet, snapshot, [a, b])], accounts)
    assert (
        ",verified," in lines[0]
        and f"2 of threshold 2 owners of {wallet.lower()} at height {snapshot}" in lines[0]
    )
    for signers, why in (
        ([a, c], f"not owners at height {snapshot}: {s.evm_address(c).lower()}"),  # c joined after it
        ([a], "only 1 of the 2 owner signatures"),  # short of the threshold
    ):
        lines = _run(tmp_path, [_line(wallet, snapshot, signers)], accounts)
        assert ",failed," in lines[0] and why in lines[0], lines[0]
    # At the later block b had left: b's signature no longer counts, c's does.
    lines = _run(tmp_path, [_line(wallet, later, [a, b])], accounts)
    assert ",failed," in lines[0] and f"not owners at height {later}: {s.evm_address(b).lower()}" in lines[0]
    assert ",verified," in _run(tmp_path, [_line(wallet, later, [a, c])], accounts)[0]
    # A wallet that did not exist yet at the snapshot block, one deployed but not yet set up (no
    # threshold), and an EOA listed as a wallet.
    lines = _run(tmp_path, [_line(wallet, 0, [a, b])], accounts)
    assert ",failed," in lines[0] and "no contract code at block 0" in lines[0]
    lines = _run(tmp_path, [_line(wallet, snapshot - 1, [a, b])], accounts)
    assert ",failed," in lines[0] and "not a threshold of at least 1" in lines[0]
    lines = _run(tmp_path, [_line(s.evm_address(c), snapshot, [a, b])], accounts)
    assert ",failed," in lines[0] and "no contract code" in lines[0]
    # A contract without the Safe interface (anvil's precompile-free empty call reverts): refused.
    token = _send(rpc, {"from": deployer, "data": "0x" + _reverting_code().hex(), "gas": hex(100_000)})
    lines = _run(tmp_path, [_line(token["contractAddress"], later + 2, [a, b])], accounts)
    assert ",failed," in lines[0] and "does not answer getOwners()" in lines[0], lines[0]
    # Without an owner source the row is never counted.
    lines = _run(tmp_path, [_line(wallet, snapshot, [a, b])], None)
    assert ",unsupported," in lines[0]


def _reverting_code() -> bytes:
    """A contract whose every call reverts: PUSH1 0 DUP1 REVERT, deployed by a tiny constructor."""
    runtime = bytes([0x60, 0x00, 0x80, 0xFD])
    constructor = bytes(
        [0x60, len(runtime), 0x60, 12, 0x60, 0x00, 0x39, 0x60, len(runtime), 0x60, 0x00, 0xF3]
    )
    return constructor + runtime


def test_okx_published_contract_wallet_row(anvil_url: str, tmp_path: Path) -> None:  # noqa: F811
    """OKX's published wallet row, against a node where that address holds a multisig of its two owners."""
    rpc = JsonRpc(anvil_url)
    deployer = rpc.call("eth_accounts", [])[0]
    rpc.call("anvil_setCode", [OKX_WALLET, "0x" + WALLET_RUNTIME.hex()])
    for slot, value in storage(deployer, 2, [OKX_OWNER1, OKX_OWNER2]).items():
        rpc.call("anvil_setStorageAt", [OKX_WALLET, f"0x{slot:064x}", f"0x{value:064x}"])
    rpc.call("evm_mine", [])
    height = int(rpc.call("eth_blockNumber", []), 16)
    accounts = CombinedAccounts([SafeOwnersRpc("ethereum", rpc)])
    row = _line(OKX_WALLET, height, [(OKX_OWNER1, OKX_SIG1), (OKX_OWNER2, OKX_SIG2)])
    lines = _run(tmp_path, [row], accounts)
    assert ",verified," in lines[0], lines[0]
    # Owner 2's signature replaced by owner 1's: the row names owner 2 but it did not sign.
    lines = _run(tmp_path, [row.replace(OKX_SIG2, OKX_SIG1)], accounts)
    assert ",failed," in lines[0] and "owner 2" in lines[0]


# okx/proof-of-reserves example/okx_por_staking_example.csv
VALIDATOR = "0x" + "ab" * 48
RESTAKED = "0x" + "cd" * 48
EIGENPOD = OKX_OWNER2  # OKX's example puts a contract (the EigenPod) in EOA2 of the Eigenlayer row
STAKING_ROWS = [
    f"ETH,Native ETH Staking,ETH,20914735,{VALIDATOR},32,{MESSAGE},{OKX_SIG1},,,{OKX_OWNER1},\n",
    f"ETH,Eigenlayer Staking,ETH,20914735,{RESTAKED},32,{MESSAGE},{OKX_SIG1},,,{OKX_OWNER1},{EIGENPOD}\n",
]


def _owners_file(tmp_path: Path, records: list[dict]) -> OwnersFile:
    path = tmp_path / "owners.json"
    path.write_text(json.dumps({"owners": records}))
    return OwnersFile(path)


def test_staking_rows_by_owners_file(tmp_path: Path) -> None:
    record = {"network": "ETH", "height": 20914735, "owners": [OKX_OWNER1], "kind": "validator"}
    owners = _owners_file(
        tmp_path,
        [
            record | {"address": VALIDATOR, "evidence": "withdrawal credentials 0x01…0cdc"},
            record | {"address": RESTAKED.upper().replace("0X", "0x"), "kind": "EigenPod owner"},
        ],
    )
    lines = _run(tmp_path, STAKING_ROWS, CombinedAccounts([owners]))
    assert all(",verified," in line for line in lines), lines
    assert "1 of threshold 1 owners of " + VALIDATOR in lines[0] and "withdrawal credentials" in lines[0]
    assert "EigenPod contract (not a signer)" in lines[1]
    # Without the owners file, staking rows are unsupported; a file naming another owner, or another
    # height, does not count them.
    assert all(",unsupported," in line for line in _run(tmp_path, STAKING_ROWS, None))
    other = _owners_file(tmp_path, [record | {"address": VALIDATOR, "owners": [OKX_OWNER2]}])
    lines = _run(tmp_path, STAKING_ROWS[:1], CombinedAccounts([other]))
    assert ",failed," in lines[0] and f"not owners at height 20914735: {OKX_OWNER1}" in lines[0]
    earlier = _owners_file(tmp_path, [record | {"address": VALIDATOR, "height": 20000000}])
    lines = _run(tmp_path, STAKING_ROWS[:1], CombinedAccounts([earlier]))
    assert ",failed," in lines[0] and "it has heights 20000000" in lines[0]


@pytest.mark.parametrize(
    ("records", "why"),
    [
        ([{"network": "nowhere", "address": "x", "height": 1, "owners": ["y"]}], "unknown network"),
        ([{"network": "ETH", "address": "0x1", "height": -1, "owners": ["y"]}], "height"),
        ([{"network": "ETH", "address": "0x1", "height": 1, "owners": []}], "owners"),
        ([{"network": "ETH", "address": "0x1", "height": 1, "owners": ["0xa", "0xA"]}], "twice"),
        ([{"network": "ETH", "address": "0x1", "height": 1, "owners": ["0xa"], "threshold": 2}], "threshold"),
        ([{"network": "ETH", "address": "0x1", "height": 1, "owners": ["0xa"]}] * 2, "repeats"),
        ({"owners": "x"}, "list of records"),
    ],
)
def test_bad_owners_files_are_refused_with_the_reason(tmp_path: Path, records: object, why: str) -> None:
    path = tmp_path / "owners.json"
    path.write_text(json.dumps(records))
    with pytest.raises(InputError, match=why):
        OwnersFile(path)


def test_cli_owners_file_and_safe_owners_over_rpc(anvil_url: str, tmp_path: Path) -> None:  # noqa: F811
    """`zkpor reserves --owners FILE --rpc ethereum=URL` on OKX's staking example file as published,
    with its contract-wallet row added: all three rows count."""
    from typer.testing import CliRunner

    from zkpor.cli import app

    rpc = JsonRpc(anvil_url)
    deployer = rpc.call("eth_accounts", [])[0]
    wallet = "0x" + "57e2" * 10
    rpc.call("anvil_setCode", [wallet, "0x" + WALLET_RUNTIME.hex()])
    for slot, value in storage(deployer, 2, [OKX_OWNER1, OKX_OWNER2]).items():
        rpc.call("anvil_setStorageAt", [wallet, f"0x{slot:064x}", f"0x{value:064x}"])
    rpc.call("anvil_setBalance", [wallet, hex(10**18)])
    rpc.call("evm_mine", [])
    height = int(rpc.call("eth_blockNumber", []), 16)
    published = [line.replace("20914735", str(height)) for line in STAKING_ROWS]
    reserves = tmp_path / "staking.csv"
    reserves.write_text(
        "coin,snapshot height,amount\nETH,-,64\n\n"
        + HEADER
        + "".join(published)
        + _line(wallet, height, [(OKX_OWNER1, OKX_SIG1), (OKX_OWNER2, OKX_SIG2)])
    )
    owners = tmp_path / "owners.json"
    owners.write_text(
        json.dumps(
            [
                {
                    "network": "ETH",
                    "address": a,
                    "height": height,
                    "owners": [OKX_OWNER1],
                    "kind": "validator",
                }
                for a in (VALIDATOR, RESTAKED)
            ]
        )
    )
    out = tmp_path / "audit"
    args = ["reserves", str(reserves), "--out", str(out), "--workers", "1", "--owners", str(owners)]
    result = CliRunner().invoke(app, args)  # no node: staking rows count by the file, the wallet does not
    assert result.exit_code == 0, result.output
    lines = (out / "results.csv").read_text().splitlines()
    assert [line.split(",")[10] for line in lines[1:]] == ["verified", "verified", "failed"], lines
    assert "owners file has no record for 0x57e2" in lines[3]
    result = CliRunner().invoke(app, [*args, "--rpc", f"ethereum={anvil_url}"])
    assert result.exit_code == 0, result.output
    lines = (out / "results.csv").read_text().splitlines()
    assert ",verified," in lines[3] and "matched" in lines[3], lines[3]
    # With a node for balances, a validator's stake is not an EVM balance: said so, never counted.
    assert all(",failed," in line and "beacon chain" in line for line in lines[1:3]), lines
