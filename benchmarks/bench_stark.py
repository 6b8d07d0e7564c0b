"""STARK benchmark: the Poseidon2-per-row AIR at several sizes, with and without zero knowledge.

Prints prove time, verify time, proof bytes, peak RSS and the security level.
    .venv/bin/python benchmarks/bench_stark.py [--log-rows 14 16 18] [--no-zk-only | --zk-only]
        [--blowup 8]

Each size runs in a fresh process, so the peak memory printed is that run's own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

from peak_memory import peak_rss_mb
from zkpor.stark.domain import opened_points_per_column
from zkpor.stark.examples.poseidon2_air import Poseidon2Air, poseidon2_trace
from zkpor.stark.gadgets import poseidon2 as gadget
from zkpor.stark.params import default_options
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify


def smallest_zk_log_rows() -> int:
    """The shortest trace zero knowledge accepts at the default queries (each column's n random
    values must cover the points opened in it)."""
    opened = opened_points_per_column(default_options().num_queries)
    return max(1, (opened - 1).bit_length())


def run(log_rows: int, zero_knowledge: bool, blowup: int = 8) -> dict:
    n = 1 << log_rows
    trace = poseidon2_trace(n, np.random.default_rng(log_rows))
    offset = gadget.output_columns_offset()
    air = Poseidon2Air(n, [int(v) for v in trace[offset : offset + 12, 0]])
    options = default_options(zero_knowledge=zero_knowledge, blowup=blowup)
    start = time.perf_counter()
    proof = prove(air, trace, options).to_bytes()
    prove_s = time.perf_counter() - start
    start = time.perf_counter()
    report = verify(air, proof)
    verify_s = time.perf_counter() - start
    return {
        "rows": f"2^{log_rows}",
        "blowup": blowup,
        "zk": zero_knowledge,
        "prove_s": prove_s,
        "verify_ms": verify_s * 1000,
        "proof_kb": len(proof) / 1024,
        "perm/s": n / prove_s,
        "security": report.security.describe(),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-rows", type=int, nargs="+", default=[14, 16, 18])
    parser.add_argument("--blowup", type=int, default=8)
    parser.add_argument("--one", nargs=2, metavar=("LOG_ROWS", "ZK"), help=argparse.SUPPRESS)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--zk-only", action="store_true")
    group.add_argument("--no-zk-only", action="store_true")
    args = parser.parse_args()
    if args.one:  # a child process: one measurement, printed as a table row
        run(smallest_zk_log_rows(), True, args.blowup)  # compile the kernels before timing
        r = run(int(args.one[0]), args.one[1] == "zk", args.blowup)
        cells = f"{r['rows']:>6} {str(r['zk']):>5} {r['blowup']:>6} {r['prove_s']:>9.2f} "
        cells += f"{r['verify_ms']:>10.1f} {r['proof_kb']:>9.1f} {r['perm/s']:>9.0f} {r['peak_rss_mb']:>8.0f}"
        print(f"{cells}  {r['security']}", flush=True)
        return
    modes = [True] if args.zk_only else [False] if args.no_zk_only else [True, False]
    header = f"{'rows':>6} {'zk':>5} {'blowup':>6} {'prove s':>9} {'verify ms':>10} {'proof KB':>9} "
    print(f"{header}{'perm/s':>9} {'peak MB':>8}  security", flush=True)
    for log_rows in args.log_rows:
        for zk in modes:
            command = [sys.executable, __file__, "--blowup", str(args.blowup), "--one", str(log_rows),
                       "zk" if zk else "plain"]  # fmt: skip
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
