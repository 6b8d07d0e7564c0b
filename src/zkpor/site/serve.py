"""`zkpor serve`: a small HTTP server for a round's public folder, on this computer only by default.

It serves ROUND_DIR/public (what `zkpor publish` writes), or a published folder given directly, and
nothing else: a folder holding a round's private files (round.toml, the users file, the exchange
secret, the inclusion store) or not holding a published round (no manifest.json or verify.html) is
refused, and a path that leaves the folder, through `..` or a symbolic link, is answered 404.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from zkpor.errors import InputError
from zkpor.liabilities.secret import OLD_SECRET_NAME
from zkpor.liabilities.store import PRIVATE_DIR, STORE_NAME

PUBLIC_DIR = "public"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PRIVATE_NAMES = ("round.toml", "users.csv", "users.jsonl", PRIVATE_DIR, OLD_SECRET_NAME, STORE_NAME)
PUBLISHED_MARKERS = ("manifest.json", "verify.html")  # what `zkpor publish` always writes


def public_folder(round_dir: str | Path) -> Path:
    """ROUND_DIR/public, or ROUND_DIR itself when it is a published folder (no private files in it)."""
    round_dir = Path(round_dir)
    if not round_dir.is_dir():
        raise InputError("not a directory", path=round_dir)
    folder = round_dir / PUBLIC_DIR if (round_dir / PUBLIC_DIR).is_dir() else round_dir
    private = [name for name in PRIVATE_NAMES if (folder / name).exists()]
    if private:
        raise InputError(
            f"holds private round files ({', '.join(private)}) and no {PUBLIC_DIR}/ folder: "
            "run `zkpor publish` first, then serve the round directory",
            path=folder,
        )
    if not any((folder / name).is_file() for name in PUBLISHED_MARKERS):
        raise InputError(
            f"neither a round directory with a {PUBLIC_DIR}/ folder nor a published folder "
            f"(no {' or '.join(PUBLISHED_MARKERS)} in it)",
            path=folder,
        )
    return folder


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class PublicFolderHandler(SimpleHTTPRequestHandler):
    """Static files from one folder, never from outside it; quiet unless `log` is set."""

    log = None

    def translate_path(self, path: str) -> str:
        translated = super().translate_path(path)
        root = os.path.realpath(self.directory)
        if os.path.commonpath([root, os.path.realpath(translated)]) != root:
            return os.path.join(root, ".zkpor-outside-the-public-folder")  # does not exist: 404
        return translated

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 — the base class's name
        if self.log is not None:
            self.log(format % args)


def make_server(
    folder: str | Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log: Callable[[str], None] | None = None,
) -> ThreadingHTTPServer:
    """A server for `folder` bound to host:port (port 0: any free port); call serve_forever()."""
    handler = type("Handler", (PublicFolderHandler,), {"log": staticmethod(log) if log else None})
    try:
        return ThreadingHTTPServer((host, port), partial(handler, directory=str(folder)))
    except OSError as error:
        raise InputError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
