"""Straight-line programs over Goldilocks and its extension F_p[x]/(x² − 7), for the recursion AIR.

A program is what the recursion AIR (`zkpor.recursion.air`) proves an execution of: the STARK
verifier of a fixed AIR will be compiled into one (DESIGN.md, "Aggregation"). It is deliberately
tiny: a write-once memory of cells, each holding one extension element (a base element is a cell
whose second coordinate is 0), and five instructions:

    MulAdd(a, b, c → out)        out = a·b + c in the extension field
    Check(a, b, c, d)            asserts a·b + c = d (assert-equal is Check(x, 1, 0, y))
    PrivateInput(→ out)          out is a value the prover supplies
    InverseHint(a → out)         out = a⁻¹ computed by the interpreter; to the AIR a private input
                                 (`ProgramBuilder.inverse` adds the Check a·out = 1)
    Permute(in[12], bit → out)   out..out+11 = Poseidon2-12(state), state = in with in[0:4] and
                                 in[4:8] swapped when bit = 1 (a Merkle-path step), base elements
    Decompose(x → out)           out+i = bit i of x (i < 64), x canonical: Σ bit_i·2^i < p

Besides instructions, cells are defined as constants (values fixed by the program) and public
inputs (values the verifier supplies); some written cells are public outputs. Every cell is defined
exactly once, and an instruction reads only cells defined before it, so the program is its own
evaluation order (`execute`). Cell 0 is the constant 0.

A Merkle-path step with a capacity `c` computes Poseidon2-12(left ‖ right ‖ c)[0:4]: with `c` the
initial capacity of `zkpor.hash.poseidon2.sponge_hash(domain, 8 elements)` that is exactly
`sponge_hash(domain, left ‖ right)`, the width-12 node hash zkpor's trees use in AIRs
(`ProgramBuilder.compress`, `merkle_step`).

The canonical encoding (`Program.to_bytes`, strictly parsed back by `Program.from_bytes`):

    "zkpor-recursion-program" 0x00, u8 version
    u32 cells
    u32 count, count × (u32 cell, u64 c0, u64 c1)                 constants
    u32 count, count × u32 cell                                    public inputs
    u32 count, count × u32 cell                                    public outputs
    u32 count, count × (u32 opcode, u32 operands…)                 instructions

all little-endian. Its keyed BLAKE3 under the purpose "zkpor-recursion-program-v1" is the program
digest, the verification key a proof of an execution is bound to.
"""

from __future__ import annotations

import array
import struct
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from zkpor.errors import ZkporError
from zkpor.field.pure import Ext, P
from zkpor.hash import bytehash, poseidon2
from zkpor.recursion import interpreter, program_check

ZERO_CELL = 0
PERMUTE_WIDTH = 12
DIGEST_LEN = poseidon2.DIGEST_LEN
BITS = 64
MAGIC = b"zkpor-recursion-program\x00"
VERSION = 1
DIGEST_PURPOSE = "zkpor-recursion-program-v1"
MAX_CELLS = 1 << 30  # far past any program we build; bounds a hostile encoding


class ProgramError(ZkporError):
    """A malformed program, or inputs that do not fit it, or an execution whose assertion fails."""


Value = int | Ext


def as_ext(value: Value, what: str = "value") -> Ext:
    """An int (base element) or `Ext` as an `Ext`, refusing non-canonical coordinates."""
    if isinstance(value, Ext):
        c0, c1 = value.c0, value.c1
    elif isinstance(value, int) and not isinstance(value, bool):
        c0, c1 = value, 0
    else:
        raise ProgramError(f"{what}: {value!r} is not a field element")
    if not (0 <= c0 < P and 0 <= c1 < P):
        raise ProgramError(f"{what}: {value!r} is not canonical (coordinates must be in [0, p))")
    return Ext(c0, c1)


# ---- instructions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MulAdd:
    a: int
    b: int
    c: int
    out: int
    opcode = 1

    def reads(self) -> tuple[int, ...]:
        return (self.a, self.b, self.c)

    def writes(self) -> tuple[int, ...]:
        return (self.out,)

    def operands(self) -> tuple[int, ...]:
        return (self.a, self.b, self.c, self.out)


@dataclass(frozen=True)
class Check:
    a: int
    b: int
    c: int
    d: int
    opcode = 2

    def reads(self) -> tuple[int, ...]:
        return (self.a, self.b, self.c, self.d)

    def writes(self) -> tuple[int, ...]:
        return ()

    def operands(self) -> tuple[int, ...]:
        return (self.a, self.b, self.c, self.d)


@dataclass(frozen=True)
class PrivateInput:
    out: int
    opcode = 3

    def reads(self) -> tuple[int, ...]:
        return ()

    def writes(self) -> tuple[int, ...]:
        return (self.out,)

    def operands(self) -> tuple[int, ...]:
        return (self.out,)


@dataclass(frozen=True)
class Permute:
    inputs: tuple[int, ...]
    bit: int
    out: int
    opcode = 4

    def reads(self) -> tuple[int, ...]:
        return (*self.inputs, self.bit)

    def writes(self) -> tuple[int, ...]:
        return tuple(range(self.out, self.out + PERMUTE_WIDTH))

    def operands(self) -> tuple[int, ...]:
        return (*self.inputs, self.bit, self.out)


@dataclass(frozen=True)
class Decompose:
    x: int
    out: int
    opcode = 5

    def reads(self) -> tuple[int, ...]:
        return (self.x,)

    def writes(self) -> tuple[int, ...]:
        return tuple(range(self.out, self.out + BITS))

    def operands(self) -> tuple[int, ...]:
        return (self.x, self.out)


@dataclass(frozen=True)
class InverseHint:
    """out = a⁻¹, computed by the interpreter. The AIR sees a private input: on its own a hint
    proves nothing; `ProgramBuilder.inverse` pairs it with the Check a·out + 0 = 1 that does."""

    a: int
    out: int
    opcode = 6

    def reads(self) -> tuple[int, ...]:
        return (self.a,)

    def writes(self) -> tuple[int, ...]:
        return (self.out,)

    def operands(self) -> tuple[int, ...]:
        return (self.a, self.out)


Instruction = MulAdd | Check | PrivateInput | Permute | Decompose | InverseHint
_BY_OPCODE = {cls.opcode: cls for cls in (MulAdd, Check, PrivateInput, Permute, Decompose, InverseHint)}
_ARITY = {MulAdd.opcode: 4, Check.opcode: 4, PrivateInput.opcode: 1, Permute.opcode: 14, Decompose.opcode: 2,
          InverseHint.opcode: 2}  # fmt: skip


def _from_operands(opcode: int, operands: Sequence[int]) -> Instruction:
    if opcode == Permute.opcode:
        return Permute(tuple(operands[:PERMUTE_WIDTH]), operands[PERMUTE_WIDTH], operands[PERMUTE_WIDTH + 1])
    return _BY_OPCODE[opcode](*operands)


# ---- the program --------------------------------------------------------------------------------

# Per opcode (index): operands, and how many of them (the leading ones) are cells read.
_OPERANDS = np.zeros(max(_ARITY) + 1, dtype=np.int64)
_READS = np.zeros(max(_ARITY) + 1, dtype=np.int64)
for _opcode, _count in _ARITY.items():
    _OPERANDS[_opcode] = _count
_READS[[MulAdd.opcode, Check.opcode, Permute.opcode, Decompose.opcode, InverseHint.opcode]] = [3, 4, 13, 1, 1]
OPERAND_COUNTS = _OPERANDS  # (read-only) per opcode: how many operands an instruction has
_OPERANDS.flags.writeable = False
# Per opcode: which operand is the first cell it writes, and how many consecutive cells from it.
_WRITE_OPERAND = np.zeros(max(_ARITY) + 1, dtype=np.int64)
_WRITE_COUNT = np.zeros(max(_ARITY) + 1, dtype=np.int64)
_WRITES = (
    (MulAdd.opcode, 3, 1),
    (PrivateInput.opcode, 0, 1),
    (InverseHint.opcode, 1, 1),
    (Decompose.opcode, 1, BITS),
    (Permute.opcode, PERMUTE_WIDTH + 1, PERMUTE_WIDTH),
)
for _opcode, _operand, _count in _WRITES:
    _WRITE_OPERAND[_opcode], _WRITE_COUNT[_opcode] = _operand, _count


class Program:
    """A straight-line program. The instructions are kept as two arrays, one opcode per instruction
    (`opcodes`, uint8) and every operand in order (`operands`, uint32): a node program has hundreds
    of thousands of instructions, which as Python objects took seconds to build, check and encode
    and hundreds of MB to hold. `instructions` gives them as objects (`MulAdd`, ...) on demand.

    Built from instruction objects (`Program(cells, constants, inputs, outputs, instructions)`) or
    from the arrays (`Program.from_arrays`, what `ProgramBuilder.build` does); either way checked:
    every cell defined exactly once, read only after it is defined (`ProgramError` otherwise)."""

    def __init__(
        self,
        cells: int,
        constants: tuple[tuple[int, Ext], ...],
        public_inputs: tuple[int, ...],
        public_outputs: tuple[int, ...],
        instructions: Sequence[Instruction],
    ) -> None:
        opcodes = np.array([i.opcode for i in instructions], dtype=np.uint8)
        operands = np.array([o for i in instructions for o in i.operands()], dtype=object)
        self._init(cells, constants, public_inputs, public_outputs, opcodes, operands, tuple(instructions))

    @classmethod
    def from_arrays(
        cls,
        cells: int,
        constants: tuple[tuple[int, Ext], ...],
        public_inputs: tuple[int, ...],
        public_outputs: tuple[int, ...],
        opcodes: np.ndarray,
        operands: np.ndarray,
    ) -> Program:
        program = cls.__new__(cls)
        program._init(cells, constants, public_inputs, public_outputs, opcodes, operands, None)
        return program

    def _init(self, cells, constants, public_inputs, public_outputs, opcodes, operands, instructions) -> None:
        self.cells = cells
        self.constants = tuple(constants)
        self.public_inputs = tuple(public_inputs)
        self.public_outputs = tuple(public_outputs)
        if instructions is not None:
            self.__dict__["instructions"] = instructions
        opcodes = np.asarray(opcodes)
        known = opcodes.size == 0 or (opcodes.min() >= 1 and opcodes.max() < len(_OPERANDS))
        if not known or not np.all(_OPERANDS[opcodes]):
            raise ProgramError("unknown opcode in a program")
        try:  # a builder's operands are uint32 already (no copy); objects' may be anything
            uint32 = getattr(operands, "dtype", None) == np.uint32
            wide = operands if uint32 else np.asarray(operands, dtype=np.int64)
        except (OverflowError, TypeError, ValueError):
            wide = None
        counted = wide is not None and wide.size == int(_OPERANDS[opcodes].sum())
        if not counted or not self._valid(opcodes, wide):
            self._explain_invalid(opcodes, operands)
        self.opcodes = opcodes.astype(np.uint8)
        self.operands = wide.astype(np.uint32, copy=False)
        self.opcodes.flags.writeable = False
        self.operands.flags.writeable = False

    # ---- checking -------------------------------------------------------------------------------

    def _valid(self, opcodes: np.ndarray, operands: np.ndarray) -> bool:
        """Whether the program is well formed (the checks `_explain_invalid` names), on arrays."""
        n = self.cells
        if not isinstance(n, int) or not 1 <= n <= MAX_CELLS:
            return False
        if not self.constants or self.constants[0] != (ZERO_CELL, Ext(0, 0)):
            return False
        for _, value in self.constants:
            if not (isinstance(value, Ext) and 0 <= value.c0 < P and 0 <= value.c1 < P):
                return False
        preset = np.array([c for c, _ in self.constants] + list(self.public_inputs), dtype=np.int64)
        outputs = np.array(self.public_outputs, dtype=np.int64)
        return program_check.well_formed(n, preset, np.ascontiguousarray(opcodes, dtype=np.uint8),
                                         np.ascontiguousarray(operands), outputs, _OPERANDS, _READS,
                                         _WRITE_OPERAND, _WRITE_COUNT)  # fmt: skip

    def _explain_invalid(self, opcodes: np.ndarray, operands: np.ndarray) -> None:
        """Raise ProgramError naming the first problem (the checks in program order)."""
        if not isinstance(self.cells, int) or not 1 <= self.cells <= MAX_CELLS:
            raise ProgramError(f"a program has 1..{MAX_CELLS} cells, not {self.cells}")
        instructions = self.__dict__.get("instructions")
        if instructions is None:
            instructions = _objects(opcodes, [int(o) for o in operands])
        defined = bytearray(self.cells)

        def define(cell: int, what: str) -> None:
            if not 0 <= cell < self.cells:
                raise ProgramError(f"{what} defines cell {cell}, outside 0..{self.cells - 1}")
            if defined[cell]:
                raise ProgramError(f"{what} defines cell {cell} a second time (memory is write-once)")
            defined[cell] = 1

        def check_read(cell: int, what: str) -> None:
            if not 0 <= cell < self.cells or not defined[cell]:
                raise ProgramError(f"{what} reads cell {cell}, which nothing before it defines")

        if not self.constants or self.constants[0] != (ZERO_CELL, Ext(0, 0)):
            raise ProgramError("cell 0 must be the first constant, with value 0")
        for cell, value in self.constants:
            as_ext(value, f"constant cell {cell}")
            define(cell, "a constant")
        for cell in self.public_inputs:
            define(cell, "a public input")
        for k, instruction in enumerate(instructions):
            what = f"instruction {k} ({type(instruction).__name__})"
            for cell in instruction.reads():
                check_read(cell, what)
            for cell in instruction.writes():
                define(cell, what)
        if not all(defined):
            raise ProgramError(f"cell {defined.index(0)} is never defined")
        written = {c for i in instructions for c in i.writes()}
        for cell in self.public_outputs:
            if cell not in written:
                raise ProgramError(f"public output cell {cell} is not written by an instruction")
        if len(set(self.public_outputs)) != len(self.public_outputs):
            raise ProgramError("a cell is listed twice as a public output")
        raise ProgramError("the program's instructions are malformed")

    # ---- instructions as objects and arrays ------------------------------------------------------

    @property
    def instruction_count(self) -> int:
        return int(self.opcodes.size)

    @cached_property
    def instructions(self) -> tuple[Instruction, ...]:
        """The instructions as objects (built on first use: tests and fault reports read them)."""
        return _objects(self.opcodes, self.operands.tolist())

    @cached_property
    def operand_offsets(self) -> np.ndarray:
        """Where each instruction's operands start in `operands`."""
        return _offsets(self.opcodes.astype(np.int64))

    def operands_of(self, mask: np.ndarray, width: int) -> np.ndarray:
        """The first `width` operands of each instruction `mask` selects, in order: (count, width)."""
        starts = self.operand_offsets[mask]
        return self.operands[starts[:, None] + np.arange(width, dtype=np.int64)].astype(np.int64)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Program):
            return NotImplemented
        return self is other or (
            (self.cells, self.constants, self.public_inputs, self.public_outputs)
            == (other.cells, other.constants, other.public_inputs, other.public_outputs)
            and np.array_equal(self.opcodes, other.opcodes)
            and np.array_equal(self.operands, other.operands)
        )

    def __hash__(self) -> int:
        return hash(self._digest)

    def __repr__(self) -> str:
        digest = self._digest.hex()[:16]
        return f"Program({self.cells} cells, {self.instruction_count} instructions, digest {digest})"

    # ---- encoding and digest ---------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        out = [MAGIC, struct.pack("<BI", VERSION, self.cells)]
        out.append(struct.pack("<I", len(self.constants)))
        out += [struct.pack("<IQQ", cell, v.c0, v.c1) for cell, v in self.constants]
        for cells in (self.public_inputs, self.public_outputs):
            out.append(struct.pack(f"<I{len(cells)}I", len(cells), *cells))
        # (not kept when nothing ran the program: a verifier deriving a key encodes it once)
        words = self.__dict__.get("instruction_words")
        out.append((self._words() if words is None else words).astype("<u4").tobytes())
        return b"".join(out)

    @cached_property
    def instruction_words(self) -> np.ndarray:
        """The instructions as the encoding writes them: u32 count, then per instruction its opcode
        and operands (what the interpreter kernel runs)."""
        return self._words()

    def _words(self) -> np.ndarray:
        count = self.opcodes.size
        words = np.empty(1 + count + self.operands.size, dtype=np.uint32)
        words[0] = count
        at_opcode = np.zeros(words.size, dtype=bool)
        at_opcode[1 + self.operand_offsets + np.arange(count, dtype=np.int64)] = True
        words[1:][at_opcode[1:]] = self.opcodes
        at_opcode[0] = True
        words[~at_opcode] = self.operands
        words.flags.writeable = False
        return words

    @staticmethod
    def from_bytes(data: bytes) -> Program:
        """Strict inverse of `to_bytes`: wrong magic, version, counts, opcodes or trailing bytes
        raise ProgramError, and so does any program `Program` itself would refuse."""
        reader = _Reader(bytes(data))
        if reader.take(len(MAGIC)) != MAGIC:
            raise ProgramError("not a zkpor recursion program (bad magic)")
        version, cells = reader.unpack("<BI")
        if version != VERSION:
            raise ProgramError(f"program encoding version {version} is not supported (expected {VERSION})")
        constants = []
        for _ in range(reader.count(20)):
            cell, c0, c1 = reader.unpack("<IQQ")
            if c0 >= P or c1 >= P:
                raise ProgramError(f"constant cell {cell} is not canonical (coordinates must be < p)")
            constants.append((cell, Ext(c0, c1)))
        inputs = tuple(reader.unpack(f"<{reader.count(4)}I"))
        outputs = tuple(reader.unpack(f"<{reader.count(4)}I"))
        instructions = []
        for _ in range(reader.count(8)):
            (opcode,) = reader.unpack("<I")
            if opcode not in _ARITY:
                raise ProgramError(f"unknown opcode {opcode}")
            instructions.append(_from_operands(opcode, reader.unpack(f"<{_ARITY[opcode]}I")))
        if reader.remaining():
            raise ProgramError(f"{reader.remaining()} trailing bytes after the program")
        return Program(cells, tuple(constants), inputs, outputs, tuple(instructions))

    @cached_property
    def _digest(self) -> bytes:
        return bytehash.hash_bytes(DIGEST_PURPOSE, self.to_bytes())

    def digest(self) -> bytes:
        """The verification key: keyed BLAKE3 of the canonical encoding."""
        return self._digest

    def with_constants(self, constants: Sequence[tuple[int, Ext]]) -> Program:
        """This program with other values in its constant cells (the same cells, in order): as well
        formed as this one (nothing else changes), so only the values are checked."""
        constants = tuple((cell, as_ext(value, f"constant cell {cell}")) for cell, value in constants)
        if [cell for cell, _ in constants] != [cell for cell, _ in self.constants]:
            raise ProgramError("other constant cells than the program's")
        if constants[0] != (ZERO_CELL, Ext(0, 0)):
            raise ProgramError("cell 0 must be the first constant, with value 0")
        program = Program.__new__(Program)
        program.cells, program.constants = self.cells, constants
        program.public_inputs, program.public_outputs = self.public_inputs, self.public_outputs
        program.opcodes, program.operands = self.opcodes, self.operands  # read-only arrays
        if "operand_offsets" in self.__dict__:
            program.__dict__["operand_offsets"] = self.operand_offsets
        return program

    def counts(self) -> dict[str, int]:
        """Instructions per kind."""
        per_opcode = np.bincount(self.opcodes, minlength=len(_OPERANDS))
        return {cls.__name__: int(per_opcode[opcode]) for opcode, cls in _BY_OPCODE.items()}


def _offsets(opcodes: np.ndarray) -> np.ndarray:
    """Where each instruction's operands start (exclusive running sum of their counts)."""
    counts = _OPERANDS[opcodes]
    return np.cumsum(counts) - counts


def _objects(opcodes: np.ndarray, operands: list[int]) -> tuple[Instruction, ...]:
    out, at = [], 0
    for opcode in opcodes.tolist():
        count = _ARITY.get(opcode, 0)
        out.append(_from_operands(opcode, operands[at : at + count]))
        at += count
    return tuple(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def remaining(self) -> int:
        return len(self.data) - self.offset

    def take(self, n: int) -> bytes:
        if n > self.remaining():
            raise ProgramError(f"program encoding truncated at byte {self.offset}")
        self.offset += n
        return self.data[self.offset - n : self.offset]

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def count(self, min_item_bytes: int) -> int:
        """A u32 count, refused before allocation if that many items cannot fit in what is left."""
        (n,) = self.unpack("<I")
        if n * min_item_bytes > self.remaining():
            raise ProgramError(
                f"program encoding claims {n} items but has only {self.remaining()} bytes left"
            )
        return n


# ---- building programs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A point in a program under construction: cells allocated, instructions and operands written."""

    cells: int
    instructions: int
    operands: int


class ProgramBuilder:
    """Writes a program one readable line at a time; cells are plain ints (addresses).

    b = ProgramBuilder()
    x = b.public_input()
    y = b.mul_add(x, x, b.constant(1))      # x² + 1
    b.output(y)
    program = b.build()
    """

    def __init__(self) -> None:
        self._cells = 1
        self._constants: dict[tuple[int, int], int] = {(0, 0): ZERO_CELL}
        self._public_inputs: list[int] = []
        self._public_outputs: list[int] = []
        # the instructions, as `Program` keeps them: an opcode each, their operands in order
        self._capacities: dict[str, list[int]] = {}  # `capacity` cells by domain
        self._late: dict[object, list[int]] = {}  # `late_constants` cells by token
        self._unfinished: tuple[tuple[Mark, int], Program] | None = None  # `build_unfinished`'s
        self._opcodes = array.array("B")
        self._operands = array.array("I")

    @property
    def instruction_count(self) -> int:
        """How many instructions are written so far (the index the next one gets)."""
        return len(self._opcodes)

    def _allocate(self, count: int = 1) -> int:
        first = self._cells
        self._cells += count
        return first

    # ---- values ---------------------------------------------------------------------------------

    def constant(self, value: Value) -> int:
        """A cell holding `value` (the same constant twice is one cell)."""
        if isinstance(value, int) and not isinstance(value, bool):  # the common case, no Ext built
            key = (value % P, 0)
        else:
            v = as_ext(value, "constant")
            key = (v.c0, v.c1)
        cell = self._constants.get(key)
        if cell is None:
            cell = self._constants[key] = self._allocate()
        return cell

    def late_constants(self, token: Hashable, count: int) -> list[int]:
        """`count` constant cells whose values are given later (`set_late_constants(token, ...)`,
        before `build`): the cells `[constant(v) for v in values]` would give here, for `count`
        distinct values new to the program. Lets a program be written while values it only
        carries are still being computed (a child's key root, committed in another thread)."""
        cells = self._late.get(token)
        if cells is None:
            first = self._allocate(count)
            cells = self._late[token] = list(range(first, first + count))
        return list(cells)

    def set_late_constants(self, token: Hashable, values: Sequence[int]) -> bool:
        """Give the late constants of `token` their values. False (nothing set) when `constant`
        would not have given them those cells — two values equal, or one equal to another constant
        of the program (which `constant` would have shared): the caller then writes the program
        again with the values known, so the program is always the one written with them known."""
        cells = self._late[token]
        keys = [(int(v) % P, 0) for v in values]
        if len(keys) != len(cells) or len(set(keys)) != len(keys) or any(k in self._constants for k in keys):
            return False
        for key, cell in zip(keys, cells, strict=True):
            self._constants[key] = cell
        del self._late[token]
        return True

    def public_input(self) -> int:
        cell = self._allocate()
        self._public_inputs.append(cell)
        return cell

    def private_input(self) -> int:
        cell = self._cells
        self._cells += 1
        self._opcodes.append(PrivateInput.opcode)
        self._operands.append(cell)
        return cell

    def private_inputs(self, count: int) -> range:
        """`count` private inputs written at once: `[private_input() for _ in range(count)]`."""
        first = self._cells
        self._cells += count
        self._opcodes.frombytes(bytes([PrivateInput.opcode]) * count)
        self._operands.extend(range(first, first + count))
        return range(first, first + count)

    def output(self, cell: int) -> None:
        self._public_outputs.append(cell)

    # ---- arithmetic -----------------------------------------------------------------------------

    def mul_add(self, a: int, b: int, c: int) -> int:
        out = self._cells
        self._cells += 1
        self._opcodes.append(MulAdd.opcode)
        self._operands.extend((a, b, c, out))
        return out

    def mul(self, a: int, b: int) -> int:
        return self.mul_add(a, b, ZERO_CELL)

    def add(self, a: int, b: int) -> int:
        return self.mul_add(a, self.constant(1), b)

    def sub(self, a: int, b: int) -> int:
        return self.mul_add(b, self.constant(P - 1), a)

    def assert_equal(self, a: int, b: int) -> None:
        self.check_mul_add(a, self.constant(1), ZERO_CELL, b)

    def check_mul_add(self, a: int, b: int, c: int, d: int) -> None:
        """Asserts a·b + c = d without writing anything."""
        self._opcodes.append(Check.opcode)
        self._operands.extend((a, b, c, d))

    # ---- hashing and bits -----------------------------------------------------------------------

    def permute(self, inputs: Sequence[int], bit: int = ZERO_CELL) -> list[int]:
        """Poseidon2-12 of the 12 input cells (the first two 4-blocks swapped when `bit` is 1)."""
        if len(inputs) != PERMUTE_WIDTH:
            raise ProgramError(f"a permutation takes {PERMUTE_WIDTH} cells, not {len(inputs)}")
        out = self._allocate(PERMUTE_WIDTH)
        self._opcodes.append(Permute.opcode)
        self._operands.extend(inputs)
        self._operands.extend((bit, out))
        return list(range(out, out + PERMUTE_WIDTH))

    def capacity(self, domain: str) -> list[int]:
        """The capacity cells of `sponge_hash(domain, ·)` over 8 elements (found once a domain: a
        verifier takes thousands of Merkle steps in a few domains)."""
        cells = self._capacities.get(domain)
        if cells is None:
            initial = poseidon2.sponge_initial_state(domain, 8)[poseidon2.RATE :]
            cells = self._capacities[domain] = [self.constant(v) for v in initial]
        return list(cells)

    def merkle_step(self, node: Sequence[int], sibling: Sequence[int], bit: int, domain: str) -> list[int]:
        """The parent digest: `sponge_hash(domain, node ‖ sibling)` if `bit` is 0 (node is the left
        child), `sponge_hash(domain, sibling ‖ node)` if it is 1."""
        if len(node) != DIGEST_LEN or len(sibling) != DIGEST_LEN:
            raise ProgramError(f"a Merkle step takes two {DIGEST_LEN}-cell digests")
        return self.permute([*node, *sibling, *self.capacity(domain)], bit)[:DIGEST_LEN]

    def compress(self, left: Sequence[int], right: Sequence[int], domain: str) -> list[int]:
        return self.merkle_step(left, right, ZERO_CELL, domain)

    def decompose(self, x: int) -> list[int]:
        """The 64 bit cells of base element x, least significant first (canonical: < p)."""
        out = self._allocate(BITS)
        self._opcodes.append(Decompose.opcode)
        self._operands.extend((x, out))
        return list(range(out, out + BITS))

    # ---- composite operations (what a compiled verifier is made of) ---------------------------------

    def inverse(self, a: int) -> int:
        """a⁻¹ (a ≠ 0): a hint the interpreter computes, checked by a·a⁻¹ = 1."""
        out = self._allocate()
        self._opcodes.append(InverseHint.opcode)
        self._operands.extend((a, out))
        self.check_mul_add(a, out, ZERO_CELL, self.constant(1))
        return out

    def div(self, a: int, b: int) -> int:
        return self.mul(a, self.inverse(b))

    def select(self, bit: int, if_one: int, if_zero: int) -> int:
        """bit ? if_one : if_zero, for a bit cell: bit·(if_one − if_zero) + if_zero."""
        return self.mul_add(bit, self.sub(if_one, if_zero), if_zero)

    def sponge_hash(self, domain: str, elements: Sequence[int], out_len: int = DIGEST_LEN) -> list[int]:
        """`zkpor.hash.poseidon2.sponge_hash(domain, elements, out_len)` on base-element cells: the
        capacity starts as the domain's tag and the input length, blocks of 8 overwrite the rate
        (the last one zero-filled), and more than 8 outputs squeeze with further permutations."""
        if out_len < 1:
            raise ProgramError(f"out_len must be at least 1, not {out_len}")
        initial = poseidon2.sponge_initial_state(domain, len(elements))
        state = self._absorb([self.constant(v) for v in initial[poseidon2.RATE :]], elements)
        out = state[: poseidon2.RATE]
        while len(out) < out_len:
            state = self.permute(state)
            out += state[: poseidon2.RATE]
        return out[:out_len]

    def sponge_from_capacity(self, capacity: Sequence[int], elements: Sequence[int]) -> list[int]:
        """`zkpor.hash.poseidon2.sponge_from_capacity` on cells: the sponge of `elements` from a
        zero rate and the 4 capacity cells given (a salted Merkle leaf's); its digest."""
        if len(capacity) != poseidon2.CAPACITY:
            raise ProgramError(f"a capacity has {poseidon2.CAPACITY} cells, not {len(capacity)}")
        return self._absorb(capacity, elements)[:DIGEST_LEN]

    def _absorb(self, capacity: Sequence[int], elements: Sequence[int]) -> list[int]:
        """Blocks of 8 overwrite the rate (the last one zero-filled; one block if there are none)."""
        state: list[int] = []
        capacity = list(capacity)
        for start in range(0, max(len(elements), 1), poseidon2.RATE):
            block = list(elements[start : start + poseidon2.RATE])
            state = self.permute([*block, *[ZERO_CELL] * (poseidon2.RATE - len(block)), *capacity])
            capacity = state[poseidon2.RATE :]
        return state

    def power(self, a: int, exponent: int) -> int:
        """a^exponent for a cell a and a constant exponent ≥ 0, by square-and-multiply: ⌊log2 e⌋
        squarings and popcount(e) − 1 products."""
        if exponent < 0:
            raise ProgramError(f"a power needs an exponent >= 0, not {exponent}")
        if exponent == 0:
            return self.constant(1)
        result = a
        for bit in bin(exponent)[3:]:
            result = self.mul(result, result)
            if bit == "1":
                result = self.mul(result, a)
        return result

    def power_of_constant(self, base: int, bits: Sequence[int]) -> int:
        """base^(Σ bits_i·2^i) for a constant base element and bit cells (least significant first):
        Π (1 + bit_i·(base^(2^i) − 1)), two instructions a bit. A verifier gets its query points so."""
        acc = self.constant(1)
        square = Ext(base % P, 0)
        for bit in bits:
            factor = self.mul_add(bit, self.constant(square - 1), self.constant(1))
            acc = self.mul(acc, factor)
            square = square * square
        return acc

    # ---- copies of a block of instructions ------------------------------------------------------

    def mark(self) -> Mark:
        """Where the program is now: `repeat` copies what is written between two marks."""
        return Mark(self._cells, len(self._opcodes), len(self._operands))

    def repeat(
        self, start: Mark, end: Mark, inputs: Mapping[int, int], shared_below: int
    ) -> Callable[[int], int]:
        """Write again the instructions written between `start` and `end`, as the same calls
        would write them on other input cells: a cell the block read from before it is read from
        `inputs[cell]` (or is the same cell: a constant, or one below `shared_below`), a cell the
        block wrote is written to a fresh cell (allocated in the same order), and a constant the
        block defined is that constant. Returns the map of the block's cells to the copy's.

        Raises ProgramError, writing nothing, when the block reads a cell from before it that is
        neither an input, a constant nor below `shared_below`: the same calls on other inputs
        would then read another cell, which the copy cannot know."""
        opcodes = np.array(memoryview(self._opcodes)[start.instructions : end.instructions], dtype=np.uint8)
        block = np.array(memoryview(self._operands)[start.operands : end.operands], dtype=np.int64)
        first = start.cells
        late = [cell for cells in self._late.values() for cell in cells]
        constants = np.fromiter([*self._constants.values(), *late], dtype=np.int64)
        is_constant = np.zeros(self._cells, dtype=bool)
        is_constant[constants] = True
        written = ~is_constant[first : end.cells]  # the block's own constants stay what they are
        table = np.where(written, self._cells + np.cumsum(written) - 1, np.arange(first, end.cells))
        copy = block.copy()
        inside = (block >= first) & (block < end.cells)
        copy[inside] = table[block[inside] - first]
        before = block[~inside]
        keys = np.array(sorted(inputs), dtype=np.int64)
        values = np.array([inputs[k] for k in keys.tolist()], dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, before), max(keys.size - 1, 0))
        is_input = (keys[at] == before) if keys.size else np.zeros(before.size, dtype=bool)
        unmapped = before[~is_input]
        if np.any((unmapped >= shared_below) & ~is_constant[unmapped]):
            raise ProgramError("the block reads a cell from before it that is not one of its inputs")
        copy[~inside] = np.where(is_input, values[at] if keys.size else before, before)
        self._opcodes.frombytes(opcodes.tobytes())
        self._operands.frombytes(copy.astype(np.uint32).tobytes())
        self._cells += int(np.count_nonzero(written))

        def copied(cell: int) -> int:
            if first <= cell < end.cells:
                return int(table[cell - first])
            return inputs.get(cell, cell)

        return copied

    def build(self) -> Program:
        if self._late:
            raise ProgramError("the program has late constants whose values were never given")
        constants = self._sorted_constants([])
        unfinished = self._unfinished
        if unfinished is not None and unfinished[0] == (self.mark(), len(self._public_outputs)):
            return unfinished[1].with_constants(constants)  # nothing written since: checked there
        return self._program(constants)

    def build_unfinished(self) -> Program:
        """The program `build` gives once every late constant has its value, with 0 in their place:
        the same cells, instructions, public inputs and outputs, so the same layout
        (`recursion.air.plan` reads no constant's value) and the same committed columns, while the
        values it only carries are still being computed (a child's key root). Not a program to run
        or publish: its constants and digest are not the program's. `build`, with nothing written
        in between, reuses its checked instructions."""
        late = [cell for cells in self._late.values() for cell in cells]
        program = self._program(self._sorted_constants(late))
        self._unfinished = ((self.mark(), len(self._public_outputs)), program)
        return program

    def _sorted_constants(self, late: Sequence[int]) -> tuple[tuple[int, Ext], ...]:
        """The constants by cell, with the late constants' cells `late` holding 0."""
        constants = [(cell, Ext(*key)) for key, cell in self._constants.items()]
        constants += [(cell, Ext(0, 0)) for cell in late]
        return tuple(sorted(constants, key=lambda t: t[0]))

    def _program(self, constants: tuple[tuple[int, Ext], ...]) -> Program:
        return Program.from_arrays(
            self._cells,
            constants,
            tuple(self._public_inputs),
            tuple(self._public_outputs),
            np.array(self._opcodes, dtype=np.uint8),
            np.array(self._operands, dtype=np.uint32),
        )


# ---- the interpreter ----------------------------------------------------------------------------


class Execution:
    """An execution's memory: every cell's value (the witness) as `cells`, a (cells, 2) uint64
    array of extension coordinates, and the public outputs' values."""

    def __init__(self, cells: np.ndarray, outputs: list[Ext]) -> None:
        self.cells = cells
        self.outputs = outputs

    @cached_property
    def values(self) -> list[Ext]:
        """Every cell's value as an `Ext` (built on first use: tests and fault reports read it)."""
        return [Ext(c0, c1) for c0, c1 in self.cells.tolist()]


def _private_array(private_inputs: Sequence[Value]) -> np.ndarray:
    """The private inputs as a (k, 2) array of canonical coordinates (ints take a fast path)."""
    if all(type(v) is int for v in private_inputs):
        try:
            c0 = np.array(private_inputs, dtype=np.uint64)
        except OverflowError:  # negative or ≥ 2^64: as_ext names the first one
            c0 = None
        if c0 is not None and not np.any(c0 >= np.uint64(P)):
            out = np.zeros((len(private_inputs), 2), dtype=np.uint64)
            out[:, 0] = c0
            return out
    values = [as_ext(v, f"private input {k}") for k, v in enumerate(private_inputs)]
    return np.array([(v.c0, v.c1) for v in values], dtype=np.uint64).reshape(-1, 2)


def execute(
    program: Program,
    public_inputs: Sequence[Value],
    private_inputs: Sequence[Value] = (),
    *,
    check: bool = True,
) -> Execution:
    """Run `program` (the `interpreter` kernel). With `check` (the default) a failed `Check` raises
    ProgramError; without, the run goes on (tests use that to build a cheating prover's witness)."""
    if len(public_inputs) != len(program.public_inputs):
        raise ProgramError(
            f"the program takes {len(program.public_inputs)} public inputs, got {len(public_inputs)}"
        )
    cells = np.zeros((program.cells, 2), dtype=np.uint64)
    for cell, value in program.constants:
        cells[cell] = value.c0, value.c1
    for k, (cell, value) in enumerate(zip(program.public_inputs, public_inputs, strict=True)):
        v = as_ext(value, f"public input {k}")
        cells[cell] = v.c0, v.c1
    private = _private_array(private_inputs)
    status, k, cell, used = interpreter.run(program.instruction_words, cells, private, check)
    value = Ext(int(cells[cell, 0]), int(cells[cell, 1]))
    faults = {
        interpreter.CHECK_FAILED: f"instruction {k}: assertion a·b + c = d fails",
        interpreter.INVERSE_OF_ZERO: f"instruction {k}: inverse of zero",
        interpreter.PRIVATE_INPUTS_SHORT: f"the program takes more than {used} private inputs",
        interpreter.PERMUTATION_INPUT_NOT_BASE:
            f"instruction {k}: permutation input must be a base-field element, got {value}",
        interpreter.MERKLE_BIT_NOT_BASE:
            f"instruction {k}: Merkle bit must be a base-field element, got {value}",
        interpreter.MERKLE_BIT_NOT_A_BIT: f"instruction {k}: Merkle bit is {value.c0}, not 0 or 1",
        interpreter.DECOMPOSED_NOT_BASE:
            f"instruction {k}: decomposed value must be a base-field element, got {value}",
    }  # fmt: skip
    if status != interpreter.OK:
        raise ProgramError(faults[status])
    if used != len(private):
        raise ProgramError(f"the program takes {used} private inputs, more were given")
    outputs = [Ext(int(c0), int(c1)) for c0, c1 in cells[list(program.public_outputs)].tolist()]
    return Execution(cells, outputs)
