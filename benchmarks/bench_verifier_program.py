"""The compiled STARK verifier (`zkpor.recursion.verifier_program`): its size per child proof.

Compiles the verifier of a liabilities batch proof (the solvency AIR of 8,192 users × 22 assets,
the "conjectured" proof profile with hasher "poseidon2") and prints its operations per unit — the
figures DESIGN.md's cost model predicts (≈ 7,100 permutations, ≈ 19,000 ext multiply-adds per batch
proof) — and the recursion-AIR rows one and eight such children would fill. The whole verifier is
compiled; the solvency AIR's periodic columns evaluated at z (Horner, one mul-add a coefficient)
are shown apart (all short since the range table and the real-node selector are committed columns;
before, those two cost 131,322 of 171,175 mul-adds).

With --prove it also proves a real 32-user batch with Poseidon2 commitments, runs its verifier
program on the proof and proves that run with the recursion AIR (times, size, security).
With --recursion-child K it also compiles the verifier of a recursion proof of 2^K rows (a node
verifying a node: the program of `bench_recursion.py`, its address columns preprocessed).

    .venv/bin/python benchmarks/bench_verifier_program.py [--batch-size 8192] [--prove]
        [--sbox-degree 3|7] [--recursion-child 16 [--blowup 8] [--queries Q] [--grinding 16] [--folding 3]]

`--sbox-degree 7`: the batch AIR with the degree-7 Poseidon2 gadget (130 columns instead of 248)
and its batch options at blowup 8, as `bench_liabilities.py --sbox-degree 7` proves it.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections import Counter

from zkpor.liabilities import batch as batch_module
from zkpor.liabilities.air import BatchPublic, SolvencyAir
from zkpor.liabilities.assignment import choose_batch_shape
from zkpor.liabilities.layout import SolvencyLayout
from zkpor.liabilities.round_proof import conjectured_options
from zkpor.liabilities.round_tree import in_circuit_batch_options
from zkpor.recursion.air import BLOCK, SLOTS, WITNESS
from zkpor.recursion.verifier_program import compile_verifier
from zkpor.stark import composition
from zkpor.stark.params import ProofOptions

ASSETS = 22


def batch_options() -> ProofOptions:
    """The batch proofs' options for the S-box degree in use (blowup 8 for degree 7), Poseidon2."""
    blowup = 8 if batch_module.SBOX_DEGREE == 7 else 4
    return in_circuit_batch_options(conjectured_options(100, blowup))


def solvency_air(batch_size: int) -> SolvencyAir:
    """The batch AIR's shape for 22 assets (the statement's values do not change the program's
    shape, only its public inputs)."""
    bits, weights = (48,) * ASSETS, (10**6,) * ASSETS
    shape = choose_batch_shape(batch_size, bits, batch_size)  # 8-bit limbs below 8,192 users
    layout = SolvencyLayout(bits, shape.limb_bits, batch_size, batch_module.SBOX_DEGREE)
    limbs = layout.limbs_per_value
    zero_totals = tuple(((0,) * limbs, (0,) * limbs) for _ in range(layout.assets))
    return SolvencyAir(layout, BatchPublic((1, 2, 3, 4), 0, (5, 6, 7, 8), zero_totals, weights))


def unit_rows(counts: Counter) -> dict[str, int]:
    """Rows each unit of the recursion AIR needs (`zkpor.recursion.air.plan`'s placement)."""
    return {
        "poseidon2": counts["Permute"],
        "arithmetic": math.ceil((counts["MulAdd"] + counts["Check"]) / SLOTS),
        "bits": BLOCK * counts["Decompose"],
        "witness": math.ceil((counts["PrivateInput"] + counts["InverseHint"]) / WITNESS),
    }


def report_batch(batch_size: int) -> None:
    air = solvency_air(batch_size)
    options = batch_options()
    start = time.perf_counter()
    vp = compile_verifier(air, options)
    elapsed = time.perf_counter() - start
    log_n = air.trace_length.bit_length() - 1
    print(f"child: solvency AIR, {batch_size} users × {ASSETS} assets, trace 2^{log_n}, "
          f"{air.main_width} main + {air.aux_width} aux (ext) columns; options {options}")  # fmt: skip
    print_counts(air, vp, elapsed)


def report_recursion_child(log_rows: int, overrides: dict) -> None:
    from bench_recursion import verifier_shaped
    from zkpor.field.extension import Ext
    from zkpor.recursion.air import ProgramPublic, RecursionAir, plan
    from zkpor.recursion.proving import commit_program
    from zkpor.stark.params import default_options

    program = verifier_shaped(log_rows)[0]
    layout = plan(program)
    public = ProgramPublic((Ext(1, 0),), tuple(Ext(0, 0) for _ in program.public_outputs))
    air = RecursionAir(layout, public)
    blowup = overrides.pop("blowup", None) or 8
    options = dataclasses.replace(default_options(zero_knowledge=False, blowup=blowup), hasher="poseidon2")
    options = dataclasses.replace(options, **{k: v for k, v in overrides.items() if v is not None})
    start = time.perf_counter()
    key = commit_program(program, options, layout).key
    key_s = time.perf_counter() - start
    start = time.perf_counter()
    vp = compile_verifier(air, options, key=key)
    elapsed = time.perf_counter() - start
    print(f"\nchild: recursion AIR, trace 2^{log_rows}, {air.main_width} main + {air.aux_width} aux (ext) + "
          f"{air.preprocessed_width} preprocessed columns (key built in {key_s:.1f} s); options {options}")
    print_counts(air, vp, elapsed)


def print_counts(air, vp, elapsed: float) -> None:
    counts = Counter(type(i).__name__ for i in vp.program.instructions)
    print(f"compiled in {elapsed:.1f} s: {len(vp.program.instructions):,} instructions, "
          f"{vp.program.cells:,} cells")  # fmt: skip
    print(f"  permutations      {counts['Permute']:>9,}   (DESIGN.md model: ~7,100)")
    horner = sum(c.shape[0] - 1 for c in composition.periodic_coefficients(air))
    print(f"  ext mul-adds      {counts['MulAdd']:>9,}   (model: ~19,000 with the OOD check)")
    print(
        f"    of which the periodic columns at z (Horner): {horner:,}; the rest {counts['MulAdd'] - horner:,}"
    )
    print(f"  checks            {counts['Check']:>9,}")
    print(f"  decompositions    {counts['Decompose']:>9,}   ({BLOCK * counts['Decompose']:,} bit rows)")
    print(f"  private inputs    {counts['PrivateInput']:>9,}   + {counts['InverseHint']:,} inverse hints")
    for k in (1, 8):
        rows = {unit: k * r for unit, r in unit_rows(counts).items()}
        busiest = max(rows.values())
        n = 1 << max(6, (busiest - 1).bit_length())
        fill = 100 * busiest / n
        print(f"  {k} child(ren): rows per unit {rows} -> 2^{n.bit_length() - 1} ({fill:.0f} % full)")


def report_prove() -> None:
    """A real 32-user solvency batch proof (Poseidon2, the profile's query count), its verifier
    program run on it, and the recursion proof of that run."""
    import numpy as np

    from zkpor.liabilities.batch import statement_layout
    from zkpor.liabilities.statement import Statement, StatementAsset
    from zkpor.liabilities.witness import build_batch
    from zkpor.recursion.proving import prove_program, verify_program
    from zkpor.recursion.verifier_program import replay, witness
    from zkpor.stark.prover import prove

    rng = np.random.default_rng(7)
    assets = tuple(StatementAsset(f"A{i}", 8, 48, str(int(rng.integers(1, 2**38)))) for i in range(ASSETS))
    statement = Statement("2026-11", "2026-11-30T16:00:00Z", 0, assets, limb_bits=8, batch_size=32,
                          batch_count=1)  # fmt: skip
    layout = statement_layout(statement)
    ids = rng.integers(0, 2**63, (32, 4)).astype(np.uint64)
    equity = rng.integers(0, 2**40, (32, ASSETS)).astype(np.uint64)
    debt = np.zeros_like(equity)
    batch = build_batch(layout, statement.digest(), 0, ids, equity, debt, weights=statement.weights)
    air = SolvencyAir(layout, batch.public)
    child_options = batch_options()
    t0 = time.perf_counter()
    proof = prove(air, batch.trace, child_options)
    t1 = time.perf_counter()
    vp = compile_verifier(air, child_options, draws=len(replay(air, proof).positions))
    inputs = witness(vp, air, proof)
    t2 = time.perf_counter()
    recursion_options = ProofOptions(blowup=8, num_queries=34, grinding_bits=0, fri_folding_log=3,
                                     fri_final_degree=16, zero_knowledge=False)  # fmt: skip
    public, recursion_proof = prove_program(vp.program, air.public_inputs(), inputs, recursion_options)
    t3 = time.perf_counter()
    report = verify_program(vp.program, public, recursion_proof.to_bytes(), min_security_bits=0)
    t4 = time.perf_counter()
    kinds = Counter(type(i).__name__ for i in vp.program.instructions)
    print(f"\n32-user batch child (trace {air.trace_length} rows), proven in {t1 - t0:.1f} s: {dict(kinds)}")
    print(f"  compile + witness {t2 - t1:.1f} s, recursion prove (run + trace + STARK) {t3 - t2:.1f} s, "
          f"verify {t4 - t3:.2f} s; recursion trace 2^{report.trace_length.bit_length() - 1}, "
          f"proof {report.proof_bytes / 1024:.0f} KB, {report.security.conjectured_bits} bits")  # fmt: skip


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--prove", action="store_true")
    parser.add_argument("--recursion-child", type=int, metavar="K")
    parser.add_argument("--blowup", type=int, help="the recursion child's options (default_options at it)")
    parser.add_argument("--queries", type=int)
    parser.add_argument("--grinding", type=int)
    parser.add_argument("--folding", type=int, help="log2 of the FRI folding factor")
    parser.add_argument("--sbox-degree", type=int, choices=(3, 7), default=3)
    args = parser.parse_args()
    batch_module.SBOX_DEGREE = args.sbox_degree
    report_batch(args.batch_size)
    if args.recursion_child:
        overrides = {"blowup": args.blowup, "num_queries": args.queries, "grinding_bits": args.grinding,
                     "fri_folding_log": args.folding}  # fmt: skip
        report_recursion_child(args.recursion_child, overrides)
    if args.prove:
        report_prove()


if __name__ == "__main__":
    main()
