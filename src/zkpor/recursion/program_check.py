"""A program's well-formedness check (`Program`'s: every cell defined exactly once, read only after
it is defined) as one numba kernel over its instruction arrays.

The same rules as the numpy check it replaces, in one pass in program order: that one gathered
every written and read cell into index arrays (~90 MB of temporaries and ~0.1 CPU-s for the
750 k instructions of a 2^16-row node program, on a verifier's critical path when it derives keys).
"""

from __future__ import annotations

import numpy as np

from zkpor.field.jit import njit

_UNDEFINED = np.iinfo(np.int64).max


@njit(cache=True, nogil=True)
def well_formed(
    cells: int,
    preset: np.ndarray,
    opcodes: np.ndarray,
    operands: np.ndarray,
    outputs: np.ndarray,
    operand_counts: np.ndarray,
    read_counts: np.ndarray,
    write_operand: np.ndarray,
    write_counts: np.ndarray,
) -> bool:
    """Whether the cells `preset` (constants, public inputs) and those the instructions write
    define each of the `cells` cells exactly once, every instruction reads (its first
    `read_counts[opcode]` operands) only cells defined before it, and the `outputs` are distinct
    cells written by instructions. Instruction k's operands are `operand_counts[opcode]` words of
    `operands` from the end of the previous one's; it writes `write_counts[opcode]` consecutive
    cells from its operand `write_operand[opcode]`. `operands` must hold exactly those words."""
    defined_at = np.full(cells, _UNDEFINED, dtype=np.int64)
    for cell in preset:
        if cell < 0 or cell >= cells or defined_at[cell] != _UNDEFINED:
            return False
        defined_at[cell] = -1
    at = 0
    for k in range(opcodes.size):
        opcode = opcodes[k]
        for j in range(read_counts[opcode]):
            cell = operands[at + j]
            if cell < 0 or cell >= cells or defined_at[cell] >= k:
                return False
        count = write_counts[opcode]
        if count:
            first = operands[at + write_operand[opcode]]
            if first < 0 or first + count > cells:
                return False
            for cell in range(first, first + count):
                if defined_at[cell] != _UNDEFINED:
                    return False
                defined_at[cell] = k
        at += operand_counts[opcode]
    if at != operands.size:
        return False
    for cell in range(cells):
        if defined_at[cell] == _UNDEFINED:
            return False
    for cell in outputs:
        if cell < 0 or cell >= cells or defined_at[cell] < 0:
            return False
        defined_at[cell] = -2  # a second listing of it reads as not written by an instruction
    return True
