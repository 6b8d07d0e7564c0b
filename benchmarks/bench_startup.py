"""Start-up and the small round: what a user waits for from a fresh `zkpor` process.

    .venv/bin/python benchmarks/bench_startup.py [--runs 5] [--users 1000] [--workdir DIR] [--src DIR]
        [--no-bytecode]

Start-up, per command (`version`, `verify-user`, `verify`, and `prove` of a --users round, with
the round proof (the default) and with `--no-aggregate` (batch proofs only)): --runs
`zkpor CMD ...` processes, as the console script runs them (what a user waits for: for prove, the
time to the first proof), minus the command's own work. That work is measured in --runs other
processes that run the command twice: the second run is the work after start-up; they also split
start-up into the interpreter, the command's imports, and the first run's extra (numba kernels
loaded from the cache, first-use tables). Medians; CPU seconds (user + system, the steadier figure
on a shared machine) and wall. Every kernel must come from numba's cache: a warm process that
compiles one is reported (the script's untimed first proof fills the cache in a new checkout).

The round: the same --users round (22 assets, `zkpor generate` seed 7) proven again in a process
that has proven it once (so after start-up), both ways, phase by phase (`stark.phases`: the round's
own steps and the STARK prover's, summed over the batch and the tree's nodes), median of --runs.

`--src DIR` measures another checkout's `src` (e.g. an older commit's, `git archive REV src | tar -x
-C DIR`) with this venv: before/after figures on the same machine at the same time.

Bytecode: zkpor's modules are measured compiled (their `__pycache__/*.pyc` written first, as `pip
install` writes them and as a checkout's first run does). Where PYTHONDONTWRITEBYTECODE is set (these
machines' sessions) an editable checkout otherwise has none, and every process compiles ~80 modules
from source (+0.2-0.3 CPU-s of start-up); `--no-bytecode` measures that: it removes src's .pyc
files (numba's cache files next to them stay) and keeps the children from writing new ones.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Imported by some commands, and by none of prove, verify, verify-user (shown if they are).
HEAVY_MODULES = ("sqlalchemy", "alembic", "jinja2", "pygal", "weasyprint", "dask", "distributed")

# Run in each fresh process: argv is [result file, command, args...].
CHILD = r"""
import json, sys, time
cpu0, wall0 = time.process_time(), time.perf_counter()
out, argv = sys.argv[1], sys.argv[2:]
import zkpor.cli as cli
if hasattr(cli, "register_commands"):
    cli.register_commands(argv[:1])
else:  # a checkout from before commands were imported on demand
    cli.app
cpu1, wall1 = time.process_time(), time.perf_counter()

def run():
    sys.argv = ["zkpor", *argv]
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        cli.main()
    except SystemExit as exit_:
        if exit_.code:
            raise
    return time.process_time() - cpu, time.perf_counter() - wall

first = run()
again = run()
modules = sorted({n.split(".")[0] for n, m in sys.modules.items() if m is not None})
kernels = {"loaded": 0, "compiled": 0}
if "numba" in modules:
    from numba.core.dispatcher import Dispatcher
    for name, module in list(sys.modules.items()):
        if name.startswith("zkpor.") and module is not None:
            for value in vars(module).values():
                if isinstance(value, Dispatcher):
                    kernels["loaded"] += len(value.stats.cache_hits)
                    kernels["compiled"] += len(value.stats.cache_misses)
json.dump({
    "interpreter_cpu": cpu0, "imports": [cpu1 - cpu0, wall1 - wall0], "first": first, "again": again,
    "modules": modules, "kernels": kernels,
}, open(out, "w"))
"""

# The round after start-up: argv is [result file, runs, prove's arguments...].
ROUND_CHILD = r"""
import json, sys, time
from zkpor.cli import main
from zkpor.stark import phases
out, runs, arguments = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def prove():
    sys.argv = ["zkpor", "prove", *arguments]
    try:
        main()
    except SystemExit as exit_:
        if exit_.code:
            raise

prove()  # start-up: imports, kernels
results = []
for _ in range(runs):
    cpu, wall = time.process_time(), time.perf_counter()
    with phases.recording() as times:
        prove()
    total = [time.process_time() - cpu, time.perf_counter() - wall]
    results.append({"total": total, "phases": times.seconds})
json.dump(results, open(out, "w"))
"""


# What the `zkpor` console script runs (an older checkout's has no `run`).
SCRIPT = "import sys, zkpor.cli as cli; sys.exit((getattr(cli, 'run', None) or cli.main)())"


def timed_process(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one process."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def child(code: str, args: list[str], env: dict[str, str], workdir: Path) -> dict | list:
    """Run `code` in a fresh interpreter; returns what it wrote to its result file."""
    result_file = workdir / "result.json"
    result_file.unlink(missing_ok=True)
    timed_process([sys.executable, "-c", code, str(result_file), *args], env)
    return json.loads(result_file.read_text())


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_command(name: str, args: list[str], runs: int, env: dict[str, str], workdir: Path) -> dict:
    """One command: `runs` `zkpor ARGS` processes (what a user waits for), and `runs` processes that
    run it twice (the second run is the command's own work; the first, minus the second, is what
    the first use of kernels and tables costs). Start-up is the first kind minus the second run."""
    fresh = [timed_process([sys.executable, "-c", SCRIPT, *args], env) for _ in range(runs)]
    parts = []
    for _ in range(runs):
        result = child(CHILD, args, env, workdir)
        assert isinstance(result, dict)
        parts.append(result)
    again_cpu = median([r["again"][0] for r in parts])
    again_wall = median([r["again"][1] for r in parts])
    fresh_wall, fresh_cpu = median([w for w, _ in fresh]), median([c for _, c in fresh])
    last = parts[-1]
    return {
        "command": name,
        "interpreter": median([r["interpreter_cpu"] for r in parts]),
        "imports": median([r["imports"][0] for r in parts]),
        "first_extra": median([r["first"][0] - r["again"][0] for r in parts]),  # kernels, first-use tables
        "again": again_cpu,
        "fresh_process": fresh_cpu,
        "fresh_process_wall": fresh_wall,
        "startup": fresh_cpu - again_cpu,
        "startup_wall": fresh_wall - again_wall,
        "numpy_imported": "numpy" in last["modules"],
        "numba_imported": "numba" in last["modules"],
        "heavy_modules": [m for m in HEAVY_MODULES if m in last["modules"]],
        "kernels": last["kernels"],
    }


def bench_round(arguments: list[str], runs: int, env: dict[str, str], workdir: Path) -> dict:
    results = child(ROUND_CHILD, [str(runs), *arguments], env, workdir)
    assert isinstance(results, list)
    names = list(results[0]["phases"])
    phases = {n: [median([r["phases"][n][i] for r in results]) for i in (0, 1)] for n in names}
    total = [median([r["total"][i] for r in results]) for i in (0, 1)]
    return {"total_cpu": total[0], "total_wall": total[1], "phases": phases}


def prepare_bytecode(src: Path, compiled: bool, env: dict[str, str]) -> int:
    """Compile every module under src (returns how many .pyc files there are), or remove their
    .pyc files and keep the children from writing new ones (returns 0)."""
    package = src / "zkpor"
    if compiled:
        compileall.compile_dir(package, quiet=1)
        return sum(1 for _ in package.rglob("__pycache__/*.pyc"))
    for path in package.rglob("__pycache__/*.pyc"):
        path.unlink()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return 0


def print_commands(rows: list[dict]) -> None:
    print(
        f"\n{'command':22s} {'interp':>7s} {'imports':>8s} {'kernels':>8s} {'START-UP':>9s} {'wall':>6s}"
        f" {'again':>7s} {'fresh':>7s} {'wall':>6s}  numpy numba  kernels loaded/compiled  heavy imports"
    )
    for r in rows:
        print(
            f"{r['command']:22s} {r['interpreter']:7.3f} {r['imports']:8.3f} {r['first_extra']:8.3f}"
            f" {r['startup']:9.3f} {r['startup_wall']:6.2f} {r['again']:7.3f} {r['fresh_process']:7.3f}"
            f" {r['fresh_process_wall']:6.2f}  {'yes' if r['numpy_imported'] else 'no':5s}"
            f" {'yes' if r['numba_imported'] else 'no':5s}"
            f"  {r['kernels']['loaded']:4d} / {r['kernels']['compiled']:<4d}"
            f"          {', '.join(r['heavy_modules']) or '-'}"
        )
    print(
        "CPU seconds (medians) except the 'wall' columns. interp: interpreter start; imports: the command's\n"
        "modules; kernels: first run minus second (numba cache loads, first-use tables); again: the\n"
        "command's own work after start-up (second run); fresh: a user's whole process (for prove: the\n"
        "time to the first proof); START-UP = fresh minus again."
    )


def print_round(title: str, result: dict) -> None:
    total_cpu, total_wall = result["total_cpu"], result["total_wall"]
    print(f"\n{title} after start-up: {total_cpu:.3f} CPU s, {total_wall:.3f} s wall")
    rest_cpu, rest_wall = total_cpu, total_wall
    for name, (wall, cpu) in sorted(result["phases"].items(), key=lambda item: -item[1][1]):
        rest_cpu, rest_wall = rest_cpu - cpu, rest_wall - wall
        print(f"  {name:32s} {cpu:7.3f} CPU s {100 * cpu / total_cpu:5.1f} %   {wall:7.3f} s wall")
    print(
        f"  {'other (CLI, shape, store, JSON)':32s} {rest_cpu:7.3f} CPU s "
        f"{100 * rest_cpu / total_cpu:5.1f} %   {rest_wall:7.3f} s wall"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("bench-startup"))
    parser.add_argument("--src", type=Path, help="measure this checkout's src directory instead")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="measure with src compiled from source in every process"
    )
    options = parser.parse_args()

    workdir = options.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(workdir / "config")  # the round's secret goes here
    env.pop("ZKPOR_SECRET_FILE", None)
    if options.src:
        env["PYTHONPATH"] = str(options.src.resolve())
    src = options.src.resolve() if options.src else Path(__file__).resolve().parent.parent / "src"
    compiled_modules = prepare_bytecode(src, not options.no_bytecode, env)
    round_dir = workdir / f"round-{options.users}"
    if not (round_dir / "round.toml").is_file():
        from zkpor.round.generate import generate_round

        shutil.rmtree(round_dir, ignore_errors=True)
        generate_round(round_dir, options.users, 7)
    zkpor = [sys.executable, "-c", "from zkpor.cli import main; main()"]
    prove = ["prove", str(round_dir), "--fresh"]
    # Since the round proof (issue 15) prove aggregates the batch proofs by default; both are timed.
    help_text = subprocess.run([*zkpor, "prove", "--help"], env=env, capture_output=True, text=True).stdout
    variants = {"prove": prove}
    if "--no-aggregate" in help_text:
        variants = {"prove --no-aggregate": [*prove, "--no-aggregate"], "prove": prove}
    # Untimed: numba's cache filled, verification keys cached, the proof the commands check (the
    # default one, proven last) and one customer's file.
    for arguments in variants.values():
        subprocess.run([*zkpor, *arguments], env=env, check=True, capture_output=True)
    uid = (round_dir / "users.csv").read_text().splitlines()[1].split(",", 1)[0]
    customer_file = workdir / "inclusion.json"
    subprocess.run(
        [*zkpor, "export-user", str(round_dir), uid, "-o", str(customer_file), "--force"],
        env=env,
        check=True,
        capture_output=True,
    )
    global_json = str(round_dir / "proof" / "global.json")

    commands = [
        ("version", ["version"]),
        ("verify-user", ["verify-user", str(customer_file), "--uid", uid, "--global", global_json]),
        ("verify", ["verify", str(round_dir)]),
        *variants.items(),
    ]
    rows = []
    for name, args in commands:
        rows.append(bench_command(name, args, options.runs, env, workdir))
        print(f"measured {name}", file=sys.stderr, flush=True)
    rounds = {
        name: bench_round(arguments[1:], options.runs, env, workdir) for name, arguments in variants.items()
    }

    print(
        f"zkpor start-up, {options.runs} fresh processes per command, {os.cpu_count()} CPUs"
        + (f", src {options.src}" if options.src else "")
        + (
            f", {compiled_modules} modules' bytecode compiled"
            if compiled_modules
            else ", no bytecode (compiled from source)"
        )
    )
    print_commands(rows)
    for name, result in rounds.items():
        print_round(f"{options.users:,}-user round, `zkpor {name}`,", result)
    for r in rows:
        if r["kernels"]["compiled"]:
            print(f"WARNING: {r['command']} compiled {r['kernels']['compiled']} kernels in a warm process")
    if options.json:
        options.json.write_text(json.dumps({"commands": rows, "rounds": rounds}, indent=1))


if __name__ == "__main__":
    main()
