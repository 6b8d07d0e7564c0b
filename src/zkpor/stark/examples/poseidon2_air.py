"""One Poseidon2 width-12 permutation per row; the first row's output is public.

This is the building block of the solvency AIR (leaf hashing), so it is the benchmark AIR too.
Either gadget shape (`gadget.CUBED`, the default, or `gadget.NARROW`).
"""

from __future__ import annotations

import numpy as np

from zkpor.stark.air import Air, Assertion, Constraint, Frame
from zkpor.stark.gadgets import poseidon2 as gadget


class Poseidon2Air(Air):
    name = "poseidon2-per-row"

    def __init__(
        self, trace_length: int, first_output: list[int], shape: gadget.Poseidon2Gadget = gadget.CUBED
    ) -> None:
        super().__init__(trace_length)
        self.first_output = list(first_output)
        self.gadget = shape

    @property
    def main_width(self) -> int:
        return self.gadget.columns

    def constraints(self) -> list[Constraint]:
        # Row-local constraints hold on every row, the last one included.
        return [Constraint(self.gadget.constraint_degree, wraps=True)] * self.gadget.num_constraints

    def evaluate(self, frame: Frame, periodic) -> list:
        return self.gadget.constraints(frame.current)[0]

    def assertions(self) -> list[Assertion]:
        offset = self.gadget.output_offset
        return [Assertion(offset + i, 0, v) for i, v in enumerate(self.first_output)]

    def public_inputs(self) -> list[int]:
        return self.first_output


def poseidon2_trace(
    trace_length: int, rng: np.random.Generator, shape: gadget.Poseidon2Gadget = gadget.CUBED
) -> np.ndarray:
    from zkpor.field.goldilocks import random_elements

    return shape.fill_trace(random_elements((gadget.WIDTH, trace_length), rng))
