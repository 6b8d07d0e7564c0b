"""`recursion.air.plan`'s columns and read counts, filled by one numba kernel from the program's
instruction arrays.

A node program has ~10^6 instructions; laying them out with numpy gathered every unit's operands,
the reads and the multiplicities into index arrays (~130 MB of temporaries and ~0.05-0.15 CPU-s
for a 2^16-row program, on a verifier's critical path when it derives keys). The kernel writes the
same matrix in passes over the instructions and the rows; the column numbers are `air`'s
ADDRESS_COLUMNS order, its units and opcodes `air`'s and `program`'s (tests/recursion/test_recursion_air.py
checks them).
"""

from __future__ import annotations

import numpy as np

from zkpor.field.goldilocks import P
from zkpor.field.jit import njit

# opcodes (program.py's instruction classes)
MUL_ADD, CHECK, PRIVATE_INPUT, PERMUTE, DECOMPOSE, INVERSE_HINT = 1, 2, 3, 4, 5, 6
WIDTH = 12  # permutation lanes
SLOTS = 6  # arithmetic slots per row
WITNESS = 8  # private-input cells per row
BLOCK = 64  # rows per bit decomposition
# columns (rows of the matrix), ADDRESS_COLUMNS' order
P2_BIT = WIDTH
P2_OUT = WIDTH + 1
P2_MULT = WIDTH + 2
SLOT0 = P2_MULT + WIDTH  # slot s: a b c d bus from SLOT0 + 5s
BITS_X = SLOT0 + 5 * SLOTS
BITS_OUT = BITS_X + 1
BITS_MULT = BITS_X + 2
WITNESS0 = BITS_X + 3  # witness j: cell, multiplicity at WITNESS0 + 2j
COLUMNS = WITNESS0 + 2 * WITNESS
_P = np.uint64(P)


@njit(cache=True, nogil=True)
def fill_layout(
    opcodes: np.ndarray,
    operands: np.ndarray,
    operand_counts: np.ndarray,
    cells: int,
    outputs: np.ndarray,
    matrix: np.ndarray,
    reads: np.ndarray,
) -> None:
    """Fill `matrix` (COLUMNS, n), zero, with the layout of the program and `reads` (zero, one
    entry a cell, scratch cells included) with the trace's reads of each cell. Permutation k runs
    in row k, arithmetic instruction k in slot k % SLOTS of row k // SLOTS, decomposition k in rows
    BLOCK·k …, private input k in witness cell k % WITNESS of row k // WITNESS; unused units read
    cell 0 and write fresh scratch cells from `cells` on (the permutations' 12 apart, then the
    slots' d, the witness cells, the decompositions' outputs)."""
    n = matrix.shape[1]
    perm = arith = dec = private = 0
    at = 0
    for k in range(opcodes.size):
        opcode = opcodes[k]
        if opcode == PERMUTE:
            for lane in range(WIDTH + 2):  # inputs, bit, out
                matrix[lane, perm] = operands[at + lane]
            perm += 1
        elif opcode == MUL_ADD or opcode == CHECK:
            row, column = arith // SLOTS, SLOT0 + 5 * (arith % SLOTS)
            for j in range(4):
                matrix[column + j, row] = operands[at + j]
            matrix[column + 4, row] = 1 if opcode == CHECK else 0  # (the bus column: a check's mark)
            arith += 1
        elif opcode == DECOMPOSE:
            for i in range(BLOCK):
                matrix[BITS_X, BLOCK * dec + i] = operands[at]
                matrix[BITS_OUT, BLOCK * dec + i] = operands[at + 1] + i
            dec += 1
        elif opcode == PRIVATE_INPUT or opcode == INVERSE_HINT:
            cell = operands[at] if opcode == PRIVATE_INPUT else operands[at + 1]
            matrix[WITNESS0 + 2 * (private % WITNESS), private // WITNESS] = cell
            private += 1
        at += operand_counts[opcode]
    scratch = np.uint64(cells)
    for row in range(perm, n):
        matrix[P2_OUT, row] = scratch
        scratch += np.uint64(WIDTH)
    for slot in range(arith, n * SLOTS):
        matrix[SLOT0 + 5 * (slot % SLOTS) + 3, slot // SLOTS] = scratch
        scratch += np.uint64(1)
    for w in range(private, n * WITNESS):
        matrix[WITNESS0 + 2 * (w % WITNESS), w // WITNESS] = scratch
        scratch += np.uint64(1)
    for row in range(BLOCK * dec, n):
        matrix[BITS_OUT, row] = scratch
        scratch += np.uint64(1)
    # the trace's reads: the permutations' inputs and bit, the slots' a b c (and a check's d), a
    # decomposition's x once (its last row)
    for row in range(n):
        for column in range(WIDTH + 1):
            reads[matrix[column, row]] += 1
        for s in range(SLOTS):
            column = SLOT0 + 5 * s
            for j in range(3):
                reads[matrix[column + j, row]] += 1
            if matrix[column + 4, row] == 1:
                reads[matrix[column + 3, row]] += 1
    for row in range(BLOCK - 1, n, BLOCK):
        reads[matrix[BITS_X, row]] += 1
    # the multiplicities: the trace's reads, and the verifier's of the outputs
    readers = reads.copy()
    for cell in outputs:
        readers[cell] += 1
    for row in range(n):
        out = matrix[P2_OUT, row]
        for i in range(WIDTH):
            matrix[P2_MULT + i, row] = readers[out + np.uint64(i)]
        for s in range(SLOTS):
            column = SLOT0 + 5 * s
            if matrix[column + 4, row] == 1:  # a check reads d: +1
                continue
            m = np.uint64(readers[matrix[column + 3, row]])  # a write read m times: −m
            matrix[column + 4, row] = _P - m if m else np.uint64(0)
        matrix[BITS_MULT, row] = readers[matrix[BITS_OUT, row]]
        for j in range(WITNESS):
            matrix[WITNESS0 + 2 * j + 1, row] = readers[matrix[WITNESS0 + 2 * j, row]]
