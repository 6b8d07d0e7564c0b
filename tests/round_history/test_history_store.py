"""The history store on SQLite and PostgreSQL: migrations, exact values, upserts, ordering, growth, errors."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from zkpor.errors import ZkporError
from zkpor.round import history
from zkpor.round.history import (
    AssetFigures,
    HistoryStore,
    RoundRecord,
    alembic_config,
    database_url,
    default_history_path,
    head_revision,
    migrate,
    relative_change,
)

FIRST_REVISION = "0001_rounds_and_assets"


def june(year: int, day: int = 30) -> datetime:
    return datetime(year, 6, day, 23, 59, 59, tzinfo=UTC)


def month_end(year: int, month: int) -> datetime:
    next_month = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return next_month - timedelta(seconds=1)


# --- migrations


def test_opening_migrates_an_empty_database_to_head(history_url):
    with HistoryStore.open(history_url) as store:
        assert store.schema_revision() == head_revision() != FIRST_REVISION
    # Reopening an up-to-date database changes nothing and keeps working.
    with HistoryStore.open(history_url) as store:
        assert store.schema_revision() == head_revision()
        assert store.list_rounds() == []


def test_migrated_schema_matches_the_tables_the_code_uses(history_url):
    HistoryStore.open(history_url).close()
    engine = sa.create_engine(database_url(history_url))
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), history.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_from_revision_1_keeps_the_rounds_already_recorded(history_url, make_round):
    engine = sa.create_engine(database_url(history_url))
    migrate(engine, FIRST_REVISION)
    old = make_round("2025-05", month_end(2025, 5))
    # Written as a zkpor at revision 1 would: there is no report_sha256 column yet.
    round_values = {column.name: getattr(old, column.name) for column in history.rounds.columns}
    del round_values["report_sha256"]
    asset_values = [
        {"round_id": old.round_id, "position": position, **vars(asset)}
        for position, asset in enumerate(old.assets)
    ]
    with engine.begin() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == FIRST_REVISION
        assert "report_sha256" not in {c["name"] for c in sa.inspect(connection).get_columns("rounds")}
        connection.execute(history.rounds.insert(), round_values)
        connection.execute(history.round_assets.insert(), asset_values)
    engine.dispose()

    with HistoryStore.open(history_url) as store:
        assert store.schema_revision() == head_revision()
        assert store.get_round("2025-05") == old
        assert store.get_round("2025-05").report_sha256 is None


def test_downgrade_to_revision_1_and_back(history_url, make_round):
    with HistoryStore.open(history_url) as store:
        store.record_round(make_round("2025-05", month_end(2025, 5)))
    engine = sa.create_engine(database_url(history_url))
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, FIRST_REVISION)
    engine.dispose()
    with HistoryStore.open(history_url) as store:
        assert store.get_round("2025-05") == make_round("2025-05", month_end(2025, 5))


def test_a_database_from_a_newer_zkpor_is_refused(history_url):
    HistoryStore.open(history_url).close()
    engine = sa.create_engine(database_url(history_url))
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    with pytest.raises(ZkporError, match="0099_from_the_future, newer than this zkpor knows"):
        HistoryStore.open(history_url)


# --- values


def test_big_integers_and_decimals_round_trip_exactly(store):
    huge = 2**200 + 12345  # far past 64 bits, still inside NUMERIC(78, 0)
    asset = AssetFigures(
        symbol="ETH",
        decimals=18,
        price_usd=Decimal("3512.123456789012345678901234567890"),
        total_equity=huge,
        total_debt=2**64 + 1,
        net_liabilities=huge - 2**64 - 1,
        verified_reserves=10**77 + 7,
        reserve_ratio=Decimal("1.000001"),
    )
    record = RoundRecord(
        round_id="2025-06",
        # Any zone in; UTC out, same instant, microseconds kept.
        snapshot_time=datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=8))),
        status="verified",
        liabilities_root="0x" + "0f" * 32,
        user_count=50_000_000,
        proof_size_bytes=2**40,
        security_bits=128,
        total_liabilities_usd=Decimal("123456789012345678901234567890.123456789012345678"),
        total_reserves_usd=Decimal("0.000000000000000001"),
        assets=(asset,),
        report_sha256="e3" * 32,
    )
    store.record_round(record)
    loaded = store.get_round("2025-06")
    assert loaded == record
    eth = loaded.asset("ETH")
    assert type(eth.total_equity) is int and eth.total_equity == huge
    assert str(eth.price_usd) == "3512.123456789012345678901234567890"
    assert loaded.snapshot_time.tzinfo == UTC and loaded.snapshot_time == record.snapshot_time


def test_amounts_are_exact_inside_the_database_too(store, make_round):
    store.record_round(make_round("a", june(2024)))
    store.record_round(make_round("b", june(2025), scale=2))
    eth_equity = 2_000_000 * 10**18  # 2.0e24 wei: past 2^64
    with store._engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # NUMERIC(78, 0): exact, and analysts can still add amounts up in SQL.
            total = connection.execute(
                sa.text("SELECT sum(total_equity) FROM round_assets WHERE symbol = 'ETH'")
            ).scalar_one()
            assert total == 3 * eth_equity
        else:
            # SQLite would turn a NUMERIC this big into a float; text keeps every digit.
            raw = connection.execute(
                sa.text(
                    "SELECT total_equity, typeof(total_equity) FROM round_assets WHERE round_id = 'a'"
                    " AND symbol = 'ETH'"
                )
            ).one()
            assert tuple(raw) == (str(eth_equity), "text")


def test_unknown_round_reads_as_none(store):
    assert store.get_round("nope") is None


def test_rerecording_a_round_replaces_it(store, make_round):
    store.record_round(make_round("2025-06", june(2025)))
    replacement = make_round("2025-06", june(2025, 29), scale=3, symbols=("USDT", "BTC"), status="verified")
    store.record_round(replacement)
    assert store.get_round("2025-06") == replacement
    assert [a.symbol for a in store.get_round("2025-06").assets] == ["USDT", "BTC"]
    assert len(store.list_rounds()) == 1


def test_a_failed_rerecord_leaves_the_old_round_whole(store, make_round):
    original = make_round("2025-06", june(2025))
    store.record_round(original)

    def fail_on_asset_insert(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO round_assets"):
            raise RuntimeError("disk full, say")

    engine = store._engine
    sa.event.listen(engine, "before_cursor_execute", fail_on_asset_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        store.record_round(make_round("2025-06", june(2025), scale=2))
    sa.event.remove(engine, "before_cursor_execute", fail_on_asset_insert)
    assert store.get_round("2025-06") == original


def test_rounds_are_listed_by_snapshot_time(store, make_round):
    # Recorded out of order, and with round ids that do not sort like their dates.
    for round_id, month in [("c", 3), ("a", 1), ("b", 2), ("0", 4)]:
        store.record_round(make_round(round_id, month_end(2025, month)))
    assert [r.round_id for r in store.list_rounds()] == ["a", "b", "c", "0"]
    assert store.previous_round("c").round_id == "b"
    assert store.previous_round("0").round_id == "c"
    assert store.previous_round("a") is None
    with pytest.raises(ZkporError, match="'zz' is not in the history"):
        store.previous_round("zz")


def test_rounds_with_the_same_snapshot_are_ordered_by_id(store, make_round):
    for round_id in ("y", "x"):
        store.record_round(make_round(round_id, june(2025)))
    assert [r.round_id for r in store.list_rounds()] == ["x", "y"]
    assert store.previous_round("y").round_id == "x"


# --- growth


def test_growth_vs_last_month_and_last_year(store, make_round):
    # Thirteen monthly rounds, June 2024 to June 2025; amounts grow with the month number.
    for months in range(13):
        year, month = 2024 + (5 + months) // 12, (5 + months) % 12 + 1
        store.record_round(make_round(f"{year}-{month:02d}", month_end(year, month), scale=months + 1))
    growth = store.growth("2025-06")
    btc = next(a for a in growth.assets if a.symbol == "BTC")
    # scale 13 vs 12 a month ago, vs 1 a year ago
    assert btc.vs_previous.earlier_round_id == "2025-05"
    assert btc.vs_previous.liabilities == Decimal("0.083333") == relative_change(12, 13)
    assert btc.vs_previous.reserves == Decimal("0.083333")
    assert btc.vs_year_earlier.earlier_round_id == "2024-06"
    assert btc.vs_year_earlier.liabilities == Decimal("12.000000")
    assert growth.usd_vs_year_earlier.reserves == Decimal("12.000000")
    assert growth.usd_vs_previous.earlier_round_id == "2025-05"
    # The first round has nothing to compare with.
    first = store.growth("2024-06")
    assert first.usd_vs_previous is None and first.usd_vs_year_earlier is None
    assert all(a.vs_previous is None and a.vs_year_earlier is None for a in first.assets)


def test_growth_without_a_round_near_a_year_earlier(store, make_round):
    store.record_round(make_round("2024-05", month_end(2024, 5)))  # 13 months back: too far
    store.record_round(make_round("2025-06", june(2025), symbols=("BTC", "USDT")))
    growth = store.growth("2025-06")
    assert store.year_earlier_round("2025-06") is None
    assert growth.usd_vs_year_earlier is None
    assert growth.usd_vs_previous.earlier_round_id == "2024-05"


def test_growth_of_a_new_asset_and_from_zero(store, make_round):
    store.record_round(make_round("2025-05", month_end(2025, 5), symbols=("BTC", "USDT")))
    store.record_round(make_round("2025-06", june(2025), scale=2))
    by_symbol = {a.symbol: a for a in store.growth("2025-06").assets}
    assert by_symbol["ETH"].vs_previous is None  # not covered last month
    assert by_symbol["USDT"].vs_previous.liabilities == Decimal("1.000000")
    assert relative_change(0, 5) is None


def test_year_earlier_picks_the_closest_round_within_the_window(store, make_round):
    store.record_round(make_round("early", june(2024, 20)))
    store.record_round(make_round("close", datetime(2024, 7, 2, tzinfo=UTC)))
    store.record_round(make_round("now", june(2025)))
    assert store.year_earlier_round("now").round_id == "close"


def test_growth_of_an_unknown_round_is_an_error(store):
    with pytest.raises(ZkporError, match="'2031-01' is not in the history"):
        store.growth("2031-01")


# --- opening errors


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("mysql://user@localhost/zkpor", "runs on SQLite or PostgreSQL, not 'mysql'"),
        ("nosuchdb+driver://x/y", "runs on SQLite or PostgreSQL, not 'nosuchdb'"),
        ("postgresql://user@127.0.0.1:notaport/db", "not a database URL or path"),
        ("postgresql+nosuchdriver://user@127.0.0.1/db", "Can't load plugin"),
    ],
)
def test_bad_urls_are_clear_errors(target, message):
    with pytest.raises(ZkporError, match=message):
        HistoryStore.open(target)


def test_an_unreachable_server_is_a_clear_error_and_hides_the_password():
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    with pytest.raises(
        ZkporError, match=r"cannot open history database postgresql\+psycopg://u:\*\*\*@"
    ) as e:
        HistoryStore.open("postgresql://u:secret@127.0.0.1:1/zkpor")
    assert "secret" not in str(e.value)


def test_sqlite_paths(tmp_path: Path):
    with pytest.raises(ZkporError, match="no directory"):
        HistoryStore.open(tmp_path / "missing" / "history.sqlite")
    with pytest.raises(ZkporError, match="no history database at"):
        HistoryStore.open(tmp_path / "history.sqlite", create=False)
    with pytest.raises(ZkporError, match="is a directory"):
        HistoryStore.open(tmp_path)
    with HistoryStore.open(f"sqlite:///{tmp_path / 'by-url.sqlite'}") as store:
        assert store.list_rounds() == []
    assert (tmp_path / "by-url.sqlite").exists()
    assert default_history_path(tmp_path / "rounds" / "2025-06") == tmp_path / "rounds" / "history.sqlite"


# --- records


def test_records_refuse_floats_and_other_inexact_values(make_round):
    good = make_round("2025-06", june(2025))
    btc = good.assets[0]
    with pytest.raises(TypeError, match="never a float"):
        replace(btc, price_usd=97123.45)
    with pytest.raises(TypeError, match="must be a Python int"):
        replace(btc, total_equity=True)
    with pytest.raises(ValueError, match="more than 78 digits"):
        replace(btc, verified_reserves=10**78)
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(good, snapshot_time=datetime(2025, 6, 30))
    with pytest.raises(ValueError, match="listed twice"):
        replace(good, assets=(btc, btc))


def test_reserve_ratios_round_down():
    asset = AssetFigures.from_totals("BTC", 8, Decimal(1), 3, 0, 2)
    assert asset.reserve_ratio == Decimal("0.666666")
    assert AssetFigures.from_totals("BTC", 8, Decimal(1), 5, 5, 1).reserve_ratio is None


# --- concurrency


def run_in_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_first_opens_migrate_once(history_url):
    # Several processes (here: stores with their own connections) opening a new database at once.
    assert run_in_threads(6, lambda _: HistoryStore.open(history_url).close()) == []
    with HistoryStore.open(history_url) as store:
        assert store.schema_revision() == head_revision()


def test_concurrent_rerecords_of_a_round_leave_one_whole_version(history_url, make_round):
    stores = [HistoryStore.open(history_url) for _ in range(4)]
    symbols = [("BTC",), ("BTC", "ETH"), ("ETH", "USDT"), ("BTC", "ETH", "USDT")]

    def rerecord(index: int) -> None:
        for _ in range(5):
            stores[index].record_round(make_round("r", june(2025), scale=index + 1, symbols=symbols[index]))

    try:
        assert run_in_threads(len(stores), rerecord) == []
        final = stores[0].get_round("r")
        # Whichever writer came last, its round and its assets are there together, nothing mixed in.
        scale = final.user_count // 1_048_576
        assert final == make_round("r", june(2025), scale=scale, symbols=symbols[scale - 1])
    finally:
        for store in stores:
            store.close()
