"""The inclusion store, ROUND_DIR/private/inclusion.sqlite: what the exchange keeps to answer customers.

PRIVATE: it holds every customer's uid, nonce and balances. Never publish it.

    meta(key, value)      the run's fingerprint (inputs, options, secret id): a resumed run must match
    batches(batch, root, nodes, totals, proof_sha256, proof_bytes)
                          one row per finished batch; `nodes` is the heap-numbered batch tree
                          (2B × 4 little-endian u64: node 1 the root, leaves at B … 2B−1)
    users(uid, batch, position, nonce, balances)
                          `balances` is zlib(equity ‖ debt as little-endian u64 per asset): most
                          users hold few assets, so this is ~50 bytes instead of 350

A batch's rows are committed in one transaction, after its proof file has been written (atomically):
the commit is the moment a batch counts as done, so a crash at any point loses at most the batch
being proven, and never leaves a batch file without the data to answer its customers.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from zkpor.errors import ZkporError

if TYPE_CHECKING:
    import numpy as np

PRIVATE_DIR = "private"  # ROUND_DIR/private/: never published, working files that hold customers' data
STORE_NAME = "inclusion.sqlite"  # in PRIVATE_DIR
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    batch INTEGER PRIMARY KEY, root BLOB NOT NULL, nodes BLOB NOT NULL, totals TEXT NOT NULL,
    proof_sha256 TEXT NOT NULL, proof_bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    uid TEXT PRIMARY KEY, batch INTEGER NOT NULL, position INTEGER NOT NULL, nonce BLOB NOT NULL,
    balances BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS users_by_batch ON users (batch);
"""


StoreRow = tuple[str, int, bytes, bytes]  # a user's row: uid, position, nonce, packed balances


@dataclass(frozen=True)
class StoredBatch:
    batch: int
    root: bytes  # 32 bytes
    totals: list[list[int]]  # [asset] = [equity, debt], base units
    proof_sha256: str
    proof_bytes: int


@dataclass(frozen=True)
class StoredUser:
    uid: str
    batch: int
    position: int
    nonce: bytes
    equity: list[int]
    debt: list[int]


def pack_balance_rows(equity: np.ndarray, debt: np.ndarray) -> list[bytes]:
    """Each user's `balances` blob from two (users, assets) uint64 arrays: zlib (level 6) of the
    row's equity then debt as little-endian u64. (No numpy import here: `zkpor serve` reads the
    store without numpy.)"""
    width = 8 * equity.shape[1]
    equity_bytes, debt_bytes = (memoryview(a.astype("<u8").tobytes()) for a in (equity, debt))
    return [
        zlib.compress(bytes(equity_bytes[start : start + width]) + debt_bytes[start : start + width], 6)
        for start in range(0, len(equity_bytes), width)
    ]


def unpack_balances(blob: bytes, assets: int) -> tuple[list[int], list[int]]:
    raw = zlib.decompress(blob)
    if len(raw) != 16 * assets:
        raise ZkporError("inclusion store: a user's balances do not cover the round's assets")
    values = list(struct.unpack(f"<{2 * assets}Q", raw))
    return values[:assets], values[assets:]


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _friendly(method: _Method) -> _Method:
    """A damaged or locked database becomes one ZkporError naming the file, not a traceback."""

    @wraps(method)
    def wrapper(self: InclusionStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            raise ZkporError(f"{self.path}: inclusion store error: {error}") from None

    return wrapper  # type: ignore[return-value]


class InclusionStore:
    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        if not create and not path.is_file():
            raise ZkporError(f"{path}: no inclusion store (run `zkpor prove` on the round first)")
        try:
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("PRAGMA synchronous = FULL")
            if create:
                self.db.executescript(_SCHEMA)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            (version,) = self.db.execute("PRAGMA user_version").fetchone()
        except sqlite3.OperationalError as error:  # a full disk, a read-only directory
            raise ZkporError(f"{path}: cannot open the inclusion store: {error}") from None
        except sqlite3.DatabaseError as error:
            raise ZkporError(f"{path}: not a readable inclusion store ({error})") from None
        if version != SCHEMA_VERSION:
            raise ZkporError(f"{path}: inclusion store version {version}, expected {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> InclusionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the run's fingerprint -------------------------------------------------------------------

    @_friendly
    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    @_friendly
    def set_meta(self, values: dict[str, str]) -> None:
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    @_friendly
    def reset(self) -> None:
        with self._transaction():
            for table in ("meta", "batches", "users"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 — fixed table names

    # ---- batches ---------------------------------------------------------------------------------

    @_friendly
    def finished_batches(self) -> dict[int, StoredBatch]:
        rows = self.db.execute("SELECT batch, root, totals, proof_sha256, proof_bytes FROM batches")
        return {b: StoredBatch(b, root, json.loads(totals), sha, size) for b, root, totals, sha, size in rows}

    @_friendly
    def add_batch(
        self,
        batch: StoredBatch,
        nodes: bytes,
        users: Iterable[StoreRow],
    ) -> None:
        """One transaction: the batch's tree and its users (replacing any half-done earlier attempt)."""
        with self._transaction():
            self.db.execute("DELETE FROM users WHERE batch = ?", (batch.batch,))
            self.db.execute(
                "INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?, ?)",
                (
                    batch.batch,
                    batch.root,
                    nodes,
                    json.dumps(batch.totals),
                    batch.proof_sha256,
                    batch.proof_bytes,
                ),
            )
            self.db.executemany(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                ((uid, batch.batch, position, nonce, balances) for uid, position, nonce, balances in users),
            )

    @_friendly
    def batch_nodes(self, batch: int) -> bytes:
        row = self.db.execute("SELECT nodes FROM batches WHERE batch = ?", (batch,)).fetchone()
        if row is None:
            raise ZkporError(f"{self.path}: batch {batch} is not in the inclusion store")
        return row[0]

    @_friendly
    def user(self, uid: str, assets: int) -> StoredUser | None:
        row = self.db.execute(
            "SELECT batch, position, nonce, balances FROM users WHERE uid = ?", (uid,)
        ).fetchone()
        if row is None:
            return None
        equity, debt = unpack_balances(row[3], assets)
        return StoredUser(uid, row[0], row[1], row[2], equity, debt)

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                self.db.execute("COMMIT")
        finally:
            # A failed COMMIT (a full disk) may have rolled back already; rolling back again would
            # replace its error with "no transaction is active".
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
