import numpy as np
import pytest

from zkpor.liabilities.batch import statement_layout
from zkpor.liabilities.layout import SolvencyLayout
from zkpor.liabilities.statement import Statement, StatementAsset
from zkpor.stark.params import ProofOptions

ASSETS = 22
BATCH = 32  # with 8-bit limbs: 32 users × 8 rows = 256 rows = the range table


@pytest.fixture(scope="session")
def statement() -> Statement:
    """22 assets of 8 decimals with whole-dollar prices (price_decimals 0), so each price weight is
    the price itself: random weights below 2^38, random bit bounds."""
    rng = np.random.default_rng(11)
    bits = [int(b) for b in rng.integers(40, 63, ASSETS)]
    prices = [str(int(w)) for w in rng.integers(1, 2**38, ASSETS)]
    assets = tuple(StatementAsset(f"A{i}", 8, bits[i], prices[i]) for i in range(ASSETS))
    return Statement("2026-11", "2026-11-30T16:00:00Z", 0, assets, limb_bits=8, batch_size=BATCH,
                     batch_count=4)  # fmt: skip


@pytest.fixture(scope="session")
def layout(statement) -> SolvencyLayout:
    return statement_layout(statement)


@pytest.fixture(scope="session")
def digest(statement):
    return statement.digest()


@pytest.fixture(scope="session")
def options() -> ProofOptions:
    return ProofOptions(blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4,
                        zero_knowledge=True)  # fmt: skip


@pytest.fixture(scope="session")
def make_users():
    return _make_users


def _make_users(layout, seed=1):
    """Random users, some with debt collateralised by other assets; all net values >= 0."""
    rng = np.random.default_rng(seed)
    B, A = layout.batch_size, len(layout.asset_bits)
    bounds = np.array([1 << (b - 2) for b in layout.asset_bits], dtype=np.uint64)
    equity = (rng.random((B, A)) * bounds).astype(np.uint64)
    debt = np.zeros((B, A), dtype=np.uint64)
    debt[::3, 0] = equity[::3, 0] // 2 + 1  # some margin debt, covered by the rest of the equity
    ids = rng.integers(0, 2**63, (B, 4)).astype(np.uint64)
    return ids, equity, debt
