"""Programs: the builder, the interpreter against zkpor.field and zkpor.hash, the encoding and the
digest, and the refusal of malformed programs and inputs (no proving here)."""

import numpy as np
import pytest
from recursion_programs import NODE_DOMAIN, bits_program, horner_program, merkle_program, path, tree

from zkpor.field import poly
from zkpor.field.pure import Ext, P
from zkpor.hash.poseidon2 import permute, sponge_hash
from zkpor.liabilities import encoding
from zkpor.recursion.air import plan
from zkpor.recursion.program import (
    ZERO_CELL,
    Check,
    Decompose,
    MulAdd,
    Program,
    ProgramBuilder,
    ProgramError,
    execute,
)


def leaves(count: int):
    return [sponge_hash("test-leaf", [i]) for i in range(count)]


def test_merkle_path_reaches_the_root_of_zkpors_tree():
    levels = tree(leaves(8))
    assert levels[-1][0] == encoding.merkle_root(levels[0])  # the solvency tree's node hash
    program = merkle_program()
    for index in (0, 5, 7):
        siblings = [v for digest in path(levels, index) for v in digest]
        run = execute(program, [*levels[0][index], index], siblings)
        assert [v.c0 for v in run.outputs] == levels[-1][0]
        assert all(v.c1 == 0 for v in run.outputs)


def test_wrong_sibling_gives_another_root_and_a_large_index_fails_its_assertion():
    levels = tree(leaves(8))
    siblings = [v for digest in path(levels, 3) for v in digest]
    siblings[5] += 1
    run = execute(merkle_program(), [*levels[0][3], 3], siblings)
    assert [v.c0 for v in run.outputs] != levels[-1][0]
    with pytest.raises(ProgramError, match="assertion"):
        execute(merkle_program(), [*levels[0][3], 3 + 8], siblings)


def test_horner_matches_zkpor_field():
    rng = np.random.default_rng(7)
    coefficients = rng.integers(0, P, 9, dtype=np.uint64)
    x = Ext(int(rng.integers(0, P, dtype=np.uint64)), int(rng.integers(0, P, dtype=np.uint64)))
    run = execute(horner_program(8), [x, *[int(c) for c in coefficients]])
    assert run.outputs == [poly.evaluate_at_ext(coefficients, x)]
    ext_coefficients = [Ext(3, 4), Ext(P - 1, 2), Ext(0, 9)]
    run = execute(horner_program(2), [x, *ext_coefficients])
    assert run.outputs == [ext_coefficients[0] + ext_coefficients[1] * x + ext_coefficients[2] * x * x]


@pytest.mark.parametrize("x", [0, 1, 5, 2**32 - 1, 2**63 + 12345, P - 1])
def test_decomposition_bits(x):
    run = execute(bits_program(), [x])
    assert [v.c0 for v in run.outputs] == [(x >> i) & 1 for i in range(64)]


def test_permute_and_swap_match_the_reference():
    b = ProgramBuilder()
    inputs = [b.public_input() for _ in range(12)]
    bit = b.public_input()
    for cell in b.permute(inputs) + b.permute(inputs, bit):
        b.output(cell)
    state = list(range(100, 112))
    run = execute(b.build(), [*state, 1])
    assert [v.c0 for v in run.outputs] == permute(state) + permute(state[4:8] + state[0:4] + state[8:])


def test_encoding_round_trips_and_the_digest_names_the_program():
    program = merkle_program()
    data = program.to_bytes()
    assert Program.from_bytes(data) == program
    assert Program.from_bytes(data).digest() == program.digest()
    assert merkle_program().digest() == program.digest()  # deterministic
    assert horner_program(3).digest() != horner_program(4).digest()


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda d: d[:-1], "truncated"),
        (lambda d: d + b"\0", "trailing"),
        (lambda d: b"x" + d[1:], "magic"),
        (lambda d: d[:24] + b"\x09" + d[25:], "version"),
    ],
)
def test_malformed_encodings_are_refused(edit, reason):
    with pytest.raises(ProgramError, match=reason):
        Program.from_bytes(edit(merkle_program().to_bytes()))


def test_hostile_counts_and_values_are_refused():
    program = horner_program(1)
    data = program.to_bytes()
    header = len(b"zkpor-recursion-program\0") + 5
    huge_count = data[:header] + (2**31).to_bytes(4, "little") + data[header + 4 :]
    with pytest.raises(ProgramError, match="claims"):
        Program.from_bytes(huge_count)
    first_value = header + 4 + 4  # the zero constant's c0
    with pytest.raises(ProgramError, match="canonical"):
        Program.from_bytes(data[:first_value] + P.to_bytes(8, "little") + data[first_value + 8 :])


def test_programs_that_read_undefined_or_rewrite_cells_are_refused():
    zero = ((0, Ext(0, 0)),)
    with pytest.raises(ProgramError, match="reads cell 3"):
        Program(4, zero, (1, 2), (), (MulAdd(1, 3, 2, 3),))
    with pytest.raises(ProgramError, match="second time"):
        Program(3, zero, (1, 2), (), (MulAdd(1, 1, 1, 2),))
    with pytest.raises(ProgramError, match="never defined"):
        Program(4, zero, (1, 2), (), ())
    with pytest.raises(ProgramError, match="not written"):
        Program(3, zero, (1, 2), (1,), (Check(1, 1, 0, 2),))
    with pytest.raises(ProgramError, match="cell 0"):
        Program(2, ((0, Ext(1, 0)),), (1,), (), ())


def test_programs_that_list_an_output_twice_or_write_past_their_cells_are_refused():
    zero = ((0, Ext(0, 0)),)
    with pytest.raises(ProgramError, match="listed twice"):
        Program(4, zero, (1, 2), (3, 3), (MulAdd(1, 1, 2, 3),))
    with pytest.raises(ProgramError, match="not written"):
        Program(4, zero, (1, 2), (3, 1), (MulAdd(1, 1, 2, 3),))
    with pytest.raises(ProgramError, match="outside"):
        Program(4, zero, (1, 2), (), (Decompose(1, 3),))
    with pytest.raises(ProgramError, match="reads cell 3"):  # read by the instruction defining it
        Program.from_arrays(4, zero, (1, 2), (), np.array([1], np.uint8), np.array([1, 3, 2, 3], np.uint32))
    with pytest.raises(ProgramError, match="second time"):
        twice = np.array([1, 1, 2, 3] * 2, np.uint32)
        Program.from_arrays(4, zero, (1, 2), (), np.array([1, 1], np.uint8), twice)


def test_bad_inputs_are_refused():
    program = merkle_program()
    levels = tree(leaves(8))
    siblings = [v for digest in path(levels, 1) for v in digest]
    with pytest.raises(ProgramError, match="public inputs"):
        execute(program, levels[0][1], siblings)
    with pytest.raises(ProgramError, match="private inputs"):
        execute(program, [*levels[0][1], 1], siblings[:-1])
    with pytest.raises(ProgramError, match="private inputs"):
        execute(program, [*levels[0][1], 1], [*siblings, 0])
    with pytest.raises(ProgramError, match="canonical"):
        execute(program, [*levels[0][1], P], siblings)
    with pytest.raises(ProgramError, match="base-field"):
        execute(program, [Ext(1, 1), *levels[0][1][1:], 1], siblings)
    b = ProgramBuilder()
    bit = b.public_input()
    b.merkle_step([0] * 4, [0] * 4, bit, NODE_DOMAIN)
    with pytest.raises(ProgramError, match="not 0 or 1"):
        execute(b.build(), [2])


@pytest.mark.parametrize("length, out_len", [(0, 4), (3, 4), (8, 4), (13, 4), (16, 12), (5, 20)])
def test_sponge_hash_matches_zkpor_hash(length, out_len):
    b = ProgramBuilder()
    cells = [b.public_input() for _ in range(length)]
    for cell in b.sponge_hash("zkpor/test/sponge", cells, out_len):
        b.output(cell)
    elements = [(i * 0x9E3779B97F4A7C15) % P for i in range(length)]
    run = execute(b.build(), elements)
    assert [v.c0 for v in run.outputs] == sponge_hash("zkpor/test/sponge", elements, out_len)


def test_select_and_power_of_constant():
    b = ProgramBuilder()
    index, x, y = b.public_input(), b.public_input(), b.public_input()
    bits = b.decompose(index)
    b.output(b.power_of_constant(7, bits[:20]))
    b.output(b.select(bits[0], x, y))
    b.output(b.select(bits[1], x, y))
    program = b.build()
    index_value = 0b1011_0110_1110_0101_1101  # bit 0 is 1, bit 1 is 0
    run = execute(program, [index_value, Ext(3, 4), Ext(5, 6)])
    assert run.outputs == [Ext(pow(7, index_value, P)), Ext(3, 4), Ext(5, 6)]


@pytest.mark.parametrize("exponent", [0, 1, 2, 427, 4011, (1 << 20) - 1])
def test_power_of_a_cell_by_a_constant_exponent(exponent):
    """`power`: square-and-multiply, ⌊log2 e⌋ squarings and popcount(e) − 1 products."""
    b = ProgramBuilder()
    b.output(b.mul(b.power(b.public_input(), exponent), b.constant(1)))  # an output is an instruction's
    program = b.build()
    x = Ext(3, 4)
    assert execute(program, [x]).outputs == [x**exponent]
    squarings_and_products = exponent.bit_length() - 1 + bin(exponent).count("1") - 1 if exponent else 0
    assert program.instruction_count == squarings_and_products + 1


def test_inverse_and_division():
    b = ProgramBuilder()
    x, y = b.public_input(), b.public_input()
    b.output(b.div(x, y))
    b.output(b.inverse(y))
    program = b.build()
    assert Program.from_bytes(program.to_bytes()) == program
    x_value, y_value = Ext(5, 9), Ext(P - 3, 11)
    run = execute(program, [x_value, y_value])
    assert run.outputs == [x_value * y_value.inverse(), y_value.inverse()]
    assert run.outputs[1] * y_value == Ext(1, 0)
    with pytest.raises(ProgramError, match="inverse of zero"):
        execute(program, [x_value, 0])


def _block(b: ProgramBuilder, x: int, y: int) -> int:
    """A few instructions over x and y, with a constant first defined inside it."""
    z = b.mul_add(x, y, b.constant(5))
    bits = b.decompose(b.private_input())
    state = b.permute([z, *bits[:11]], bits[0])
    return b.mul(state[3], b.inverse(z))


def test_a_repeated_block_is_the_block_written_again_on_other_inputs():
    by_calls, by_copy = ProgramBuilder(), ProgramBuilder()
    for b in (by_calls, by_copy):
        x, y, other = b.public_input(), b.public_input(), b.public_input()
        shared = b.mark().cells
        start = b.mark()
        b.output(_block(b, x, y))
        end = b.mark()
        if b is by_calls:
            b.output(_block(b, other, y))
        else:
            cell = b.repeat(start, end, {x: other}, shared)
            b.output(cell(by_copy.build().public_outputs[0]))
    assert by_copy.build().to_bytes() == by_calls.build().to_bytes()


def test_a_block_reading_a_cell_that_is_not_its_input_is_not_repeated():
    b = ProgramBuilder()
    x, y = b.public_input(), b.public_input()
    start = b.mark()
    _block(b, x, y)
    end = b.mark()
    written = b.instruction_count
    with pytest.raises(ProgramError, match="not one of its inputs"):
        b.repeat(start, end, {x: y}, shared_below=y)  # y is read, neither mapped nor shared
    assert b.instruction_count == written
    b.build()


def _reads_root(b: ProgramBuilder, root) -> None:
    """A block reading two constants (`root()` gives their cells, asked inside it), written twice."""
    x, other = b.public_input(), b.public_input()
    shared = b.mark().cells
    start = b.mark()
    cells = root()
    out = b.mul_add(x, cells[0], b.mul_add(cells[1], x, b.constant(5)))
    b.output(out)
    end = b.mark()
    b.output(b.repeat(start, end, {x: other}, shared)(out))


def test_late_constants_give_the_program_written_with_their_values_known():
    """Cells taken before their values are known (a child key's root being committed), given the
    values before the build: the same program as the constants written at that point, a block
    reading them copied as reading the same constants."""
    values = [11, P - 2]
    eager, late = ProgramBuilder(), ProgramBuilder()
    _reads_root(eager, lambda: [eager.constant(v) for v in values])
    _reads_root(late, lambda: late.late_constants("root", 2))
    with pytest.raises(ProgramError, match="never given"):
        late.build()
    assert late.set_late_constants("root", values)
    assert late.build().to_bytes() == eager.build().to_bytes()


def test_a_program_built_before_its_late_constants_is_laid_out_as_the_finished_one():
    """`build_unfinished` (late constants 0) has the finished program's cells and instructions, so
    its layout (the committed columns) is the finished program's; `build` afterwards gives the
    program written with the values known, reusing the checked instructions, and writes nothing
    stale when more was written in between."""
    values = [11, P - 2]
    eager, late = ProgramBuilder(), ProgramBuilder()
    _reads_root(eager, lambda: [eager.constant(v) for v in values])
    _reads_root(late, lambda: late.late_constants("root", 2))
    unfinished = late.build_unfinished()
    finished = eager.build()
    assert unfinished.digest() != finished.digest()
    assert np.array_equal(plan(unfinished).matrix, plan(finished).matrix)
    assert late.set_late_constants("root", values)
    built = late.build()
    assert built.to_bytes() == finished.to_bytes() and built.operands is unfinished.operands
    late.build_unfinished()
    late.output(late.mul_add(late.constant(3), late.constant(4), ZERO_CELL))
    eager.output(eager.mul_add(eager.constant(3), eager.constant(4), ZERO_CELL))
    assert late.build().to_bytes() == eager.build().to_bytes()


def test_a_program_with_other_constant_values_keeps_its_cells():
    program = ProgramBuilder()
    program.output(program.add(program.public_input(), program.constant(5)))
    built = program.build()
    cells = [cell for cell, _ in built.constants]
    other = built.with_constants([(cell, Ext(7 * cell, 0)) for cell in cells])
    assert other.operands is built.operands and other.cells == built.cells
    assert [v for _, v in other.constants][1:] == [Ext(7 * c, 0) for c in cells[1:]]
    with pytest.raises(ProgramError, match="other constant cells"):
        built.with_constants([(cell + 1, Ext(0, 0)) for cell in cells])
    with pytest.raises(ProgramError, match="not canonical"):
        built.with_constants([(cells[0], Ext(0, 0)), *[(c, P) for c in cells[1:]]])
    with pytest.raises(ProgramError, match="cell 0"):
        built.with_constants([(cell, Ext(1, 0)) for cell in cells])


def test_late_constants_that_constant_would_have_shared_are_refused():
    """A value equal to another constant, or two equal values, would have been one cell: refused
    (nothing set), so that the caller writes the program again with the values known."""
    b = ProgramBuilder()
    b.constant(12)
    b.late_constants("root", 2)
    assert not b.set_late_constants("root", [11, 12])
    assert not b.set_late_constants("root", [11, 11])
    assert b.set_late_constants("root", [11, 13])
    b.build()
