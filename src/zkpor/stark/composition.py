"""The composition polynomial: every constraint divided by its vanishing polynomial, combined with
powers of a random α, then split into chunks of n coefficients.

The same `combine` runs on the prover's vectors over the LDE and on the verifier's scalars at the
out-of-domain point z, so the two cannot drift apart:

    Q(x) = [ Σ_wrapping α^k C_k(x) + (x − ω^{n−1}) Σ_transition α^k C_k(x) ] / (x^n − 1)
         + Σ_assertions α^k (T_col(x) − value) / Z_assertion(x)

where a single-row assertion at row r has Z = x − ω^r and a strided one (rows r, r+s, …) has
Z = x^{n/s} − ω^{r·n/s}. Transition constraints skip the last row (the factor x − ω^{n−1} removes
it from the vanishing polynomial); wrapping ones hold on every row, including last → first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkpor.field import extension as ext
from zkpor.field import goldilocks as gl
from zkpor.field import ntt, parallel
from zkpor.field.extension import Ext
from zkpor.field.pure import ext_powers_list
from zkpor.stark.air import Air, Assertion, Frame
from zkpor.stark.algebra import (
    BaseVec,
    CombinedConstraints,
    ExtVec,
    as_ext_array,
    base_columns,
    ext_columns,
)
from zkpor.stark.domain import ProofDomain
from zkpor.stark.polys import random_field_matrix

ROWS_PER_CHUNK = 1 << 15  # bounds the temporaries of constraint evaluation, per thread (2^14: the
# per-chunk Python of the generic constraints cost 3-10 % more CPU once the kernels got faster)


@dataclass(frozen=True)
class AssertionGroup:
    """Assertions sharing one vanishing polynomial: `x^exponent − root`."""

    exponent: int
    root: int
    members: tuple[Assertion, ...]


def group_assertions(air: Air) -> list[AssertionGroup]:
    n = air.trace_length
    omega = ntt.root_of_unity(n.bit_length() - 1)
    groups: dict[tuple[int, int], list[Assertion]] = {}
    for a in air.assertions():
        if a.stride == 0:
            key = (1, pow(omega, a.row, gl.P))
        else:
            count = n // a.stride
            key = (count, pow(omega, a.row * count, gl.P))
        groups.setdefault(key, []).append(a)
    return [AssertionGroup(e, r, tuple(m)) for (e, r), m in groups.items()]


def num_composition_terms(air: Air) -> int:
    return len(air.constraints()) + len(air.aux_constraints()) + len(air.assertions())


def combine(
    air: Air,
    main_values: Sequence,
    aux_values: Sequence,
    frame: Frame,
    alphas: Sequence[Ext],
    x,
    zh_inverse,
    last_row_factor,
    assertion_inverses: Sequence,
):
    """Σ α^k · (constraint k / its vanishing polynomial), for vectors or scalars alike."""
    declarations = air.constraints() + air.aux_constraints()
    sums = {True: _WeightedSum(), False: _WeightedSum()}  # by `wraps`
    k = 0
    for value in list(main_values) + list(aux_values):
        if k >= len(declarations):
            break
        count = value.count if isinstance(value, CombinedConstraints) else 1
        kinds = {d.wraps for d in declarations[k : k + count]}
        if len(kinds) != 1:
            raise ValueError(f"{air.name}: combined constraints must share one declaration kind")
        sums[kinds.pop()].add(value, alphas[k : k + count])
        k += count
    if k != len(declarations) or len(main_values) + len(aux_values) > len(declarations):
        raise ValueError(f"{air.name}: constraint values do not match the declarations")
    wrapping = sums[True].total()
    transition = sums[False].total()
    total = None
    if transition is not None:
        shifted = transition * last_row_factor
        wrapping = shifted if wrapping is None else wrapping + shifted
    if wrapping is not None:
        total = wrapping * zh_inverse
    for group, inverse in zip(group_assertions(air), assertion_inverses, strict=True):
        group_sum = None
        for member in group.members:
            term = (frame.current[member.column] - member.value) * alphas[k]
            k += 1
            group_sum = term if group_sum is None else group_sum + term
        term = group_sum * inverse
        total = term if total is None else total + term
    return total


class _WeightedSum:
    """Σ α_k · value_k over one declaration kind. The prover's vectors are gathered and summed by one
    linear-combination kernel (an ExtVec value c0 + c1·x counts as c0 with weight α and c1 with
    weight α·x); fused groups add their own sum; scalars (the verifier's) are summed directly."""

    _X = Ext(0, 1)

    def __init__(self) -> None:
        self.scalar = None
        self.rows: list[np.ndarray] = []
        self.weights: list[Ext] = []
        self.vectors: list[ExtVec] = []

    def add(self, value, alphas: Sequence[Ext]) -> None:
        if isinstance(value, CombinedConstraints):
            weights = np.array([[a.c0, a.c1] for a in alphas], dtype=np.uint64)
            self.vectors.append(value.combine(weights))
        elif isinstance(value, BaseVec):
            self.rows.append(value.values)
            self.weights.append(alphas[0])
        elif isinstance(value, ExtVec):
            self.rows += [value.values[:, 0], value.values[:, 1]]
            self.weights += [alphas[0], alphas[0] * self._X]
        else:
            term = value * alphas[0]
            self.scalar = term if self.scalar is None else self.scalar + term

    def total(self):
        terms = list(self.vectors)
        if self.rows:
            terms.append(ExtVec(ext.ext_linear_combination(np.stack(self.rows), self.weights)))
        if self.scalar is not None:
            terms.append(self.scalar)
        if not terms:
            return None
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total


def periodic_coefficients(air: Air) -> list[np.ndarray]:
    columns = air.periodic_columns()
    return [ntt.intt(np.asarray(column, dtype=np.uint64) % np.uint64(gl.P)) for column in columns]


def periodic_lde(air: Air, domain: ProofDomain) -> list[np.ndarray]:
    """A periodic column of period k is p(x^{n/k}), p interpolating its values on ⟨ω_k⟩. Over the
    evaluation coset (E points) x^{n/k} runs through a coset of size E·k/n: its values there repeat
    down the coset (see `periodic_rows`), so only one period is kept."""
    out = []
    for coefficients in periodic_coefficients(air):
        k = coefficients.shape[0]
        power = domain.trace_length // k
        size = domain.evaluation_size * k // domain.trace_length
        shift = pow(ntt.GENERATOR, power, gl.P)
        out.append(ntt.coset_evaluate(coefficients, size // k, shift))
    return out


def periodic_rows(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of a periodic column given by one period of its LDE values."""
    size, count = values.shape[0], stop - start
    first = start % size
    if first + count <= size:
        return values[first : first + count]
    if first == 0 and count % size == 0:
        return np.tile(values, count // size)
    return np.take(values, np.arange(start, stop) % size)


def periodic_at(air: Air, domain: ProofDomain, z: Ext) -> list[Ext]:
    from zkpor.field import poly

    out = []
    for coefficients in periodic_coefficients(air):
        power = domain.trace_length // coefficients.shape[0]
        out.append(poly.evaluate_at_ext(coefficients, z**power))
    return out


def evaluate_on_lde(
    air: Air,
    domain: ProofDomain,
    main_lde: np.ndarray,
    aux_lde: np.ndarray | None,
    challenges: Sequence[Ext],
    alpha: Ext,
    preprocessed_lde: np.ndarray | None = None,
) -> np.ndarray:
    """Q on every point of the evaluation coset g·⟨ω_E⟩ (`ProofDomain.evaluation_size`, usually the
    LDE's), as an (E, 2) extension array, from the column-major LDEs over it (columns, E)."""
    E, n = domain.evaluation_size, domain.trace_length
    step = E // n
    alphas = ext_powers_list(alpha, num_composition_terms(air))
    periodic = periodic_lde(air, domain)
    points = ntt.domain(domain.log_evaluation, ntt.GENERATOR)
    # x^n takes E/n distinct values on the coset: invert those once.
    x_to_n = gl.pow(points[: E // n], n)
    zh_inverse_period = gl.batch_inv(gl.sub(x_to_n, 1))
    last_row = pow(domain.omega, n - 1, gl.P)
    groups = group_assertions(air)
    out = np.empty((E, 2), dtype=np.uint64)

    def block(lde: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, int]:
        """(matrix, offset): points [start, stop) of every column of an LDE are
        matrix[:, offset : offset + stop − start]: the LDE itself, or a copy where they wrap around
        its end."""
        if stop <= E:
            return lde, start
        return np.concatenate([lde[:, start:], lde[:, : stop - E]], axis=1), 0

    # A short LDE (a small round's) still splits between the threads: 2^15 points are one chunk.
    chunk_rows = max(1, min(ROWS_PER_CHUNK, E // parallel.num_threads()))

    def evaluate_chunk(start: int) -> None:
        stop = min(E, start + chunk_rows)
        if start < E - step < stop:  # only the last `step` rows wrap: copy those, not the chunk
            evaluate_rows(start, E - step)
            evaluate_rows(E - step, stop)
        else:
            evaluate_rows(start, stop)

    def evaluate_rows(start: int, stop: int) -> None:
        rows = np.arange(start, stop)
        m = stop - start
        x = BaseVec(points[start:stop])
        # Frames read the LDEs in place: a row's columns at `offset`, the next row's `step` further.
        main, offset = block(main_lde, start, stop + step)
        frame = Frame(current=base_columns(main, offset, m), next=base_columns(main, offset + step, m))
        if aux_lde is not None:
            aux, offset = block(aux_lde, start, stop + step)
            frame.aux_current = ext_columns(aux, offset, m)
            frame.aux_next = ext_columns(aux, offset + step, m)
        if preprocessed_lde is not None:
            fixed, offset = block(preprocessed_lde, start, stop + step)
            frame.preprocessed = base_columns(fixed, offset, m)
            frame.preprocessed_next = base_columns(fixed, offset + step, m)
        periodic_values = [BaseVec(periodic_rows(p, start, stop)) for p in periodic]
        main_values = air.evaluate(frame, periodic_values)
        aux_values = air.evaluate_aux(frame, periodic_values, challenges) if aux_lde is not None else []
        zh_inverse = BaseVec(zh_inverse_period[rows % (E // n)])
        assertion_inverses = [
            BaseVec(gl.batch_inv(gl.sub(gl.pow(x.values, g.exponent), g.root))) for g in groups
        ]
        chunk = combine(
            air, main_values, aux_values, frame, alphas, x, zh_inverse, x - last_row, assertion_inverses
        )
        out[start:stop] = as_ext_array(chunk, stop - start)

    def evaluate_chunks(first: int, last: int) -> None:
        # Chunks run side by side on the pool's threads, each one's kernels on its own thread.
        with parallel.serial():
            for chunk in range(first, last):
                evaluate_chunk(chunk * chunk_rows)

    # One chunk a range: a thread that finds the other ahead takes the next chunk, so the last
    # one to finish waits for at most one chunk, not a range of several.
    chunks = -(-E // chunk_rows)
    parallel.parallel_ranges(evaluate_chunks, chunks, per_thread=chunks)
    return out


def evaluate_at_point(
    air: Air,
    domain: ProofDomain,
    frame: Frame,
    challenges: Sequence[Ext],
    alpha: Ext,
    z: Ext,
) -> Ext:
    """The verifier's Q(z) from the claimed trace values at z and z·ω."""
    n = domain.trace_length
    alphas = ext_powers_list(alpha, num_composition_terms(air))
    periodic = periodic_at(air, domain, z)
    main_values = air.evaluate(frame, periodic)
    aux_values = air.evaluate_aux(frame, periodic, challenges) if air.aux_width else []
    zh_inverse = (z**n - 1).inverse()
    last_row = pow(domain.omega, n - 1, gl.P)
    inverses = [(z**g.exponent - g.root).inverse() for g in group_assertions(air)]
    result = combine(air, main_values, aux_values, frame, alphas, z, zh_inverse, z - last_row, inverses)
    return result if isinstance(result, Ext) else Ext(int(result) % gl.P, 0)


class UnsatisfiedConstraintsError(Exception):
    """The quotient is not a polynomial of the expected degree: the trace violates a constraint."""


def split_quotient(
    evaluations: np.ndarray, domain: ProofDomain, zero_knowledge: bool, strict: bool = True
) -> np.ndarray:
    """Coefficients of the m chunks as base-column pairs, shape (2m, C); Q(X) = Σ_i X^{i·n} Q_i(X).

    With zero knowledge each chunk gets X^n·s_i − s_{i−1} added, random s_i of degree < r: the terms
    cancel in the sum (eprint 2024/1037 §4.2), so Q is unchanged while each opened chunk is masked;
    every chunk keeps degree < n + r = D.
    """
    n, m = domain.trace_length, domain.num_quotient_chunks
    r = domain.random_coefficients
    components = [ntt.coset_intt(np.ascontiguousarray(evaluations[:, c]), ntt.GENERATOR) for c in (0, 1)]
    if strict and any(np.any(c[m * n :]) for c in components):
        raise UnsatisfiedConstraintsError("the trace does not satisfy the AIR's constraints")
    chunks = np.zeros((2 * m, domain.coefficient_width), dtype=np.uint64)
    for i in range(m):
        for c in (0, 1):
            chunks[2 * i + c, :n] = components[c][i * n : (i + 1) * n]
    if zero_knowledge:
        masks = random_field_matrix((2 * (m - 1), r))
        for i in range(m - 1):
            for c in (0, 1):
                chunks[2 * i + c, n : n + r] = masks[2 * i + c]
                chunks[2 * (i + 1) + c, :r] = gl.sub(chunks[2 * (i + 1) + c, :r], masks[2 * i + c])
    return chunks


def chunks_at(values: Sequence[Ext], z: Ext, n: int) -> Ext:
    """Σ_i z^{i·n} · Q_i(z), from the claimed chunk values (pairs of base-column values)."""
    shift = z**n
    total, weight = Ext(0, 0), Ext(1, 0)
    for i in range(len(values) // 2):
        chunk = values[2 * i] + values[2 * i + 1] * Ext(0, 1)
        total = total + chunk * weight
        weight = weight * shift
    return total


