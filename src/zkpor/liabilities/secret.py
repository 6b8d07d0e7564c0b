"""The exchange's secret: 32 random bytes that key the shuffle, the nonces and the padding.

PRIVATE, and kept out of the round directory by default so that a round directory can be copied,
shared with an auditor or published from without it: `--secret FILE`, else `$ZKPOR_SECRET_FILE`,
else `$XDG_CONFIG_HOME/zkpor/secrets/ROUND_ID.secret` (`~/.config/…`), created on first use with mode
0600 in a 0700 directory. A secret readable by group or others is refused, and so is one inside a
folder meant for publishing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from zkpor.errors import InputError
from zkpor.fsutil import make_directory, write_atomically

SECRET_BYTES = 32
MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 4096
SECRET_ENV = "ZKPOR_SECRET_FILE"  # noqa: S105 — an environment variable's name, not a secret
OLD_SECRET_NAME = "exchange.secret"  # noqa: S105 — where zkpor before the private/public split kept it
PUBLISHABLE_DIRS = ("proof", "public")


def default_secret_path(round_id: str) -> Path:
    """The per-user default: `$XDG_CONFIG_HOME/zkpor/secrets/ROUND_ID.secret` (round ids are file-safe)."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home) / "zkpor" / "secrets" / f"{round_id}.secret"


def secret_path_for(round_dir: Path, round_id: str, explicit: Path | None) -> Path:
    """Where the secret of the round in `round_dir` is: `explicit` (`--secret` or the environment),
    else the per-user default. Refuses a path inside a publishable folder, and a round still
    holding its secret where zkpor used to keep it (with the command that moves it)."""
    if explicit is None:
        path = default_secret_path(round_id)
        old = round_dir / OLD_SECRET_NAME
        if old.exists():
            raise InputError(
                "the exchange secret no longer lives in the round directory (it must never be published "
                f"with it); move it: mkdir -p -m 700 {path.parent} && mv {old} {path}; "
                f"or name it with --secret {old}",
                path=old,
            )
        return path
    resolved = explicit.resolve()
    for name in PUBLISHABLE_DIRS:
        if resolved.is_relative_to((round_dir / name).resolve()):
            raise InputError(
                f"the exchange secret must not be inside {round_dir / name}, which is for publishing",
                path=explicit,
            )
    return explicit


def load_secret(path: str | Path, *, create: bool = False) -> tuple[bytes, bool]:
    """(secret, created). With `create`, a missing file gets 32 random bytes, readable only by us."""
    path = Path(path)
    if create and not path.exists():
        make_directory(path.parent, mode=0o700)
        secret = secrets.token_bytes(SECRET_BYTES)
        write_atomically(path, secret, replace=False, mode=0o600)
        return secret, True
    try:
        mode = path.stat().st_mode
        secret = path.read_bytes()[: MAX_SECRET_BYTES + 1]
    except FileNotFoundError:
        raise InputError("exchange secret file not found", path=path) from None
    except OSError as error:
        raise InputError(f"cannot read the exchange secret: {error.strerror}", path=path) from None
    if mode & 0o077:
        raise InputError(
            f"the exchange secret is open to other users (mode {mode & 0o777:o}); chmod 600 {path}, and "
            "treat it as leaked if others could read it",
            path=path,
        )
    if not MIN_SECRET_BYTES <= len(secret) <= MAX_SECRET_BYTES:
        raise InputError(
            f"the exchange secret must be {MIN_SECRET_BYTES}–{MAX_SECRET_BYTES} bytes, not {len(secret)}",
            path=path,
        )
    return secret, False


def secret_id(secret: bytes) -> str:
    """Names a secret without revealing it (kept in the private store to detect a changed secret)."""
    return hmac.new(secret, b"zkpor-secret-id-v1", hashlib.sha256).hexdigest()[:32]
