"""One batch proof, warm: CPU seconds per prover phase, proof digest, peak memory.

    .venv/bin/python benchmarks/bench_batch.py [--runs 3] [--log-users 13] [--hasher blake3]
        [--no-zk] [--out FILE]
    PYTHONPATH=OTHER/src .venv/bin/python benchmarks/bench_batch.py      # another checkout, same venv

Proves the same generated batch (22 assets, 16-bit limbs, the conjectured profile) `--runs` times
in one process with `prove_batch`, the way a round proves batch after batch, and prints each run's
CPU and wall seconds and proof digest, then the CPU seconds per phase (`zkpor.stark.phases`) of
every run after the first: the first pays for first use (JIT cache loads, fresh pages that later
proofs reuse). Run it before and after a change, back to back: on a shared machine a phase varies
by ±30 % between runs, so quote ranges.

`--no-zk --out FILE` writes the first proof's bytes: without zero knowledge a proof is a function of
its inputs, so two checkouts that should prove the same bytes can be compared with `cmp`.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import replace

import numpy as np

from peak_memory import peak_rss_mb
from zkpor.liabilities.batch import prove_batch
from zkpor.liabilities.round_proof import profile_options
from zkpor.liabilities.round_tree import in_circuit_batch_options
from zkpor.liabilities.statement import Statement, StatementAsset
from zkpor.stark import phases

ASSETS = 22


def batch_inputs(log_users: int) -> tuple[Statement, np.ndarray, np.ndarray, np.ndarray]:
    """A statement and users with random balances (some debt, every net value >= 0), seed 11."""
    users = 1 << log_users
    rng = np.random.default_rng(11)
    bits = [int(b) for b in rng.integers(40, 63, ASSETS)]
    prices = [str(int(w)) for w in rng.integers(1, 2**38, ASSETS)]
    assets = tuple(StatementAsset(f"A{i}", 8, bits[i], prices[i]) for i in range(ASSETS))
    statement = Statement("2026-11", "2026-11-30T16:00:00Z", 0, assets, limb_bits=16, batch_size=users,
                          batch_count=1)  # fmt: skip
    bounds = np.array([1 << (b - 2) for b in bits], dtype=np.uint64)
    equity = (rng.random((users, ASSETS)) * bounds).astype(np.uint64)
    debt = np.zeros((users, ASSETS), dtype=np.uint64)
    debt[::3, 0] = equity[::3, 0] // 2 + 1
    ids = rng.integers(0, 2**63, (users, 4)).astype(np.uint64)
    return statement, ids, equity, debt


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--log-users", type=int, default=13, help="log2 of the users (>= 13: 16-bit limbs)")
    parser.add_argument("--hasher", choices=("blake3", "poseidon2"), default="blake3")
    parser.add_argument("--no-zk", action="store_true", help="prove without zero knowledge (deterministic)")
    parser.add_argument("--out", help="write the first proof's bytes here")
    args = parser.parse_args()
    statement, ids, equity, debt = batch_inputs(args.log_users)
    options = replace(profile_options("conjectured"), hasher=args.hasher, zero_knowledge=not args.no_zk)
    if args.hasher == "poseidon2":  # as the round's tree proves them (fewer grinding bits)
        options = in_circuit_batch_options(options)
    print(options)
    warm: list[dict[str, tuple[float, float]]] = []
    for run in range(args.runs):
        cpu, wall = time.process_time(), time.perf_counter()
        with phases.recording() as times:
            proof, _ = prove_batch(statement, 0, ids, equity, debt, options)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        data = proof.to_bytes()
        digest = hashlib.sha256(data).hexdigest()[:16]
        line = f"run {run}: {cpu:.2f} CPU-s, {wall:.2f} s wall, {len(data):,} bytes, sha256 {digest}"
        print(line, flush=True)
        if run == 0 and args.out:
            with open(args.out, "wb") as f:
                f.write(data)
        if run:
            warm.append(times.seconds)
    if warm:
        print("CPU seconds per phase, runs 1 on:")
        for name in sorted(warm[0], key=lambda k: -warm[0][k][1]):
            print(f"  {name:24s}" + "".join(f" {run.get(name, (0, 0))[1]:5.2f}" for run in warm))
        print(f"  {'total':24s}" + "".join(f" {sum(c for _, c in run.values()):5.2f}" for run in warm))
    print(f"peak memory {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
