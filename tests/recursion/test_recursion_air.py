"""The recursion AIR: honest executions verify; each cheating prover below is rejected.

Every cheat starts from the honest witness (`honest`), changes it so that exactly one constraint
family is broken — and the public values say what the cheat claims, so nothing else gives it away
— and runs the real prover with its own checks off; the verifier is the real one."""

from dataclasses import dataclass, replace

import numpy as np
import pytest
from recursion_programs import NODE_DOMAIN, bits_program, horner_program, merkle_program, path, tree

from zkpor.errors import VerificationError
from zkpor.field.pure import Ext, P
from zkpor.hash.poseidon2 import sponge_hash
from zkpor.recursion import air as R  # noqa: N812 (the module, short: its names fill the tests)
from zkpor.recursion import layout_kernel
from zkpor.recursion.program import (
    Check,
    Decompose,
    MulAdd,
    Permute,
    ProgramBuilder,
    execute,
)
from zkpor.recursion.proving import program_key, prove_program, verify_program
from zkpor.stark import logup
from zkpor.stark.air import AirError, Frame
from zkpor.stark.algebra import BaseVec, CombinedConstraints, as_ext_array, base_columns, ext_columns
from zkpor.stark.gadgets import poseidon2 as gadget
from zkpor.stark.preprocessed import commit_preprocessed
from zkpor.stark.proof import StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify


@dataclass
class Witness:
    program: object
    layout: R.Layout
    values: np.ndarray
    public: R.ProgramPublic

    def trace(self) -> np.ndarray:
        return R.build_trace(self.layout, self.values)


def honest(program, public_inputs, private_inputs=(), *, check=True) -> Witness:
    run = execute(program, public_inputs, private_inputs, check=check)
    layout = R.plan(program)
    public = R.ProgramPublic(
        tuple(Ext(v) if isinstance(v, int) else v for v in public_inputs), tuple(run.outputs)
    )
    return Witness(program, layout, R.cell_values(layout, run.values), public)


def position(program, index: int) -> int:
    """The row (permutation, decomposition block) or slot number of instruction `index` in its unit."""
    kind = type(program.instructions[index])
    kinds = (kind,) if kind in (Permute, Decompose) else (MulAdd, R.Check)
    return sum(1 for i in program.instructions[:index] if isinstance(i, kinds))


FAMILIES = (["swap"] * 8 + ["merkle bit"] + ["mul-add"] * (2 * R.SLOTS)
            + ["boolean", "decomposition", "decomposition", "decomposition", "canonical"])  # fmt: skip


def violated(witness: Witness, trace: np.ndarray, public: R.ProgramPublic) -> set[str]:
    """The constraint families `trace` breaks with these public values: each row's constraints
    evaluated directly, and the memory bus summed under random challenges."""
    air = R.RecursionAir(witness.layout, public)
    current = [BaseVec(c) for c in trace]
    following = [BaseVec(np.roll(c, -1)) for c in trace]
    periodic = logup.fixed_rows(air)
    out = set()
    permutation, _ = gadget.constraints(current, fused=False)
    if any(np.any(v.values) for v in permutation):
        out.add("poseidon2")
    for family, value in zip(FAMILIES, air.evaluate(Frame(current, following), periodic)[1:], strict=True):
        if np.any(value.values):
            out.add(family)
    beta, gamma = Ext(0x1234567, 0x89ABCDEF), Ext(0xDEADBEEF, 0x0BADF00D)
    columns = logup.build_columns(air, trace, [beta, gamma])
    sums = [int(column.astype(object).sum() % P) for column in columns[:-2]]  # helpers, not the running sum
    total = sum((Ext(sums[2 * j], sums[2 * j + 1]) for j in range(len(sums) // 2)), Ext(0, 0))
    if total != air.lookup_public_sum(beta, gamma):
        out.add("memory")
    return out


def rejected(witness: Witness, trace: np.ndarray, options, public=None, *, breaks: str) -> None:
    """The cheat breaks exactly the family `breaks`, and the verifier rejects its proof."""
    public = public or witness.public
    assert violated(witness, trace, public) == {breaks}
    proof = prove(R.RecursionAir(witness.layout, public), trace, options, check=False)
    with pytest.raises(VerificationError):
        verify_program(witness.program, public, proof.to_bytes(), min_security_bits=0)


def with_output(witness: Witness, k: int, value: Ext) -> R.ProgramPublic:
    outputs = list(witness.public.outputs)
    outputs[k] = value
    return replace(witness.public, outputs=tuple(outputs))


def merkle_witness(index=5):
    levels = tree([sponge_hash("test-leaf", [i]) for i in range(8)])
    siblings = [v for digest in path(levels, index) for v in digest]
    return honest(merkle_program(), [*levels[0][index], index], siblings), levels


# ---- honest executions ---------------------------------------------------------------------------


def test_merkle_path_proof_verifies_and_outputs_the_root(small_options):
    levels = tree([sponge_hash("test-leaf", [i]) for i in range(8)])
    siblings = [v for digest in path(levels, 6) for v in digest]
    program = merkle_program()
    public, proof = prove_program(program, [*levels[0][6], 6], siblings, small_options)
    assert [v.c0 for v in public.outputs] == levels[-1][0]
    report = verify_program(program, public, StarkProof.from_bytes(proof.to_bytes()), min_security_bits=0)
    assert report.trace_length == 64


def test_ext_polynomial_and_bits_proofs_verify(options):
    x = Ext(12345, 678)
    coefficients = [Ext(i, 2 * i + 1) for i in range(40)]  # 39 mul-adds: 10 rows of 4 slots
    public, proof = prove_program(horner_program(39), [x, *coefficients], options=options)
    expected = Ext(0, 0)
    for c in reversed(coefficients):
        expected = expected * x + c
    assert public.outputs == (expected,)
    verify_program(horner_program(39), public, proof, min_security_bits=0)
    public, proof = prove_program(bits_program(), [P - 1], options=options)
    verify_program(bits_program(), public, proof, min_security_bits=0)


def test_sponge_and_query_point_proof_verifies(options):
    """A verifier's leaf hash (a two-block sponge) and query point (a power of a constant by bits)."""
    b = ProgramBuilder()
    row = [b.public_input() for _ in range(13)]
    index = b.public_input()
    for cell in b.sponge_hash("zkpor/merkle/leaf", row) + [b.power_of_constant(7, b.decompose(index)[:16])]:
        b.output(cell)
    program = b.build()
    values = list(range(1000, 1013))
    public, proof = prove_program(program, [*values, 40000], options=options)
    assert [v.c0 for v in public.outputs] == [*sponge_hash("zkpor/merkle/leaf", values), pow(7, 40000, P)]
    verify_program(program, public, proof, min_security_bits=0)


def test_a_layout_is_reused_only_for_its_program(options):
    program = horner_program(2)
    layout = R.plan(program)
    public, proof = prove_program(program, [Ext(2), 1, 2, 3], options=options, layout=layout)
    verify_program(program, public, proof, min_security_bits=0, layout=layout)
    with pytest.raises(R.ProgramError, match="another program"):
        verify_program(program, public, proof, min_security_bits=0, layout=R.plan(horner_program(3)))


def test_the_prover_refuses_a_bad_witness(options):
    witness, _ = merkle_witness()
    trace = witness.trace()
    assert violated(witness, trace, witness.public) == set()
    trace[R.OUT, 0] ^= 1
    with pytest.raises(AirError):
        prove(R.RecursionAir(witness.layout, witness.public), trace, options)


# ---- cheating provers: one constraint family each --------------------------------------------------


def test_wrong_mul_add_result(options):
    program = horner_program(3)
    witness = honest(program, [Ext(3, 1), 1, 2, 3, 4])
    last = program.instructions[-1]
    wrong = witness.public.outputs[0] + 1
    witness.values[last.out] = (wrong.c0, wrong.c1)  # written and read as the claimed output
    rejected(witness, witness.trace(), options, with_output(witness, 0, wrong), breaks="mul-add")


def test_poseidon2_row_that_is_not_the_permutation(options):
    b = ProgramBuilder()
    inputs = [b.public_input() for _ in range(12)]
    out = b.permute(inputs)
    b.output(out[2])
    witness = honest(b.build(), list(range(12)))
    trace = witness.trace()
    trace[R.OUT + 2, 0] = (int(trace[R.OUT + 2, 0]) + 1) % P  # the output the bus carries
    rejected(
        witness, trace, options, with_output(witness, 0, Ext(int(trace[R.OUT + 2, 0]))), breaks="poseidon2"
    )


def test_merkle_step_that_swaps_against_its_bit(options):
    witness, _ = merkle_witness(index=5)  # bit 0 of 5 is 1: the first step swaps
    trace = witness.trace()
    row = position(witness.program, next(k for k, i in enumerate(witness.program.instructions)
                                         if isinstance(i, Permute)))  # fmt: skip
    assert trace[R.BIT, row] == 1
    trace[:8, row] = trace[R.PRE_SWAP : R.PRE_SWAP + 8, row]  # not swapped
    trace[: gadget.COLUMNS, row] = gadget.fill_trace(trace[:12, row : row + 1])[:, 0]
    # Carry the unswapped digest up the path honestly, so only the swap rule is broken.
    digest = [int(v) for v in trace[R.OUT : R.OUT + 4, row]]
    for level in range(1, 3):
        r = row + level
        sibling = [int(v) for v in trace[R.PRE_SWAP + 4 : R.PRE_SWAP + 8, r]]
        bit = int(trace[R.BIT, r])
        trace[R.PRE_SWAP : R.PRE_SWAP + 4, r] = digest
        lanes = [*sibling, *digest] if bit else [*digest, *sibling]
        trace[:8, r] = lanes
        trace[: gadget.COLUMNS, r] = gadget.fill_trace(trace[:12, r : r + 1])[:, 0]
        for k in range(4):
            witness.values[int(witness.layout.columns["p2_out"][r - 1]) + k] = trace[R.OUT + k, r - 1]
        digest = [int(v) for v in trace[R.OUT : R.OUT + 4, r]]
    assert digest != [v.c0 for v in witness.public.outputs]
    fixed = R.build_trace(witness.layout, witness.values)  # memory now holds the cheat's digests
    fixed[:, row : row + 3] = trace[:, row : row + 3]
    claimed = R.ProgramPublic(witness.public.inputs, tuple(Ext(v) for v in digest))
    rejected(witness, fixed, options, claimed, breaks="swap")


def test_merkle_step_with_a_non_bit(options):
    """The bit cell holds 2: lanes = left + 2·(right − left) and right − 2·(right − left) follow the
    swap rule, so only the bit rule is broken."""
    b = ProgramBuilder()
    node, sibling = [b.public_input() for _ in range(4)], [b.public_input() for _ in range(4)]
    bit = b.public_input()
    for cell in b.merkle_step(node, sibling, bit, NODE_DOMAIN):
        b.output(cell)
    witness = honest(b.build(), [*range(1, 9), 1])
    witness.values[witness.program.public_inputs[-1]] = (2, 0)
    witness.public = replace(witness.public, inputs=(*witness.public.inputs[:-1], Ext(2)))
    trace = R.build_trace(witness.layout, witness.values)  # swaps as for 1; now redo it for 2
    left, right = (
        trace[R.PRE_SWAP : R.PRE_SWAP + 4, 0].astype(object),
        trace[R.PRE_SWAP + 4 : R.PRE_SWAP + 8, 0],
    )
    moved = [2 * (int(r) - int(le)) for le, r in zip(left, right, strict=True)]
    trace[0:4, 0] = [(int(le) + m) % P for le, m in zip(left, moved, strict=True)]
    trace[4:8, 0] = [(int(r) - m) % P for r, m in zip(right, moved, strict=True)]
    trace[: gadget.COLUMNS, 0] = gadget.fill_trace(trace[:12, 0:1])[:, 0]
    claimed = replace(witness.public, outputs=tuple(Ext(int(v)) for v in trace[R.OUT : R.OUT + 4, 0]))
    rejected(witness, trace, options, claimed, breaks="merkle bit")


def test_bits_blocks_fill_as_one_block_at_a_time():
    """The vectorised fill of the decomposition unit writes what `fill_bits_block` writes, on edge
    values (0, 1, p − 1, all-ones halves) and random ones."""
    rng = np.random.default_rng(5)
    xs = [0, 1, P - 1, 2**32 - 1, 2**64 - 2**32, 2**63, *(int(v) % P for v in rng.integers(0, 2**63, 10))]
    one_by_one = np.zeros((R.WIDTH, R.BLOCK * len(xs)), dtype=np.uint64)
    for block, x in enumerate(xs):
        R.fill_bits_block(one_by_one, block, [(x >> i) & 1 for i in range(64)])
    at_once = np.zeros_like(one_by_one)
    R.fill_bits_blocks(at_once, np.array(xs, dtype=np.uint64))
    assert np.array_equal(at_once, one_by_one)


def test_memory_bus_constraints_are_one_fused_kernel_equal_to_the_generic_code():
    """The prover evaluates the memory bus's helpers and running sum in one kernel
    (`logup_kernel.combined_linear`: every term is linear in the columns); on random rows (no
    satisfied constraint) it gives the generic code's sum, public end included."""
    witness, _ = merkle_witness()
    air = R.RecursionAir(witness.layout, witness.public)
    rng = np.random.default_rng(9)
    rows, width = 300, 2 * logup.width(air)

    def block(count):
        return rng.integers(0, P, size=(count, rows + 1), dtype=np.uint64)

    main, fixed, aux = block(air.main_width), block(air.preprocessed_width), block(width)
    frame = Frame(
        base_columns(main, 0, rows), base_columns(main, 1, rows), ext_columns(aux, 0, rows),
        ext_columns(aux, 1, rows), base_columns(fixed, 0, rows), base_columns(fixed, 1, rows),
    )  # fmt: skip
    periodic = [BaseVec(rng.integers(0, P, size=rows, dtype=np.uint64)) for _ in air.periodic_columns()]
    challenges = [Ext(int(a), int(b)) for a, b in rng.integers(0, P, size=(2, 2), dtype=np.uint64)]
    generic = logup.evaluate(air, frame, periodic, challenges, fused=False)
    (fused,) = logup.evaluate(air, frame, periodic, challenges)
    assert isinstance(fused, CombinedConstraints) and fused.count == len(generic)
    alphas = [Ext(int(a), int(b)) for a, b in rng.integers(0, P, size=(len(generic), 2), dtype=np.uint64)]
    expected = None
    for value, alpha in zip(generic, alphas, strict=True):
        expected = value * alpha if expected is None else expected + value * alpha
    pairs = np.array([[a.c0, a.c1] for a in alphas], dtype=np.uint64)
    assert np.array_equal(fused.combine(pairs).values, as_ext_array(expected, rows))


def test_bit_decomposition_with_a_non_bit(options):
    witness = honest(bits_program(), [2])  # bits 0, 1, 0, …
    trace = witness.trace()
    cheat = [2, 0] + [0] * 62  # 2·2^0 = 2: the sum and the canonical check still hold
    R.fill_bits_block(trace, 0, cheat)
    claimed = replace(witness.public, outputs=tuple(Ext(b) for b in cheat))
    rejected(witness, trace, options, claimed, breaks="boolean")


def test_bit_decomposition_of_a_non_canonical_value(options):
    witness = honest(bits_program(), [5])
    trace = witness.trace()
    cheat = [((5 + P) >> i) & 1 for i in range(64)]  # 5 + p < 2^64 is 5 mod p
    R.fill_bits_block(trace, 0, cheat)
    assert int(trace[R.ACC, 63]) == 5
    claimed = replace(witness.public, outputs=tuple(Ext(b) for b in cheat))
    rejected(witness, trace, options, claimed, breaks="canonical")


def test_read_that_does_not_return_the_written_value(options):
    program = horner_program(1)  # c1·x + c0
    witness = honest(program, [Ext(3, 0), 10, 20])
    trace = witness.trace()
    a0, d0 = R.slot_column(0, "a0"), R.slot_column(0, "d0")
    assert trace[a0, 0] == 20  # a = c1
    trace[a0, 0] = 21  # the slot reads c1 as 21 and computes with it consistently
    trace[d0, 0] = 21 * 3 + 10
    rejected(witness, trace, options, with_output(witness, 0, Ext(21 * 3 + 10)), breaks="memory")


def test_read_of_a_cell_that_is_never_written(options):
    """A write's multiplicity is the program's (a preprocessed column), not the prover's: columns
    claiming that nobody reads the first mul-add's result leave the bus unbalanced, and they are
    not the columns of the program's key either."""
    program = horner_program(2)  # the first mul-add's result is read by the second
    witness = honest(program, [Ext(3, 0), 1, 2, 3])
    matrix = witness.layout.matrix.copy()
    bus = matrix[R.ADDRESS_COLUMNS.index("slot0_bus")]
    assert bus[0] == P - 1  # written, read once: −1
    bus[0] = 0  # the writer claims nobody reads it
    forged = replace(witness, layout=replace(witness.layout, matrix=matrix))
    rejected(forged, forged.trace(), options, breaks="memory")


def test_failed_assertion(options):
    b = ProgramBuilder()
    x, y = b.public_input(), b.private_input()
    b.assert_equal(x, y)
    program = b.build()
    witness = honest(program, [4], [5], check=False)
    rejected(witness, witness.trace(), options, breaks="mul-add")


def test_wrong_inverse_hint(options):
    """A hint is a free witness cell: a wrong one passes the bus and fails only its Check."""
    b = ProgramBuilder()
    y = b.public_input()
    b.output(b.inverse(y))
    program = b.build()
    witness = honest(program, [Ext(3, 4)])
    proof_public, proof = prove_program(program, [Ext(3, 4)], options=options)
    verify_program(program, proof_public, proof, min_security_bits=0)
    hint = program.instructions[0].out
    wrong = witness.public.outputs[0] + 1
    witness.values[hint] = (wrong.c0, wrong.c1)
    rejected(witness, witness.trace(), options, with_output(witness, 0, wrong), breaks="mul-add")


def test_proof_of_one_program_presented_for_another(options):
    program = horner_program(3)
    public, proof = prove_program(program, [Ext(2, 0), 1, 2, 3, 4], options=options)
    other = _reordered_horner()
    assert execute(other, [Ext(2, 0), 1, 2, 3, 4]).outputs == list(public.outputs)
    assert other.digest() != program.digest()
    with pytest.raises(VerificationError):
        verify_program(other, public, proof, min_security_bits=0)


def _reordered_horner():
    """horner_program(3)'s shape and outputs with its operands in another order: another program
    (another digest, other address columns) of the same size."""
    other = ProgramBuilder()
    x = other.public_input()
    c = [other.public_input() for _ in range(4)]
    acc = c[3]
    for coefficient in (c[2], c[1], c[0]):
        acc = other.mul_add(x, acc, coefficient)
    other.output(acc)
    return other.build()


def test_proof_checked_against_another_programs_key(options):
    """The key of another program of the same size is refused: by its digest in `verify_program`,
    and by its preprocessed root alone when the AIR is checked with it directly."""
    program, other = horner_program(3), _reordered_horner()
    public, proof = prove_program(program, [Ext(2, 0), 1, 2, 3, 4], options=options)
    key = program_key(program, options)
    verify_program(program, public, proof, min_security_bits=0, key=key)
    other_key = program_key(other, options)
    assert other_key.preprocessed.root != key.preprocessed.root
    with pytest.raises(VerificationError, match="another program"):
        verify_program(program, public, proof, min_security_bits=0, key=other_key)
    with pytest.raises(VerificationError):
        verify(R.RecursionAir(R.plan(program), public), proof, min_security_bits=0,
               key=other_key.preprocessed)  # fmt: skip


def test_run_of_other_address_columns_under_the_programs_digest(options):
    """A cheat runs another program (operands read from other cells) but claims this program's
    digest: its trace satisfies its own committed columns, the public inputs are the honest ones,
    so only the key's preprocessed root rejects it."""
    program, other = horner_program(3), _reordered_horner()
    inputs = [Ext(2, 0), 1, 2, 3, 4]
    cheat = honest(other, inputs)
    cheat_air = R.RecursionAir(cheat.layout, cheat.public)
    cheat_air._program_digest = program.digest()
    assert cheat_air.public_inputs() == R.RecursionAir(R.plan(program), cheat.public).public_inputs()
    proof = prove(cheat_air, cheat.trace(), options)
    verify(cheat_air, proof, min_security_bits=0, key=commit_preprocessed(cheat_air, options).key)
    with pytest.raises(VerificationError):
        verify_program(program, cheat.public, proof, min_security_bits=0)


def test_changed_public_output_or_input(options):
    witness, levels = merkle_witness()
    inputs = [v.c0 for v in witness.public.inputs]
    public, proof = prove_program(witness.program, inputs, _siblings(levels, 5), options)
    verify_program(witness.program, public, proof, min_security_bits=0)
    for edited in (
        with_output(witness, 1, public.outputs[1] + 1),
        replace(public, inputs=(public.inputs[0] + 1, *public.inputs[1:])),
    ):
        with pytest.raises(VerificationError):
            verify_program(witness.program, edited, proof, min_security_bits=0)


def _siblings(levels, index):
    return [v for digest in path(levels, index) for v in digest]


def test_node_domain_is_the_solvency_trees():
    assert NODE_DOMAIN == "zkpor-node-v1"


def test_layout_writes_every_cell_once():
    """Soundness rests on this: no two write terms of the bus share a cell, and every cell an
    instruction defines is written by exactly one unit."""
    program = merkle_program()
    layout = R.plan(program)
    c = layout.columns
    writes = [int(c["p2_out"][r]) + i for r in range(layout.trace_length) for i in range(12)]
    for s in range(R.SLOTS):
        writes += [int(d) for d, bus in zip(c[f"slot{s}_d"], c[f"slot{s}_bus"], strict=True) if bus != 1]
    writes += [int(v) for v in c["bits_out"]]
    writes += [int(v) for j in range(R.WITNESS) for v in c[f"witness{j}"]]
    assert len(writes) == len(set(writes))
    defined = {cell for i in program.instructions for cell in i.writes()}
    assert defined <= set(writes)
    known = {cell for cell, _ in program.constants} | set(program.public_inputs)
    assert not known & set(writes)
    assert all(cell >= program.cells for cell in set(writes) - defined)  # the rest are scratch


def test_the_layout_kernel_places_and_counts_by_the_rules():
    """`plan` (`layout_kernel.fill_layout`): permutation k in row k, arithmetic k in slot k % SLOTS
    of row k // SLOTS, decomposition k in block k, private input or hint k in witness cell
    k % WITNESS; unused units read cell 0; every read counted once (a permutation's 13, a slot's
    a b c and a check's d, a decomposition's x once); a write's multiplicity its reads (+1 for a
    public output), a check's bus +1 and a write's −reads. The kernel's columns are ADDRESS_COLUMNS'."""
    assert [R.ADDRESS_COLUMNS.index(name) for name in ("p2_bit", "p2_out", "p2_mult0", "slot0_a", "slot1_bus",
            "bits_x", "bits_out", "bits_mult", "witness0", "witness7_mult")] == [
        layout_kernel.P2_BIT, layout_kernel.P2_OUT, layout_kernel.P2_MULT, layout_kernel.SLOT0,
        layout_kernel.SLOT0 + 9, layout_kernel.BITS_X, layout_kernel.BITS_OUT, layout_kernel.BITS_MULT,
        layout_kernel.WITNESS0, layout_kernel.WITNESS0 + 15]  # fmt: skip
    assert (R.SLOTS, R.WITNESS, R.BLOCK, len(R.ADDRESS_COLUMNS)) == (
        layout_kernel.SLOTS, layout_kernel.WITNESS, layout_kernel.BLOCK, layout_kernel.COLUMNS)  # fmt: skip
    b = ProgramBuilder()
    x, w = b.public_input(), b.private_input()
    inverse = b.inverse(b.add(x, w))  # a hint and a check
    bits = b.decompose(x)
    state = b.permute([x, w, inverse, *bits[:9]], bits[0])
    b.assert_equal(b.mul(state[3], state[3]), b.mul_add(state[3], state[3], 0))
    for cell in (state[0], bits[5], inverse):
        b.output(cell)
    program = b.build()
    layout = R.plan(program)
    c, n = layout.columns, layout.trace_length
    units: dict[str, list] = {"permute": [], "arithmetic": [], "decompose": [], "private": []}
    reads = np.zeros(layout.total_cells, dtype=np.int64)
    for i in program.instructions:
        kind = {Permute: "permute", MulAdd: "arithmetic", Check: "arithmetic", Decompose: "decompose"}
        units[kind.get(type(i), "private")].append(i)
    for r in range(n):
        p = units["permute"][r] if r < len(units["permute"]) else None
        inputs = [*p.inputs, p.bit] if p else [0] * 13
        assert [int(c[f"p2_in{k}"][r]) for k in range(12)] + [int(c["p2_bit"][r])] == inputs
        np.add.at(reads, inputs, 1)
        for s in range(R.SLOTS):
            k = r * R.SLOTS + s
            a = units["arithmetic"][k] if k < len(units["arithmetic"]) else None
            operands = [int(c[f"slot{s}_{name}"][r]) for name in "abcd"]
            if a is not None:
                assert operands == list(a.operands())
            np.add.at(reads, operands[:3], 1)
            reads[operands[3]] += isinstance(a, Check)
    for k in range(n // R.BLOCK):
        d = units["decompose"][k] if k < len(units["decompose"]) else None
        assert int(c["bits_x"][(k + 1) * R.BLOCK - 1]) == (d.x if d else 0)
        reads[d.x if d else 0] += 1
    cells = [int(c[f"witness{j}"][r]) for r in range(n) for j in range(R.WITNESS)]
    assert cells[: len(units["private"])] == [i.writes()[0] for i in units["private"]]
    assert np.array_equal(layout.reads, reads)
    readers = reads.copy()
    readers[list(program.public_outputs)] += 1
    for r in range(n):
        out = int(c["p2_out"][r])
        assert [int(c[f"p2_mult{i}"][r]) for i in range(12)] == list(readers[out : out + 12])
        assert int(c["bits_mult"][r]) == readers[int(c["bits_out"][r])]
        for j in range(R.WITNESS):
            assert int(c[f"witness{j}_mult"][r]) == readers[int(c[f"witness{j}"][r])]
        for s in range(R.SLOTS):
            k = r * R.SLOTS + s
            check = k < len(units["arithmetic"]) and isinstance(units["arithmetic"][k], Check)
            m = int(readers[int(c[f"slot{s}_d"][r])])
            assert int(c[f"slot{s}_bus"][r]) == (1 if check else (P - m) % P)


def test_public_values_must_be_extension_elements():
    with pytest.raises(R.ProgramError, match="public output 0"):
        R.ProgramPublic((Ext(1),), (5,))


def test_inner_options_reach_100_conjectured_bits():
    """The inner nodes' options (zero knowledge by default, or without; blowup 4, 41 queries + 20
    grinding bits) claim the default security level for a 2^16-row node, and a 2^10-row program
    proves and verifies with them (a trace that long: the Poseidon2 draw of 40 distinct queries
    needs a roomy LDE, and zero knowledge as many random values per column as points opened)."""
    from zkpor.recursion.proving import inner_options
    from zkpor.stark.domain import committed_sizes
    from zkpor.stark.params import security_level
    from zkpor.stark.verifier import DEFAULT_MIN_SECURITY_BITS

    assert inner_options().zero_knowledge
    b = ProgramBuilder()
    x = b.public_input()
    for _ in range(16):  # 16 decompositions: 1,024 rows
        b.output(b.decompose(x)[0])
    program = b.build()
    for zero_knowledge in (True, False):
        options = inner_options(zero_knowledge=zero_knowledge)
        options.validate()
        assert options.zero_knowledge == zero_knowledge and options.hasher == "poseidon2"
        sizes = committed_sizes(1 << 16, options)
        assert security_level(options, *sizes).conjectured_bits >= DEFAULT_MIN_SECURITY_BITS
        public, proof = prove_program(program, [12345], options=options)
        report = verify_program(program, public, proof)
        assert report.trace_length == 1024 and proof.options.zero_knowledge == zero_knowledge
        assert report.security.conjectured_bits >= DEFAULT_MIN_SECURITY_BITS
