"""Recursion benchmark: the recursion AIR proving verifier-shaped programs of 2^12 … 2^16 rows.

A verifier-shaped program fills about 90 % of every unit of a 2^k-row trace the way a STARK
verifier would: per query one 64-bit index decomposition and four Merkle paths of depth 16 driven
by its bits (one permutation per row), siblings as private inputs (8 per row), and a running
extension-field sum over the siblings (four ext multiply-adds per row).

Prints per size: instructions per unit, program build + layout time, witness time (the pure-Python
interpreter and the trace), the program key's time (its preprocessed columns' LDE and Merkle tree:
once per program, e.g. per level of the node tree), STARK prove time (key excluded), verify time
(layout and program digest included, key excluded), proof size, peak RSS; then the rows an
arity-8 node verifying 8 batch proofs would need by DESIGN.md's cost model.

    .venv/bin/python benchmarks/bench_recursion.py [--log-rows 12 14 16] [--zk]
        [--hasher poseidon2] [--blowup 8] [--queries Q] [--grinding 16] [--folding 3] [--phases]

The options default to `default_options` (blake3, the fewest queries for 100 conjectured bits at
the blowup); an inner node of the round tree proves with `--hasher poseidon2 --zk --blowup 4`
(`recursion.proving.inner_options`: zero knowledge by default).
With --phases each size also prints where its CPU seconds went: the witness (the interpreter, the
cell values, the trace), the program key, and each phase of the STARK prover (`stark.phases`).

Each size runs in a fresh process, so the peak memory printed is that run's own.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import subprocess
import sys
import time

from peak_memory import peak_rss_mb
from zkpor.field.pure import Ext
from zkpor.recursion.air import (
    BLOCK,
    SLOTS,
    WIDTH,
    WITNESS,
    ProgramPublic,
    RecursionAir,
    build_trace,
    cell_values,
    plan,
)
from zkpor.recursion.program import Program, ProgramBuilder, execute
from zkpor.recursion.proving import ProgramKey, commit_program, verify_program
from zkpor.stark import phases
from zkpor.stark.params import ProofOptions, default_options
from zkpor.stark.prover import prove

DEPTH = 16  # Merkle levels per path
PATHS = 4  # paths per query index (trace, aux, quotient, a FRI layer)
FILL = 0.9


def verifier_shaped(log_rows: int) -> tuple[Program, list[int], list[int]]:
    """(program, public inputs, private inputs) filling about FILL of 2^log_rows rows."""
    rows = int(FILL * (1 << log_rows))
    queries = max(1, rows // BLOCK)
    steps_per_query = max(1, rows // queries)
    paths = max(1, steps_per_query // DEPTH)
    b = ProgramBuilder()
    x = b.public_input()
    acc = b.constant(0)
    private: list[int] = []
    digest: list[int] = []
    mul_adds_left = SLOTS * rows
    for q in range(queries):
        index = b.private_input()
        private.append(q * 7919 % (1 << DEPTH))
        bits = b.decompose(index)
        for p in range(paths):
            digest = [b.private_input() for _ in range(4)]
            private += [q, p, 1, 2]
            for level in range(DEPTH):
                sibling = [b.private_input() for _ in range(4)]
                private += [level, q, p, 3]
                digest = b.merkle_step(digest, sibling, bits[level], "zkpor-node-v1")
                for cell in sibling:
                    if mul_adds_left:
                        acc = b.mul_add(acc, x, cell)
                        mul_adds_left -= 1
    b.output(acc)
    for cell in digest:
        b.output(cell)
    return b.build(), [123456789], private


def rows_needed(permutations: float, mul_adds: float, decompositions: float, private: float) -> float:
    return max(permutations, mul_adds / SLOTS, BLOCK * decompositions, private / WITNESS)


def bench_options(args: argparse.Namespace) -> ProofOptions:
    """The proof options from the command line: `default_options` at --blowup, then any override."""
    options = default_options(zero_knowledge=args.zk, blowup=args.blowup)
    overrides = {"hasher": args.hasher, "num_queries": args.queries, "grinding_bits": args.grinding,
                 "fri_folding_log": args.folding}  # fmt: skip
    return dataclasses.replace(options, **{k: v for k, v in overrides.items() if v is not None})


def run(log_rows: int, options: ProofOptions, show_phases: bool) -> str:
    start = time.perf_counter()
    program, public_inputs, private_inputs = verifier_shaped(log_rows)
    layout = plan(program)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    with phases.recording() as witness_phases:
        with phases.phase("witness: execute"):
            execution = execute(program, public_inputs, private_inputs)
        with phases.phase("witness: cell values"):
            values = cell_values(layout, execution.cells)
        with phases.phase("witness: build trace"):
            trace = build_trace(layout, values)
    public = ProgramPublic(tuple(Ext(v) for v in public_inputs), tuple(execution.outputs))
    witness_s = time.perf_counter() - start
    start = time.perf_counter()
    with phases.recording() as key_phases:
        committed = commit_program(program, options, layout)
    key = ProgramKey(program.digest(), committed.key)
    key_s = time.perf_counter() - start
    start, start_cpu = time.perf_counter(), time.process_time()
    air = RecursionAir(layout, public)
    with phases.recording() as prove_phases:
        data = prove(air, trace, options, preprocessed=committed).to_bytes()
    prove_s, prove_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    start = time.perf_counter()
    report = verify_program(program, public, data, key=key)
    verify_s = time.perf_counter() - start
    c = layout.counts
    peak = peak_rss_mb()
    line = (
        f"2^{log_rows:<3} {c['permutations']:>7} {c['arithmetic']:>8} {c['decompositions']:>5} "
        f"{c['private_inputs']:>8} {build_s:>7.1f} {witness_s:>9.1f} {key_s:>5.1f} {prove_s:>8.1f} "
        f"{verify_s * 1000:>9.0f} {len(data) / 1024:>8.1f} {peak:>7.0f}  "
        f"{WIDTH}+2·{air.aux_width}+{air.preprocessed_width}  {report.security.conjectured_bits} bits"
    )
    if show_phases:
        line += "\n" + phase_table(witness_phases, key_phases, prove_phases, prove_cpu)
    return line


def phase_table(witness: phases.PhaseTimes, key: phases.PhaseTimes, proving: phases.PhaseTimes,
                prove_cpu: float) -> str:  # fmt: skip
    """CPU (and wall) seconds per phase; the key's phases once per program, apart."""
    rows = [f"      {'phase':<24} {'CPU s':>7} {'wall s':>7}"]
    groups = (("", witness.seconds), ("key: ", key.seconds), ("", proving.seconds))
    for prefix, seconds in groups:
        for name, (wall, cpu) in seconds.items():
            rows.append(f"      {prefix + name:<24} {cpu:>7.2f} {wall:>7.2f}")
    rows.append(f"      {'prove total (no key)':<24} {prove_cpu:>7.2f}")
    return "\n".join(rows)


def node_estimate() -> None:
    """DESIGN.md's cost model per child proof: ~7,100 Poseidon2 permutations, ~19,000 ext mul-adds;
    plus what this layout also has to place: ~28 query-index decompositions (one per query, as the
    verifier draws them) and the proof's values as private inputs (2,400 leaf rows × 8 elements
    opened, 4,500 path siblings × 4 elements, ~300 OOD, FRI and transcript values)."""
    child = {"permutations": 7_100, "mul_adds": 19_000, "decompositions": 28,
             "private": 2_400 * 8 + 4_500 * 4 + 300}  # fmt: skip
    per_unit = {
        "Poseidon2 unit": child["permutations"],
        "ext slots": child["mul_adds"] / SLOTS,
        "bits unit": BLOCK * child["decompositions"],
        "witness unit": child["private"] / WITNESS,
    }
    print("\narity-8 node (8 child proofs), rows each unit needs:")
    for name, rows in per_unit.items():
        print(f"  {name:<15} {8 * rows:>9,.0f}")
    rows = 8 * rows_needed(
        child["permutations"], child["mul_adds"], child["decompositions"], child["private"]
    )
    log = math.ceil(math.log2(rows))
    print(f"  node: {rows:,.0f} rows → 2^{log} ({rows / 2**log:.0%} full); "
          "DESIGN.md estimates ≈ 58 k rows (2^16, 89 %)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-rows", type=int, nargs="+", default=[12, 14, 16])
    parser.add_argument("--zk", action="store_true", help="zero-knowledge proofs (inner nodes need none)")
    parser.add_argument("--hasher", choices=("blake3", "poseidon2"))
    parser.add_argument("--blowup", type=int, default=8)
    parser.add_argument("--queries", type=int)
    parser.add_argument("--grinding", type=int)
    parser.add_argument("--folding", type=int, help="log2 of the FRI folding factor")
    parser.add_argument("--phases", action="store_true", help="CPU seconds per phase")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:  # a child process: one measurement, printed as a table row
        print(run(args.one, bench_options(args), args.phases), flush=True)
        return
    print(f"options: {bench_options(args)}")
    print(f"columns per row: {WIDTH} main; units per row: 1 permutation, {SLOTS} ext mul-add slots, "
          f"1 bit (a decomposition is {BLOCK} rows), {WITNESS} private-input cells")  # fmt: skip
    print(f"{'rows':<5} {'perms':>7} {'mul-adds':>8} {'decs':>5} {'private':>8} {'build s':>7} "
          f"{'witness s':>9} {'key s':>5} {'prove s':>8} {'verify ms':>9} {'proof KB':>8} {'peak MB':>7}  "
          "columns  security")  # fmt: skip
    for log_rows in args.log_rows:
        command = [sys.executable, *sys.argv, "--one", str(log_rows)]
        subprocess.run(command, check=True)
    node_estimate()


if __name__ == "__main__":
    main()
