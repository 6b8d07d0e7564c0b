"""Batches proven in one process (`distributed.InProcessRunner`): one at a time with the driver's
work and the next witness overlapping the proof (the default), or several at once. The same files
as one step after another, every job's result handed back in order, and a job's failure raised in
the caller with everything proven before it kept."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from liabilities_testing import CHEAP, CHEAP_TREE, SMALL_BATCH, copy_round, make_round

from zkpor.errors import InterruptError, ZkporError
from zkpor.liabilities import distributed
from zkpor.liabilities.distributed import InProcessRunner, NodeJob
from zkpor.liabilities.round_proof import ProveReport, prove_round, verify_round
from zkpor.liabilities.round_tree import TreeOptions
from zkpor.liabilities.store import InclusionStore

NO_ZK = replace(CHEAP, zero_knowledge=False)  # no hiding randomness: proofs are a function of the inputs
# The tree without zero knowledge, two children a node: over four batches, two level-1 nodes of two
# batches each and the top over them
NO_ZK_PAIRS = TreeOptions(
    *(
        replace(options, zero_knowledge=False)
        for options in (CHEAP_TREE.batch, CHEAP_TREE.inner, CHEAP_TREE.top)
    ),
    leaf_arity_log=1,
    node_arity_log=1,
)


def _prove(directory: Path, secret: bytes, jobs: int, overlap: bool = True) -> None:
    runner = InProcessRunner(jobs, overlap=overlap)
    prove_round(directory, secret, NO_ZK, batch_size=SMALL_BATCH, aggregate=False, runner=runner)


@pytest.mark.parametrize("jobs", [1, 2])
def test_overlapped_or_two_at_once_write_the_same_files_bit_for_bit(tmp_path: Path, jobs: int) -> None:
    one = tmp_path / "one"
    secret = make_round(one, 4 * SMALL_BATCH - 3)
    two = copy_round(one, tmp_path / "two")
    _prove(one, secret, jobs=1, overlap=False)  # one step after another in the caller's thread
    _prove(two, secret, jobs=jobs)
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


class _TakenInOrder(InProcessRunner):
    """The in-process runner, noting each job as it takes it ("batch 3", "L1-0")."""

    def __init__(self, overlap: bool) -> None:
        super().__init__(overlap=overlap)
        self.taken: list[str] = []

    def run(self, jobs):  # type: ignore[no-untyped-def]
        def noted():  # type: ignore[no-untyped-def]
            for job in jobs:
                self.taken.append(
                    f"L{job.level}-{job.index}" if isinstance(job, NodeJob) else f"batch {job.index}"
                )
                yield job

        return super().run(noted())


@pytest.mark.slow
def test_overlapped_round_proof_is_the_same_bit_for_bit_and_nodes_run_among_the_batches(
    tmp_path: Path,
) -> None:
    """With the tree: each node's children are read into its program's inputs while the job before
    it is proven (`prepare_node_payload`); round.zkp and every node file are the same (no ZK). A
    node is taken as soon as its children are recorded (`round_tree.TreeSchedule`), before the
    batches after them: one step after another, right after its last child; overlapped, one job
    later (the next batch was taken while that child was proven)."""
    tree = NO_ZK_PAIRS
    one = tmp_path / "one"
    secret = make_round(one, 4 * SMALL_BATCH - 3)
    two = copy_round(one, tmp_path / "two")
    orders = {}
    for directory, overlap in ((one, False), (two, True)):
        runner = _TakenInOrder(overlap)
        prove_round(directory, secret, NO_ZK, batch_size=SMALL_BATCH, tree=tree, runner=runner)
        orders[overlap] = runner.taken
    batches = [f"batch {i}" for i in range(4)]
    assert orders[False] == [*batches[:2], "L1-0", *batches[2:], "L1-1", "L2-0"]
    assert orders[True] == [*batches[:3], "L1-0", batches[3], "L1-1", "L2-0"]
    files = sorted(p.relative_to(one) for p in (one / "proof").rglob("*.zkp"))
    assert len(files) == 4 + 3 + 1  # batches, nodes and round.zkp
    for name in files:
        assert (two / name).read_bytes() == (one / name).read_bytes(), name


@pytest.mark.slow
def test_a_round_killed_while_a_node_proves_resumes_with_every_recorded_node_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nodes proven among the batches (`round_tree.TreeSchedule`): a kill while node L1-1 proves
    keeps the four batches and node L1-0, recorded before it; the restarted prove reuses them all
    (L1-0 byte for byte, checked against its children) and proves only L1-1 and the top. A node
    result showing other public values than its children give is refused, and nothing written."""
    tree = NO_ZK_PAIRS  # L1-0: batches 0-1, L1-1: batches 2-3
    directory = tmp_path / "r"
    secret = make_round(directory, 4 * SMALL_BATCH - 3)
    prepare = distributed.prepare_payload

    def failing_at_node_l1_1(payload: dict) -> object:
        finish = prepare(payload)
        if (payload.get("kind"), payload.get("level"), payload["index"]) != ("node", 1, 1):
            return finish

        def fail() -> dict:
            raise KeyboardInterrupt  # what Ctrl-C raises; prove_round turns it into InterruptError

        return fail

    def prove() -> ProveReport:
        return prove_round(directory, secret, NO_ZK, batch_size=SMALL_BATCH, tree=tree,
                           runner=InProcessRunner(overlap=False))  # fmt: skip

    monkeypatch.setattr(distributed, "prepare_payload", failing_at_node_l1_1)
    with pytest.raises(InterruptError, match="4 of 4 batches are proven and kept.*every node written"):
        prove()
    nodes = directory / "proof" / "nodes"
    assert sorted(p.name for p in nodes.iterdir()) == ["L1-00000.zkp"]
    kept = (nodes / "L1-00000.zkp").read_bytes()
    monkeypatch.setattr(distributed, "prepare_payload", prepare)

    class OtherCount(InProcessRunner):  # a worker handing back a node proof of other public values
        def run(self, jobs):  # type: ignore[no-untyped-def]
            for job, result in super().run(jobs):
                yield job, {**result, "public": {**result["public"], "batch_count": 5}}

    with pytest.raises(ZkporError, match="node L1-00001 came back with other public values"):
        prove_round(
            directory, secret, NO_ZK, batch_size=SMALL_BATCH, tree=tree, runner=OtherCount(overlap=False)
        )
    assert sorted(p.name for p in nodes.iterdir()) == ["L1-00000.zkp"], "nothing written for it"
    report = prove()
    assert (report.batches_reused, report.batches_proven) == (4, 0) and report.tree is not None
    assert (report.tree.nodes_reused, report.tree.nodes_proven) == (1, 2)
    assert (nodes / "L1-00000.zkp").read_bytes() == kept
    assert verify_round(directory, min_security_bits=0, allow_non_zk=True).global_proof.batch_count == 4


class _Log:
    """What a fake runner's jobs did, in order, from every thread."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event: str) -> None:
        with self._lock:
            self.events.append(event)


def _fake_jobs(
    patch: pytest.MonkeyPatch,
    log: _Log,
    prove: Callable[[int], None] | None = None,
    prepare: Callable[[int], None] | None = None,
) -> None:
    """Jobs are ints; preparing job j calls `prepare(j)` and logs "prepare j", proving it calls
    `prove(j)` (default: logs "prove j")."""

    def fake_prepare(payload: dict) -> Callable[[], dict]:
        job = payload["index"]
        if prepare is not None:
            prepare(job)
        log(f"prepare {job}")

        def finish() -> dict:
            if prove is None:
                log(f"prove {job}")
            else:
                prove(job)
            return {"index": job}

        return finish

    patch.setattr(distributed, "job_payload", lambda job: {"index": job})
    patch.setattr(distributed, "prepare_payload", fake_prepare)


def _taken(log: _Log, count: int) -> Iterator[int]:
    for job in range(count):  # the driver: "take j" is where it assigns batch j's users
        log(f"take {job}")
        yield job


def test_overlapped_runner_prepares_the_next_job_and_hands_back_the_last_while_one_proves() -> None:
    """Job j + 1 is taken and its witness built before job j's result is handed back, and the
    caller records job j while job j + 1 is being proven: proving j + 1 waits here until the caller
    has job j in hand, which would never happen one step after another."""
    log = _Log()
    received: dict[int, threading.Event] = {j: threading.Event() for j in range(5)}

    def prove(job: int) -> None:
        log(f"prove {job}")
        if job > 0:
            assert received[job - 1].wait(30), f"job {job - 1} was not handed back while {job} was proven"

    with pytest.MonkeyPatch.context() as patch:
        _fake_jobs(patch, log, prove=prove)
        results = []
        for job, result in InProcessRunner().run(_taken(log, 5)):
            log(f"record {job}")
            received[job].set()
            results.append((job, result["index"]))
    assert results == [(j, j) for j in range(5)]  # in job order, each once
    events = log.events
    for j in range(4):
        assert events.index(f"take {j + 1}") < events.index(f"record {j}")
        assert events.index(f"prepare {j + 1}") < events.index(f"record {j}")
        assert events.index(f"prove {j + 1}") < events.index(f"record {j + 1}")
    assert events.index("prepare 1") < events.index("record 0")


def test_overlapped_runner_a_failing_proof_is_raised_after_the_previous_one_is_handed_back() -> None:
    log = _Log()

    def prove(job: int) -> None:
        if job == 2:
            raise ZkporError("batch 2 failed on purpose")

    with pytest.MonkeyPatch.context() as patch:
        _fake_jobs(patch, log, prove=prove)
        handed_back = []
        with pytest.raises(ZkporError, match="batch 2 failed on purpose"):
            for job, _ in InProcessRunner().run(_taken(log, 5)):
                handed_back.append(job)
    assert handed_back == [0, 1]
    assert "take 4" not in log.events  # nothing taken after the failure was seen


def test_overlapped_runner_a_failure_preparing_the_next_job_keeps_the_proof_in_flight() -> None:
    log = _Log()

    def prepare(job: int) -> None:
        if job == 3:
            raise ZkporError("batch 3's witness failed on purpose")

    with pytest.MonkeyPatch.context() as patch:
        _fake_jobs(patch, log, prepare=prepare)
        handed_back = []
        with pytest.raises(ZkporError, match="batch 3's witness failed"):
            for job, _ in InProcessRunner().run(_taken(log, 5)):
                handed_back.append(job)
    assert handed_back == [0, 1, 2]  # batch 2 was being proven when 3 failed: it is handed back
    assert list(InProcessRunner().run([])) == []


def test_a_round_killed_mid_proof_resumes_with_nothing_proven_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default runner: a proof failing mid-round (as a crash would) leaves every batch handed
    back before it recorded and intact; the restarted prove proves only the others, and the round's
    files are those of a run never interrupted."""
    straight = tmp_path / "straight"
    secret = make_round(straight, 4 * SMALL_BATCH - 3)
    killed = copy_round(straight, tmp_path / "killed")
    _prove(straight, secret, jobs=1)
    prepare = distributed.prepare_payload

    def failing_at_2(payload: dict) -> object:
        finish = prepare(payload)
        if payload["index"] != 2:
            return finish

        def fail() -> dict:
            raise KeyboardInterrupt  # what Ctrl-C raises; prove_round turns it into InterruptError

        return fail

    monkeypatch.setattr(distributed, "prepare_payload", failing_at_2)
    with pytest.raises(ZkporError, match="2 of 4 batches are proven and kept"):
        _prove(killed, secret, jobs=1)
    with InclusionStore(killed / "private/inclusion.sqlite", create=False) as store:
        assert set(store.finished_batches()) == {0, 1}
    monkeypatch.setattr(distributed, "prepare_payload", prepare)
    report = prove_round(killed, secret, NO_ZK, batch_size=SMALL_BATCH, aggregate=False)
    assert (report.batches_reused, report.batches_proven) == (2, 2)
    for name in ("batches/00000.zkp", "batches/00002.zkp", "batches/00003.zkp", "global.json"):
        assert (killed / "proof" / name).read_bytes() == (straight / "proof" / name).read_bytes()


def test_the_gil_switch_interval_is_short_while_overlapping_and_restored_after() -> None:
    log = _Log()
    seen: list[float] = []
    before = sys.getswitchinterval()

    def prove(job: int) -> None:
        seen.append(sys.getswitchinterval())
        if job == 3:
            raise ZkporError("batch 3 failed on purpose")

    with pytest.MonkeyPatch.context() as patch:
        _fake_jobs(patch, log, prove=prove)
        assert [job for job, _ in InProcessRunner().run(_taken(log, 3))] == [0, 1, 2]
        assert sys.getswitchinterval() == before
        with pytest.raises(ZkporError, match="batch 3 failed"):
            list(InProcessRunner().run(_taken(log, 5)))
        assert sys.getswitchinterval() == before
        runs = InProcessRunner().run(_taken(log, 5))
        next(runs)
        runs.close()  # a caller that stops early
        assert sys.getswitchinterval() == before
    assert seen and all(s == min(before, distributed.OVERLAP_SWITCH_INTERVAL) for s in seen)


@pytest.mark.parametrize("overlap", [True, False])
def test_numpy_asks_for_no_huge_pages_while_proving_and_as_before_after(
    monkeypatch: pytest.MonkeyPatch, overlap: bool
) -> None:
    """A fresh 2 MB page is compacted for and zeroed inside the page fault: while a runner proves,
    numpy's arrays get ordinary pages; numpy's own choice comes back when the run ends, fails or is
    left early, and a choice the user made with NUMPY_MADVISE_HUGEPAGE is left alone."""
    switch = distributed._numpy_huge_pages_switch()
    if switch is None:  # NUMPY_MADVISE_HUGEPAGE set where the tests run, or a numpy without the switch
        pytest.skip("numpy's huge-page choice is not this process's to change here")
    log = _Log()
    seen: list[bool] = []

    def prove(job: int) -> None:
        previous = switch(False)  # reading the switch means setting it: put back what was there
        switch(previous)
        seen.append(previous)
        if job == 3:
            raise ZkporError("batch 3 failed on purpose")

    before = switch(True)
    try:
        _fake_jobs(monkeypatch, log, prove=prove)
        if not overlap:  # one step after another goes through prove_payload
            monkeypatch.setattr(distributed, "prove_payload", lambda payload: prove(payload["index"]) or {})
        runner = InProcessRunner(overlap=overlap)
        assert [job for job, _ in runner.run(_taken(log, 3))] == [0, 1, 2]
        assert switch(True) is True
        with pytest.raises(ZkporError, match="batch 3 failed"):
            list(runner.run(_taken(log, 5)))
        assert switch(True) is True
        runs = runner.run(_taken(log, 5))
        next(runs)
        runs.close()  # a caller that stops early
        assert switch(True) is True
        assert seen and not any(seen)
        seen.clear()
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")  # the user's choice: not touched
        list(runner.run(_taken(log, 2)))
        assert seen == [True, True]
    finally:
        switch(before)
