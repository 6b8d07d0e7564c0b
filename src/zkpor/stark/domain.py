"""The sizes and domains of one proof, derived from the trace length, the AIR and the options.

n  trace length: the trace domain H = ⟨ω_n⟩.
D  committed degree bound: n, or 2n with zero knowledge, where each column is extended with n random
   values (its polynomial still equals the trace on H, but its openings reveal nothing).
N  LDE size D · blowup, over the coset g·⟨ω_N⟩ (g = 7), disjoint from H.
m  number of quotient chunks of n coefficients each (the composition polynomial has degree < m·n).
"""

from __future__ import annotations

from dataclasses import dataclass

from zkpor.field import goldilocks as gl
from zkpor.field import ntt
from zkpor.stark.params import MAX_LOG_LDE_SIZE, ParameterError, ProofOptions


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
            raise ParameterError(
                f"blowup {options.blowup} is too small for constraints of degree {max_degree}"
                f"{' with zero knowledge' if options.zero_knowledge else ''}: "
                f"need at least {-(-chunks * n // degree_bound)}"
            )
        if lde_size.bit_length() - 1 > MAX_LOG_LDE_SIZE:
            raise ParameterError(f"LDE of 2^{lde_size.bit_length() - 1} points is beyond this prover")
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
