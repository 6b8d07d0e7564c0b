"""Benchmark of layer 2 (hashing): Poseidon2, row hashing, Merkle commitments, grinding, JIT.

    .venv/bin/python benchmarks/bench_hash.py            # full sizes (~1-2 minutes, ~4 GB RAM)
    .venv/bin/python benchmarks/bench_hash.py --quick    # smaller sizes, for a smoke run

    .venv/bin/python benchmarks/bench_hash.py --only rows --threads 1 --cpu   # the row kernels

Prints one table. Wall-clock times (CPU seconds of the process with --cpu, the steadier figure on
a shared machine), best of a few runs; "threads" is the thread pool size (zkpor.field.parallel),
which defaults to the number of CPUs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import blake3
import numpy as np

from zkpor.field import parallel
from zkpor.hash import bytehash, poseidon2, poseidon2_batch, poseidon2_lanes
from zkpor.hash.merkle import MerkleTree, SaltRng, verify_multi
from zkpor.hash.transcript import Transcript

P = poseidon2.P
ROWS: list[tuple[str, str, str]] = []
CLOCK = time.perf_counter  # time.process_time with --cpu


def report(what: str, value: str, note: str = "") -> None:
    ROWS.append((what, value, note))
    print(f"  {what:<52} {value:>18}  {note}", flush=True)


def best_of(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: JIT compilation and caches are measured separately
    times = []
    for _ in range(repeats):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return min(times)


def field_matrix(n_rows: int, n_cols: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, P, size=(n_rows, n_cols), dtype=np.uint64)


def bench_permutations(n: int) -> None:
    for width in (12, 8):
        states = field_matrix(n, width, 1)
        threads = parallel.num_threads()
        dt = best_of(lambda s=states: poseidon2_batch.permute_batch(s), 3)
        report(
            f"Poseidon2 width {width}, {n:,} states ({threads} threads)", f"{n / dt:,.0f} /s", f"{dt:.3f} s"
        )
        if width == 12:
            parallel.set_num_threads(1)
            try:
                dt1 = best_of(lambda s=states: poseidon2_batch.permute_batch(s), 3)
            finally:
                parallel.set_num_threads(threads)
            report(
                f"Poseidon2 width 12, {n:,} states (1 thread)",
                f"{n / dt1:,.0f} /s",
                f"{dt1 * 1e9 / n:.0f} ns each",
            )
    state = list(range(12))
    t = time.perf_counter()
    for _ in range(200):
        poseidon2.permute(state)
    report("Poseidon2 width 12, pure Python", f"{200 / (time.perf_counter() - t):,.0f} /s")


def bench_row_hashing(n: int, n_cols: int) -> None:
    m = field_matrix(n, n_cols, 2)
    dt = best_of(lambda: poseidon2_batch.sponge_hash_batch("bench", m), 2)
    report(f"Poseidon2 sponge, {n:,} rows x {n_cols} elements", f"{n / dt:,.0f} rows/s", f"{dt:.3f} s")
    leaves = field_matrix(n, 46, 3)  # a user leaf: id hash (4) + 21 assets x (equity, debt)
    dt = best_of(lambda: poseidon2_batch.sponge_hash_batch("bench", leaves), 2)
    report(f"Poseidon2 sponge, {n:,} rows x 46 elements", f"{n / dt:,.0f} rows/s", f"{dt:.3f} s")
    columns = np.ascontiguousarray(m.T)
    dt = best_of(lambda: poseidon2_lanes.sponge_columns("bench", columns), 2)
    report(
        f"Poseidon2 tiles, {n:,} rows x {n_cols} elements (columns)",
        f"{n / dt:,.0f} rows/s",
        f"{dt * 1e9 / (n * -(-n_cols // 8)):.0f} ns a permutation",
    )
    wide = field_matrix(302, n, 5)  # the solvency AIR's main trace: 298 columns + 4 salt
    dt = best_of(lambda: poseidon2_lanes.sponge_columns("bench", wide), 2)
    report(f"Poseidon2 tiles, {n:,} rows x 302 elements (columns)", f"{n / dt:,.0f} rows/s", f"{dt:.3f} s")
    nodes = field_matrix(2 * n, 4, 6)
    dt = best_of(lambda: poseidon2_batch.sponge_hash_batch("bench", nodes.reshape(-1, 8)), 2)
    report(f"Poseidon2 Merkle nodes, {n:,}, one state at a time", f"{n / dt:,.0f} nodes/s", f"{dt:.3f} s")
    dt = best_of(lambda: poseidon2_lanes.hash_pairs("bench", nodes), 2)
    report(f"Poseidon2 Merkle nodes, {n:,}, tiles", f"{n / dt:,.0f} nodes/s", f"{dt:.3f} s")
    dt = best_of(lambda: bytehash.hash_rows("bench", m), 2)
    mb = m.nbytes / dt / 1e6
    report(
        f"BLAKE3 numba kernels, {n:,} rows x {n_cols} elements", f"{n / dt:,.0f} rows/s", f"{mb:,.0f} MB/s"
    )
    key = bytehash.purpose_key("bench")
    raw = m.tobytes()
    width = 8 * n_cols

    def package_loop() -> None:
        view = memoryview(raw)
        for i in range(n):
            blake3.blake3(view[i * width : (i + 1) * width], key=key).digest()

    dt = best_of(package_loop, 1)
    report("BLAKE3 package, one call a row (for comparison)", f"{n / dt:,.0f} rows/s", "one core (GIL)")


def bench_merkle(n_blake3: int, n_poseidon2: int, n_cols: int, queries: int) -> None:
    for hasher, n in (("blake3", n_blake3), ("poseidon2", n_poseidon2)):
        m = field_matrix(n, n_cols, 4)
        salts = SaltRng(seed=b"benchmark salt seed")
        t = time.perf_counter()
        tree = MerkleTree.commit(m, hasher, salt_rng=salts)
        dt = time.perf_counter() - t
        report(
            f"Merkle commit {hasher}, 2^{n.bit_length() - 1} x {n_cols}, salted",
            f"{dt:.2f} s",
            f"{n / dt:,.0f} rows/s",
        )
        indices = Transcript(b"bench").challenge_indices("q", n, queries)
        t = time.perf_counter()
        proof = tree.open(indices)
        dt_open = time.perf_counter() - t
        rows, salt_rows = tree.rows(indices), tree.salts(indices)
        t = time.perf_counter()
        ok = verify_multi(tree.root, n, indices, rows, salt_rows, proof, hasher)
        dt_verify = time.perf_counter() - t
        assert ok
        independent = queries * tree.depth
        report(
            f"  open + verify {queries} queries ({hasher})",
            f"{dt_open * 1e3:.0f} + {dt_verify * 1e3:.0f} ms",
            f"{len(proof.siblings)} siblings vs {independent} unshared, {proof.size_bytes:,} B",
        )
        del tree, m


def bench_grinding(samples: int) -> None:
    Transcript(b"warm").grind(4)
    for bits in (16, 20):
        times = []
        for i in range(samples):
            t = Transcript(b"bench grinding")
            t.absorb_bytes("sample", i.to_bytes(4, "little"))
            s = time.perf_counter()
            t.grind(bits)
            times.append(time.perf_counter() - s)
        report(
            f"Grinding {bits} bits (mean of {samples})",
            f"{statistics.mean(times):.3f} s",
            f"max {max(times):.3f} s",
        )
    t = Transcript(b"verify")
    seed = t._pow_seed(20)
    s = time.perf_counter()
    for n in range(10_000):
        blake3.blake3(n.to_bytes(8, "little"), key=seed).digest()
    report("Grinding check (verifier), one hash", f"{(time.perf_counter() - s) / 10_000 * 1e6:.1f} us")


_JIT_PROBE = """
import time
t = time.perf_counter()
import numpy as np
from zkpor.hash import bytehash, poseidon2_batch
from zkpor.hash.merkle import MerkleTree
from zkpor.hash.transcript import Transcript
t_import = time.perf_counter() - t
t = time.perf_counter()
m = np.arange(64 * 4, dtype=np.uint64).reshape(64, 4)
poseidon2_batch.permute_batch(np.zeros((4, 12), dtype=np.uint64))
poseidon2_batch.permute_batch(np.zeros((4, 8), dtype=np.uint64))
MerkleTree.commit(m, "blake3")
MerkleTree.commit(m, "poseidon2")
Transcript(b"jit").grind(2)
print(f"{t_import:.3f} {time.perf_counter() - t:.3f}")
"""


def bench_jit() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("first run (empty JIT cache)", "second run (cached)"):
            out = subprocess.run(
                [sys.executable, "-c", _JIT_PROBE], env=env, capture_output=True, text=True, check=True
            ).stdout.split()
            report(
                f"JIT {label}: import + first calls",
                f"{float(out[1]):.2f} s",
                f"import {float(out[0]):.2f} s",
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--threads", type=int, default=None, help="thread pool size (default: CPUs)")
    parser.add_argument("--only", choices=("rows",), help="only the row hashing kernels")
    parser.add_argument("--cpu", action="store_true", help="CPU seconds instead of wall-clock")
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    if args.threads:
        parallel.set_num_threads(args.threads)
    q = args.quick
    print(f"zkpor hashing benchmark: {os.cpu_count()} CPUs, pool of {parallel.num_threads()} threads")
    if args.only == "rows":
        bench_row_hashing(1 << (12 if q else 16), 200)
        return
    bench_permutations(1 << (16 if q else 20))
    bench_row_hashing(1 << (12 if q else 16), 200)
    bench_merkle(1 << (12 if q else 20), 1 << (10 if q else 16), 200, 80)
    bench_grinding(3 if q else 10)
    bench_jit()


if __name__ == "__main__":
    main()
