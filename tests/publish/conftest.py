"""Three demo rounds, published into sibling directories that share one history store: 2024-04,
2024-05 and 2024-07 (June is missing, so the history has a gap). Built once per session through the
real `zkpor demo` command; tests that change a round work on copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zkpor.cli import app

ROUNDS = ("2024-04", "2024-05", "2024-07")
USERS = "200"


class Demos:
    def __init__(self, base: Path, outputs: dict[str, str]) -> None:
        self.base = base
        self.outputs = outputs
        self.history = base / "history.sqlite"

    def round_dir(self, round_id: str) -> Path:
        return self.base / round_id

    def public(self, round_id: str = ROUNDS[-1]) -> Path:
        return self.round_dir(round_id) / "public"


@pytest.fixture(scope="session")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Demos:
    # A folder that does not exist yet: the demo creates it (and the history store beside the rounds).
    base = tmp_path_factory.mktemp("demos") / "monthly"
    outputs = {}
    for round_id in ROUNDS:
        arguments = ["demo", str(base / round_id), "--round", round_id, "--users", USERS]
        result = CliRunner().invoke(app, arguments)
        assert result.exit_code == 0, (result.output, result.exception)
        outputs[round_id] = result.output
    return Demos(base, outputs)


@pytest.fixture
def round_copy(demos: Demos, tmp_path: Path) -> Path:
    """A private copy of the last demo round, unpublished (no public/), with its own empty history."""
    copy = tmp_path / "rounds" / ROUNDS[-1]
    shutil.copytree(demos.round_dir(ROUNDS[-1]), copy, symlinks=True)
    shutil.rmtree(copy / "public")
    return copy
