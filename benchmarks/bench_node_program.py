"""Node programs of the aggregation tree (`zkpor.liabilities.aggregation`): their size, and with
--prove the proof of one real level-1 node.

Compiles (no proving) the program of a level-1 node over four batch proofs of 8,192 users × 22
assets (the round's "conjectured" profile with hasher "poseidon2", as batches meant for the tree are
proven) and of a level-2 node over eight such level-1 nodes (proven with the inner options,
`recursion.proving.inner_options`: zero knowledge unless --no-inner-zk), and prints per program
the operations, the rows each recursion-AIR unit needs and the trace length.

With --prove it also proves `--prove-children` real 32-user batches (the same profile), then the
level-1 node over them (inner options), and prints CPU seconds, wall time and proof bytes; with
--top also the same node proven as a top node (zero knowledge, hasher Poseidon2 and BLAKE3).

With --zk-cost DIR it measures what zero knowledge costs an inner node at the real size: a
generated round of `--leaf-children` batches of `--batch-size` users × 22 assets proven once into
DIR (batch proofs only, the conjectured profile with hasher Poseidon2; reused when DIR has them),
then the level-1 node over them proven with `recursion.proving.inner_options` with and without zero
knowledge, each in its own process: rows, program + key, prove CPU-s and wall, proof bytes, verify
CPU-s, peak memory.

With --phases PROOF_DIR it proves node `--index` (0) of `--level` of a proven round again (PROOF_DIR is a
round's proof folder: batches/ and, for a level above 1, nodes/ proven by this code with the
default tree options), `--reps` times in one process (the first run also compiles and fills the
LDE pool: quote the last), and prints the program's rows, the CPU seconds of building the
programs and the key (once per level), of reading the children (the witness), and of each prover
phase (`stark.phases`).

With --keys PROOF_DIR it derives the default tree's verification keys for rounds of each of
`--batch-counts` (5 6) batches of PROOF_DIR's statement in turn, with one key cache, each in its own
process, and prints per round the keys derived and found cached, CPU-s, wall and peak memory: an
auditor's verify of the second month's round.

    .venv/bin/python benchmarks/bench_node_program.py [--batch-size 8192] [--leaf-children 4]
        [--node-children 8] [--prove [--prove-children 4] [--top]] [--zk-cost DIR]
        [--phases PROOF_DIR [--level 1] [--index 0] [--reps 2] [--leaf-arity-log 2]]
        [--keys PROOF_DIR [--batch-counts 5 6]] [--blowup B] [--sbox-degree 3|7]

`--blowup B`: the batch children at blowup B with the same conjectured bits (`round_tree.same_bits`,
at most 18 grinding bits); `--sbox-degree`: their Poseidon2 gadget (by default the rule's,
`batch.sbox_degree`: 3 for the tree's batches).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter
from pathlib import Path

from bench_verifier_program import ASSETS, solvency_air, unit_rows
from zkpor.liabilities import aggregation as ag
from zkpor.liabilities import batch as batch_module
from zkpor.liabilities.round_proof import default_proof_options
from zkpor.liabilities.round_tree import IN_CIRCUIT_GRINDING_BITS, in_circuit_batch_options, same_bits
from zkpor.recursion import proving
from zkpor.recursion.air import RecursionAir
from zkpor.stark.params import default_options

BATCH_BLOWUP: int | None = None  # --blowup: the batch children's, the same conjectured bits (same_bits)


def batch_options():
    """The tree's batch options (`in_circuit_batch_options`), at --blowup when given."""
    options = in_circuit_batch_options(default_proof_options())
    if BATCH_BLOWUP is None:
        return options
    return same_bits(options, BATCH_BLOWUP, max_grinding_bits=IN_CIRCUIT_GRINDING_BITS)


INNER_ZK = True  # --no-inner-zk: inner nodes without zero knowledge


def inner_options():
    """The round tree's inner-node options (`recursion.proving.inner_options`)."""
    return proving.inner_options(zero_knowledge=INNER_ZK)


def describe(title: str, node: ag.NodeProgram, seconds: float) -> None:
    counts = Counter(type(i).__name__ for i in node.program.instructions)
    rows = unit_rows(counts)
    busiest = max(rows, key=rows.get)  # type: ignore[arg-type]
    n = node.layout.trace_length
    print(f"\n{title}: compiled in {seconds:.1f} s, {len(node.program.instructions):,} instructions")
    print(f"  permutations {counts['Permute']:,}, ext mul-adds {counts['MulAdd']:,}, "
          f"checks {counts['Check']:,}, decompositions {counts['Decompose']:,}, "
          f"private inputs {counts['PrivateInput']:,} "
          f"+ {counts['InverseHint']:,} hints, constants {len(node.program.constants):,}")  # fmt: skip
    print(f"  rows per unit {rows} -> trace 2^{n.bit_length() - 1} ({100 * rows[busiest] / n:.0f} % full, "
          f"{busiest} the busiest)")  # fmt: skip


def report_programs(batch_size: int, leaf_children: int, node_children: int) -> ag.NodeProgram:
    layout = solvency_air(batch_size).layout
    leaf_log = (leaf_children - 1).bit_length()
    node_log = (node_children - 1).bit_length()
    shape1 = ag.NodeShape(1, 0, 0, leaf_log, 0, leaf_children)
    log_n = layout.trace_length.bit_length() - 1
    print(f"batch children: {batch_size} users × {ASSETS} assets, trace 2^{log_n}, "
          f"options {batch_options()}\nnode proofs: {inner_options()}")  # fmt: skip
    start = time.perf_counter()
    level1 = ag.node_program(shape1, ag.ChildSpec.batches(layout, batch_options()), inner_options())
    describe(f"level-1 node, {leaf_children} batch children", level1, time.perf_counter() - start)
    start = time.perf_counter()
    level1.key  # noqa: B018 — a constant of its parents' programs
    print(f"  its key (program digest + committed program columns) in {time.perf_counter() - start:.1f} s")
    shape2 = ag.NodeShape(2, 0, 0, leaf_log + node_log, leaf_log, node_children)
    start = time.perf_counter()
    level2 = ag.node_program(shape2, ag.ChildSpec.nodes(level1), inner_options())
    describe(f"level-2 node, {node_children} node children", level2, time.perf_counter() - start)
    return level1


def report_prove(children: int, top: bool) -> None:
    import numpy as np

    from zkpor.liabilities.air import SolvencyAir
    from zkpor.liabilities.batch import statement_layout
    from zkpor.liabilities.statement import Statement, StatementAsset
    from zkpor.liabilities.witness import build_batch
    from zkpor.stark.prover import prove

    rng = np.random.default_rng(7)
    assets = tuple(StatementAsset(f"A{i}", 8, 48, str(int(rng.integers(1, 2**38)))) for i in range(ASSETS))
    statement = Statement("2026-11", "2026-11-30T16:00:00Z", 0, assets, limb_bits=8, batch_size=32,
                          batch_count=children)  # fmt: skip
    layout = statement_layout(statement)
    digest = statement.digest()
    batches = []
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(children):
        ids = rng.integers(0, 2**63, (32, 4)).astype(np.uint64)
        equity = rng.integers(0, 2**40, (32, ASSETS)).astype(np.uint64)
        debt = np.zeros_like(equity)
        batch = build_batch(layout, digest, index, ids, equity, debt, weights=statement.weights)
        batches.append((batch.public, prove(SolvencyAir(layout, batch.public), batch.trace, batch_options())))
    print(f"\n{children} batches of 32 users proven in {time.process_time() - cpu:.1f} CPU-s, "
          f"{time.perf_counter() - wall:.1f} s")  # fmt: skip
    shape = ag.NodeShape(1, 0, 0, (children - 1).bit_length(), 0, children)
    cpu, wall = time.process_time(), time.perf_counter()
    node = ag.node_program(shape, ag.ChildSpec.batches(layout, batch_options()), inner_options())
    node.committed  # noqa: B018 — the key, once per program
    print(f"level-1 node program + key: {time.process_time() - cpu:.1f} CPU-s, "
          f"{time.perf_counter() - wall:.1f} s, trace {node.layout.trace_length:,} rows")  # fmt: skip
    prove_and_verify("level-1 node proof", node, digest, batches, statement.weights)
    if not top:
        return
    for hasher in ("poseidon2", "blake3"):  # the same node as a top node: zero knowledge
        options = dataclasses.replace(default_options(zero_knowledge=True, blowup=8), hasher=hasher)
        as_top = ag.node_program(shape, ag.ChildSpec.batches(layout, batch_options()), options)
        as_top.committed  # noqa: B018
        prove_and_verify(f"as a top node (ZK, {hasher})", as_top, digest, batches, statement.weights)


def prove_and_verify(title: str, node: ag.NodeProgram, digest, children, weights) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    public, proof = ag.prove_node(node, digest, 0, len(children), children, weights)
    prove_cpu, prove_wall = time.process_time() - cpu, time.perf_counter() - wall
    data = proof.to_bytes()
    cpu, wall = time.process_time(), time.perf_counter()
    report = ag.verify_node(node, public, data)
    print(f"{title}: prove {prove_cpu:.1f} CPU-s, {prove_wall:.1f} s; {len(data):,} bytes; "
          f"verify {time.process_time() - cpu:.2f} CPU-s, {time.perf_counter() - wall:.2f} s; "
          f"{report.security.conjectured_bits} conjectured bits")  # fmt: skip


_NODE_RUN = """
import json, sys, time
from pathlib import Path

def peak_mb():  # this process's own (VmHWM): ru_maxrss carries over exec the parent's, which proved batches
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    return int(status["VmHWM"].split()[0]) / 1024

from zkpor.liabilities import aggregation as ag, batch as batch_module
from zkpor.liabilities.batch import BatchProof, statement_layout
from zkpor.recursion.proving import inner_options
from zkpor.stark.proof import StarkProof

batch_module.SBOX_DEGREE = int(sys.argv[3])  # the gadget the batches were proven with (the parent's)
batches = [BatchProof.from_bytes(p.read_bytes()) for p in sorted(Path(sys.argv[1]).glob("*.zkp"))]
statement = batches[0].statement
options = inner_options(zero_knowledge=sys.argv[2] == "1")
shape = ag.NodeShape(1, 0, 0, (len(batches) - 1).bit_length(), 0, len(batches))
cpu, wall = time.process_time(), time.perf_counter()
batch_options = StarkProof.from_bytes(batches[0].stark).options
node = ag.node_program(shape, ag.ChildSpec.batches(statement_layout(statement), batch_options), options)
node.committed
out = {"zk": options.zero_knowledge, "rows": node.layout.trace_length,
       "program_cpu": time.process_time() - cpu, "program_wall": time.perf_counter() - wall}
children = [(b.public, b.stark) for b in batches]
cpu, wall = time.process_time(), time.perf_counter()
public, proof = ag.prove_node(node, statement.digest(), 0, len(children), children, statement.weights)
out.update(prove_cpu=time.process_time() - cpu, prove_wall=time.perf_counter() - wall)
data = proof.to_bytes()
cpu, wall = time.process_time(), time.perf_counter()
report = ag.verify_node(node, public, data)
out.update(verify_cpu=time.process_time() - cpu, verify_wall=time.perf_counter() - wall, bytes=len(data),
           bits=report.security.describe(),
           peak_mb=peak_mb())
print(json.dumps(out))
"""


_KEYS_RUN = """
import json, sys, time
from dataclasses import replace
from pathlib import Path

def peak_mb():  # this process's own (VmHWM), as _NODE_RUN
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    return int(status["VmHWM"].split()[0]) / 1024

from zkpor.liabilities import aggregation as ag, round_tree as rt
from zkpor.liabilities.batch import BatchProof
from zkpor.recursion.verifying_key import KeyCache
from zkpor.stark.proof import StarkProof

first = BatchProof.from_bytes(sorted(Path(sys.argv[1]).glob("*.zkp"))[0].read_bytes())
statement = replace(first.statement, batch_count=int(sys.argv[3]))
tree = rt.tree_options(StarkProof.from_bytes(first.stark).options)
plan = ag.plan_tree(statement.batch_count, tree.leaf_arity_log, tree.node_arity_log)
cache = KeyCache(Path(sys.argv[2]))
cpu, wall = time.process_time(), time.perf_counter()
keys = rt.stack_keys(statement, tree, plan, cache, None)
print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "peak_mb": peak_mb(),
                  "derived": len(cache.built), "cached": len(cache.loaded),
                  "nodes": [len(level) for level in plan.levels]}))
"""


def report_keys(proof_dir: Path, batch_counts: list[int]) -> None:
    """The verification keys of the default tree over the batches of `proof_dir` (their statement's
    shape and options) for rounds of each of `batch_counts` batches in turn, one key cache, each in
    its own process: what an auditor's verify derives for each month's round (the keys alone; no
    proof needed). Runs on an older zkpor too (PYTHONPATH=its src)."""
    import json
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        for count in batch_counts:
            command = [sys.executable, "-c", _KEYS_RUN, str(proof_dir / "batches"), cache, str(count)]
            run = subprocess.run(command, capture_output=True, text=True, check=True)
            r = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{count} batches (nodes per level {r['nodes']}): {r['derived']} keys derived, "
                  f"{r['cached']} cached; {r['cpu']:.2f} CPU-s, {r['wall']:.2f} s; "
                  f"peak {r['peak_mb']:.0f} MB")


def report_zk_cost(workdir: Path, batch_size: int, children: int) -> None:
    """A level-1 node over `children` real batches, with and without zero knowledge."""
    import json
    import subprocess
    import sys

    from zkpor.liabilities.round_proof import prove_round
    from zkpor.liabilities.secret import load_secret
    from zkpor.round.generate import generate_round

    batches = workdir / "round" / "proof" / "batches"
    if len(list(batches.glob("*.zkp"))) != children:
        generate_round(workdir / "round", batch_size * children, seed=1, overwrite=True)
        secret, _ = load_secret(workdir / "exchange.secret", create=True)
        cpu, wall = time.process_time(), time.perf_counter()
        prove_round(workdir / "round", secret, batch_options(), batch_size=batch_size, aggregate=False)
        print(f"{children} batches of {batch_size} users proven in {time.process_time() - cpu:.1f} CPU-s, "
              f"{time.perf_counter() - wall:.1f} s")  # fmt: skip
    print(
        f"level-1 node over {children} batches of {batch_size} users × {ASSETS} assets, "
        "inner options (recursion.proving.inner_options):"
    )
    for zk in (False, True):
        zk_flag, degree = "1" if zk else "0", str(batch_module.SBOX_DEGREE)
        command = [sys.executable, "-c", _NODE_RUN, str(batches), zk_flag, degree]
        run = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"  {'zero knowledge' if zk else 'no zero knowledge'}: 2^{r['rows'].bit_length() - 1} rows; "
              f"program + key {r['program_cpu']:.1f} CPU-s, {r['program_wall']:.1f} s; "
              f"prove {r['prove_cpu']:.1f} CPU-s, {r['prove_wall']:.1f} s; {r['bytes']:,} bytes; "
              f"verify {r['verify_cpu']:.2f} CPU-s, {r['verify_wall']:.2f} s; peak {r['peak_mb']:.0f} MB; "
              f"{r['bits']}")  # fmt: skip


def report_phases(proof_dir: Path, level: int, index: int, reps: int, leaf_arity_log: int) -> None:
    """Node `index` of `level` of the round in `proof_dir` proven `reps` times: CPU seconds by phase.
    Runs on an older zkpor too (PYTHONPATH=its src), whose partial nodes had programs of their own
    (the filler slots compiled in), to compare a partial node's cost."""
    from zkpor.liabilities import round_tree as rt
    from zkpor.liabilities.batch import BatchProof
    from zkpor.recursion.air import ProgramPublic, build_trace, cell_values
    from zkpor.recursion.program import as_ext, execute
    from zkpor.stark import phases
    from zkpor.stark.proof import StarkProof
    from zkpor.stark.prover import prove

    batch_files = sorted((proof_dir / "batches").glob("*.zkp"))
    first = BatchProof.from_bytes(batch_files[0].read_bytes())
    statement = first.statement
    tree = dataclasses.replace(rt.tree_options(StarkProof.from_bytes(first.stark).options),
                               leaf_arity_log=leaf_arity_log)  # fmt: skip
    plan = ag.plan_tree(statement.batch_count, tree.leaf_arity_log, tree.node_arity_log)
    shape = plan.levels[level - 1][index]
    cpu = time.process_time()
    node = rt.node_program(statement, tree, shape)
    program_cpu, cpu = time.process_time() - cpu, time.process_time()
    node.committed  # noqa: B018 — the key, once per program
    key_cpu = time.process_time() - cpu
    counts = node.layout.counts
    rows = {"permutations": counts["permutations"], "arithmetic": -(-counts["arithmetic"] // 6),
            "bits": 64 * counts["decompositions"], "witness": -(-counts["private_inputs"] // 8)}  # fmt: skip
    n = node.layout.trace_length
    fill = 100 * max(rows.values()) / n
    print(f"level {level} node {index} of {len(plan.levels[level - 1])}: {shape.real_children} real "
          "children; "
          f"rows {rows} -> 2^{n.bit_length() - 1} ({fill:.1f} % full); options {node.options}")  # fmt: skip
    print(f"programs (this level's and below) {program_cpu:.2f} CPU-s, "
          f"key {key_cpu:.2f} CPU-s (once per level)")  # fmt: skip
    first = shape.first_leaf >> shape.child_height
    if level == 1:
        mine = batch_files[first : first + shape.real_children]
        files = [BatchProof.from_bytes(p.read_bytes()) for p in mine]
    else:
        below = [proof_dir / rt.node_file_name(level - 1, first + k) for k in range(shape.real_children)]
        files = [rt.NodeFile.from_bytes(p.read_bytes()) for p in below]
    children = [(f.public, StarkProof.from_bytes(f.stark)) for f in files]
    count, digest, weights = statement.batch_count, statement.digest(), statement.weights
    if hasattr(ag, "node_inputs"):  # the batch count a public input: one program a level

        def witness() -> list[int]:
            return ag.node_witness(node, children, shape.first_leaf, count)

        inputs = ag.node_inputs(digest, shape.first_leaf, count, weights)
    else:  # an older zkpor: a partial node's filler slots compiled into its program

        def witness() -> list[int]:
            return ag.node_witness(node, children)

        inputs = [*digest, shape.first_leaf, *weights]
    for rep in range(reps):
        steps: dict[str, float] = {}
        cpu = time.process_time()
        private = witness()
        run = execute(node.program, inputs, private)
        trace = build_trace(node.layout, cell_values(node.layout, run.cells))
        steps["witness (children read, run, trace)"] = time.process_time() - cpu
        air = RecursionAir(node.layout, ProgramPublic(tuple(as_ext(v) for v in inputs), tuple(run.outputs)))
        cpu = time.process_time()
        with phases.recording() as times:
            prove(air, trace, node.options, preprocessed=node.committed)
        steps["prove (STARK)"] = time.process_time() - cpu
        print(f"run {rep + 1}: node {sum(steps.values()):.2f} CPU-s = "
              + ", ".join(f"{name} {value:.2f}" for name, value in steps.items()))  # fmt: skip
        for name, (_, phase_cpu) in times.seconds.items():
            print(f"    {name:<24} {phase_cpu:6.2f} CPU-s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--leaf-children", type=int, default=4)
    parser.add_argument("--node-children", type=int, default=8)
    parser.add_argument("--prove", action="store_true")
    parser.add_argument("--prove-children", type=int, default=4)
    parser.add_argument("--top", action="store_true", help="also prove it as a ZK top node, both hashers")
    parser.add_argument(
        "--zk-cost",
        type=Path,
        metavar="DIR",
        help="prove a real level-1 node with and without zero knowledge (batches kept in DIR)",
    )
    parser.add_argument("--no-inner-zk", action="store_true", help="inner nodes without zero knowledge")
    parser.add_argument(
        "--phases", type=Path, metavar="PROOF_DIR", help="prove node 0 of --level again, by phase"
    )
    parser.add_argument(
        "--keys", type=Path, metavar="PROOF_DIR", help="derive the keys for rounds of --batch-counts in turn"
    )
    parser.add_argument("--batch-counts", type=int, nargs="+", default=[5, 6])
    parser.add_argument("--level", type=int, default=1)
    parser.add_argument("--index", type=int, default=0, help="with --phases: which node of the level")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--leaf-arity-log", type=int, default=ag.LEAF_ARITY_LOG)
    parser.add_argument("--blowup", type=int, help="the batch children's blowup (the same conjectured bits)")
    parser.add_argument("--sbox-degree", type=int, choices=(3, 7), help="the batch AIR's Poseidon2 gadget")
    args = parser.parse_args()
    global INNER_ZK, BATCH_BLOWUP
    INNER_ZK = not args.no_inner_zk
    BATCH_BLOWUP = args.blowup
    # The batch AIR's gadget: the rule's for the children's options (batch.sbox_degree) unless forced.
    batch_module.SBOX_DEGREE = args.sbox_degree or batch_module.sbox_degree(batch_options())
    if args.zk_cost:
        report_zk_cost(args.zk_cost, args.batch_size, args.leaf_children)
        return
    if args.keys:
        report_keys(args.keys, args.batch_counts)
        return
    if args.phases:
        report_phases(args.phases, args.level, args.index, args.reps, args.leaf_arity_log)
        return
    report_programs(args.batch_size, args.leaf_children, args.node_children)
    if args.prove:
        report_prove(args.prove_children, args.top)


if __name__ == "__main__":
    main()
