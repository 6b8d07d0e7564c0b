"""Poseidon2 (width 12, Plonky3's Goldilocks instance) as AIR columns and constraints.

Two shapes of one permutation per row, `Poseidon2Gadget(sbox_degree)`:

- degree 3 (`CUBED`, the module-level API, 248 columns): the x³ of every S-box is stored beside
  its output, so x⁷ = (x³)²·x is checked by degree-3 constraints:

      inputs[12]
      4 initial full rounds × (sbox[12], post[12])    sbox = (s + rc)^3, post = M_E((sbox)^2·(s + rc))
      22 partial rounds    × (sbox, post_sbox)        on lane 0 only; the other lanes stay linear
      4 final full rounds  × (sbox[12], post[12])

- degree 7 (`NARROW`, 130 columns): one column per S-box output, checked by degree-7 constraints
  (inputs[12], 8 full rounds × post[12], 22 partial rounds × post_sbox). Half the columns, but a
  quotient of 13 chunks under zero knowledge (5 at degree 3), so a blowup of at least 8.

In partial rounds only lane 0 goes through the S-box; the internal layer is linear, so the state is
carried as linear expressions in the columns instead of being stored (Plonky3's Poseidon2 AIR does
the same).

`Poseidon2Gadget.rounds` is written once over a `register` callback: building the trace, it stores
each value in its column; checking constraints, it emits `column − value` and continues from the
column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from zkpor.hash import poseidon2_constants as C  # noqa: N812 (the constants module, as in hash/)
from zkpor.stark.algebra import BaseVec, CombinedConstraints, ExtVec, stacked

WIDTH = 12
FULL_ROUNDS = 2 * C.HALF_FULL_ROUNDS

Register = Callable[[int, object], object]


def external_layer(state: Sequence) -> list:
    """Plonky3's external layer: MDSMat4 per block of four, then add the per-position block sums."""
    out = []
    for b in range(0, WIDTH, 4):
        x0, x1, x2, x3 = state[b : b + 4]
        out += [
            x0 * 2 + x1 * 3 + x2 + x3,
            x0 + x1 * 2 + x2 * 3 + x3,
            x0 + x1 + x2 * 2 + x3 * 3,
            x0 * 3 + x1 + x2 + x3 * 2,
        ]
    sums = [out[k] + out[k + 4] + out[k + 8] for k in range(4)]
    return [v + sums[i % 4] for i, v in enumerate(out)]


def internal_layer(state: Sequence) -> list:
    total = state[0]
    for v in state[1:]:
        total = total + v
    return [v * d + total for v, d in zip(state, C.DIAG12, strict=True)]


@dataclass(frozen=True)
class Poseidon2Gadget:
    """One permutation per row; `sbox_degree` 3 stores x³ beside each S-box output, 7 does not."""

    sbox_degree: int

    def __post_init__(self) -> None:
        if self.sbox_degree not in (3, 7):
            raise ValueError(f"the Poseidon2 gadget's S-box degree is 3 or 7, not {self.sbox_degree}")

    @property
    def stores_cubes(self) -> bool:
        return self.sbox_degree == 3

    @property
    def columns_per_sbox(self) -> int:
        return 2 if self.stores_cubes else 1

    @cached_property  # a layout's column indices start after it, read chunk after chunk
    def columns(self) -> int:
        per_sbox = self.columns_per_sbox
        return WIDTH + FULL_ROUNDS * WIDTH * per_sbox + C.PARTIAL_ROUNDS * per_sbox

    @property
    def constraint_degree(self) -> int:
        return self.sbox_degree

    @property
    def num_constraints(self) -> int:
        return self.columns - WIDTH  # one per stored column

    @property
    def output_offset(self) -> int:
        """Where the last full round's `post` columns (the permutation output) start."""
        return self.columns - WIDTH

    def rounds(self, inputs: Sequence, register: Register) -> list:
        """Run the permutation from `inputs`, passing every stored intermediate through `register`."""
        column = WIDTH
        state = external_layer(inputs)

        def sbox(x):
            """x⁷, through a stored x³ (degree 3) or in one expression (degree 7)."""
            nonlocal column
            if self.stores_cubes:
                cube = register(column, x * x * x)
                column += 1
                return cube * cube * x
            square = x * x
            return square * square * square * x

        def full_round(state: Sequence, constants: Sequence[int]) -> list:
            nonlocal column
            sevenths = [sbox(s + rc) for s, rc in zip(state, constants, strict=True)]
            post = [register(column + i, v) for i, v in enumerate(external_layer(sevenths))]
            column += WIDTH
            return post

        for constants in C.RC12_EXTERNAL_INITIAL:
            state = full_round(state, constants)
        for rc in C.RC12_INTERNAL:
            seventh = sbox(state[0] + rc)  # (its x³, if stored, takes the column before)
            seventh = register(column, seventh)
            column += 1
            state = internal_layer([seventh, *state[1:]])
        for constants in C.RC12_EXTERNAL_FINAL:
            state = full_round(state, constants)
        return state

    def constraints(self, columns: Sequence, *, fused: bool = True) -> tuple[list, list]:
        """(constraint expressions, output state as expressions) for a row's columns.

        On the prover's `BaseVec` columns (and unless `fused=False`) the list holds one
        `CombinedConstraints` standing for all `num_constraints`, evaluated by the fused kernel of
        `poseidon2_kernel`; the output is then the last round's stored columns, as in the generic
        code."""
        width = self.columns
        if fused and all(isinstance(c, BaseVec) for c in columns[:width]):
            from zkpor.stark.gadgets.poseidon2_kernel import combined_constraints

            matrix, offset = stacked(list(columns[:width]))
            rows = len(columns[0])
            degree = self.sbox_degree
            group = CombinedConstraints(
                self.num_constraints,
                lambda alphas: ExtVec(combined_constraints(matrix, offset, rows, alphas, degree)),
            )
            return [group], list(columns[self.output_offset : width])
        out: list = []

        def check(index: int, value):
            out.append(columns[index] - value)
            return columns[index]

        output = self.rounds(columns[:WIDTH], check)
        return out, output

    def fill_trace(self, inputs: np.ndarray, *, fused: bool = True) -> np.ndarray:
        """All `columns` for n permutations at once; `inputs` has shape (12, n). The fused kernel
        (`poseidon2_kernel.fill_columns`) computes what `rounds` registers, on all threads;
        `fused=False` runs the generic code (the tests compare the two)."""
        trace = np.empty((self.columns, inputs.shape[1]), dtype=np.uint64)
        trace[:WIDTH] = inputs
        if fused:
            from zkpor.stark.gadgets.poseidon2_kernel import fill_columns

            fill_columns(trace, self.sbox_degree)
            return trace

        def store(index: int, value: BaseVec) -> BaseVec:
            trace[index] = value.values
            return value

        self.rounds([BaseVec(np.ascontiguousarray(row)) for row in inputs], store)
        return trace

    def fill_sponge_rows(self, trace: np.ndarray, rate: np.ndarray, capacity: np.ndarray, block: int) -> None:
        """Overwrite-mode sponges, one per block of `block` rows of `trace` (C-contiguous, the
        gadget's columns first): sponge j's permutation r goes on row j·block + r, absorbing
        rate[8r : 8r + 8, j] over the capacity lanes of permutation r − 1's output (for r = 0,
        `capacity`, 4 elements); rate has 8R rows, one column per sponge. The same columns as
        `fill_trace` row by row, each sponge's R rows written together
        (`poseidon2_kernel.fill_sponge_rows`): one pass over the trace instead of R strided ones."""
        from zkpor.stark.gadgets.poseidon2_kernel import fill_sponge_rows

        fill_sponge_rows(trace, self.columns, rate, capacity, block, self.output_offset, self.sbox_degree)


CUBED = Poseidon2Gadget(3)
NARROW = Poseidon2Gadget(7)

# The degree-3 gadget as module-level names (the recursion AIR and the examples use it).
COLUMNS = CUBED.columns
CONSTRAINT_DEGREE = CUBED.constraint_degree
NUM_CONSTRAINTS = CUBED.num_constraints


def permutation_rounds(inputs: Sequence, register: Register) -> list:
    return CUBED.rounds(inputs, register)


def constraints(columns: Sequence, *, fused: bool = True) -> tuple[list, list]:
    return CUBED.constraints(columns, fused=fused)


def fill_trace(inputs: np.ndarray, *, fused: bool = True) -> np.ndarray:
    return CUBED.fill_trace(inputs, fused=fused)


def output_columns_offset() -> int:
    return CUBED.output_offset
