"""The round proof (`round_tree`): proven after the batches, resumable node by node, verified from
global.json, summary.json and round.zkp alone with verification keys derived (and cached) locally;
a round proof of another round, or with an edited root or totals, is refused in one line."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from liabilities_testing import CHEAP_TREE, copy_round, make_round, prove_small, round_secret_path

from zkpor.errors import VerificationError
from zkpor.liabilities import aggregation, round_tree
from zkpor.liabilities.distributed import NodeJob, job_payload
from zkpor.liabilities.published import GlobalProof
from zkpor.liabilities.round_proof import verify_round
from zkpor.liabilities.round_tree import (
    NODE_MAGIC,
    ROUND_MAGIC,
    NodeFile,
    RoundProof,
    key_id,
    node_file_name,
    stack_id,
)
from zkpor.liabilities.secret import load_secret
from zkpor.liabilities.statement import Statement
from zkpor.recursion import proving
from zkpor.recursion.verifying_key import KeyCache
from zkpor.round.config import load_round_config, write_round_config
from zkpor.stark.preprocessed import preprocessed_key
from zkpor.stark.proof import ProofFormatError

pytestmark = pytest.mark.slow  # a two-level tree: about a minute on two shared cores

USERS = 150  # five batches of 32: two level-1 nodes (4 + 1 batches) under one top node
TREE = CHEAP_TREE  # the top node with BLAKE3, as by default
NODES = ("L1-00000", "L1-00001", "L2-00000")


@pytest.fixture(scope="module")
def aggregated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    directory = tmp_path_factory.mktemp("aggregated") / "round"
    secret = make_round(directory, USERS)
    report = prove_small(directory, secret, aggregate=True, tree=TREE)
    assert report.tree is not None and report.tree.nodes_proven == 3
    return directory, secret


def _verify(path: Path, **kwargs: object):
    return verify_round(path, min_security_bits=0, **kwargs)  # type: ignore[arg-type]


def _public_only(round_dir: Path, target: Path) -> Path:
    """What an auditor downloads: global.json, summary.json and round.zkp, nothing else."""
    target.mkdir(parents=True)
    for name in ("global.json", "summary.json", "round.zkp"):
        shutil.copy(round_dir / "proof" / name, target / name)
    return target


def test_the_round_proof_is_written_named_and_verified(aggregated: tuple[Path, bytes]) -> None:
    directory, _ = aggregated
    proof = directory / "proof"
    assert all((proof / f"nodes/{name}.zkp").is_file() for name in NODES)
    g = GlobalProof.from_json((proof / "global.json").read_bytes(), "global.json")
    assert g.round_proof == "round.zkp" and g.proof_options["hasher"] == "poseidon2"
    summary = json.loads((proof / "summary.json").read_text())
    assert summary["round_proof"]["nodes_per_level"] == [2, 1]
    assert summary["proof_bytes"] == (proof / "round.zkp").stat().st_size
    assert set(summary["round_proof"]["security"]) == {"batch", "inner", "top"}
    result = _verify(directory)
    assert result.round_proof is not None and not result.batches_verified
    everything = _verify(directory, check_batches=True)
    assert everything.batches_verified and everything.totals == result.totals


def test_a_proven_level_holds_no_committed_program_columns(aggregated: tuple[Path, bytes]) -> None:
    """The prover drops a level's committed program columns once its last node is recorded
    (`TreeSchedule`): a process that proved a round keeps none of them, only the keys."""
    directory, _ = aggregated
    g = GlobalProof.from_json((directory / "proof" / "global.json").read_bytes(), "global.json")
    tree = RoundProof.from_bytes((directory / "proof" / "round.zkp").read_bytes()).tree
    plan = aggregation.plan_tree(g.batch_count, tree.leaf_arity_log, tree.node_arity_log)
    for shapes in plan.levels:
        program = round_tree.node_program(g.statement, tree, shapes[0])
        assert "committed" not in program.__dict__ and program.key.preprocessed.root


def test_the_public_files_alone_verify(aggregated: tuple[Path, bytes], tmp_path: Path) -> None:
    folder = _public_only(aggregated[0], tmp_path / "downloaded")
    result = _verify(folder)
    assert result.round_proof is not None and result.proof_bytes == (folder / "round.zkp").stat().st_size
    with pytest.raises(VerificationError, match="batch 0: .* is missing"):
        _verify(folder, check_batches=True)
    (folder / "round.zkp").unlink()
    with pytest.raises(VerificationError, match="round.zkp is missing: .* names it as the round proof"):
        _verify(folder)


def test_resume_reproves_only_a_deleted_or_damaged_node(
    aggregated: tuple[Path, bytes], tmp_path: Path
) -> None:
    directory, secret = aggregated
    copy = copy_round(directory, tmp_path / "copy")
    (copy / "proof" / node_file_name(1, 1)).unlink()
    damaged = copy / "proof" / node_file_name(1, 0)
    data = bytearray(damaged.read_bytes())
    data[-100] ^= 0x01  # inside the STARK proof: the file still parses
    damaged.write_bytes(bytes(data))
    notices: list[str] = []
    report = prove_small(copy, secret, aggregate=True, tree=TREE, notice=notices.append)
    assert report.batches_proven == 0 and report.tree is not None
    assert (report.tree.nodes_proven, report.tree.nodes_reused) == (2, 1)  # the top node is intact
    named = [n for n in notices if "L1-00000" in n]
    assert len(named) == 1 and str(damaged) in named[0] and "proving it again" in named[0]
    assert not any("L1-00001" in n for n in notices)  # missing: simply proven
    _verify(copy)


def _rewrite(path: Path, change) -> None:
    """Re-encode round.zkp with `change` applied to (header fields via RoundProof)."""
    rp = RoundProof.from_bytes(path.read_bytes())
    path.write_bytes(change(rp).to_bytes())


def _edited_total(public, delta: int = 1):
    first, *rest = public.limb_totals
    (equity, debt) = first
    return replace(public, limb_totals=(((equity[0] + delta, *equity[1:]), debt), *rest))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rp: replace(rp, round_id="2024-07"), "is the round proof of round '2024-07', not '2024-06'"),
        (lambda rp: replace(rp, public=replace(rp.public, statement_digest=(1, 2, 3, 4))),
         "proven for another statement digest"),
        (lambda rp: replace(rp, public=replace(rp.public, root=(1, 2, 3, 4))), "root is not global.json's"),
        (lambda rp: replace(rp, public=_edited_total(rp.public)), "totals of BTC are not global.json's"),
        (lambda rp: replace(rp, public=replace(rp.public, batch_count=4)), "4 batches proven"),
        (lambda rp: replace(rp, nodes_per_level=(5, 1)), "tree shape is not the one 5 batches give"),
        (lambda rp: replace(rp, tree=replace(rp.tree, top=replace(rp.tree.top, num_queries=9))),
         "the top proof's options are not the ones its header lists"),
        (lambda rp: replace(rp, tree=replace(rp.tree, batch=replace(rp.tree.batch, num_queries=9))),
         "batch options are not global.json's proof_options"),
        # The inner options are checked by the keys alone: the verifier derives the top program for
        # the options the header lists, and the top proof is of the program for the proven ones.
        (lambda rp: replace(rp, tree=replace(rp.tree, inner=replace(rp.tree.inner, num_queries=9))),
         "STARK proof rejected"),
    ],
    ids=["other-round", "other-statement", "root", "totals", "batch-count", "shape", "top-options",
         "batch-options", "inner-options"],
)  # fmt: skip
def test_an_edited_or_foreign_round_proof_is_refused_in_one_line(
    aggregated: tuple[Path, bytes], tmp_path: Path, change, message: str
) -> None:
    folder = _public_only(aggregated[0], tmp_path / "public")
    _rewrite(folder / "round.zkp", change)
    with pytest.raises(VerificationError, match=message) as refused:
        _verify(folder)
    assert "\n" not in str(refused.value) and "round.zkp" in str(refused.value)


def test_totals_edited_in_both_files_fail_the_proof_itself(
    aggregated: tuple[Path, bytes], tmp_path: Path
) -> None:
    """global.json and round.zkp restating the same larger total agree with each other: only the top
    proof, whose public outputs are the totals, can refuse them."""
    folder = _public_only(aggregated[0], tmp_path / "public")
    _rewrite(folder / "round.zkp", lambda rp: replace(rp, public=_edited_total(rp.public)))
    document = json.loads((folder / "global.json").read_text())
    document["batches"][0]["equity"][0] = str(int(document["batches"][0]["equity"][0]) + 1)
    (folder / "global.json").write_text(json.dumps(document))
    with pytest.raises(VerificationError, match="round.zkp: STARK proof rejected"):
        _verify(folder)


def test_a_subtree_node_is_not_a_round_proof(aggregated: tuple[Path, bytes], tmp_path: Path) -> None:
    """A level-1 node (a valid proof of four batches) repackaged as the round proof is refused."""
    directory = aggregated[0]
    folder = _public_only(directory, tmp_path / "public")
    node = NodeFile.from_bytes((directory / "proof" / node_file_name(1, 0)).read_bytes())
    _rewrite(folder / "round.zkp", lambda rp: replace(rp, public=node.public, stark=node.stark))
    with pytest.raises(VerificationError):
        _verify(folder)


def test_malformed_round_proof_files_are_refused(aggregated: tuple[Path, bytes], tmp_path: Path) -> None:
    data = (aggregated[0] / "proof" / "round.zkp").read_bytes()
    assert data.startswith(ROUND_MAGIC)
    for bad in (data[:20], data[:-1], data + b"\0", NODE_MAGIC + data[8:], b""):
        with pytest.raises(ProofFormatError):
            RoundProof.from_bytes(bad)
    folder = _public_only(aggregated[0], tmp_path / "public")
    (folder / "round.zkp").write_bytes(data[:-1])
    with pytest.raises(VerificationError, match="round.zkp: round proof: the proof length field"):
        _verify(folder)


def test_keys_are_derived_once_cached_and_a_damaged_entry_rebuilt(
    aggregated: tuple[Path, bytes], tmp_path: Path
) -> None:
    directory = aggregated[0]
    notices: list[str] = []
    first = _verify(directory, key_cache=KeyCache(tmp_path / "keys", notices.append), notice=notices.append)
    assert first.round_proof is not None and first.round_proof.keys_built
    assert any(n.startswith("Deriving the round proof's verification keys") for n in notices)
    entries = sorted((tmp_path / "keys").glob("*.vk"))
    assert len(entries) == 2  # one program a level: level 1 (its full and partial node), level 2
    notices.clear()
    again = _verify(directory, key_cache=KeyCache(tmp_path / "keys", notices.append), notice=notices.append)
    assert again.round_proof is not None and not again.round_proof.keys_built and notices == []
    damaged = bytearray(entries[0].read_bytes())
    damaged[60] ^= 0x20
    entries[0].write_bytes(bytes(damaged))
    rebuilt = _verify(directory, key_cache=KeyCache(tmp_path / "keys", notices.append), notice=notices.append)
    assert rebuilt.round_proof is not None and rebuilt.round_proof.keys_built
    assert any("ignored" in n and entries[0].name in n for n in notices)
    # Deriving or reading the keys is timed apart from the check, and the top key has one name.
    for check in (first.round_proof, again.round_proof, rebuilt.round_proof):
        assert 0 < check.keys_seconds < check.seconds
        assert check.top_key == first.round_proof.top_key and len(check.top_key) == 64


def test_verify_prints_the_check_and_the_keys_apart(
    aggregated: tuple[Path, bytes], tmp_path: Path, run_main, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`zkpor verify` says how long the round proof's check took and, apart, whether its keys were
    derived now (a setup step, once per version and shape) or read from the cache; and names the top
    key, the same both times (what two auditors can compare)."""
    monkeypatch.setenv("ZKPOR_KEY_CACHE", str(tmp_path / "keys"))
    first = run_main("verify", str(aggregated[0]), "--min-security-bits", "0", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "its verification keys derived now in" in first.stdout
    again = run_main("verify", str(aggregated[0]), "--min-security-bits", "0", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "its verification keys read from the local cache in" in again.stdout
    named = [line.split("top key ")[1].split()[0] for line in (first.stdout, again.stdout)]
    assert named[0] == named[1] and len(named[0]) == 64


def test_keys_of_one_round_verify_the_next_round_of_another_batch_count(
    aggregated: tuple[Path, bytes], tmp_path: Path
) -> None:
    """The next month: more users (six batches, not five: the same tree height, 8 slots), another
    round id and every price doubled. Its programs are the first round's (the prices and the batch
    count are public inputs; the tree's levels and arities follow from its height), so the keys
    the first round's verification derived are all cache hits: its verify derives nothing."""
    first, later = aggregated[0], tmp_path / "later"
    make_round(later, USERS + 32)
    config = load_round_config(later / "round.toml")
    write_round_config(
        replace(config, round_id="2024-07", price_units=tuple(2 * u for u in config.price_units)),
        later / "round.toml",
    )
    secret, _ = load_secret(round_secret_path(later), create=True)
    prove_small(later, secret, aggregate=True, tree=TREE)
    notices: list[str] = []
    cache = tmp_path / "keys"
    assert _verify(first, key_cache=KeyCache(cache, notices.append)).round_proof.keys_built  # type: ignore[union-attr]
    entries = sorted(cache.glob("*.vk"))
    result = _verify(later, key_cache=KeyCache(cache, notices.append), notice=notices.append)
    assert result.round_proof is not None and not result.round_proof.keys_built
    assert notices == [] and sorted(cache.glob("*.vk")) == entries
    assert result.round_proof.round_proof.public.weights == tuple(2 * w for w in config.price_weights())
    assert result.global_proof.batch_count == 6 and result.round_proof.round_proof.nodes_per_level == (2, 1)


def test_key_ids_depend_on_the_tree_height_not_on_the_round(aggregated: tuple[Path, bytes]) -> None:
    """A key's cache name: the stack's shape and options, the node's program and its own options.
    Rounds of every batch count of one tree height (5–8 batches: 8 slots) share every key; the
    level-1 program as a top (four batches) and as an inner node (five) has other options, so
    another key; nine batches (16 slots) have another top."""
    g = GlobalProof.from_json((aggregated[0] / "proof/global.json").read_bytes(), "g")

    def ids(batch_count: int) -> list[str]:
        statement = replace(g.statement, batch_count=batch_count)
        plan = aggregation.plan_tree(batch_count, TREE.leaf_arity_log, TREE.node_arity_log)
        base = stack_id(statement, TREE)
        return [key_id(base, plan, shape, TREE.for_level(shape.level, len(plan.levels)))
                for level in plan.levels for shape in level]  # fmt: skip

    repriced = replace(g.statement, round_id="x", assets=tuple(replace(a, price="3") for a in g.assets))
    assert stack_id(repriced, TREE) == stack_id(g.statement, TREE)
    five, four, nine = ids(5), ids(4), ids(9)
    assert len(set(five)) == 2 and five[0] == five[1]  # the full and the partial level-1 node
    assert all(set(ids(n)) == set(five) for n in (6, 7, 8))
    assert four[0] != five[0]  # the same node as a top node: the top options
    assert nine[0] == five[0] and nine[-1] != five[-1]


def test_a_node_job_leaves_the_client_as_plain_values(aggregated: tuple[Path, bytes]) -> None:
    directory = aggregated[0]
    statement = GlobalProof.from_json((directory / "proof/global.json").read_bytes(), "g").statement
    children = tuple((directory / f"proof/batches/{i:05d}.zkp").read_bytes() for i in range(4))
    payload = job_payload(NodeJob(statement, 1, 0, TREE, children))
    assert payload["kind"] == "node" and Statement.decode(payload["statement"]) == statement

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, tuple | list):
            return all(plain(v) for v in value)
        return isinstance(value, int | bool | str | bytes)

    assert plain(payload)


def test_deriving_the_keys_commits_each_program_once_and_keeps_none(
    aggregated: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An auditor's first verify (no program compiled in the process): each distinct program's
    columns are committed once, root only (`preprocessed_key`: no LDE or tree kept; a parent's
    program reuses its child's key), and the programs compiled for it are released while the top's
    columns, the largest commitment, are committed."""
    aggregation.forget_programs(frozenset())  # as in a fresh `zkpor verify` process
    commits: list[int] = []
    compiled_at_top_commit: list[int] = []
    released = threading.Event()
    forget = aggregation.forget_programs

    def forgetting(keep):
        forget(keep)
        released.set()

    def counting(air, options):
        commits.append(air.trace_length)
        if len(commits) == 2:  # the top's (the last): the programs go while it runs
            assert released.wait(60)
            compiled_at_top_commit.append(len(aggregation.cached_programs()))
        return preprocessed_key(air, options)

    def kept(air, options):
        raise AssertionError("a verifier keeps no committed columns")

    monkeypatch.setattr(aggregation, "forget_programs", forgetting)
    monkeypatch.setattr(proving, "preprocessed_key", counting)
    monkeypatch.setattr(proving, "commit_preprocessed", kept)
    result = _verify(aggregated[0], key_cache=KeyCache(tmp_path / "keys"))
    assert result.round_proof is not None and result.round_proof.keys_built
    assert len(commits) == 2  # level 1 (one program for its full and partial node), level 2 (the top)
    assert compiled_at_top_commit == [0] and aggregation.cached_programs() == frozenset()
