"""Several batches proven at once in one process (`distributed.InProcessRunner`): the same files as
one after another, every job's result handed back, and a job's failure raised in the caller."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from liabilities_testing import CHEAP, SMALL_BATCH, copy_round, make_round

from zkpor.errors import ZkporError
from zkpor.liabilities import distributed
from zkpor.liabilities.distributed import InProcessRunner
from zkpor.liabilities.round_proof import prove_round, verify_round
from zkpor.liabilities.store import InclusionStore

NO_ZK = replace(CHEAP, zero_knowledge=False)  # no hiding randomness: proofs are a function of the inputs


def _prove(directory: Path, secret: bytes, jobs: int) -> None:
    runner = InProcessRunner(jobs)
    prove_round(directory, secret, NO_ZK, batch_size=SMALL_BATCH, aggregate=False, runner=runner)


def test_two_jobs_at_once_write_the_same_files_bit_for_bit(tmp_path: Path) -> None:
    one = tmp_path / "one"
    secret = make_round(one, 4 * SMALL_BATCH - 3)
    two = copy_round(one, tmp_path / "two")
    _prove(one, secret, jobs=1)
    _prove(two, secret, jobs=2)
    batches = sorted(p.name for p in (one / "proof/batches").glob("*.zkp"))
    assert len(batches) == 4
    for name in batches:
        assert (two / "proof/batches" / name).read_bytes() == (one / "proof/batches" / name).read_bytes()
    assert json.loads((two / "proof/global.json").read_text()) == json.loads(
        (one / "proof/global.json").read_text()
    )
    with InclusionStore(one / "private/inclusion.sqlite", create=False) as a:
        with InclusionStore(two / "private/inclusion.sqlite", create=False) as b:
            assert b.finished_batches() == a.finished_batches()
            assert all(b.batch_nodes(i) == a.batch_nodes(i) for i in range(4))
    assert verify_round(two, min_security_bits=0, allow_non_zk=True).global_proof.batch_count == 4


def test_a_failing_job_is_raised_in_the_caller_and_the_finished_ones_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "r"
    secret = make_round(directory, 4 * SMALL_BATCH - 3)
    prove = distributed.prove_payload

    def failing(payload: dict, threads: int = 0) -> dict:
        if payload["index"] == 2:
            raise ZkporError("batch 2 failed on purpose")
        return prove(payload, threads)

    monkeypatch.setattr(distributed, "prove_payload", failing)
    with pytest.raises(ZkporError, match="batch 2 failed on purpose"):
        _prove(directory, secret, jobs=2)
    with InclusionStore(directory / "private/inclusion.sqlite", create=False) as store:
        kept = set(store.finished_batches())
    # batch 2 started when one of the first two finished; that one was recorded, batch 2 was not
    assert 2 not in kept and len(kept & {0, 1}) >= 1
    monkeypatch.setattr(distributed, "prove_payload", prove)
    report = prove_round(directory, secret, NO_ZK, batch_size=SMALL_BATCH, aggregate=False)
    assert report.batches_reused == len(kept) and report.batches_proven == 4 - len(kept)


def test_every_job_comes_back_once_whatever_the_order() -> None:
    calls: list[int] = []

    def fake(payload: dict, threads: int = 0) -> dict:
        calls.append(payload["index"])
        return {"index": payload["index"]}

    runner = InProcessRunner(jobs=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(distributed, "prove_payload", fake)
        patch.setattr(distributed, "job_payload", lambda job: {"index": job})
        results = list(runner.run(range(10)))
    assert sorted(job for job, _ in results) == list(range(10))
    assert all(result["index"] == job for job, result in results)
    with pytest.raises(ValueError):
        InProcessRunner(jobs=0)
