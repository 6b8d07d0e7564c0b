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
    """Runs [start, end) of consecutive helpers that each sum two plain lookups on the prover's
    vectors, by start, with the `CombinedConstraints` that evaluates the run's constraints through
    `logup_kernel.combined_pairs`; none on the verifier's scalars."""
    if not (isinstance(beta, Ext) and isinstance(gamma, Ext)):
        return {}
    plain = []
    for group, helper in zip(all_groups, helpers, strict=True):
        terms = [_plain_term(t, row, periodic, gamma) for t in group]
        pair = len(group) == 2 and isinstance(helper, ExtVec) and None not in terms
        plain.append(terms if pair else None)
    runs = {}
    start = 0
    while start < len(plain):
        end = start
        while end < len(plain) and plain[end] is not None:
            end += 1
        if end > start:
            terms = [t for pair in plain[start:end] for t in pair]
            runs[start] = (end, _pair_run(terms, list(helpers[start:end]), beta))
        start = end + 1
    return runs


def _pair_run(terms: list, helpers: list[ExtVec], beta: Ext) -> CombinedConstraints:
    from zkpor.stark.logup_kernel import combined_pairs

    matrix, rows, offset = read_in_place([column for column, _, _ in terms])
    constants = ext.ext_array([beta - constant for _, constant, _ in terms])  # d = (β − c) − w·v
    weights = ext.ext_array([weight for _, _, weight in terms])
    aux, helper_rows, helper_offset = ext_row_views(helpers)  # the aux LDE's rows, in place

    def combine(alphas: np.ndarray) -> ExtVec:
        values = (matrix, rows, offset)
        helper_values = (aux, helper_rows, helper_offset, len(helpers[0]))
        return ExtVec(combined_pairs(*values, *helper_values, constants, weights, alphas))

    return CombinedConstraints(len(helpers), combine)


def evaluate(air: Air, frame: Frame, periodic: Sequence, challenges: Sequence, *, fused: bool = True) -> list:
    """The helpers' and the running sum's constraints. On the prover's vectors (unless
    `fused=False`) runs of plain pairs come as one `CombinedConstraints` each (`_fused_runs`)."""
    if not challenges:
        return []
    beta, gamma = challenges
    periodic = [*periodic, *frame.preprocessed]  # what lookup terms see as `fixed`
    all_groups = groups(air)
    n_helpers = len(all_groups)
    helpers = frame.aux_current[:n_helpers]
    runs = _fused_runs(all_groups, helpers, frame.current, periodic, beta, gamma) if fused else {}
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
    step = helpers[0]
    for helper in helpers[1:]:
        step = step + helper
    offset = air.lookup_public_sum(beta, gamma)
    if offset != 0:
        step = step - offset * pow(air.trace_length, gl.P - 2, gl.P)
    out.append(running_next - running - step)
    return out


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
