"""Balances spilled to unnamed private files (how `zkpor prove` loads a round of 10^7 users): the
same arrays as in memory, nothing left on disk, pages released, the same refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zkpor.errors import InputError
from zkpor.round import net_value
from zkpor.round import users as users_module
from zkpor.round.directory import load_round_inputs
from zkpor.round.generate import generate_round
from zkpor.round.net_value import asset_totals


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_spilled_balances_equal_the_in_memory_ones(tmp_path: Path, file_format: str) -> None:
    generate_round(tmp_path / "r", 3000, seed=4, file_format=file_format)
    spill = tmp_path / "r" / "private"
    in_memory = load_round_inputs(tmp_path / "r").users
    spilled = load_round_inputs(tmp_path / "r", spill_dir=spill).users
    assert spilled.spilled and not in_memory.spilled
    assert np.array_equal(spilled.equity, in_memory.equity) and np.array_equal(spilled.debt, in_memory.debt)
    assert spill.stat().st_mode & 0o077 == 0, "the spill directory is private"
    assert list(spill.iterdir()) == [], "the spill files have no name: nothing is left behind"
    spilled.release_pages()
    assert np.array_equal(spilled.equity, in_memory.equity), "released pages come back from the file"
    rows = np.random.default_rng(1).permutation(3000)[:500]
    for taken, expected in zip(spilled.take_rows(rows), in_memory.take_rows(rows), strict=True):
        assert np.array_equal(taken, expected), "rows read from the spill files equal the loaded rows"



@pytest.mark.parametrize("gap_bytes", [1, 8 * 1024, 1 << 30])
def test_spilled_rows_read_together_equal_the_loaded_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gap_bytes: int
) -> None:
    """Rows near each other in the file are read together: however the reads are cut, every row
    lands at its place in the order asked (adjacent rows only; the default; one read of the span)."""
    monkeypatch.setattr(users_module, "READ_GAP_BYTES", gap_bytes)
    generate_round(tmp_path / "r", 3000, seed=5)
    in_memory = load_round_inputs(tmp_path / "r").users
    spilled = load_round_inputs(tmp_path / "r", spill_dir=tmp_path / "r" / "private").users
    rng = np.random.default_rng(2)
    for rows in (
        rng.permutation(3000)[:2000],  # dense: long runs
        rng.permutation(3000)[:40],  # sparse: mostly one row a read
        np.arange(2999, -1, -1),  # every row, backwards
        np.array([2999]), np.array([0, 0, 5]), np.array([], dtype=np.int64),  # last, repeated, none
    ):  # fmt: skip
        for taken, expected in zip(spilled.take_rows(rows), in_memory.take_rows(rows), strict=True):
            assert taken.shape == expected.shape and np.array_equal(taken, expected)

def test_the_first_negative_net_value_is_found_in_any_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(net_value, "CHECK_ROWS", 7)
    generate_round(tmp_path / "r", 40, seed=1)
    path = tmp_path / "r" / "users.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    fields = ["9999999", *("0" for _ in header[1:])]
    fields[header.index("USDT_debt")] = "1"
    lines.insert(20, ",".join(fields))  # line 21 of the file: row 19, in the third chunk of 7
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="'9999999' has a negative net value") as error:
        load_round_inputs(tmp_path / "r", spill_dir=tmp_path / "r" / "private")
    assert error.value.line == 21


def test_released_pages_leave_the_resident_set(tmp_path: Path) -> None:
    """Loading, checking and reading every spilled balance, releasing as it goes, keeps them out of
    this process's resident memory (they are page cache, not the prover's)."""
    generate_round(tmp_path / "r", 200_000, seed=3)  # 2 × 200,000 × 22 × 8 bytes = 70 MB of balances
    in_memory = load_round_inputs(tmp_path / "r").users  # also compiles every kernel used below
    expected = [asset_totals(in_memory.equity), asset_totals(in_memory.debt)]
    del in_memory

    def resident_file_mb() -> float:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        return int(fields["RssFile"].split()[0]) / 1024

    before = resident_file_mb()
    users = load_round_inputs(tmp_path / "r", spill_dir=tmp_path / "r" / "private").users
    totals = np.zeros((2, len(users.symbols)), dtype=object)
    for _, equity, debt in users.row_chunks(1 << 14):
        totals += np.array([asset_totals(equity), asset_totals(debt)], dtype=object)
    assert resident_file_mb() - before < 20, "the 70 MB of balances did not stay resident"
    assert totals.tolist() == expected
