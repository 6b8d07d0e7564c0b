"""Inclusion proofs: export, the customer's check (pure Python), tampering, size, and no numpy."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from liabilities_testing import append_user_line, make_round, prove_small

from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.liabilities import encoding
from zkpor.liabilities.inclusion import (
    InclusionProof,
    describe,
    load_global,
    verify_inclusion,
)
from zkpor.liabilities.published import climb
from zkpor.liabilities.round_proof import export_user
from zkpor.liabilities.statement import Statement
from zkpor.round.config import default_round_config
from zkpor.round.directory import load_round_inputs


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("inclusion") / "round"
    secret = make_round(directory, 70, seed=9)
    append_user_line(directory, {"uid": "debtor", "BTC_equity": "1", "USDT_debt": "100.5"})
    prove_small(directory, secret)
    return directory


@pytest.fixture(scope="module")
def some_user(proven: Path) -> tuple[str, InclusionProof]:
    return "debtor", export_user(proven, "debtor")


def test_every_user_round_trips(proven: Path) -> None:
    users = load_round_inputs(proven).users
    g = load_global(proven / "proof/global.json")
    for row in range(0, len(users), 7):
        proof = export_user(proven, users.uid(row))
        parsed = InclusionProof.from_json(proof.to_json(), "proof.json")
        assert parsed == proof
        assert parsed.equity == tuple(users.equity[row].tolist())
        assert parsed.debt == tuple(users.debt[row].tolist())
        check = verify_inclusion(parsed, g)
        assert check.against_global and g.root == parsed.root


def test_what_the_customer_reads(some_user: tuple[str, InclusionProof]) -> None:
    uid, proof = some_user
    lines = describe(verify_inclusion(proof))
    assert lines[0].startswith(f"Inclusion proof of uid {uid} in round 2024-06 (batch {proof.batch}")
    assert any("debt" in line for line in lines), "the debtor's debt is shown"
    assert lines[-1].startswith("OK: the balances above are a leaf under this root")


def test_unknown_uid(proven: Path) -> None:
    with pytest.raises(ZkporError, match="uid 'nobody' is not in round 2024-06"):
        export_user(proven, "nobody")


def _changed(proof: InclusionProof, **changes: object) -> InclusionProof:
    return dataclasses.replace(proof, **changes)


def _flip(digest: tuple[int, ...]) -> tuple[int, ...]:
    return (digest[0] ^ 1, *digest[1:])


@pytest.mark.parametrize(
    ("what", "change", "message"),
    [
        ("balance", lambda p: {"equity": (p.equity[0] + 1, *p.equity[1:])}, "does not hash up the leaf path"),
        ("debt", lambda p: {"debt": tuple(0 for _ in p.debt)}, "does not hash up the leaf path"),
        ("nonce", lambda p: {"nonce": bytes(32)}, "does not hash up the leaf path"),
        ("uid", lambda p: {"uid": p.uid + "x"}, "does not hash up the leaf path"),
        ("position", lambda p: {"position": p.position ^ 1}, "does not hash up the leaf path"),
        (
            "leaf sibling",
            lambda p: {"leaf_path": (_flip(p.leaf_path[0]), *p.leaf_path[1:])},
            "does not hash up the leaf path",
        ),
        ("batch root", lambda p: {"batch_root": _flip(p.batch_root)}, "does not hash up the leaf path"),
        (
            "top sibling",
            lambda p: {"top_path": (_flip(p.top_path[0]), *p.top_path[1:])},
            "does not hash up the top path",
        ),
        ("batch index", lambda p: {"batch": (p.batch + 1) % 3}, "does not hash up the top path"),
        ("root", lambda p: {"root": _flip(p.root)}, "does not hash up the top path"),
        ("position past the tree", lambda p: {"position": 1 << 20}, "past the end of its tree"),
    ],
)
def test_a_tampered_inclusion_proof(
    some_user: tuple[str, InclusionProof], what: str, change, message: str
) -> None:
    _, proof = some_user
    with pytest.raises(VerificationError, match=message):
        verify_inclusion(_changed(proof, **change(proof)))


def _relabelled(proof: InclusionProof, **changes: object) -> InclusionProof:
    return _changed(proof, statement=dataclasses.replace(proof.statement, **changes))


def _with_asset(proof: InclusionProof, index: int, **changes: object) -> InclusionProof:
    assets = list(proof.statement.assets)
    assets[index] = dataclasses.replace(assets[index], **changes)
    return _relabelled(proof, assets=tuple(assets))


def _swap_labels(proof: InclusionProof, i: int, j: int) -> InclusionProof:
    assets = list(proof.statement.assets)
    assets[i], assets[j] = (dataclasses.replace(assets[i], symbol=assets[j].symbol),
                            dataclasses.replace(assets[j], symbol=assets[i].symbol))  # fmt: skip
    return _relabelled(proof, assets=tuple(assets))


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("two asset labels swapped", lambda p: _swap_labels(p, 0, 2)),  # BTC balance shown as USDT
        ("an asset's decimals (balances shown ×100)", lambda p: _with_asset(p, 0, decimals=6)),
        ("an asset's price", lambda p: _with_asset(p, 2, price="1.01")),
        ("an asset's bit bound", lambda p: _with_asset(p, 2, bits=60)),
        ("another round id", lambda p: _relabelled(p, round_id="2024-07")),
        ("another snapshot time", lambda p: _relabelled(p, snapshot_time="2024-07-31T16:00:00Z")),
        ("another batch count", lambda p: _relabelled(p, batch_count=p.statement.batch_count - 1)),
    ],
)
def test_a_relabelled_inclusion_proof_misses_the_root(
    some_user: tuple[str, InclusionProof], what: str, change
) -> None:
    """Without global.json: the root alone catches an edited statement, because every leaf's sponge
    starts from the statement digest (pinned in the STARK). Also through the JSON file."""
    _, proof = some_user
    relabelled = change(proof)
    assert relabelled.statement != proof.statement
    with pytest.raises(VerificationError, match="does not hash up the leaf path|path lengths"):
        verify_inclusion(relabelled)
    with pytest.raises(VerificationError):
        verify_inclusion(InclusionProof.from_json(relabelled.to_json(), "me.json"))


def test_another_customers_proof_is_refused_with_uid(some_user: tuple[str, InclusionProof]) -> None:
    uid, proof = some_user
    verify_inclusion(proof, uid=uid)
    with pytest.raises(VerificationError, match="inclusion proof is for uid 'debtor', not 'alice'"):
        verify_inclusion(proof, uid="alice")


def test_a_v1_inclusion_proof_gets_a_clear_message() -> None:
    old = json.dumps({"format": "zkpor-inclusion-v1", "round_id": "2024-06", "uid": "a"}).encode()
    with pytest.raises(InputError, match="a v1 inclusion proof from an older zkpor .*ask the exchange for a"):
        InclusionProof.from_json(old, "old.json")


def test_a_consistent_proof_for_another_root_fails_against_global_json(
    proven: Path, some_user: tuple[str, InclusionProof]
) -> None:
    """A forged proof that is consistent in itself (recomputed paths) but not under the published root."""
    _, proof = some_user
    g = load_global(proven / "proof/global.json")
    forged = _changed(proof, equity=(proof.equity[0] + 10**8, *proof.equity[1:]))
    identity = encoding.id_hash(forged.uid, forged.nonce)
    leaf = encoding.leaf_hash(forged.statement.digest(), identity, forged.equity, forged.debt)
    batch_root = climb(leaf, forged.position, forged.leaf_path)
    root = climb(batch_root, forged.batch, forged.top_path)
    forged = _changed(forged, batch_root=batch_root, root=root)
    verify_inclusion(forged)  # fine on its own: only the published root can tell
    with pytest.raises(VerificationError, match="does not match global.json: batch .*'s root differs"):
        verify_inclusion(forged, g)
    other_round = dataclasses.replace(g, statement=dataclasses.replace(g.statement, round_id="2024-07"))
    with pytest.raises(VerificationError, match="round_id is '2024-06' here, '2024-07' in global.json"):
        verify_inclusion(proof, other_round)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.update(format=["zkpor-inclusion-v2"]), "format"),
        (lambda d: d.update(nonce="xyz"), "nonce"),
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d.pop("root"), "root"),
        (lambda d: d["equity"].__setitem__(0, "1.123456789"), "equity.BTC"),
        (lambda d: d["equity"].__setitem__(0, "-1"), "equity.BTC"),
        (lambda d: d["equity"].pop(), "equity"),
        (lambda d: d.update(leaf_path="not base64!"), "leaf_path"),
        (lambda d: d.update(top_path="AAAA"), "top_path"),
        (lambda d: d.update(batch=-1), "batch"),
        (lambda d: d.update(batch=True), "batch"),
        (lambda d: d.update(assets=[["BTC", 99]]), "assets[0]"),
        (lambda d: d["assets"][0].__setitem__(1, 19), "assets[0].decimals"),
        (lambda d: d["assets"][0].__setitem__(3, "67000.0"), "assets[0].price"),
        (lambda d: d["assets"][1].__setitem__(3, "1" + "0" * 15), "assets[1].price"),  # weight ≥ 2^64
        (lambda d: d.update(snapshot_time="2024-06-30T18:00:00+02:00"), "snapshot_time"),
        (lambda d: d.update(uid="\ud800"), "uid"),  # a lone surrogate (JSON allows the escape)
        (lambda d: d["assets"][1].__setitem__(0, "\ud800"), "assets[1].symbol"),
    ],
)
def test_a_malformed_inclusion_file(some_user: tuple[str, InclusionProof], edit, field: str) -> None:
    _, proof = some_user
    document = json.loads(proof.to_json())
    edit(document)
    with pytest.raises(InputError) as caught:
        InclusionProof.from_json(json.dumps(document).encode(), "me.json")
    assert caught.value.field == field and caught.value.path == "me.json"


def test_not_json_at_all() -> None:
    with pytest.raises(InputError, match="me.json:1: not valid JSON"):
        InclusionProof.from_json(b"{", "me.json")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"batch": ' + b"1" * 5000 + b"}", "an integer has too many digits"),
        (b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
    ],
)
def test_json_that_python_cannot_hold_is_an_input_error(data: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        InclusionProof.from_json(data, "me.json")


def test_an_inclusion_proof_is_under_3_kb_at_production_depth() -> None:
    """2^20 users: 13 levels in a batch of 8192, 7 in the top tree of 128 batches; 22 assets with
    realistic balances (a whale with 9 assets and margin debt). The statement it carries (symbols,
    decimals, bits, prices) adds about 600 bytes to the 2 KB of v1."""
    statement = Statement.from_config(default_round_config(), 16, 8192, 128)
    equity = [0] * 22
    for i, value in enumerate(
        [
            12_345_678_901,
            98_765_432_109,
            1_234_567_890_123,
            55_000_000,
            7_777_777_777,
            3_141_592_653_589,
            271_828_182_845,
            16_180_339_887,
            14_142_135_623,
        ]
    ):
        equity[i] = value
    debt = [0] * 22
    debt[2] = 500_000_000_000
    digest = (2**64 - 2**32, 2**63, 12345, 2**62 + 1)
    proof = InclusionProof(
        statement,
        "8405227119",
        bytes(range(32)),
        tuple(equity),
        tuple(debt),
        127,
        8191,
        (digest,) * 13,
        digest,
        (digest,) * 7,
        digest,
    )
    size = len(proof.to_json())
    assert size <= 3072, size


# ---- the customer's verifier without numpy or numba ------------------------------------------

_NO_NUMPY = """
import sys
sys.modules["numpy"] = None  # any `import numpy` now fails
sys.modules["numba"] = None
sys.argv = ["zkpor.liabilities.inclusion", *sys.argv[1:]]
import runpy
try:
    runpy.run_module("zkpor.liabilities.inclusion", run_name="__main__")
finally:
    assert "numpy" not in {name.split(".")[0] for name, m in sys.modules.items() if m is not None}
"""


def _customer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _NO_NUMPY, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_verify_user_runs_without_numpy_or_numba(
    proven: Path, tmp_path: Path, some_user: tuple[str, InclusionProof]
) -> None:
    uid, proof = some_user
    path = tmp_path / "me.json"
    path.write_bytes(proof.to_json())
    ok = _customer(str(path), "--global", str(proven / "proof/global.json"))
    assert ok.returncode == 0, ok.stderr
    assert f"uid {uid}" in ok.stdout and "published root (global.json)" in ok.stdout

    document = json.loads(path.read_text())
    document["equity"][2] = "999999"
    path.write_text(json.dumps(document))
    bad = _customer(str(path))
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: inclusion proof: the leaf") and "Traceback" not in bad.stderr


def test_a_damaged_inclusion_store(proven: Path, tmp_path: Path) -> None:
    copy = tmp_path / "round"
    shutil.copytree(proven, copy)
    (copy / "private/inclusion.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ZkporError, match="inclusion.sqlite: not a readable inclusion store"):
        export_user(copy, "debtor")
    (copy / "private/inclusion.sqlite").unlink()
    with pytest.raises(ZkporError, match="no inclusion store"):
        export_user(copy, "debtor")
