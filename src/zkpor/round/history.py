"""The history store: each round's headline figures, per asset, across the months.

A round records one row in `rounds` and one row per asset in `round_assets`; the report reads them
back to show the history and the growth vs last month and vs last year.

Where it lives: by default a SQLite file, `history.sqlite`, next to the round directory (in its
parent, so consecutive rounds `rounds/2025-05/`, `rounds/2025-06/` share `rounds/history.sqlite`).
Given a URL it is any SQLAlchemy database we support: `sqlite:///path` or
`postgresql://user:password@host/db` (driven by psycopg 3).

The schema is owned by the Alembic migrations in `zkpor/round/migrations/`; opening a store upgrades
it to the newest revision this code knows, and refuses a database written by a newer zkpor.

Money is exact throughout: amounts are Python ints in base units (satoshi, wei), prices and USD
totals are Decimals; nothing passes through a float, in Python or in the database.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from zkpor.errors import ZkporError

DEFAULT_FILENAME = "history.sqlite"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Ratios and growth rates are rounded to this many decimal places (1e-6 = 0.0001 %).
RATIO_PLACES = 6
# "A year earlier" is the round closest to the same date a year before, if one lies within this window:
# wide enough for snapshot days that drift within a month, too narrow to pick up the 11- or 13-month one.
YEAR_EARLIER_TOLERANCE = timedelta(days=15)
# Alembic's `context` and `op` are module-level proxies: one migration at a time per process.
_MIGRATION_LOCK = threading.Lock()
# NUMERIC(78, 0) holds any 256-bit value; bigger never occurs and would not fit PostgreSQL's column.
_MAX_EXACT_DIGITS = 78
_HEX = re.compile(r"(0x)?[0-9a-f]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")
VERIFIED_STATUSES = ("verified", "published")


def default_history_path(round_dir: str | Path) -> Path:
    """Where a round's history lives unless told otherwise: `history.sqlite` in the round dir's parent."""
    return Path(round_dir).resolve().parent / DEFAULT_FILENAME


# ---------------------------------------------------------------------------------------------------
# What is stored


@dataclass(frozen=True)
class AssetFigures:
    """One asset's figures in one round. Amounts are in base units (e.g. satoshi for BTC)."""

    symbol: str
    decimals: int
    price_usd: Decimal
    total_equity: int
    total_debt: int
    net_liabilities: int
    verified_reserves: int
    # verified_reserves / net_liabilities, rounded down (never shows a shortfall as 100 %);
    # None when customers are owed nothing in this asset.
    reserve_ratio: Decimal | None

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol:
            raise ValueError(f"asset symbol must be a non-empty string, got {self.symbol!r}")
        _check_int(f"{self.symbol} decimals", self.decimals, minimum=0)
        _check_decimal(f"{self.symbol} price_usd", self.price_usd)
        _check_int(f"{self.symbol} total_equity", self.total_equity, minimum=0)
        _check_int(f"{self.symbol} total_debt", self.total_debt, minimum=0)
        _check_int(f"{self.symbol} net_liabilities", self.net_liabilities)
        _check_int(f"{self.symbol} verified_reserves", self.verified_reserves, minimum=0)
        if self.reserve_ratio is not None:
            _check_decimal(f"{self.symbol} reserve_ratio", self.reserve_ratio)

    @classmethod
    def from_totals(
        cls,
        symbol: str,
        decimals: int,
        price_usd: Decimal,
        total_equity: int,
        total_debt: int,
        verified_reserves: int,
    ) -> AssetFigures:
        """Figures with net liabilities (equity − debt) and the reserve ratio derived from the totals."""
        net = total_equity - total_debt
        ratio = _rounded(Fraction(verified_reserves, net), math.floor) if net > 0 else None
        return cls(symbol, decimals, price_usd, total_equity, total_debt, net, verified_reserves, ratio)


@dataclass(frozen=True)
class RoundRecord:
    """A round as the history keeps it: headline figures, and the per-asset ones in round.toml order."""

    round_id: str
    snapshot_time: datetime
    status: str  # e.g. "proved", "verified", "published"
    liabilities_root: str  # hex of the proven Merkle root
    user_count: int
    proof_size_bytes: int
    security_bits: int
    total_liabilities_usd: Decimal
    total_reserves_usd: Decimal
    assets: tuple[AssetFigures, ...]
    report_sha256: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not isinstance(self.round_id, str) or not self.round_id or len(self.round_id) > 200:
            raise ValueError(f"round_id must be a string of 1 to 200 characters, got {self.round_id!r}")
        for name in ("snapshot_time", "created_at"):
            moment = getattr(self, name)
            if not isinstance(moment, datetime) or moment.utcoffset() is None:
                raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
        if not isinstance(self.status, str) or not self.status:
            raise ValueError("status must be a non-empty string")
        if not isinstance(self.liabilities_root, str) or not _HEX.fullmatch(self.liabilities_root):
            raise ValueError(f"liabilities_root must be lower-case hex, got {self.liabilities_root!r}")
        for name in ("user_count", "proof_size_bytes", "security_bits"):
            _check_int(name, getattr(self, name), minimum=0)
        _check_decimal("total_liabilities_usd", self.total_liabilities_usd)
        _check_decimal("total_reserves_usd", self.total_reserves_usd)
        if self.report_sha256 is not None and not _SHA256.fullmatch(str(self.report_sha256)):
            raise ValueError(f"report_sha256 must be 64 lower-case hex digits, got {self.report_sha256!r}")
        # Accept any sequence of assets but keep a tuple, so a record stays immutable and hashable.
        object.__setattr__(self, "assets", tuple(self.assets))
        symbols = [asset.symbol for asset in self.assets]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"round {self.round_id}: an asset is listed twice in {symbols}")

    @property
    def reserve_ratio(self) -> Decimal | None:
        """Total reserves ÷ total liabilities in USD, rounded down; None when nothing is owed."""
        if self.total_liabilities_usd <= 0:
            return None
        return _rounded(Fraction(self.total_reserves_usd) / Fraction(self.total_liabilities_usd), math.floor)

    def asset(self, symbol: str) -> AssetFigures | None:
        return next((asset for asset in self.assets if asset.symbol == symbol), None)


@dataclass(frozen=True)
class Growth:
    """Relative change against an earlier round: Decimal("0.05") is +5 %, None when it was zero then.

    Per asset, liabilities and reserves are compared in the asset's own units (how many BTC), so the
    growth is not just the price moving; for a whole round they are the USD totals.
    """

    earlier_round_id: str
    liabilities: Decimal | None
    reserves: Decimal | None


@dataclass(frozen=True)
class AssetGrowth:
    symbol: str
    vs_previous: Growth | None  # None: no previous round, or it did not cover this asset
    vs_year_earlier: Growth | None


@dataclass(frozen=True)
class RoundGrowth:
    round_id: str
    usd_vs_previous: Growth | None
    usd_vs_year_earlier: Growth | None
    assets: tuple[AssetGrowth, ...]


# ---------------------------------------------------------------------------------------------------
# How it is stored


class ExactInteger(sa.types.TypeDecorator[int]):
    """A Python int up to 78 digits: NUMERIC(78, 0) on PostgreSQL, canonical decimal text on SQLite.

    PostgreSQL's NUMERIC is exact and stays summable in SQL. SQLite has no exact type wider than 64 bits
    (a NUMERIC column there turns 2^70 into a float), so the digits are kept as text.
    """

    impl = sa.Numeric(_MAX_EXACT_DIGITS, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.Numeric(_MAX_EXACT_DIGITS, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """A Decimal of any precision: unconstrained NUMERIC on PostgreSQL, `str(Decimal)` text on SQLite."""

    impl = sa.Numeric()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime, stored in UTC. SQLite keeps no zone, so there it is naive UTC text, which
    also sorts chronologically; reading it back re-attaches UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The tables as of the newest migration. The migrations create them; a test checks the two agree.
metadata = sa.MetaData()

rounds = sa.Table(
    "rounds",
    metadata,
    sa.Column("round_id", sa.String(200), primary_key=True),
    sa.Column("snapshot_time", UtcDateTime(), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("liabilities_root", sa.String(200), nullable=False),
    sa.Column("user_count", sa.BigInteger(), nullable=False),
    sa.Column("proof_size_bytes", sa.BigInteger(), nullable=False),
    sa.Column("security_bits", sa.Integer(), nullable=False),
    sa.Column("total_liabilities_usd", ExactDecimal(), nullable=False),
    sa.Column("total_reserves_usd", ExactDecimal(), nullable=False),
    sa.Column("report_sha256", sa.String(64), nullable=True),
)

round_assets = sa.Table(
    "round_assets",
    metadata,
    sa.Column(
        "round_id", sa.String(200), sa.ForeignKey("rounds.round_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("symbol", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),  # keeps the round.toml order of assets
    sa.Column("decimals", sa.Integer(), nullable=False),
    sa.Column("price_usd", ExactDecimal(), nullable=False),
    sa.Column("total_equity", ExactInteger(), nullable=False),
    sa.Column("total_debt", ExactInteger(), nullable=False),
    sa.Column("net_liabilities", ExactInteger(), nullable=False),
    sa.Column("verified_reserves", ExactInteger(), nullable=False),
    sa.Column("reserve_ratio", ExactDecimal(), nullable=True),
)


# ---------------------------------------------------------------------------------------------------
# Opening and migrating


def database_url(target: str | Path) -> URL:
    """The SQLAlchemy URL for a `--db` value: a URL (`scheme://…`) or else a path to a SQLite file."""
    text = str(target)
    if isinstance(target, Path) or "://" not in text:
        return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser()))
    try:
        url = sa.make_url(text)
    except (ArgumentError, ValueError) as error:
        raise ZkporError(f"not a database URL or path: {text!r} ({error})") from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        # A bare postgresql:// would mean psycopg2, which zkpor does not install; psycopg 3 it is.
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    if backend == "sqlite":
        return url
    raise ZkporError(
        f"the history store runs on SQLite or PostgreSQL, not {backend!r}: "
        f"{url.render_as_string(hide_password=True)}"
    )


def alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini needs to be found at run time."""
    config = Config()
    # Config values go through configparser interpolation, where '%' is special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (the newest by default) in one transaction.

    Refuses a database at a revision this code does not know: it was written by a newer zkpor, and
    reading or writing it with an older schema could lose data.
    """
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    with _MIGRATION_LOCK:
        with engine.connect() as connection:
            current = _current_revisions(connection, script)
        if revision == "head" and current == set(script.get_heads()):
            return  # the usual case: nothing to do, and no write lock taken
        with engine.connect() as connection:
            # SQLite: lock for writing from the start, or two processes that both read the old revision
            # would both try to upgrade their read lock and one would fail with "database is locked".
            connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with connection.begin():
                _current_revisions(connection, script)  # again, now that no one else can be migrating
                config.attributes["connection"] = connection
                command.upgrade(config, revision)


def _current_revisions(connection: Connection, script: ScriptDirectory) -> set[str]:
    current = set(MigrationContext.configure(connection).get_current_heads())
    unknown = sorted(current - {rev.revision for rev in script.walk_revisions()})
    if unknown:
        raise ZkporError(
            f"history database {_shown(connection.engine.url)} has schema revision {', '.join(unknown)}, "
            f"newer than this zkpor knows (up to {script.get_current_head()}); upgrade zkpor to use it"
        )
    return current


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url)
        # pysqlite by default neither begins a transaction before DDL nor lets us choose when one starts;
        # taking over BEGIN (SQLAlchemy's documented recipe) makes migrations and upserts atomic.
        sa.event.listen(engine, "connect", _sqlite_manual_transactions)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Fail within seconds when a server is unreachable instead of hanging on the TCP connect.
    return sa.create_engine(url, connect_args={"connect_timeout": 10})


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _reason(error: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy appends SQL and a help link)."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip() or type(orig).__name__
    return text.splitlines()[0]


# ---------------------------------------------------------------------------------------------------
# The store


class HistoryStore:
    """Rounds and their per-asset figures in SQLite or PostgreSQL. Open with `HistoryStore.open`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, target: str | Path, *, create: bool = True) -> HistoryStore:
        """Open (and migrate to the newest schema) the store at a URL or a SQLite file path.

        With `create=False` a SQLite file that does not exist (or is empty) is an error rather than a new
        empty store, which is what commands that only read want.
        """
        url = database_url(target)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            path = Path(url.database)
            if not create and (not path.exists() or (path.is_file() and path.stat().st_size == 0)):
                raise ZkporError(f"no history database at {path}")  # an empty file: not made into one
            if path.is_dir():
                raise ZkporError(f"{path} is a directory; the history database is a file (or a URL)")
            if not path.parent.is_dir():
                raise ZkporError(f"cannot create the history database {path}: no directory {path.parent}")
            if not _empty_or_sqlite(path):  # SQLite would take a file of a few bytes over
                raise ZkporError(f"{path} is not a SQLite database; the history database is one (or a URL)")
        try:
            engine = _create_engine(url)
        except ImportError as error:
            raise ZkporError(f"no database driver for {_shown(url)}: {error}") from None
        except (ArgumentError, SQLAlchemyError) as error:
            raise ZkporError(f"cannot use history database {_shown(url)}: {_reason(error)}") from None
        try:
            migrate(engine)
        except SQLAlchemyError as error:
            engine.dispose()
            raise ZkporError(f"cannot open history database {_shown(url)}: {_reason(error)}") from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return _shown(self._engine.url)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def schema_revision(self) -> str | None:
        with self._transaction("read the schema revision") as connection:
            return MigrationContext.configure(connection).get_current_revision()

    # --- writing

    def record_round(self, record: RoundRecord) -> None:
        """Store a round, replacing any earlier record of the same round id, all in one transaction."""
        values, asset_rows = _record_rows(record)
        with self._transaction(f"record round {record.round_id}") as connection:
            dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            upsert = dialect_insert(rounds).values(values)
            upsert = upsert.on_conflict_do_update(
                index_elements=[rounds.c.round_id],
                set_={name: upsert.excluded[name] for name in values if name != "round_id"},
            )
            # The upsert goes first: on PostgreSQL its row lock makes a concurrent re-record of the
            # same round wait here, so the asset rows below are never interleaved between two writers.
            connection.execute(upsert)
            connection.execute(sa.delete(round_assets).where(round_assets.c.round_id == record.round_id))
            if asset_rows:
                connection.execute(sa.insert(round_assets), asset_rows)

    def add_round(self, record: RoundRecord) -> None:
        """Record a newly verified round; refuses a round id already recorded and a round whose status
        is not "verified" or "published" (nothing unverified enters the history)."""
        if record.status not in VERIFIED_STATUSES:
            raise ZkporError(
                f"round {record.round_id}: only a verified round is recorded, not a {record.status!r} one"
            )
        values, asset_rows = _record_rows(record)
        try:
            with self._engine.begin() as connection:
                connection.execute(sa.insert(rounds).values(values))
                if asset_rows:
                    connection.execute(sa.insert(round_assets), asset_rows)
        except sa.exc.IntegrityError:
            raise ZkporError(
                f"round {record.round_id} is already recorded in the history store {self.url}"
            ) from None
        except SQLAlchemyError as error:
            raise ZkporError(f"history database {self.url}: could not record round {record.round_id}: "
                             f"{_reason(error)}") from None

    def delete_round(self, round_id: str) -> bool:
        """Remove a round (and its asset rows); True if it was there."""
        with self._transaction(f"delete round {round_id}") as connection:
            connection.execute(sa.delete(round_assets).where(round_assets.c.round_id == round_id))
            return connection.execute(sa.delete(rounds).where(rounds.c.round_id == round_id)).rowcount > 0

    # --- reading

    def get_round(self, round_id: str) -> RoundRecord | None:
        with self._transaction(f"read round {round_id}") as connection:
            found = self._load(connection, rounds.c.round_id == round_id)
        return found[0] if found else None

    def list_rounds(self) -> list[RoundRecord]:
        """Every round, oldest snapshot first."""
        with self._transaction("list rounds") as connection:
            return self._load(connection, sa.true())

    def previous_round(self, round_id: str) -> RoundRecord | None:
        """The round just before this one by snapshot time (ties broken by round id), if any."""
        with self._transaction(f"find the round before {round_id}") as connection:
            this = self._require(connection, round_id)
            earlier = sa.or_(
                rounds.c.snapshot_time < this.snapshot_time,
                sa.and_(rounds.c.snapshot_time == this.snapshot_time, rounds.c.round_id < round_id),
            )
            query = (
                sa.select(rounds.c.round_id)
                .where(earlier)
                .order_by(rounds.c.snapshot_time.desc(), rounds.c.round_id.desc())
                .limit(1)
            )
            previous_id = connection.execute(query).scalar()
            if previous_id is None:
                return None
            return self._load(connection, rounds.c.round_id == previous_id)[0]

    def year_earlier_round(self, round_id: str) -> RoundRecord | None:
        """`year_earlier_of` this round among the recorded ones."""
        with self._transaction(f"find the round a year before {round_id}") as connection:
            this = self._require(connection, round_id)
            target = _one_year_before(this.snapshot_time)
            near = sa.and_(
                rounds.c.snapshot_time.between(
                    target - YEAR_EARLIER_TOLERANCE, target + YEAR_EARLIER_TOLERANCE
                ),
                rounds.c.round_id != round_id,
            )
            return year_earlier_of(this.snapshot_time, self._load(connection, near))

    def growth(self, round_id: str) -> RoundGrowth:
        """Per-asset and USD growth of a round vs the previous round and vs the round a year earlier."""
        this = self.get_round(round_id)
        if this is None:
            raise ZkporError(f"round {round_id!r} is not in the history database {self.url}")
        previous = self.previous_round(round_id)
        year_earlier = self.year_earlier_round(round_id)
        assets = tuple(
            AssetGrowth(
                symbol=asset.symbol,
                vs_previous=_asset_growth(asset, previous),
                vs_year_earlier=_asset_growth(asset, year_earlier),
            )
            for asset in this.assets
        )
        return RoundGrowth(
            round_id=round_id,
            usd_vs_previous=_usd_growth(this, previous),
            usd_vs_year_earlier=_usd_growth(this, year_earlier),
            assets=assets,
        )

    # --- internals

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        """A transaction whose database errors reach the user as one ZkporError line."""
        try:
            with self._engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise ZkporError(f"history database {self.url}: could not {action}: {_reason(error)}") from None

    def _require(self, connection: Connection, round_id: str) -> sa.Row[Any]:
        row = connection.execute(
            sa.select(rounds.c.round_id, rounds.c.snapshot_time).where(rounds.c.round_id == round_id)
        ).first()
        if row is None:
            raise ZkporError(f"round {round_id!r} is not in the history database {self.url}")
        return row

    def _load(self, connection: Connection, condition: sa.ColumnElement[bool]) -> list[RoundRecord]:
        round_rows = connection.execute(
            sa.select(rounds).where(condition).order_by(rounds.c.snapshot_time, rounds.c.round_id)
        ).all()
        if not round_rows:
            return []
        asset_rows = connection.execute(
            sa.select(round_assets)
            .where(round_assets.c.round_id.in_(sa.select(rounds.c.round_id).where(condition)))
            .order_by(round_assets.c.round_id, round_assets.c.position)
        ).all()
        assets_by_round: dict[str, list[AssetFigures]] = {}
        for row in asset_rows:
            assets_by_round.setdefault(row.round_id, []).append(
                AssetFigures(
                    symbol=row.symbol,
                    decimals=row.decimals,
                    price_usd=row.price_usd,
                    total_equity=row.total_equity,
                    total_debt=row.total_debt,
                    net_liabilities=row.net_liabilities,
                    verified_reserves=row.verified_reserves,
                    reserve_ratio=row.reserve_ratio,
                )
            )
        return [
            RoundRecord(
                round_id=row.round_id,
                snapshot_time=row.snapshot_time,
                status=row.status,
                liabilities_root=row.liabilities_root,
                user_count=row.user_count,
                proof_size_bytes=row.proof_size_bytes,
                security_bits=row.security_bits,
                total_liabilities_usd=row.total_liabilities_usd,
                total_reserves_usd=row.total_reserves_usd,
                assets=tuple(assets_by_round.get(row.round_id, ())),
                report_sha256=row.report_sha256,
                created_at=row.created_at,
            )
            for row in round_rows
        ]


def _record_rows(record: RoundRecord) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    values = {
        "round_id": record.round_id,
        "snapshot_time": record.snapshot_time,
        "created_at": record.created_at,
        "status": record.status,
        "liabilities_root": record.liabilities_root,
        "user_count": record.user_count,
        "proof_size_bytes": record.proof_size_bytes,
        "security_bits": record.security_bits,
        "total_liabilities_usd": record.total_liabilities_usd,
        "total_reserves_usd": record.total_reserves_usd,
        "report_sha256": record.report_sha256,
    }
    asset_rows = [
        {
            "round_id": record.round_id,
            "symbol": asset.symbol,
            "position": position,
            "decimals": asset.decimals,
            "price_usd": asset.price_usd,
            "total_equity": asset.total_equity,
            "total_debt": asset.total_debt,
            "net_liabilities": asset.net_liabilities,
            "verified_reserves": asset.verified_reserves,
            "reserve_ratio": asset.reserve_ratio,
        }
        for position, asset in enumerate(record.assets)
    ]
    return values, asset_rows


# ---------------------------------------------------------------------------------------------------
# Helpers


def relative_change(earlier: int | Decimal, current: int | Decimal) -> Decimal | None:
    """(current − earlier) ÷ earlier, exactly computed then rounded half-even; None when earlier is 0."""
    if earlier == 0:
        return None
    return _rounded((Fraction(current) - Fraction(earlier)) / Fraction(earlier), round)


def _asset_growth(asset: AssetFigures, earlier: RoundRecord | None) -> Growth | None:
    then = earlier.asset(asset.symbol) if earlier is not None else None
    if earlier is None or then is None:
        return None
    return Growth(
        earlier_round_id=earlier.round_id,
        liabilities=relative_change(then.net_liabilities, asset.net_liabilities),
        reserves=relative_change(then.verified_reserves, asset.verified_reserves),
    )


def _usd_growth(this: RoundRecord, earlier: RoundRecord | None) -> Growth | None:
    if earlier is None:
        return None
    return Growth(
        earlier_round_id=earlier.round_id,
        liabilities=relative_change(earlier.total_liabilities_usd, this.total_liabilities_usd),
        reserves=relative_change(earlier.total_reserves_usd, this.total_reserves_usd),
    )


def _rounded(value: Fraction, to_int: Any) -> Decimal:
    """An exact fraction to RATIO_PLACES decimals; `to_int` is math.floor or round (half-even)."""
    return Decimal(int(to_int(value * 10**RATIO_PLACES))).scaleb(-RATIO_PLACES)


def _empty_or_sqlite(path: Path) -> bool:
    """A missing or empty file (a new store) or one that starts with SQLite's header."""
    try:
        with path.open("rb") as stream:
            header = stream.read(16)
    except FileNotFoundError:
        return True
    except OSError as error:
        raise ZkporError(f"cannot read the history database {path}: {error.strerror}") from None
    return header in (b"", b"SQLite format 3\x00")


def year_earlier_of(snapshot_time: datetime, candidates: Iterable[RoundRecord]) -> RoundRecord | None:
    """The round "a year earlier" than one taken at `snapshot_time`: of `candidates`, the one closest to the
    same date a year before, within YEAR_EARLIER_TOLERANCE (ties: the smaller round id); None if none
    is that close. By date, not by counting rounds, so a missed month never passes off 13 months as a
    year. `zkpor history ROUND_ID` and the published report both compare with this round."""
    target = _one_year_before(snapshot_time)
    near = [r for r in candidates if abs(r.snapshot_time - target) <= YEAR_EARLIER_TOLERANCE]
    return min(near, key=lambda r: (abs(r.snapshot_time - target), r.round_id), default=None)


def _one_year_before(moment: datetime) -> datetime:
    # 29 February has no counterpart a year earlier; the 28th is the same "month end".
    day = 28 if (moment.month, moment.day) == (2, 29) else moment.day
    return moment.replace(year=moment.year - 1, day=day)


def _check_int(name: str, value: object, *, minimum: int | None = None) -> None:
    # bool is an int subclass and numpy integers are not ints: both are mistakes worth catching here.
    if type(value) is not int:
        raise TypeError(f"{name} must be a Python int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if abs(value) >= 10**_MAX_EXACT_DIGITS:
        raise ValueError(f"{name} has more than {_MAX_EXACT_DIGITS} digits")


def _check_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal (never a float), got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
