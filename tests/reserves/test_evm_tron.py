"""EVM (EIP-191, EIP-55) and TRON: published examples, real signatures, negatives."""

from __future__ import annotations

import pytest

from zkpor.reserves import evm, tron
from zkpor.reserves.outcome import Rejected

from . import signers as s

# eth-account documentation: Account.sign_message(encode_defunct(text="I♥SF"), key) with this key.
DOC_KEY = bytes.fromhex("b25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364")
DOC_ADDRESS = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E"
DOC_SIG = (
    "0xe6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb3"
    "3e5bfbbf4d3e39b1a2fd816a7680c19ebebaf3a141b239934ad43cb33fcec8ce1c"
)
# OKX's published example file (proof-of-reserves, example/okx_por_example.csv): real reserve rows.
OKX_ROWS = [
    (
        "0x0cdcdb19a857c2ac24818ca4fdfe38cce071483e",
        "0x07f19879aa28d51c97cddfdfecffe7ed96525545d041aee4f4386b0bf4c1a26924b637fb02ccbb97305c13daa51a0f50b8896fb25e"
        "cbaf60020cde920d227a221b",
    ),
    (
        "0x16f01cfc16b0b8c3400fb8e5099b0974fcc9fc12",
        "0xf6e60fd5d2692eaf813cbb38369c160781a063e39dbadde9a88998a4c8019e08488f83a6e7ee5e5b3fbdd50f25db631150070e8bb4"
        "70d1474eb0e6d9a1fd0c561c",
    ),
]


def test_eip191_documented_example() -> None:
    assert evm.personal_digest("I♥SF".encode()).hex() == (
        "1476abb745d423bf09273f1afd887d951181d25adc66c4834a70491911b7f750"
    )
    assert evm.verify(DOC_ADDRESS, "I♥SF", DOC_SIG, "") == "EIP-191 personal_sign"
    import coincurve

    assert s.evm_address(coincurve.PrivateKey(DOC_KEY)) == DOC_ADDRESS
    with pytest.raises(Rejected, match="recovers to"):
        evm.verify(DOC_ADDRESS, "I♥NY", DOC_SIG, "")


@pytest.mark.parametrize(
    "address",
    # EIP-55's own test cases.
    [
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
)
def test_eip55_vectors(address: str) -> None:
    raw = evm.parse_address(address)
    if address[2:] != address[2:].lower() and address[2:] != address[2:].upper():
        assert evm.to_checksum_address(raw) == address
        broken = address[:-1] + (address[-1].swapcase() if address[-1].isalpha() else address[-1])
        if broken != address:
            with pytest.raises(Rejected, match="EIP-55"):
                evm.parse_address(broken)


@pytest.mark.parametrize(("address", "signature"), OKX_ROWS)
def test_published_exchange_rows_verify(address: str, signature: str) -> None:
    assert evm.verify(address, "I am an OKX address", signature, "").startswith("EIP-191")
    with pytest.raises(Rejected):
        evm.verify(address, "I am an OKX address.", signature, "")


def test_swapped_signatures_fail() -> None:
    (a1, sig1), (a2, sig2) = OKX_ROWS
    with pytest.raises(Rejected, match="recovers to"):
        evm.verify(a1, "I am an OKX address", sig2, "")


def test_real_evm_signatures_and_negatives() -> None:
    key = s.key(424242)
    address = s.evm_address(key)
    sig = s.personal_sign(key, "reserves 2026-11")
    assert evm.verify(address, "reserves 2026-11", sig, "") == "EIP-191 personal_sign"
    assert evm.verify(address.lower(), "reserves 2026-11", sig, "")
    v01 = sig[:-2] + f"{int(sig[-2:], 16) - 27:02x}"  # v as 0/1 is accepted too
    assert evm.verify(address, "reserves 2026-11", v01, "")
    with pytest.raises(Rejected, match="high-s"):
        evm.verify(address, "reserves 2026-11", s.high_s(sig), "")
    with pytest.raises(Rejected, match="65 bytes"):
        evm.verify(address, "reserves 2026-11", sig[:-2], "")
    with pytest.raises(Rejected, match="hex"):
        evm.verify(address, "reserves 2026-11", sig[:-1] + "g", "")
    with pytest.raises(Rejected, match="recovery byte"):
        evm.verify(address, "reserves 2026-11", sig[:-2] + "05", "")
    with pytest.raises(Rejected, match="recovers to"):
        evm.verify(s.evm_address(s.key(1)), "reserves 2026-11", sig, "")
    with pytest.raises(Rejected, match="two signatures"):
        evm.verify(address, "reserves 2026-11", sig, sig)


def test_evm_owner_signatures() -> None:
    k1, k2 = s.key(51), s.key(52)
    owners = evm.verify_owners(
        "m", s.personal_sign(k1, "m"), s.personal_sign(k2, "m"), s.evm_address(k1), s.evm_address(k2)
    )
    assert owners == [s.evm_address(k1), s.evm_address(k2)]
    with pytest.raises(Rejected, match="owner 2"):
        evm.verify_owners(
            "m", s.personal_sign(k1, "m"), s.personal_sign(k1, "m"), s.evm_address(k1), s.evm_address(k2)
        )


def test_tron_v2_and_v1_signatures() -> None:
    key = s.key(8080)
    address = s.tron_address(key)
    assert address.startswith("T")
    v2 = s.evm_sign(key, tron.v2_digest(b"I am an exchange address"))
    v1 = s.evm_sign(key, tron.v1_digest(b"I am an exchange address"))
    assert tron.verify(address, "I am an exchange address", v2) == "TRON signMessageV2"
    assert tron.verify(address, "I am an exchange address", v1) == "TRON signMessage (v1)"
    with pytest.raises(Rejected, match="recovers to"):
        tron.verify(address, "I am another address", v2)
    with pytest.raises(Rejected, match="high-s"):
        tron.verify(address, "I am an exchange address", s.high_s(v2))
    with pytest.raises(Rejected):  # an Ethereum signature of the same text is not a TRON one
        tron.verify(address, "I am an exchange address", s.personal_sign(key, "I am an exchange address"))
    with pytest.raises(Rejected, match="TRON"):  # wrong network: an EVM address on the TRON row
        tron.verify(s.evm_address(key), "I am an exchange address", v2)


def test_tron_known_address_encoding() -> None:
    # TRON's documentation: hex 41 + the 20-byte account id maps to this base58check address.
    raw = tron.parse_address("TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW")
    assert tron.encode_address(raw) == "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW"
