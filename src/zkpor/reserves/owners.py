"""Who owned an address at the snapshot: contract wallets, staking positions and rotated keys.

Some reserve addresses cannot sign. A row then carries the signatures of its owners (EOA1/EOA2 in
published files), and the signatures alone prove only that those owners signed: that they owned the
address *at the snapshot height* is chain state. Two sources answer it, and a row is counted only
when enough of its signers were owners then:

* `SafeOwnersRpc` — an EVM node: `getOwners()` and `getThreshold()` (the Safe interface, also offered by
  other multisig wallets) called with `eth_call` at the snapshot block. A signer who became an owner
  after that block, or left before it, does not count.
* `OwnersFile` (`--owners FILE`) — a snapshot file for what no `eth_call` answers: validators and
  restaking positions (a validator key cannot sign the message; its withdrawal address's owner does),
  contract wallets without the Safe interface, and Aptos accounts whose authentication key was rotated.

Owners file: JSON, a list of records (or `{"owners": [...]}`), each

    {"network": "ethereum", "address": "0xabab…", "height": 20914735,
     "owners": ["0x0cdc…"], "threshold": 1, "kind": "validator", "evidence": "withdrawal credentials 0x01…"}

`network`, `address`, `height` and `owners` are required; `threshold` defaults to 1; `kind` and
`evidence` are copied into the result. A record answers only for its own height. Addresses are
compared in their canonical form (see `networks.canonical_address`).

Both sources follow the account-source interface of accounts.py: the row's link is (address, the
signers joined by commas, scheme), and `authority` says how the signers control the address or raises
Rejected (they do not) / SourceUnavailable (no answer here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from zkpor.errors import InputError
from zkpor.reserves.balances import SourceUnavailable
from zkpor.reserves.evm import parse_address, to_checksum_address
from zkpor.reserves.networks import Chain, canonical_address, resolve_chain
from zkpor.reserves.outcome import Rejected
from zkpor.reserves.rpc import JsonRpc

GET_OWNERS = "0xa0e67e2b"  # keccak256("getOwners()")[:4]
GET_THRESHOLD = "0xe75235b8"  # keccak256("getThreshold()")[:4]
MAX_OWNERS = 1000


@dataclass(frozen=True, slots=True)
class Ownership:
    """Who owned an address at one height, and how many of them must sign."""

    owners: frozenset[str]  # canonical addresses
    threshold: int
    where: str  # how the answer was obtained, for the result


def signers_meet(ownership: Ownership, account: str, signers: str, height: int | None) -> str:
    """The result text when enough distinct signers were owners; raises Rejected otherwise."""
    signed = {s for s in signers.split(",") if s}
    owning = sorted(signed & ownership.owners)
    outsiders = sorted(signed - ownership.owners)
    at = f"at height {height}" if height is not None else "at the snapshot"
    if len(owning) >= ownership.threshold:
        return (
            f"{len(owning)} of threshold {ownership.threshold} owners of {account} {at} ({ownership.where})"
        )
    detail = f"; not owners {at}: {', '.join(outsiders)}" if outsiders else ""
    raise Rejected(
        f"only {len(owning)} of the {ownership.threshold} owner signatures needed for {account} {at} "
        f"({ownership.where}){detail}"
    )


def _words(data: str, what: str) -> list[int]:
    if not isinstance(data, str) or not data.startswith("0x") or (len(data) - 2) % 64:
        raise SourceUnavailable(f"{what}: node returned {str(data)[:80]!r}, not ABI words")
    body = data[2:]
    return [int(body[i : i + 64], 16) for i in range(0, len(body), 64)]


class SafeOwnersRpc:
    """Owners and threshold of a Safe-style contract wallet at the snapshot block, from an EVM node."""

    def __init__(self, chain_id: str, rpc: JsonRpc) -> None:
        self.chain_id = chain_id
        self.rpc = rpc
        self._cache: dict[tuple[str, int], Ownership] = {}

    def covers(self, chain: Chain) -> bool:
        return chain.id == self.chain_id

    def ownership(self, contract: str, height: int) -> Ownership:
        try:
            address = "0x" + parse_address(contract).hex()
        except Rejected:
            raise SourceUnavailable(
                f"{contract} is not a contract address an EVM node can be asked about"
            ) from None
        if (address, height) not in self._cache:
            block = hex(height)
            code = self.rpc.call("eth_getCode", [address, block])
            if code in ("0x", "0x0", None):
                raise Rejected(
                    f"{address} has no contract code at block {height}: not a contract wallet then"
                )
            owners_data = self._call(address, GET_OWNERS, block, "getOwners()")
            threshold_data = self._call(address, GET_THRESHOLD, block, "getThreshold()")
            wallet = to_checksum_address(bytes.fromhex(address[2:]))
            self._cache[(address, height)] = Ownership(
                frozenset(_decode_address_array(owners_data, address)),
                _decode_threshold(threshold_data, address),
                f"getOwners/getThreshold of {wallet} at block {height}",
            )
        return self._cache[(address, height)]

    def _call(self, address: str, selector: str, block: str, name: str) -> str:
        try:
            return self.rpc.call("eth_call", [{"to": address, "data": selector}, block])
        except SourceUnavailable as error:
            if "node error" not in str(error):
                raise  # no answer at all (node unreachable): not evidence either way
            # A revert: the contract had no such function at that block.
            raise Rejected(f"{address} does not answer {name} at block {int(block, 16)} ({error})") from None

    def authority(self, chain: Chain, account: str, key: str, height: int | None = None) -> str:
        if height is None:
            raise SourceUnavailable("contract owners need the row's snapshot height")
        return signers_meet(self.ownership(account, height), canonical_address(chain, account), key, height)


def _decode_address_array(data: str, address: str) -> list[str]:
    words = _words(data, f"getOwners() of {address}")
    if len(words) < 2 or words[0] != 32 or words[1] > MAX_OWNERS or len(words) != 2 + words[1]:
        raise Rejected(f"getOwners() of {address} did not return an address array")
    if any(word >> 160 for word in words[2:]):
        raise Rejected(f"getOwners() of {address} returned a value that is not an address")
    return [f"0x{word:040x}" for word in words[2:]]


def _decode_threshold(data: str, address: str) -> int:
    words = _words(data, f"getThreshold() of {address}")
    if len(words) != 1 or not 1 <= words[0] <= MAX_OWNERS:
        raise Rejected(f"getThreshold() of {address} returned {data[:80]!r}, not a threshold of at least 1")
    return words[0]


class OwnersFile:
    """Owner records read once from a snapshot file (see the module docstring for the format)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as error:
            raise InputError(f"cannot read owners file: {error.strerror}", path=path) from None
        except ValueError as error:
            raise InputError(f"owners file is not JSON: {error}", path=path) from None
        records = document.get("owners") if isinstance(document, dict) else document
        if not isinstance(records, list):
            raise InputError('owners file: want a list of records or {"owners": [...]}', path=path)
        self._records: dict[tuple[str, str, int], Ownership] = {}
        self._heights: dict[tuple[str, str], list[int]] = {}
        for number, record in enumerate(records, start=1):
            chain, address, height, ownership = _record(record, f"record {number}", path)
            key = (chain.id, address, height)
            if key in self._records:
                raise InputError(
                    f"owners file: record {number} repeats {address} at height {height}", path=path
                )
            self._records[key] = ownership
            self._heights.setdefault((chain.id, address), []).append(height)
        self.chains = {chain_id for chain_id, _, _ in self._records}

    def covers(self, chain: Chain) -> bool:
        return chain.id in self.chains

    def authority(self, chain: Chain, account: str, key: str, height: int | None = None) -> str:
        address = canonical_address(chain, account)
        if height is None or (chain.id, address, height) not in self._records:
            heights = self._heights.get((chain.id, address))
            known = f" (it has heights {', '.join(map(str, sorted(heights)))})" if heights else ""
            raise SourceUnavailable(f"owners file has no record for {address} at height {height}{known}")
        return signers_meet(self._records[(chain.id, address, height)], address, key, height)


def _record(record: object, where: str, path: Path) -> tuple[Chain, str, int, Ownership]:
    def bad(why: str) -> InputError:
        return InputError(f"owners file: {where}: {why}", path=path)

    if not isinstance(record, dict):
        raise bad("not an object")
    chain = resolve_chain(str(record.get("network", "")))
    if chain is None:
        raise bad(f"unknown network {record.get('network')!r}")
    address = record.get("address")
    height = record.get("height")
    owners = record.get("owners")
    threshold = record.get("threshold", 1)
    if not isinstance(address, str) or not address.strip():
        raise bad("address must be a non-empty string")
    if not isinstance(height, int) or isinstance(height, bool) or height < 0:
        raise bad("height must be a block number")
    if (
        not isinstance(owners, list)
        or not owners
        or not all(isinstance(o, str) and o.strip() for o in owners)
    ):
        raise bad("owners must be a non-empty list of addresses")
    canonical_owners = frozenset(canonical_address(chain, owner) for owner in owners)
    if len(canonical_owners) != len(owners):
        raise bad("owners lists an address twice")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= len(owners):
        raise bad(f"threshold must be between 1 and the number of owners ({len(owners)})")
    what = " ".join(
        str(record[k]) for k in ("kind", "evidence") if isinstance(record.get(k), str) and record[k]
    )
    source = f"owners file {path.name}" + (f": {what}" if what else "")
    return chain, canonical_address(chain, address), height, Ownership(canonical_owners, threshold, source)
