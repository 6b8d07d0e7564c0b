"""The auditor's `verify_round` rejects every tampered output, naming what failed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from liabilities_testing import copy_round, every_decimals_plus_one, make_round, prove_small, restate

from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.liabilities.published import GlobalProof
from zkpor.liabilities.round_proof import verify_round


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tamper") / "round"
    secret = make_round(directory, 70, seed=4)
    prove_small(directory, secret)
    verify_round(directory, min_security_bits=0)
    return directory


@pytest.fixture
def round_copy(original: Path, tmp_path: Path) -> Path:
    return copy_round(original, tmp_path / "round")


def rejected(directory: Path, match: str, kind: type[ZkporError] = VerificationError) -> str:
    with pytest.raises(kind) as caught:
        verify_round(directory, min_security_bits=0)
    assert re.search(match, str(caught.value)), str(caught.value)
    return str(caught.value)


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


# ---- batch files ----------------------------------------------------------------------------------


def test_a_flipped_byte_in_a_batch_proof(round_copy: Path) -> None:
    path = round_copy / "proof/batches/00001.zkp"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    rejected(round_copy, r"^batch 1\b")


def test_a_changed_total_in_a_batch_proof_header(round_copy: Path) -> None:
    path = round_copy / "proof/batches/00002.zkp"
    data = bytearray(path.read_bytes())
    header = 8 + 2 + 4 + 4 + int.from_bytes(data[14:18], "little")  # ends with the statement
    first_limb_total = header + 4 * 8  # after the root: asset 0, equity, limb 0
    data[first_limb_total] ^= 0x01
    path.write_bytes(bytes(data))
    rejected(round_copy, r"^batch 2: ")


def test_swapped_batch_files(round_copy: Path) -> None:
    batches = round_copy / "proof/batches"
    zero, one = (batches / "00000.zkp").read_bytes(), (batches / "00001.zkp").read_bytes()
    (batches / "00000.zkp").write_bytes(one)
    (batches / "00001.zkp").write_bytes(zero)
    rejected(round_copy, r"^batch 0: ")


def test_a_missing_batch_file(round_copy: Path) -> None:
    (round_copy / "proof/batches/00002.zkp").unlink()
    rejected(round_copy, r"^batch 2: .*00002.zkp is missing")


def test_a_truncated_batch_file(round_copy: Path) -> None:
    path = round_copy / "proof/batches/00000.zkp"
    path.write_bytes(path.read_bytes()[:100])
    rejected(round_copy, r"^batch 0 \(.*\): batch proof truncated")


# ---- global.json ------------------------------------------------------------------------------


def test_a_changed_batch_root_in_global_json(round_copy: Path) -> None:
    def change(g: dict) -> None:
        g["batches"][1]["root"] = g["batches"][0]["root"]

    edit_json(round_copy / "proof/global.json", change)
    rejected(round_copy, r"^batch 1: its proof is for root [0-9a-f]{64}, global.json lists")


def test_a_changed_global_root(round_copy: Path) -> None:
    def change(g: dict) -> None:
        g["root"] = g["batches"][0]["root"]

    edit_json(round_copy / "proof/global.json", change)
    rejected(round_copy, r"^top tree: the batch roots hash to")


def test_a_changed_batch_total_in_global_json(round_copy: Path) -> None:
    def change(g: dict) -> None:
        g["batches"][2]["equity"][2] = str(int(g["batches"][2]["equity"][2]) + 1)

    edit_json(round_copy / "proof/global.json", change)
    rejected(round_copy, r"^batch 2: global.json lists totals USDT equity")


def test_a_dropped_batch(round_copy: Path) -> None:
    def change(g: dict) -> None:
        g["batches"].pop()
        g["batch_count"] -= 1
        g["top_tree"]["leaves"] = 2

    restate(round_copy / "proof", change)
    rejected(round_copy, r"field 'batch_count' is 2, but batch 0 was proven for 3")


def test_a_changed_price_in_global_json(round_copy: Path) -> None:
    def change(g: dict) -> None:
        g["assets"][0]["price"] = "1"

    edit_json(round_copy / "proof/global.json", change)
    rejected(round_copy, r"assets\[0\].weight'.*is 67000000000, but BTC's price and decimals give 1000000",
             InputError)  # fmt: skip


def test_a_global_json_from_zkpor_0_1(round_copy: Path) -> None:
    edit_json(round_copy / "proof/global.json", lambda g: g.update(format="zkpor-global-v1"))
    rejected(round_copy, r"'format'.*a v1 global.json from an older zkpor .*re-prove the round", InputError)


def test_a_restated_field_with_a_stale_digest(round_copy: Path) -> None:
    edit_json(round_copy / "proof/global.json", lambda g: g.update(snapshot_time="2024-07-01T00:00:00Z"))
    rejected(round_copy, r"field 'statement_digest'.*not the digest of the statement", InputError)


# ---- a restated statement, made consistent everywhere a forger can reach ---------------------------


def _swap_first_two_symbols(g: dict) -> None:
    g["assets"][0]["symbol"], g["assets"][1]["symbol"] = g["assets"][1]["symbol"], g["assets"][0]["symbol"]


RESTATEMENTS = [
    ("assets[BTC].decimals", every_decimals_plus_one),
    ("snapshot_time", lambda g: g.update(snapshot_time="2024-07-31T16:00:00Z")),
    ("assets[BTC].price", lambda g: g["assets"][0].update(price="1")),
    ("round_id", lambda g: g.update(round_id="2024-07")),
    ("price_decimals", lambda g: g.update(price_decimals=g["price_decimals"] - 1)),
    ("assets[ETH].bits", lambda g: g["assets"][1].update(bits=g["assets"][1]["bits"] - 1)),
    ("assets (symbols, in order)", _swap_first_two_symbols),
]


@pytest.mark.parametrize(("field", "change"), RESTATEMENTS, ids=[r[0] for r in RESTATEMENTS])
def test_a_restated_statement_in_a_published_folder(
    round_copy: Path, tmp_path: Path, field: str, change: Callable[[dict], None]
) -> None:
    """An auditor holding only the published folder (no round.toml, no private store)."""
    published = tmp_path / "published"
    (round_copy / "proof").rename(published)
    verify_round(published, min_security_bits=0)
    restate(published, change)
    GlobalProof.from_json((published / "global.json").read_bytes(), "global.json")  # well-formed
    error = rejected(published, rf"global.json: field '{re.escape(field)}' is .*, but batch 0 was proven for")
    assert "Traceback" not in error


def test_a_restated_statement_in_a_round_directory(round_copy: Path) -> None:
    restate(round_copy / "proof", every_decimals_plus_one)
    rejected(round_copy, r"global.json: field 'assets\[BTC\].decimals' is 9, but batch 0 was proven for 8")


def test_a_restated_statement_on_every_batch_but_the_first(round_copy: Path) -> None:
    """A batch file whose embedded statement differs from the others (and from global.json)."""
    other = round_copy / "proof/batches/00001.zkp"
    data = bytearray(other.read_bytes())
    data[other.read_bytes().index(b"2024-06")] = ord("3")  # round id 3024-06 in batch 1's statement
    other.write_bytes(bytes(data))
    rejected(round_copy, r"global.json: field 'round_id' is '2024-06', but batch 1 was proven for '3024-06'")


def test_a_changed_limb_size(round_copy: Path) -> None:
    restate(round_copy / "proof", lambda g: g.update(limb_bits=16))
    rejected(round_copy, r"no valid solvency layout", InputError)


def test_changed_proof_options(round_copy: Path) -> None:
    def change(g: dict) -> None:
        g["proof_options"]["num_queries"] = 9

    edit_json(round_copy / "proof/global.json", change)
    rejected(round_copy, r"^batch 0: proof options differ")


def test_round_toml_changed_after_proving(round_copy: Path) -> None:
    toml = round_copy / "round.toml"
    toml.write_text(toml.read_text().replace("bits = 52", "bits = 53", 1))
    rejected(round_copy, r"round.toml: field 'assets\[BTC\].bits' is 53, but the proof is for 52")


def test_round_toml_restating_the_snapshot(round_copy: Path) -> None:
    toml = round_copy / "round.toml"
    toml.write_text(toml.read_text().replace("2024-06-30T16:00:00Z", "2024-06-30T17:00:00+01:00"))
    # The same instant, so the same statement, but not the file that was proven: a stale proof.
    rejected(round_copy, r"round.toml changed after proving \(SHA-256 .*re-run `zkpor prove --fresh")
    toml.write_text(toml.read_text().replace("17:00:00+01:00", "17:00:00Z"))
    rejected(round_copy, r"field 'snapshot_time'.*'2024-06-30T17:00:00Z', but the proof is for '2024-06-30T1")


def test_a_malformed_global_json(round_copy: Path) -> None:
    (round_copy / "proof/global.json").write_text('{"format": "zkpor-global-v1",\n "round_id": }')
    error = rejected(round_copy, r"global.json:2: not valid JSON", InputError)
    assert "Traceback" not in error


def test_a_global_json_pointing_outside_the_proof_folder(round_copy: Path) -> None:
    def change(g: dict) -> None:
        g["batches"][0]["file"] = "../../../etc/passwd"

    edit_json(round_copy / "proof/global.json", change)
    rejected(round_copy, r"batch 0 must be in batches/00000.zkp")


# ---- summary.json -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("assets[BTC].equity", lambda s: s["assets"][0].update(equity="1000000")),
        ("assets[USDT].net", lambda s: s["assets"][2].update(net="0")),
        ("users_rounded_up", lambda s: s.update(users_rounded_up=64)),
        ("root", lambda s: s.update(root="00" * 32)),
        ("security.conjectured_bits", lambda s: s["security"].update(conjectured_bits=128)),
        ("proof_bytes", lambda s: s.update(proof_bytes=1)),
        ("extra", lambda s: s.update(extra="field")),
    ],
)
def test_a_tampered_summary(round_copy: Path, field: str, change: Callable[[dict], None]) -> None:
    edit_json(round_copy / "proof/summary.json", change)
    rejected(round_copy, rf"^summary.json field '{re.escape(field)}' says")


def test_a_missing_summary(round_copy: Path) -> None:
    (round_copy / "proof/summary.json").unlink()
    rejected(round_copy, r"summary.json is missing")
