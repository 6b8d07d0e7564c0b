"""Fixtures for the round-input tests (helpers and sample files live in round_testing.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from round_testing import SMALL_ROUND_TOML

from zkpor.round.config import RoundConfig, load_round_config


@pytest.fixture
def round_dir(tmp_path: Path) -> Path:
    """A directory holding the small round.toml (and no users file yet)."""
    (tmp_path / "round.toml").write_text(SMALL_ROUND_TOML)
    return tmp_path


@pytest.fixture
def small_config(round_dir: Path) -> RoundConfig:
    return load_round_config(round_dir / "round.toml")
