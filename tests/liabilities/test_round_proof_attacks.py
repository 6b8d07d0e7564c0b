"""A cheating prover against `zkpor verify` of a published round proof (round.zkp + global.json +
summary.json): every attack edits what the prover controls (the files it publishes) so that the
folder states something the batch proofs do not prove, and the verifier must refuse it.

One one-batch round (the top node verifies the batch directly) with cheap options keeps this small;
the tree's in-circuit checks are tests/liabilities/test_aggregation.py's."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from liabilities_testing import CHEAP_TREE, make_round, prove_small

from zkpor.errors import VerificationError
from zkpor.liabilities.published import GlobalProof, json_text
from zkpor.liabilities.round_proof import verify_round
from zkpor.liabilities.round_tree import RoundProof
from zkpor.round.decimal_text import format_units

pytestmark = pytest.mark.slow  # one aggregated round: ~20-40 s on two shared cores

USERS = 20  # one batch of 32: one level-1 node over one batch proof, the top


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("attacks") / "round"
    secret = make_round(directory, USERS)
    prove_small(directory, secret, aggregate=True, tree=CHEAP_TREE)
    return directory


@pytest.fixture
def folder(proven: Path, tmp_path: Path) -> Path:
    """What an auditor downloads: global.json, summary.json and round.zkp."""
    target = tmp_path / "public"
    target.mkdir()
    for name in ("global.json", "summary.json", "round.zkp"):
        shutil.copy(proven / "proof" / name, target / name)
    return target


def _verify(path: Path, **kwargs: object):
    return verify_round(path, min_security_bits=0, **kwargs)  # type: ignore[arg-type]


def _restate_totals(folder: Path, totals: list[tuple[int, int]]) -> None:
    """Make global.json (batch 0 carries every total: one batch) and summary.json state `totals`
    (and round.zkp's size)."""
    path = folder / "global.json"
    document = json.loads(path.read_text())
    assert len(document["batches"]) == 1
    document["batches"][0]["equity"] = [str(e) for e, _ in totals]
    document["batches"][0]["debt"] = [str(d) for _, d in totals]
    path.write_bytes(json_text(document))
    g = GlobalProof.from_json(path.read_bytes(), str(path))
    summary = json.loads((folder / "summary.json").read_text())
    for entry, asset, (equity, debt) in zip(summary["assets"], g.assets, totals, strict=True):
        entry.update(equity=format_units(equity, asset.decimals), debt=format_units(debt, asset.decimals),
                     net=format_units(equity - debt, asset.decimals))  # fmt: skip
    summary["proof_bytes"] = summary["round_proof"]["bytes"] = (folder / "round.zkp").stat().st_size
    (folder / "summary.json").write_bytes(json_text(summary))


def test_the_honest_folder_verifies(folder: Path) -> None:
    result = _verify(folder)
    assert result.round_proof is not None and not result.batches_verified


def test_limb_totals_regrouped_in_the_header_are_refused(folder: Path) -> None:
    """The top proof's outputs are the limb totals flattened: regrouping the header's
    [asset][side][limb] lists (one asset's equity side emptied, its debt side taking its equity
    and debt limbs) keeps the proof valid but reads as other totals: that asset's equity becomes 0
    and its debt grows by its equity. The verifier must insist on the layout's shape."""
    rp = RoundProof.from_bytes((folder / "round.zkp").read_bytes())
    g = GlobalProof.from_json((folder / "global.json").read_bytes(), "global.json")
    n = len(g.assets)
    totals = rp.public.limb_totals
    a = next(a for a in range(n) if any(totals[a][0]))  # an asset with customer balances
    equity, debt = totals[a]
    regrouped = (*totals[:a], ((), (*equity, *debt)), *totals[a + 1 :])
    cheat = replace(rp, public=replace(rp.public, limb_totals=regrouped))
    (folder / "round.zkp").write_bytes(cheat.to_bytes())
    claimed = cheat.public.asset_totals(g.limb_bits)
    _restate_totals(folder, claimed)
    honest = rp.public.asset_totals(g.limb_bits)[:n]
    assert claimed != honest
    with pytest.raises(VerificationError, match="limb totals") as refused:
        _verify(folder)
    assert "round.zkp" in str(refused.value)
