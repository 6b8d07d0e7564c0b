"""Our address encodings against independent libraries: sipa's reference `bech32` (BIP-173/350) and
`base58`. (bip-utils and eth-account would cover more chains, but both require pycryptodome < 4 and
this project pins 4.4; pycardano and starknet-py pull in dozens of packages. Those chains are
checked against published addresses instead: test_okx_vectors.py, test_starknet.py.)"""

from __future__ import annotations

import base58
import bech32
import pytest

from zkpor.reserves import aelf, cardano, evm, polkadot, tron, xrpl
from zkpor.reserves.bitcoin import COINS, Address, encode_address
from zkpor.reserves.hashing import blake2b, hash160, sha256
from zkpor.reserves.networks import CHAINS, canonical_address

from . import signers as s

KEYS = [s.key(31337 + i) for i in range(4)]


@pytest.mark.parametrize("private", KEYS)
def test_segwit_and_base58check_addresses(private) -> None:  # noqa: ANN001
    pub = private.public_key.format()
    h160 = hash160(pub)
    for coin, hrp in (("BTC", "bc"), ("LTC", "ltc")):
        ours = encode_address(COINS[coin], Address("p2wpkh", h160))
        assert ours == bech32.encode(hrp, 0, h160)
        assert bech32.decode(hrp, ours) == (0, list(h160))
        program = sha256(pub)
        assert encode_address(COINS[coin], Address("p2wsh", program)) == bech32.encode(hrp, 0, program)
        # (bech32 1.2.0 predates BIP-350, so taproot's bech32m is checked against BIP-350's own
        # vectors in test_bitcoin.py, not here.)
    for coin in ("BTC", "LTC", "DOGE", "DASH", "BSV"):
        params = COINS[coin]
        for kind, version in (("p2pkh", params.p2pkh[0]), ("p2sh", params.p2sh[0])):
            ours = encode_address(params, Address(kind, h160))
            assert ours == base58.b58encode_check(bytes([version]) + h160).decode()
            assert canonical_address(CHAINS[_chain(coin)], ours) == ours


def _chain(coin: str) -> str:
    return {"BTC": "bitcoin", "LTC": "litecoin", "DOGE": "dogecoin", "DASH": "dash", "BSV": "bitcoin-sv"}[
        coin
    ]


@pytest.mark.parametrize("private", KEYS)
def test_account_addresses(private) -> None:  # noqa: ANN001
    full = private.public_key.format(compressed=False)
    eth20 = evm.address_of_key(full)
    # TRON: base58check of 0x41 || keccak address
    assert tron.encode_address(eth20) == base58.b58encode_check(b"\x41" + eth20).decode()
    # OKC ex1: bech32 of the same 20 bytes
    ex1 = bech32.bech32_encode("ex", bech32.convertbits(eth20, 8, 5))
    assert canonical_address(CHAINS["okc"], ex1) == "0x" + eth20.hex()
    # XRP Ledger: base58check (XRPL alphabet) of 0 || hash160(compressed key)
    account = hash160(private.public_key.format())
    classic = base58.b58encode_check(b"\x00" + account, alphabet=base58.XRP_ALPHABET).decode()
    assert xrpl.parse_address(classic) == account
    # aelf: base58check of sha256(sha256(uncompressed key))
    assert aelf.parse_address(
        base58.b58encode_check(aelf.address_of_key(full)).decode()
    ) == aelf.address_of_key(full)


def test_ss58_and_cardano_against_the_libraries() -> None:
    key = bytes(range(32))
    ours = polkadot.ss58_encode(key)
    raw = base58.b58decode(ours)
    assert raw[0] == 0 and raw[1:33] == key and raw[33:] == blake2b(b"SS58PRE" + raw[:33], 64)[:2]
    # OKX's ADA vector: enterprise address = bech32("addr", 0x61 || blake2b-224(key))
    okx_key = bytes.fromhex("6adf88e2c6c0773abdf059e16d1800af03a44e6031dbd66e27fa31256db08b69")
    expected = bech32.bech32_encode("addr", bech32.convertbits(b"\x61" + cardano.key_hash(okx_key), 8, 5))
    assert expected == "addr1v80axvuddhj0mhlyzk9ness59ev752qvpw53fvf5xjy24yqhvxq3j"
    assert cardano.parse_address(expected) == ("enterprise", cardano.key_hash(okx_key))
