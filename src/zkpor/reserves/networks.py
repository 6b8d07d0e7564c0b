"""Network names as published → the chain (and signature family) that checks the row.

Published files spell networks many ways ("ETH", "Ethereum", "ERC20", "Avalanche C-Chain", "AVAXC"),
so names are compared after dropping case and punctuation. A name not listed here is an unknown
network: the row fails with that reason rather than being guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Chain:
    """A network we know: its id (used in results and `--rpc ID=URL`), family and native asset."""

    id: str
    family: str  # bitcoin | evm | tron | solana | aptos | sui | ton | polkadot | xrpl | eos | aelf |
    #              filecoin | starknet | cardano
    native: str  # the asset whose balance is the chain's own (gas) balance
    decimals: int  # decimals of the native asset's base unit
    coin: str = ""  # Bitcoin family: which coin's magic and address versions
    ss58: int = -1  # Polkadot family: the SS58 address prefix of this chain


_CHAINS = [
    Chain("bitcoin", "bitcoin", "BTC", 8, "BTC"),
    Chain("litecoin", "bitcoin", "LTC", 8, "LTC"),
    Chain("dogecoin", "bitcoin", "DOGE", 8, "DOGE"),
    Chain("dash", "bitcoin", "DASH", 8, "DASH"),
    Chain("bitcoin-cash", "bitcoin", "BCH", 8, "BCH"),
    Chain("bitcoin-sv", "bitcoin", "BSV", 8, "BSV"),
    Chain("ethereum", "evm", "ETH", 18),
    Chain("ethereum-classic", "evm", "ETC", 18),
    Chain("okc", "evm", "OKT", 18),
    Chain("arbitrum", "evm", "ETH", 18),
    Chain("optimism", "evm", "ETH", 18),
    Chain("polygon", "evm", "POL", 18),
    Chain("avalanche-c", "evm", "AVAX", 18),
    Chain("bsc", "evm", "BNB", 18),
    Chain("xlayer", "evm", "OKB", 18),
    Chain("base", "evm", "ETH", 18),
    Chain("linea", "evm", "ETH", 18),
    Chain("zksync", "evm", "ETH", 18),
    Chain("tron", "tron", "TRX", 6),
    Chain("solana", "solana", "SOL", 9),
    Chain("aptos", "aptos", "APT", 8),
    Chain("sui", "sui", "SUI", 9),
    Chain("ton", "ton", "TON", 9),
    # The relay chain and Asset Hub share SS58 prefix 0 and keys, but hold separate balances.
    Chain("polkadot", "polkadot", "DOT", 10, ss58=0),
    Chain("polkadot-asset-hub", "polkadot", "DOT", 10, ss58=0),
    Chain("xrpl", "xrpl", "XRP", 6),
    Chain("eos", "eos", "EOS", 4),
    Chain("aelf", "aelf", "ELF", 8),
    Chain("filecoin", "filecoin", "FIL", 18),
    Chain("starknet", "starknet", "STRK", 18),
    Chain("cardano", "cardano", "ADA", 6),
]
CHAINS = {chain.id: chain for chain in _CHAINS}

_ALIASES = {
    "bitcoin": ["btc", "bitcoin", "omni"],
    "litecoin": ["ltc", "litecoin"],
    "dogecoin": ["doge", "dogecoin"],
    "dash": ["dash"],
    "bitcoin-cash": ["bch", "bitcoincash", "bchn", "bitcoincashnode"],
    "bitcoin-sv": ["bsv", "bitcoinsv", "bchsv", "bitcoinsatoshivision"],
    "ethereum": ["eth", "ethereum", "erc20", "ethmainnet"],
    "ethereum-classic": ["etc", "ethereumclassic"],
    "okc": ["okc", "okt", "oktc", "okxchain", "okexchain", "okc20", "kip20"],
    "arbitrum": ["arbitrum", "arbitrumone", "etharbitrum", "arb"],
    "optimism": ["optimism", "ethoptimism", "op", "opmainnet"],
    "polygon": ["polygon", "matic", "poly", "polygonpos", "pol"],
    "avalanche-c": ["avaxc", "avalanchec", "avalanchecchain", "avax", "avalanche", "cchain"],
    "bsc": ["bsc", "bnbsmartchain", "bep20", "bnbchain", "binancesmartchain", "bnbbsc"],
    "xlayer": ["xlayer", "x1", "okbx1", "okbx1usdt", "okbx1usdc", "okbx1eth"],
    "base": ["base", "ethbase", "basemainnet"],
    "linea": ["linea", "ethlinea", "lineamainnet"],
    "zksync": ["zksync", "zksyncera", "zksync2", "ethzksync", "ethzksync2"],
    "tron": ["tron", "trx", "trc20"],
    "solana": ["sol", "solana", "spl"],
    "aptos": ["apt", "aptos", "aptosfa"],
    "sui": ["sui"],
    "ton": ["ton", "toncoin", "toncoinnew", "thenopennetwork"],
    "polkadot": ["dot", "polkadot", "polkadotrelaychain", "polkadotrelay"],
    "polkadot-asset-hub": ["assethub", "polkadotassethub", "statemint", "dotassethub"],
    "xrpl": ["xrp", "ripple", "xrpl", "xrpledger"],
    "eos": ["eos", "vaulta"],  # EOS renamed itself Vaulta in 2025; OKX's files use both names
    "aelf": ["elf", "aelf"],
    "filecoin": ["fil", "filecoin", "filevm", "fevm", "filecoinevm"],
    "starknet": ["starknet", "stark", "strk", "starknetmainnet"],
    "cardano": ["ada", "cardano"],
}
_BY_ALIAS = {alias: CHAINS[chain_id] for chain_id, aliases in _ALIASES.items() for alias in aliases}
# The id itself is always accepted too ("bitcoin-cash" normalises to "bitcoincash").
_BY_ALIAS.update(
    {_key: CHAINS[chain_id] for chain_id in CHAINS if (_key := re.sub(r"[^a-z0-9]", "", chain_id))}
)

# Coins that name an asset differently from the symbol used for sums and ratios.
_ASSET_ALIASES = {
    "TONCOIN": "TON",
    "TRON": "TRX",
    "APTOS": "APT",
    "RIPPLE": "XRP",
    "AELF": "ELF",
    "OKC": "OKT",
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve_chain(network: str, coin: str = "") -> Chain | None:
    """The chain of a row: its network column, or when that is empty the network part of the coin."""
    if network.strip():
        return _BY_ALIAS.get(_key(network))
    if "-" in coin:  # e.g. "USDT-TRC20" with no network column
        return _BY_ALIAS.get(_key(coin.split("-", 1)[1]))
    return _BY_ALIAS.get(_key(coin))


def asset_symbol(coin: str) -> str:
    """The asset a row counts towards: "USDT-TRC20" → USDT, "ETH-ARBITRUM" → ETH, "TONCOIN" → TON."""
    symbol = re.split(r"[-_ (]", coin.strip().upper(), maxsplit=1)[0]
    return _ASSET_ALIASES.get(symbol, symbol)


def canonical_address(chain: Chain, address: str) -> str:
    """The one spelling all forms of an address share on `chain`, so it is counted once.

    EVM case (and OKC's `ex1…`, Filecoin's `f410f…` for the same 20 bytes) → lower-case 0x hex;
    Bitcoin family → the coin's preferred encoding of the same script (LTC P2SH `3…` → `M…`, BCH legacy
    → CashAddr, bech32 lower case); Aptos/SUI/Starknet short forms → 0x + 64 hex digits; TON's
    `EQ…`/`UQ…`/raw forms → `wc:hex`; aelf's `ELF_…_AELF` → the bare address. Never raises: an address
    that does not decode is returned stripped (its row fails when it is checked).
    """
    address = address.strip()
    module = _CANONICAL.get(chain.family)
    if module is None or not address:
        return address
    from zkpor.reserves.outcome import Rejected, Unsupported

    try:
        return __import__(module, fromlist=["canonical"]).canonical(chain, address)
    except (Rejected, Unsupported, ValueError):
        return address


# The chain module whose `canonical(chain, address)` spells each family's addresses one way.
_CANONICAL = {
    "evm": "zkpor.reserves.evm",
    "filecoin": "zkpor.reserves.filecoin",
    "bitcoin": "zkpor.reserves.bitcoin",
    "aptos": "zkpor.reserves.aptos",
    "sui": "zkpor.reserves.sui",
    "starknet": "zkpor.reserves.starknet",
    "ton": "zkpor.reserves.ton",
    "aelf": "zkpor.reserves.aelf",
    "cardano": "zkpor.reserves.cardano",
    "polkadot": "zkpor.reserves.polkadot",
}
