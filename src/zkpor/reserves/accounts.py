"""Account → key links that live in chain state: which keys control an EOS account.

A signature over an EOS row proves control of a key; that the key controls the listed account is in
the account's permissions. Two sources answer with an account's `get_account` record (the JSON a node's
`/v1/chain/get_account` returns: `account_name`, `permissions[].perm_name`, `.required_auth.threshold`,
`.required_auth.keys[].key/.weight`, and `head_block_num`):

* a snapshot file (`--eos-accounts FILE`): a JSON list of such records, an object mapping account
  names to them, or one record per line (JSON Lines);
* a node (`--rpc eos=URL`), queried once per account.

Nodes only answer for their head block, so the result names the block the permissions were read at
(`head_block_num`, when the record has one); permissions at an earlier snapshot height are not
available from a node.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from zkpor.errors import InputError
from zkpor.reserves import eos
from zkpor.reserves.balances import SourceUnavailable
from zkpor.reserves.networks import Chain
from zkpor.reserves.rpc import HttpJson


class AccountKeys(Protocol):
    def covers(self, chain: Chain) -> bool: ...

    def authority(self, chain: Chain, account: str, key: str, height: int | None = None) -> str:
        """How `key` (or the comma-separated keys that signed) controls `account` at the row's snapshot
        `height` (e.g. "exchange@active (weight 1 of threshold 1) at block 123"); raises Rejected when
        it does not, SourceUnavailable when there is no answer."""
        ...


class _EosAccounts:
    def _record(self, account: str) -> object:
        raise NotImplementedError

    def covers(self, chain: Chain) -> bool:
        return chain.family == "eos"

    def authority(self, chain: Chain, account: str, key: str, height: int | None = None) -> str:
        # A node answers for its head block only; the result names that block (see module docstring).
        record = self._record(account)
        how = eos.key_authority(record, account, [eos.parse_public_key(k) for k in key.split(",")])
        block = record.get("head_block_num") if isinstance(record, dict) else None
        return f"key of {how}" + (f" at block {block}" if isinstance(block, int) else "")


class EosAccountsFile(_EosAccounts):
    """`get_account` records read once from a snapshot file."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise InputError(f"cannot read EOS accounts file: {error.strerror}", path=path) from None
        except UnicodeDecodeError:
            raise InputError("EOS accounts file is not UTF-8 text", path=path) from None
        try:
            document = json.loads(text)
        except ValueError:
            try:  # one record per line
                document = [json.loads(line) for line in text.splitlines() if line.strip()]
            except ValueError as error:
                raise InputError(f"EOS accounts file is not JSON: {error}", path=path) from None
        records = list(document.values()) if isinstance(document, dict) else document
        if isinstance(document, dict) and "account_name" in document:
            records = [document]  # a single get_account answer
        if not isinstance(records, list) or not all(
            isinstance(r, dict) and isinstance(r.get("account_name"), str) for r in records
        ):
            raise InputError("EOS accounts file: want get_account records with an account_name", path=path)
        if not records:  # a snapshot of no accounts is an export gone wrong, not a fact to audit
            raise InputError("EOS accounts file lists no accounts (an empty or truncated export?)", path=path)
        self._records: dict[str, dict] = {}
        for record in records:
            if record["account_name"] in self._records:
                raise InputError(f"EOS accounts file lists {record['account_name']} twice", path=path)
            self._records[record["account_name"]] = record

    def _record(self, account: str) -> object:
        if account not in self._records:
            raise SourceUnavailable(f"account {account} is not in the EOS accounts file")
        return self._records[account]


class EosAccountsRpc(_EosAccounts):
    """`get_account` from a node's HTTP API (nodeos / Spring / Leap), cached per account."""

    def __init__(self, node: HttpJson) -> None:
        self.node = node
        self._cache: dict[str, object] = {}

    def _record(self, account: str) -> object:
        if account not in self._cache:
            record = self.node.post(
                {"account_name": account}, path="/v1/chain/get_account", what="get_account"
            )
            if isinstance(record, dict) and "account_name" not in record and "error" in record:
                error = record["error"]
                detail = (error.get("what") or error.get("name")) if isinstance(error, dict) else error
                raise SourceUnavailable(
                    f"get_account {account}: node error: {detail or record.get('message')}"
                )
            self._cache[account] = record
        return self._cache[account]


class CombinedAccounts:
    """Ask each source covering the chain in turn (a snapshot file, then a node): the first answer
    counts; a source without the account passes the question on."""

    def __init__(self, sources: list[AccountKeys]) -> None:
        self.sources = sources

    def covers(self, chain: Chain) -> bool:
        return any(source.covers(chain) for source in self.sources)

    def authority(self, chain: Chain, account: str, key: str, height: int | None = None) -> str:
        missing = SourceUnavailable(f"no account source for {chain.id}")
        for source in self.sources:
            if source.covers(chain):
                try:
                    return source.authority(chain, account, key, height)
                except SourceUnavailable as error:
                    missing = error
        raise missing
