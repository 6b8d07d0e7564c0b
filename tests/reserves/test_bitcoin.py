"""Bitcoin family: official vectors (Bitcoin Core, Dash Core, BIP-322), real signatures, negatives."""

from __future__ import annotations

import base64

import pytest

from zkpor.reserves import bip322, bitcoin
from zkpor.reserves.codecs import CodecError, b58check_decode, cashaddr_decode, segwit_decode
from zkpor.reserves.outcome import Rejected, Unsupported

from . import signers as s

# Bitcoin Core src/test/util_tests.cpp (message_sign / message_verify).
CORE_ADDRESS = "15CRxFdyRpGZLW9w8HnHvVduizdL5jKNbs"
CORE_SIG = "IPojfrX2dfPnH26UegfbGQQLrdK844DlHq5157/P6h57WyuS/Qsl+h/WSVGDF4MUi4rWSswW38oimDYfNNUBUOk="
CORE_CRAFTED = (
    "11canuhp9X2NocwCq7xNrQYTmUgZAnLK3",
    "IIcaIENoYW5jZWxsb3Igb24gYnJpbmsgb2Ygc2Vjb25kIGJhaWxvdXQgZm9yIGJhbmtzIAaHRtbCeDZINyavx14=",
    "Trust me",
)
# Dash Core's util_tests.cpp: the same key under Dash's magic ("DarkCoin Signed Message:\n") and versions.
DASH_ADDRESS = "XetGnWHsPXV9VSkWzB6Wn2KhZLD24gqa5j"
DASH_SIG = "IIOzMDkvw3GtLWXkeEYRRRH53MOLHM44sJ428Nu4NNacTPJTGcKesMJ+3s3OadYK34tpSQIhu922EviNNWTsiQg="

# BIP-322 test vectors (bips/bip-0322.mediawiki) and Bitcoin Core's P2TR vector.
BIP322_KEY = bytes.fromhex("bb051cd0dda0246f33c5a9e133ebd8e7bc02a92af6c41adc131ccd7826c5b004")  # L3VFeEuj...
BIP322_P2WPKH = "bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l"
BIP322_P2TR = "bc1ppv609nr0vr25u07u95waq5lucwfm6tde4nydujnu8npg4q75mr5sxq8lt3"
BIP322_SIGS = [
    (
        "",
        "AkcwRAIgM2gBAQqvZX15ZiysmKmQpDrG83avLIT492QBzLnQIxYCIBaTpOaD20qRlEylyxFSeEA2ba9YOixpX8z46TSDtS40ASECx/Eg"
        "AxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=",
    ),
    (
        "",
        "AkgwRQIhAPkJ1Q4oYS0htvyuSFHLxRQpFAY56b70UvE7Dxazen0ZAiAtZfFz1S6T6I23MWI2lK/pcNTWncuyL8UL+oMdydVgzAEhAsfx"
        "IAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy",
    ),
    (
        "Hello World",
        "AkcwRAIgZRfIY3p7/DoVTty6YZbWS71bc5Vct9p9Fia83eRmw2QCICK/ENGfwLtptFluMGs2KsqoNSk89pO7F29zJLUx9a/s"
        "ASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=",
    ),
    (
        "Hello World",
        "AkgwRQIhAOzyynlqt93lOKJr+wmmxIens//zPzl9tqIOua93wO6MAiBi5n5EyAcPScOjf1lAqIUIQtr3zKNeavYabHyR8eGh"
        "owEhAsfxIAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy",
    ),
]
BIP322_P2TR_SIG = (
    "AUHd69PrJQEv+oKTfZ8l+WROBHuy9HKrbFCJu7U1iK2iiEy1vMU5EfMtjc+VSHM7aU0SDbak5IUZRVno2P5mjSafAQ=="
)


def verify(coin, address, message, sig1, sig2="", script=""):  # noqa: ANN001, ANN201
    return bitcoin.verify(coin, address, message, sig1, sig2, script)


def test_bitcoin_core_legacy_vectors() -> None:
    assert verify("BTC", CORE_ADDRESS, "Trust no one", CORE_SIG).scheme == "BIP-137 P2PKH"
    assert verify("BTC", *CORE_CRAFTED[:1], CORE_CRAFTED[2], CORE_CRAFTED[1]).status == "verified"
    with pytest.raises(Rejected, match="not from this address"):
        verify("BTC", CORE_ADDRESS, "I never signed this", CORE_SIG)
    with pytest.raises(Rejected, match="base64"):
        verify("BTC", CORE_ADDRESS, "m", "invalid signature, not in base64 encoding")
    with pytest.raises(Rejected):
        verify("BTC", CORE_ADDRESS, "m", "A" * 87 + "=")  # 65 zero bytes: header 0
    with pytest.raises(Rejected, match="invalid BTC address"):
        verify("BTC", "invalid address", "m", CORE_SIG)


def test_dash_core_vector_uses_dash_magic_and_versions() -> None:
    assert verify("DASH", DASH_ADDRESS, "Trust no one", DASH_SIG).status == "verified"
    with pytest.raises(Rejected):  # Bitcoin's signature of the same key: other magic
        verify("DASH", DASH_ADDRESS, "Trust no one", CORE_SIG)
    with pytest.raises(Rejected, match="wrong network"):  # a Dash address is not a Bitcoin one
        verify("BTC", DASH_ADDRESS, "Trust no one", DASH_SIG)


def test_bip322_message_hashes_and_transactions() -> None:
    assert bip322.message_hash("").hex() == "c90c269c4f8fcbe6880f72a721ddfbf1914268a794cbb21cfafee13770ae19f1"
    assert (
        bip322.message_hash("Hello World").hex()
        == "f0eb03b1a75ac6d9847f55c624a99169b5dccba2a31f5b23bea77ba270de0a7a"
    )
    spk = bitcoin.decode_address(bitcoin.COINS["BTC"], BIP322_P2WPKH).script_pubkey
    assert (
        bip322.to_spend_txid(spk, "")[::-1].hex()
        == "c5680aa69bb8d860bf82d4e9cd3504b55dde018de765a91bb566283c545a99a7"
    )
    assert bip322.to_spend_txid(spk, "Hello World")[::-1].hex() == (
        "b79d196740ad5217771c1098fc4a4b51e0535c32236c71f1ea4d61a2d603352b"
    )
    assert (
        bip322.to_sign_txid(spk, "")[::-1].hex()
        == "1e9654e951a5ba44c8604c4de6c67fd78a27e81dcadcfe1edf638ba3aaebaed6"
    )
    assert bip322.to_sign_txid(spk, "Hello World")[::-1].hex() == (
        "88737ae86f2077145f93cc4b153ae9a1cb8d56afa511988c149c5c8c9d93bddf"
    )


@pytest.mark.parametrize(("message", "signature"), BIP322_SIGS)
def test_bip322_official_p2wpkh_signatures(message: str, signature: str) -> None:
    assert verify("BTC", BIP322_P2WPKH, message, signature).scheme == "BIP-322 simple P2WPKH"
    with pytest.raises(Rejected, match="does not verify"):
        verify("BTC", BIP322_P2WPKH, message + "!", signature)


def test_bip322_official_p2tr_signature_and_key() -> None:
    assert verify("BTC", BIP322_P2TR, "Hello World", BIP322_P2TR_SIG).scheme == "BIP-322 simple P2TR"
    with pytest.raises(Rejected):
        verify("BTC", BIP322_P2TR, "Hello World!", BIP322_P2TR_SIG)
    with pytest.raises(Rejected):  # swapped: the P2WPKH signature for the taproot address
        verify("BTC", BIP322_P2TR, "Hello World", BIP322_SIGS[2][1])
    # Our taproot tweak reproduces the vector's address from the vector's key.
    import coincurve

    _, output_x = s.taproot_output_key(coincurve.PrivateKey(BIP322_KEY))
    assert segwit_decode("bc", BIP322_P2TR) == (1, output_x)


@pytest.mark.parametrize("coin", ["BTC", "LTC", "DOGE", "DASH", "BCH"])
def test_real_legacy_signatures_per_coin(coin: str) -> None:
    key = s.key(1000 + len(coin))
    pub, pub_u = key.public_key.format(), key.public_key.format(compressed=False)
    message = f"zkpor reserves {coin}"
    assert (
        verify(coin, s.p2pkh(coin, pub), message, s.legacy_sign(key, coin, message)).scheme == "BIP-137 P2PKH"
    )
    uncompressed = s.legacy_sign(key, coin, message, compressed=False)
    assert verify(coin, s.p2pkh(coin, pub_u), message, uncompressed).status == "verified"
    with pytest.raises(Rejected):  # uncompressed signature for the compressed key's address
        verify(coin, s.p2pkh(coin, pub), message, uncompressed)
    with pytest.raises(Rejected):  # wrong message
        verify(coin, s.p2pkh(coin, pub), message + ".", s.legacy_sign(key, coin, message))
    with pytest.raises(Rejected):  # wrong address: another key's
        verify(coin, s.p2pkh(coin, s.key(7).public_key.format()), message, s.legacy_sign(key, coin, message))
    other = "LTC" if coin != "LTC" else "DOGE"
    with pytest.raises(Rejected):  # wrong network: the coin's signature checked under another coin's magic
        verify(coin, s.p2pkh(coin, pub), message, s.legacy_sign(key, other, message))


def test_bch_cashaddr_and_legacy_forms() -> None:
    key = s.key(77)
    pub = key.public_key.format()
    sig = s.legacy_sign(key, "BCH", "m")
    assert verify("BCH", s.p2pkh("BCH", pub), "m", sig).status == "verified"
    assert verify("BCH", s.p2pkh("BCH", pub).split(":")[1], "m", sig).status == "verified"  # prefix omitted
    assert verify("BCH", s.p2pkh_legacy("BCH", pub), "m", sig).status == "verified"


def test_cashaddr_spec_example() -> None:
    # CashAddr specification: the same P2PKH hash in both encodings.
    _, kind, payload = cashaddr_decode("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a")
    assert kind == 0 and payload == b58check_decode("1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu")[1:]


@pytest.mark.parametrize("kind", ["p2sh-p2wpkh", "p2wpkh"])
@pytest.mark.parametrize("coin", ["BTC", "LTC"])
def test_real_segwit_legacy_signatures(coin: str, kind: str) -> None:
    key = s.key(31337)
    pub = key.public_key.format()
    address = s.p2sh_p2wpkh(coin, pub) if kind == "p2sh-p2wpkh" else s.p2wpkh(coin, pub)
    outcome = verify(coin, address, "proof", s.legacy_sign(key, coin, "proof", kind))
    assert outcome.scheme == f"BIP-137 {kind.upper()}"
    with pytest.raises(Rejected):
        verify(coin, address, "proof", s.legacy_sign(s.key(2), coin, "proof", kind))


@pytest.mark.parametrize("coin", ["BTC", "LTC"])
def test_real_bip322_signatures(coin: str) -> None:
    key = s.key(99)
    address, witness = s.bip322_p2wpkh(key, coin, "reserves")
    assert verify(coin, address, "reserves", witness).status == "verified"
    for sighash_all in (False, True):
        address, witness = s.bip322_p2tr(key, coin, "reserves", sighash_all)
        assert verify(coin, address, "reserves", witness).scheme == "BIP-322 simple P2TR"
        with pytest.raises(Rejected):
            verify(coin, address, "reserve", witness)


def test_bip322_rejects_high_s_and_bad_witnesses() -> None:
    from zkpor.reserves.secp256k1 import N, parse_der

    key = s.key(5)
    address, witness = s.bip322_p2wpkh(key, "BTC", "m")
    items = bip322.parse_witness(base64.b64decode(witness))
    r, s_value = parse_der(items[0][:-1])
    high = s.witness([_der(r, N - s_value) + b"\x01", items[1]])
    with pytest.raises(Rejected, match="high-s"):
        verify("BTC", address, "m", high)
    with pytest.raises(Rejected, match="SIGHASH_ALL"):
        verify("BTC", address, "m", s.witness([items[0][:-1] + b"\x02", items[1]]))
    with pytest.raises(Rejected, match="trailing"):
        verify("BTC", address, "m", base64.b64encode(base64.b64decode(witness) + b"\x00").decode())
    with pytest.raises(Rejected, match="truncated"):
        verify("BTC", address, "m", base64.b64encode(base64.b64decode(witness)[:-3]).decode())
    taproot, _ = s.bip322_p2tr(key, "BTC", "m")
    with pytest.raises(Unsupported, match="script-path"):
        verify("BTC", taproot, "m", s.witness([b"\x01" * 64, b"\x51", b"\xc0" + b"\x02" * 32]))


def _der(r: int, s_value: int) -> bytes:
    from zkpor.reserves.secp256k1 import _der_encode

    return _der_encode(r, s_value)


@pytest.mark.parametrize("wrap", ["p2sh", "p2wsh", "p2sh-p2wsh"])
def test_multisig_two_of_three(wrap: str) -> None:
    keys = [s.key(i) for i in (11, 12, 13)]
    script = s.multisig_script(2, [k.public_key.format() for k in keys])
    if wrap == "p2sh":
        address = s.p2sh("BTC", script)
    elif wrap == "p2wsh":
        address = s.p2wsh("BTC", script)
    else:
        address = s.p2sh("BTC", b"\x00\x20" + s.sha256(script))
    sig_a, sig_c = (s.legacy_sign(k, "BTC", "okx") for k in (keys[0], keys[2]))
    outcome = verify("BTC", address, "okx", sig_a, sig_c, script.hex())
    assert outcome.scheme.startswith("2-of-3 multisig")
    with pytest.raises(Rejected, match="only 1 valid"):  # too few signatures
        verify("BTC", address, "okx", sig_a, "", script.hex())
    with pytest.raises(Rejected, match="already signed"):  # one key twice
        verify("BTC", address, "okx", sig_a, sig_a, script.hex())
    with pytest.raises(Rejected, match="not from a key"):  # an outsider's signature
        verify("BTC", address, "okx", sig_a, s.legacy_sign(s.key(14), "BTC", "okx"), script.hex())
    with pytest.raises(Rejected, match="does not hash"):  # another script
        other = s.multisig_script(2, [k.public_key.format() for k in (keys[0], keys[2], s.key(15))])
        verify("BTC", address, "okx", sig_a, sig_c, other.hex())
    with pytest.raises(Rejected):  # wrong message
        verify("BTC", address, "okx!", sig_a, sig_c, script.hex())


def test_multisig_bch_and_doge() -> None:
    for coin in ("BCH", "DOGE"):
        keys = [s.key(i) for i in (21, 22, 23)]
        script = s.multisig_script(2, [k.public_key.format() for k in keys])
        sigs = [s.legacy_sign(k, coin, "m") for k in keys[:2]]
        assert verify(coin, s.p2sh(coin, script), "m", *sigs, script.hex()).status == "verified"


def test_malformed_inputs_are_rejected_with_reasons() -> None:
    key = s.key(3)
    address = s.p2pkh("BTC", key.public_key.format())
    with pytest.raises(Rejected, match="65 bytes"):
        verify("BTC", address, "m", base64.b64encode(b"\x1f" + b"\x01" * 63).decode())
    with pytest.raises(Rejected, match="no signature"):
        verify("BTC", address, "m", "")
    with pytest.raises(Rejected, match="bad base58check checksum"):
        verify(
            "BTC", address[:-1] + ("1" if address[-1] != "1" else "2"), "m", s.legacy_sign(key, "BTC", "m")
        )
    with pytest.raises(Rejected, match="multisig redeem script"):
        verify("BTC", address, "m", s.legacy_sign(key, "BTC", "m"), s.legacy_sign(key, "BTC", "m"))
    with pytest.raises(CodecError, match="bech32 vs bech32m"):
        segwit_decode("bc", s.segwit_encode("bc", 1, b"\x01" * 32)[:-6] + _bech32_checksum_v0())


def _bech32_checksum_v0() -> str:
    # A taproot program encoded with the v0 (bech32) checksum must be refused (BIP-350).
    from zkpor.reserves.codecs import BECH32_CONST, bech32_encode, convert_bits

    return bech32_encode("bc", [1] + convert_bits(b"\x01" * 32, 8, 5, pad=True), BECH32_CONST)[-6:]
