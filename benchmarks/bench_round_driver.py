"""The round's work besides the batch proofs, step by step, in CPU seconds: what `prove_round` does
around each proof (load the users file, assign users to batches, each batch's members and witness,
record its file and store rows), without the proofs.

    .venv/bin/python benchmarks/bench_round_driver.py [--log-users 16] [--workdir DIR] [--batches K]

Uses the round `bench_pipeline` generates (22 assets, seed 7; generated here if missing) and the
functions `prove_round` calls, in the same order: `load_round_inputs` (spilling balances to the
private folder, as `prove` does), `plan_batches`, then per batch `batch_members`, `batch_witness`
and `_record_batch` into a fresh inclusion store in a temporary directory. The proof is not made:
the batch file recorded is the batch's real header and public values followed by 220,000 random
bytes (a batch proof's size), so writing, hashing and parsing it cost what a real one does.
Batch 0 is a warm-up (kernels loaded from numba's cache) and not counted; the figures are CPU
seconds per batch of batches 1 … K (`--batches`, default: all), and for the whole round's load and
assignment. `PYTHONPATH=OTHER/src` measures another checkout with the same venv.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-users", type=int, default=16)
    parser.add_argument("--workdir", type=Path, default=Path("bench-liabilities"))
    parser.add_argument("--batches", type=int, default=0, help="batches measured (default: all)")
    args = parser.parse_args()

    from zkpor.liabilities import round_proof
    from zkpor.liabilities.assignment import batch_members, choose_batch_shape, plan_batches
    from zkpor.liabilities.batch import BatchProof, batch_witness, statement_layout
    from zkpor.liabilities.distributed import no_huge_pages
    from zkpor.liabilities.round_proof import default_proof_options
    from zkpor.liabilities.secret import load_secret
    from zkpor.liabilities.statement import Statement
    from zkpor.liabilities.store import STORE_NAME, InclusionStore
    from zkpor.liabilities.witness import release_trace
    from zkpor.round.directory import load_round_inputs
    from zkpor.round.generate import generate_round

    directory = args.workdir / f"round-2^{args.log_users}"
    if not (directory / "users.csv").is_file():
        generate_round(directory, 1 << args.log_users, 7)
    secret, _ = load_secret(directory / "exchange.secret", create=True)

    # numpy's huge pages off, as `prove_round` has them (`distributed.no_huge_pages`)
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch, no_huge_pages:
        work = Path(scratch)
        (work / "batches").mkdir()
        start = time.process_time()
        inputs = load_round_inputs(directory, spill_dir=work)
        load = time.process_time() - start
        config, users = inputs.config, inputs.users
        shape = choose_batch_shape(len(users), tuple(a.bits for a in config.assets))
        statement = Statement.from_config(config, shape.limb_bits, shape.batch_size, shape.batch_count)
        options = default_proof_options()  # the published batch proofs' (the witness's shape)
        layout = statement_layout(statement, options)
        start = time.process_time()
        plan = plan_batches(secret, config.round_id, users, shape)
        assign = time.process_time() - start

        steps: dict[str, list[float]] = {"members": [], "witness": [], "record": []}
        count = min(shape.batch_count, 1 + args.batches) if args.batches else shape.batch_count
        with InclusionStore(work / STORE_NAME, create=True) as store:
            for index in range(count):
                times = []
                start = time.process_time()
                members = batch_members(plan, index, secret, config.round_id, users)
                times.append(time.process_time())
                balances = members.id_hashes, members.equity, members.debt
                witness = batch_witness(statement, index, *balances, options)
                times.append(time.process_time())
                stand_in = BatchProof(statement, witness.public, os.urandom(220_000)).to_bytes()
                payload = {"index": index, "proof": stand_in, "nodes": np.asarray(witness.nodes)}
                result = round_proof.proven_batch(payload, statement)
                rows = round_proof._store_rows(members)
                round_proof._record_batch(store, work, result, rows, layout, len(config.assets))
                times.append(time.process_time())
                release_trace(witness)  # as `distributed.prepare_payload` does after the proof
                if index > 0:  # batch 0 loads the kernels
                    for name, begin, end in zip(steps, [start, *times], times, strict=False):
                        steps[name].append(end - begin)

    print(f"2^{args.log_users} users, {shape.batch_count} batches of {shape.batch_size}; "
          f"CPU seconds (load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"  load inputs (whole round)      {load:7.3f}")
    print(f"  assign users (whole round)     {assign:7.3f}")
    for name, values in steps.items():
        if values:
            print(f"  {name:8s} per batch (median) {statistics.median(values):7.3f}   "
                  f"min {min(values):.3f} max {max(values):.3f} over {len(values)}")  # fmt: skip
    per_batch = sum(statistics.median(v) for v in steps.values() if v)
    print(f"  per batch, with load and assignment shared: "
          f"{per_batch + (load + assign) / shape.batch_count:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
