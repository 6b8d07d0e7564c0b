"""One Poseidon2 width-12 permutation per row; the first row's output is public.

This is the building block of the solvency AIR (leaf hashing), so it is the benchmark AIR too.
"""

from __future__ import annotations

import numpy as np

from zkpor.stark.air import Air, Assertion, Constraint, Frame
from zkpor.stark.gadgets import poseidon2 as gadget


class Poseidon2Air(Air):
    name = "poseidon2-per-row"

    def __init__(self, trace_length: int, first_output: list[int]) -> None:
        super().__init__(trace_length)
        self.first_output = list(first_output)

    @property
    def main_width(self) -> int:
        return gadget.COLUMNS

    def constraints(self) -> list[Constraint]:
        # Row-local constraints hold on every row, the last one included.
        return [Constraint(gadget.CONSTRAINT_DEGREE, wraps=True)] * gadget.NUM_CONSTRAINTS

    def evaluate(self, frame: Frame, periodic) -> list:
        return gadget.constraints(frame.current)[0]

    def assertions(self) -> list[Assertion]:
        offset = gadget.output_columns_offset()
        return [Assertion(offset + i, 0, v) for i, v in enumerate(self.first_output)]

    def public_inputs(self) -> list[int]:
        return self.first_output


def poseidon2_trace(trace_length: int, rng: np.random.Generator) -> np.ndarray:
    from zkpor.field.goldilocks import random_elements

    return gadget.fill_trace(random_elements((gadget.WIDTH, trace_length), rng))
