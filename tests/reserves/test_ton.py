"""TON: cell hashing, address codec and wallet derivation against published vectors; real signatures
made here with PyNaCl; published OKX rows; and the negatives (key, workchain, wallet kind, flags, CRC)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from zkpor.reserves import ton
from zkpor.reserves.codecs import var_str
from zkpor.reserves.engine import verify_reserves
from zkpor.reserves.framing import ENVELOPE_PREFIX
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.schemes import check_row

MESSAGE = "I am an OKX address"

# The key pair of @ton/ton's and tonkeeper/ton-swift's wallet tests (secret seed and public key as
# printed in tonkeeper/ton-swift Tests/TonSwiftTests/Wallets/WalletContractV5Test.swift).
SEED = bytes.fromhex("34aebb9ea454967f16c407c0f8877763e86212116468169d93a3dcbcafe530c9")
PUBLIC = bytes.fromhex("5754865e86d0ade1199301bbb0319a25ed6b129c4b0a57f28f62449b3df9c522")

# Published wallet addresses of PUBLIC: tonkeeper/ton-swift WalletContractV3Test (v3r1, v3r2),
# ton-org/ton src/wallets/v4/WalletContractV4.spec.ts (v4r2), ton-swift WalletContractV5Test (v5r1).
PUBLISHED = {
    "v3r1": "EQBJp7j5N40GXJbAqFSnfTV1Af4ZTyHIMpRbKcudNhWJbbNO",
    "v3r2": "EQA0D_5WdusaCB-SpnoE6l5TzdBmgOkzTcXrdh0px6g3zJSk",
    "v4r2": "EQDnBF4JTFKHTYjulEJyNd4dstLGH1m51UrLdu01_tw4z2Au",
    "v5r1": "UQBiUbwjoB56b7CYtoiPnY5vPh2Fwjva6jEPBhqnttjQKpce",
}

# okx/proof-of-reserves example/okx_por_example.csv (a highload v3 wallet), and its
# common/crypto_test.go TONCOIN-NEW cases (a v3r2 wallet, two messages).
OKX_ROW = (
    "UQB1CKrUWm7qf41Z1GeEE6AgVVj5cH6y6x1aRmWe6q4mj1fn",
    "0x6c5b3b11b8d4a7b356cb4e4e4a960e476d05b52824a62ef961054617b401f157ef6c01c537f3751c22ba018f97b067d5"
    "08b455f6cbdf757a64ca2571e76dc004",
    "6711ba8eaa47855b01d73e3849cd93861b1c11d7a86ae5fb8f96bb63d9be5a6b",
)
OKX_V3_ADDRESS = "EQA5rifVSCc8qQfpCXvq4zJGJPsA0EPCDoWdtg234INftsWj"
OKX_V3_KEY = "0x3d2696e3d5cbc9047b338e6a56552db1d43ca6e063bc7aa667b18005984372d2"
OKX_V3_SIGNATURES = {
    "hello world": "0xaa406900fdf658e793850d7d47798fa501098db4a6697ac460c1d2800152f401"
    "74d2705f1ec87b1a0b34434647b0efed2b7b70569bc00e8bbc3561c372aacc0b",
    "OKC_DTT_AUP2025": "0x48d46ee1557c4850dff0622cb3b960a667e72df10868c905df1c17bd1dc8ebc4"
    "2691bb8df2814c56933cdfc67a6ba7626ae5faf4ee6190c4a030a43179e0c502",
}


def row(address: str, signature: str, key: str = PUBLIC.hex(), message: str = MESSAGE) -> ReserveRow:
    return ReserveRow(1, "TON", "TON", "1", address, "1", message, signature, "", key, "", "", "", "")


def envelope(message: str) -> bytes:
    return var_str(ENVELOPE_PREFIX) + var_str(message.encode())


def sign(message: bytes, seed: bytes = SEED) -> str:
    return SigningKey(seed).sign(message).signature.hex()


def wallet(name: str) -> ton.Wallet:
    return next(w for w in ton.WALLETS if w.name == name)


def test_cells_and_address_codec_against_published_values() -> None:
    # The empty cell's representation hash is sha256 of its two zero descriptor bytes.
    assert ton.ordinary_cell(ton.Bits()).hash.hex() == (
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
    )
    assert ton.crc16_xmodem(b"123456789") == 0x31C3  # CRC-16/XMODEM catalogue check value
    # xssnick/tonutils-go address/addr_test.go: one account in both flag forms, and a bad checksum.
    account = bytes.fromhex("ba295e33b3c4c9b5265aa4ead1166a92931ce9abea120a8c5e91044a1257f89c")
    bounceable, non_bounceable = (
        "EQC6KV4zs8TJtSZapOrRFmqSkxzpq-oSCoxekQRKElf4nC1I",
        "UQC6KV4zs8TJtSZapOrRFmqSkxzpq-oSCoxekQRKElf4nHCN",
    )
    assert ton.encode_address(0, account) == bounceable
    assert ton.encode_address(0, account, bounceable=False) == non_bounceable
    assert ton.parse_address(bounceable) == ton.parse_address(non_bounceable) == (0, account)
    assert ton.parse_address(bounceable.replace("-", "+").replace("_", "/")) == (0, account)
    assert ton.parse_address("0:" + account.hex()) == (0, account)
    with pytest.raises(Rejected, match="checksum"):
        ton.parse_address("EQCTDVUzmAq6EfzYGEWpVOv16yo-H5Vw3B0rktcidz_ULOUB")
    # Flipping the bounce flag without recomputing the CRC is not the other form of the address.
    with pytest.raises(Rejected, match="checksum"):
        ton.parse_address("U" + bounceable[1:])


def test_hostile_and_foreign_addresses() -> None:
    account = bytes(range(32))

    def friendly(flags: int) -> str:  # a well-formed address (good CRC) with arbitrary flags
        body = bytes([flags, 0]) + account
        return base64.urlsafe_b64encode(body + ton.crc16_xmodem(body).to_bytes(2, "big")).decode()

    with pytest.raises(Rejected, match="testnet"):
        ton.parse_address(friendly(0x11 | 0x80))
    with pytest.raises(Rejected, match="flags"):
        ton.parse_address(friendly(0x12))
    with pytest.raises(Rejected, match="workchain 5"):
        ton.parse_address(ton.encode_address(5, account))
    for bad in ("", "EQ", "0:abcd", "x:" + "00" * 32, "0_0:" + "00" * 32, "0:" + "00 " * 32, "!" * 48):
        with pytest.raises(Rejected):
            ton.parse_address(bad)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_wallet_addresses_derive_from_the_published_key(name: str) -> None:
    workchain, account = ton.parse_address(PUBLISHED[name])
    assert ton.wallet_of(PUBLIC, workchain, account).name == name
    assert bytes(SigningKey(SEED).verify_key) == PUBLIC


def test_other_published_addresses() -> None:
    # tonutils-go ton/wallet/address_test.go: wallet v3 (r2) with the default subwallet.
    key = bytes.fromhex("dcc39550bb494f4b493e7efe1aa18ea31470f33a2553c568cb74a17ed56790c1")
    assert ton.encode_address(0, wallet("v3r2").address_hash(key, 0)) == (
        "EQCvoBT5Keb46oUhI_DpX0WXFDdX9ZyxXBfX3FC9cZa90nQP"
    )
    assert ton.wallet_of(bytes.fromhex(OKX_ROW[2]), *ton.parse_address(OKX_ROW[0])).name == "highload-v3"
    assert ton.wallet_of(bytes.fromhex(OKX_V3_KEY[2:]), *ton.parse_address(OKX_V3_ADDRESS)).name == "v3r2"


def test_okx_published_signatures_verify() -> None:
    address, signature, key = OKX_ROW
    verdict = check_row(row(address, signature, key)._replace(coin="USDT-TON"))
    assert verdict[1:3] == ("verified", "TON wallet highload-v3 ed25519 (exchange envelope)")
    for message, signature in OKX_V3_SIGNATURES.items():
        assert ton.verify(row(OKX_V3_ADDRESS, signature, OKX_V3_KEY, message)) == (
            "TON wallet v3r2 ed25519 (exchange envelope)"
        )
    with pytest.raises(Rejected, match="does not verify"):  # each signature is for its own message only
        ton.verify(row(OKX_V3_ADDRESS, OKX_V3_SIGNATURES["hello world"], OKX_V3_KEY, "OKC_DTT_AUP2025"))


@pytest.mark.parametrize("name", [w.name for w in ton.WALLETS])
def test_real_signatures_for_every_wallet_and_both_workchains(name: str) -> None:
    for workchain in (ton.BASECHAIN, ton.MASTERCHAIN):
        account = wallet(name).address_hash(PUBLIC, workchain)
        for bounceable in (True, False):
            address = ton.encode_address(workchain, account, bounceable=bounceable)
            assert ton.verify(row(address, sign(envelope(MESSAGE)))) == (
                f"TON wallet {name} ed25519 (exchange envelope)"
            )
        raw = f"{workchain}:{account.hex()}"
        assert ton.verify(row(raw, "0x" + sign(MESSAGE.encode()))) == f"TON wallet {name} ed25519 (raw)"


def test_negatives() -> None:
    other_seed = bytes(32)
    other_key = bytes(SigningKey(other_seed).verify_key).hex()
    address = PUBLISHED["v4r2"]
    good = sign(envelope(MESSAGE))
    assert ton.verify(row(address, good)).startswith("TON wallet v4r2")
    with pytest.raises(Rejected, match="does not derive"):  # wrong key for this address
        ton.verify(row(address, sign(envelope(MESSAGE), other_seed), other_key))
    with pytest.raises(Rejected, match="does not verify"):  # right key listed, another key signed
        ton.verify(row(address, sign(envelope(MESSAGE), other_seed)))
    with pytest.raises(Rejected, match="does not verify"):  # wrong message
        ton.verify(row(address, good, message="I am not an OKX address"))
    # Wrong workchain: the basechain wallet's hash presented as a masterchain address.
    _, account = ton.parse_address(address)
    with pytest.raises(Rejected, match="workchain 0, but the address says workchain -1"):
        ton.verify(row(ton.encode_address(-1, account), good))
    # Wallets we do not derive: v4r2 with another wallet id, v5r1 of the testnet (global id -3).
    other_id = ton.state_init(
        wallet("v4r2").code,
        ton.ordinary_cell(ton.Bits().uint(0, 32).uint(ton.DEFAULT_WALLET_ID + 1, 32).raw(PUBLIC).bit(0)),
    )
    testnet_v5 = ton.state_init(
        wallet("v5r1").code,
        ton.ordinary_cell(ton.Bits().bit(1).uint(0, 32).uint(ton.v5_wallet_id(0, -3), 32).raw(PUBLIC).bit(0)),
    )
    for cell in (other_id, testnet_v5):
        with pytest.raises(Rejected, match="standard wallet"):
            ton.verify(row(ton.encode_address(0, cell.hash), good))
    with pytest.raises(Rejected, match="public key column"):
        ton.verify(row(address, good, key=""))
    with pytest.raises(Rejected, match="64"):
        ton.verify(row(address, good[:-4]))
    with pytest.raises(Rejected, match="32"):
        ton.verify(row(address, good, key=PUBLIC.hex()[:-2]))
    with pytest.raises(Rejected, match="two signatures"):
        ton.verify(row(address, good)._replace(signature2=good))
    verdict = check_row(row(address[:-1] + ("A" if address[-1] != "A" else "B"), good))
    assert verdict[1] == "failed" and "checksum" in verdict[3]


def test_both_flag_forms_of_one_address_are_one_listing(tmp_path: Path) -> None:
    _, account = ton.parse_address(PUBLISHED["v5r1"])
    forms = [
        ton.encode_address(0, account),
        ton.encode_address(0, account, bounceable=False),
        f"0:{account.hex()}",
    ]
    signature = sign(envelope(MESSAGE))
    path = tmp_path / "ton.csv"
    path.write_text(
        "coin,network,height,address,amount,message,signature,public_key\n"
        + "".join(f"TON,TON,1,{form},2,{MESSAGE},{signature},{PUBLIC.hex()}\n" for form in forms)
    )
    summary = verify_reserves(path, tmp_path / "out.csv", workers=1)
    assert summary.counts == {"verified": 1, "failed": 2, "unsupported": 0}
    assert summary.assets["TON"].verified == 2
    assert (tmp_path / "out.csv").read_text().count("duplicate: already counted on line 2") == 2
