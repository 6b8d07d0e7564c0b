"""LogUp range check: completeness, and cheating provers for the lookup and aux constraints."""

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext
from zkpor.stark import logup
from zkpor.stark.air import AirError
from zkpor.stark.examples.range_check import RangeCheckAir, range_check_trace
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N, BITS = 256, 6


def make(values: np.ndarray):
    return RangeCheckAir(N, BITS, int(values[0])), range_check_trace(values, BITS)


def test_values_in_range_verify(small_options):
    values = np.random.default_rng(1).integers(0, 1 << BITS, N).astype(np.uint64)
    air, trace = make(values)
    verify(air, prove(air, trace, small_options).to_bytes(), min_security_bits=0)


def test_value_out_of_range_is_refused_and_rejected(small_options):
    """Value 2^bits is not in the table; no multiplicities can balance it."""
    values = np.random.default_rng(2).integers(0, 1 << BITS, N).astype(np.uint64)
    values[7] = 1 << BITS
    air = RangeCheckAir(N, BITS, int(values[0]))
    trace = np.stack([values, np.zeros(N, dtype=np.uint64)])
    counts = np.bincount(values[values < (1 << BITS)].astype(np.int64), minlength=1 << BITS)
    trace[1, : 1 << BITS] = counts.astype(np.uint64)
    with pytest.raises(AirError):
        prove(air, trace, small_options)
    proof = prove(air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)


def test_wrapped_negative_value_is_rejected(small_options):
    """p − 1 (a "negative" −1) is not in [0, 2^bits) either."""
    values = np.zeros(N, dtype=np.uint64)
    values[3] = np.uint64(gl.P - 1)
    air = RangeCheckAir(N, BITS, 0)
    trace = np.stack([values, np.zeros(N, dtype=np.uint64)])
    trace[1, 0] = N - 1
    proof = prove(air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(air, proof, min_security_bits=0)


class TamperedHelperAir(RangeCheckAir):
    """Builds honest aux columns, then changes one helper value: only an aux constraint breaks."""

    def build_aux_trace(self, trace, challenges):
        aux = super().build_aux_trace(trace, challenges)
        aux[0, 5] = gl.add(aux[0, 5:6], 1)[0]
        return aux


class TamperedRunningSumAir(RangeCheckAir):
    """Shifts the running sum from row 9 on: only its transition from row 8 to 9 breaks."""

    def build_aux_trace(self, trace, challenges):
        aux = super().build_aux_trace(trace, challenges)
        aux[-2, 9:] = gl.add(aux[-2, 9:], 1)
        return aux


@pytest.mark.parametrize("cheat", [TamperedHelperAir, TamperedRunningSumAir])
def test_cheating_aux_columns_are_rejected(small_options, cheat):
    values = np.random.default_rng(3).integers(0, 1 << BITS, N).astype(np.uint64)
    honest_air, trace = make(values)
    cheating_air = cheat(N, BITS, int(values[0]))
    with pytest.raises(AirError):
        prove(cheating_air, trace, small_options)
    proof = prove(cheating_air, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(honest_air, proof, min_security_bits=0)


def test_assertion_on_lookup_air(small_options):
    values = np.random.default_rng(4).integers(1, 1 << BITS, N).astype(np.uint64)
    air, trace = make(values)
    liar = RangeCheckAir(N, BITS, int(values[0]) - 1)
    proof = prove(liar, trace, small_options, check=False)
    with pytest.raises(VerificationError):
        verify(liar, proof, min_security_bits=0)


def test_a_challenge_hitting_a_fingerprint_is_refused():
    """β equal to a looked-up value's fingerprint: no inverse, one clear error, no aux trace."""
    values = np.random.default_rng(5).integers(0, 1 << BITS, N).astype(np.uint64)
    air, trace = make(values)
    with pytest.raises(AirError, match="hit a fingerprint"):
        logup.build_columns(air, trace, [Ext(int(values[9]), 0), Ext(3, 1)])
