"""Zero knowledge over the degree bound D = n + 2·(queries + 2) and an LDE of blowup·n points
(`stark.domain`): honest proofs verify, and FRI holds the committed columns to that bound."""

from __future__ import annotations

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.stark import domain as domain_module
from zkpor.stark import prover
from zkpor.stark.air import Frame
from zkpor.stark.domain import ProofDomain
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.params import FRAME_ROWS, ProofOptions
from zkpor.stark.polys import random_field_matrix
from zkpor.stark.verifier import verify

N = 1 << 11  # 20 random coefficients · 64 ≤ 2^11: the compact domain
OPTIONS = ProofOptions(blowup=4, num_queries=8, grinding_bits=0, fri_folding_log=2, fri_final_degree=4,
                       zero_knowledge=True)  # fmt: skip


def _fibonacci() -> tuple[FibonacciAir, np.ndarray]:
    trace = fibonacci_trace(N)
    return FibonacciAir(N, int(trace[1, -1])), trace


def test_the_compact_domain_proves_and_verifies() -> None:
    air, trace = _fibonacci()
    domain = ProofDomain.create(N, air.max_constraint_degree(), OPTIONS)
    assert (domain.degree_bound, domain.lde_size, domain.coefficient_width) == (N + 20, 4 * N, 2 * N)
    proof = prover.prove(air, trace, OPTIONS)
    assert proof.num_quotient_chunks == domain.num_quotient_chunks == 2
    assert len(proof.fri_final) == 3  # ⌈2,068 / 4^5⌉: folds of a degree bound that is no power of two
    verify(air, proof, min_security_bits=0)
    again = prover.prove(air, trace, OPTIONS)
    assert again.main_root != proof.main_root and again.main_at_z != proof.main_at_z  # randomised


def test_columns_randomised_beyond_the_degree_bound_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prover that randomises each column with n coefficients (degree < 2n, as format 5 did) still
    commits the trace on H, but above the degree bound n + r that FRI tests: the verifier says no."""

    def doubled_randomiser(columns: np.ndarray, domain: ProofDomain, zero_knowledge: bool) -> np.ndarray:
        width, n = columns.shape
        rho = random_field_matrix((width, n))
        return np.concatenate([gl.sub(ntt.intt(columns), rho), rho], axis=1)  # t + (X^n − 1)·ρ

    air, trace = _fibonacci()
    monkeypatch.setattr(prover, "trace_coefficients", doubled_randomiser)
    proof = prover.prove(air, trace, OPTIONS)
    with pytest.raises(VerificationError, match="FRI"):
        verify(air, proof, min_security_bits=0)



def more_random_coefficients(monkeypatch: pytest.MonkeyPatch, extra: int) -> None:
    """A prover that randomises every committed column and quotient chunk with r + `extra`
    coefficients: still the trace on H and the same composition, of degree D − 1 + `extra`."""
    monkeypatch.setattr(ProofDomain, "random_coefficients",
                        property(lambda d: d.degree_bound - d.trace_length + extra))  # fmt: skip


@pytest.mark.parametrize("extra", [1, 3 * 4**5 - (N + 20)])
def test_columns_between_the_degree_bound_and_the_folds_bound_are_rejected(
    monkeypatch: pytest.MonkeyPatch, extra: int
) -> None:
    """Folding D = 2,068 by 4 five times to 3 final coefficients tests degree < 3·4^5 = 3,072 alone:
    a prover whose columns have degree D (one random coefficient too many), or 3,071, is refused
    through the degree correction DEEP·(1 + λ·X^s) (`stark.deep`); without it, it was accepted."""
    air, trace = _fibonacci()
    domain = ProofDomain.create(N, air.max_constraint_degree(), OPTIONS)
    assert domain.degree_bound + extra <= 3 * 4**5 <= domain.coefficient_width
    more_random_coefficients(monkeypatch, extra)
    proof = prover.prove(air, trace, OPTIONS)
    monkeypatch.undo()
    with pytest.raises(VerificationError, match="FRI final"):
        verify(air, proof, min_security_bits=0)


# ---- zero knowledge: the conditions a verifier learns on a column, and format 6's two too many ---


def _left_kernel(rows: list[list[int]]) -> list[list[int]]:
    """A basis of {λ : Σ_k λ_k·rows[k] = 0} over F_p: the null space of the transpose."""
    m, width = len(rows), len(rows[0])
    a = [[rows[k][e] % gl.P for k in range(m)] for e in range(width)]  # width × m
    pivots, r = [], 0
    for col in range(m):
        pivot = next((i for i in range(r, width) if a[i][col]), None)
        if pivot is None:
            continue
        a[r], a[pivot] = a[pivot], a[r]
        inverse = pow(a[r][col], gl.P - 2, gl.P)
        a[r] = [v * inverse % gl.P for v in a[r]]
        for i in range(width):
            if i != r and a[i][col]:
                factor = a[i][col]
                a[i] = [(v - factor * w) % gl.P for v, w in zip(a[i], a[r], strict=True)]
        pivots.append(col)
        r += 1
    basis = []
    for free in (c for c in range(m) if c not in pivots):
        vector = [0] * m
        vector[free] = 1
        for i, col in enumerate(pivots):
            vector[col] = -a[i][free] % gl.P
        basis.append(vector)
    return basis


def _view_conditions(monkeypatch: pytest.MonkeyPatch, options: ProofOptions, n: int):  # noqa: ANN202
    """Prove Fibonacci and read, as a verifier can, the conditions its view puts on column 0:
    (point, value) at every query x (the opened row), at xω (solved from the quotient chunks opened at
    x: Fibonacci's next row is linear in them), at z and zω (extension points). Also the trace."""
    seen: dict = {}
    draw, draw_z = prover.draw_query_positions, prover.draw_ood_point
    evaluate = prover.composition.evaluate_on_lde

    def record_draw(*args):
        seen["indices"] = draw(*args)
        return seen["indices"]

    def record_z(*args):
        seen["z"] = draw_z(*args)
        return seen["z"]

    def record_alpha(air, domain, main, aux, challenges, alpha, fixed):
        seen["alpha"] = alpha
        return evaluate(air, domain, main, aux, challenges, alpha, fixed)

    monkeypatch.setattr(prover, "draw_query_positions", record_draw)
    monkeypatch.setattr(prover.composition, "evaluate_on_lde", record_alpha)
    monkeypatch.setattr(prover, "draw_ood_point", record_z)
    trace = fibonacci_trace(n)
    air = FibonacciAir(n, int(trace[1, -1]))
    proof = prover.prove(air, trace, options)
    monkeypatch.setattr(prover.composition, "evaluate_on_lde", evaluate)
    domain = ProofDomain.create(n, air.max_constraint_degree(), options)
    chunk_columns = 2 * domain.num_quotient_chunks
    conditions: dict[object, Ext] = {}
    for k, index in enumerate(seen["indices"]):
        x = domain.lde_point(index)
        row = [Ext(int(v), 0) for v in proof.main_opening.rows[k]]
        conditions[x] = row[0]
        quotient = prover.composition.chunks_at(
            [Ext(int(v), 0) for v in proof.quotient_opening.rows[k][:chunk_columns]], Ext(x, 0), n
        )

        def at(a: int, b: int, row=row, x=x) -> Ext:
            frame = Frame(current=row, next=[Ext(a, 0), Ext(b, 0)])
            return prover.composition.evaluate_at_point(air, domain, frame, [], seen["alpha"], Ext(x, 0))

        base = at(0, 0)
        da, db, rest = at(1, 0) - base, at(0, 1) - base, quotient - base  # rest = da·a' + db·b'
        det = (da.c0 * db.c1 - da.c1 * db.c0) % gl.P
        a_next = (rest.c0 * db.c1 - rest.c1 * db.c0) * pow(det, gl.P - 2, gl.P) % gl.P
        conditions.setdefault(x * domain.omega % gl.P, Ext(a_next, 0))
    z = Ext(*seen["z"])
    conditions[z], conditions[z * domain.omega] = proof.main_at_z[0], proof.main_at_zw[0]
    return trace, domain, conditions


def _relations(domain: ProofDomain, conditions: dict, trace_column: np.ndarray):
    """The conditions as linear equations on ρ's r coefficients: row Z_H(p)·p^e (e < r), the value
    the verifier saw and the trace polynomial's value t(p) (one equation a base point, two an
    extension point): value − t(p) = row · ρ."""
    n, r = domain.trace_length, domain.random_coefficients
    coefficients = [int(c) for c in ntt.intt(trace_column.reshape(1, -1))[0]]
    rows, values, targets = [], [], []
    for p, value in conditions.items():
        point = p if isinstance(p, Ext) else Ext(p, 0)
        vanishing = point**n - Ext(1, 0)
        powers = [vanishing * point**e for e in range(r)]
        t = Ext(0, 0)
        for c in reversed(coefficients):
            t = t * point + Ext(c, 0)
        for part in ("c0", "c1") if isinstance(p, Ext) else ("c0",):
            rows.append([getattr(w, part) for w in powers])
            values.append(getattr(value, part))
            targets.append(getattr(t, part))
    return rows, values, targets


SMALL = ProofOptions(blowup=4, num_queries=8, grinding_bits=0, fri_folding_log=2, fri_final_degree=4,
                     zero_knowledge=True)  # fmt: skip


def test_format_6_randomness_left_two_functionals_of_the_trace_in_the_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With format 6's r = 2·(queries + 1) (z and zω counted once), a verifier of a 2-column AIR reads
    2·queries + 4 base-field conditions on a column (x from the opened rows, xω solved from the
    quotient chunks at x, z and zω two each): more than r, so some combination λ of what it saw is
    the same combination of the trace's values, t(p), whatever the randomness: a guess of the trace
    is testable. A uniform view would satisfy that with probability 1/p."""
    monkeypatch.setattr(domain_module, "opened_points_per_column", lambda queries: FRAME_ROWS * (queries + 1))
    trace, domain, conditions = _view_conditions(monkeypatch, SMALL, 64)
    assert domain.random_coefficients == 18
    rows, values, targets = _relations(domain, conditions, trace[0])
    kernel = _left_kernel(rows)
    assert len(kernel) == len(rows) - 18 > 0
    for combination in kernel:
        leaked = sum(lam * v for lam, v in zip(combination, values, strict=True)) % gl.P
        assert leaked == sum(lam * t for lam, t in zip(combination, targets, strict=True)) % gl.P != 0


def test_the_view_puts_independent_conditions_on_each_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """With r = 2·(queries + 2) the same conditions number at most r and are independent: no
    combination of the view is fixed by the trace, each column's openings are uniform."""
    trace, domain, conditions = _view_conditions(monkeypatch, SMALL, 64)
    assert domain.random_coefficients == 20
    rows, _, _ = _relations(domain, conditions, trace[0])
    assert len(rows) <= 20 and _left_kernel(rows) == []
