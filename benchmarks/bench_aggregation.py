"""Aggregation benchmark: one generated 22-asset round proven without and with the round proof.

    .venv/bin/python benchmarks/bench_aggregation.py [--users 131072] [--batch-size 8192]
        [--workdir DIR] [--skip-baseline] [--next-round]
    .venv/bin/python benchmarks/bench_aggregation.py --verify-only PUBLIC_DIR

Prints, for the same round (same users, same secret), each run in its own process:

- without aggregation (BLAKE3 batch proofs, today's default before the round proof): wall, CPU;
- with aggregation (the tree's nodes proven among the batches, each once its children are): the
  whole round, then per tree level the nodes, their trace rows, the wall and CPU seconds of its
  node jobs (children read, proof; summed over the level's nodes) and node proof bytes, the rest
  being the batches (Poseidon2, zero knowledge) and the driver; round.zkp's size;
- `zkpor verify`-equivalent of the round proof alone (global.json, summary.json, round.zkp): wall
  and peak memory with an empty key cache (keys derived) and with the cache filled (`--verify-only`:
  only this, on an existing round's public folder), the proof's check and its keys (derived or
  read from the cache) apart;
- with `--next-round`: the next month's round of the same shape (the same users, another round id,
  every price doubled) proven with aggregation and verified with the key cache the first round's
  verification filled (the keys do not depend on the prices: all hits, nothing derived).

The issue's targets: round.zkp <= 600 KB at 2^17 and 2^20 users, verify <= 1 s and <= 500 MB,
proving with aggregation <= 2x the time without. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Each measured run's own peak: VmHWM, not ru_maxrss, which Linux carries over exec from the parent
# (this script, whose peak after generating 2^20 users was 650 MB: it read as the verifier's).
_PEAK = """
def peak_mb():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    return int(status["VmHWM"].split()[0]) / 1024
"""

_PROVE = _PEAK + """
import json, sys, time
from pathlib import Path
from zkpor.liabilities.round_proof import prove_round
from zkpor.liabilities.secret import load_secret

directory, batch_size, aggregate = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
secret, _ = load_secret(directory / "exchange.secret", create=True)
start, cpu = time.perf_counter(), time.process_time()
report = prove_round(directory, secret, batch_size=batch_size, aggregate=aggregate)
out = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
       "peak_mb": peak_mb(),
       "root": report.summary["root"], "batches": report.summary["batch_count"]}
if report.tree is not None:
    t = report.tree
    nodes = sorted((directory / "proof" / "nodes").glob("*.zkp"))
    out["levels"] = [
        {"level": level, "nodes": len(t.trace_lengths[level]) and
                                  len([p for p in nodes if p.name.startswith(f"L{level}-")]),
         "rows": t.trace_lengths[level], "seconds": t.seconds_per_level[level - 1],
         "cpu": t.cpu_seconds_per_level[level - 1],
         "bytes": [p.stat().st_size for p in nodes if p.name.startswith(f"L{level}-")]}
        for level in sorted(t.trace_lengths)
    ]
    out["round_zkp"] = (directory / "proof" / "round.zkp").stat().st_size
    out["tree_seconds"] = sum(t.seconds_per_level)
    out["tree_cpu"] = sum(t.cpu_seconds_per_level)
print(json.dumps(out))
"""

_VERIFY = _PEAK + """
import time
started, cpu_started = time.perf_counter(), time.process_time()
import json, sys
from pathlib import Path
from zkpor.liabilities.round_proof import verify_round
from zkpor.stark.phases import recording
imported, imported_cpu, imported_peak = time.perf_counter(), time.process_time(), peak_mb()
with recording() as phases:
    result = verify_round(Path(sys.argv[1]))
rp = result.round_proof
print(json.dumps({"seconds": time.perf_counter() - imported, "round_proof_seconds": rp.seconds,
                  "keys_seconds": rp.keys_seconds,
                  "process_seconds": time.perf_counter() - started,
                  "import_seconds": imported - started, "import_cpu": imported_cpu - cpu_started,
                  "cpu": time.process_time() - cpu_started,
                  "keys_built": rp.keys_built,
                  "peak_mb": peak_mb(), "import_peak_mb": imported_peak,
                  "phases": phases.seconds,
                  "security": {k: v.describe() for k, v in rp.security.items()}}))
"""

# Each level's proofs checked natively, their keys from the cache `_VERIFY` filled: a batch proof
# (the leaves; in the tree they are checked in-circuit by level 1) and the first node of every
# level (the top is round.zkp), the median of 3 runs after a first one that loads the kernels.
_VERIFY_LEVELS = _PEAK + """
import json, statistics, sys, time
from pathlib import Path
from zkpor.liabilities import aggregation, round_tree
from zkpor.liabilities.batch import BatchProof, verify_batch
from zkpor.liabilities.published import GlobalProof
from zkpor.recursion.verifying_key import KeyCache, default_cache_dir, verify_with_key

proof_dir = Path(sys.argv[1])
g = GlobalProof.from_json((proof_dir / "global.json").read_bytes(), "global.json")
rp = round_tree.read_round_proof((proof_dir / "round.zkp").read_bytes(), "round.zkp", g.batch_count)
plan = aggregation.plan_tree(g.batch_count, rp.tree.leaf_arity_log, rp.tree.node_arity_log)
keys = round_tree.stack_keys(g.statement, rp.tree, plan, KeyCache(default_cache_dir()), None)

def timed(check):
    check()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        check()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)

batch_path = proof_dir / "batches" / "00000.zkp"
levels = []
if batch_path.is_file():
    batch = BatchProof.from_bytes(batch_path.read_bytes())
    seconds = timed(lambda: verify_batch(g.statement, batch, expected_index=0, min_security_bits=0))
    levels.append({"level": "batch", "seconds": seconds, "bytes": batch_path.stat().st_size})
for level in range(1, len(plan.levels) + 1):
    if level == len(plan.levels):
        path, public, stark = proof_dir / "round.zkp", rp.public, rp.stark
    else:
        path = proof_dir / round_tree.node_file_name(level, 0)
        if not path.is_file():
            continue
        node = round_tree.NodeFile.from_bytes(path.read_bytes(), str(path))
        public, stark = node.public, node.stark
    key = keys.by_level[level][0]
    seconds = timed(lambda: verify_with_key(key, public.program_public(), stark, min_security_bits=0))
    levels.append({"level": level, "seconds": seconds, "bytes": path.stat().st_size})
print(json.dumps({"levels": levels, "peak_mb": peak_mb()}))
"""


def _run(code: str, *args: str, env: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=131072)
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--workdir", type=Path, default=Path("bench-aggregation"))
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--verify-only", type=Path, metavar="PUBLIC_DIR",
                        help="only measure verify of an existing round's public files")  # fmt: skip
    parser.add_argument("--next-round", action="store_true",
                        help="also prove the next round (other prices), verify it, keys cached")  # fmt: skip
    args = parser.parse_args()
    if args.verify_only:
        _measure_verify(args.verify_only)
        return
    import os

    from zkpor.round.generate import generate_round

    shutil.rmtree(args.workdir, ignore_errors=True)
    source = args.workdir / "round"
    generate_round(source, args.users, 7)
    (source / "exchange.secret").write_bytes(os.urandom(32))
    (source / "exchange.secret").chmod(0o600)

    if not args.skip_baseline:
        plain = args.workdir / "plain"
        shutil.copytree(source, plain)
        base = _run(_PROVE, str(plain), str(args.batch_size), "0")
        print(f"without aggregation: {base['batches']} batches, {base['seconds']:.1f} s wall, "
              f"{base['cpu']:.1f} CPU-s, peak {base['peak_mb']:.0f} MB")  # fmt: skip
        shutil.rmtree(plain)
    folded = args.workdir / "aggregated"
    shutil.copytree(source, folded)
    agg = _run(_PROVE, str(folded), str(args.batch_size), "1")
    rest = agg["cpu"] - agg["tree_cpu"]
    print(f"with aggregation: {agg['seconds']:.1f} s wall, {agg['cpu']:.1f} CPU-s, "
          f"peak {agg['peak_mb']:.0f} MB; node jobs {agg['tree_cpu']:.1f} CPU-s (proven among the "
          f"batches), the rest (batches (Poseidon2), driver) {rest:.1f} CPU-s")  # fmt: skip
    # per level: its node jobs' wall (children read + proof) and CPU, summed over its nodes
    print(f"{'level':>5} {'nodes':>5} {'rows':>14} {'wall s':>8} {'CPU-s':>8} {'bytes/node':>12}")
    for lv in agg["levels"]:
        rows = ",".join(f"2^{r.bit_length() - 1}" for r in lv["rows"])
        size = max(lv["bytes"]) if lv["bytes"] else 0
        timing = f"{lv['seconds']:>8.1f} {lv['cpu']:>8.1f}"
        print(f"{lv['level']:>5} {lv['nodes']:>5} {rows:>14} {timing} {size:>12,}")
    print(f"round.zkp: {agg['round_zkp']:,} bytes ({agg['round_zkp'] / 1024:.0f} KB)")
    if not args.skip_baseline:
        print(f"aggregation / without: {agg['seconds'] / base['seconds']:.2f}x wall, "
              f"{agg['cpu'] / base['cpu']:.2f}x CPU")  # fmt: skip

    public = _public_files(folded, args.workdir / "public")
    later = None
    if args.next_round:
        later = _next_round(source, args.workdir / "next")
        agg = _run(_PROVE, str(later), str(args.batch_size), "1")
        print(f"next round (every price doubled), with aggregation: {agg['seconds']:.1f} s wall, "
              f"{agg['cpu']:.1f} CPU-s")  # fmt: skip
        later = _public_files(later, args.workdir / "next-public")
    _measure_verify(public, later)


def _public_files(round_dir: Path, public: Path) -> Path:
    public.mkdir()
    for name in ("global.json", "summary.json", "round.zkp"):
        shutil.copy(round_dir / "proof" / name, public / name)
    return public


def _next_round(source: Path, target: Path) -> Path:
    """A copy of the generated round as the next month's: another round id, every price doubled."""
    from dataclasses import replace

    from zkpor.round.config import load_round_config, write_round_config

    shutil.copytree(source, target)
    config = load_round_config(target / "round.toml")
    doubled = tuple(2 * units for units in config.price_units)
    write_round_config(replace(config, round_id="2024-07", price_units=doubled), target / "round.toml")
    return target


def _measure_verify(public: Path, later: Path | None = None) -> None:
    """`zkpor verify`'s work on the public files, each run in a fresh process: with an empty key
    cache (keys derived), then with the cache filled, then (`later`: the next round's public files)
    the next round with the same cache. The verify wall and CPU seconds exclude the imports (numpy,
    numba: timed and measured apart); the peak is the whole process's."""
    import os

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "ZKPOR_KEY_CACHE": cache}
        runs = [("keys derived", public), ("keys cached", public)]
        if later is not None:
            runs.append(("next round, the first round's keys cached", later))
        for label, folder in runs:
            v = _run(_VERIFY, str(folder), env=env)
            print(f"verify ({label}): {v['seconds']:.2f} s wall "
                  f"(round proof {v['round_proof_seconds']:.2f} s: its check "
                  f"{v['round_proof_seconds'] - v['keys_seconds']:.2f} s, its keys {v['keys_seconds']:.2f} s "
                  f"{'derived' if v['keys_built'] else 'all from the cache'}), peak {v['peak_mb']:.0f} MB; "
                  f"whole process {v['process_seconds']:.2f} s wall, {v['cpu']:.2f} CPU-s, "
                  f"imports {v['import_seconds']:.2f} s, {v['import_cpu']:.2f} CPU-s, "
                  f"{v['import_peak_mb']:.0f} MB")  # fmt: skip
            for name, (wall, cpu) in sorted(v["phases"].items()):  # LDE and Merkle: within commit
                print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} CPU-s")
        for name, text in v["security"].items():
            print(f"  {name}: {text}")
        # (round.zkp's own file is the top; the folder's nodes/ and batches/ when it is a round's)
        levels = _run(_VERIFY_LEVELS, str(public), env=env)
        for row in levels["levels"]:
            what = "batch proof" if row["level"] == "batch" else f"level-{row['level']} node"
            print(f"  native check of one {what}: {row['seconds'] * 1000:.0f} ms ({row['bytes']:,} bytes)")


if __name__ == "__main__":
    main()
