"""Proof profiles (conjectured, proven), the verifier's minimums, and the refusal of proofs made
without zero knowledge."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from liabilities_testing import CHEAP, SMALL_BATCH, make_round

from zkpor.errors import VerificationError
from zkpor.liabilities.layout import SolvencyLayout
from zkpor.liabilities.round_proof import (
    PROVEN_PROFILE,
    batch_security,
    profile_options,
    prove_round,
    verify_round,
)
from zkpor.round.generate import generate_round


@pytest.fixture
def zkpor(run_main: Callable[..., Any]) -> Callable[..., Any]:
    return run_main


def test_each_profile_reaches_its_target_at_8192_users_per_batch() -> None:
    rng = np.random.default_rng(3)
    bits = tuple(int(b) for b in rng.integers(40, 63, 22))
    layout = SolvencyLayout(asset_bits=bits, limb_bits=16, batch_size=1 << 13)
    digest = (1, 2, 3, 4)  # any statement digest: the security level depends on layout and options
    conjectured = batch_security(layout, digest, profile_options("conjectured"))
    proven = batch_security(layout, digest, profile_options("proven"))
    assert conjectured.conjectured_bits >= 100 and proven.proven_bits >= 100
    assert proven.unique_decoding_bits >= 100  # a 128-bit field caps list decoding near 60 bits here
    assert profile_options("proven") == PROVEN_PROFILE


def test_prove_with_the_proven_profile_and_demand_proven_bits(
    tmp_path: Path, zkpor: Callable[..., Any]
) -> None:
    generate_round(tmp_path / "r", 40, 5)
    shutil.copytree(tmp_path / "r", tmp_path / "default")
    proved = zkpor("prove", "r", "--batch-size", "32", "--profile", "proven", cwd=tmp_path)
    assert proved.returncode == 0, proved.stderr
    verified = zkpor("verify", "r", "--min-proven-bits", "100", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    for expected in ("blowup 4, 120 queries, 20 grinding bits", "FRI folding 8", "zero knowledge on",
                     "bits proven (list-decoding", "unique-decoding 102)"):  # fmt: skip
        assert expected in verified.stdout, expected

    assert zkpor("prove", "default", "--batch-size", "32", cwd=tmp_path).returncode == 0
    refused = zkpor("verify", "default", "--min-proven-bits", "100", cwd=tmp_path)
    assert refused.returncode == 2
    assert "proven bits" in refused.stderr and "below the required 100" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert zkpor("verify", "default", cwd=tmp_path).returncode == 0  # no proven minimum by default

    unknown = zkpor("prove", "default", "--profile", "fast", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown proof profile 'fast'" in unknown.stderr
    mixed = zkpor("prove", "default", "--profile", "proven", "--blowup", "8", cwd=tmp_path)
    assert mixed.returncode == 2 and "conjectured profile" in mixed.stderr


def test_proofs_without_zero_knowledge_are_refused_unless_allowed(
    tmp_path: Path, zkpor: Callable[..., Any]
) -> None:
    secret = make_round(tmp_path / "r", 20)
    prove_round(tmp_path / "r", secret, replace(CHEAP, zero_knowledge=False), batch_size=SMALL_BATCH,
                aggregate=False)  # fmt: skip
    with pytest.raises(VerificationError, match="not zero-knowledge .* refused unless --allow-non-zk"):
        verify_round(tmp_path / "r", min_security_bits=0)
    allowed_result = verify_round(tmp_path / "r", min_security_bits=0, allow_non_zk=True)
    assert allowed_result.global_proof.proof_options["zero_knowledge"] is False
    refused = zkpor("verify", "r", "--min-security-bits", "0", cwd=tmp_path)
    assert refused.returncode == 2 and "--allow-non-zk" in refused.stderr
    allowed = zkpor("verify", "r", "--min-security-bits", "0", "--allow-non-zk", cwd=tmp_path)
    assert allowed.returncode == 0 and "zero knowledge OFF" in allowed.stdout

    # Claiming zero knowledge in global.json does not make the proofs so: each proof's options are
    # bound by its own transcript, and they must equal global.json's.
    global_path = tmp_path / "r/proof/global.json"
    document = json.loads(global_path.read_text())
    document["proof_options"]["zero_knowledge"] = True
    global_path.write_text(json.dumps(document))
    with pytest.raises(VerificationError, match="proof options differ"):
        verify_round(tmp_path / "r", min_security_bits=0)
