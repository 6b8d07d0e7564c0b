"""`zkpor prove / verify / export-user / verify-user` as a user runs them, and a prove killed mid-run."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from liabilities_testing import (
    append_user_line,
    every_decimals_plus_one,
    make_round,
    prove_small,
    restate,
    round_secret_path,
)
from typer.testing import CliRunner

from zkpor.cli import app
from zkpor.liabilities.round_proof import verify_round
from zkpor.liabilities.secret import load_secret
from zkpor.liabilities.store import InclusionStore
from zkpor.round.generate import generate_round


@pytest.fixture
def zkpor(run_main: Callable[..., Any]) -> Callable[..., Any]:
    return run_main


@pytest.mark.parametrize("command", ["prove", "verify", "export-user", "verify-user"])
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: zkpor {command}" in result.output


def _conjectured_bits(output: str) -> int:
    found = re.search(r"(\d+) bits conjectured", output)
    assert found is not None, output
    return int(found.group(1))


def test_prove_verify_export_verify_user(
    tmp_path: Path, zkpor: Callable[..., Any], private_config_home: Path
) -> None:
    generate_round(tmp_path / "r", 70, 3)
    proved = zkpor("prove", "r", "--batch-size", "32", cwd=tmp_path)
    assert proved.returncode == 0, proved.stderr
    secret = private_config_home / "zkpor/secrets/2024-06.secret"
    assert f"Created a new exchange secret in {secret}" in proved.stdout
    assert _conjectured_bits(proved.stdout) >= 100  # 112 here: tiny batches get a doubled LDE (stark.domain)
    assert "keep r/private/ and the exchange secret private" in proved.stdout
    again = zkpor("prove", "r", "--batch-size", "32", cwd=tmp_path)
    assert "Resuming: 3 of 3 batches are already proven" in again.stdout
    assert "Proved 0 batches (3 reused)" in again.stdout

    verified = zkpor("verify", "r", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    for expected in (
        "3 batches × 32 users",
        "blowup 8, 27 queries",  # the default profile (degree-7 gadget)
        "zero knowledge on",
        "BTC",
        "UNI",
        "OK: 3 batch proofs",
        "bits proven",
        "checked against round.toml",
    ):
        assert expected in verified.stdout, expected

    assert _conjectured_bits(verified.stdout) >= 100
    uid = (tmp_path / "r/users.csv").read_text().splitlines()[5].split(",")[0]
    exported = zkpor("export-user", "r", uid, "-o", "me.json", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "Wrote me.json" in exported.stdout and len((tmp_path / "me.json").read_bytes()) < 2048
    default_name = zkpor("export-user", "r", uid, cwd=tmp_path)
    assert default_name.returncode == 0 and (tmp_path / f"inclusion-{uid}.json").is_file()

    checked = zkpor("verify-user", "me.json", "--global", "r/proof/global.json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert f"uid {uid}" in checked.stdout and "published root (global.json)" in checked.stdout

    document = json.loads((tmp_path / "me.json").read_text())
    document["root"] = document["batch_root"]
    (tmp_path / "forged.json").write_text(json.dumps(document))
    forged = zkpor("verify-user", "forged.json", cwd=tmp_path)
    assert forged.returncode == 2
    assert "error:" in forged.stderr and "top path" in forged.stderr and "Traceback" not in forged.stderr


def test_verify_user_uid_published_folder_and_stale_inputs(tmp_path: Path, zkpor: Callable[..., Any]) -> None:
    """--uid refuses another customer's proof; `verify` works on the published folder alone; a users
    file changed after proving makes `verify` and `export-user` say the proof is stale."""
    secret = make_round(tmp_path / "r", 40)
    prove_small(tmp_path / "r", secret)
    uid = (tmp_path / "r/users.csv").read_text().splitlines()[3].split(",")[0]
    assert zkpor("export-user", "r", uid, "-o", "me.json", cwd=tmp_path).returncode == 0
    mine = zkpor("verify-user", "me.json", "--uid", uid, cwd=tmp_path)
    assert mine.returncode == 0, mine.stderr
    theirs = zkpor("verify-user", "me.json", "--uid", uid + "0", cwd=tmp_path)
    assert theirs.returncode == 2
    assert f"error: inclusion proof is for uid '{uid}', not '{uid}0'" in theirs.stderr

    public = tmp_path / "public"
    public.mkdir()
    for name in ("global.json", "summary.json", "batches"):
        os.rename(tmp_path / "r/proof" / name, public / name)
    alone = zkpor("verify", "public", "--min-security-bits", "0", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert "(snapshot 2024-06-30T16:00:00Z) from global.json" in alone.stdout
    (public / "batches").rename(tmp_path / "r/proof/batches")
    shutil.copytree(tmp_path / "r/proof/batches", public / "batches")
    for name in ("global.json", "summary.json"):
        shutil.copy(public / name, tmp_path / "r/proof" / name)
    restate(public, every_decimals_plus_one)  # global.json and summary.json consistent with it
    restated = zkpor("verify", "public", "--min-security-bits", "0", cwd=tmp_path)
    assert restated.returncode == 2 and "OK" not in restated.stdout
    assert "field 'assets[BTC].decimals' is 9, but batch 0 was proven for 8" in restated.stderr

    append_user_line(tmp_path / "r", {"uid": "late-arrival", "BTC_equity": "1"})
    stale = zkpor("verify", "r", "--min-security-bits", "0", cwd=tmp_path)
    assert stale.returncode == 2
    assert "r/users.csv changed after proving (SHA-256" in stale.stderr and "OK" not in stale.stdout
    refused = zkpor("export-user", "r", uid, "-o", "again.json", cwd=tmp_path)
    assert refused.returncode == 2 and "users.csv changed after proving" in refused.stderr
    assert "--allow-stale" in refused.stderr
    allowed = zkpor("export-user", "r", uid, "-o", "again.json", "--allow-stale", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "me.json").read_bytes()


def test_prove_refuses_a_negative_net_value_by_line(tmp_path: Path, zkpor: Callable[..., Any]) -> None:
    make_round(tmp_path / "r", 30)
    line = append_user_line(tmp_path / "r", {"uid": "short-seller", "ETH_debt": "2", "USDT_equity": "10"})
    result = zkpor("prove", "r", cwd=tmp_path)
    assert result.returncode == 2
    assert f"r/users.csv:{line}: user 'short-seller' has a negative net value" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_file_from_the_environment(
    tmp_path: Path, zkpor: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_round(tmp_path / "r", 10, 3)
    monkeypatch.setenv("ZKPOR_SECRET_FILE", str(tmp_path / "elsewhere.secret"))
    missing = zkpor("prove", "r", cwd=tmp_path)
    assert missing.returncode == 2 and "elsewhere.secret: exchange secret file not found" in missing.stderr
    (tmp_path / "elsewhere.secret").write_bytes(os.urandom(32))
    os.chmod(tmp_path / "elsewhere.secret", 0o644)
    refused = zkpor("prove", "r", cwd=tmp_path)
    assert (
        refused.returncode == 2
        and "elsewhere.secret: the exchange secret is open to other users" in refused.stderr
    )
    os.chmod(tmp_path / "elsewhere.secret", 0o600)
    proved = zkpor("prove", "r", cwd=tmp_path)
    assert proved.returncode == 0, proved.stderr
    assert not list(tmp_path.rglob("*.secret*"))[1:], "no secret but the one named"


def test_verify_names_the_failure(tmp_path: Path, zkpor: Callable[..., Any]) -> None:
    secret = make_round(tmp_path / "r", 10)
    prove_small(tmp_path / "r", secret)
    summary = tmp_path / "r/proof/summary.json"
    summary.write_text(summary.read_text().replace('"batch_count": 1', '"batch_count": 2'))
    result = zkpor("verify", "r", "--min-security-bits", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: summary.json field 'batch_count' says 2; the proofs give 1" in result.stderr


def test_verify_without_a_proof(tmp_path: Path, zkpor: Callable[..., Any]) -> None:
    generate_round(tmp_path / "r", 10, 3)
    result = zkpor("verify", "r", cwd=tmp_path)
    assert result.returncode == 2 and "global.json: file not found" in result.stderr


# ---- a prove killed mid-run, then restarted -----------------------------------------------------

_PROVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from liabilities_testing import prove_small
    from zkpor.liabilities.secret import load_secret

    directory = Path({directory!r})
    secret, _ = load_secret({secret!r})
    prove_small(directory, secret, progress=lambda done, total: print("done", done, flush=True))
    """
)


def test_a_killed_prove_resumes_and_verifies(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    make_round(directory, 6 * 32 - 5)  # six batches
    code = _PROVER.format(
        tests=str(Path(__file__).parent), directory=str(directory), secret=str(round_secret_path(directory))
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.split() == ["done", "2"]:
                process.send_signal(signal.SIGKILL)  # no cleanup of any kind: as on a power cut
                break
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    with InclusionStore(directory / "private/inclusion.sqlite", create=False) as store:
        finished = store.finished_batches()
    assert 2 <= len(finished) < 6, "killed part-way"
    assert not (directory / "proof/global.json").exists()
    kept = {i: (directory / f"proof/batches/{i:05d}.zkp").read_bytes() for i in finished}

    secret, _ = load_secret(round_secret_path(directory))
    resumed = prove_small(directory, secret)
    assert resumed.batches_reused == len(finished) and resumed.batches_proven == 6 - len(finished)
    for i, data in kept.items():
        assert (directory / f"proof/batches/{i:05d}.zkp").read_bytes() == data, "a finished batch was redone"
    result = verify_round(directory, min_security_bits=0)
    assert result.global_proof.batch_count == 6
    assert not list((directory / "proof").rglob(".*.tmp")), "no temporary files left behind"
