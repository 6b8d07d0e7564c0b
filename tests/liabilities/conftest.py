import numpy as np
import pytest

from zkpor.liabilities.batch import round_digest
from zkpor.liabilities.layout import SolvencyLayout
from zkpor.stark.params import ProofOptions

ASSETS = 22
BATCH = 32  # with 8-bit limbs: 32 users × 8 rows = 256 rows = the range table


@pytest.fixture(scope="session")
def layout() -> SolvencyLayout:
    rng = np.random.default_rng(11)
    bits = tuple(int(b) for b in rng.integers(40, 63, ASSETS))
    weights = tuple(int(w) for w in rng.integers(1, 2**38, ASSETS))
    return SolvencyLayout(asset_bits=bits, weights=weights, limb_bits=8, batch_size=BATCH)


@pytest.fixture(scope="session")
def digest(layout):
    return round_digest("2026-11", [f"A{i}" for i in range(ASSETS)], layout)


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
