"""Prove and verify an execution of a program: `prove_program`, `verify_program`."""

from __future__ import annotations

from collections.abc import Sequence

from zkpor.recursion.air import Layout, ProgramPublic, RecursionAir, build_trace, cell_values, plan
from zkpor.recursion.program import Program, ProgramError, Value, as_ext, execute
from zkpor.stark.params import ProofOptions
from zkpor.stark.proof import StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import DEFAULT_MIN_SECURITY_BITS, VerificationReport, verify


def prove_program(
    program: Program,
    public_inputs: Sequence[Value],
    private_inputs: Sequence[Value] = (),
    options: ProofOptions | None = None,
    *,
    layout: Layout | None = None,
) -> tuple[ProgramPublic, StarkProof]:
    """Run `program` and prove the run; returns the public values (inputs and outputs) and the proof.
    `layout` is `plan(program)`, for a caller proving one program many times."""
    execution = execute(program, public_inputs, private_inputs)
    public = ProgramPublic(tuple(as_ext(v) for v in public_inputs), tuple(execution.outputs))
    layout = layout or plan(program)
    _check_layout(program, layout)
    trace = build_trace(layout, cell_values(layout, execution.values))
    return public, prove(RecursionAir(layout, public), trace, options or ProofOptions())


def verify_program(
    program: Program,
    public: ProgramPublic,
    proof: StarkProof | bytes,
    *,
    min_security_bits: int = DEFAULT_MIN_SECURITY_BITS,
    layout: Layout | None = None,
) -> VerificationReport:
    """Check that `proof` shows a run of `program` on `public.inputs` ending in `public.outputs`;
    raises VerificationError (or ProofFormatError) otherwise. `layout` is `plan(program)`, for a
    verifier checking many proofs of one program (a level of the node tree)."""
    layout = layout or plan(program)
    _check_layout(program, layout)
    return verify(RecursionAir(layout, public), proof, min_security_bits=min_security_bits)


def _check_layout(program: Program, layout: Layout) -> None:
    if layout.program is not program and layout.program != program:
        raise ProgramError("the layout given was planned for another program")
