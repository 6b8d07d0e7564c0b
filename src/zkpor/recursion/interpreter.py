"""The program interpreter's loop as one numba kernel over the program's instruction words.

`program.execute` used to walk the instructions in Python with `Ext` objects: ~4 µs an
instruction, 2.3 CPU-s for a 2^16-row node program (the 700 k instructions of a verifier), as much
as the rest of the witness and a tenth of its proof. This kernel runs the same loop on the canonical
encoding's instruction words (`Program.instruction_words`) and a (cells, 2) uint64 memory, and
stops at the first fault with a status that `program.execute` turns into the same ProgramError.
"""

from __future__ import annotations

import numpy as np

from zkpor.field import llvm_ops as f
from zkpor.field.jit import njit
from zkpor.hash.poseidon2_batch import permute12_inplace

# opcodes (program.py's instruction classes)
MUL_ADD, CHECK, PRIVATE_INPUT, PERMUTE, DECOMPOSE, INVERSE_HINT = 1, 2, 3, 4, 5, 6
# statuses
OK = 0
CHECK_FAILED = 1
INVERSE_OF_ZERO = 2
PRIVATE_INPUTS_SHORT = 3
PERMUTATION_INPUT_NOT_BASE = 4
MERKLE_BIT_NOT_BASE = 5
MERKLE_BIT_NOT_A_BIT = 6
DECOMPOSED_NOT_BASE = 7

_WIDTH = 12
_BITS = 64
_P_MINUS_2 = 0xFFFF_FFFF_0000_0001 - 2


@njit(cache=True)
def _base_inverse(x):
    """x^(p−2) for x ≠ 0."""
    result = np.uint64(1)
    power = np.uint64(x)
    e = _P_MINUS_2
    while e:
        if e & 1:
            result = f.mul(result, power)
        power = f.mul(power, power)
        e >>= 1
    return result


@njit(cache=True, nogil=True)
def run(words: np.ndarray, values: np.ndarray, private: np.ndarray, check: bool) -> tuple[int, int, int, int]:
    """Execute the instruction words (u32 count, then opcode and operands per instruction) on
    `values` (cells, 2), whose constants and public inputs are set; private inputs come from
    `private` (k, 2) in order. Returns (status, instruction index, offending cell, private inputs
    used); with `check` False a failed Check does not stop the run."""
    state = np.empty(_WIDTH, dtype=np.uint64)
    used = 0
    position = 1
    for k in range(words[0]):
        op = words[position]
        if op == MUL_ADD or op == CHECK:
            a, b, c, d = words[position + 1], words[position + 2], words[position + 3], words[position + 4]
            m0, m1 = f.ext_mul(values[a, 0], values[a, 1], values[b, 0], values[b, 1])
            r0, r1 = f.ext_add(m0, m1, values[c, 0], values[c, 1])
            if op == MUL_ADD:
                values[d, 0], values[d, 1] = r0, r1
            elif check and (r0 != values[d, 0] or r1 != values[d, 1]):
                return CHECK_FAILED, k, d, used
            position += 5
        elif op == PRIVATE_INPUT:
            if used == private.shape[0]:
                return PRIVATE_INPUTS_SHORT, k, words[position + 1], used
            out = words[position + 1]
            values[out, 0], values[out, 1] = private[used, 0], private[used, 1]
            used += 1
            position += 2
        elif op == PERMUTE:
            for lane in range(_WIDTH):
                cell = words[position + 1 + lane]
                if values[cell, 1] != 0:
                    return PERMUTATION_INPUT_NOT_BASE, k, cell, used
                state[lane] = values[cell, 0]
            bit_cell = words[position + 1 + _WIDTH]
            if values[bit_cell, 1] != 0:
                return MERKLE_BIT_NOT_BASE, k, bit_cell, used
            bit = values[bit_cell, 0]
            if bit > 1:
                return MERKLE_BIT_NOT_A_BIT, k, bit_cell, used
            if bit == 1:
                for lane in range(4):
                    state[lane], state[lane + 4] = state[lane + 4], state[lane]
            permute12_inplace(state)
            out = words[position + 2 + _WIDTH]
            for lane in range(_WIDTH):
                values[out + lane, 0] = state[lane]
                values[out + lane, 1] = 0
            position += 3 + _WIDTH
        elif op == DECOMPOSE:
            x_cell, out = words[position + 1], words[position + 2]
            if values[x_cell, 1] != 0:
                return DECOMPOSED_NOT_BASE, k, x_cell, used
            x = values[x_cell, 0]
            for j in range(_BITS):
                values[out + j, 0] = (x >> np.uint64(j)) & np.uint64(1)
                values[out + j, 1] = 0
            position += 3
        else:  # INVERSE_HINT: (c0 − c1·x) / (c0² − 7·c1²)
            a, out = words[position + 1], words[position + 2]
            c0, c1 = values[a, 0], values[a, 1]
            norm = f.sub(f.mul(c0, c0), f.mul(np.uint64(7), f.mul(c1, c1)))
            if norm == 0:
                return INVERSE_OF_ZERO, k, a, used
            inverse = _base_inverse(norm)
            values[out, 0], values[out, 1] = f.mul(c0, inverse), f.neg(f.mul(c1, inverse))
            position += 3
    return OK, words[0], 0, used
