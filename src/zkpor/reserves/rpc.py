"""Balances from nodes over JSON-RPC: EVM (`eth_getBalance`, ERC-20 `balanceOf` through `eth_call`,
both at the snapshot block) and Bitcoin Core (`scantxoutset`).

Bitcoin Core can only scan its current UTXO set, so its answer counts only when the node's tip is the
snapshot height (an auditor keeps a node stopped there, e.g. with `invalidateblock` past it); any
other height is reported as unavailable rather than silently compared.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from zkpor.reserves.balances import BalanceUnavailable, SourceUnavailable
from zkpor.reserves.evm import parse_address, parse_okc_address
from zkpor.reserves.networks import Chain
from zkpor.reserves.outcome import Rejected

BALANCE_OF = bytes.fromhex("70a08231")  # keccak256("balanceOf(address)")[:4]


class HttpJson:
    """POST a JSON body to an HTTP(S) endpoint and read a JSON answer; credentials may sit in the URL
    (user:pass@, sent as basic auth and kept out of `self.url`)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"RPC URL must be http(s): {url}")
        self._headers = {"Content-Type": "application/json"}
        if parts.username:
            token = f"{parts.username}:{parts.password or ''}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
            parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
        self.url = urlunsplit(parts).rstrip("/")
        self.timeout = timeout

    def post(self, body: object, *, path: str = "", what: str = "request") -> object:
        """The decoded answer; an HTTP error status still returns its JSON body (nodes put the error
        there). Raises SourceUnavailable when the node cannot be reached or does not answer JSON."""
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            self.url + path, data=json.dumps(body).encode(), headers=self._headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read(10_000_000), parse_float=Decimal)
        except urllib.error.HTTPError as error:
            try:
                return json.loads(error.read(1_000_000), parse_float=Decimal)
            except (ValueError, OSError):
                raise SourceUnavailable(f"{what}: HTTP {error.code}") from None
        except (OSError, ValueError) as error:
            raise SourceUnavailable(f"{what}: node unreachable or bad reply ({error})") from None


# A request every node of a family answers (with JSON, even an error): does the node answer at all?
_PROBES: dict[str, tuple[dict, str]] = {
    "evm": ({"jsonrpc": "2.0", "id": 0, "method": "eth_chainId", "params": []}, ""),
    "bitcoin": ({"jsonrpc": "1.0", "id": 0, "method": "getblockchaininfo", "params": []}, ""),
    "eos": ({"account_name": "eosio"}, "/v1/chain/get_account"),  # the system account always exists
}


def why_node_silent(node: HttpJson, family: str) -> str | None:
    """None when the node of `family` answers; else why not (down, refusing, not JSON). A silent node
    turns every row it checks to failed or unsupported, which an auditor must not miss."""
    body, path = _PROBES[family]
    try:
        node.post(body, path=path, what="no answer")
    except SourceUnavailable as error:
        return str(error)
    return None


class JsonRpc(HttpJson):
    """A minimal JSON-RPC 1.0/2.0 client over HTTP(S)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        super().__init__(url, timeout=timeout)
        self._next_id = 0

    def call(self, method: str, params: list) -> object:
        self._next_id += 1
        reply = self.post(
            {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}, what=method
        )
        if not isinstance(reply, dict):
            raise BalanceUnavailable(f"{method}: malformed JSON-RPC reply")
        if reply.get("error"):
            error = reply["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise BalanceUnavailable(f"{method}: node error: {message}")
        return reply.get("result")


def _quantity(value: object, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BalanceUnavailable(f"{what}: node returned {value!r}, not a hex quantity")
    try:
        return int(value, 16)
    except ValueError:
        raise BalanceUnavailable(f"{what}: node returned {value!r}") from None


@dataclass
class EvmBalances:
    """Native and ERC-20 balances of one EVM chain at a block number."""

    chain_id: str
    rpc: JsonRpc
    native: str
    native_decimals: int = 18
    tokens: dict[str, tuple[str, int]] = field(default_factory=dict)  # asset -> (contract, decimals)

    def covers(self, chain: Chain) -> bool:
        return chain.id == self.chain_id

    def balance(self, asset: str, chain: Chain, address: str, height: int) -> Decimal:
        try:
            account = parse_okc_address(address) if chain.id == "okc" else parse_address(address)
        except Rejected as error:
            raise BalanceUnavailable(
                f"{error}: not an account an EVM node holds a balance for (a validator's stake is on the "
                "beacon chain: give it with --balances)"
            ) from None
        block = hex(height)
        if asset == self.native:
            wei = _quantity(self.rpc.call("eth_getBalance", ["0x" + account.hex(), block]), "eth_getBalance")
            return Decimal(wei).scaleb(-self.native_decimals)
        if asset not in self.tokens:
            raise BalanceUnavailable(f"no token contract configured for {asset} on {chain.id} (use --token)")
        contract, decimals = self.tokens[asset]
        data = "0x" + (BALANCE_OF + account.rjust(32, b"\x00")).hex()
        result = self.rpc.call("eth_call", [{"to": contract, "data": data}, block])
        if not isinstance(result, str) or len(result) != 66:
            raise BalanceUnavailable(f"balanceOf on {contract}: unexpected reply {str(result)[:80]!r}")
        return Decimal(_quantity(result, "balanceOf")).scaleb(-decimals)


@dataclass
class BitcoinCoreBalances:
    """A Bitcoin Core-compatible node's `scantxoutset` (BTC, LTC, DOGE, DASH, BCH nodes share it)."""

    chain_id: str
    rpc: JsonRpc

    def covers(self, chain: Chain) -> bool:
        return chain.id == self.chain_id

    def balance(self, asset: str, chain: Chain, address: str, height: int) -> Decimal:
        if asset != chain.native:
            raise BalanceUnavailable(f"{asset} is not {chain.id}'s native coin")
        result = self.rpc.call("scantxoutset", ["start", [f"addr({address})"]])
        if not isinstance(result, dict) or not result.get("success", True):
            raise BalanceUnavailable("scantxoutset did not complete")
        tip = result.get("height")
        if tip != height:
            raise BalanceUnavailable(
                f"node's UTXO set is at height {tip}, the snapshot is at {height}: roll the node to the "
                "snapshot height (or use a snapshot file)"
            )
        total = result.get("total_amount")
        if not isinstance(total, Decimal | int):
            raise BalanceUnavailable(f"scantxoutset returned total_amount {total!r}")
        return Decimal(total)
