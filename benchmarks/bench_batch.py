"""One batch proof, warm: CPU seconds per prover phase, proof digest, peak memory.

    .venv/bin/python benchmarks/bench_batch.py [--runs 3] [--log-users 13] [--hasher blake3]
        [--no-zk] [--out FILE]
        [--profile conjectured|proven] [--blowup B] [--queries Q] [--grinding G] [--fri-folding F]
        [--fri-final-degree D] [--sbox-degree 3|7] [--limb-bits 8|16] [--record FILE]
    PYTHONPATH=OTHER/src .venv/bin/python benchmarks/bench_batch.py      # another checkout, same venv

Proves the same generated batch (22 assets, the conjectured profile) `--runs` times in one process
with `prove_batch`, the way a round proves batch after batch, and prints each run's CPU and wall
seconds and proof digest, then the CPU seconds per phase (`zkpor.stark.phases`) of every run after
the first: the first pays for first use (JIT cache loads, fresh pages that later proofs reuse). Run
it before and after a change, back to back: on a shared machine a phase varies by ±30 % between
runs, so quote ranges. Then it verifies the last proof (outside the figures) and prints the
security it gives and a summary of the warm runs: CPU-s per batch, users per CPU-second, bytes,
peak memory.

`--no-zk --out FILE` writes the first proof's bytes: without zero knowledge a proof is a function of
its inputs, so two checkouts that should prove the same bytes can be compared with `cmp`.

For a parameter sweep (docs/performance.md, "Parameter sweep"), one fresh process per setting: the
proof options as `bench_liabilities.py` takes them (`--blowup B`: the conjectured rule at B, the
fewest queries for 100 bits; `--queries`, `--grinding`, `--fri-folding`, `--fri-final-degree`
override single options, nothing stops a setting below 100 bits: the security line says what it
gives; `--sbox-degree 7`: the degree-7 Poseidon2 gadget, blowup 8 unless `--blowup` says
otherwise), the batch size as `--log-users`, and `--limb-bits` (by default the widest the trace
allows, as a round chooses: 16 from 2^13 users, 8 below). `--record FILE` appends the row as one
JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from dataclasses import asdict, replace

import numpy as np

from bench_liabilities import add_option_arguments, chosen_options
from peak_memory import peak_rss_mb
from zkpor.liabilities import batch
from zkpor.liabilities.assignment import choose_batch_shape
from zkpor.liabilities.batch import prove_batch, verify_batch
from zkpor.liabilities.statement import Statement, StatementAsset
from zkpor.stark import phases

ASSETS = 22


def batch_inputs(
    log_users: int, limb_bits: int | None = None
) -> tuple[Statement, np.ndarray, np.ndarray, np.ndarray]:
    """A statement and users with random balances (some debt, every net value >= 0), seed 11; limbs
    of `limb_bits`, by default the widest the batch allows (`choose_batch_shape`, as a round does)."""
    users = 1 << log_users
    rng = np.random.default_rng(11)
    bits = [int(b) for b in rng.integers(40, 63, ASSETS)]
    prices = [str(int(w)) for w in rng.integers(1, 2**38, ASSETS)]
    assets = tuple(StatementAsset(f"A{i}", 8, bits[i], prices[i]) for i in range(ASSETS))
    if limb_bits is None:
        limb_bits = choose_batch_shape(users, tuple(bits), users).limb_bits
    statement = Statement("2026-11", "2026-11-30T16:00:00Z", 0, assets, limb_bits=limb_bits, batch_size=users,
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
    add_option_arguments(parser)
    parser.add_argument("--limb-bits", type=int, choices=(8, 16), default=None,
                        help="limb width (default: the widest the batch allows)")  # fmt: skip
    parser.add_argument("--record", help="append this row's figures to FILE as one JSON line")
    args = parser.parse_args()
    batch.SBOX_DEGREE = args.sbox_degree  # read by statement_layout when proving and verifying
    statement, ids, equity, debt = batch_inputs(args.log_users, args.limb_bits)
    # the profile's options, or the conjectured rule at --blowup; Poseidon2 as the round's tree
    # proves its batches (fewer grinding bits)
    options = replace(chosen_options(args), zero_knowledge=not args.no_zk)
    print(options)
    warm: list[dict[str, tuple[float, float]]] = []
    cpu_runs: list[float] = []
    sizes: list[int] = []
    for run in range(args.runs):
        cpu, wall = time.process_time(), time.perf_counter()
        with phases.recording() as times:
            proof, _ = prove_batch(statement, 0, ids, equity, debt, options)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        data = proof.to_bytes()
        digest = hashlib.sha256(data).hexdigest()[:16]
        line = f"run {run}: {cpu:.2f} CPU-s, {wall:.2f} s wall, {len(data):,} bytes, sha256 {digest}"
        print(line, flush=True)
        cpu_runs.append(cpu)
        sizes.append(len(data))
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
    peak_mb = peak_rss_mb()
    print(f"peak memory {peak_mb:,.0f} MB")
    security = verify_batch(statement, proof, expected_index=0, min_security_bits=0).security
    print(f"security {security.describe()}")
    warm_cpu, which = (cpu_runs[1:], "warm") if len(cpu_runs) > 1 else (cpu_runs, "first run only,")
    users, degree = 1 << args.log_users, batch.sbox_degree(options)
    print(
        f"summary: {users:,} users, {statement.limb_bits}-bit limbs, degree-{degree} gadget; "
        f"{which} {min(warm_cpu):.2f}-{max(warm_cpu):.2f} CPU-s per batch (median "
        f"{statistics.median(warm_cpu):.2f}) = {users / max(warm_cpu):,.0f}-{users / min(warm_cpu):,.0f} "
        f"users per CPU-s; {min(sizes):,}-{max(sizes):,} bytes; peak {peak_mb:,.0f} MB"
    )
    if args.record:
        row = {"users": users, "limb_bits": statement.limb_bits, "sbox_degree": batch.sbox_degree(options),
               "options": asdict(options), "cpu_s": cpu_runs, "bytes": sizes, "peak_mb": peak_mb,
               "security": security.as_dict()}  # fmt: skip
        with open(args.record, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
