"""A LogUp range check: every value in column 0 lies in [0, 2^bits).

Columns: `value`, and `multiplicity` (how often row i's table entry i is used). The table 0..2^bits−1
is a periodic column, so the trace must have at least 2^bits rows. The lookup sums
Σ 1/(β − value) − Σ multiplicity/(β − table) must vanish. The first value is public, to show an
assertion on a lookup AIR.
"""

from __future__ import annotations

import numpy as np

from zkpor.stark.air import Air, Assertion, Constraint, Frame, LookupTerm


class RangeCheckAir(Air):
    name = "range-check"

    def __init__(self, trace_length: int, bits: int, first_value: int) -> None:
        super().__init__(trace_length)
        if (1 << bits) > trace_length:
            raise ValueError("the table needs 2^bits <= trace length rows")
        self.bits = bits
        self.first_value = first_value

    @property
    def main_width(self) -> int:
        return 2

    def periodic_columns(self) -> list[list[int]]:
        return [list(range(1 << self.bits))]

    def constraints(self) -> list[Constraint]:
        return []

    def evaluate(self, frame: Frame, periodic) -> list:
        return []

    def assertions(self) -> list[Assertion]:
        return [Assertion(0, 0, self.first_value)]

    def lookups(self) -> list[LookupTerm]:
        return [
            LookupTerm(values=lambda row, periodic: [row[0]], multiplicity=lambda row, periodic: 1,
                       name="query"),
            LookupTerm(values=lambda row, periodic: [periodic[0]],
                       multiplicity=lambda row, periodic: -row[1], multiplicity_degree=1, name="table"),
        ]  # fmt: skip

    def public_inputs(self) -> list[int]:
        return [self.bits, self.first_value]


def range_check_trace(values: np.ndarray, bits: int) -> np.ndarray:
    """Trace for `values` (length n), each in [0, 2^bits): multiplicities count each table entry."""
    n = values.shape[0]
    multiplicity = np.zeros(n, dtype=np.uint64)
    counts = np.bincount(values.astype(np.int64), minlength=1 << bits)
    period = 1 << bits
    # The table repeats every `period` rows: count each value once, on its first occurrence.
    multiplicity[:period] = counts.astype(np.uint64)
    return np.stack([values.astype(np.uint64), multiplicity])
