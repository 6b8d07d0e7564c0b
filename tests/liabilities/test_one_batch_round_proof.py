"""A round of one batch needs no tree: its round proof (round.zkp) is that batch proof itself,
proven zero-knowledge with BLAKE3 (`round_tree.expected_top`). It proves, publishes and verifies
from global.json, summary.json and round.zkp alone; the verifier takes the form it expects from
the statement's batch count, so a one-batch round.zkp relabelled as a tree is refused (the other
way round: test_round_proof_attacks.py), and so is anything in it global.json does not state."""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from liabilities_testing import (
    CHEAP,
    CHEAP_TREE,
    edit_round_header,
    every_decimals_plus_one,
    make_round,
    prove_small,
    public_folder,
    restate,
    verify_cheap,
)

from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.liabilities.batch import BatchProof
from zkpor.liabilities.published import GlobalProof, json_text
from zkpor.liabilities.round_tree import ROUND_MAGIC, BatchRoundProof, RoundProof, read_round_proof
from zkpor.stark.proof import ProofFormatError

USERS = 20  # one batch of 32


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("one-batch") / "round"
    secret = make_round(directory, USERS)
    report = prove_small(directory, secret, aggregate=True, tree=CHEAP_TREE)
    assert report.tree is not None and report.tree.nodes_proven == 0
    return directory


@pytest.fixture
def folder(proven: Path, tmp_path: Path) -> Path:
    return public_folder(proven, tmp_path / "public")


_verify = verify_cheap
_header_edit = edit_round_header


def _with_summary_size(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    summary["proof_bytes"] = summary["round_proof"]["bytes"] = (folder / "round.zkp").stat().st_size
    (folder / "summary.json").write_bytes(json_text(summary))


def test_the_round_proof_is_the_batch_proof_itself(proven: Path) -> None:
    proof = proven / "proof"
    data = (proof / "round.zkp").read_bytes()
    assert data.startswith(ROUND_MAGIC)
    rp = read_round_proof(data, "round.zkp", batch_count=1)
    assert isinstance(rp, BatchRoundProof)
    assert rp.batch.to_bytes() == (proof / "batches/00000.zkp").read_bytes()
    assert not list((proof / "nodes").glob("*.zkp"))  # no tree, no recursion
    g = GlobalProof.from_json((proof / "global.json").read_bytes(), "global.json")
    # The default batch configuration (BLAKE3, zero knowledge), not the tree's Poseidon2 leaves.
    assert g.round_proof == "round.zkp" and g.proof_options == asdict(replace(CHEAP, hasher="blake3"))
    assert rp.top_options.zero_knowledge
    summary = json.loads((proof / "summary.json").read_text())
    assert summary["round_proof"]["top"] == "batch" and summary["round_proof"]["nodes_per_level"] == []
    assert set(summary["round_proof"]["security"]) == {"batch"}
    assert summary["proof_bytes"] == len(data)


def test_the_public_files_alone_verify(folder: Path) -> None:
    result = _verify(folder)
    assert result.round_proof is not None and result.round_proof.round_proof.top == "batch"
    assert not result.batches_verified and not result.round_proof.keys_built
    assert set(result.round_proof.security) == {"batch"}
    assert result.proof_bytes == (folder / "round.zkp").stat().st_size
    g = result.global_proof
    assert result.totals == [(g.batches[0].equity[a], g.batches[0].debt[a]) for a in range(len(g.assets))]
    with pytest.raises(VerificationError, match="batch 0: .* is missing"):
        _verify(folder, check_batches=True)


def test_zkpor_verify_says_what_it_verified(folder: Path, run_main, tmp_path: Path) -> None:
    result = run_main("verify", str(folder), "--min-security-bits", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.replace("\n", " ")
    assert "the round's one batch proof, no tree; batch proofs not needed" in out
    assert "security, batch: " in out and "security, top" not in out and "blake3" in out


def test_a_one_batch_round_proof_relabelled_as_a_tree_is_refused(folder: Path) -> None:
    path = folder / "round.zkp"
    path.write_bytes(_header_edit(path.read_bytes(), lambda h: {**h, "top": "node"}))
    expected = "round.zkp: its top is the top node of a tree .* of 1 batch is its one batch proof itself"
    with pytest.raises(VerificationError, match=expected) as refused:
        _verify(folder)
    assert "\n" not in str(refused.value)
    with pytest.raises(InputError, match="round.zkp, field 'tree': missing"):
        RoundProof.from_bytes(path.read_bytes())  # read as a tree anyway: no tree fields


@pytest.mark.parametrize(
    "edit",
    [
        lambda h: {**h, "batch_count": 2},
        lambda h: {**h, "top": "leaf"},
        lambda h: {**h, "top": None},
        lambda h: {**h, "public": {}},
        lambda h: {**h, "format": "zkpor-round-proof-v1"},
        lambda h: {k: v for k, v in h.items() if k != "top"},
    ],
    ids=["batch-count", "unknown-top", "null-top", "extra-field", "format", "no-top"],
)
def test_a_malformed_one_batch_header_is_one_line_naming_the_file(folder: Path, edit) -> None:
    path = folder / "round.zkp"
    path.write_bytes(_header_edit(path.read_bytes(), edit))
    with pytest.raises(ZkporError) as refused:
        _verify(folder)
    assert "\n" not in str(refused.value) and "round.zkp" in str(refused.value)


def test_a_round_proof_of_another_version_or_a_cut_batch_is_refused(folder: Path) -> None:
    path = folder / "round.zkp"
    data = path.read_bytes()
    version_1 = data[:8] + struct.pack("<H", 1) + data[10:]
    for bad, message in ((version_1, "unsupported round proof version 1"), (data[:-1], "length field")):
        with pytest.raises(ProofFormatError, match=message):
            read_round_proof(bad, "round.zkp", batch_count=1)
        path.write_bytes(bad)
        with pytest.raises(VerificationError, match="round.zkp: "):
            _verify(folder)


def test_totals_restated_in_global_and_summary_are_refused(folder: Path) -> None:
    """The batch proof's public values are its totals: global.json may not state others."""
    document = json.loads((folder / "global.json").read_text())
    document["batches"][0]["equity"][0] = str(int(document["batches"][0]["equity"][0]) + 1)
    (folder / "global.json").write_bytes(json_text(document))
    with pytest.raises(VerificationError, match="round.zkp: round proof: the proven totals of BTC are not"):
        _verify(folder)


def test_the_batch_totals_edited_in_round_zkp_fail_the_proof(folder: Path) -> None:
    path = folder / "round.zkp"
    rp = read_round_proof(path.read_bytes(), "round.zkp", batch_count=1)
    assert isinstance(rp, BatchRoundProof)
    p = rp.batch.public
    (equity, debt), *rest = p.limb_totals
    edited = replace(p, limb_totals=(((equity[0] + 1, *equity[1:]), debt), *rest))
    path.write_bytes(replace(rp, batch=replace(rp.batch, public=edited)).to_bytes())
    with pytest.raises(VerificationError, match="round.zkp: "):
        _verify(folder)


def test_options_other_than_global_json_states_are_refused(folder: Path) -> None:
    document = json.loads((folder / "global.json").read_text())
    document["proof_options"]["num_queries"] += 1
    (folder / "global.json").write_bytes(json_text(document))
    with pytest.raises(VerificationError, match="round.zkp: its batch proof's options are not global.json's"):
        _verify(folder)


def test_a_statement_restated_everywhere_fails_the_proof_itself(folder: Path) -> None:
    """The forger restates global.json, summary.json and the statement inside round.zkp's batch
    proof (its digest with it): the proof, bound to the statement digest it was proven for, refuses."""
    restate(folder, every_decimals_plus_one)
    g = GlobalProof.from_json((folder / "global.json").read_bytes(), "global.json")
    path = folder / "round.zkp"
    rp = read_round_proof(path.read_bytes(), "round.zkp", batch_count=1)
    assert isinstance(rp, BatchRoundProof)
    public = replace(rp.batch.public, statement_digest=g.statement_digest)
    batch = BatchProof(g.statement, public, rp.batch.stark)
    path.write_bytes(BatchRoundProof(g.round_id, batch).to_bytes())
    _with_summary_size(folder)
    with pytest.raises(VerificationError, match="round.zkp: batch 0: STARK proof rejected"):
        _verify(folder)
