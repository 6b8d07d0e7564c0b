"""LogUp multiset equality between two trace columns, and a bus with a public open end."""

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field.extension import Ext
from zkpor.stark.air import Air, Constraint, Frame, LookupTerm, compress_values
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N = 64


class PermutationAir(Air):
    """Column 1 is a permutation of column 0, except that column 0 also holds `extra` (public)."""

    name = "permutation"

    def __init__(self, trace_length: int, extra: int | None = None) -> None:
        super().__init__(trace_length)
        self.extra = extra

    @property
    def main_width(self) -> int:
        return 2

    def constraints(self) -> list[Constraint]:
        return []

    def evaluate(self, frame: Frame, periodic) -> list:
        return []

    def lookups(self) -> list[LookupTerm]:
        return [
            LookupTerm(values=lambda row, p: [row[0]], multiplicity=lambda row, p: 1),
            LookupTerm(values=lambda row, p: [row[1]], multiplicity=lambda row, p: -1),
        ]

    def lookup_public_sum(self, beta, gamma):
        if self.extra is None:
            return 0
        return Ext(1, 0) / (beta - compress_values([self.extra], gamma))

    def public_inputs(self) -> list[int]:
        return [] if self.extra is None else [self.extra]


def test_permuted_column_verifies(small_options):
    a = np.random.default_rng(1).integers(0, 2**63, N).astype(np.uint64)
    trace = np.stack([a, np.random.default_rng(2).permutation(a)])
    air = PermutationAir(N)
    verify(air, prove(air, trace, small_options), min_security_bits=0)


def test_one_changed_value_is_rejected(small_options):
    a = np.random.default_rng(1).integers(0, 2**63, N).astype(np.uint64)
    b = np.random.default_rng(2).permutation(a)
    b[17] += np.uint64(1)
    air = PermutationAir(N)
    trace = np.stack([a, b])
    proof = prove(air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)


def test_public_open_end(small_options):
    """Column 0 holds one value more than column 1 (which repeats another): the public sum
    accounts for exactly that value, and a proof does not verify for a different public value."""
    a = np.random.default_rng(3).integers(0, 2**63, N).astype(np.uint64)
    b = a.copy()
    b[0] = a[1]  # b lacks a[0], holds a[1] twice... so a[0] − a[1] must be balanced publicly
    trace = np.stack([a, np.random.default_rng(4).permutation(b)])

    class TwoEnded(PermutationAir):
        def lookup_public_sum(self, beta, gamma):
            one = Ext(1, 0)
            return one / (beta - int(a[0])) - one / (beta - int(a[1]))

    air = TwoEnded(N, extra=int(a[0]))
    verify(air, prove(air, trace, small_options), min_security_bits=0)
    with pytest.raises(VerificationError):
        verify(PermutationAir(N), prove(air, trace, small_options, check=False), min_security_bits=0)
