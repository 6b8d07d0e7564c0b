"""A cheating prover against `zkpor verify` of a published round proof (round.zkp + global.json +
summary.json): every attack edits what the prover controls (the files it publishes) so that the
folder states something the batch proofs do not prove, and the verifier must refuse it.

One two-batch round (the top node verifies both batches directly) with cheap options keeps this
small; the tree's in-circuit checks are tests/liabilities/test_aggregation.py's. (A round of one
batch has no tree: its round.zkp is its batch proof, attacked in test_one_batch_round_proof.py.)"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from liabilities_testing import (
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
from zkpor.liabilities import aggregation, round_tree
from zkpor.liabilities.batch import BatchProof
from zkpor.liabilities.published import GlobalProof, json_text
from zkpor.liabilities.round_tree import BatchRoundProof, NodeFile, RoundProof, node_file_name
from zkpor.recursion.verifying_key import KeyCache
from zkpor.round.decimal_text import format_units
from zkpor.stark.proof import MAX_PROOF_BYTES, ProofFormatError

pytestmark = pytest.mark.slow  # one aggregated round: ~30-60 s on two shared cores

USERS = 40  # two batches of 32: one level-1 node over two batch proofs, the top


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("attacks") / "round"
    secret = make_round(directory, USERS)
    prove_small(directory, secret, aggregate=True, tree=CHEAP_TREE)
    return directory


@pytest.fixture
def folder(proven: Path, tmp_path: Path) -> Path:
    return public_folder(proven, tmp_path / "public")


_verify = verify_cheap


def _restate_totals(folder: Path, totals: list[tuple[int, int]]) -> None:
    """Make global.json (batch 0 carries every total, batch 1 none) and summary.json state `totals`
    (and round.zkp's size)."""
    path = folder / "global.json"
    document = json.loads(path.read_text())
    assert len(document["batches"]) == 2
    document["batches"][0]["equity"] = [str(e) for e, _ in totals]
    document["batches"][0]["debt"] = [str(d) for _, d in totals]
    document["batches"][1]["equity"] = document["batches"][1]["debt"] = ["0"] * len(totals)
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


_header_edit = edit_round_header


def _set(path: str, value: object):
    def edit(header: dict) -> dict:
        *parents, last = path.split(".")
        node = header
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
        return header

    return edit


_DELETE = object()


@pytest.mark.parametrize(
    "edit",
    [
        _set("public.statement_digest", 7),
        _set("public.root", None),
        _set("public.limb_totals", [[[1], [2], [3]]]),
        _set("public.limb_totals", [[[-1], [0]]]),
        _set("public.limb_totals", []),
        _set("public.first_leaf", True),
        _set("public.batch_count", 1 << 40),
        _set("public.extra", 1),
        _set("public", _DELETE),
        _set("tree.leaf_arity_log", 0),
        _set("tree.node_arity_log", -3),
        _set("tree.leaf_arity_log", 5),  # 32 batch verifiers in one node program: refused before compiling
        _set("tree.nodes_per_level", [0]),
        _set("tree.nodes_per_level", "1"),
        _set("options.top.hasher", "sha1"),
        _set("options.top.blowup", 1 << 63),
        _set("options.inner.num_queries", 0),
        _set("options.batch", []),
        _set("batch_count", "1"),
        _set("round_id", "\ud800"),
        lambda header: b"\xff\xfe{}",
        lambda header: b"[1, 2]",
        lambda header: b"{" * 100000,
    ],
)
def test_a_malformed_round_proof_header_is_one_line_naming_the_file(folder: Path, edit) -> None:
    path = folder / "round.zkp"
    path.write_bytes(_header_edit(path.read_bytes(), edit))
    with pytest.raises(ZkporError) as refused:
        _verify(folder)
    message = str(refused.value)
    assert "\n" not in message and "round.zkp" in message


def test_a_tree_round_proof_relabelled_as_a_batch_is_refused(proven: Path, folder: Path) -> None:
    """The verifier takes the form of round.zkp from global.json's batch count (2: a tree), never
    from the file: a tree's top relabelled "batch", or batch 0's (valid) proof packaged as the
    round proof of a round of one batch, is refused before anything in it is read as proven."""
    path = folder / "round.zkp"
    tree_file = path.read_bytes()
    batch = BatchProof.from_bytes((proven / "proof" / "batches" / "00000.zkp").read_bytes())
    g = GlobalProof.from_json((folder / "global.json").read_bytes(), "global.json")
    for bad in (_header_edit(tree_file, _set("top", "batch")), BatchRoundProof(g.round_id, batch).to_bytes()):
        path.write_bytes(bad)
        expected = "round.zkp: its top is its one batch proof itself .* of 2 batches is the top node of"
        with pytest.raises(VerificationError, match=expected) as refused:
            _verify(folder)
        assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("options.batch.num_queries", 129),
        ("options.batch.blowup", 32),
        ("options.batch.fri_folding_log", 4),
        ("options.batch.fri_final_degree", 512),
        ("options.batch.hasher", "blake3"),  # no node program compiles a BLAKE3 verifier
        ("options.inner.num_queries", 256),
        ("options.inner.blowup", 16),
        ("options.inner.fri_folding_log", 4),
        ("options.inner.fri_final_degree", 1024),
        ("options.inner.hasher", "blake3"),
        ("options.top.blowup", 256),
        ("tree.leaf_arity_log", 4),
        ("tree.node_arity_log", 4),
    ],
)
def test_a_header_asking_for_programs_beyond_the_limits_is_refused_before_deriving(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: object
) -> None:
    """Every header field that sizes what the verifier compiles (a program's child verifiers, the
    columns it commits), at a value the options' own validation allows but `OPTION_LIMITS` /
    `MAX_ARITY_LOG` do not: refused naming the file and the field, before any program is compiled
    or any key derived or cached. Batch options are set in global.json too (they must agree)."""

    def derivation(*args: object, **kwargs: object) -> None:
        raise AssertionError("a program was derived for a header beyond the limits")

    monkeypatch.setattr(round_tree, "stack_keys", derivation)
    monkeypatch.setattr(aggregation, "node_program", derivation)
    path = folder / "round.zkp"
    path.write_bytes(_header_edit(path.read_bytes(), _set(field, value)))
    if field.startswith("options.batch."):
        document = json.loads((folder / "global.json").read_text())
        document["proof_options"][field.rsplit(".", 1)[1]] = value
        (folder / "global.json").write_bytes(json_text(document))
    cache = KeyCache(tmp_path / "keys")
    with pytest.raises(InputError) as refused:
        _verify(folder, key_cache=cache)
    assert (refused.value.path, refused.value.field) == (str(path), field)
    assert "\n" not in str(refused.value)
    assert cache.built == [] and not (tmp_path / "keys").exists()


def test_the_cli_refuses_a_header_beyond_the_limits_in_one_line(folder: Path, run_main) -> None:
    path = folder / "round.zkp"
    path.write_bytes(_header_edit(path.read_bytes(), _set("options.inner.num_queries", 200)))
    result = run_main("verify", str(folder), "--min-security-bits", "0", cwd=folder)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert f"{path}, field 'options.inner.num_queries': 200 is over 64" in result.stderr


def test_a_tree_no_verifier_derives_is_refused_before_proving(tmp_path: Path) -> None:
    """The prover checks the same limits before proving anything: it never writes a round proof
    that every verifier refuses."""
    directory = tmp_path / "round"
    secret = make_round(directory, USERS)
    wide_blowup = replace(CHEAP_TREE, batch=replace(CHEAP_TREE.batch, blowup=32))
    for tree, what in [
        (wide_blowup, "the round proof's batch option blowup: 32 is over 16"),
        (replace(CHEAP_TREE, leaf_arity_log=4), "leaf_arity_log must be in [1, 3]"),
    ]:
        with pytest.raises(ZkporError, match=re.escape(what)):
            prove_small(directory, secret, aggregate=True, tree=tree)
        assert not list(directory.glob("proof/batches/*.zkp"))


def test_an_oversized_or_truncated_round_proof_is_one_line(folder: Path) -> None:
    path = folder / "round.zkp"
    data = path.read_bytes()
    for bad in (data[:13], data[:200], b"ZKPROUND", data + bytes(MAX_PROOF_BYTES)):
        path.write_bytes(bad)
        with pytest.raises(ZkporError) as refused:
            _verify(folder)
        assert "\n" not in str(refused.value) and "round.zkp" in str(refused.value)


@pytest.mark.parametrize("cut", [0, 9, 14, 60, -1])
def test_a_truncated_or_garbled_node_file_is_refused_naming_it(proven: Path, cut: int) -> None:
    """A node file cut short or with a garbled header (a crash, a full disk) is refused with a
    ProofFormatError or InputError (which a resumed prove names before proving it again), never a
    traceback; damage inside its STARK proof is its verification's (test_round_tree)."""
    data = (proven / "proof" / node_file_name(1, 0)).read_bytes()
    bad = data[:cut]
    with pytest.raises((ProofFormatError, InputError)):
        NodeFile.from_bytes(bad, "L1-00000.zkp")
    garbled = _header_edit(data, _set("public.limb_totals", "x"))
    with pytest.raises(InputError, match="L1-00000.zkp"):
        NodeFile.from_bytes(garbled, "L1-00000.zkp")


def test_a_round_proven_at_other_prices_is_refused(folder: Path) -> None:
    """round.zkp was proven at the prices its header states (the node programs take them as
    public inputs); global.json states another price (and so another digest, which the forger
    copies into the header): the proven prices are not the statement's."""
    restate(folder, lambda g: g["assets"][0].update(price="1"))
    g = GlobalProof.from_json((folder / "global.json").read_bytes(), "global.json")
    path = folder / "round.zkp"
    rp = RoundProof.from_bytes(path.read_bytes())
    assert rp.public.weights != g.statement.weights
    public = replace(rp.public, statement_digest=g.statement_digest)
    path.write_bytes(replace(rp, public=public).to_bytes())
    with pytest.raises(VerificationError, match="round.zkp: .*proven for other price weights"):
        _verify(folder)


def _swap_first_two_symbols(g: dict) -> None:
    g["assets"][0]["symbol"], g["assets"][1]["symbol"] = g["assets"][1]["symbol"], g["assets"][0]["symbol"]


RESTATEMENTS = [
    ("decimals", every_decimals_plus_one),  # weights unchanged: the same programs, another digest
    ("price", lambda g: g["assets"][0].update(price="1")),
    ("round_id", lambda g: g.update(round_id="2099-01")),
    ("snapshot_time", lambda g: g.update(snapshot_time="2099-01-31T16:00:00Z")),
    ("bits", lambda g: g["assets"][1].update(bits=g["assets"][1]["bits"] + 1)),
    ("symbols", _swap_first_two_symbols),
]


@pytest.mark.parametrize("change", [r[1] for r in RESTATEMENTS], ids=[r[0] for r in RESTATEMENTS])
def test_a_statement_restated_everywhere_a_forger_reaches_is_refused(folder: Path, change) -> None:
    """With the round proof alone there is no batch file whose embedded statement betrays a
    restated global.json: the forger restates global.json and summary.json consistently and edits
    round.zkp's header (round id, statement digest, price weights) to match. The top proof, whose
    public inputs are the statement digest and the price weights (and whose programs the verifier
    derives from the restated statement's shape), refuses it: for a restated price, it is a proof
    made with other prices than the statement's."""
    restate(folder, change)
    g = GlobalProof.from_json((folder / "global.json").read_bytes(), "global.json")
    path = folder / "round.zkp"
    rp = RoundProof.from_bytes(path.read_bytes())
    public = replace(rp.public, statement_digest=g.statement_digest, weights=g.statement.weights)
    path.write_bytes(replace(rp, round_id=g.round_id, public=public).to_bytes())
    summary = json.loads((folder / "summary.json").read_text())
    summary["proof_bytes"] = summary["round_proof"]["bytes"] = path.stat().st_size
    (folder / "summary.json").write_bytes(json_text(summary))
    with pytest.raises(VerificationError, match="round.zkp: STARK proof rejected"):
        _verify(folder)
