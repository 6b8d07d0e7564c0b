"""Proof of liabilities benchmark: a generated 22-asset round proven, verified, and checked per customer.

    .venv/bin/python benchmarks/bench_liabilities.py [--log-users 16 20] [--workdir DIR]
        [--batch-size N] [--max-batches K] [--resume] [--jobs J] [--profile conjectured|proven]
        [--hasher blake3|poseidon2] [--breakdown]
        [--blowup B] [--queries Q] [--grinding G] [--fri-folding F] [--fri-final-degree D]
        [--sbox-degree 3|7]

For each size: `zkpor generate`-style users (seed 7), then, each in a fresh process so that its peak
memory is its own, `prove_round` with a proof profile's options (`zkpor prove --profile`; default
"conjectured": zero knowledge, 100 conjectured bits; "proven": ≥ 100 proven bits) and
`verify_round` (the auditor). Then inclusion proofs for 200 users: their size, the pure-Python
`verify_inclusion` time, and one `python -m zkpor.liabilities.inclusion` run with numpy and numba
made unimportable (the customer's whole experience, interpreter start included).

By default the round is proven as `zkpor prove` does: batch proofs folded into the round proof (the
tree chooses the batches' hasher: Poseidon2, or BLAKE3 for a round of one batch, whose batch proof is
the round proof). `--hasher poseidon2|blake3` proves the batch proofs only (`zkpor prove
--no-aggregate`) with that hasher: `--hasher poseidon2` is the recursion-friendly configuration
(Poseidon2 vector commitments and transcript), to compare with `--hasher blake3`. The prove phase
prints where the time went, phase by phase (wall and CPU seconds per batch: CPU is the steadier
figure on a shared machine).

`--blowup B` proves with the conjectured profile's rule at blowup B (fewest queries for 100 bits,
grinding traded for queries down to the 80-bit floor); `--queries`, `--grinding`, `--fri-folding`
(the factor: 2, 4, 8 or 16) and `--fri-final-degree` then override single options, for a Pareto table
(nothing stops a setting below 100 bits: the security line says what it gives).

`--sbox-degree 7` proves (and verifies) with the solvency AIR's degree-7 Poseidon2 gadget (130
columns instead of 248, 13 quotient chunks instead of 5: blowup 8, 27 queries + 20 grinding bits,
unless `--blowup` says otherwise), to compare with the default degree 3
(`liabilities.batch.SBOX_DEGREE`).

`--breakdown` prints where the bytes of the first batch proof go (opened rows, salts and Merkle
siblings of every commitment, FRI layers, out-of-domain values, final polynomial).

`--jobs J` proves J batches (and tree nodes) at once in the process (`InProcessRunner`, threads
sharing the cores); the default proves one after another (docs/performance.md says why).

`--max-batches K` stops proving after K batches and prints projections for the whole round from the
batches measured, marked "projected"; `--resume` keeps the batches an earlier run left (otherwise
every run starts afresh).
Results also go to WORKDIR/bench-2^N-PROFILE[-poseidon2]-bBqQgGfFdD[-batchS][-sbox7].json (the
options).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from peak_memory import peak_rss_mb
from zkpor.stark.params import ProofOptions

NO_NUMPY = (
    "import sys, runpy; sys.modules['numpy'] = None; sys.modules['numba'] = None; "
    "sys.argv = ['inclusion', *sys.argv[1:]]; "
    "runpy.run_module('zkpor.liabilities.inclusion', run_name='__main__')"
)



class _EnoughError(Exception):
    """Raised from the progress callback to stop after --max-batches (the batches done are kept)."""


def phase_prove(
    directory: Path,
    batch_size: int | None,
    max_batches: int | None,
    resume: bool,
    options_json: str,
    jobs: int | None = None,
    aggregate: bool = True,
) -> dict:
    from zkpor.liabilities.distributed import InProcessRunner
    from zkpor.liabilities.round_proof import prove_round
    from zkpor.liabilities.secret import load_secret
    from zkpor.liabilities.store import InclusionStore
    from zkpor.stark import phases

    secret, _ = load_secret(directory / "exchange.secret", create=True)
    stamps: list[tuple[int, float]] = []
    totals: list[int] = []

    def progress(done: int, total: int) -> None:
        stamps.append((done, time.perf_counter()))
        totals.append(total)
        if max_batches is not None and done >= max_batches and done < total:
            raise _EnoughError

    start, start_cpu = time.perf_counter(), time.process_time()
    complete = True
    with phases.recording() as times:
        try:
            report = prove_round(
                directory,
                secret,
                ProofOptions(**json.loads(options_json)),
                batch_size=batch_size,
                fresh=not resume,
                progress=progress,
                runner=InProcessRunner() if jobs is None else InProcessRunner(jobs),
                aggregate=aggregate,
            )
        except _EnoughError:
            complete = False
    end, cpu = time.perf_counter(), time.process_time() - start_cpu
    first_done, first_time = stamps[0]  # progress(already done, total) comes after load + plan
    batch_seconds = [b - a for (_, a), (_, b) in zip(stamps, stamps[1:], strict=False)]
    global_json = directory / "proof" / "global.json"
    g = json.loads(global_json.read_text()) if complete else None
    sizes = [p.stat().st_size for p in sorted((directory / "proof" / "batches").glob("*.zkp"))]
    with InclusionStore(directory / "private" / "inclusion.sqlite", create=False) as store:
        batch_size_used = int(store.meta()["batch size"])
    result = {
        "complete": complete,
        "batch_size": batch_size_used,
        "batch_count": totals[-1],
        "setup_s": first_time - start,  # load + check the users file, shuffle, open the store
        "batches_proven": len(batch_seconds),
        "batches_reused": first_done,
        "batch_s_mean": statistics.mean(batch_seconds) if batch_seconds else None,
        "batch_s_min": min(batch_seconds) if batch_seconds else None,
        "batch_s_max": max(batch_seconds) if batch_seconds else None,
        "prove_s": end - start,
        "prove_cpu_s": cpu,
        "phases": times.seconds,  # name → [wall, cpu] seconds, summed over the batches proven
        "batch_bytes_mean": statistics.mean(sizes),
        "batch_bytes_max": max(sizes),
        "peak_rss_mb": peak_rss_mb(),
    }
    if complete:
        result.update(
            limb_bits=g["limb_bits"],
            proof_bytes=report.summary["proof_bytes"],
            security=report.summary["security"],
            finish_s=end - stamps[-1][1],  # top tree, global.json, summary.json
        )
    return result


def phase_verify(directory: Path) -> dict:
    from zkpor.liabilities.round_proof import verify_round

    start = time.perf_counter()
    result = verify_round(directory)
    return {
        "verify_s": time.perf_counter() - start,
        "security": result.security.describe(),
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_inclusion(directory: Path, samples: int = 200) -> dict:
    from zkpor.liabilities.inclusion import InclusionProof, load_global, verify_inclusion
    from zkpor.liabilities.round_proof import export_user

    uids = []
    with (directory / "users.csv").open() as stream:
        stream.readline()
        for _ in range(samples):
            uids.append(stream.readline().split(",", 1)[0])
    g = load_global(directory / "proof" / "global.json")
    start = time.perf_counter()
    files = [export_user(directory, uid).to_json() for uid in uids]
    export_ms = (time.perf_counter() - start) * 1000 / len(uids)
    start = time.perf_counter()
    for data in files:
        verify_inclusion(InclusionProof.from_json(data, "proof.json"), g)
    verify_ms = (time.perf_counter() - start) * 1000 / len(files)
    largest = max(files, key=len)
    sample = directory / "bench-inclusion.json"
    sample.write_bytes(largest)
    start = time.perf_counter()
    customer = subprocess.run(
        [sys.executable, "-c", NO_NUMPY, str(sample), "--global", str(directory / "proof" / "global.json")],
        capture_output=True,
        text=True,
    )
    cli_ms = (time.perf_counter() - start) * 1000
    if customer.returncode != 0:
        raise SystemExit(f"verify-user without numpy failed: {customer.stderr}")
    return {
        "inclusion_bytes_mean": statistics.mean(len(f) for f in files),
        "inclusion_bytes_max": len(largest),
        "export_ms": export_ms,
        "verify_user_ms": verify_ms,
        "verify_user_no_numpy_process_ms": cli_ms,
    }


def print_breakdown(directory: Path) -> None:
    """Where the bytes of batch 0's STARK proof go, part by part (`zkpor.stark.proof_size`)."""
    from zkpor.liabilities.batch import BatchProof
    from zkpor.stark.proof import StarkProof
    from zkpor.stark.proof_size import format_breakdown

    path = directory / "proof" / "batches" / "00000.zkp"
    data = path.read_bytes()
    stark = StarkProof.from_bytes(BatchProof.from_bytes(data).stark)
    o = stark.options
    print(
        f"\nbytes of {path.name} ({len(data):,} B; statement and public values "
        f"{len(data) - len(stark.to_bytes()):,} B): blowup {o.blowup}, {o.num_queries} queries, "
        f"{o.grinding_bits} grinding bits, FRI folding {1 << o.fri_folding_log}, final degree "
        f"< {len(stark.fri_final)}, trace 2^{stark.log_trace_length} × {stark.main_width} main + "
        f"{stark.aux_width} aux (ext) columns, {stark.num_quotient_chunks} quotient chunks\n"
        + format_breakdown(stark),
        flush=True,
    )


def child(phase: str, *args: str, sbox_degree: int | None) -> dict:
    forced = ["--sbox-degree", str(sbox_degree)] if sbox_degree is not None else []
    command = [sys.executable, __file__, "--phase", phase, *forced, *args]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def bench(
    log_users: int,
    workdir: Path,
    batch_size: int | None,
    max_batches: int | None,
    resume: bool,
    profile: str,
    hasher: str | None,
    options: ProofOptions,
    sbox_degree: int | None = None,
    jobs: int | None = None,
) -> dict:
    from zkpor.round.generate import generate_round

    users = 1 << log_users
    directory = workdir / f"round-2^{log_users}"
    if not (directory / "users.csv").is_file():
        shutil.rmtree(directory, ignore_errors=True)
        start = time.perf_counter()
        generate_round(directory, users, 7)
        print(f"2^{log_users}: generated {users:,} users in {time.perf_counter() - start:.1f} s", flush=True)
    what = f"{hasher}, batch proofs only" if hasher else "aggregated"
    print(f"2^{log_users}: proving (batch size {batch_size or 'auto'}, {profile}, {what})…", flush=True)
    sizes = (str(batch_size or 0), str(max_batches or 0))
    arguments = (str(directory), *sizes, str(int(resume)), json.dumps(asdict(options)), str(jobs or 0),
                 str(int(hasher is None)))  # fmt: skip
    prove = child("prove", *arguments, sbox_degree=sbox_degree)
    if sbox_degree is None:  # the rule's (batch.sbox_degree): the tree's batches are degree 3
        from zkpor.liabilities.batch import sbox_degree as degree_for

        sbox_degree = degree_for(options) if hasher else 3
    result: dict = {"users": users, "profile": profile, "hasher": hasher, "prove": prove,
                    "sbox_degree": sbox_degree}  # fmt: skip
    if prove["complete"]:
        result["verify"] = child("verify", str(directory), sbox_degree=sbox_degree)
        result["inclusion"] = child("inclusion", str(directory), sbox_degree=sbox_degree)
    suffix = f"-{hasher}" if hasher else ""
    o = options
    suffix += f"-b{o.blowup}q{o.num_queries}g{o.grinding_bits}f{1 << o.fri_folding_log}d{o.fri_final_degree}"
    suffix += f"-batch{batch_size}" if batch_size else ""
    suffix += f"-sbox{sbox_degree}" if sbox_degree != 3 else ""
    (workdir / f"bench-2^{log_users}-{profile}{suffix}.json").write_text(json.dumps(result, indent=1))
    return result


def report(result: dict) -> None:
    users, p = result["users"], result["prove"]
    lines = [
        f"=== {users:,} users (2^{users.bit_length() - 1}), 22 assets, zero knowledge, "
        f"{result['profile']} profile, "
        + (f"{result['hasher']} commitments, batch proofs only, " if result.get("hasher") else "aggregated, ")
        + f"degree-{result['sbox_degree']} Poseidon2 gadget ==="
    ]
    count, size = p["batch_count"], p["batch_size"]
    per_batch = p["batch_s_mean"]
    lines.append(
        f"batches       {count} of {size} users; {p['batches_proven']} proven here, {per_batch:.1f} s each "
        f"(min {p['batch_s_min']:.1f}, max {p['batch_s_max']:.1f}); setup {p['setup_s']:.1f} s"
    )
    if p["complete"]:
        v, inc = result["verify"], result["inclusion"]
        lines += [
            f"prove         {p['prove_s']:.1f} s for the whole round → {users / p['prove_s']:,.0f} users/s "
            f"({size / per_batch:,.0f} users/s while proving a batch); {p['limb_bits']}-bit limbs",
            f"proof bytes   {p['batch_bytes_mean']:,.0f} per batch (max {p['batch_bytes_max']:,}), "
            f"{p['proof_bytes']:,} in total",
            f"security      {v['security']}",
            f"peak memory   prove {p['peak_rss_mb']:,.0f} MB, verify {v['peak_rss_mb']:,.0f} MB",
            f"auditor       verify {v['verify_s']:.1f} s",
            f"inclusion     {inc['inclusion_bytes_mean']:,.0f} bytes mean, "
            f"{inc['inclusion_bytes_max']:,} max; export {inc['export_ms']:.1f} ms",
            f"verify-user   {inc['verify_user_ms']:.1f} ms in-process; "
            f"{inc['verify_user_no_numpy_process_ms']:.0f} ms as a fresh process without numpy",
        ]
    else:
        whole = p["setup_s"] + count * per_batch
        lines += [
            f"measured      {size / per_batch:,.0f} users/s while proving; "
            f"peak memory {p['peak_rss_mb']:,.0f} MB",
            f"PROJECTED     whole round {whole / 60:.0f} min → {users / whole:,.0f} users/s; "
            f"{count * p['batch_bytes_mean'] / 1e6:,.1f} MB of proofs "
            f"({p['batch_bytes_mean']:,.0f} per batch)",
        ]
    lines += phase_lines(p)
    print("\n" + "\n".join(lines), flush=True)


def phase_lines(p: dict) -> list[str]:
    """Where the proving time went: each phase's wall and CPU seconds per batch, and its share of
    the CPU time (the steadier figure on a shared machine)."""
    batches = max(1, p["batches_proven"])
    cpu_total = sum(cpu for _, cpu in p["phases"].values()) or 1.0
    lines = [
        f"phases        per batch, of {p['batch_s_mean']:.2f} s wall; whole process "
        f"{p['prove_cpu_s']:.1f} s CPU over {p['prove_s']:.1f} s wall "
        f"({p['prove_cpu_s'] / p['prove_s']:.2f} cores used)"
    ]
    for name, (wall, cpu) in sorted(p["phases"].items(), key=lambda item: -item[1][1]):
        share = 100 * cpu / cpu_total
        lines.append(f"  {name:22s} {wall / batches:6.2f} s wall {cpu / batches:6.2f} s CPU  {share:5.1f} %")
    return lines


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    """The proof options a sweep varies (read back by `chosen_options`; bench_batch.py shares them)."""
    parser.add_argument("--profile", choices=("conjectured", "proven"), default="conjectured")
    parser.add_argument("--blowup", type=int, default=None)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--grinding", type=int, default=None)
    parser.add_argument("--fri-folding", type=int, choices=(2, 4, 8, 16), default=None)
    parser.add_argument("--fri-final-degree", type=int, default=None)
    parser.add_argument("--sbox-degree", type=int, choices=(3, 7), default=None)


def chosen_options(args: argparse.Namespace) -> ProofOptions:
    """The profile's options, or the conjectured rule at --blowup, with the single overrides."""
    from zkpor.liabilities.round_proof import conjectured_options, profile_options
    from zkpor.liabilities.round_tree import in_circuit_batch_options

    # the degree-7 gadget needs blowup >= 8; degree 3 (forced) runs at 4, the tree's blowup
    blowup = args.blowup or {7: 8, 3: 4}.get(args.sbox_degree)
    options = profile_options(args.profile) if blowup is None else conjectured_options(100, blowup)
    if args.hasher == "poseidon2":  # as the round's tree proves its batches (fewer grinding bits)
        options = in_circuit_batch_options(options)
    overrides = {
        "hasher": args.hasher,
        "num_queries": args.queries,
        "grinding_bits": args.grinding,
        "fri_folding_log": args.fri_folding.bit_length() - 1 if args.fri_folding else None,
        "fri_final_degree": args.fri_final_degree,
    }
    return replace(options, **{k: v for k, v in overrides.items() if v is not None})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-users", type=int, nargs="+", default=[16])
    parser.add_argument("--workdir", type=Path, default=Path("bench-liabilities"))
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--max-batches", type=int, default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--jobs", type=int, default=None, help="batches proven at once (default 1)")
    parser.add_argument("--hasher", choices=("blake3", "poseidon2"), default=None,
                        help="batch proofs only (no round proof), with this hasher")  # fmt: skip
    parser.add_argument("--breakdown", action="store_true", help="bytes of the first batch proof, by part")
    add_option_arguments(parser)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.phase:  # a child process: one phase, its result as the last line of output
        from zkpor.liabilities import batch

        batch.SBOX_DEGREE = args.sbox_degree
        if args.phase == "prove":
            directory, batch_size, max_batches = Path(rest[0]), int(rest[1]) or None, int(rest[2]) or None
            jobs, aggregate = int(rest[5]) or None, rest[6] == "1"
            result = phase_prove(directory, batch_size, max_batches, rest[3] == "1", rest[4], jobs, aggregate)
        elif args.phase == "verify":
            result = phase_verify(Path(rest[0]))
        else:
            result = phase_inclusion(Path(rest[0]))
        print(json.dumps(result))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    options = chosen_options(args)
    for log_users in args.log_users:
        sizes = (args.batch_size, args.max_batches)
        shape = (args.profile, args.hasher, options, args.sbox_degree, args.jobs)
        report(bench(log_users, args.workdir, *sizes, args.resume, *shape))
        if args.breakdown:
            print_breakdown(args.workdir / f"round-2^{log_users}")


if __name__ == "__main__":
    main()
