"""`zkpor CMD` imports only CMD's module (zkpor.cli.COMMAND_MODULES): the table must name, for
every command, the module that defines it, and the customer's and the auditor's commands must run
without the libraries they do not need (numpy and numba for verify-user; SQL, report, reserves and
Dask libraries for prove and verify)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command_name

import zkpor.cli
from zkpor.round.generate import generate_round


def test_the_table_names_each_commands_module() -> None:
    app = zkpor.cli.app  # every command registered
    defined = {
        info.name or get_command_name(info.callback.__name__): info.callback.__module__
        for info in app.registered_commands
    }
    for group in app.registered_groups:
        defined[group.name] = group.typer_instance.registered_commands[0].callback.__module__
    table = {name: f"zkpor.cli.{module}" for name, module in zkpor.cli.COMMAND_MODULES.items()}
    assert table == defined


def test_help_lists_commands_in_one_order_whatever_was_imported_first() -> None:
    # A fresh process: the customer's module imported first, then the prover's, then the rest.
    script = (
        "import zkpor.cli as cli\n"
        "from typer.main import get_command_name\n"
        "cli.register_commands(['verify-user']); cli.register_commands(['prove'])\n"
        "commands = cli.app.registered_commands\n"
        "print(' '.join(i.name or get_command_name(i.callback.__name__) for i in commands))"
    )
    listed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert listed.split() == [name for name in zkpor.cli.COMMAND_MODULES if name != "round"]


# `zkpor ARGS`, as the console script runs it, with some libraries made unimportable.
_WITHOUT = """
import sys
blocked = sys.argv[1].split(",")
for name in blocked:
    sys.modules[name] = None  # any import of it now raises ImportError
sys.argv = ["zkpor", *sys.argv[2:]]
from zkpor.cli import main
try:
    main()
finally:
    loaded = {name.split(".")[0] for name, module in sys.modules.items() if module is not None}
    assert not loaded & set(blocked), loaded & set(blocked)
"""

NOT_FOR_PROVING = [
    "sqlalchemy",
    "alembic",
    "jinja2",
    "pygal",
    "weasyprint",
    "dask",
    "distributed",
    "coincurve",
]


def zkpor_without(blocked: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT, ",".join(blocked), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def small_round(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("imports") / "r"
    generate_round(directory, 20, 5)
    return directory


def test_prove_verify_and_the_customer_need_only_their_libraries(small_round: Path) -> None:
    proved = zkpor_without(NOT_FOR_PROVING, "prove", str(small_round), "--batch-size", "32", cwd=small_round)
    assert proved.returncode == 0, proved.stderr
    verified = zkpor_without(NOT_FOR_PROVING, "verify", str(small_round), cwd=small_round)
    assert verified.returncode == 0, verified.stderr
    assert "OK: 1 batch proofs" in verified.stdout

    uid = (small_round / "users.csv").read_text().splitlines()[1].split(",", 1)[0]
    exported = zkpor_without(
        NOT_FOR_PROVING, "export-user", str(small_round), uid, "-o", "me.json", cwd=small_round
    )
    assert exported.returncode == 0, exported.stderr
    customer = ["numpy", "numba", *NOT_FOR_PROVING]
    checked = zkpor_without(
        customer, "verify-user", "me.json", "--uid", uid, "--global", "proof/global.json", cwd=small_round
    )
    assert checked.returncode == 0, checked.stderr
    assert f"uid {uid}" in checked.stdout and "published root (global.json)" in checked.stdout

    (small_round / "me.json").write_text((small_round / "me.json").read_text().replace(uid, uid + "0"))
    refused = zkpor_without(customer, "verify-user", "me.json", cwd=small_round)
    assert (
        refused.returncode == 2 and refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
    )


def test_the_customer_page_server_needs_no_numpy_or_numba(tmp_path: Path) -> None:
    # `zkpor serve` runs until Ctrl-C: its module and everything it serves with are imported by --help.
    served = zkpor_without(["numpy", "numba", *NOT_FOR_PROVING], "serve", "--help", cwd=tmp_path)
    assert served.returncode == 0, served.stderr
    assert "Serve a round's public folder" in served.stdout


def test_version_needs_no_numpy_or_numba(tmp_path: Path) -> None:
    printed = zkpor_without(["numpy", "numba", *NOT_FOR_PROVING], "version", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith("zkpor ")
