"""Where batches are proved: in this process, or on the workers of a Dask distributed cluster.

`prove_round` hands batch jobs to a runner and records each result as it comes back, in whatever
order the batches finish; the statement, the files and the verification are the same either way.

What a worker sees (and so what must stay inside the exchange's trust boundary): one batch's
padded balances per user (equity and debt in base units), each user's 4-element id hash, and the
round's public parameters. It never sees the exchange secret, a uid, a nonce or the users file:
the client derives those and keeps them. A job travels as plain values — numpy arrays, integers,
tuples and a dict of proof options — never as a pickled zkpor object, so a worker needs only the
same zkpor version installed. Run the scheduler and workers on the exchange's own machines, and use
TLS between them (`tls://` addresses with Dask's ``distributed.comm.tls`` settings: a CA, and a
certificate and key for the client, the scheduler and each worker; `require-encryption: true`).

Node jobs (`NodeJob`: one node of the round proof's tree, `round_tree`) travel the same way: the
round's public statement, the node's place in the tree, the options, and its children's proof
files (zero-knowledge batch proofs, or node proofs made from them): nothing a batch job does not
already show a worker.

Resuming is the prover's, not the cluster's: a batch is done once its file and its inclusion rows
are written by the client. A worker lost mid-batch has its job rescheduled by Dask on another
worker; a client killed and restarted proves only what is not yet written.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from zkpor.errors import ZkporError
from zkpor.field import parallel
from zkpor.liabilities.batch import batch_witness, prove_witness
from zkpor.liabilities.round_tree import TreeOptions, node_payload, prepare_node_payload
from zkpor.liabilities.statement import Statement
from zkpor.liabilities.witness import NegativeNetValueError, release_trace
from zkpor.stark.params import ProofOptions

# Jobs in flight per worker: enough to keep each busy while results travel back, few enough that
# the client holds only a handful of batches' balances at once.
JOBS_PER_WORKER = 2
CONNECT_TIMEOUT = "30s"
# Jobs proven at once by `InProcessRunner`. Two at once keep more threads runnable (1.74 -> 1.91 on
# average over a round, bench_pipeline) but cost 4-19 % more CPU (two LDEs contending for memory
# and page faults; with two batches, neither reuses the other's buffers) and twice the memory
# (6.1 GB at the peak of a 2^16-user round): no wall-clock gain measured on the 2-core machine
# (docs/performance.md, "The whole round: two jobs at once"). So one at a time by default.
IN_PROCESS_JOBS = 1
OVERLAP_SWITCH_INTERVAL = 0.0005  # seconds (Python's default: 0.005), while `InProcessRunner` overlaps


@dataclass(frozen=True)
class BatchJob:
    """Everything needed to prove one batch: no secret, no uid, no users file."""

    statement: Statement
    index: int
    id_hashes: np.ndarray  # (B, 4) uint64
    equity: np.ndarray  # (B, assets) uint64
    debt: np.ndarray
    options: ProofOptions


@dataclass(frozen=True)
class NodeJob:
    """Everything needed to prove one node of the round proof's tree: public values only."""

    statement: Statement
    level: int
    index: int
    tree: TreeOptions
    children: tuple[bytes, ...]  # the real children's files: batch proofs (level 1) or node proofs


def job_payload(job: BatchJob | NodeJob) -> dict[str, Any]:
    """A job as plain values, the only form in which it leaves the client."""
    if isinstance(job, NodeJob):
        return node_payload(job)
    return {
        "statement": job.statement.encode(),
        "index": job.index,
        "id_hashes": np.ascontiguousarray(job.id_hashes, dtype=np.uint64),
        "equity": np.ascontiguousarray(job.equity, dtype=np.uint64),
        "debt": np.ascontiguousarray(job.debt, dtype=np.uint64),
        "options": asdict(job.options),
    }


def prove_payload(payload: dict[str, Any], threads: int = 0) -> dict[str, Any]:
    """Prove one batch (or node) from its plain-value job; the result is plain values too.

    Runs on a worker. `threads` > 0 sets how many threads the field kernels use there (one batch
    per worker process, its cores shared among the processes on one machine)."""
    if threads > 0:
        from zkpor.field.parallel import set_num_threads

        set_num_threads(threads)
    with no_huge_pages:
        return prepare_payload(payload)()


def prepare_payload(payload: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """`prove_payload` in two steps: this call builds a batch's witness (the trace: single-threaded
    work, mostly) or reads a node's children into its program's inputs, the function it returns
    proves it (the cores' work) and gives the result. `InProcessRunner` prepares the next job while
    the current one is proven."""
    if payload.get("kind") == "node":
        return prepare_node_payload(payload)
    statement, index = Statement.decode(payload["statement"]), payload["index"]
    options = ProofOptions(**payload["options"])
    try:
        users = payload["id_hashes"], payload["equity"], payload["debt"]
        witness = batch_witness(statement, index, *users, options)
    except NegativeNetValueError as error:
        # Reported as a value: the client knows which user sits at that position, the worker doesn't.
        refusal = {"index": index, "negative_net_value_at": error.user}
        return lambda: refusal

    def prove() -> dict[str, Any]:
        proof = prove_witness(statement, witness, options)
        release_trace(witness)  # for the next batch's witness: no fresh pages to fault
        return {"index": index, "proof": proof.to_bytes(), "nodes": np.asarray(witness.nodes)}

    return prove


def _job_name(payload: dict[str, Any]) -> str:
    if payload.get("kind") == "node":
        return f"node-L{payload['level']}-{payload['index']}"
    return f"batch-{payload['index']}"


class BatchRunner(Protocol):
    """Proves jobs, yielding ``(job, result payload)`` as each batch finishes, in any order."""

    def run(self, jobs: Iterable[Any]) -> Iterator[tuple[Any, dict[str, Any]]]: ...


class _Proof:
    """A job's proof running in a thread of its own, in a copy of the caller's context (phases
    recorded by the caller see it). A daemon thread: a caller that stops (an error, Ctrl-C) does
    not wait for a proof nobody will record; it ends with the process."""

    def __init__(self, job: Any, finish: Callable[[], dict[str, Any]]) -> None:
        self.job = job
        self._result: dict[str, Any] | None = None
        self._error: BaseException | None = None
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, finish), name="zkpor-job", daemon=True
        )
        self._thread.start()

    def _run(self, finish: Callable[[], dict[str, Any]]) -> None:
        try:
            self._result = finish()
        except BaseException as error:  # raised in the caller's thread by `result`
            self._error = error

    def result(self) -> dict[str, Any]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class InProcessRunner:
    """Jobs proven in this process on all its cores.

    `jobs=1` (the default): one proof at a time, in a thread of its own, while the caller's thread
    does the single-threaded work around it (`overlap`): it takes the next job from `jobs` (the
    driver assigns that batch's users) and builds its witness (`prepare_payload`), then, once the
    next proof has started, gets the finished result back to record (files, store). Results come
    back in job order; a proof that fails is raised after the one before it was handed back, and a
    failure while preparing the next job after the proof in flight was. `overlap=False`: all of it
    one step after another in the caller's thread.

    `jobs` > 1: that many proofs at once, each in a thread of its own, sharing the field kernels'
    threads with the others running (`field.parallel.sharing`), so the cores one job leaves idle do
    the other's work. Results come back as jobs finish; the next job is taken from `jobs` (and so
    prepared by the caller) while those in flight are proven, and the caller records each result
    while the others go on."""

    description = "this process"

    def __init__(self, jobs: int = IN_PROCESS_JOBS, *, overlap: bool = True) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs
        self.overlap = overlap

    def run(self, jobs: Iterable[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
        with no_huge_pages:  # restored when the generator ends or is closed
            yield from self._run(jobs)

    def _run(self, jobs: Iterable[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
        if self.jobs == 1 and not self.overlap:
            for job in jobs:
                yield job, prove_payload(job_payload(job))
            return
        if self.jobs == 1:
            yield from _overlapped(jobs)
            return
        finished: queue.Queue[tuple[Any, dict[str, Any] | None, BaseException | None]] = queue.Queue()

        def prove(job: Any, payload: dict[str, Any]) -> None:
            try:
                with parallel.sharing():
                    result = prove_payload(payload)
            except BaseException as error:  # handed to the caller's thread, which raises it
                finished.put((job, None, error))
            else:
                finished.put((job, result, None))

        def start(job: Any) -> None:
            # Daemon threads: a caller that stops (an error, Ctrl-C) does not wait for the jobs in
            # flight, whose results nobody will record; they end with the process.
            context = contextvars.copy_context()  # phases recorded by the caller see the job's
            threading.Thread(
                target=context.run, args=(prove, job, job_payload(job)), name="zkpor-job", daemon=True
            ).start()

        job_iter = iter(jobs)
        running = 0
        for job in job_iter:
            start(job)
            running += 1
            if running == self.jobs:
                break
        while running:
            job, result, error = finished.get()
            running -= 1
            if error is not None:
                raise error
            following = next(job_iter, None)
            if following is not None:
                start(following)
                running += 1
            assert result is not None
            yield job, result


def _overlapped(jobs: Iterable[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """`InProcessRunner(1)`: job i + 1 is taken and prepared while job i is proven, and job i is
    handed back while job i + 1 is proven."""
    job_iter = iter(jobs)
    in_flight: _Proof | None = None
    with _short_switch_interval:  # restored when the generator ends or is closed
        while True:
            try:
                job = next(job_iter, _END)
                finish = prepare_payload(job_payload(job)) if job is not _END else None
            except Exception as error:  # the driver or the witness failed: keep the proof in flight
                if in_flight is not None:
                    yield in_flight.job, in_flight.result()
                raise error
            finished = (in_flight.job, in_flight.result()) if in_flight is not None else None
            in_flight = _Proof(job, finish) if finish is not None else None
            if finished is not None:
                yield finished
            if in_flight is None:
                return


class _ProcessSetting:
    """A process-wide setting changed while any run that needs it is going on (runs may nest or
    overlap, e.g. the tree's nodes after the batches), restored after the last one. `change`
    applies it and returns what to give `restore`; None: nothing was changed."""

    def __init__(self, change: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        self._change, self._restore = change, restore
        self._lock = threading.Lock()
        self._runs = 0
        self._saved: Any = None

    def __enter__(self) -> None:
        with self._lock:
            if self._runs == 0:
                self._saved = self._change()
            self._runs += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._runs -= 1
            if self._runs == 0 and self._saved is not None:
                self._restore(self._saved)


def _shorten_switch_interval() -> float:
    saved = sys.getswitchinterval()
    sys.setswitchinterval(min(saved, OVERLAP_SWITCH_INTERVAL))
    return saved


# The caller's Python (the driver, the witness) holds the GIL in slices of the interpreter's switch
# interval while the proof's threads need it for a moment between kernels: shorter slices, shorter
# stalls. Set while any overlapped run is going on.
_short_switch_interval = _ProcessSetting(_shorten_switch_interval, sys.setswitchinterval)


def _numpy_huge_pages_switch() -> Callable[[bool], bool] | None:
    """numpy's runtime switch for madvise(MADV_HUGEPAGE) on its arrays of 4 MB and more, unless the
    user chose with NUMPY_MADVISE_HUGEPAGE (numpy reads it at import) or this numpy has none."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return None
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    return getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)


def _stop_huge_pages() -> bool | None:
    switch = _numpy_huge_pages_switch()
    return None if switch is None else bool(switch(False))


def _restore_huge_pages(saved: bool) -> None:
    switch = _numpy_huge_pages_switch()
    if switch is not None:
        switch(saved)


# While proving, numpy's big arrays get the kernel's ordinary 4 KB pages instead of asking for 2 MB
# transparent huge pages: a fresh huge page is zeroed, and with THP's "defrag" policy on madvise
# (the usual default) first compacted memory for, inside the page fault. Measured on the 2-core
# machine (docs/performance.md, "The whole round: start, end and pages"): a batch's first proof
# 4.65-5.08 -> 3.07-3.15 CPU-s (nearly all of it system time in the first LDE and interpolation),
# each batch's witness (fresh arrays every batch) ~0.1 CPU-s less, warm proofs the same (2.11-2.34
# against 2.20-2.35 CPU-s: the LDE matrices are reused, `stark.polys`, so their pages are faulted
# once either way, and the kernels stream through them). `prove_round` holds it for the whole round.
no_huge_pages = _ProcessSetting(_stop_huge_pages, _restore_huge_pages)


_END = object()


class DaskRunner:
    """Batches on a Dask distributed cluster: an existing scheduler (`address`), or a local cluster
    of `workers` processes started here. Use as a context manager; it closes what it started."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        if (address is None) == (workers is None):
            raise ValueError("give a scheduler address or a number of local workers, not both")
        if workers is not None and workers < 1:
            raise ZkporError("--workers must be at least 1")
        self._address = address
        self._workers = workers
        self._stack = contextlib.ExitStack()
        self._client: Any = None
        self.description = ""
        self._threads = 0

    def __enter__(self) -> DaskRunner:
        # Dask logs every worker start and stop at INFO: the prover's own progress says enough.
        logging.getLogger("distributed").setLevel(logging.WARNING)
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as error:  # pragma: no cover — a dependency of zkpor
            raise ZkporError(f"Dask distributed is not installed ({error})") from None
        try:
            if self._address is not None:
                self._client = self._stack.enter_context(Client(self._address, timeout=CONNECT_TIMEOUT))
                self.description = f"the Dask cluster at {self._address} ({self.worker_count()} workers)"
            else:
                # One batch at a time per worker process; the machine's cores shared between them.
                self._threads = max(1, (os.cpu_count() or 1) // self._workers)
                # Dask starts workers with MALLOC_TRIM_THRESHOLD_ set, which turns off glibc's
                # adaptive mmap threshold: every large array of the prover then costs fresh page
                # faults (measured: ~2x the CPU per batch). Workers keep glibc's default.
                self._stack.enter_context(
                    dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
                )
                cluster = self._stack.enter_context(
                    LocalCluster(
                        n_workers=self._workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",  # any free port: never clash with another cluster
                        host="127.0.0.1",
                    )
                )
                self._client = self._stack.enter_context(Client(cluster))
                self.description = f"a local Dask cluster of {self._workers} worker processes"
        except OSError as error:
            self._stack.close()
            raise ZkporError(f"cannot reach the Dask scheduler {self._address}: {error}") from None
        except ValueError as error:  # Dask's address parsing: no port, an unknown protocol
            self._stack.close()
            raise ZkporError(
                f"--cluster {self._address!r} is not a Dask scheduler address ({error}); "
                "give tcp://HOST:PORT or tls://HOST:PORT"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def worker_count(self) -> int:
        return len(self._client.scheduler_info(n_workers=-1)["workers"])

    def run(self, jobs: Iterable[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
        from distributed import as_completed

        client = self._client
        window = max(1, JOBS_PER_WORKER * max(1, self.worker_count()))
        pending: dict[Any, Any] = {}  # future → job (the client keeps the job's private half)
        job_iter = iter(jobs)

        def submit_next() -> Any:
            job = next(job_iter, None)
            if job is None:
                return None
            payload = job_payload(job)
            future = client.submit(
                prove_payload,
                payload,
                self._threads,
                key=f"zkpor-{_job_name(payload)}-{os.urandom(4).hex()}",
                pure=False,
                retries=2,  # a worker lost mid-batch: the job runs again elsewhere
            )
            pending[future] = job
            return future

        while len(pending) < window and submit_next() is not None:
            pass
        completed = as_completed(list(pending))
        try:
            for future in completed:
                job = pending.pop(future)
                result = future.result()
                following = submit_next()
                if following is not None:
                    completed.add(following)
                yield job, result
        finally:
            for future in pending:
                future.cancel()
