"""`zkpor prove` and `zkpor verify` load their kernels from numba's cache in a background thread
(zkpor.cli.run, zkpor.round.preloaded_kernels), and so does a verifier deriving a round proof's
keys (`round_tree.derivation_kernels`): the lists name exactly the kernels each calls, in the
order it first calls them; a kernel that fails to preload is reported as one warning
line and the command still does its work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zkpor.round.generate import generate_round

# Records the zkpor kernels called from here on, in the order of their first call, in `called`.
RECORD_FIRST_CALLS = """
from numba.core.dispatcher import Dispatcher

called = []
compile_for_args = Dispatcher._compile_for_args

def record(self, *args, **kwargs):
    name = f"{self.py_func.__module__}.{self.py_func.__qualname__}"
    if name not in called:
        called.append(name)
    return compile_for_args(self, *args, **kwargs)

Dispatcher._compile_for_args = record
"""

# The command in a fresh process without preloading, as `zkpor ARGS`; prints the zkpor kernels it
# called, in the order of their first call, and then the command's preload list.
FIRST_CALLS = RECORD_FIRST_CALLS + """
import json, sys
import zkpor.cli as cli
from zkpor.round import preloaded_kernels

command = sys.argv[1]
sys.argv = ["zkpor", *sys.argv[1:]]
cli.register_commands([command])
try:
    cli.main()
except SystemExit as exit_:
    assert not exit_.code, exit_.code
listed = getattr(preloaded_kernels, cli.PRELOADED_KERNELS[command])()
print(json.dumps({
    "called": [name for name in called if name.startswith("zkpor.")],
    "listed": [f"{k.py_func.__module__}.{k.py_func.__qualname__}" for k in listed],
}))
"""

# `zkpor ARGS` as the console script runs it, with every kernel's preload failing.
FAILING_PRELOAD = """
import sys
from zkpor.cli import run
from zkpor.field import jit

def unreadable(kernel):
    raise OSError("cache index unreadable")

jit.cached_signatures = unreadable
sys.argv = ["zkpor", *sys.argv[1:]]
run()
"""


# Deriving a round proof's keys (`round_tree.stack_keys`, a verifier's cache miss) in a fresh process
# without its preloading, for a tree of two levels (Poseidon2 below, BLAKE3 at the top); prints the
# zkpor kernels it called in the order of their first call, then `round_tree.derivation_kernels()`.
DERIVATION_FIRST_CALLS = RECORD_FIRST_CALLS + """
import json
from zkpor.liabilities import aggregation, round_tree
from zkpor.liabilities.round_proof import default_proof_options
from zkpor.liabilities.statement import Statement, StatementAsset
from zkpor.recursion.verifying_key import KeyCache

round_tree.Preloader = lambda kernels: None
assets = tuple(StatementAsset(f"A{i}", 8, 40 + i, str(1000 + i)) for i in range(2))
statement = Statement("t", "2026-11-30T16:00:00Z", 0, assets, limb_bits=8, batch_size=128, batch_count=5)
tree = round_tree.tree_options(default_proof_options())
plan = aggregation.plan_tree(5, tree.leaf_arity_log, tree.node_arity_log)
round_tree.stack_keys(statement, tree, plan, KeyCache(None), None)
print(json.dumps({
    "called": [name for name in called if name.startswith("zkpor.")],
    "listed": [f"{k.py_func.__module__}.{k.py_func.__qualname__}" for k in round_tree.derivation_kernels()],
}))
"""


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("preload") / "r"
    generate_round(directory, 100, 5)
    zkpor = [sys.executable, "-c", "from zkpor.cli import main; main()"]
    subprocess.run([*zkpor, "prove", str(directory)], check=True, capture_output=True)
    return directory


def _first_calls(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", FIRST_CALLS, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_each_list_is_the_kernels_its_command_calls_in_order(round_dir: Path) -> None:
    prove = _first_calls("prove", str(round_dir), "--fresh")
    assert prove["called"] == prove["listed"]
    verify = _first_calls("verify", str(round_dir))
    assert verify["called"] == verify["listed"]


def test_the_derivation_list_is_the_kernels_deriving_keys_calls_in_order() -> None:
    done = subprocess.run([sys.executable, "-c", DERIVATION_FIRST_CALLS], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    derivation = json.loads(done.stdout.splitlines()[-1])
    assert derivation["called"] == derivation["listed"]


def test_a_failed_preload_is_one_warning_and_the_command_still_works(round_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FAILING_PRELOAD, "verify", str(round_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [
        "warning: loading a kernel from numba's cache in the background failed: "
        "zkpor.field.goldilocks._powers_kernel: OSError: cache index unreadable"
    ]
    assert "OK: " in done.stdout
