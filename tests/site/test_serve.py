"""`zkpor serve`: the public folder and nothing else, on the loopback interface by default."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from zkpor.errors import InputError
from zkpor.site.serve import make_server, public_folder


@pytest.fixture
def round_dir(tmp_path: Path) -> Path:
    """A round directory as publish leaves it: private files at the top, public/ beside them."""
    (tmp_path / "round.toml").write_text('round_id = "2024-06"\n')
    (tmp_path / "exchange.secret").write_bytes(b"\x01" * 32)
    public = tmp_path / "public"
    public.mkdir()
    (public / "verify.html").write_text("<!DOCTYPE html><title>verify</title>")
    (public / "proof").mkdir()
    (public / "proof" / "global.json").write_text("{}")
    return tmp_path


@pytest.fixture
def served(round_dir: Path) -> Iterator[int]:
    server = make_server(public_folder(round_dir), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_serves_the_public_folder(served: int, round_dir: Path) -> None:
    assert get(served, "/verify.html") == (200, (round_dir / "public/verify.html").read_bytes())
    assert get(served, "/proof/global.json") == (200, b"{}")


def test_never_serves_outside_the_public_folder(served: int, round_dir: Path) -> None:
    (round_dir / "public" / "secret-link").symlink_to(round_dir / "exchange.secret")
    for path in ("/../exchange.secret", "/..%2fexchange.secret", "/%2e%2e/round.toml", "/secret-link",
                 "/proof/../../round.toml"):  # fmt: skip
        status, body = get(served, path)
        assert status == 404 and b"\x01" * 32 not in body, path


def test_refuses_a_folder_with_private_files(tmp_path: Path, round_dir: Path) -> None:
    (round_dir / "public").rename(tmp_path / "elsewhere")
    with pytest.raises(InputError, match=r"holds private round files \(round.toml, exchange.secret\)"):
        public_folder(round_dir)
    assert public_folder(tmp_path / "elsewhere") == tmp_path / "elsewhere"  # a published folder itself
    (tmp_path / "elsewhere" / "verify.html").unlink()
    with pytest.raises(InputError, match="nor a published folder"):
        public_folder(tmp_path / "elsewhere")  # any other folder, such as a home directory


def test_cli_serves_on_loopback_until_interrupted(round_dir: Path) -> None:
    zkpor = Path(sys.executable).parent / "zkpor"
    process = subprocess.Popen(
        [str(zkpor), "serve", str(round_dir), "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        # SIGINT back to its default: a test run started in the background (`cmd &`, nohup) has it
        # ignored, a child inherits that, and a process that starts with SIGINT ignored never sees
        # Ctrl-C (this test then timed out; test_faults' prover does the same).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        first = process.stdout.readline()
        assert first.startswith(f"Serving {round_dir / 'public'} at http://127.0.0.1:"), first
        port = int(first.rsplit(":", 1)[1].strip(" /\n"))
        assert process.stdout.readline().strip() == f"http://127.0.0.1:{port}/verify.html"
        assert get(port, "/verify.html")[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)  # generous: a loaded machine is slow to stop
    assert process.returncode == 0, err
    assert "Stopped." in out


def test_cli_refuses_a_round_without_public_folder(tmp_path: Path, run_main) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "round.toml").write_text("")
    result = run_main("serve", "r", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: r: holds private round files (round.toml)")
    assert "run `zkpor publish` first" in result.stderr and "Traceback" not in result.stderr
