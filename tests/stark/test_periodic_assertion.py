"""Strided (periodic) assertions and periodic columns: a counter that restarts every 8 rows."""

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.stark.air import Air, Assertion, Constraint, Frame
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N, PERIOD = 64, 8


class RestartingCounter(Air):
    """Column 0 counts up by one per row, except after each 8th row (a periodic selector says
    where), and is asserted to be `start` on every 8th row from row 0."""

    name = "restarting-counter"

    def __init__(self, trace_length: int, start: int) -> None:
        super().__init__(trace_length)
        self.start = start

    @property
    def main_width(self) -> int:
        return 1

    def periodic_columns(self) -> list[list[int]]:
        return [[1] * (PERIOD - 1) + [0]]  # 1 where the next row continues the count

    def constraints(self) -> list[Constraint]:
        return [Constraint(2)]

    def evaluate(self, frame: Frame, periodic) -> list:
        (counting,) = periodic
        return [counting * (frame.next[0] - frame.current[0] - 1)]

    def assertions(self) -> list[Assertion]:
        return [Assertion(0, 0, self.start, stride=PERIOD)]

    def public_inputs(self) -> list[int]:
        return [self.start]


def counter_trace(start: int) -> np.ndarray:
    return (start + np.tile(np.arange(PERIOD), N // PERIOD)).astype(np.uint64).reshape(1, N)


def test_restarting_counter_verifies(small_options):
    air = RestartingCounter(N, 5)
    verify(air, prove(air, counter_trace(5), small_options), min_security_bits=0)


def test_one_block_starting_elsewhere_is_rejected(small_options):
    """Block 3 counts correctly from 6: only the strided assertion at row 24 fails."""
    trace = counter_trace(5)
    trace[0, 24:32] += np.uint64(1)
    air = RestartingCounter(N, 5)
    proof = prove(air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)


def test_counter_skipping_a_step_is_rejected(small_options):
    """Rows 26..31 are one too high: only the transition 25 → 26 breaks (the periodic column
    exempts 31 → 32, and row 24 still starts at 5)."""
    trace = counter_trace(5)
    trace[0, 26:32] += np.uint64(1)
    air = RestartingCounter(N, 5)
    proof = prove(air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)
