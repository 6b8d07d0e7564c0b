"""A round's proof-of-assets settings: `ROUND_DIR/reserves.toml`, read by `zkpor reserves --round`.

    message = "I am an OKX address"     # the round's message: rows signing another fail as replays
    asset_maps = ["coins.toml"]         # coin-name maps extending the shipped one (relative paths
                                        # are relative to this file)
    [heights]                           # the snapshot height of each chain for this round
    ethereum = 20914735
    bitcoin = 880000

Every key is optional; unknown keys are an error. Command-line `--message` and `--height` win over it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from zkpor.errors import InputError
from zkpor.reserves.networks import resolve_chain

CONFIG_NAME = "reserves.toml"


@dataclass(frozen=True)
class ReservesConfig:
    message: str | None = None
    heights: dict[str, int] = field(default_factory=dict)  # chain id -> height
    asset_maps: tuple[Path, ...] = ()


def load_reserves_config(path: str | Path) -> ReservesConfig:
    """Read and check a reserves.toml (a round directory means the one inside it)."""
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_NAME
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read the round's reserves settings: {error.strerror}", path=path) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"not valid TOML: {error}", path=path) from None
    unknown = set(document) - {"message", "heights", "asset_maps"}
    if unknown:
        raise InputError("unknown key (known: message, heights, asset_maps)", path=path, field=min(unknown))
    message = document.get("message")
    if message is not None and not isinstance(message, str):
        raise InputError("must be a string", path=path, field="message")
    heights: dict[str, int] = {}
    table = document.get("heights", {})
    if not isinstance(table, dict):
        raise InputError("must be a table of CHAIN = HEIGHT", path=path, field="heights")
    for name, height in table.items():
        chain = resolve_chain(name)
        if chain is None:
            raise InputError(f"unknown network {name!r}", path=path, field=f"heights.{name}")
        if not isinstance(height, int) or isinstance(height, bool) or height < 0:
            raise InputError("must be a block number", path=path, field=f"heights.{name}")
        if heights.get(chain.id, height) != height:
            raise InputError(f"two heights for {chain.id}", path=path, field=f"heights.{name}")
        heights[chain.id] = height
    maps = document.get("asset_maps", [])
    if not isinstance(maps, list) or not all(isinstance(m, str) for m in maps):
        raise InputError("must be a list of file names", path=path, field="asset_maps")
    return ReservesConfig(message, heights, tuple(path.parent / m for m in maps))
