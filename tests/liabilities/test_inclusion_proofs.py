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
        ("batch index", lambda p: {"batch": p.batch ^ 1}, "does not hash up the top path"),
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


def test_a_consistent_proof_for_another_root_fails_against_global_json(
    proven: Path, some_user: tuple[str, InclusionProof]
) -> None:
    """A forged proof that is consistent in itself (recomputed paths) but not under the published root."""
    _, proof = some_user
    g = load_global(proven / "proof/global.json")
    forged = _changed(proof, equity=(proof.equity[0] + 10**8, *proof.equity[1:]))
    leaf = encoding.leaf_hash(encoding.id_hash(forged.uid, forged.nonce), forged.equity, forged.debt)
    batch_root = climb(leaf, forged.position, forged.leaf_path)
    root = climb(batch_root, forged.batch, forged.top_path)
    forged = _changed(forged, batch_root=batch_root, root=root)
    verify_inclusion(forged)  # fine on its own: only the published root can tell
    with pytest.raises(VerificationError, match="does not match global.json: batch .*'s root differs"):
        verify_inclusion(forged, g)
    other_round = dataclasses.replace(g, round_id="2024-07")
    with pytest.raises(VerificationError, match="round '2024-06' vs '2024-07'"):
        verify_inclusion(proof, other_round)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
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


def test_an_inclusion_proof_is_under_2_kb_at_production_depth() -> None:
    """2^20 users: 13 levels in a batch of 8192, 7 in the top tree of 128 batches; 22 assets with
    realistic balances (a whale with 9 assets and margin debt)."""
    config = default_round_config()
    assets = tuple((a.symbol, a.decimals) for a in config.assets)
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
        "2024-06",
        "8405227119",
        bytes(range(32)),
        assets,
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
    assert size <= 2048, size


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
    (copy / "proof/inclusion.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ZkporError, match="inclusion.sqlite: not a readable inclusion store"):
        export_user(copy, "debtor")
    (copy / "proof/inclusion.sqlite").unlink()
    with pytest.raises(ZkporError, match="no inclusion store"):
        export_user(copy, "debtor")
