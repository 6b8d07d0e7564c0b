"""`Symbolic`: the child AIR's constraint code on program cells writes the values the native Ext
arithmetic computes, with a product fused into the addition (or subtraction) that follows it; and
the recursion AIR's public bus end, written for that fusion, is the fingerprint sum it replaced."""

import random

import pytest

from zkpor.field.pure import Ext, P
from zkpor.recursion import air as R  # noqa: N812
from zkpor.recursion.program import MulAdd, ProgramBuilder, execute
from zkpor.recursion.verifier_program import Symbolic
from zkpor.stark.air import compress_values

A, B, C, D = Ext(3, 5), Ext(11, P - 2), Ext(P - 7, 13), Ext(17, 0)

EXPRESSIONS = {
    "a·b + c": lambda a, b, c, d: a * b + c,
    "c + a·b": lambda a, b, c, d: c + a * b,
    "a·b + c·d": lambda a, b, c, d: a * b + c * d,
    "c − a·5": lambda a, b, c, d: c - a * 5,
    "c − a·(3 + 4u)": lambda a, b, c, d: c - a * Ext(3, 4),
    "a·b − 7": lambda a, b, c, d: a * b - 7,
    "a·b − c": lambda a, b, c, d: a * b - c,
    "9 − a·5": lambda a, b, c, d: 9 - a * 5,
    "−(a·5) + c": lambda a, b, c, d: -(a * 5) + c,
    "−(a·b)": lambda a, b, c, d: -(a * b),
    "(3 + u)/a + c": lambda a, b, c, d: Ext(3, 1) / a + c,
    "a/b − c·2": lambda a, b, c, d: a / b - c * 2,
    "c − (3 + u)/a": lambda a, b, c, d: c - Ext(3, 1) / a,
    "a⁵ + 1": lambda a, b, c, d: a**5 + 1,
    "a·b·c·d": lambda a, b, c, d: a * b * c * d,
    "0 + a·b": lambda a, b, c, d: Ext(0, 0) + a * b,
}


def run(expression):
    b = ProgramBuilder()
    cells = [b.public_input() for _ in range(4)]
    result = expression(*(Symbolic(b, cell) for cell in cells))
    b.output(result.cell)
    program = b.build()
    return program, execute(program, [A, B, C, D]).outputs[0]


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_symbolic_cells_hold_the_native_value(name):
    _, value = run(EXPRESSIONS[name])
    assert value == EXPRESSIONS[name](A, B, C, D)


def test_a_product_fused_into_what_follows_costs_one_multiply_add():
    program, _ = run(lambda a, b, c, d: a * b + c)
    assert sum(isinstance(i, MulAdd) for i in program.instructions) == 1
    program, _ = run(lambda a, b, c, d: c - a * 5)
    assert sum(isinstance(i, MulAdd) for i in program.instructions) == 1


def test_a_product_read_twice_holds_one_value():
    def twice(a, b, c, d):
        x = a * b
        y = x + c  # fused
        return y * x + x  # x read again: written then

    _, value = run(twice)
    assert value == twice(A, B, C, D)


def reference_public_sum(air: R.RecursionAir, beta: Ext, gamma: Ext) -> Ext:
    """The recursion AIR's public bus end as `compress_values` fingerprints (its former form)."""
    s = air.summary
    inputs = zip(s.inputs, air.public.inputs, strict=True)
    written = list(s.constants) + [(cell, value, count) for (cell, count), value in inputs]

    def pole(cell, value):
        return beta - compress_values([R.MEM_BUS, cell, value.c0, value.c1], gamma)

    total = Ext(0, 0)
    for cell, value, count in written:
        if count:
            total = total + Ext(count, 0) / pole(cell, value)
    for cell, value in zip(s.outputs, air.public.outputs, strict=True):
        total = total - Ext(1, 0) / pole(cell, value)
    return total


def public_sum_program():
    b = ProgramBuilder()
    x, y = b.public_input(), b.public_input()
    t = b.mul_add(x, b.constant(Ext(5, 9)), b.constant(0))
    b.output(b.mul_add(t, y, b.constant(P - 1)))
    b.output(b.add(x, b.constant(Ext(0, 1))))
    return b.build()


def test_the_public_bus_end_is_the_fingerprint_sum_natively_and_on_cells():
    program = public_sum_program()
    inputs = [Ext(4, 0), Ext(6, 2)]
    run_ = execute(program, inputs)
    air = R.RecursionAir(R.plan(program), R.ProgramPublic(tuple(inputs), tuple(run_.outputs)))
    rng = random.Random(5)
    beta, gamma = (Ext(rng.randrange(P), rng.randrange(P)) for _ in range(2))
    expected = reference_public_sum(air, beta, gamma)
    assert air.lookup_public_sum(beta, gamma) == expected
    # on program cells (as a parent verifier evaluates it): the same value
    b = ProgramBuilder()
    cells = [b.public_input(), b.public_input()]
    total = air.lookup_public_sum(Symbolic(b, cells[0]), Symbolic(b, cells[1]))
    b.output(total.cell)
    assert execute(b.build(), [beta, gamma]).outputs[0] == expected
