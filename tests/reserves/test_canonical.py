"""One address, many spellings: `canonical_address` gives each chain's spellings of an account one form,
so the engine counts it once. Vectors are OKX's published addresses (okx/proof-of-reserves
`common/crypto_test.go`) and the chains' own documented spellings."""

from __future__ import annotations

import pytest

from zkpor.reserves.networks import CHAINS, canonical_address


@pytest.mark.parametrize(
    ("chain", "spellings", "canonical"),
    [
        (
            "ethereum",
            ["0x52B311C52436789F3754BD199BF3886B8CCBAB4C", "0x52b311c52436789f3754bd199bf3886b8ccbab4c"],
            "0x52b311c52436789f3754bd199bf3886b8ccbab4c",
        ),
        # OKC: ex1 bech32 and 0x hex of the same 20 bytes.
        (
            "okc",
            ["ex1a0ugda5r0hc3vrzu9wyfkx22vz3g2y2paegqvc", "0xEBF886F6837DF1160C5C2B889B194A60A2851141"],
            "0xebf886f6837df1160c5c2b889b194a60a2851141",
        ),
        # Litecoin P2SH: old version 5 ("3…") and new version 50 ("M…") of one script hash.
        (
            "litecoin",
            ["MH7Qru4KFC6tLSiSq7bTWUDyiXERwzdqKp", "3AuGZ1eMJ5FTXwSYjEc7gpyaPpdywVHZCN"],
            "MH7Qru4KFC6tLSiSq7bTWUDyiXERwzdqKp",
        ),
        # Bitcoin Cash: legacy, CashAddr with and without prefix, upper case (the CashAddr spec's
        # legacy ↔ CashAddr examples).
        (
            "bitcoin-cash",
            [
                "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu",
                "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
                "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
                "BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A",
            ],
            "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        ),
        (
            "bitcoin-cash",
            ["3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC", "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq"],
            "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq",
        ),
        (
            "bitcoin",
            [
                "bc1qpypsu8sytw959yu53dk48eaq9saxumwegzwd4anava9qe40k6gfqyrsxaq",
                "BC1QPYPSU8SYTW959YU53DK48EAQ9SAXUMWEGZWD4ANAVA9QE40K6GFQYRSXAQ",
            ],
            "bc1qpypsu8sytw959yu53dk48eaq9saxumwegzwd4anava9qe40k6gfqyrsxaq",
        ),
        # Filecoin: f410f of an Ethereum address and the 0x form (OKX's FIL-EVM vector signs as
        # 0x07e47ed3… in its BSC/OKT vectors).
        (
            "filecoin",
            ["f410fa7sh5u6fvd7vt625dx2akhbu3jt7yvkhgdp55ki", "0x07E47ED3C5A8FF59FB5D1DF4051C34DA67FC5547"],
            "0x07e47ed3c5a8ff59fb5d1df4051c34da67fc5547",
        ),
        # Aptos: the 63-digit short form of OKX's vector and its 64-digit long form.
        (
            "aptos",
            [
                "0x4062a7375a1ab2bb8bc33d2c1cb2f6b0afa1cef98ea7a5afec7afc96675fe1d",
                "0x04062a7375a1ab2bb8bc33d2c1cb2f6b0afa1cef98ea7a5afec7afc96675fe1d",
            ],
            "0x04062a7375a1ab2bb8bc33d2c1cb2f6b0afa1cef98ea7a5afec7afc96675fe1d",
        ),
        (
            "sui",
            ["0x2", "0x0000000000000000000000000000000000000000000000000000000000000002"],
            "0x" + "0" * 63 + "2",
        ),
        (
            "starknet",
            [
                "0x49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7",
                "0x049D36570D4E46F48E99674BD3FCC84644DDD6B96F7C741B1562B82F9E004DC7",
            ],
            "0x049d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7",
        ),
        (
            "ton",
            [
                "EQA5rifVSCc8qQfpCXvq4zJGJPsA0EPCDoWdtg234INftsWj",
                "UQA5rifVSCc8qQfpCXvq4zJGJPsA0EPCDoWdtg234INftphm",
            ],
            "0:39ae27d548273ca907e9097beae3324624fb00d043c20e859db60db7e0835fb6",
        ),
        (
            "aelf",
            [
                "ELF_2XNagboftecQgKRtgG8W5zpdRiZWinUfsfZm62a5NmmEVoZG7X_AELF",
                "2XNagboftecQgKRtgG8W5zpdRiZWinUfsfZm62a5NmmEVoZG7X",
            ],
            "2XNagboftecQgKRtgG8W5zpdRiZWinUfsfZm62a5NmmEVoZG7X",
        ),
        (
            "cardano",
            [
                "addr1v80axvuddhj0mhlyzk9ness59ev752qvpw53fvf5xjy24yqhvxq3j",
                "ADDR1V80AXVUDDHJ0MHLYZK9NESS59EV752QVPW53FVF5XJY24YQHVXQ3J",
            ],
            "addr1v80axvuddhj0mhlyzk9ness59ev752qvpw53fvf5xjy24yqhvxq3j",
        ),
    ],
)
def test_spellings_share_one_canonical_form(chain: str, spellings: list[str], canonical: str) -> None:
    assert {canonical_address(CHAINS[chain], text) for text in spellings} == {canonical}


def test_distinct_accounts_stay_distinct_and_bad_input_is_returned_as_is() -> None:
    ltc = CHAINS["litecoin"]
    assert canonical_address(ltc, "LectSLekhkxEQBHofNFHa3pVHndnb4Z9fN") != canonical_address(
        ltc, "MH7Qru4KFC6tLSiSq7bTWUDyiXERwzdqKp"
    )
    # Undecodable (bad checksum) stays as written, stripped: its row fails when checked.
    assert (
        canonical_address(ltc, " MH7Qru4KFC6tLSiSq7bTWUDyiXERwzdqKq ") == "MH7Qru4KFC6tLSiSq7bTWUDyiXERwzdqKq"
    )
    # Case matters in base58: Solana/TRON/XRP addresses are kept exactly.
    assert canonical_address(CHAINS["solana"], "7bzoTJhZmpU1vQVjN63fQ3iVYmWCVgQh1sYSqsjuapU9") == (
        "7bzoTJhZmpU1vQVjN63fQ3iVYmWCVgQh1sYSqsjuapU9"
    )
