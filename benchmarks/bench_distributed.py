"""Scale-out benchmark: one generated 22-asset round proven in this process and on local Dask
clusters of 1 and 2 worker processes; users/s, the client's and each worker's peak memory.

    .venv/bin/python benchmarks/bench_distributed.py [--users 32768] [--batch-size 8192]
        [--workers 0 1 2] [--workdir DIR]

`--workers 0` is the in-process run (all cores in one process). Each configuration proves a fresh
copy of the same round (same secret), in its own client process so its peak memory is its own;
the roots must agree. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

_CHILD = """
import json, os, resource, sys, time
from pathlib import Path
from zkpor.liabilities.distributed import DaskRunner
from zkpor.liabilities.round_proof import prove_round
from zkpor.liabilities.secret import load_secret

directory, workers, batch_size = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
secret, _ = load_secret(directory / "exchange.secret", create=True)
start = time.perf_counter()
worker_peaks = []
if workers == 0:
    report = prove_round(directory, secret, batch_size=batch_size)
else:
    with DaskRunner(workers=workers) as runner:
        report = prove_round(directory, secret, batch_size=batch_size, runner=runner)
        peaks = runner._client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        worker_peaks = sorted(peaks.values())
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "root": report.summary["root"],
    "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_peaks_mb": worker_peaks,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=32768)
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workdir", type=Path, default=Path("bench-distributed"))
    args = parser.parse_args()

    from zkpor.round.generate import generate_round

    source = args.workdir / "source"
    if source.exists():
        shutil.rmtree(source)
    args.workdir.mkdir(parents=True, exist_ok=True)
    generate_round(source, args.users, 7)
    (source / "exchange.secret").write_bytes(b"\x07" * 32)
    (source / "exchange.secret").chmod(0o600)

    print(f"{args.users:,} users × 22 assets, batches of {args.batch_size}, ZK, 100-bit conjectured")
    print(f"{'runner':<28}{'wall s':>9}{'users/s':>10}{'client MB':>11}  worker peak MB")
    roots = set()
    for workers in args.workers:
        target = args.workdir / f"workers-{workers}"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(target), str(workers), str(args.batch_size)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        roots.add(result["root"])
        name = "in process" if workers == 0 else f"Dask, {workers} worker process(es)"
        peaks = ", ".join(f"{p:.0f}" for p in result["worker_peaks_mb"]) or "-"
        print(
            f"{name:<28}{result['seconds']:>9.1f}{args.users / result['seconds']:>10,.0f}"
            f"{result['client_peak_mb']:>11.0f}  {peaks}   (process {time.perf_counter() - started:.1f} s)"
        )
    print("roots agree" if len(roots) == 1 else f"ROOTS DIFFER: {roots}")
    print(f"(this benchmark's own peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
