"""The STARK verifier compiled into a recursion program (transcript replay and Merkle openings),
run on real Poseidon2-configured proofs: honest proofs execute, reproduce the native verifier's
challenges and queries, and prove; each tampered piece of proof data makes an assertion fail."""

import dataclasses
from collections import Counter

import pytest
from recursion_programs import DEPTH, merkle_program, path, tree

from zkpor.errors import VerificationError
from zkpor.field.pure import Ext, P
from zkpor.hash.merkle import SALT_ELEMS
from zkpor.recursion import air as R  # noqa: N812
from zkpor.recursion.program import Check, MulAdd, ProgramError, execute
from zkpor.recursion.proving import program_key, prove_program, verify_program
from zkpor.recursion.verifier_program import compile_verifier, replay, witness
from zkpor.stark import composition, fri
from zkpor.stark.domain import ProofDomain
from zkpor.stark.examples.fibonacci import FibonacciAir, fibonacci_trace
from zkpor.stark.params import ProofOptions
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify

CHILD_OPTIONS = ProofOptions(blowup=4, num_queries=8, grinding_bits=4, fri_folding_log=2, fri_final_degree=4,
                             zero_knowledge=True, hasher="poseidon2")  # fmt: skip
RECURSION_OPTIONS = dataclasses.replace(CHILD_OPTIONS, grinding_bits=2, zero_knowledge=False, hasher="blake3")
N = 64


@pytest.fixture(scope="module")
def fibonacci():
    trace = fibonacci_trace(N)
    air = FibonacciAir(N, int(trace[1, -1]))
    proof = prove(air, trace, CHILD_OPTIONS)
    verify(air, proof.to_bytes(), min_security_bits=0)
    return air, proof


@pytest.fixture(scope="module")
def compiled(fibonacci):
    air, proof = fibonacci
    return compile_for(air, proof)


def compile_for(air, proof, key=None):
    return compile_verifier(air, proof.options, draws=len(replay(air, proof, key).positions), key=key)


def run(vp, air, proof, public_inputs=None):
    public_inputs = air.public_inputs() if public_inputs is None else public_inputs
    return execute(vp.program, public_inputs, witness(vp, air, proof))


def failed(vp, public_inputs, inputs) -> set[str]:
    """What the failing assertions of a run check (`VerifierCells.checks` labels; "other" for the
    rest): the run goes on past failures, as a cheating recursion prover's would."""
    values = execute(vp.program, public_inputs, inputs, check=False).values
    return {
        vp.cells.checks.get(k, "other")
        for k, i in enumerate(vp.program.instructions)
        if isinstance(i, Check) and values[i.a] * values[i.b] + values[i.c] != values[i.d]
    }


def test_replays_the_native_transcript(fibonacci, compiled):
    air, proof = fibonacci
    values = run(compiled, air, proof).values
    native = replay(air, proof)
    cells = compiled.cells
    assert values[cells.alpha] == native.alpha and values[cells.z] == native.z
    assert values[cells.deep_alpha] == native.deep_alpha
    assert [values[c] for c in cells.betas] == native.betas and len(native.betas) > 0
    # the query bits are those of the positions the native verifier opens
    lanes = [sum(values[bit].c0 << j for j, bit in enumerate(bits)) for bits in cells.query_bits]
    assert lanes == native.positions


def test_op_counts_are_what_the_shape_says(fibonacci, compiled):
    """Per drawn query: one decomposition, one root check (4 words) per commitment, one FRI check
    per layer and the final one; the proof of work: one decomposition and its top bits."""
    air, proof = fibonacci
    kinds = Counter(type(i).__name__ for i in compiled.program.instructions)
    queries = compiled.draws
    assert kinds["Decompose"] == queries + 1
    checks = Counter(compiled.cells.checks.values())
    layers = len(proof.fri_roots)
    expected = {"proof of work": CHILD_OPTIONS.grinding_bits, "main opening": 4 * queries,
                "quotient opening": 4 * queries, "FRI final": queries, "FRI final point": queries,
                "out-of-domain": 1}  # fmt: skip
    expected.update({f"fri{layer} opening": 4 * queries for layer in range(layers)})
    expected.update({f"FRI layer {layer}": queries for layer in range(layers)})
    assert checks == expected
    # the rest are the inverse checks: 1/(x − z), 1/(x − zω) and 1/x a query; at z, 1/Z_H and one
    # per group of assertions ("FRI final point", a query's last layer point, is one too)
    inverses = 3 * queries + 1 + len(composition.group_assertions(air))
    assert kinds["Check"] - sum(checks.values()) == inverses == kinds["InverseHint"] - queries


def test_the_verifier_program_proves(fibonacci, compiled):
    air, proof = fibonacci
    inputs = witness(compiled, air, proof)
    public, recursion_proof = prove_program(compiled.program, air.public_inputs(), inputs, RECURSION_OPTIONS)
    verify_program(compiled.program, public, recursion_proof.to_bytes(), min_security_bits=0)


def test_a_child_with_aux_columns_and_no_zero_knowledge():
    """The recursion AIR itself as the child (LogUp aux columns, preprocessed columns checked
    against the program key's root, unsalted openings)."""
    leaves = [[i, i + 1, i + 2, i + 3] for i in range(1 << DEPTH)]
    levels = tree(leaves)
    program = merkle_program()
    options = dataclasses.replace(CHILD_OPTIONS, zero_knowledge=False)
    siblings = [v for s in path(levels, 5) for v in s]
    public, child = prove_program(program, [*leaves[5], 5], siblings, options)
    child_air = R.RecursionAir(R.plan(program), public)
    assert child_air.aux_width > 0 and child_air.preprocessed_width > 0
    key = program_key(program, options).preprocessed
    with pytest.raises(ProgramError, match="verification key"):
        compile_for(child_air, child)
    vp = compile_for(child_air, child, key)
    values = run(vp, child_air, child).values
    assert [values[c] for c in vp.cells.aux_challenges] == replay(child_air, child, key).aux_challenges
    for field, name in (("aux_opening", "aux"), ("preprocessed_opening", "preprocessed")):
        edited = _edit_row(child, field, 0, 3)
        with pytest.raises(ProgramError, match="assertion"):
            run(vp, child_air, edited)
        assert f"{name} opening" in failed(vp, child_air.public_inputs(), witness(vp, child_air, edited))


def _edit_row(proof, field, k, column):
    opening = getattr(proof, field)
    rows = opening.rows.copy()
    rows[k, column] = (int(rows[k, column]) + 1) % P
    return dataclasses.replace(proof, **{field: dataclasses.replace(opening, rows=rows)})


def _edit_proof_bytes(proof, field, offset, layer=None):
    """Flip the low bit of the 8-byte word at `offset` of an opening's proof bytes (salts, then the
    u32 count and the siblings): the word stays a field element."""
    opening = getattr(proof, field) if layer is None else proof.fri_openings[layer]
    data = bytearray(opening.proof)
    data[offset] ^= 1
    edited = dataclasses.replace(opening, proof=bytes(data))
    if layer is None:
        return dataclasses.replace(proof, **{field: edited})
    layers = list(proof.fri_openings)
    layers[layer] = edited
    return dataclasses.replace(proof, fri_openings=layers)


def _salts(proof):
    return 8 * SALT_ELEMS * proof.main_opening.rows.shape[0]  # bytes: a salt per opened row


@pytest.mark.parametrize(
    "cheat",
    [
        lambda p: _edit_row(p, "main_opening", 0, 1),
        lambda p: _edit_row(p, "quotient_opening", 3, 0),
        lambda p: _edit_proof_bytes(p, "main_opening", 8),  # a salt
        lambda p: _edit_proof_bytes(p, "main_opening", _salts(p) + 4),  # the first sibling of the paths
        lambda p: _edit_proof_bytes(p, "quotient_opening", _salts(p) + 4 + 32 * 3),
        lambda p: dataclasses.replace(p, fri_openings=[
            dataclasses.replace(p.fri_openings[0], rows=_bump(p.fri_openings[0].rows)), *p.fri_openings[1:]]),
        lambda p: _edit_proof_bytes(p, "fri_openings", 4 + 8, layer=0),  # a FRI layer's sibling
    ],
    ids=["main row", "quotient row", "salt", "main path", "quotient path", "FRI row", "FRI path"],
)  # fmt: skip
def test_a_tampered_opening_or_path_fails(fibonacci, compiled, cheat, request):
    air, proof = fibonacci
    bad = cheat(proof)
    with pytest.raises(VerificationError):
        verify(air, bad.to_bytes(), min_security_bits=0)  # the native verifier agrees it is bad
    with pytest.raises(ProgramError, match="assertion"):
        run(compiled, air, bad)
    commitment = {"main": "main", "quotient": "quotient", "salt": "main", "FRI": "fri0"}
    name = commitment[request.node.callspec.id.split()[0]]
    assert f"{name} opening" in failed(compiled, air.public_inputs(), witness(compiled, air, bad))


def _bump(rows):
    rows = rows.copy()
    rows[0, 0] = (int(rows[0, 0]) + 1) % P
    return rows


def test_wrong_challenges_fail(fibonacci, compiled):
    """Challenges are computed, not supplied: another public input, root or FRI final value than
    the honest openings were drawn for changes them, so those openings are checked at other
    positions (or against another root) and fail."""
    air, proof = fibonacci
    with pytest.raises(ProgramError, match="assertion"):
        run(compiled, air, proof, public_inputs=[(air.result + 1) % P])
    for key in (("fri-final", 0, 0), ("quotient-root", 0)):  # claimed, with the honest openings
        inputs = witness(compiled, air, proof)
        inputs[compiled.private_keys.index(key)] ^= 1
        with pytest.raises(ProgramError, match="assertion"):
            execute(compiled.program, air.public_inputs(), inputs)


def test_a_nonce_without_the_work_fails(fibonacci, compiled):
    """The proof-of-work assertion itself fails: before any query is decomposed."""
    air, proof = fibonacci
    nonce = proof.pow_nonce + 1
    while _has_the_work(air, dataclasses.replace(proof, pow_nonce=nonce)):  # 1 in 16 nonces do
        nonce += 1
    inputs = witness(compiled, air, proof)
    inputs[compiled.private_keys.index(("pow-nonce",))] = nonce
    with pytest.raises(ProgramError, match="assertion"):
        execute(compiled.program, air.public_inputs(), inputs)
    assert "proof of work" in failed(compiled, air.public_inputs(), inputs)


def _has_the_work(air, proof) -> bool:
    try:
        verify(air, proof.to_bytes(), min_security_bits=0)
    except VerificationError as error:
        return "proof-of-work" not in str(error)
    return True


def test_a_cheating_recursion_proof_is_rejected(fibonacci, compiled):
    """The recursion prover, run on a tampered child proof with its checks off: the recursion
    verifier rejects."""
    air, proof = fibonacci
    bad = _edit_row(proof, "main_opening", 2, 0)
    run_values = execute(compiled.program, air.public_inputs(), witness(compiled, air, bad), check=False)
    layout = R.plan(compiled.program)
    public = R.ProgramPublic(tuple(Ext(v) for v in air.public_inputs()), tuple(run_values.outputs))
    trace = R.build_trace(layout, R.cell_values(layout, run_values.values))
    recursion_proof = prove(R.RecursionAir(layout, public), trace, RECURSION_OPTIONS, check=False)
    with pytest.raises(VerificationError):
        verify_program(compiled.program, public, recursion_proof.to_bytes(), min_security_bits=0)


def test_only_poseidon2_proofs_compile(fibonacci):
    air, proof = fibonacci
    with pytest.raises(ProgramError, match="poseidon2"):
        compile_verifier(air, dataclasses.replace(proof.options, hasher="blake3"))
    other = compile_verifier(air, dataclasses.replace(proof.options, num_queries=7))
    with pytest.raises(ProgramError, match="other options"):
        witness(other, air, proof)


def test_a_proof_with_another_draw_count_is_refused(fibonacci, compiled):
    air, proof = fibonacci
    other = compile_verifier(air, proof.options, draws=compiled.draws + 1)
    with pytest.raises(ProgramError, match="lanes"):
        witness(other, air, proof)


def test_the_program_does_not_depend_on_the_proof_beyond_its_shape(fibonacci, compiled):
    """Another proof of the same statement (fresh salts and randomness) runs through the program
    compiled for its draw count, which is the same program when the counts agree."""
    air, proof = fibonacci
    again = prove(air, fibonacci_trace(N), CHILD_OPTIONS)
    vp = compile_for(air, again)
    execute(vp.program, air.public_inputs(), witness(vp, air, again))
    same_draws = compile_verifier(air, CHILD_OPTIONS, draws=compiled.draws)
    assert same_draws.program.digest() == compiled.program.digest()


def test_a_malformed_opening_is_one_error(fibonacci, compiled):
    air, proof = fibonacci
    salts = _salts(proof)
    cut = dataclasses.replace(proof.main_opening, proof=proof.main_opening.proof[: salts + 4 + 32])
    with pytest.raises(ProgramError, match="main opening is malformed"):
        witness(compiled, air, dataclasses.replace(proof, main_opening=cut))
    data = bytearray(proof.quotient_opening.proof)
    data[salts + 4 : salts + 12] = b"\xff" * 8  # a sibling word >= p: not a Poseidon2 digest
    bad = dataclasses.replace(proof.quotient_opening, proof=bytes(data))
    with pytest.raises(ProgramError, match="quotient opening is malformed"):
        witness(compiled, air, dataclasses.replace(proof, quotient_opening=bad))


# ---- FRI: cheating child provers whose openings are honest to their commitments -----------------


def _cheating_child(monkeypatch, fold=None, deep=None):
    """A Fibonacci proof whose prover commits a wrong FRI layer (`fold`: layer -> edit of the
    folded values) or a wrong DEEP function (`deep`): every opening matches its root."""
    honest_fold, honest_commit = fri.fold_layer, fri.commit_phase

    def fold_layer(values, layout, layer, beta):
        folded = honest_fold(values, layout, layer, beta)
        return fold(layer, layout, folded) if fold else folded

    def commit_phase(deep_values, layout, transcript, hasher):
        return honest_commit(deep(deep_values) if deep else deep_values, layout, transcript, hasher)

    monkeypatch.setattr(fri, "fold_layer", fold_layer)
    monkeypatch.setattr(fri, "commit_phase", commit_phase)
    trace = fibonacci_trace(N)
    air = FibonacciAir(N, int(trace[1, -1]))
    proof = prove(air, trace, CHILD_OPTIONS)
    monkeypatch.undo()
    return air, proof


def _plus_one(values):
    values = values.copy()
    values[:, 0] = (values[:, 0] + 1) % P
    return values


@pytest.mark.parametrize(
    "edit, native, label",
    [
        (dict(fold=lambda layer, layout, v: _plus_one(v) if layer == 0 else v), "FRI layer 1", "FRI layer 1"),
        (dict(fold=lambda layer, layout, v: _plus_one(v) if layer == layout.num_folds - 1 else v),
         "FRI final", "FRI final"),
        (dict(deep=_plus_one), "FRI layer 0", "FRI layer 0"),
    ],
    ids=["a fold", "the final polynomial", "DEEP against layer 0"],
)  # fmt: skip
def test_fri_inconsistencies_fail_their_own_check(monkeypatch, compiled, edit, native, label):
    air, proof = _cheating_child(monkeypatch, **edit)
    with pytest.raises(VerificationError, match=native):
        verify(air, proof.to_bytes(), min_security_bits=0)
    vp = compile_for(air, proof)  # same shape; its own draw count
    assert failed(vp, air.public_inputs(), witness(vp, air, proof)) == {label}


def test_a_trace_off_its_constraints_fails_the_out_of_domain_check(compiled):
    """A child prover committing a trace that breaks a transition (every opening honest, the
    quotient truncated to its degree): exactly the out-of-domain assertion fails."""
    trace = fibonacci_trace(N)
    air = FibonacciAir(N, int(trace[1, -1]))
    trace[0, 20] = (int(trace[0, 20]) + 1) % P
    proof = prove(air, trace, CHILD_OPTIONS, check=False)
    with pytest.raises(VerificationError, match="out-of-domain"):
        verify(air, proof.to_bytes(), min_security_bits=0)
    vp = compile_for(air, proof)
    assert failed(vp, air.public_inputs(), witness(vp, air, proof)) == {"out-of-domain"}


def test_a_final_point_other_than_the_folded_query_point_fails_its_own_check(monkeypatch):
    """A query's final-layer point x^(F^k) is the inverse of the 1/x its folds squared (a hint and
    its check, "FRI final point"), not rebuilt from the position's bits. A cheating recursion
    prover covering for a child whose last fold is wrong (natively: "FRI final") writes, as that
    hint, the point where the final polynomial takes the value the folds expect, and computes
    everything after it from that point: the final check then holds, and exactly the final point's
    check fails."""
    last_fold = dict(fold=lambda layer, layout, v: _plus_one(v) if layer == layout.num_folds - 1 else v)
    air, proof = _cheating_child(monkeypatch, **last_fold)
    vp = compile_for(air, proof)
    public, private = air.public_inputs(), witness(vp, air, proof)
    values = list(execute(vp.program, public, private, check=False).values)
    instructions = vp.program.instructions
    assert failed(vp, public, private) == {"FRI final"}
    points = sorted(k for k, label in vp.cells.checks.items() if label == "FRI final point")
    finals = sorted(k for k, label in vp.cells.checks.items() if label == "FRI final")
    assert len(points) == len(finals) == vp.draws
    c0, c1 = proof.fri_final  # two coefficients: the final polynomial is c0 + c1·X
    dirty = set()
    for point, final in zip(points, finals, strict=True):
        hint, expected = instructions[point].b, values[instructions[final].d]
        assert values[hint] * values[instructions[point].a] == Ext(1, 0)  # honest: (1/x^(F^k))⁻¹
        values[hint] = (expected - c0) / c1
        dirty.add(hint)
    for instruction in instructions:  # everything after the hints, from the cheater's points
        if isinstance(instruction, MulAdd) and dirty & {instruction.a, instruction.b, instruction.c}:
            values[instruction.out] = values[instruction.a] * values[instruction.b] + values[instruction.c]
            dirty.add(instruction.out)
        else:
            assert isinstance(instruction, Check) or not dirty & set(instruction.reads()), instruction
    broken = {
        vp.cells.checks.get(k, "other")
        for k, i in enumerate(instructions)
        if isinstance(i, Check) and values[i.a] * values[i.b] + values[i.c] != values[i.d]
    }
    assert broken == {"FRI final point"}


@pytest.mark.parametrize("extra", [1, 44])
def test_a_child_above_its_degree_bound_fails_the_final_check(monkeypatch, compiled, extra):
    """The in-circuit counterpart of tests/stark/test_zero_knowledge_domain.py: a child prover that
    randomises its columns and quotient chunks with r + `extra` coefficients (degree D − 1 + extra,
    the trace on H still valid and every opening honest). D = 84 folds by 4 three times to 2 final
    coefficients, which alone tests degree < 128: only the degree correction of DEEP holds the child
    to 84, and exactly the program's final-polynomial check fails."""
    trace = fibonacci_trace(N)
    air = FibonacciAir(N, int(trace[1, -1]))
    domain = ProofDomain.create(N, air.max_constraint_degree(), CHILD_OPTIONS)
    layout = fri.FriLayout.plan(domain.degree_bound, domain.lde_size, 2, 4)
    assert (domain.degree_bound, layout.tested_degree_bound) == (84, 84 + 44)
    monkeypatch.setattr(ProofDomain, "random_coefficients",
                        property(lambda d: d.degree_bound - d.trace_length + extra))  # fmt: skip
    proof = prove(air, trace, CHILD_OPTIONS)
    monkeypatch.undo()
    with pytest.raises(VerificationError, match="FRI final"):
        verify(air, proof.to_bytes(), min_security_bits=0)
    vp = compile_for(air, proof)
    assert failed(vp, air.public_inputs(), witness(vp, air, proof)) == {"FRI final"}


@pytest.mark.parametrize("change", [1, -1], ids=["one coefficient too many", "one too few"])
def test_a_final_polynomial_of_another_length_is_refused(fibonacci, compiled, change):
    """The program has a cell for each of the final polynomial's ⌈D/F^k⌉ coefficients: a proof with
    another number is refused natively and by the witness builder, in one line."""
    air, proof = fibonacci
    final = proof.fri_final + [Ext(1, 0)] if change > 0 else proof.fri_final[:-1]
    cheat = dataclasses.replace(proof, fri_final=final)
    with pytest.raises(VerificationError, match="FRI final polynomial has the wrong length"):
        verify(air, cheat, min_security_bits=0)
    with pytest.raises(ProgramError, match="FRI final polynomial has"):
        witness(compiled, air, cheat)
