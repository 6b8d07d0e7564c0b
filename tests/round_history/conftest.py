"""Fixtures for the history store: the same tests run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from zkpor.round.history import AssetFigures, HistoryStore, RoundRecord


@pytest.fixture(scope="session")
def postgres_admin(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty store location: a SQLite file path, or a new schema on the test PostgreSQL server.

    A schema per test (selected through the URL's search_path) rather than a database per test:
    CREATE DATABASE copies a template and takes about half a second, CREATE SCHEMA a millisecond.
    """
    if request.param == "sqlite":
        yield str(tmp_path / "history.sqlite")
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(history_url: str) -> Iterator[HistoryStore]:
    with HistoryStore.open(history_url) as opened:
        yield opened


MakeRound = Callable[..., RoundRecord]


@pytest.fixture
def make_round() -> MakeRound:
    """Builds a plausible round; `scale` multiplies every amount so rounds differ in a known way."""

    def build(
        round_id: str,
        snapshot: datetime,
        *,
        scale: int = 1,
        symbols: tuple[str, ...] = ("BTC", "ETH", "USDT"),
        status: str = "published",
    ) -> RoundRecord:
        catalogue = {
            # symbol: (decimals, price, equity, debt, reserves) in base units; ETH totals exceed 2^64.
            "BTC": (8, Decimal("97123.45"), 60_000 * 10**8, 1_000 * 10**8, 62_000 * 10**8),
            "ETH": (18, Decimal("3512.123456"), 2_000_000 * 10**18, 50_000 * 10**18, 2_100_000 * 10**18),
            "USDT": (6, Decimal("1.0001"), 9 * 10**15, 0, 9 * 10**15 + 1),
        }
        assets = []
        for symbol in symbols:
            decimals, price, equity, debt, reserves = catalogue[symbol]
            assets.append(
                AssetFigures.from_totals(
                    symbol, decimals, price, equity * scale, debt * scale, reserves * scale
                )
            )
        return RoundRecord(
            round_id=round_id,
            snapshot_time=snapshot,
            status=status,
            liabilities_root="ab" * 32,
            user_count=1_048_576 * scale,
            proof_size_bytes=12_345_678,
            security_bits=100,
            total_liabilities_usd=Decimal("15123456789.123456789") * scale,
            total_reserves_usd=Decimal("15523456789.987654321") * scale,
            assets=tuple(assets),
            created_at=datetime(2025, 7, 1, 12, 0, 0, 123456, tzinfo=UTC),
        )

    return build
