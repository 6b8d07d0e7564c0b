"""Proving batches on a real Dask LocalCluster of worker processes: the same statement as in
process, plain values on the wire, a worker killed mid-batch, a client killed and restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from liabilities_testing import CHEAP, CHEAP_TREE, copy_round, make_round, prove_small, round_secret_path

from zkpor.errors import ZkporError
from zkpor.liabilities import distributed
from zkpor.liabilities.distributed import DaskRunner, job_payload
from zkpor.liabilities.round_proof import BatchJob, verify_round
from zkpor.liabilities.statement import Statement, StatementAsset
from zkpor.liabilities.store import InclusionStore

pytestmark = pytest.mark.slow

USERS = 4 * 32 - 3  # four batches of 32


@pytest.fixture(scope="module")
def runner() -> Iterator[DaskRunner]:
    with DaskRunner(workers=2) as dask_runner:
        yield dask_runner


def _global(directory: Path) -> dict:
    return json.loads((directory / "proof/global.json").read_text())


def test_a_cluster_proves_the_same_statement_as_one_process(tmp_path: Path, runner: DaskRunner) -> None:
    local = tmp_path / "local"
    secret = make_round(local, USERS)
    clustered = copy_round(local, tmp_path / "clustered")
    prove_small(local, secret)
    report = prove_small(clustered, secret, runner=runner)
    assert report.batches_proven == 4
    here, there = _global(local), _global(clustered)
    # Zero-knowledge proofs differ byte for byte; what they prove does not.
    assert there["root"] == here["root"] and there["batches"] == here["batches"]
    result = verify_round(clustered, min_security_bits=0)
    assert result.global_proof.batch_count == 4


def test_the_round_proofs_nodes_are_jobs_on_the_cluster_too(tmp_path: Path, runner: DaskRunner) -> None:
    directory = tmp_path / "r"
    secret = make_round(directory, USERS)
    report = prove_small(directory, secret, runner=runner, aggregate=True, tree=CHEAP_TREE)
    assert report.tree is not None and report.tree.nodes_proven == 1  # four batches: one node
    result = verify_round(directory, min_security_bits=0)
    assert result.round_proof is not None and not result.batches_verified


def test_a_job_leaves_the_client_as_plain_values(tmp_path: Path) -> None:
    assets = (StatementAsset("A", 0, 8, "1"), StatementAsset("B", 0, 8, "1"))
    statement = Statement("r", "2026-11-30T16:00:00Z", 0, assets, limb_bits=8, batch_size=64, batch_count=1)
    zeros = np.zeros((64, 2), np.uint64)
    job = BatchJob(statement, 0, np.zeros((64, 4), np.uint64), zeros, zeros, CHEAP)
    payload = job_payload(job)

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, tuple | list):
            return all(plain(v) for v in value)
        return isinstance(value, int | bool | str | bytes | np.ndarray)

    assert plain(payload)
    assert not {"secret", "uid", "uids", "nonce", "nonces"} & set(payload)


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    secret = make_round(directory, 2 * 128 - 7)  # two batches of 128: slow enough to be caught running
    reference = copy_round(directory, tmp_path / "reference")
    prove_small(reference, secret, batch_size=128)
    with DaskRunner(workers=2) as dask_runner:
        client = dask_runner._client
        pids = client.run(os.getpid)
        failure: list[BaseException] = []

        def prove() -> None:
            try:
                prove_small(directory, secret, batch_size=128, runner=dask_runner)
            except BaseException as error:  # noqa: BLE001 — reported by the test below
                failure.append(error)

        thread = threading.Thread(target=prove)
        thread.start()
        killed = None
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline and thread.is_alive():
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                killed = pids[busy[0]]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.01)
        thread.join(timeout=300)
        assert killed is not None, "no batch was seen running"
        assert not failure, failure
        assert killed not in client.run(os.getpid).values(), "the killed worker was replaced"
    assert _global(directory)["root"] == _global(reference)["root"]
    assert verify_round(directory, min_security_bits=0).global_proof.batch_count == 2


_CLIENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from liabilities_testing import prove_small
    from zkpor.liabilities.distributed import DaskRunner
    from zkpor.liabilities.secret import load_secret

    directory = Path({directory!r})
    secret, _ = load_secret({secret!r})
    with DaskRunner(workers=2) as runner:
        prove_small(directory, secret, runner=runner, progress=lambda n, _: print("done", n, flush=True))
    """
)


def test_a_killed_client_restarted_redoes_no_finished_batch(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    secret = make_round(directory, 6 * 32 - 5)  # six batches
    code = _CLIENT.format(
        tests=str(Path(__file__).parent), directory=str(directory), secret=str(round_secret_path(directory))
    )
    # Its own process group: the client and the cluster it started die together, as on a lost machine.
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.split() == ["done", "2"]:
                os.killpg(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    with InclusionStore(directory / "private/inclusion.sqlite", create=False) as store:
        finished = store.finished_batches()
    assert 2 <= len(finished) < 6, "killed part-way"
    kept = {i: (directory / f"proof/batches/{i:05d}.zkp").read_bytes() for i in finished}

    with DaskRunner(workers=2) as dask_runner:
        resumed = prove_small(directory, secret, runner=dask_runner)
    assert resumed.batches_reused == len(finished) and resumed.batches_proven == 6 - len(finished)
    for i, data in kept.items():
        assert (directory / f"proof/batches/{i:05d}.zkp").read_bytes() == data, "a finished batch was redone"
    assert verify_round(directory, min_security_bits=0).global_proof.batch_count == 6


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", "2s")
    with pytest.raises(ZkporError, match="cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        with DaskRunner(address="tcp://127.0.0.1:9"):
            pass


def test_secret_stays_with_the_client(tmp_path: Path) -> None:
    """The exchange secret file is read by the client only: nothing derived from it but id hashes
    reaches a job (checked on the real jobs of a small round)."""
    directory = tmp_path / "r"
    secret = make_round(directory, 40)
    seen: list[dict] = []

    class Recording(distributed.InProcessRunner):
        def run(self, jobs):  # type: ignore[no-untyped-def]
            for job, result in super().run(jobs):
                seen.append(job_payload(job))
                yield job, result

    prove_small(directory, secret, runner=Recording())
    blob = b"".join(
        v.tobytes() if isinstance(v, np.ndarray) else repr(v).encode() for p in seen for v in p.values()
    )
    assert seen and secret not in blob and secret.hex().encode() not in blob
