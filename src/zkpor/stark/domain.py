"""The sizes and domains of one proof, derived from the trace length, the AIR and the options.

n  trace length: the trace domain H = ⟨ω_n⟩.
D  committed degree bound: n, or 2n with zero knowledge, where each column is extended with n random
   values (its polynomial still equals the trace on H, but its openings reveal nothing).
N  LDE size D · blowup, over the coset g·⟨ω_N⟩ (g = 7), disjoint from H.
m  number of quotient chunks of n coefficients each (the composition polynomial has degree < m·n).

Zero knowledge holds only if every committed column has at least as much randomness as the points at
which the verifier learns it. A trace column (n random values) is opened at every query position x
and at z, each at both rows of the frame: zω directly, xω through the quotient opened at x, which
the constraints tie to the next row. That is 2·(queries + 1) points. A quotient chunk (n random
values) is opened at the queries and z. The DEEP randomiser R has full degree < D − 1, so the DEEP
function and every FRI layer and final coefficient derived from it are uniformly random: FRI's
openings beyond the query positions reveal nothing. Parameters below this are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.stark.params import FRAME_ROWS, MAX_LOG_LDE_SIZE, ParameterError, ProofOptions


@dataclass(frozen=True)
class ProofDomain:
    trace_length: int
    degree_bound: int
    lde_size: int
    num_quotient_chunks: int

    @staticmethod
    def create(trace_length: int, max_degree: int, options: ProofOptions) -> ProofDomain:
        options.validate()
        n = trace_length
        degree_bound = 2 * n if options.zero_knowledge else n
        # Constraints of degree d over columns of degree < D give a quotient of degree < d·D − n.
        chunks = max(1, max_degree * (degree_bound // n) - 1)
        if options.zero_knowledge:
            chunks = max(2, chunks)  # the chunk randomiser needs two chunks to cancel between
        lde_size = degree_bound * options.blowup
        if chunks * n > lde_size:
            least = 1 << (-(-chunks * n // degree_bound) - 1).bit_length()  # a power of two
            raise ParameterError(
                f"blowup {options.blowup} is too small for constraints of degree {max_degree}"
                f"{' with zero knowledge' if options.zero_knowledge else ''}: need at least {least}"
            )
        if lde_size.bit_length() - 1 > MAX_LOG_LDE_SIZE:
            raise ParameterError(f"LDE of 2^{lde_size.bit_length() - 1} points is beyond this prover")
        if 2 * options.num_queries > lde_size:
            raise ParameterError(
                f"{options.num_queries} distinct queries need an LDE of at least {2 * options.num_queries} "
                f"points, this one has {lde_size}"
            )
        if options.zero_knowledge:
            opened = opened_points_per_column(options.num_queries)
            if opened > n:
                raise ParameterError(
                    f"zero knowledge needs at least as many random values per committed column as points "
                    f"opened in it: each column of this {n}-row trace gets {n}, but {options.num_queries} "
                    f"queries and the out-of-domain point open it at {opened} points (both frame rows); "
                    f"use at most {n // FRAME_ROWS - 1} queries (a larger blowup keeps the security) or a "
                    "longer trace"
                )
        return ProofDomain(n, degree_bound, lde_size, chunks)

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
    def omega(self) -> int:
        return ntt.root_of_unity(self.log_n)

    def lde_point(self, index: int) -> int:
        return ntt.GENERATOR * pow(ntt.root_of_unity(self.log_lde), index, gl.P) % gl.P


def opened_points_per_column(num_queries: int) -> int:
    """Points of a committed trace column the verifier learns: every query position and the
    out-of-domain point, each at both frame rows (see the module docstring)."""
    return FRAME_ROWS * (num_queries + 1)
