"""What bounds the round proof's peak memory: the top proof's LDE is kept within a batch's
(`round_tree.fit_top`: a 2^16-row top at blowup 8 set the round's peak), and a process proving the
tree does not hold every lower level's committed program columns (`NodeProgram.release_columns`;
the program-level checks are in test_aggregation.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from liabilities_testing import CHEAP, CHEAP_TREE, make_round, prove_small, verify_cheap

from zkpor.liabilities import round_tree
from zkpor.liabilities.round_proof import profile_options
from zkpor.liabilities.round_tree import TOP_LDE_POINTS, RoundProof, fit_top, tree_options
from zkpor.stark.domain import committed_sizes
from zkpor.stark.params import security_level


def test_a_top_of_up_to_2_15_rows_keeps_blowup_8_a_larger_one_gets_4_at_the_same_security() -> None:
    tree = tree_options(profile_options("conjectured"))
    assert tree.top.blowup == 8
    assert fit_top(tree, 1 << 15) is tree and fit_top(tree, 1 << 12) is tree
    for rows in (1 << 16, 1 << 17):
        top = fit_top(tree, rows).top
        assert top.blowup == 4 and top.num_queries == 41
        assert (top.zero_knowledge, top.hasher, top.fri_final_degree, top.fri_folding_log) == (
            True, "blake3", tree.top.fri_final_degree, tree.top.fri_folding_log)  # fmt: skip
        ours = security_level(top, *committed_sizes(rows, top))
        before = security_level(tree.top, *committed_sizes(rows, tree.top))
        assert ours.conjectured_bits >= before.conjectured_bits == 100
    assert committed_sizes(1 << 16, fit_top(tree, 1 << 16).top)[1] == TOP_LDE_POINTS
    assert fit_top(tree, 1 << 16).batch == tree.batch and fit_top(tree, 1 << 16).inner == tree.inner


def test_a_top_already_at_the_least_blowup_is_left_alone() -> None:
    tree = replace(CHEAP_TREE, top=replace(CHEAP, blowup=4))
    assert fit_top(tree, 1 << 20) is tree


@pytest.mark.slow  # two batches and their node, twice
def test_a_fitted_top_is_proven_listed_verified_and_reused_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A top over the (lowered) limit is proven at blowup 4; round.zkp lists those options, the
    round verifies from them, and a resumed prove reuses the top node (the same options again)."""
    monkeypatch.setattr(round_tree, "TOP_LDE_POINTS", 1)
    directory = tmp_path / "round"
    secret = make_round(directory, 40)  # two batches of 32: one node, the top
    tree = replace(CHEAP_TREE, top=replace(CHEAP, blowup=8))
    report = prove_small(directory, secret, aggregate=True, tree=tree)
    assert report.tree is not None and report.tree.nodes_proven == 1
    listed = RoundProof.from_bytes((directory / "proof" / "round.zkp").read_bytes()).tree.top
    assert listed == fit_top(tree, 1).top and listed.blowup == 4
    verify_cheap(directory)
    again = prove_small(directory, secret, aggregate=True, tree=tree)
    assert again.tree is not None and (again.tree.nodes_proven, again.tree.nodes_reused) == (0, 1)
