"""The sizes and domains of one proof, derived from the trace length, the AIR and the options.

n  trace length: the trace domain H = ⟨ω_n⟩.
r  random coefficients per committed column with zero knowledge (0 without): the points the
   verifier learns of a trace column (below).
D  committed degree bound n + r: each trace column is t(X) + Z_H(X)·ρ(X), ρ uniform of degree < r,
   which equals the trace on H and whose values anywhere else are uniform up to r points.
N  LDE size, over the coset g·⟨ω_N⟩ (g = 7), disjoint from H: blowup·n, so the rate D/N is a
   little above 1/blowup (`params.bits_per_query`). A trace so short that r > n / ZK_COMPACT_SHARE
   gets blowup·2n instead (its rate is then below 1/blowup).
m  number of quotient chunks of n coefficients each (the composition polynomial has degree < m·n).
E  evaluation size: the prover evaluates the constraints on the coset g·⟨ω_E⟩, E = N·2^k the
   least ≥ m·n, to interpolate the composition polynomial. Usually E = N. A small blowup with
   constraints of high degree (blowup 2 and degree 3, or 4 and 7) has E > N: the LDE is computed
   over E points and every (E/N)-th point is committed (g·⟨ω_N⟩ ⊂ g·⟨ω_E⟩). Only the prover
   needs E: the verifier's checks at z and at the queries read the committed polynomials, whatever
   domain the quotient was interpolated from.

Zero knowledge. A committed base-field column f = t + Z_H·ρ, ρ uniform with r coefficients, is
hidden when the verifier learns at most r independent linear conditions on it: they are then
uniform (Z_H ≠ 0 off H), and a simulator draws them without the trace. Per column it learns
  - f(x) at every query position x: the opened row;
  - f(xω) at most, through the quotient chunks opened at x: Σ x^{i·n}·Q_i(x) is a function of both
    frame rows there (for an AIR of few columns, such as Fibonacci, it gives the next row away);
  - f(z) and f(zω), each in the quadratic extension: two base-field conditions each;
so r = 2·queries + 4 = 2·(queries + 2) (`opened_points_per_column`; format 6 had 2·(queries + 1),
counting z and zω once, two conditions short). Aux (LogUp) columns are base-column pairs, each with
its own ρ: the same count; columns not read on the next row are opened at fewer points.
  - Quotient chunk i is Q_i + X^n·s_i − s_{i−1} (s_i of r coefficients): each of its base columns is
    opened at the queries and z, queries + 2 conditions ≤ r, and given Q at those points (a function
    of the trace's values above) the chunks' values are uniform, drawing s_0, …, s_{m−2} in turn.
  - The randomiser R (two base columns of D − 1 coefficients) makes DEEP, and so FRI's layer 0
    DEEP·(1 + λ·X^s) (`stark.deep`), a uniform polynomial of degree < D − 1 times a public factor,
    whatever the trace: every FRI layer and the final polynomial are simulated from it, and R's
    openings follow back from DEEP(x) and the other openings.
  - Main, aux and quotient leaves are salted (two random elements a row), so sibling digests reveal
    nothing of unopened rows, which, unlike the opened ones, the trace determines once the r
    conditions are fixed. FRI layers are unsalted: their rows are functions of the simulated DEEP.
    Preprocessed columns are public (the verifier recomputes them from the program) and unsalted.
Traces shorter than r are refused.

Coefficient matrices are stored C = 2^⌈log2 D⌉ wide (zeros above D): the NTT's LDE takes a
power-of-two number of coefficients (blowup N/C).
"""

from __future__ import annotations

from dataclasses import dataclass

from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.stark.params import (
    FRAME_ROWS,
    MAX_LOG_LDE_SIZE,
    ZK_COMPACT_SHARE,
    ParameterError,
    ProofOptions,
)

OOD_CONDITIONS = 2  # base-field conditions a value at an extension point puts on a base column


def committed_sizes(trace_length: int, options: ProofOptions) -> tuple[int, int]:
    """(D, N): the committed degree bound and the LDE size for a trace of `trace_length` rows."""
    n = trace_length
    if not options.zero_knowledge:
        return n, options.blowup * n
    r = opened_points_per_column(options.num_queries)
    lde_rows = n if r * ZK_COMPACT_SHARE <= n else 2 * n
    return n + r, options.blowup * lde_rows


@dataclass(frozen=True)
class ProofDomain:
    trace_length: int
    degree_bound: int
    lde_size: int
    num_quotient_chunks: int
    evaluation_size: int

    @staticmethod
    def create(trace_length: int, max_degree: int, options: ProofOptions) -> ProofDomain:
        options.validate()
        n = trace_length
        if options.zero_knowledge:
            opened = opened_points_per_column(options.num_queries)
            if opened > n:
                raise ParameterError(
                    f"zero knowledge needs at least as many random values per committed column as the "
                    f"conditions opened on it: a column of this {n}-row trace can hide at most {n}, but "
                    f"{options.num_queries} queries and the out-of-domain point put {opened} on it (both "
                    f"frame rows, z in the extension); use at most {n // FRAME_ROWS - OOD_CONDITIONS} "
                    "queries (a larger blowup keeps the security) or a longer trace"
                )
        degree_bound, lde_size = committed_sizes(n, options)
        # Constraints of degree d over columns of degree < D, transition ones times (X − ω^{n−1}),
        # divided by Z_H: a quotient of degree ≤ d·(D − 1) + 1 − n.
        chunks = max(1, (max_degree * (degree_bound - 1) + 1 - n) // n + 1)
        if options.zero_knowledge:
            chunks = max(2, chunks)  # the chunk randomiser needs two chunks to cancel between
        evaluation_size = lde_size
        while evaluation_size < chunks * n:
            evaluation_size *= 2
        if evaluation_size.bit_length() - 1 > MAX_LOG_LDE_SIZE:
            raise ParameterError(f"LDE of 2^{evaluation_size.bit_length() - 1} points is beyond this prover")
        if 2 * options.num_queries > lde_size:
            raise ParameterError(
                f"{options.num_queries} distinct queries need an LDE of at least {2 * options.num_queries} "
                f"points, this one has {lde_size}"
            )
        return ProofDomain(n, degree_bound, lde_size, chunks, evaluation_size)

    @property
    def random_coefficients(self) -> int:
        """r: the random coefficients of each committed trace column and quotient chunk (0 without
        zero knowledge)."""
        return self.degree_bound - self.trace_length

    @property
    def coefficient_width(self) -> int:
        """C: the stored width of a committed matrix's coefficients, the power of two ≥ D."""
        return 1 << (self.degree_bound - 1).bit_length()

    @property
    def log_n(self) -> int:
        return self.trace_length.bit_length() - 1

    @property
    def log_lde(self) -> int:
        return self.lde_size.bit_length() - 1

    @property
    def next_row_step(self) -> int:
        """Multiplying by ω_n moves N/n positions along the LDE coset."""
        return self.lde_size // self.trace_length

    @property
    def log_evaluation(self) -> int:
        return self.evaluation_size.bit_length() - 1

    @property
    def evaluation_stride(self) -> int:
        """E/N: the committed LDE is every (E/N)-th point of the evaluation coset."""
        return self.evaluation_size // self.lde_size

    @property
    def omega(self) -> int:
        return ntt.root_of_unity(self.log_n)

    def lde_point(self, index: int) -> int:
        return ntt.GENERATOR * pow(ntt.root_of_unity(self.log_lde), index, gl.P) % gl.P


def opened_points_per_column(num_queries: int) -> int:
    """Base-field conditions the verifier learns on a committed column: at both frame rows, every
    query position and the out-of-domain point, which is in the quadratic extension (two
    conditions; see the module docstring)."""
    return FRAME_ROWS * (num_queries + OOD_CONDITIONS)
