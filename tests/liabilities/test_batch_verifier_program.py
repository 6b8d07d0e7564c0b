"""A liabilities batch proof's verifier compiled into a recursion program (zkpor.recursion): it runs
on a real Poseidon2-configured batch proof — the solvency constraints evaluated at z through the
program, every opening, DEEP and FRI — and fails on a batch whose trace breaks a constraint."""

import dataclasses

import pytest

from zkpor.errors import VerificationError
from zkpor.field.pure import P
from zkpor.liabilities.air import SolvencyAir
from zkpor.liabilities.witness import build_batch
from zkpor.recursion.program import Check, execute
from zkpor.recursion.verifier_program import compile_verifier, replay, witness
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify


def failed_checks(vp, air, proof) -> set[str]:
    values = execute(vp.program, air.public_inputs(), witness(vp, air, proof), check=False).values
    return {
        vp.cells.checks.get(k, "other")
        for k, i in enumerate(vp.program.instructions)
        if isinstance(i, Check) and values[i.a] * values[i.b] + values[i.c] != values[i.d]
    }


def test_batch_proof_verifier_program(statement, layout, digest, options, make_users):
    options = dataclasses.replace(options, hasher="poseidon2")
    ids, equity, debt = make_users(layout)
    honest = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    air = SolvencyAir(layout, honest.public)
    proof = prove(air, honest.trace, options)
    vp = compile_verifier(air, options, draws=len(replay(air, proof).positions))
    assert failed_checks(vp, air, proof) == set()

    cheat = honest.trace.copy()
    cheat[200, 17] = (int(cheat[200, 17]) + 1) % P  # one cell (column 200, row 17) off its constraints
    bad = prove(air, cheat, options, check=False)
    with pytest.raises(VerificationError, match="out-of-domain"):
        verify(air, bad.to_bytes(), min_security_bits=0)
    vp = compile_verifier(air, options, draws=len(replay(air, bad).positions))
    assert failed_checks(vp, air, bad) == {"out-of-domain"}
