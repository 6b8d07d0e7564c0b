"""Core utilisation over a whole round: which phases keep both cores busy and which run on one.

    .venv/bin/python benchmarks/bench_pipeline.py [--log-users 15] [--workdir DIR] [--jobs J]
        [--no-overlap] [--no-aggregate]

Proves a generated 22-asset round (`bench_liabilities`' users, seed 7; its last run's proof/ and
inclusion store removed first, untimed) with `prove_round` in a
fresh process (`--jobs`: batches and nodes proven at once by `InProcessRunner`, default its own;
`--no-overlap`: one job at a time with the driver's work and the witness between proofs, as before;
`--no-aggregate`: batch proofs only, as `zkpor prove --no-aggregate`) while a sampler thread reads
every thread's on-CPU and run-queue time (/proc/self/task/*/schedstat, ns; Linux only) every 20 ms.
On a shared machine the wall clock is stretched by other processes; what this shows regardless of
load is how many of the round's threads were runnable (on a CPU or waiting for one) on average, and
per phase how its CPU time splits between the thread that runs the phase
and the pool threads working for it ("threads": CPU / own-thread CPU; 1.00 = one core).
A process with R runnable threads on average can keep at most R cores busy, however quiet the
machine; under load it gets about R/(load) of the two cores. Since the driver's work overlaps the
proof (`InProcessRunner`), more threads than cores can be runnable at once: the figure in brackets
caps each 100 ms at the machine's cores, the bound on the cores used on an idle machine.

Per phase (`zkpor.stark.phases`, "tree: …" for the round proof's nodes): wall s (summed over jobs,
which overlap when several run at once), CPU s (the phase's thread and its helpers), own-thread
CPU s, threads. Then the core-seconds left idle (the cores less the runnable thread-seconds, per
100 ms: idle on an idle machine, whatever the load now) by what was being proven, and by where:
before the first proof (load inputs, assignment, the first members and witness), after the last
(the last record, global.json, summary.json), between proofs, and in each proof phase; the driver's
first and last steps in seconds from the start. Closing line: the whole round's wall, CPU (of which
the kernel's: page faults, mostly), cores used and average runnable threads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

TREE_PREFIX = "tree: "
INTERVAL = 0.02  # seconds between samples
WINDOW = 0.1  # seconds over which runnable threads are capped at the cores


def _thread_times() -> dict[int, tuple[int, int]]:
    """tid → (ns on a CPU, ns runnable but waiting for one), for every thread of this process."""
    times = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as stream:
                on_cpu, waiting, _ = stream.read().split()
        except (OSError, ValueError):  # the thread ended meanwhile
            continue
        times[int(tid)] = (int(on_cpu), int(waiting))
    return times


class Sampler:
    """Sums every thread's on-CPU and runnable time (this sampler's own excepted) while it runs."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.cpu = 0.0
        self.runnable = 0.0  # thread-seconds on a CPU or waiting for one
        self.usable = 0.0  # the same, each interval's capped at the machine's cores
        self.cores = os.cpu_count() or 1
        self.threads: set[int] = set()
        # (start, end, capped runnable threads, CPU seconds) per window
        self.windows: list[tuple[float, float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_native_id()
        last = _thread_times()
        window, window_start, window_cpu = 0.0, time.perf_counter(), 0.0
        while True:
            stopping = self._stop.wait(self.interval)
            now, when = _thread_times(), time.perf_counter()
            for tid, (on_cpu, waiting) in now.items():
                before = last.get(tid, (0, 0))
                if tid == me or on_cpu == before[0]:
                    continue
                self.threads.add(tid)
                self.cpu += (on_cpu - before[0]) / 1e9
                window_cpu += (on_cpu - before[0]) / 1e9
                window += (on_cpu - before[0] + waiting - before[1]) / 1e9
            last = now
            # capped per window of a few samples: the threads' counters are read one after another,
            # so a single interval's sum jitters above and below the truth
            if when - window_start >= WINDOW or stopping:
                self.runnable += window
                self.usable += min(window, self.cores * (when - window_start))
                threads = min(window / max(when - window_start, 1e-9), self.cores)
                self.windows.append((window_start, when, threads, window_cpu))
                window, window_start, window_cpu = 0.0, when, 0.0
            if stopping:
                return


def run_prove(directory: Path, jobs: int, overlap: bool, interval: float, aggregate: bool) -> dict:
    """In a fresh process: prove the round with the sampler running; the figures as JSON."""
    from zkpor.liabilities import distributed, round_proof
    from zkpor.liabilities.secret import load_secret
    from zkpor.liabilities.store import STORE_NAME
    from zkpor.stark import phases

    original_phase = phases.phase
    in_tree = threading.local()
    own: dict[str, float] = defaultdict(float)  # phase → CPU of the thread running it
    phase_spans: list[tuple[str, float, float]] = []  # (phase, start, end): outermost phases, any thread
    depth = threading.local()
    lock = threading.Lock()

    @contextmanager
    def sampled_phase(name: str):  # type: ignore[no-untyped-def]
        name = (TREE_PREFIX if getattr(in_tree, "on", False) else "") + name
        start, began = time.thread_time(), time.perf_counter()
        depth.n = getattr(depth, "n", 0) + 1
        try:
            with original_phase(name):
                yield
        finally:
            depth.n -= 1
            with lock:
                own[name] += time.thread_time() - start
                if depth.n == 0:
                    phase_spans.append((name, began, time.perf_counter()))

    def in_tree_phases(step):  # type: ignore[no-untyped-def]
        def run(*args):  # type: ignore[no-untyped-def]
            in_tree.on = True  # in the thread running this step of the node
            try:
                return step(*args)
            finally:
                in_tree.on = False

        return run

    # A node's two steps (`prepare_node_payload`: its witness, then its proof) may run in two
    # threads; an older zkpor's runner (PYTHONPATH=its src) calls prove_node_payload.
    name = "prepare_node_payload" if hasattr(distributed, "prepare_node_payload") else "prove_node_payload"
    original_node = getattr(distributed, name)

    def sampled_node(payload):  # type: ignore[no-untyped-def]
        result = in_tree_phases(original_node)(payload)
        return in_tree_phases(result) if callable(result) else result

    setattr(distributed, name, sampled_node)
    spans: list[tuple[str, float, float]] = []  # (job, start, end) of each proof
    original_prepare = distributed.prepare_payload

    def timed_prepare(payload):  # type: ignore[no-untyped-def]
        finish = original_prepare(payload)
        job = f"L{payload['level']}" if payload.get("kind") == "node" else "batch"

        def timed_finish():  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return finish()
            finally:
                with lock:
                    spans.append((job, started, time.perf_counter()))

        return timed_finish

    distributed.prepare_payload = timed_prepare
    for module in list(sys.modules.values()):  # every module that imported `phase` by name
        if getattr(module, "phase", None) is original_phase and module is not phases:
            module.phase = sampled_phase

    secret, _ = load_secret(directory / "exchange.secret", create=True)
    # A round proven for the first time: the last run's outputs go before the clock starts (with
    # `fresh=True` the store's rows were deleted inside the round: 0.3 s wall at 2^16, seconds at 2^20).
    shutil.rmtree(directory / round_proof.PROOF_DIR, ignore_errors=True)
    (round_proof.private_dir_of(directory) / STORE_NAME).unlink(missing_ok=True)
    jobs = jobs or distributed.IN_PROCESS_JOBS
    # (an older zkpor's runner, measured with PYTHONPATH=its src, has no overlap to turn off)
    runner = distributed.InProcessRunner(jobs, **({} if overlap else {"overlap": False}))
    start, cpu_start = time.perf_counter(), time.process_time()
    system_start = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    with phases.recording() as times, Sampler(interval) as sampler:
        round_proof.prove_round(directory, secret, runner=runner, aggregate=aggregate)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    system = resource.getrusage(resource.RUSAGE_SELF).ru_stime - system_start
    idle = _idle_cores(sampler.windows, spans, sampler.cores)
    where = _idle_where(sampler.windows, spans, phase_spans, sampler.cores)
    driver = sorted(
        ([n, round(b - start, 3), round(e - start, 3)] for n, b, e in phase_spans if _driver(n)),
        key=lambda step: step[1],
    )
    table = {name: {"wall": w, "cpu": c, "own": own[name]} for name, (w, c) in times.seconds.items()}
    return {
        "jobs": runner.jobs, "aggregate": aggregate, "wall": wall, "cpu": cpu,
        "runnable": sampler.runnable / wall, "usable": sampler.usable / wall, "phases": table,
        "overlap": getattr(runner, "overlap", False), "load": os.getloadavg()[0], "idle": idle,
        "system": system, "idle where": where, "driver steps": driver,
    }  # fmt: skip


def _driver(name: str) -> bool:
    """The round's own steps, and the witness (built by the driver's thread beside the proof)."""
    return name.startswith("round: ") or name.endswith("witness")


def _idle_where(
    windows: list[tuple[float, float, float, float]], spans: list[tuple[str, float, float]],
    phase_spans: list[tuple[str, float, float]], cores: int,
) -> dict[str, float]:  # fmt: skip
    """Idle core-seconds by where they fell: before the first proof, after the last one, between
    proofs, or in a proof by the proof phase running at the window's middle."""
    first = min((a for _, a, _ in spans), default=float("inf"))
    last = max((b for _, _, b in spans), default=float("-inf"))
    proof_phases = sorted((a, b, n) for n, a, b in phase_spans if not _driver(n))
    out: dict[str, float] = defaultdict(float)
    for start, end, threads, _ in windows:
        middle, idle = (start + end) / 2, (cores - threads) * (end - start)
        if middle < first:
            out["start (before the first proof)"] += idle
        elif middle > last:
            out["end (after the last proof)"] += idle
        elif not any(a <= middle < b for _, a, b in spans):
            out["between proofs"] += idle
        else:
            running = [n for a, b, n in proof_phases if a <= middle < b]
            out[f"in a proof: {running[0] if running else 'between its phases'}"] += idle
    return dict(out)


def _idle_cores(
    windows: list[tuple[float, float, float, float]], spans: list[tuple[str, float, float]], cores: int
) -> dict[str, list[float]]:
    """Core-seconds left idle (cores − capped runnable threads, summed over the sampler's
    windows) by what was being proven in each window: "batch", "L1", … (a window's share split
    by overlap), or "no proof" (between proofs: a level's program compiled, the last witness, the
    tree's start and end). Each entry: [idle core-seconds, wall seconds, CPU seconds]; the CPU
    done while no proof runs is serial work on the round's critical path, whatever the load."""
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for start, end, threads, cpu in windows:
        length = end - start
        shares = {}
        for job, a, b in spans:
            overlap = min(end, b) - max(start, a)
            if overlap > 0:
                shares[job] = shares.get(job, 0.0) + overlap
        covered = sum(shares.values())
        if covered < length:
            shares["no proof"] = shares.get("no proof", 0.0) + length - covered
        total = sum(shares.values())
        for job, share in shares.items():
            out[job][0] += (cores - threads) * length * share / total
            out[job][1] += length * share / total
            out[job][2] += cpu * share / total
    return dict(out)


def report(users: int, result: dict) -> None:
    rows = sorted(result["phases"].items(), key=lambda item: -item[1]["cpu"])
    overlap = "" if result.get("overlap", True) else ", no overlap"
    print(f"\n=== 2^{users.bit_length() - 1} users, {result['jobs']} job(s) at once{overlap} ===")
    print(f"{'phase':34s} {'wall s':>7s} {'CPU s':>7s} {'own s':>7s} {'threads':>7s}")
    for name, p in rows:
        threads = p["cpu"] / p["own"] if p["own"] else 0.0
        print(f"{name:34s} {p['wall']:7.2f} {p['cpu']:7.2f} {p['own']:7.2f} {threads:7.2f}")
    wall, cpu = result["wall"], result["cpu"]
    for job, (idle, seconds, busy) in sorted(result.get("idle", {}).items()):
        print(f"  while {job:9s} {seconds:7.1f} s wall, {busy:6.1f} CPU-s, {idle:6.1f} core-s idle "
              f"({idle / seconds:.2f} cores)")  # fmt: skip
    for where, idle in sorted(result.get("idle where", {}).items(), key=lambda item: -item[1]):
        print(f"  {where:46s} {idle:6.2f} core-s idle")
    steps = result.get("driver steps", [])
    if steps:
        print(
            "  the driver's steps (s from the start): "
            + ", ".join(
                f"{n.removeprefix('round: ')} {a:.2f}-{b:.2f}" for n, a, b in [*steps[:4], *steps[-2:]]
            )
        )
    system = f" ({result['system']:.1f} in the kernel)" if "system" in result else ""
    print(f"whole round: {wall:.1f} s wall, {cpu:.1f} CPU-s{system}, {cpu / wall:.2f} cores used at load "
          f"{result['load']:.1f}, {result['runnable']:.2f} threads runnable on average "
          f"({result['usable']:.2f} counting at most {os.cpu_count()} at a time) → "
          f"{users / wall:,.0f} users/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-users", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path("bench-liabilities"))
    parser.add_argument("--jobs", type=int, default=0, help="jobs at once (default: the runner's)")
    parser.add_argument(
        "--no-aggregate",
        action="store_true",
        help="batch proofs only (`zkpor prove --no-aggregate`): no round proof's tree",
    )
    parser.add_argument(
        "--no-overlap", action="store_true", help="the driver's work and the witness between proofs"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.phase == "prove":
        overlap, aggregate = not args.no_overlap, not args.no_aggregate
        print(json.dumps(run_prove(Path(rest[0]), args.jobs, overlap, INTERVAL, aggregate)))
        return
    from zkpor.round.generate import generate_round

    users = 1 << args.log_users
    directory = args.workdir / f"round-2^{args.log_users}"
    if not (directory / "users.csv").is_file():
        generate_round(directory, users, 7)
    output = subprocess.run(
        [sys.executable, __file__, "--phase", "prove", "--jobs", str(args.jobs),
         *(["--no-aggregate"] if args.no_aggregate else []),
         *(["--no-overlap"] if args.no_overlap else []), str(directory)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result = json.loads(output.strip().splitlines()[-1])
    tail = ("-batches" if args.no_aggregate else "") + ("-serial" if args.no_overlap else "")
    name = f"pipeline-2^{args.log_users}-jobs{result['jobs']}{tail}.json"
    (args.workdir / name).write_text(json.dumps(result, indent=1))
    report(users, result)


if __name__ == "__main__":
    main()
