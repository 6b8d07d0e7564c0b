"""Scale benchmark: a round of 10^7 users × 22 assets generated, loaded, planned and streamed to
Dask workers, with the client's memory measured at every step; a projection for the whole round.

    .venv/bin/python benchmarks/bench_scale.py [--users 10000000] [--workers 2] [--batches 4]
        [--workdir bench-scale] [--keep]

Steps, each timed, the client's peak RSS printed after each (the prover's client runs in a fresh
process, so its peak is its own):
  generate   `generate_round` (blocks of 2^20 users; the file is kept for later runs with --keep)
  prove      `prove_round` on a local Dask cluster of --workers processes: load (balances spilled to
             private unnamed files), plan (keyed shuffle), then --batches batch proofs streamed to
             the workers; stopped there, and the whole round projected from the measured batches.
Prints what grows with the user count and what streams. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from peak_memory import peak_rss_mb

_CLIENT = """
import json, resource, sys, time
from pathlib import Path
from zkpor.liabilities.distributed import DaskRunner
from zkpor.liabilities.round_proof import prove_round
from zkpor.liabilities.secret import load_secret

directory, workers, batches = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
secret, _ = load_secret(directory / "exchange.secret", create=True)
marks = {}
start = time.perf_counter()

def peak_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent that forked us.
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status["VmHWM"].split()[0]) / 1024

class Enough(Exception):
    pass

def loaded(done, total):
    if done == total and "loaded" not in marks:
        marks["loaded"] = (time.perf_counter() - start, peak_mb())

def progress(done, total):
    now = time.perf_counter() - start
    marks.setdefault("planned", (now, peak_mb()))
    marks.setdefault("batch_times", []).append(now)
    marks["batch_count"] = total
    if done >= batches:
        raise Enough

with DaskRunner(workers=workers) as runner:
    try:
        prove_round(directory, secret, runner=runner, progress=progress, load_progress=loaded)
    except Enough:
        pass
    worker_peaks = sorted(runner._client.run(
        lambda: __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 1024
    ).values())
marks["client_peak_mb"] = peak_mb()
marks["worker_peaks_mb"] = worker_peaks
print(json.dumps(marks))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("bench-scale"))
    parser.add_argument("--keep", action="store_true", help="reuse a users file generated earlier")
    args = parser.parse_args()

    from zkpor.round.generate import generate_round

    directory = args.workdir / f"round-{args.users}"
    if not (args.keep and (directory / "users.csv").exists()):
        if directory.exists():
            shutil.rmtree(directory)
        args.workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate_round(directory, args.users, 7)
        seconds = time.perf_counter() - started
        size = (directory / "users.csv").stat().st_size / 1e9
        peak = peak_rss_mb()
        print(f"generate  {args.users:,} users: {seconds:.1f} s, {size:.2f} GB file, peak {peak:.0f} MB")
    for stale in ("proof", "private"):
        shutil.rmtree(directory / stale, ignore_errors=True)

    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(directory), str(args.workers), str(args.batches)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wall = time.perf_counter() - started
    marks = json.loads(out.strip().splitlines()[-1])
    load_s, load_peak = marks["loaded"]
    plan_s, plan_peak = marks["planned"]
    times = marks["batch_times"]
    proven = len(times) - 1
    per_batch = (times[-1] - times[0]) / max(1, proven)
    count = marks["batch_count"]
    print(f"load      {load_s:.1f} s (balances spilled to private files), client peak {load_peak:.0f} MB")
    print(f"plan      {plan_s - load_s:.1f} s ({count:,} batches), client peak {plan_peak:.0f} MB")
    print(
        f"prove     {proven} batches on {args.workers} worker processes: {per_batch:.1f} s per batch "
        f"(wall, all workers), client peak {marks['client_peak_mb']:.0f} MB, worker peaks "
        + ", ".join(f"{p:.0f}" for p in marks["worker_peaks_mb"])
        + " MB"
    )
    projected = plan_s + per_batch * count
    print(
        f"projected whole round: {projected / 3600:.1f} h ({args.users / projected:,.0f} users/s) on this "
        f"machine; client run measured {wall:.0f} s"
    )
    print(
        "grows with users: the users file and the spilled balances (disk), uids (~18 B/user) and the "
        "shuffle (16 B keys + 16 B order per slot) in the client; per batch: one batch of balances "
        "in flight per worker, the inclusion store rows (disk)"
    )


if __name__ == "__main__":
    main()
