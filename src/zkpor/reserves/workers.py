"""Worker processes that check chunks of rows: `python -m zkpor.reserves.workers`, one job at a time,
one JSON document per line over stdin/stdout.

Why not multiprocessing: its spawn and forkserver starts re-run the parent's `__main__` in every
worker, and for the `zkpor` command that imports the whole CLI (numba, SQLAlchemy: over a second of
CPU per worker, as long as checking 10,000 rows); `Pool`'s worker-handler thread spins on every result
waiting in the pipe; fork is unsafe next to the progress bar's thread; and it pickles. A worker here
imports only the checking code (~0.2 s) and speaks JSON lines.

The pool keeps results in job order: job k goes to worker k mod n, each worker answers its jobs in
order, so result k is the next line from worker k mod n. One thread per worker writes its jobs, so a
full pipe to one worker never stops this process from reading the others' results.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import zkpor

_MODULE = "zkpor.reserves.workers"


class WorkerPool:
    """`count` worker processes answering one line per job line, in order."""

    def __init__(self, count: int) -> None:
        # The workers import the same zkpor as this process, wherever it was imported from (and, -P,
        # not a `zkpor` that happens to sit in the current directory).
        source = str(Path(zkpor.__file__).resolve().parents[1])
        path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
        command = [sys.executable, "-P", "-m", _MODULE]
        self.processes = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=path)
            )
            for _ in range(count)
        ]
        self.inboxes: list[queue.Queue[bytes | None]] = [queue.Queue() for _ in self.processes]
        self.feeders = [
            threading.Thread(target=_feed, args=(process, inbox), daemon=True)
            for process, inbox in zip(self.processes, self.inboxes, strict=True)
        ]
        for feeder in self.feeders:
            feeder.start()

    def results(self, jobs: Iterable[bytes], ahead: int = 2) -> Iterator[bytes]:
        """Each job's answer, in job order; at most `ahead` jobs per worker wait in line (the file
        streams through, it is never read ahead as a whole)."""
        count = len(self.processes)
        owners: deque[int] = deque()
        for index, job in enumerate(jobs):
            self.inboxes[index % count].put(job)
            owners.append(index % count)
            if len(owners) > ahead * count:
                yield self._answer(owners.popleft())
        while owners:
            yield self._answer(owners.popleft())

    def _answer(self, worker: int) -> bytes:
        process = self.processes[worker]
        line = process.stdout.readline()
        if not line.endswith(b"\n"):
            raise RuntimeError(
                f"reserves worker process {process.pid} stopped (exit status {process.wait()})"
            )
        return line

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers: at the end of their input, or (`abort`) at once."""
        if abort:
            for process in self.processes:
                process.kill()
        for inbox in self.inboxes:
            inbox.put(None)  # the feeder closes the worker's stdin: it exits at the end of its input
        for process in self.processes:
            process.stdout.close()  # a worker still answering stops there rather than block a feeder
        for feeder in self.feeders:
            feeder.join()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *rest: object) -> None:
        self.close(abort=error_type is not None)


def _feed(process: subprocess.Popen, inbox: queue.Queue[bytes | None]) -> None:
    while (job := inbox.get()) is not None:
        try:
            process.stdin.write(job)
            process.stdin.flush()
        except OSError:  # the worker is gone; reading its answer reports that
            break
    try:
        process.stdin.close()
    except OSError:
        pass


def serve(handle: Callable[[bytes], bytes]) -> None:
    """The worker's loop: answer each line of stdin with `handle(line)` on stdout."""
    # The protocol owns the real stdout; anything else printed goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        for job in sys.stdin.buffer:
            answers.write(handle(job))
            answers.flush()
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the reading process stopped listening, or the user interrupted both: nothing to add


if __name__ == "__main__":
    from zkpor.reserves.engine import check_chunk_json

    serve(check_chunk_json)
