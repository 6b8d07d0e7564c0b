"""LogUp auxiliary columns (Haböck, eprint 2022/1530), built from an AIR's `lookups()`.

For challenges β, γ, terms t with multiplicity m_t and fingerprint φ_t = Σ γ^i v_{t,i}, the terms
are taken two at a time (a degree-3 constraint instead of two degree-2 ones halves the columns):

    helper_g[i]  = m_a[i] / (β − φ_a[i]) + m_b[i] / (β − φ_b[i])       for the pair g = (a, b)
    running[i]   = Σ_{j<i} (Σ_g helper_g[j] − S/n)                      (so running[0] = 0)

with S the AIR's `lookup_public_sum` (zero unless a bus has a public open end). The constraints,
on every row including the wrap from the last to the first,

    helper_g · (β − φ_a)(β − φ_b) = m_a (β − φ_b) + m_b (β − φ_a)
    running[i+1] − running[i] = Σ_g helper_g[i] − S/n

hold exactly when Σ_i Σ_t m_t[i] / (β − φ_t[i]) = S: the lookup (or multiset) relation, up to a
~(n · terms)/|F| error. An odd term out gets a helper of its own (h · (β − φ) = m).

An AIR whose main constraints are of a higher degree d > 3 pays for a quotient of that degree
anyway, so its helpers take as many terms as keep the helper's constraint within d:
h · Π_t (β − φ_t) = Σ_t m_t Π_{u≠t} (β − φ_u) (six plain lookups at degree 7, a third of the
helper columns of pairs).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from zkpor.field import extension as ext
from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext
from zkpor.stark.air import Air, AirError, Constraint, Frame, LookupTerm, compress_values
from zkpor.stark.algebra import (
    BaseVec,
    CombinedConstraints,
    ExtVec,
    as_ext_array,
    ext_row_views,
    ext_sum,
    linear_combination,
    read_in_place,
)
from zkpor.stark.kernels import exclusive_prefix_sum


def group_degree(group: Sequence[LookupTerm]) -> int:
    """Degree of a helper's constraint h · Π (β − φ_t) = Σ_t m_t Π_{u≠t} (β − φ_u)."""
    values = sum(t.values_degree for t in group)
    return max(1 + values, *(t.multiplicity_degree + values - t.values_degree for t in group))


def groups(air: Air) -> list[tuple[LookupTerm, ...]]:
    """The terms each helper column sums: pairs, or for an AIR of main degree d > 3, as many as
    keep each helper's constraint within degree d."""
    terms = air.lookups()
    budget = max([c.degree for c in air.constraints()], default=1)
    if budget <= 3:
        return [tuple(terms[i : i + 2]) for i in range(0, len(terms), 2)]
    out: list[tuple[LookupTerm, ...]] = []
    group: list[LookupTerm] = []
    for term in terms:
        if len(group) >= 2 and group_degree([*group, term]) > budget:
            out.append(tuple(group))
            group = []
        group.append(term)
    return out + ([tuple(group)] if group else [])


def width(air: Air) -> int:
    """Helper columns plus the running sum (zero without lookups)."""
    count = len(groups(air))
    return count + 1 if count else 0


def constraints(air: Air) -> list[Constraint]:
    out = [Constraint(group_degree(group), wraps=True) for group in groups(air)]
    return out + ([Constraint(1, wraps=True)] if out else [])


def _pole_distance(term: LookupTerm, row, periodic, beta, gamma):
    values = list(term.values(row, periodic))
    if isinstance(beta, Ext) and isinstance(gamma, Ext):  # the prover's vectors
        columns, weights, constant, power = [], [], Ext(0, 0), Ext(1, 0)
        for value in values:
            if isinstance(value, int):
                constant = constant + power * value
            elif isinstance(value, BaseVec):
                columns.append(value)
                weights.append(-power)
            else:
                break
            power = power * gamma
        else:  # several columns among constants (a memory cell's address and value): one kernel
            if len(columns) > 1:  # pass for β − Σ γ^i·v_i, not a vector per step of Horner's rule
                return linear_combination(columns, weights) + (beta - constant)
    return beta - compress_values(values, gamma)


def _times(multiplicity, value):
    """multiplicity · value, without a pass over the vector for a plain lookup's multiplicity 1."""
    return value if isinstance(multiplicity, int) and multiplicity == 1 else multiplicity * value


def _plain_term(term: LookupTerm, row, periodic, gamma: Ext) -> tuple[BaseVec, Ext, Ext] | None:
    """For a plain lookup on the prover's vectors (multiplicity 1, one column among integer
    constants): (the column v, Σ γ^i·(the constants), γ^(v's place)), so that the fingerprint
    `compress_values` gives is constant + weight·v; None for any other term."""
    multiplicity = term.multiplicity(row, periodic)
    if not (isinstance(multiplicity, int) and multiplicity == 1):
        return None
    column, constant, weight, power = None, Ext(0, 0), None, Ext(1, 0)
    for value in term.values(row, periodic):
        if isinstance(value, int):
            constant = constant + power * value
        elif isinstance(value, BaseVec) and column is None:
            column, weight = value, power
        else:
            return None
        power = power * gamma
    return None if column is None else (column, constant, weight)


def _fused_runs(all_groups, helpers, row, periodic, beta, gamma) -> dict[int, tuple[int, Any]]:
    """Runs [start, end) of consecutive helpers on the prover's vectors, by start, with the
    `CombinedConstraints` that evaluates the run's constraints through
    `logup_kernel.combined_groups`; none on the verifier's scalars. Only an AIR with some helper
    of two or more plain lookups has runs: its other helpers' terms join them with their
    distances and multiplicities computed by the generic code (`_computed_term`); an AIR without
    (a memory bus) is left to `_linear_run`."""
    if not (isinstance(beta, Ext) and isinstance(gamma, Ext)):
        return {}
    described: list[list | None] = []
    for group, helper in zip(all_groups, helpers, strict=True):
        terms = [_plain_term(t, row, periodic, gamma) for t in group] if isinstance(helper, ExtVec) else None
        described.append(terms)
    if not any(terms and len(terms) >= 2 and all(t is not None for t in terms) for terms in described):
        return {}
    length = len(helpers[0])
    for g, terms in enumerate(described):
        if terms is None:
            continue
        for i, term in enumerate(terms):
            if term is None:
                terms[i] = _computed_term(all_groups[g][i], row, periodic, beta, gamma, length)
        if any(term is None for term in terms):
            described[g] = None
    runs = {}
    start = 0
    while start < len(described):
        end = start
        while end < len(described) and described[end] is not None:
            end += 1
        if end > start:
            runs[start] = (end, _group_run(described[start:end], list(helpers[start:end]), beta, length))
        start = end + 1
    return runs


def _computed_term(term: LookupTerm, row, periodic, beta: Ext, gamma: Ext, length: int) -> np.ndarray | None:
    """A lookup's distance β − φ and multiplicity as the (3, length) rows (d's c0, c1, μ) that
    `combined_groups` takes for a computed term, or None when the multiplicity is not a base value."""
    multiplicity = term.multiplicity(row, periodic)
    if not isinstance(multiplicity, int | BaseVec):
        return None
    out = np.empty((3, length), dtype=np.uint64)
    distance = ExtVec.coerce(_pole_distance(term, row, periodic, beta, gamma), length).values
    out[0], out[1] = distance[:, 0], distance[:, 1]
    out[2] = multiplicity.values if isinstance(multiplicity, BaseVec) else multiplicity % gl.P
    return out


def _group_run(groups_terms: list, helpers: list[ExtVec], beta: Ext, length: int) -> CombinedConstraints:
    from zkpor.stark.logup_kernel import combined_groups

    terms = [t for group in groups_terms for t in group]
    starts = np.cumsum([0] + [len(group) for group in groups_terms])
    plain = [t for t in terms if isinstance(t, tuple)]
    computed = [t for t in terms if not isinstance(t, tuple)]
    kinds = np.full(len(terms), -1, dtype=np.int64)
    kinds[[i for i, t in enumerate(terms) if not isinstance(t, tuple)]] = np.arange(len(computed))
    rows = np.zeros(len(terms), dtype=np.int64)
    constants = np.zeros((len(terms), 2), dtype=np.uint64)
    weights = np.zeros((len(terms), 2), dtype=np.uint64)
    matrix, offset = np.zeros((1, 1), dtype=np.uint64), 0  # a stand-in when every term is computed
    if plain:
        matrix, rows[kinds < 0], offset = read_in_place([column for column, _, _ in plain])
        constants[kinds < 0] = ext.ext_array([beta - c for _, c, _ in plain])  # d = (β − c) − w·v
        weights[kinds < 0] = ext.ext_array([weight for _, _, weight in plain])
    computed_rows = np.concatenate(computed) if computed else None
    aux, helper_rows, helper_offset = ext_row_views(helpers)  # the aux LDE's rows, in place

    def combine(alphas: np.ndarray) -> ExtVec:
        values = (matrix, rows, offset)
        helper_values = (aux, helper_rows, helper_offset, length)
        return ExtVec(combined_groups(*values, *helper_values, starts, constants, weights, alphas, kinds,
                                      computed_rows))  # fmt: skip

    return CombinedConstraints(len(helpers), combine)


def evaluate(air: Air, frame: Frame, periodic: Sequence, challenges: Sequence, *, fused: bool = True) -> list:
    """The helpers' and the running sum's constraints. On the prover's vectors (unless
    `fused=False`) runs of helpers come as one `CombinedConstraints` each (`_fused_runs`); with
    none, when every term is linear in the columns (a memory bus's), all of them and the running
    sum's come as one (`_linear_run`)."""
    if not challenges:
        return []
    beta, gamma = challenges
    periodic = [*periodic, *frame.preprocessed]  # what lookup terms see as `fixed`
    all_groups = groups(air)
    n_helpers = len(all_groups)
    helpers = frame.aux_current[:n_helpers]
    runs = _fused_runs(all_groups, helpers, frame.current, periodic, beta, gamma) if fused else {}
    if fused and not runs:  # no plain pairs: all in one kernel if every term is linear (a memory bus)
        combined = _linear_run(air, frame, all_groups, periodic, beta, gamma)
        if combined is not None:
            return [combined]
    out = []
    g = 0
    while g < n_helpers:
        if g in runs:
            g, combined = runs[g]
            out.append(combined)
            continue
        group, helper, row = all_groups[g], helpers[g], frame.current
        g += 1
        if len(group) == 1:
            (t,) = group
            out.append(helper * _pole_distance(t, row, periodic, beta, gamma) - t.multiplicity(row, periodic))
        elif len(group) == 2:
            a, b = group
            da = _pole_distance(a, row, periodic, beta, gamma)
            db = _pole_distance(b, row, periodic, beta, gamma)
            m_a, m_b = a.multiplicity(row, periodic), b.multiplicity(row, periodic)
            out.append(helper * da * db - _times(m_a, db) - _times(m_b, da))
        else:
            out.append(_group_constraint(group, helper, row, periodic, beta, gamma))
    running, running_next = frame.aux_current[n_helpers], frame.aux_next[n_helpers]
    step = ext_sum(list(helpers))
    offset = air.lookup_public_sum(beta, gamma)
    if offset != 0:
        step = step - offset * pow(air.trace_length, gl.P - 2, gl.P)
    out.append(running_next - running - step)
    return out


class _Linear:
    """Σ coefficients[column]·column + constant: a lookup term's callables run on these instead of
    the prover's vectors show whether its fingerprint and multiplicity are linear in the columns
    (`_linear_run`); a product of two columns raises TypeError. Columns are (source, index) with
    source one of `logup_kernel.MAIN`, `PREPROCESSED`, `PERIODIC`."""

    __slots__ = ("coefficients", "constant")

    def __init__(self, coefficients: dict[tuple[int, int], int], constant: int = 0) -> None:
        self.coefficients = coefficients
        self.constant = constant % gl.P

    def __add__(self, other):
        if isinstance(other, int):
            return _Linear(self.coefficients, self.constant + other)
        if isinstance(other, _Linear):
            merged = dict(self.coefficients)
            for column, c in other.coefficients.items():
                merged[column] = (merged.get(column, 0) + c) % gl.P
            return _Linear(merged, self.constant + other.constant)
        return NotImplemented

    __radd__ = __add__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other) if isinstance(other, int | _Linear) else NotImplemented

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if isinstance(other, int):
            return _Linear({k: c * other % gl.P for k, c in self.coefficients.items()}, self.constant * other)
        return NotImplemented

    __rmul__ = __mul__


def _linear_terms(air: Air, n_main: int, n_periodic: int, n_preprocessed: int) -> list | None:
    """Each lookup term's (fingerprint values, multiplicity) as `_Linear`s or ints, or None when
    some term is not linear in the columns."""
    from zkpor.stark.logup_kernel import MAIN, PERIODIC, PREPROCESSED

    row = [_Linear({(MAIN, i): 1}) for i in range(n_main)]
    fixed = [_Linear({(PERIODIC, j): 1}) for j in range(n_periodic)]
    fixed += [_Linear({(PREPROCESSED, j): 1}) for j in range(n_preprocessed)]
    out = []
    try:
        for term in air.lookups():
            values = list(term.values(row, fixed))
            multiplicity = term.multiplicity(row, fixed)
            if not all(isinstance(v, int | _Linear) for v in [*values, multiplicity]):
                return None
            out.append((values, multiplicity))
    except TypeError:
        return None
    return out


def _linear_run(air: Air, frame: Frame, all_groups, periodic, beta: Ext, gamma: Ext):
    """Every helper's constraint and the running sum's as one `CombinedConstraints`
    (`logup_kernel.combined_linear`), when every group has one or two terms whose fingerprint and
    multiplicity are linear in the columns (at most three columns in a fingerprint, one in a
    multiplicity); None otherwise (the generic code then runs)."""
    from zkpor.stark.logup_kernel import MAIN, PREPROCESSED, combined_linear

    if not (isinstance(beta, Ext) and isinstance(gamma, Ext)) or any(len(g) > 2 for g in all_groups):
        return None
    if not all(isinstance(v, BaseVec) for v in [*frame.current, *frame.preprocessed, *periodic]):
        return None
    n_periodic = len(periodic) - len(frame.preprocessed)
    shape = (len(frame.current), n_periodic, len(frame.preprocessed), beta, gamma)
    cached = _LINEAR_TABLES.get(air)
    if cached is None or cached[0] != shape:  # the same for every chunk of one proof's evaluation
        cached = (shape, _linear_tables(air, all_groups, *shape))
        _LINEAR_TABLES[air] = cached
    tables = cached[1]
    if tables is None:
        return None
    sources, columns, weights, constants, m_sources, m_columns, m_weights, m_constants = tables[:8]
    groups_array, shift = tables[8:]
    main, main_rows, main_offset = read_in_place(list(frame.current))
    if frame.preprocessed:
        fixed, fixed_rows_, fixed_offset = read_in_place(list(frame.preprocessed))
    else:
        fixed, fixed_rows_, fixed_offset = np.zeros((1, 1), dtype=np.uint64), np.zeros(1, dtype=np.int64), 0
    m = len(frame.current[0])
    periodic_matrix = (np.stack([p.values for p in periodic[:n_periodic]]) if n_periodic
                       else np.zeros((1, m), dtype=np.uint64))  # fmt: skip

    def located(source: np.ndarray, column: np.ndarray) -> np.ndarray:
        """The matrix row of each column (a column's index is its matrix row for periodic ones)."""
        rows = column.copy()
        rows[source == MAIN] = main_rows[column[source == MAIN]]
        rows[source == PREPROCESSED] = fixed_rows_[column[source == PREPROCESSED]]
        return rows

    terms = (sources, located(sources, columns), weights, constants, m_sources, located(m_sources, m_columns),
             m_weights, m_constants)  # fmt: skip
    n_helpers = len(all_groups)
    helpers = ext_row_views(list(frame.aux_current[:n_helpers]))  # the aux LDE's rows, in place
    running, running_rows, running_offset = ext_row_views([frame.aux_current[n_helpers]])
    following, following_rows, following_offset = ext_row_views([frame.aux_next[n_helpers]])
    aux = (*helpers, running, int(running_rows[0]), running_offset, following, int(following_rows[0]),
           following_offset)  # fmt: skip

    def combine(alphas: np.ndarray) -> ExtVec:
        return ExtVec(combined_linear(main, main_offset, fixed, fixed_offset, periodic_matrix, terms,
                                      groups_array, aux, m, np.ascontiguousarray(alphas), shift))  # fmt: skip

    return CombinedConstraints(n_helpers + 1, combine)


# The last tables `_linear_tables` made for an AIR, with what they were made for: the chunks of one
# constraint evaluation share them.
_LINEAR_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _linear_tables(air: Air, all_groups, n_main: int, n_periodic: int, n_preprocessed: int, beta: Ext,
                   gamma: Ext) -> tuple | None:  # fmt: skip
    """The arrays `logup_kernel.combined_linear` reads for the AIR's terms at challenges β, γ (with
    columns by their index among the main, periodic or preprocessed ones), or None when a term is
    not linear, or has more columns than the kernel takes."""
    traced = _linear_terms(air, n_main, n_periodic, n_preprocessed)
    if traced is None or any(isinstance(m, _Linear) and len(m.coefficients) > 1 for _, m in traced):
        return None
    powers = [Ext(1, 0)]
    while len(powers) < max(len(values) for values, _ in traced):
        powers.append(powers[-1] * gamma)
    count, width = len(traced), 3  # fingerprint columns a term (a memory cell: address, c0, c1)
    sources = np.full((count, width), -1, dtype=np.int64)
    columns = np.zeros((count, width), dtype=np.int64)
    weights = np.zeros((count, width, 2), dtype=np.uint64)
    constants = np.zeros((count, 2), dtype=np.uint64)
    m_sources = np.full(count, -1, dtype=np.int64)
    m_columns = np.zeros(count, dtype=np.int64)
    m_weights = np.zeros(count, dtype=np.uint64)
    m_constants = np.zeros(count, dtype=np.uint64)
    for t, (values, multiplicity) in enumerate(traced):
        constant, linear = _fingerprint(values, powers)
        if len(linear) > width:
            return None
        distance = beta - constant  # d = β − φ = (β − constant) + Σ (−weight)·column
        constants[t] = (distance.c0, distance.c1)
        for k, ((source, index), weight) in enumerate(linear.items()):
            sources[t, k], columns[t, k] = source, index
            weights[t, k] = ((-weight).c0, (-weight).c1)
        if isinstance(multiplicity, int):
            m_constants[t] = multiplicity % gl.P
        else:
            m_constants[t] = multiplicity.constant
            for (source, index), c in multiplicity.coefficients.items():
                m_sources[t], m_columns[t], m_weights[t] = source, index, c
    groups_array = np.full((len(all_groups), 2), -1, dtype=np.int64)  # terms in `lookups()` order
    t = 0
    for g, group in enumerate(all_groups):
        for j in range(len(group)):
            groups_array[g, j] = t
            t += 1
    offset = air.lookup_public_sum(beta, gamma)
    shift = offset * pow(air.trace_length, gl.P - 2, gl.P) if offset != 0 else Ext(0, 0)
    shift_array = np.array([shift.c0, shift.c1], dtype=np.uint64)
    return (sources, columns, weights, constants, m_sources, m_columns, m_weights, m_constants, groups_array,
            shift_array)  # fmt: skip


def _fingerprint(values, powers: list[Ext]) -> tuple[Ext, dict]:
    """Σ γ^i·values[i] as (constant, {column: weight}) for values that are ints or `_Linear`s."""
    constant, linear = Ext(0, 0), {}
    for value, power in zip(values, powers, strict=False):
        if isinstance(value, int):
            constant = constant + power * value
            continue
        constant = constant + power * value.constant
        for column, c in value.coefficients.items():
            if c:
                linear[column] = linear.get(column, Ext(0, 0)) + power * c
    return constant, linear


def _group_constraint(group, helper, row, periodic, beta, gamma):
    """h · Π_t d_t − Σ_t m_t Π_{u≠t} d_u, the products of the others from prefix and suffix
    products (3k multiplications for k terms, not k²)."""
    distances = [_pole_distance(t, row, periodic, beta, gamma) for t in group]
    prefix = [distances[0]]
    for d in distances[1:-1]:
        prefix.append(prefix[-1] * d)
    def weighted(term: LookupTerm, others):
        return _times(term.multiplicity(row, periodic), others)

    suffix = distances[-1]
    total = weighted(group[-1], prefix[-1])
    for i in range(len(group) - 2, -1, -1):
        total = total + weighted(group[i], suffix if i == 0 else prefix[i - 1] * suffix)
        suffix = suffix * distances[i]
    return helper * suffix - total


def fixed_rows(air: Air) -> list[BaseVec]:
    """The periodic columns, then the preprocessed ones, over the trace (the prover's `fixed`)."""
    n = air.trace_length
    periodic = [
        BaseVec(np.tile(np.asarray(column, dtype=np.uint64), n // len(column)))
        for column in air.periodic_columns()
    ]
    preprocessed = [BaseVec(column) for column in air.preprocessed_trace()] if air.preprocessed_width else []
    return periodic + preprocessed


def _term_values(term: LookupTerm, rows, periodic, beta: Ext, gamma: Ext, n: int) -> np.ndarray:
    """m / (β − φ) on every row."""
    distance = ExtVec.coerce(_pole_distance(term, rows, periodic, beta, gamma), n)
    try:  # a zero distance has no inverse
        inverse = ExtVec(ext.ext_batch_inv(distance.values))
    except ZeroDivisionError:
        raise AirError("LogUp challenge β hit a fingerprint (probability ~n/2^128): prove again") from None
    return as_ext_array(_times(term.multiplicity(rows, periodic), inverse), n)


def build_columns(air: Air, trace: np.ndarray, challenges: Sequence[Ext]) -> np.ndarray:
    """The LogUp aux columns as base-field pairs: shape (2 · width(air), n)."""
    n = air.trace_length
    if not challenges:
        return np.empty((0, n), dtype=np.uint64)
    beta, gamma = challenges
    rows = [BaseVec(column) for column in trace]
    periodic = fixed_rows(air)
    helpers = []
    for group in groups(air):
        helper = _term_values(group[0], rows, periodic, beta, gamma, n)
        for term in group[1:]:
            helper = ext.ext_add(helper, _term_values(term, rows, periodic, beta, gamma, n))
        helpers.append(helper)
    step = helpers[0]
    for helper in helpers[1:]:
        step = ext.ext_add(step, helper)
    offset = air.lookup_public_sum(beta, gamma)
    if offset != 0:
        per_row = Ext.from_base(0) + offset * pow(n, gl.P - 2, gl.P)
        step = ext.ext_sub(step, as_ext_array(per_row, n))
    running = np.stack([exclusive_prefix_sum(step[:, 0]), exclusive_prefix_sum(step[:, 1])], axis=-1)
    out = np.empty((2 * (len(helpers) + 1), n), dtype=np.uint64)
    for j, column in enumerate([*helpers, running]):
        out[2 * j] = column[:, 0]
        out[2 * j + 1] = column[:, 1]
    return out
