"""Benchmark: generate a synthetic round of N users, then load and check it; time and peak memory.

    .venv/bin/python benchmarks/bench_load.py                    # 10^6 users, CSV
    .venv/bin/python benchmarks/bench_load.py --format jsonl --users 200000

Each phase runs in its own process, so its peak RSS (resource.getrusage) is its own; numba kernels are
compiled (or loaded from cache) by a small warm-up round first, so compile time is not counted.
A second load under tracemalloc reports its peak, which counts numpy's array buffers (numpy reports
them to tracemalloc) and Python objects but not the interpreter and libraries that RSS includes. It
is a separate run because tracemalloc slows Python allocations down a lot (JSON Lines: ~20x), so
for JSON Lines it only runs with --tracemalloc.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from peak_memory import peak_rss_mb


def phase_generate(out: Path, users: int, seed: int, file_format: str) -> dict[str, float]:
    from zkpor.round.generate import generate_round

    baseline = peak_rss_mb()
    started = time.perf_counter()
    users_file = generate_round(out, users, seed, file_format=file_format, overwrite=True)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "bytes": users_file.stat().st_size,
        "peak_rss_mb": peak_rss_mb(),
        "baseline_rss_mb": baseline,
    }


def phase_load(out: Path, traced: bool) -> dict[str, float]:
    from zkpor.round.config import load_round_config
    from zkpor.round.directory import find_users_file
    from zkpor.round.net_value import asset_totals, check_net_values
    from zkpor.round.users import load_users

    config = load_round_config(out / "round.toml")
    users_file = find_users_file(out)
    baseline = peak_rss_mb()
    if traced:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    users = load_users(users_file, config)
    load_seconds, load_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    started = time.perf_counter()
    check_net_values(users, config)
    net_seconds = time.perf_counter() - started
    started = time.perf_counter()
    asset_totals(users.equity), asset_totals(users.debt)
    totals_seconds = time.perf_counter() - started
    return {
        "users": users.n_users,
        "assets": len(config.assets),
        "load_seconds": load_seconds,
        "load_cpu_seconds": load_cpu_seconds,
        "net_check_seconds": net_seconds,
        "totals_seconds": totals_seconds,
        "bytes": users_file.stat().st_size,
        "array_mb": (
            users.equity.nbytes + users.debt.nbytes + users.uid_bytes.nbytes + users.uid_offsets.nbytes
        )
        / 2**20,
        "tracemalloc_peak_mb": traced_peak / 2**20,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_phase(*args: str) -> dict[str, float]:
    """Run this script in a fresh process for one phase and return what it printed (JSON)."""
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"phase {args[:2]} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--keep", action="store_true", help="keep the generated round directory")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also measure tracemalloc's peak for JSON Lines (slow)"
    )
    parser.add_argument("--phase", choices=("generate", "load"), help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.phase == "generate":
        print(json.dumps(phase_generate(options.out, options.users, options.seed, options.format)))
        return
    if options.phase == "load":
        print(json.dumps(phase_load(options.out, options.tracemalloc)))
        return

    common = ["--seed", str(options.seed), "--format", options.format]
    warm_up = options.out.with_name(options.out.name + "-warm-up")
    run_phase("--phase", "generate", "--users", "1000", "--out", str(warm_up), *common)
    run_phase("--phase", "load", "--out", str(warm_up), "--tracemalloc")
    shutil.rmtree(warm_up)

    generated = run_phase(
        "--phase", "generate", "--users", str(options.users), "--out", str(options.out), *common
    )
    loaded = run_phase("--phase", "load", "--out", str(options.out))
    traced = None
    if options.format == "csv" or options.tracemalloc:
        traced = run_phase("--phase", "load", "--out", str(options.out), "--tracemalloc")
    n = loaded["users"]
    print(
        f"round: {n:,} users × {loaded['assets']} assets, seed {options.seed}, {options.format}, "
        f"{generated['bytes'] / 1e6:,.1f} MB ({options.out})"
    )
    print(
        f"generate: {generated['seconds']:6.2f} s  {n / generated['seconds']:>9,.0f} users/s  "
        f"peak RSS {generated['peak_rss_mb']:,.0f} MB"
    )
    print(
        f"load:     {loaded['load_seconds']:6.2f} s  {n / loaded['load_seconds']:>9,.0f} users/s  "
        f"peak RSS {loaded['peak_rss_mb']:,.0f} MB  (CPU {loaded['load_cpu_seconds']:.2f} s, "
        f"{loaded['bytes'] / 1e6 / loaded['load_seconds']:,.0f} MB/s; RSS after imports "
        f"{loaded['baseline_rss_mb']:,.0f} MB; result arrays {loaded['array_mb']:,.0f} MB)"
    )
    if traced is not None:
        print(
            f"          tracemalloc peak during load (numpy buffers + Python objects): "
            f"{traced['tracemalloc_peak_mb']:,.0f} MB"
        )
    print(
        f"net-value check (exact, all users): {loaded['net_check_seconds']:.2f} s;  "
        f"exact per-asset totals: {loaded['totals_seconds']:.2f} s"
    )
    if not options.keep:
        shutil.rmtree(options.out)


if __name__ == "__main__":
    main()
