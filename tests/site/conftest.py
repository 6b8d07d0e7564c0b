"""Fixtures for the customer page: two real rounds proven by `zkpor prove`, with customers' inclusion
proofs exported by `zkpor export-user` and each round's verify.html written as `zkpor publish` does,
and a blank browser page with the verification JavaScript loaded."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zkpor.cli import app
from zkpor.liabilities.inclusion import load_global
from zkpor.round.generate import generate_round
from zkpor.site.verify_page import verifier_script, write_verify_page


@dataclass(frozen=True)
class PublishedRound:
    directory: Path
    public: Path  # holds verify.html (and, as publish would, global.json)
    global_json: Path
    uids: list[str]
    proofs: dict[str, Path]  # uid -> exported inclusion proof
    debtors: list[str]  # uids with some debt (the first has an exported proof)

    @property
    def page(self) -> Path:
        return self.public / "verify.html"

    def proof_document(self, uid: str) -> dict[str, object]:
        return json.loads(self.proofs[uid].read_text())


def _zkpor(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _publish_round(directory: Path, users: int, seed: int, round_id: str) -> PublishedRound:
    generate_round(directory, users, seed)
    toml = directory / "round.toml"
    toml.write_text(toml.read_text().replace('round_id = "2024-06"', f'round_id = "{round_id}"'))
    _zkpor("prove", str(directory), "--batch-size", "32")
    with open(directory / "users.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    uids = [row["uid"] for row in rows]
    debtors = [r["uid"] for r in rows if any(v.strip("0.") for k, v in r.items() if k.endswith("_debt"))]
    proofs = {}
    for uid in uids[:2] + uids[-1:] + debtors[:1]:
        proofs[uid] = directory / f"inclusion-{uid}.json"
        _zkpor("export-user", str(directory), uid, "-o", str(proofs[uid]))
    public = directory / "public"
    public.mkdir()
    global_json = directory / "proof" / "global.json"
    (public / "global.json").write_bytes(global_json.read_bytes())
    write_verify_page(public, load_global(global_json))
    return PublishedRound(directory, public, global_json, uids, proofs, debtors)


@pytest.fixture(scope="session")
def published_round(tmp_path_factory: pytest.TempPathFactory) -> PublishedRound:
    """Round 2024-06: 70 users in 3 batches of 32 (a 4-leaf top tree with one filler)."""
    return _publish_round(tmp_path_factory.mktemp("round") / "2024-06", 70, 3, "2024-06")


@pytest.fixture(scope="session")
def other_round(tmp_path_factory: pytest.TempPathFactory) -> PublishedRound:
    """Round 2024-07: another month of the same exchange, 40 users in 2 batches."""
    return _publish_round(tmp_path_factory.mktemp("round") / "2024-07", 40, 5, "2024-07")


@pytest.fixture
def js(browser: object) -> Iterator[object]:
    """A blank page with `zkporPoseidon2` and `zkporInclusion` loaded (the page's own script)."""
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_content("<!DOCTYPE html><title>zkpor verifier</title>")
    page.add_script_tag(content=verifier_script())
    yield page
    page.close()
    assert not errors, errors
