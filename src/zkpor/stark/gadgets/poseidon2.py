"""Poseidon2 (width 12, Plonky3's Goldilocks instance) as AIR columns and degree-3 constraints.

One permutation takes `COLUMNS` = 248 columns of one row:

    inputs[12]
    4 initial full rounds × (sbox[12], post[12])    sbox = (s + rc)^3, post = M_E((sbox)^2·(s + rc))
    22 partial rounds    × (sbox, post_sbox)        on lane 0 only; the other lanes stay linear
    4 final full rounds  × (sbox[12], post[12])

Storing x^3 lets x^7 = (x^3)^2·x be checked with degree-3 constraints. In partial rounds only lane 0
goes through the S-box; the internal layer is linear, so the state is carried as linear expressions
in the columns instead of being stored (Plonky3's Poseidon2 AIR does the same).

`permutation_rounds` is written once over a `register` callback: building the trace, it stores each
value in its column; checking constraints, it emits `column − value` and continues from the column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from zkpor.hash import poseidon2_constants as C  # noqa: N812 (the constants module, as in hash/)
from zkpor.stark.algebra import BaseVec, CombinedConstraints, ExtVec, stacked

WIDTH = 12
FULL_ROUND_COLUMNS = 2 * WIDTH
COLUMNS = WIDTH + 2 * C.HALF_FULL_ROUNDS * FULL_ROUND_COLUMNS + 2 * C.PARTIAL_ROUNDS
CONSTRAINT_DEGREE = 3
NUM_CONSTRAINTS = COLUMNS - WIDTH  # one per stored column

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


def permutation_rounds(inputs: Sequence, register: Register) -> list:
    """Run the permutation from `inputs`, passing every stored intermediate through `register`."""
    column = WIDTH
    state = external_layer(inputs)

    def full_round(state: Sequence, constants: Sequence[int]) -> list:
        nonlocal column
        shifted = [s + rc for s, rc in zip(state, constants, strict=True)]
        cubes = [register(column + i, x * x * x) for i, x in enumerate(shifted)]
        sevenths = [c * c * x for c, x in zip(cubes, shifted, strict=True)]
        mixed = external_layer(sevenths)
        post = [register(column + WIDTH + i, v) for i, v in enumerate(mixed)]
        column += FULL_ROUND_COLUMNS
        return post

    for constants in C.RC12_EXTERNAL_INITIAL:
        state = full_round(state, constants)
    for rc in C.RC12_INTERNAL:
        x = state[0] + rc
        cube = register(column, x * x * x)
        seventh = register(column + 1, cube * cube * x)
        column += 2
        state = internal_layer([seventh, *state[1:]])
    for constants in C.RC12_EXTERNAL_FINAL:
        state = full_round(state, constants)
    return state


def constraints(columns: Sequence, *, fused: bool = True) -> tuple[list, list]:
    """(constraint expressions, output state as expressions) for a row's columns.

    On the prover's `BaseVec` columns (and unless `fused=False`) the list holds one
    `CombinedConstraints` standing for all NUM_CONSTRAINTS, evaluated by the fused kernel of
    `poseidon2_kernel`; the output is then the last round's stored columns, as in the generic code.
    """
    if fused and all(isinstance(c, BaseVec) for c in columns[:COLUMNS]):
        from zkpor.stark.gadgets.poseidon2_kernel import combined_constraints

        matrix, offset = stacked(list(columns[:COLUMNS]))
        rows = len(columns[0])
        group = CombinedConstraints(
            NUM_CONSTRAINTS, lambda alphas: ExtVec(combined_constraints(matrix, offset, rows, alphas))
        )
        return [group], list(columns[COLUMNS - WIDTH : COLUMNS])
    out: list = []

    def check(index: int, value):
        out.append(columns[index] - value)
        return columns[index]

    output = permutation_rounds(columns[:WIDTH], check)
    return out, output


def fill_trace(inputs: np.ndarray, *, fused: bool = True) -> np.ndarray:
    """All 248 columns for n permutations at once; `inputs` has shape (12, n). The fused kernel
    (`poseidon2_kernel.fill_columns`) computes what `permutation_rounds` registers, on all threads;
    `fused=False` runs the generic code (the tests compare the two)."""
    trace = np.empty((COLUMNS, inputs.shape[1]), dtype=np.uint64)
    trace[:WIDTH] = inputs
    if fused:
        from zkpor.stark.gadgets.poseidon2_kernel import fill_columns

        fill_columns(trace)
        return trace

    def store(index: int, value: BaseVec) -> BaseVec:
        trace[index] = value.values
        return value

    permutation_rounds([BaseVec(np.ascontiguousarray(row)) for row in inputs], store)
    return trace


def output_columns_offset() -> int:
    """Where the last full round's `post` columns (the permutation output) start."""
    return COLUMNS - WIDTH
