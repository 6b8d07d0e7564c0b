"""Programs computing known things, shared by the recursion tests."""

from zkpor.field.pure import Ext
from zkpor.hash.poseidon2 import sponge_hash
from zkpor.recursion.program import ProgramBuilder

NODE_DOMAIN = "zkpor-node-v1"  # the solvency tree's node hash (zkpor.liabilities.encoding)
DEPTH = 3


def node(left, right):
    return sponge_hash(NODE_DOMAIN, [*left, *right])


def tree(leaves):
    """All levels, leaves first, of the binary tree with node = sponge_hash(NODE_DOMAIN, l ‖ r)."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        levels.append([node(level[i], level[i + 1]) for i in range(0, len(level), 2)])
    return levels


def path(levels, index):
    return [levels[d][(index >> d) ^ 1] for d in range(len(levels) - 1)]


def merkle_program():
    """Public: a leaf digest and its index; private: the siblings; output: the root."""
    b = ProgramBuilder()
    leaf = [b.public_input() for _ in range(4)]
    index = b.public_input()
    bits = b.decompose(index)
    digest = leaf
    for level in range(DEPTH):
        sibling = [b.private_input() for _ in range(4)]
        digest = b.merkle_step(digest, sibling, bits[level], NODE_DOMAIN)
    for high in bits[DEPTH:]:
        b.assert_equal(high, 0)  # the index fits the tree
    for cell in digest:
        b.output(cell)
    return b.build()


def horner_program(degree: int):
    """Public: x and the coefficients c_0..c_degree (extension elements); output: Σ c_i x^i."""
    b = ProgramBuilder()
    x = b.public_input()
    coefficients = [b.public_input() for _ in range(degree + 1)]
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = b.mul_add(acc, x, c)
    b.output(acc)
    return b.build()


def bits_program():
    """Public: x; outputs: its 64 bits."""
    b = ProgramBuilder()
    x = b.public_input()
    for bit in b.decompose(x):
        b.output(bit)
    return b.build()


def ext(a: int, b: int) -> Ext:
    return Ext(a, b)
