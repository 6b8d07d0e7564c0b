"""The prover's fused evaluation equals the generic constraint code it replaces.

The Poseidon2 gadget's kernel and the composition's batched linear combination are prover-only
shortcuts; these tests compare them with the generic `+ - *` evaluation on random rows that satisfy
nothing, so any slip in a round constant, a lane, a weight or a constraint's order shows up."""

import numpy as np
import pytest

from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext
from zkpor.stark import logup
from zkpor.stark.air import Air, Constraint, Frame, LookupTerm
from zkpor.stark.algebra import (
    BaseColumn,
    BaseVec,
    CombinedConstraints,
    ExtColumn,
    ExtVec,
    as_ext_array,
    base_columns,
    ext_columns,
    ext_row_views,
    ext_sum,
    row_views,
    selected_combinations,
    stacked,
)
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
    columns = base_columns(block, 5, ROWS)  # read in place, as frames are
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
    view, offset = stacked(base_columns(matrix, 2, 5)[1:3])
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


class LookupsAir(Air):
    """Lookups of every shape `logup.evaluate` meets: runs of plain pairs (one column among
    constants, anywhere in the tuple, multiplicity 1), broken by a table term (multiplicity
    column), a term of computed values and an odd term out."""

    name = "lookups"
    main_width = 12

    def constraints(self):
        return []

    def evaluate(self, frame, periodic):
        return []

    def lookups(self):
        def plain(values):
            return LookupTerm(values=values, multiplicity=lambda row, p: 1)

        return [
            plain(lambda row, p: [1, row[0]]),
            plain(lambda row, p: [1, row[3]]),
            plain(lambda row, p: [row[5]]),
            plain(lambda row, p: [2, 9, row[1], 4]),
            LookupTerm(values=lambda row, p: [1, row[2]], multiplicity=lambda row, p: -row[4],
                       multiplicity_degree=1),
            plain(lambda row, p: [1, row[6]]),
            plain(lambda row, p: [3, row[7] * 2 + 1, row[8]]),
            plain(lambda row, p: [1, row[9]]),
            plain(lambda row, p: [1, row[10]]),
            plain(lambda row, p: [1, row[11]]),
            plain(lambda row, p: [1, row[0]]),
        ]  # fmt: skip


class GroupedLookupsAir(Air):
    """An AIR of degree 7: LogUp packs its lookups six to a helper (`logup.groups`). Two runs of
    plain groups (two groups of six, then one of three), broken by a group with a table term."""

    name = "grouped-lookups"
    main_width = 12

    def constraints(self):
        return [Constraint(7)]

    def evaluate(self, frame, periodic):
        return [frame.current[0] ** 7]

    def lookups(self):
        def plain(column, before=(1,), after=()):
            values = lambda row, p: [*before, row[column], *after]  # noqa: E731
            return LookupTerm(values=values, multiplicity=lambda row, p: 1)

        table = LookupTerm(values=lambda row, p: [1, row[2]], multiplicity=lambda row, p: -row[4],
                           multiplicity_degree=1)  # fmt: skip
        first = [plain(c) for c in (0, 3, 5, 1, 6, 7)]
        second = [plain(8, (2, 9), (4,)), plain(9, ()), plain(10), plain(11), plain(0, (5,)), plain(2)]
        broken = [plain(c) for c in (1, 3, 5, 7)] + [table, plain(9)]
        return first + second + broken + [plain(c) for c in (4, 6, 8)]


def lookup_frame(rng, air):
    """A frame as the composition builds it: main columns and aux columns (pairs of base rows) read
    in place from their matrices."""
    width = 2 * logup.width(air)
    main = random_matrix(rng, (12, ROWS + 8))
    aux = random_matrix(rng, (width, ROWS + 8))
    frame = Frame(
        current=base_columns(main, 5, ROWS),
        next=base_columns(main, 6, ROWS),
        aux_current=ext_columns(aux, 5, ROWS),
        aux_next=ext_columns(aux, 6, ROWS),
    )
    return frame, aux


@SHAPES
def test_sponge_rows_in_blocks_equal_one_permutation_call_per_row(shape):
    rng = np.random.default_rng(41)
    sponges, rows, block, extra = ROWS, 3, 8, 5  # extra columns after the gadget's stay untouched
    rate, capacity = random_matrix(rng, (8 * rows, sponges)), random_matrix(rng, (4,))
    trace = random_matrix(rng, (shape.columns + extra, sponges * block))
    before = trace.copy()
    shape.fill_sponge_rows(trace, rate, capacity, block)
    lanes = np.repeat(capacity[:, None], sponges, axis=1)
    for r in range(rows):
        expected = shape.fill_trace(np.concatenate([rate[8 * r : 8 * r + 8], lanes]), fused=False)
        assert np.array_equal(trace[: shape.columns, r::block], expected), f"row {r}"
        lanes = expected[shape.output_offset + 8 : shape.output_offset + 12]
    assert np.array_equal(trace[shape.columns :], before[shape.columns :])
    assert np.array_equal(trace[:, rows::block], before[:, rows::block])  # other rows of a block


@pytest.mark.parametrize(
    ("air", "runs"),  # helpers a value stands for, fused ones negative; the running sum last
    [(LookupsAir(64), [-6, 1]), (GroupedLookupsAir(64), [-4, 1])],
    ids=["pairs", "groups"],
)
def test_fused_lookup_runs_equal_generic_constraints(air, runs):
    """Every helper in one run: plain terms read in place, the others (a table's multiplicity column,
    computed values, several columns) with their distance and multiplicity computed generically."""
    rng = np.random.default_rng(3)
    frame, _ = lookup_frame(rng, air)
    challenges = weights(rng, 2)
    generic = logup.evaluate(air, frame, [], challenges, fused=False)
    fused = logup.evaluate(air, frame, [], challenges)
    counts = [v.count if isinstance(v, CombinedConstraints) else 1 for v in fused]
    signed = [-c if isinstance(v, CombinedConstraints) else c for v, c in zip(fused, counts, strict=True)]
    assert signed == runs
    assert sum(counts) == len(generic)
    alphas = weights(rng, len(generic))
    total, k = None, 0
    for value, count in zip(fused, counts, strict=True):
        if isinstance(value, CombinedConstraints):
            term = value.combine(np.array([[a.c0, a.c1] for a in alphas[k : k + count]], dtype=np.uint64))
        else:
            term = value * alphas[k]
        total = term if total is None else total + term
        k += count
    assert np.array_equal(as_ext_array(total, ROWS), generic_sum(generic, alphas))


@pytest.mark.parametrize("air", [LookupsAir(64), GroupedLookupsAir(64)], ids=["pairs", "groups"])
def test_fused_lookup_runs_see_every_helper_and_column(air):
    """A change in any helper or in any column a lookup reads (for a value or a multiplicity)
    changes the fused sum."""
    rng = np.random.default_rng(4)
    frame, aux = lookup_frame(rng, air)
    challenges = weights(rng, 2)
    helpers = len(logup.groups(air))
    alphas = np.array([[a.c0, a.c1] for a in weights(rng, helpers)], dtype=np.uint64)

    def fused_run(frame):
        run = logup.evaluate(air, frame, [], challenges)[0]
        assert run.count == helpers
        return run.combine(alphas).values

    before = fused_run(frame)
    for helper in range(helpers):
        changed = aux.copy()
        changed[2 * helper + 1, 5 + 7] = (int(changed[2 * helper + 1, 5 + 7]) + 1) % gl.P
        other = Frame(frame.current, frame.next, ext_columns(changed, 5, ROWS), frame.aux_next)
        assert not np.array_equal(fused_run(other)[7], before[7]), helper
    for column in range(air.main_width):
        current = list(frame.current)
        values = current[column].values.copy()
        values[7] = (int(values[7]) + 1) % gl.P
        current[column] = BaseVec(values)
        other = Frame(current, frame.next, frame.aux_current, frame.aux_next)
        assert not np.array_equal(fused_run(other)[7], before[7]), column


def test_ext_row_views_read_ext_columns_in_place_and_copy_others():
    matrix = np.arange(60, dtype=np.uint64).reshape(6, 10).copy()
    columns = ext_columns(matrix, 2, 5)
    assert len(columns) == 3 and all(isinstance(c, ExtColumn) for c in columns)
    assert np.array_equal(columns[1].values, np.stack([matrix[2, 2:7], matrix[3, 2:7]], axis=-1))
    found, rows, offset = ext_row_views([columns[2], columns[0]])
    assert found is matrix and rows.tolist() == [4, 0] and offset == 2
    pairs = [ExtVec(c.values.copy()) for c in (columns[2], columns[0])]
    copy, rows, offset = ext_row_views(pairs)
    assert not np.shares_memory(copy, matrix) and rows.tolist() == [0, 2] and offset == 0
    assert np.array_equal(copy, matrix[[4, 5, 0, 1], 2:7])


def test_row_views_find_any_rows_of_one_matrix_at_one_offset():
    matrix = np.arange(40, dtype=np.uint64).reshape(4, 10).copy()
    found, rows, offset = row_views([BaseColumn(matrix, 3, 2, 5), BaseColumn(matrix, 0, 2, 5)])
    assert found is matrix and rows.tolist() == [3, 0] and offset == 2
    assert np.array_equal(BaseColumn(matrix, 3, 2, 5).values, matrix[3, 2:7])
    assert row_views([BaseColumn(matrix, 3, 2, 5), BaseColumn(matrix, 0, 3, 5)]) is None  # two offsets
    assert row_views([BaseColumn(matrix, 3, 2, 5), BaseVec(matrix[0, 2:7])]) is None  # not a column
    with pytest.raises(ValueError, match="C-contiguous"):
        base_columns(matrix[:, 1:], 0, 5)


def test_selected_combinations_equal_term_by_term_sums():
    """Σ_r s_r · Σ_i w_ri · v_ri by the kernel (values read in place, or copied when they are not
    slices of one matrix; group sizes not multiples of its four rows per pass, one empty) equals
    the sum term by term."""
    rng = np.random.default_rng(5)
    block = random_matrix(rng, (20, ROWS + 8))
    sizes = [5, 0, 4, 7, 1]
    picks = [rng.choice(20, size, replace=False).tolist() for size in sizes]
    selectors = [BaseVec(row) for row in random_matrix(rng, (len(sizes), ROWS))]
    group_weights = [weights(rng, size) for size in sizes]
    expected = None
    for selector, pick, ws in zip(selectors, picks, group_weights, strict=True):
        for row, w in zip(pick, ws, strict=True):
            term = BaseVec(block[row, 3 : 3 + ROWS]) * w * selector
            expected = term if expected is None else expected + term
    in_place = [[BaseColumn(block, row, 3, ROWS) for row in pick] for pick in picks]
    copied = [[BaseVec(block[row, 3 : 3 + ROWS].copy()) for row in pick] for pick in picks]
    for values in (in_place, copied):
        got = selected_combinations(selectors, values, group_weights)
        assert np.array_equal(got.values, expected.values)


class MemoryBusAir(Air):
    """Lookups shaped like a memory bus (the recursion AIR's): (tag, address + offset, c0, c1)
    with preprocessed addresses, multiplicities 1, −m (a preprocessed column) or a periodic
    selector, an odd term out, and a public end; `nonlinear` adds a term whose value is a product
    of two columns (the fused kernel does not take it)."""

    name = "memory-bus"
    main_width = 6
    preprocessed_width = 3

    def __init__(self, n: int, nonlinear: bool = False) -> None:
        super().__init__(n)
        self.nonlinear = nonlinear

    def constraints(self):
        return []

    def evaluate(self, frame, periodic):
        return []

    def periodic_columns(self):
        return [np.array([0, 0, 0, 1], dtype=np.uint64)]

    def lookups(self):
        def cell(address, c0, c1=None, offset=0):
            return lambda row, p: [1, p[1 + address] + offset, row[c0], 0 if c1 is None else row[c1]]

        terms = [
            LookupTerm(cell(0, 0, 1), lambda row, p: 1, name="read"),
            LookupTerm(cell(1, 2, offset=3), lambda row, p: -p[3], multiplicity_degree=1, name="write"),
            LookupTerm(cell(2, 3), lambda row, p: p[0], multiplicity_degree=1, name="periodic read"),
            LookupTerm(lambda row, p: [2, row[4] * 5 + 1, row[5]], lambda row, p: 1, name="plain-ish"),
            LookupTerm(cell(0, 5, 4), lambda row, p: 1 - p[2], multiplicity_degree=1, name="odd"),
        ]
        if self.nonlinear:
            terms.append(LookupTerm(lambda row, p: [1, row[0] * row[1]], lambda row, p: 1, values_degree=2))
        return terms

    def lookup_public_sum(self, beta, gamma):
        return Ext(5, 6)


@pytest.mark.parametrize("nonlinear", [False, True], ids=["linear", "nonlinear"])
def test_fused_linear_lookups_equal_generic_constraints(nonlinear):
    """A bus whose terms are linear in the columns is one kernel (every helper and the running
    sum); with a term that is not, the generic code runs. Either way the same sum."""
    rng = np.random.default_rng(6)
    air = MemoryBusAir(64, nonlinear)
    width = 2 * logup.width(air)
    main = random_matrix(rng, (6, ROWS + 8))
    fixed = random_matrix(rng, (3, ROWS + 8))
    aux = random_matrix(rng, (width, ROWS + 8))
    periodic = [BaseVec(random_matrix(rng, (ROWS,)))]

    def frame_of(main, fixed, aux):
        return Frame(
            base_columns(main, 5, ROWS), base_columns(main, 6, ROWS), ext_columns(aux, 5, ROWS),
            ext_columns(aux, 6, ROWS), base_columns(fixed, 5, ROWS), base_columns(fixed, 6, ROWS),
        )  # fmt: skip

    frame = frame_of(main, fixed, aux)
    challenges = weights(rng, 2)
    generic = logup.evaluate(air, frame, periodic, challenges, fused=False)
    fused = logup.evaluate(air, frame, periodic, challenges)
    alphas = weights(rng, len(generic))
    if nonlinear:
        assert not any(isinstance(v, CombinedConstraints) for v in fused)
        assert np.array_equal(generic_sum(fused, alphas), generic_sum(generic, alphas))
        return
    assert len(fused) == 1 and fused[0].count == len(generic) == 4  # 3 helpers and the running sum
    pairs = np.array([[a.c0, a.c1] for a in alphas], dtype=np.uint64)
    assert np.array_equal(fused[0].combine(pairs).values, generic_sum(generic, alphas))
    # every column it reads counts: a change in any of them changes the sum at that row
    before = fused[0].combine(pairs).values
    for matrix, rows in ((main, range(6)), (fixed, range(3)), (aux, range(width))):
        for row in rows:
            saved = matrix[row, 5 + 7]
            matrix[row, 5 + 7] = (int(saved) + 1) % gl.P
            changed = frame_of(main, fixed, aux)
            after = logup.evaluate(air, changed, periodic, challenges)[0].combine(pairs).values
            matrix[row, 5 + 7] = saved
            assert not np.array_equal(after[7], before[7]), (row, matrix.shape)


def test_ext_sum_of_columns_in_place_equals_the_sum_term_by_term():
    """Many values near p, so the in-place row sums carry past 2^64."""
    rng = np.random.default_rng(7)
    matrix = (gl.P - 1 - gl.random_elements((54, ROWS + 8), rng) % np.uint64(1000)).astype(np.uint64)
    columns = ext_columns(matrix, 5, ROWS)
    expected = ExtVec(columns[0].values.copy())
    for column in columns[1:]:
        expected = expected + ExtVec(column.values.copy())
    got = ext_sum(columns)
    assert np.array_equal(got.values, expected.values)
    assert ext_sum([Ext(3, 4), Ext(5, 6)]) == Ext(8, 10)
