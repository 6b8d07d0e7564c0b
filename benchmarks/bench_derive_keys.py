"""Deriving a round proof's verification keys (`round_tree.stack_keys`, what `zkpor verify` does on
a cache miss), alone, in this process, with nothing cached:

    .venv/bin/python benchmarks/bench_derive_keys.py PUBLIC_DIR [--profile N]
    .venv/bin/python benchmarks/bench_derive_keys.py --batches 5 [--batch-size 32 --limb-bits 8]

With a public folder (global.json, round.zkp) it derives that round's keys; with `--batches` a
generated 22-asset statement's, under the default tree options (a small, quick shape). Prints wall
and CPU seconds, this process's peak memory (VmHWM) before and after, the phases
(`stark.phases`: compile programs, commit columns) and the SHA-256 of every key's encoding, level
by level: keys derived by two versions of the code must print the same digests. The main thread's
CPU seconds are the serial part: on an idle machine the wall time is at least that (and at least
the CPU seconds over the cores). `--profile N` prints the N costliest functions (cProfile,
cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from peak_memory import peak_rss_mb  # noqa: E402
from zkpor.liabilities import aggregation, round_tree  # noqa: E402
from zkpor.liabilities.published import GlobalProof  # noqa: E402
from zkpor.liabilities.round_proof import default_proof_options  # noqa: E402
from zkpor.liabilities.statement import Statement, StatementAsset  # noqa: E402
from zkpor.recursion.verifying_key import KeyCache  # noqa: E402
from zkpor.stark.phases import recording  # noqa: E402


def _from_public(directory: Path) -> tuple[Statement, round_tree.TreeOptions, aggregation.TreePlan]:
    g = GlobalProof.from_json((directory / "global.json").read_bytes(), str(directory))
    rp = round_tree.read_round_proof((directory / "round.zkp").read_bytes(), "round.zkp", g.batch_count)
    plan = aggregation.plan_tree(g.batch_count, rp.tree.leaf_arity_log, rp.tree.node_arity_log)
    return g.statement, rp.tree, plan


def _generated(batches: int, batch_size: int, limb_bits: int) -> tuple[Statement, round_tree.TreeOptions,
                                                                       aggregation.TreePlan]:  # fmt: skip
    assets = tuple(StatementAsset(f"A{i}", 8, 40 + i, str(1000 + i)) for i in range(22))
    statement = Statement("bench", "2026-11-30T16:00:00Z", 0, assets, limb_bits=limb_bits,
                          batch_size=batch_size, batch_count=batches)  # fmt: skip
    tree = round_tree.tree_options(default_proof_options())
    return statement, tree, aggregation.plan_tree(batches, tree.leaf_arity_log, tree.node_arity_log)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("public", nargs="?", type=Path, help="a round's public folder")
    parser.add_argument("--batches", type=int, help="a generated statement of this many batches instead")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limb-bits", type=int, default=8)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if (args.public is None) == (args.batches is None):
        parser.error("give a public folder or --batches")
    if args.public is not None:
        statement, tree, plan = _from_public(args.public)
    else:
        statement, tree, plan = _generated(args.batches, args.batch_size, args.limb_bits)
    before_mb = peak_rss_mb()
    profiler = cProfile.Profile() if args.profile else None
    wall, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    with recording() as phases:
        if profiler:
            profiler.enable()
        keys = round_tree.stack_keys(statement, tree, plan, KeyCache(None), None)
        if profiler:
            profiler.disable()
    wall, cpu, main_cpu = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - main_cpu
    print(f"derived in {wall:.2f} s wall, {cpu:.2f} CPU-s ({main_cpu:.2f} on the main thread); peak "
          f"{before_mb:.0f} MB before, {peak_rss_mb():.0f} MB after "
          f"(levels {[len(level) for level in plan.levels]})")  # fmt: skip
    for name, (phase_wall, phase_cpu) in phases.seconds.items():
        print(f"  {name}: {phase_wall:.2f} s wall, {phase_cpu:.2f} CPU-s")
    for level, found in sorted(keys.by_level.items()):
        for key in found:
            print(f"  level {level}: {key.summary.trace_length} rows, key {key.digest()[:32]}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
