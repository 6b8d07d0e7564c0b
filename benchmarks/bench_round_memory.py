"""Where a whole round's peak memory comes from: resident memory sampled over time, per job and step.

    .venv/bin/python benchmarks/bench_round_memory.py [--users 262144] [--batch-size 8192]
        [--workdir DIR] [--tree-only] [--no-aggregate]

Proves a generated 22-asset round (seed 7) with `prove_round` in a fresh process while a sampler
thread reads VmRSS (and its anonymous and file-backed parts) from /proc/self/status every 20 ms
together with the prover's phase (`stark.phases`) each thread is in.
Prints, per job (each batch, each node, and the driver between them; a job starts when the runner
takes it, so with `InProcessRunner`'s overlap it includes the previous proof's tail), the resident
memory when it starts, its peak, and the phases running at that peak; then the
process's own peak (VmHWM: ru_maxrss would carry this script's over exec) and its CPU seconds.
`--timeline MB` also prints a sample whenever resident memory moved by MB. `--tree-only` proves
the tree again over the batch proofs already in DIR (a previous run's; the batches are resumed,
not proven again), so the nodes' memory can be measured without re-proving the batches.
Linux only. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

_PROVE = r"""
import contextlib, json, sys, threading, time
from pathlib import Path
from zkpor.stark import phases

# Where each thread is: the innermost `phases.phase` it is in, kept here for the sampler (walking
# other threads' frames from a sampler thread crashed CPython 3.11 once: no stack walking).
where_now = {}
_phase = phases.phase

@contextlib.contextmanager
def located(name):
    ident = threading.get_ident()
    outer = where_now.get(ident)
    where_now[ident] = name
    try:
        with _phase(name):
            yield
    finally:
        where_now[ident] = outer

phases.phase = located  # before the prover's modules import it
from zkpor.liabilities import distributed
from zkpor.liabilities.round_proof import prove_round
from zkpor.liabilities.secret import load_secret

INTERVAL = 0.02
directory, batch_size, aggregate = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
label = ["driver"]
jobs = []  # [label, rss at start, peak rss, anon at peak, file at peak, phases at peak]
timeline = []  # (seconds, label, rss, phases) whenever rss moved by TIMELINE_STEP MB
TIMELINE_STEP = float(sys.argv[4])

def status():
    values = {}
    with open("/proc/self/status") as stream:
        for line in stream:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values

def stack():
    names = {t.ident: t.name for t in threading.enumerate()}
    return [f"{names.get(ident, '?')}: {name}" for ident, name in list(where_now.items()) if name]

def enter(name):
    label[0] = name
    rss = status()["VmRSS"]
    jobs.append([name, rss, rss, 0.0, 0.0, []])

def sample():
    while not state["stop"]:
        s = status()
        current = jobs[-1]
        if s["VmRSS"] > current[2]:
            current[2:6] = [s["VmRSS"], s["RssAnon"], s["RssFile"], stack()]
        if TIMELINE_STEP and (not timeline or abs(s["VmRSS"] - timeline[-1][2]) >= TIMELINE_STEP):
            timeline.append((time.perf_counter() - start, label[0], s["VmRSS"], stack()))
        time.sleep(INTERVAL)

state = {"stop": False}

class Labelled(distributed.InProcessRunner):
    def run(self, job_iter):
        def named():
            for job in job_iter:
                kind = f"node L{job.level}-{job.index}" if hasattr(job, "level") else f"batch {job.index}"
                enter(kind)
                yield job
        for job, result in super().run(named()):
            enter("driver")
            yield job, result

start = time.perf_counter()
enter("driver")
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
secret, _ = load_secret(directory / "exchange.secret", create=True)
start, cpu = time.perf_counter(), time.process_time()
report = prove_round(directory, secret, batch_size=batch_size, aggregate=aggregate, runner=Labelled())
state["stop"] = True
sampler.join()
levels = []
if report.tree is not None and report.tree.cpu_seconds_per_level:
    t = report.tree
    levels = [[level, t.trace_lengths[level], t.cpu_seconds_per_level[level - 1]]
              for level in sorted(t.trace_lengths)]
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "levels": levels,
                  "round_zkp": (directory / "proof" / "round.zkp").stat().st_size if levels else 0,
                  "peak_mb": status()["VmHWM"], "jobs": jobs,
                  "timeline": timeline}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=262144)
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--workdir", type=Path, default=Path("bench-round-memory"))
    parser.add_argument("--tree-only", action="store_true", help="re-prove only the tree over DIR's batches")
    parser.add_argument("--no-aggregate", action="store_true")
    parser.add_argument("--timeline", type=float, default=0, metavar="MB",
                        help="also print a sample whenever resident memory moved by MB")
    parser.add_argument("--all-jobs", action="store_true", help="one line per job (default: batches summed)")
    args = parser.parse_args()
    import os

    from zkpor.round.generate import generate_round

    round_dir = args.workdir / "round"
    if args.tree_only:
        shutil.rmtree(round_dir / "proof" / "nodes", ignore_errors=True)
        (round_dir / "proof" / "round.zkp").unlink(missing_ok=True)
    else:
        shutil.rmtree(args.workdir, ignore_errors=True)
        generate_round(round_dir, args.users, 7)
        (round_dir / "exchange.secret").write_bytes(os.urandom(32))
        (round_dir / "exchange.secret").chmod(0o600)
    aggregate = "0" if args.no_aggregate else "1"
    done = subprocess.run([sys.executable, "-c", _PROVE, str(round_dir), str(args.batch_size), aggregate,
                           str(args.timeline)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for seconds, name, rss, where in out["timeline"]:
        print(f"{seconds:8.1f} s {name:<14} {rss:>7.0f} MB  {' | '.join(where)}")
    print(f"{'job':<16} {'MB at start':>11} {'peak MB':>8} {'anon':>6} {'file':>6}  stack at the peak")
    batches = [j for j in out["jobs"] if j[0].startswith("batch")]
    highest = max(batches, key=lambda j: j[2])[0] if batches else None
    for name, start, peak, anon, file, where in out["jobs"]:
        quiet = name.startswith("batch") and name != highest or name == "driver" and not where
        if quiet and not args.all_jobs:
            continue  # one batch, and the driver only where it was sampled above its start
        where = " | ".join(where) or "(no phase: e.g. compiling a node program, reading children)"
        print(f"{name:<16} {start:>11.0f} {peak:>8.0f} {anon:>6.0f} {file:>6.0f}  {where}")
    if batches and not args.all_jobs:
        print(f"({len(batches)} batches: the one with the highest peak shown; --all-jobs for all)")
    for level, rows, cpu in out["levels"]:
        sizes = ", ".join(f"2^{r.bit_length() - 1}" for r in rows)
        print(f"tree level {level}: rows {sizes}, {cpu:.1f} CPU-s")
    if out["round_zkp"]:
        print(f"round.zkp: {out['round_zkp']:,} bytes")
    print(f"round: {out['seconds']:.1f} s wall, {out['cpu']:.1f} CPU-s, peak {out['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
