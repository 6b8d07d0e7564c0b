"""Zero knowledge at every level of the round proof: batch leaves, inner nodes and the top are
zero-knowledge by default; round.zkp records each level's options (bound by the top proof), and
`zkpor verify` prints each level's zero-knowledge status, records it in summary.json and refuses
a stack with a level without it unless --allow-non-zk. (That a zero-knowledge node's commitments
are salted and its parent verifies it: test_aggregation.py, "zero knowledge at every level".)"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from liabilities_testing import CHEAP_TREE, copy_round, make_round, prove_small

from zkpor.errors import VerificationError
from zkpor.field.extension import Ext
from zkpor.liabilities.batch import BatchProof
from zkpor.liabilities.round_proof import profile_options, verify_round
from zkpor.liabilities.round_tree import NodeFile, RoundProof, node_file_name, tree_options
from zkpor.recursion.air import ProgramPublic, RecursionAir, plan
from zkpor.recursion.program import ProgramBuilder
from zkpor.recursion.proving import inner_options
from zkpor.stark.domain import ProofDomain
from zkpor.stark.params import ParameterError
from zkpor.stark.proof import StarkProof

USERS = 80  # three batches of 32 under arities 2 and 2: level 1 (2 + 1 batches), then the top
LEVELS = ("batch", "inner", "top")


def _tree(inner_zk: bool):
    inner = replace(CHEAP_TREE.inner, zero_knowledge=inner_zk)
    return replace(CHEAP_TREE, inner=inner, leaf_arity_log=1, node_arity_log=1)


def test_every_level_is_zero_knowledge_by_default() -> None:
    tree = tree_options(profile_options("conjectured"))
    assert all(getattr(tree, name).zero_knowledge for name in LEVELS)
    assert inner_options().zero_knowledge and not inner_options(zero_knowledge=False).zero_knowledge
    assert not tree_options(profile_options("conjectured"), inner_zk=False).inner.zero_knowledge


def test_the_inner_options_meet_the_recursion_airs_zero_knowledge_needs() -> None:
    """The recursion AIR's constraints (degree 3) fit blowup 4 with zero knowledge (3 quotient
    chunks over the degree bound n + 86, an LDE of 4n points), each column gets as many random
    coefficients as 41 queries open; a trace too short for them is refused, not proven leaky. At
    blowup 2 the prover would evaluate the constraints on a coset twice the LDE's."""
    b = ProgramBuilder()
    b.output(b.mul_add(b.public_input(), b.constant(2), b.constant(3)))
    program = b.build()
    air = RecursionAir(plan(program), ProgramPublic((Ext(1, 0),), (Ext(5, 0),)))
    options = inner_options()
    domain = ProofDomain.create(1 << 15, air.max_constraint_degree(), options)  # a level-1 node's size
    assert (domain.degree_bound, domain.lde_size, domain.num_quotient_chunks) == ((1 << 15) + 86, 1 << 17, 3)
    # 86 random coefficients a column, 64 rows
    with pytest.raises(ParameterError, match="zero knowledge needs at least as many random values"):
        ProofDomain.create(64, air.max_constraint_degree(), options)
    assert domain.evaluation_size == domain.lde_size
    smaller = ProofDomain.create(1 << 15, air.max_constraint_degree(), replace(options, blowup=2))
    assert (smaller.lde_size, smaller.evaluation_size) == (1 << 16, 1 << 17)


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    """One round's round proof with zero-knowledge inner nodes (the default) and, from a copy
    (its batch proofs reused), without."""
    base = tmp_path_factory.mktemp("zk-levels")
    secret = make_round(base / "zk", USERS)
    prove_small(base / "zk", secret, aggregate=True, tree=_tree(True))
    copy = copy_round(base / "zk", base / "plain")
    report = prove_small(copy, secret, aggregate=True, tree=_tree(False))
    assert report.batches_proven == 0 and report.tree is not None and report.tree.nodes_proven == 3
    return {True: base / "zk", False: copy}


@pytest.fixture
def zkpor(run_main: Callable[..., Any]) -> Callable[..., Any]:
    return run_main


def _round_proof(directory: Path) -> RoundProof:
    return RoundProof.from_bytes((directory / "proof/round.zkp").read_bytes())


@pytest.mark.slow  # two three-node trees
def test_zero_knowledge_inner_nodes_verify_and_each_levels_status_is_stated(
    rounds: dict[bool, Path], zkpor: Callable[..., Any]
) -> None:
    directory = rounds[True]
    rp = _round_proof(directory)
    assert rp.nodes_per_level == (2, 1) and all(getattr(rp.tree, name).zero_knowledge for name in LEVELS)
    for level, index in ((1, 0), (1, 1), (2, 0)):
        node = NodeFile.from_bytes((directory / "proof" / node_file_name(level, index)).read_bytes())
        assert StarkProof.from_bytes(node.stark).options.zero_knowledge
    summary = json.loads((directory / "proof/summary.json").read_text())
    assert summary["round_proof"]["zero_knowledge"] == dict.fromkeys(LEVELS, True)
    verify_round(directory, min_security_bits=0)
    result = zkpor("verify", directory.name, "--min-security-bits", "0", cwd=directory.parent)
    assert result.returncode == 0, result.stderr
    for name in LEVELS:
        (line,) = [line for line in result.stdout.splitlines() if f"security, {name}:" in line]
        assert line.endswith(", zero knowledge")


@pytest.mark.slow  # two three-node trees
def test_a_level_without_zero_knowledge_is_recorded_and_refused_unless_allowed(
    rounds: dict[bool, Path], zkpor: Callable[..., Any], tmp_path: Path
) -> None:
    directory = rounds[False]
    rp = _round_proof(directory)
    assert not rp.tree.inner.zero_knowledge and rp.tree.batch.zero_knowledge and rp.tree.top.zero_knowledge
    with pytest.raises(VerificationError, match="the inner proofs are not zero-knowledge .* --allow-non-zk"):
        verify_round(directory, min_security_bits=0)
    allowed = verify_round(directory, min_security_bits=0, allow_non_zk=True)
    assert allowed.round_proof is not None
    summary = json.loads((directory / "proof/summary.json").read_text())
    assert summary["round_proof"]["zero_knowledge"] == {"batch": True, "inner": False, "top": True}

    refused = zkpor("verify", directory.name, "--min-security-bits", "0", cwd=directory.parent)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert (
        len(refused.stderr.strip().splitlines()) == 1
        and "inner proofs are not zero-knowledge" in refused.stderr
    )
    passed = zkpor(
        "verify", directory.name, "--min-security-bits", "0", "--allow-non-zk", cwd=directory.parent
    )
    assert passed.returncode == 0, passed.stderr
    (line,) = [line for line in passed.stdout.splitlines() if "security, inner:" in line]
    assert line.endswith(", NO zero knowledge")

    # The record cannot be edited into zero knowledge: the top program is derived for the inner
    # options round.zkp lists, and the top proof was made for the real ones.
    claimed = copy_round(directory, tmp_path / "claimed")
    path = claimed / "proof/round.zkp"
    rp = RoundProof.from_bytes(path.read_bytes())
    path.write_bytes(
        replace(rp, tree=replace(rp.tree, inner=replace(rp.tree.inner, zero_knowledge=True))).to_bytes()
    )
    with pytest.raises(VerificationError, match="round.zkp"):
        verify_round(claimed, min_security_bits=0)


def test_a_tree_over_batches_committed_at_blowup_2_verifies(tmp_path: Path) -> None:
    """The tree's batches as `zkpor prove` makes them at scale: committed at blowup 2, the degree-7
    gadget's constraints evaluated by the prover on a coset twice their LDE; the level-1 node's
    program verifies them like any other, and the round verifies."""
    secret = make_round(tmp_path / "r", 160)  # five batches: a level below the top
    tree = replace(CHEAP_TREE, batch=replace(CHEAP_TREE.batch, blowup=2))
    prove_small(tmp_path / "r", secret, aggregate=True, tree=tree)
    assert _round_proof(tmp_path / "r").tree.batch == tree.batch
    data = (tmp_path / "r/proof/batches/00000.zkp").read_bytes()
    stark = StarkProof.from_bytes(BatchProof.from_bytes(data).stark)
    assert (stark.options.blowup, stark.num_quotient_chunks) == (2, 7)  # the degree-7 gadget
    verify_round(tmp_path / "r", min_security_bits=0)
