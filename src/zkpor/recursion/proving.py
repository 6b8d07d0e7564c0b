"""Prove and verify an execution of a program: `prove_program`, `verify_program`, `program_key`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zkpor.errors import VerificationError
from zkpor.field.extension import Ext
from zkpor.recursion.air import Layout, ProgramPublic, RecursionAir, build_trace, cell_values, plan
from zkpor.recursion.program import Program, ProgramError, Value, as_ext, execute
from zkpor.stark.params import ProofOptions
from zkpor.stark.preprocessed import (
    PreprocessedColumns,
    VerificationKey,
    commit_preprocessed,
    preprocessed_key,
)
from zkpor.stark.proof import StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import DEFAULT_MIN_SECURITY_BITS, VerificationReport, verify


@dataclass(frozen=True)
class ProgramKey:
    """What verifying proofs of one program needs, for one set of proof options: the program digest
    (its public identity, also a public input of every proof) and the root of its committed address
    and mode columns. Built once (`program_key`), e.g. per level of the node tree."""

    program_digest: bytes
    preprocessed: VerificationKey


def inner_options(zero_knowledge: bool = True) -> ProofOptions:
    """Proof options for a recursion proof that only feeds a parent (an inner node of the round
    tree), chosen by measurement (docs/recursion.md, "The recursion prover"): blowup 4 proves in
    ~55 % of blowup 8's CPU; its 41 queries (+ 20 grinding bits: 100 conjectured bits; with zero
    knowledge a query is worth a little under 2 bits, so 40 no longer reach Winterfell's 80-bit
    floor for grinding) cost a parent more rows per child, yet eight such children still fit a
    2^16-row node. FRI folds by 8 down to degree at most 32 (a 2^15-row node's degree bound
    2^15 + 86 ends at 9 after four folds, DEEP degree-corrected so that they test D and not
    9·8^4; docs/recursion.md, "The node programs' size").

    Zero knowledge by default, as at every level of the tree: blowup 4 is the least the recursion
    AIR (degree 3) allows (3 quotient chunks of n coefficients over an LDE of 4n points), and 41
    queries put 86 base-field conditions on a column (`stark.domain`), the random coefficients each
    column gets.
    `zero_knowledge=False` is for a tree whose inner nodes never leave the exchange's workers."""
    return ProofOptions(blowup=4, num_queries=41, grinding_bits=20, fri_folding_log=3, fri_final_degree=32,
                        zero_knowledge=zero_knowledge, hasher="poseidon2")  # fmt: skip


def commit_program(
    program: Program, options: ProofOptions, layout: Layout | None = None
) -> PreprocessedColumns:
    """The program's preprocessed columns committed for proofs made with `options` (the prover's
    side of `program_key`; pass it to `prove_program` to commit once for many proofs)."""
    return commit_preprocessed(_columns_air(program, layout), options)


def program_key(program: Program, options: ProofOptions, layout: Layout | None = None) -> ProgramKey:
    """The program's key, its columns' root computed without keeping their LDE or tree
    (`stark.preprocessed.preprocessed_key`): the same key as `commit_program` gives."""
    return ProgramKey(program.digest(), preprocessed_key(_columns_air(program, layout), options))


def columns_key(layout: Layout, options: ProofOptions) -> VerificationKey:
    """`program_key(layout.program, options, layout).preprocessed`: the columns' key alone (they
    depend on the layout only; `layout.program` may be one whose constants are not set yet,
    `ProgramBuilder.build_unfinished`)."""
    return preprocessed_key(_columns_air(layout.program, layout), options)


def _columns_air(program: Program, layout: Layout | None) -> RecursionAir:
    """The program's AIR, to commit its columns: they depend on the program only, so any public
    values of the right count do."""
    layout = layout or plan(program)
    _check_layout(program, layout)
    placeholder = ProgramPublic(
        tuple(Ext(0, 0) for _ in program.public_inputs), tuple(Ext(0, 0) for _ in program.public_outputs)
    )
    return RecursionAir(layout, placeholder)


def prove_program(
    program: Program,
    public_inputs: Sequence[Value],
    private_inputs: Sequence[Value] = (),
    options: ProofOptions | None = None,
    *,
    layout: Layout | None = None,
    committed: PreprocessedColumns | None = None,
) -> tuple[ProgramPublic, StarkProof]:
    """Run `program` and prove the run; returns the public values (inputs and outputs) and the proof.
    `layout` is `plan(program)` and `committed` is `commit_program(program, options)`, for a caller
    proving one program many times."""
    execution = execute(program, public_inputs, private_inputs)
    public = ProgramPublic(tuple(as_ext(v) for v in public_inputs), tuple(execution.outputs))
    layout = layout or plan(program)
    _check_layout(program, layout)
    trace = build_trace(layout, cell_values(layout, execution.cells))
    air = RecursionAir(layout, public)
    return public, prove(air, trace, options or ProofOptions(), preprocessed=committed)


def verify_program(
    program: Program,
    public: ProgramPublic,
    proof: StarkProof | bytes,
    *,
    min_security_bits: int = DEFAULT_MIN_SECURITY_BITS,
    layout: Layout | None = None,
    key: ProgramKey | None = None,
) -> VerificationReport:
    """Check that `proof` shows a run of `program` on `public.inputs` ending in `public.outputs`;
    raises VerificationError (or ProofFormatError) otherwise. `layout` is `plan(program)` and `key`
    `program_key(program, options)`, for a verifier checking many proofs of one program (a level
    of the node tree); without a key it is built here from the program and the proof's options."""
    layout = layout or plan(program)
    _check_layout(program, layout)
    if isinstance(proof, bytes | bytearray):
        proof = StarkProof.from_bytes(bytes(proof))
    if key is None:
        key = program_key(program, proof.options, layout)
    elif key.program_digest != program.digest():
        raise VerificationError("STARK proof rejected: the verification key is for another program")
    return verify(RecursionAir(layout, public), proof, min_security_bits=min_security_bits,
                  key=key.preprocessed)  # fmt: skip


def _check_layout(program: Program, layout: Layout) -> None:
    if layout.program is not program and layout.program != program:
        raise ProgramError("the layout given was planned for another program")
