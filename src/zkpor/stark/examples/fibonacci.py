"""Fibonacci: two columns (a, b) → (b, a + b); the public result is b on the last row."""

from __future__ import annotations

import numpy as np

from zkpor.field.goldilocks import P
from zkpor.stark.air import Air, Assertion, Constraint, Frame


class FibonacciAir(Air):
    name = "fibonacci"

    def __init__(self, trace_length: int, result: int) -> None:
        super().__init__(trace_length)
        self.result = result % P

    @property
    def main_width(self) -> int:
        return 2

    def constraints(self) -> list[Constraint]:
        return [Constraint(1), Constraint(1)]

    def evaluate(self, frame: Frame, periodic) -> list:
        a, b = frame.current
        a_next, b_next = frame.next
        return [a_next - b, b_next - (a + b)]

    def assertions(self) -> list[Assertion]:
        last = self.trace_length - 1
        return [Assertion(0, 0, 1), Assertion(1, 0, 1), Assertion(1, last, self.result)]

    def public_inputs(self) -> list[int]:
        return [self.result]


def fibonacci_trace(trace_length: int) -> np.ndarray:
    a, b = 1, 1
    rows = []
    for _ in range(trace_length):
        rows.append((a, b))
        a, b = b, (a + b) % P
    return np.array(rows, dtype=np.uint64).T.copy()
