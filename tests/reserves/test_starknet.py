"""Starknet: StarkWare's Pedersen and ECDSA against published vectors, and OKX's published Starknet
signatures (SNIP-12 revision 0 typed data) — valid for the key, counted only with an owners record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkpor.reserves import starknet as sn
from zkpor.reserves.accounts import CombinedAccounts
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.outcome import KeyNotLinked, Rejected
from zkpor.reserves.owners import OwnersFile
from zkpor.reserves.rows import ReserveRow

# okx/proof-of-reserves common/crypto_test.go (TestVerifyStarkCoinSignature) and example/test.csv.
OKX_STARKNET = [
    (
        "0x0668a58aec3151bdf0f6f9360ea89453733d5c65f45cafe2d1591d8cddbd2395",
        "hello world",
        "07abc5982853352d98763940726e0ab31f8c25fa6f1fc9951edad49cbfab6297"
        "018d6b42f497cefdcdb70aab45604612f03598a085bf984778fa413c7fab1b75",
        "0x346262ffa4ec2f40feb9ae81e416af7cca9fcfa8871f1f9169e6dccd63aa667",
    ),
    (
        "0x03b7f0b02b63683eca1639fb2d5dfa1021628d4ee728b03bc0ac2be66edc32f1",
        "OKC_DTT_AUP2025",
        "04550efc3034895232cac30b73677c81cf949e7428d9629eda85b83e60614f45"
        "061639b572eb88f82f304b6a3ad4f2392a835e5582b918da53ddaaee4e342ea0",
        "0x6459074aa056e6dfb18539e414720ca7518b4d9b6d9a9fa0a3a64b8e2287963",
    ),
]


def test_curve_and_pedersen_published_vectors() -> None:
    assert sn.on_curve(sn.GENERATOR) and all(sn.on_curve(p) for p in sn.PEDERSEN_POINTS)
    # StarkWare's signature_test_data.json and the Starknet SDKs' Pedersen tests.
    assert sn.pedersen(0, 0) == 0x49EE3EBA8C1600700EE1B87EB599F16716B0B1022947733551FDE4050CA6804
    assert sn.pedersen(1, 2) == 0x5BB9440E27889A364BCB678B1F679ECD1347ACDEDCBF36E83494F857CC58026
    assert (
        sn.pedersen(
            0x3D937C035C878245CAF64531A5756109C53068DA139362728FEB561405371CB,
            0x208A0A10250E382E1E4BBE2880906C2791BF6275695E02FBBC6AEFF9CD8B31A,
        )
        == 0x30E480BED5FE53FA909CC0F8C4D99B8F9F2C016BE4C41E13A4848797979C662
    )
    # starknet.js computeHashOnElements
    assert sn.hash_on_elements([]) == 0x49EE3EBA8C1600700EE1B87EB599F16716B0B1022947733551FDE4050CA6804
    assert sn.hash_on_elements([123782376, 213984, 128763521321]) == (
        0x7B422405DA6571242DFC245A43DE3B0FE695E7021C148B918CD9CDB462CAC59
    )
    # StarkWare's ec_add test: generator + first Pedersen point.
    assert sn._add(sn.GENERATOR, sn.PEDERSEN_POINTS[1]) == (
        0x6BF1086F12F02D647BF4DBA8926603CD9581600E4741BF99C164E0F05B1E302,
        0x64FB5043D75D8262E81B14B44489425B464164EAD414454DF6C90D0BEFE208A,
    )
    with pytest.raises(ValueError):
        sn.pedersen(sn.FIELD, 0)


def _row(address: str, message: str, signature: str, key: str) -> ReserveRow:
    return ReserveRow(2, "ETH", "STARKNET", "1", address, "1", message, signature, "", key, "", "", "", "")


@pytest.mark.parametrize("vector", OKX_STARKNET, ids=["crypto_test", "test.csv"])
def test_okx_starknet_signatures(vector: tuple[str, str, str, str]) -> None:
    address, message, signature, key = vector
    with pytest.raises(KeyNotLinked) as pending:
        sn.verify(_row(address, message, signature, key))
    assert pending.value.link == (
        address,
        f"0x{int(key, 16):064x}",
        "Starknet SNIP-12 typed data, STARK ECDSA",
    )
    other_address = f"0x{int(address, 16) ^ 1:064x}"  # the account is part of what is signed
    flipped = signature[:10] + format(int(signature[10], 16) ^ 1, "x") + signature[11:]
    for altered in (
        _row(address, message + ".", signature, key),
        _row(other_address, message, signature, key),
        _row(address, message, flipped, key),
        _row(
            address,
            message,
            signature,
            OKX_STARKNET[0][3] if key != OKX_STARKNET[0][3] else OKX_STARKNET[1][3],
        ),
    ):
        with pytest.raises(Rejected):
            sn.verify(altered)


def test_starknet_row_counts_with_an_owners_record(tmp_path: Path) -> None:
    address, message, signature, key = OKX_STARKNET[1]
    reserves = tmp_path / "r.csv"
    reserves.write_text(
        "coin,network,height,address,amount,message,signature,public key\n"
        f"ETH,STARKNET,900,{address},1,{message},{signature},{key}\n"
    )
    verify_reserves(reserves, tmp_path / "out.csv", workers=1)
    assert ",unsupported," in (tmp_path / "out.csv").read_text()
    for owner, status in ((key, "verified"), ("0x1234", "failed")):
        owners = tmp_path / "owners.json"
        owners.write_text(
            json.dumps([{"network": "starknet", "address": address, "height": 900, "owners": [owner]}])
        )
        accounts = CombinedAccounts([OwnersFile(owners)])
        verify_reserves(reserves, tmp_path / "out.csv", accounts=accounts, workers=1)
        assert f",{status}," in (tmp_path / "out.csv").read_text()
