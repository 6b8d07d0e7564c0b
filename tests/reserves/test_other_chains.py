"""Solana, Aptos, Polkadot, XRP Ledger, EOS, aelf, Filecoin: documented examples where they exist,
real signatures made here with each key type, and negatives. TON is in test_ton.py, EOS account
permissions in test_eos_accounts.py."""

from __future__ import annotations

import hashlib

import pytest
import sr25519
from nacl.signing import SigningKey

from zkpor.reserves import aelf, aptos, eos, filecoin, polkadot, solana, xrpl
from zkpor.reserves.codecs import RIPPLE_ALPHABET, b58check_encode, b58encode, base32_lower, var_str
from zkpor.reserves.framing import ENVELOPE_PREFIX
from zkpor.reserves.hashing import blake2b, hash160, sha256, sha512half
from zkpor.reserves.outcome import KeyNotLinked, Rejected, Unsupported
from zkpor.reserves.rows import ReserveRow
from zkpor.reserves.schemes import check_row

from . import signers as s

MESSAGE = "I am an exchange address"


def row(
    address: str, signature: str, key: str = "", message: str = MESSAGE, network: str = "x"
) -> ReserveRow:
    return ReserveRow(1, "C", network, "1", address, "1", message, signature, "", key, "", "", "", "")


def envelope(message: str) -> bytes:
    return var_str(ENVELOPE_PREFIX) + var_str(message.encode())


def ed_key(seed: int) -> SigningKey:
    return SigningKey(hashlib.sha256(seed.to_bytes(4, "big")).digest())


def test_solana() -> None:
    key = ed_key(1)
    address = b58encode(bytes(key.verify_key))
    raw_sig = b58encode(key.sign(MESSAGE.encode()).signature)
    assert solana.verify(row(address, raw_sig)) == "Solana ed25519 (raw)"
    env_sig = key.sign(envelope(MESSAGE)).signature.hex()
    assert solana.verify(row(address, env_sig)) == "Solana ed25519 (exchange envelope)"
    with pytest.raises(Rejected, match="does not verify"):
        solana.verify(row(address, raw_sig, message="other"))
    with pytest.raises(Rejected, match="does not verify"):  # another key's address
        solana.verify(row(b58encode(bytes(ed_key(2).verify_key)), raw_sig))
    with pytest.raises(Rejected, match="64"):
        solana.verify(row(address, raw_sig[:-8]))


def test_aptos() -> None:
    key = ed_key(3)
    pub = bytes(key.verify_key)
    address = "0x" + aptos.authentication_key(pub).hex()
    sig = key.sign(envelope(MESSAGE)).signature.hex()
    assert aptos.verify(row(address, sig, pub.hex())) == "Aptos ed25519 (exchange envelope)"
    short = "0x" + address[2:].lstrip("0")
    assert aptos.verify(row(short, sig, pub.hex()))
    with pytest.raises(Rejected, match="rotated"):
        aptos.verify(row(address, sig, bytes(ed_key(4).verify_key).hex()))
    with pytest.raises(Rejected, match="public key"):
        aptos.verify(row(address, sig))
    with pytest.raises(Rejected, match="does not verify"):
        aptos.verify(row(address, sig, pub.hex(), message="x"))


def test_polkadot_documented_address_and_both_key_types() -> None:
    # Substrate's well-known development key "Alice": its sr25519 public key and Polkadot address.
    assert polkadot.ss58_decode("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5") == (
        0,
        bytes.fromhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"),
    )
    pub, secret = sr25519.pair_from_seed(bytes(range(32)))
    address = polkadot.ss58_encode(pub)
    wrapped = sr25519.sign((pub, secret), b"<Bytes>" + MESSAGE.encode() + b"</Bytes>")
    assert polkadot.verify(row(address, wrapped.hex())) == "Polkadot sr25519 (<Bytes> wrapper)"
    assert polkadot.verify(row(address, "0x01" + sr25519.sign((pub, secret), MESSAGE.encode()).hex()))
    with pytest.raises(Rejected):  # sr25519 signature presented as ed25519 (type byte 0)
        polkadot.verify(row(address, "0x00" + wrapped.hex()))
    with pytest.raises(Rejected, match="does not verify"):
        polkadot.verify(row(address, wrapped.hex(), message="other"))
    with pytest.raises(Rejected, match="wrong network"):  # Kusama's prefix 2
        polkadot.verify(row(polkadot.ss58_encode(pub, 2), wrapped.hex()))
    ed = ed_key(5)
    ed_address = polkadot.ss58_encode(bytes(ed.verify_key))
    assert (
        polkadot.verify(row(ed_address, ed.sign(MESSAGE.encode()).signature.hex()))
        == "Polkadot ed25519 (raw)"
    )
    with pytest.raises(Rejected, match="checksum"):
        polkadot.ss58_decode(address[:-1] + ("a" if address[-1] != "a" else "b"))


def test_xrpl_documented_genesis_account_and_signatures() -> None:
    # XRP Ledger docs: the genesis account's public key and address.
    genesis = bytes.fromhex("0330E7FC9D56BB25D6893BA3F317AE5BCF33B3291BD63DB32654A313222F7FD020")
    assert xrpl.parse_address("rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh") == hash160(genesis)
    key = s.key(606)
    pub = key.public_key.format()
    address = b58check_encode(b"\x00" + hash160(pub), RIPPLE_ALPHABET)
    der = key.sign(sha512half(MESSAGE.encode()), hasher=None).hex()
    assert xrpl.verify(row(address, der, pub.hex())) == "XRPL secp256k1 (raw)"
    assert xrpl.verify(row(address, der)) == "XRPL secp256k1 (raw, key recovered)"
    with pytest.raises(Rejected):
        xrpl.verify(row(address, der, message="other"))
    from zkpor.reserves.secp256k1 import N, _der_encode, parse_der

    r, s_value = parse_der(bytes.fromhex(der))
    with pytest.raises(Rejected, match="high-s"):
        xrpl.verify(row(address, _der_encode(r, N - s_value).hex(), pub.hex()))
    ed = ed_key(7)
    ed_pub = b"\xed" + bytes(ed.verify_key)
    ed_address = b58check_encode(b"\x00" + hash160(ed_pub), RIPPLE_ALPHABET)
    assert xrpl.verify(row(ed_address, ed.sign(MESSAGE.encode()).signature.hex(), ed_pub.hex())).startswith(
        "XRPL ed25519"
    )
    with pytest.raises(Rejected, match="does not derive"):
        xrpl.verify(row(address, der, ed_pub.hex()))


def test_eos_keys_and_signatures() -> None:
    key = s.key(909)
    pub_text = eos.encode_public_key(key.public_key.format())
    assert eos.parse_public_key(pub_text) == key.public_key.format()
    sig = s.eos_sign(key, sha256(MESSAGE.encode()))
    assert eos.verify(row(pub_text, sig)) == "EOS K1 (raw)"
    with pytest.raises(KeyNotLinked, match="get_account") as pending:
        eos.verify(row("exchangeacct", sig, pub_text))
    assert pending.value.link == ("exchangeacct", pub_text, "EOS K1 (raw)")
    with pytest.raises(Rejected, match="not the address's key"):  # address is one key, column another
        eos.verify(row(eos.encode_public_key(s.key(910).public_key.format()), sig, pub_text))
    with pytest.raises(Rejected, match="account name"):
        eos.verify(row("Not-An-Account", sig, pub_text))
    with pytest.raises(Rejected, match="not by public key"):
        eos.verify(row(pub_text, sig, message="other"))
    with pytest.raises(Rejected, match="checksum"):
        eos.verify(row(pub_text, sig[:-1] + ("1" if sig[-1] != "1" else "2")))
    # The legacy "EOS…" form of a documented key: checksum is RIPEMD-160 of the key alone.
    from zkpor.reserves.hashing import ripemd160

    legacy = "EOS" + b58encode(key.public_key.format() + ripemd160(key.public_key.format())[:4])
    assert eos.parse_public_key(legacy) == key.public_key.format()


def test_aelf() -> None:
    key = s.key(1212)
    address = b58check_encode(aelf.address_of_key(key.public_key.format(compressed=False)))
    sig = s.evm_sign(key, sha256(MESSAGE.encode()))
    assert aelf.verify(row(f"ELF_{address}_AELF", sig)) == "aelf secp256k1 (raw, SHA-256)"
    assert aelf.verify(row(address, sig))
    with pytest.raises(Rejected):
        aelf.verify(row(address, sig, message="other"))
    with pytest.raises(Rejected, match="ELF_ADDRESS_CHAIN"):
        aelf.verify(row(f"X_{address}_Y_Z", sig))


def test_filecoin_f1_and_f410() -> None:
    key = s.key(3141)
    payload = filecoin.address_of_key(key.public_key.format(compressed=False))
    address = "f1" + base32_lower(payload + blake2b(b"\x01" + payload, 4))
    compact = key.sign_recoverable(blake2b(MESSAGE.encode(), 32), hasher=None)
    assert filecoin.verify(row(address, compact.hex())) == "Filecoin f1 secp256k1 (raw, blake2b-256)"
    assert filecoin.verify(row(address, "01" + compact.hex()))
    with pytest.raises(Rejected):
        filecoin.verify(row(address, compact.hex(), message="other"))
    with pytest.raises(Rejected, match="checksum"):
        filecoin.verify(row(address[:-1] + ("a" if address[-1] != "a" else "b"), compact.hex()))
    eth = bytes.fromhex(s.evm_address(key)[2:])
    f410 = "f410f" + base32_lower(eth + blake2b(b"\x04\x0a" + eth, 4))
    assert filecoin.verify(row(f410, s.personal_sign(key, MESSAGE))).startswith("Filecoin f410 EIP-191")
    with pytest.raises(Unsupported, match="f3"):
        filecoin.verify(row("f3abc", compact.hex()))


def test_okx_published_eos_row() -> None:
    # okx/proof-of-reserves example/test.csv: an account ("Vaulta" is EOS's new name), its key, and a
    # signature over the exchange envelope. The key is proven; the account link stays pending.
    published = row(
        "okbwallet1tr",
        "SIG_K1_K1fyBKSBw62ioqwFAFUhuFeCF5SbjbDv387RMAoQVy2VqmM1MhEXZSQ4A38PX7g128NBAanXMkwqYErAD1LNZR2ZWQigJz",
        "EOS7nGMZSQxyvJkH5WDnuGsSQMp7yCRYA5AX4GMAXh6WtmqnMT79X",
        message="OKC_DTT_AUP2025",
        network="Vaulta",
    )
    line, status, scheme, reason, link = check_row(published)
    assert status == "unsupported" and "permissions" in reason
    assert link == ("okbwallet1tr", published.script_or_key, "EOS K1 (exchange envelope)")
    assert check_row(published._replace(message="I am an OKX address"))[1] == "failed"


def test_unimplemented_scheme_is_unsupported_never_verified() -> None:
    verdict = check_row(row("f3abc", "0x00", network="Filecoin"))
    assert verdict[1] == "unsupported" and "f3" in verdict[3]
