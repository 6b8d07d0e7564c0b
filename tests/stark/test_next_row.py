"""Values at zω are opened only for the columns the constraints read on the next row."""

import dataclasses

import numpy as np
import pytest

from zkpor.errors import VerificationError
from zkpor.field.extension import Ext
from zkpor.stark.air import AirError
from zkpor.stark.examples.fibonacci import FibonacciAir
from zkpor.stark.examples.range_check import RangeCheckAir, range_check_trace
from zkpor.stark.next_row import NextRowColumns, next_frame_rows, next_row_columns
from zkpor.stark.proof import StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

N, BITS = 256, 6


@pytest.fixture(scope="module")
def air_and_trace():
    values = np.random.default_rng(3).integers(0, 1 << BITS, N).astype(np.uint64)
    return RangeCheckAir(N, BITS, int(values[0])), range_check_trace(values, BITS)


def reparse(proof: StarkProof) -> StarkProof:
    return StarkProof.from_bytes(proof.to_bytes())


def test_only_the_columns_read_on_the_next_row_are_opened_at_zw(air_and_trace, small_options):
    air, trace = air_and_trace
    # The range check reads no main column and only the LogUp running sum on the next row.
    assert next_row_columns(air) == NextRowColumns(main=(), aux=(1,), preprocessed=())
    assert next_row_columns(FibonacciAir(16, 0)).main == (0, 1)  # `a, b = frame.next` reads both
    proof = reparse(prove(air, trace, small_options))
    assert (len(proof.main_at_zw), len(proof.aux_at_zw)) == (0, 2)
    verify(air, proof, min_security_bits=0)


def test_poseidon2_proofs_open_every_column_at_zw(air_and_trace, small_options):
    """The compiled recursion verifier reads every value at zω: that configuration keeps them all."""
    air, trace = air_and_trace
    options = dataclasses.replace(small_options, hasher="poseidon2")
    proof = reparse(prove(air, trace, options))
    assert (len(proof.main_at_zw), len(proof.aux_at_zw)) == (air.main_width, 2 * air.aux_width)
    verify(air, proof, min_security_bits=0)


def test_values_at_zw_for_other_columns_are_rejected(air_and_trace, small_options):
    air, trace = air_and_trace
    proof = prove(air, trace, small_options)
    extra = dataclasses.replace(proof, main_at_zw=[Ext(1, 2)])  # a main column nothing reads
    with pytest.raises(VerificationError, match="values at zω are not those"):
        verify(air, reparse(extra).to_bytes(), min_security_bits=0)
    missing = dataclasses.replace(proof, aux_at_zw=[])  # the running sum's value left out
    with pytest.raises(VerificationError, match="values at zω are not those"):
        verify(air, reparse(missing).to_bytes(), min_security_bits=0)


def test_a_wrong_value_at_zw_is_rejected(air_and_trace, small_options):
    air, trace = air_and_trace
    proof = prove(air, trace, small_options)
    for k in range(2):  # either coordinate of the running sum's value at zω
        lied = list(proof.aux_at_zw)
        lied[k] = lied[k] + Ext(1, 0)
        with pytest.raises(VerificationError):
            verify(air, dataclasses.replace(proof, aux_at_zw=lied).to_bytes(), min_security_bits=0)


def test_reading_a_column_that_was_not_opened_fails_loudly():
    """A constraint that reads another next-row column than it did when the columns were found
    (an AIR bug) gets an error, never a value the proof does not bind."""
    air = FibonacciAir(16, 0)
    columns = NextRowColumns(main=(1,), aux=(), preprocessed=())
    main_next, _, _ = next_frame_rows(columns, [Ext(5, 0)], [], [], air)
    assert main_next[1] == Ext(5, 0)
    with pytest.raises(AirError, match="main column 0 at the next row"):
        main_next[0] + 1
    with pytest.raises(AirError, match="main column 0"):
        2 * main_next[0]
