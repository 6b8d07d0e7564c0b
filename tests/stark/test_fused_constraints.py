"""The prover's fused evaluation equals the generic constraint code it replaces.

The Poseidon2 gadget's kernel and the composition's batched linear combination are prover-only
shortcuts; these tests compare them with the generic `+ - *` evaluation on random rows that satisfy
nothing, so any slip in a round constant, a lane, a weight or a constraint's order shows up."""

import numpy as np
import pytest

from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext
from zkpor.stark.air import Constraint, Frame
from zkpor.stark.algebra import BaseVec, CombinedConstraints, ExtVec, as_ext_array, stacked
from zkpor.stark.composition import combine
from zkpor.stark.examples.poseidon2_air import Poseidon2Air
from zkpor.stark.gadgets import poseidon2 as gadget

ROWS = 300  # not a multiple of the kernel's tile
SHAPES = pytest.mark.parametrize("shape", [gadget.CUBED, gadget.NARROW], ids=["sbox3", "sbox7"])


def random_matrix(rng, shape) -> np.ndarray:
    return gl.random_elements(shape, rng)


def weights(rng, count) -> list[Ext]:
    return [Ext(int(a), int(b)) for a, b in random_matrix(rng, (count, 2))]


def generic_sum(values, alphas) -> np.ndarray:
    total = None
    for value, alpha in zip(values, alphas, strict=True):
        term = value * alpha
        total = term if total is None else total + term
    return as_ext_array(total, ROWS)


@SHAPES
def test_fused_gadget_equals_generic_constraints(shape):
    rng = np.random.default_rng(1)
    block = random_matrix(rng, (shape.columns + 3, ROWS + 8))  # wider and longer, like a frame
    columns = [BaseVec(row[5 : 5 + ROWS]) for row in block]
    alphas = weights(rng, shape.num_constraints)
    generic, generic_output = shape.constraints(columns, fused=False)
    (group,), output = shape.constraints(columns)
    assert isinstance(group, CombinedConstraints) and group.count == shape.num_constraints
    fused = group.combine(np.array([[a.c0, a.c1] for a in alphas], dtype=np.uint64))
    assert np.array_equal(fused.values, generic_sum(generic, alphas))
    # the output state: the generic code continues from the stored columns, so they coincide
    assert all(np.array_equal(a.values, b.values) for a, b in zip(output, generic_output, strict=True))


@SHAPES
def test_fused_gadget_sees_every_constraint(shape):
    """A change in any one stored column changes the fused sum (no constraint is skipped)."""
    rng = np.random.default_rng(2)
    block = random_matrix(rng, (shape.columns, ROWS))
    alphas = np.array([[a.c0, a.c1] for a in weights(rng, shape.num_constraints)], dtype=np.uint64)

    def fused(matrix):
        (group,), _ = shape.constraints([BaseVec(row) for row in matrix])
        return group.combine(alphas).values

    before = fused(block)
    for column in range(gadget.WIDTH, shape.columns):
        changed = block.copy()
        changed[column, 7] = (int(changed[column, 7]) + 1) % gl.P
        after = fused(changed)
        assert not np.array_equal(after[7], before[7]), column


def test_stacked_is_a_view_of_consecutive_rows_and_a_copy_otherwise():
    matrix = np.arange(40, dtype=np.uint64).reshape(4, 10).copy()  # owns its memory, as frames do
    view, offset = stacked([BaseVec(row[2:7]) for row in matrix[1:3]])
    assert offset == 2 and np.shares_memory(view, matrix)
    assert np.array_equal(view[:, offset : offset + 5], matrix[1:3, 2:7])
    copy, offset = stacked([BaseVec(matrix[2]), BaseVec(matrix[0])])
    assert offset == 0 and not np.shares_memory(copy, matrix)
    assert np.array_equal(copy, matrix[[2, 0]])


def test_batched_combination_equals_term_by_term():
    """`combine` sums vectors with one linear combination; scalars (the verifier) term by term."""
    rng = np.random.default_rng(3)
    n = 16
    air = Poseidon2Air(n, [0] * 12)
    air.constraints = lambda: [Constraint(1, wraps=True), Constraint(1), Constraint(1, wraps=True)]
    air.assertions = lambda: []
    base = BaseVec(random_matrix(rng, ROWS))
    ext_value = ExtVec(random_matrix(rng, (ROWS, 2)))
    alphas = weights(rng, 3)
    x = BaseVec(random_matrix(rng, ROWS))
    zh, last = BaseVec(random_matrix(rng, ROWS)), BaseVec(random_matrix(rng, ROWS))
    frame = Frame(current=[], next=[])
    got = combine(air, [base, ext_value, 5], [], frame, alphas, x, zh, last, [])
    wrapping = base * alphas[0] + 5 * alphas[2]
    expected = (wrapping + ext_value * alphas[1] * last) * zh
    assert np.array_equal(as_ext_array(got, ROWS), as_ext_array(expected, ROWS))


def test_combine_refuses_a_count_mismatch():
    air = Poseidon2Air(16, [0] * 12)
    air.assertions = lambda: []
    vec = BaseVec(np.zeros(4, dtype=np.uint64))
    with pytest.raises(ValueError, match="do not match"):
        combine(air, [vec], [], Frame([], []), [Ext(1, 0)] * 300, vec, vec, vec, [])


@SHAPES
def test_fused_trace_filler_equals_generic_code(shape):
    rng = np.random.default_rng(6)
    inputs = random_matrix(rng, (gadget.WIDTH, 700))  # several tiles and a partial one
    assert np.array_equal(shape.fill_trace(inputs), shape.fill_trace(inputs, fused=False))
    assert np.array_equal(shape.fill_trace(inputs[:, :1]), shape.fill_trace(inputs[:, :1], fused=False))
