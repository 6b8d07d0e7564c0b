"""A round directory: ``ROUND_DIR/round.toml`` plus exactly one of ``users.csv`` / ``users.jsonl``.

Later steps (proofs, reports, the history store) add their outputs next to these inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zkpor.errors import InputError
from zkpor.round.config import RoundConfig, load_round_config
from zkpor.round.net_value import check_net_values
from zkpor.round.users import USERS_FILE_NAMES, ProgressCallback, UserBalances, load_users

ROUND_CONFIG_NAME = "round.toml"


@dataclass(frozen=True, eq=False)
class RoundInputs:
    """A round's validated inputs."""

    directory: Path
    config: RoundConfig
    users: UserBalances


def find_users_file(round_dir: str | Path) -> Path:
    """The round directory's users file: exactly one of users.csv and users.jsonl must exist."""
    round_dir = Path(round_dir)
    present = [round_dir / name for name in USERS_FILE_NAMES if (round_dir / name).exists()]
    if not present:
        raise InputError("no users file: expected users.csv or users.jsonl", path=round_dir)
    if len(present) > 1:
        raise InputError(
            "both users.csv and users.jsonl are present; keep exactly one users file", path=round_dir
        )
    return present[0]


def load_round_inputs(
    round_dir: str | Path,
    *,
    progress: ProgressCallback | None = None,
    check_net_value: bool = True,
    spill_dir: Path | None = None,
) -> RoundInputs:
    """Load and validate round.toml and the users file; with ``check_net_value`` (the default) also
    refuse a user whose net value is negative, as the prover will. ``spill_dir``: see `load_users`."""
    round_dir = Path(round_dir)
    if not round_dir.is_dir():
        raise InputError(
            "not a round directory (expected a directory with round.toml and users.csv)", path=round_dir
        )
    config = load_round_config(round_dir / ROUND_CONFIG_NAME)
    users = load_users(find_users_file(round_dir), config, progress=progress, spill_dir=spill_dir)
    if check_net_value:
        check_net_values(users, config)
    return RoundInputs(round_dir, config, users)
