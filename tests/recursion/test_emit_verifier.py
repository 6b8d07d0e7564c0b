"""Several child verifiers in one program (`emit_verifier`): each child's public inputs are existing
cells, its private inputs and assertion labels are its own (prefixed by its number), and a child
AIR whose public values are not the cells it is given is refused."""

import dataclasses

import pytest

from zkpor.field.pure import P
from zkpor.recursion.program import Check, ProgramError, execute
from zkpor.recursion.verifier_program import VerifierCompiler, emit_verifier, proof_values
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.params import ProofOptions
from zkpor.stark.prover import prove

OPTIONS = ProofOptions(blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4,
                       zero_knowledge=True, hasher="poseidon2")  # fmt: skip


@pytest.fixture(scope="module")
def children():
    out = []
    for n in (64, 128):
        trace = fibonacci_trace(n)
        air = FibonacciAir(n, int(trace[1, -1]))
        out.append((air, prove(air, trace, OPTIONS)))
    return out


def two_children(children):
    c = VerifierCompiler()
    verifiers = []
    for i, (air, _) in enumerate(children):
        cells = [c.b.constant(v) for v in air.public_inputs()]  # the result is a constant of the AIR
        verifiers.append(emit_verifier(c, air, OPTIONS, cells, child=i))
    return c, c.b.build(), verifiers


def private_inputs(c, verifiers, children):
    values = [proof_values(v, air, proof) for v, (air, proof) in zip(verifiers, children, strict=True)]
    return [values[key[0]].value(key[1:]) for key in c.keys]


def failed(c, program, inputs):
    values = execute(program, [], inputs, check=False).values
    return {
        c.checks.get(k, "other")
        for k, i in enumerate(program.instructions)
        if isinstance(i, Check) and values[i.a] * values[i.b] + values[i.c] != values[i.d]
    }


def test_two_children_in_one_program(children):
    c, program, verifiers = two_children(children)
    assert {key[0] for key in c.keys} == {0, 1}
    assert all(label.startswith(("child 0: ", "child 1: ")) for label in c.checks.values())
    execute(program, [], private_inputs(c, verifiers, children))
    air, proof = children[1]
    opening = proof.main_opening
    rows = opening.rows.copy()
    rows[0, 0] = (int(rows[0, 0]) + 1) % P
    edited = dataclasses.replace(proof, main_opening=dataclasses.replace(opening, rows=rows))
    tampered = [children[0], (air, edited)]
    failures = failed(c, program, private_inputs(c, verifiers, tampered))
    assert "child 1: main opening" in failures and all(f.startswith("child 1: ") for f in failures)


def test_a_public_value_read_from_another_cell_is_refused(children):
    air, _ = children[0]
    c = VerifierCompiler()
    with pytest.raises(ProgramError, match="public input 0"):
        emit_verifier(c, air, OPTIONS, [c.b.public_input()], child=0)  # absorbed: a fresh cell
    with pytest.raises(ProgramError, match="public inputs"):
        emit_verifier(c, air, OPTIONS, [], child=0)
