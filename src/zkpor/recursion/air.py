"""The recursion AIR: a STARK that a fixed straight-line `Program` was executed correctly.

Every row carries three units, each always constrained (a unit with nothing to do runs on zeros):

- a Poseidon2 unit: the width-12 permutation gadget (`zkpor.stark.gadgets.poseidon2`), its 12
  input lanes made from 12 cells read from memory, lanes 0..3 and 4..7 swapped when a bit read from
  memory is 1 (a Merkle-path step; a plain permutation reads the zero cell as its bit), its 12
  outputs written to 12 consecutive cells;
- `SLOTS` arithmetic slots: read a, b and c (extension elements), and d = a·b + c is written
  (MulAdd) or read (Check);
- `WITNESS` witness cells: private inputs and hints, values the prover writes freely (each only
  as good as the constraints on the instructions reading it);
- a bit-decomposition unit, one bit per row: the 64 rows of a block decompose one base element,
  read on the block's last row, and write one bit cell per row; boolean bits, the running sum,
  and the canonical range (the value as an integer is below p) are constrained across the block.

Memory is one LogUp bus (tag `MEM_BUS`) of tuples (MEM_BUS, cell, c0, c1): every read adds
1/(β − φ), every write subtracts m/(β − φ) with m its number of readers. Memory is write-once and
the verifier fixes every write's cell, all distinct, so a zero sum means every read returns the
one value written to its cell. The m are the program's too (its reads are fixed), so they are
preprocessed columns like the addresses, not main-trace columns the prover fills.
Constants and public inputs are written by the verifier, public outputs read by the verifier:
those terms are the bus's open ends (`lookup_public_sum`).

The program is fixed by the verifier: every cell address, every write's multiplicity and every
slot's mode are preprocessed columns (`stark.preprocessed`) laid out from the program by `plan` and
committed once into the program's verification key (`proving.ProgramKey`: the program digest and
that root); the verifier reads them only as opened values checked against the key's root, never
interpolating them. The decomposition schedule (period 64) stays periodic. The program digest with
the public values is the AIR's public input, absorbed into the transcript before anything is
committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from zkpor.field import extension as ext
from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext
from zkpor.recursion import layout_kernel
from zkpor.recursion.program import (
    BITS,
    OPERAND_COUNTS,
    PERMUTE_WIDTH,
    Check,
    Decompose,
    InverseHint,
    MulAdd,
    Permute,
    PrivateInput,
    Program,
    ProgramError,
)
from zkpor.stark.air import Air, Constraint, Frame, LookupTerm
from zkpor.stark.gadgets import poseidon2 as gadget
from zkpor.stark.gadgets.poseidon2_kernel import fill_columns

MEM_BUS = 1  # first element of every memory tuple
SLOTS = 6  # arithmetic slots per row (a verifier needs ~5 mul-adds per permutation)
WITNESS = 8  # private-input cells per row
BLOCK = BITS  # rows per bit decomposition
W = 7  # x² = W in the extension

# ---- main trace columns -----------------------------------------------------------------------
OUT = gadget.output_columns_offset()  # the permutation's 12 outputs
PRE_SWAP = gadget.COLUMNS  # lanes 0..7 as read from memory, before the Merkle swap
BIT = PRE_SWAP + 8  # the Merkle bit
SLOT0 = BIT + 1
SLOT_WIDTH = 8  # a0 a1 b0 b1 c0 c1 d0 d1
BITS0 = SLOT0 + SLOTS * SLOT_WIDTH
BIT_VALUE, ACC, LOW, ONES = range(BITS0, BITS0 + 4)
WITNESS0 = BITS0 + 4  # per witness cell: c0 c1
WIDTH = WITNESS0 + 2 * WITNESS


def slot_column(slot: int, name: str) -> int:
    return SLOT0 + slot * SLOT_WIDTH + ("a0", "a1", "b0", "b1", "c0", "c1", "d0", "d1").index(name)


# ---- the layout: where each instruction runs -----------------------------------------------------

# Addresses, and the bus multiplicities of the writes: `p2_mult{i}` readers of output i, `bits_mult`
# of the bit written, `witness{j}_mult` of the private input; `slot{s}_bus` is d's: +1 when the
# slot reads it (a Check), −m when it writes it (a MulAdd read m times).
ADDRESS_COLUMNS = (
    [f"p2_in{i}" for i in range(PERMUTE_WIDTH)]
    + ["p2_bit", "p2_out"]
    + [f"p2_mult{i}" for i in range(PERMUTE_WIDTH)]
    + [f"slot{s}_{k}" for s in range(SLOTS) for k in ("a", "b", "c", "d", "bus")]
    + ["bits_x", "bits_out", "bits_mult"]
    + [f"witness{j}{k}" for j in range(WITNESS) for k in ("", "_mult")]
)
BLOCK_COLUMNS = ("first_next", "pow_next", "low_next", "last")  # period BLOCK


@dataclass(frozen=True)
class Layout:
    """Instruction placement, the columns it defines, and how often each cell is read.

    Permutation k runs in row k; arithmetic instruction k in slot k % SLOTS of row k // SLOTS;
    decomposition k in rows BLOCK·k … BLOCK·k + 63; private input k in witness cell k % WITNESS of
    row k // WITNESS. Unused units read the zero cell and write to fresh scratch cells (addresses
    from `program.cells` on), so every write's cell is distinct."""

    program: Program
    trace_length: int
    matrix: np.ndarray  # the ADDRESS_COLUMNS, full length, one row each (read-only)
    reads: np.ndarray  # trace reads per cell, scratch cells included (the verifier's not)
    counts: dict[str, int]  # instructions per unit

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """The columns by name (rows of `matrix`)."""
        return dict(zip(ADDRESS_COLUMNS, self.matrix, strict=True))

    @property
    def total_cells(self) -> int:
        return self.reads.shape[0]

    def preprocessed(self) -> np.ndarray:
        """The address, multiplicity and mode columns, (len(ADDRESS_COLUMNS), n): the AIR's
        preprocessed trace (the layout's own matrix, read-only: no copy of a node's 40 MB)."""
        return self.matrix

    def periodic(self) -> list[np.ndarray]:
        """The decomposition schedule, one block long."""
        return _periodic_schedule()

    def summary(self) -> ProgramSummary:
        program, reads = self.program, self.reads
        return ProgramSummary(
            program.digest(),
            self.trace_length,
            tuple((cell, value, int(reads[cell])) for cell, value in program.constants if reads[cell]),
            tuple((cell, int(reads[cell])) for cell in program.public_inputs),
            tuple(program.public_outputs),
        )


def _next_power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def plan(program: Program) -> Layout:
    """The layout of `program`, computed identically by prover and verifier (`layout_kernel`)."""
    opcodes = program.opcodes
    per_opcode = np.bincount(opcodes, minlength=len(OPERAND_COUNTS))
    n_permutes = int(per_opcode[Permute.opcode])
    n_arithmetic = int(per_opcode[MulAdd.opcode] + per_opcode[Check.opcode])
    n_decompositions = int(per_opcode[Decompose.opcode])
    n_private = int(per_opcode[PrivateInput.opcode] + per_opcode[InverseHint.opcode])  # a hint is one
    rows = max(n_permutes, -(-n_arithmetic // SLOTS), BLOCK * n_decompositions, -(-n_private // WITNESS), 1)
    n = max(BLOCK, _next_power_of_two(rows))
    scratch = (program.cells + PERMUTE_WIDTH * (n - n_permutes) + (n * SLOTS - n_arithmetic)
               + (n * WITNESS - n_private) + (n - BLOCK * n_decompositions))  # fmt: skip
    matrix = np.zeros((len(ADDRESS_COLUMNS), n), dtype=np.uint64)  # the columns, one row each
    reads = np.zeros(scratch, dtype=np.int64)  # trace reads per cell
    outputs = np.array(program.public_outputs, dtype=np.int64)
    layout_kernel.fill_layout(opcodes, program.operands, OPERAND_COUNTS, program.cells, outputs, matrix,
                              reads)  # fmt: skip
    counts = {
        "permutations": n_permutes,
        "merkle_steps": int(np.count_nonzero(matrix[ADDRESS_COLUMNS.index("p2_bit"), :n_permutes])),
        "arithmetic": n_arithmetic,
        "decompositions": n_decompositions,
        "private_inputs": n_private,
    }
    matrix.flags.writeable = False
    return Layout(program, n, matrix, reads, counts)


# ---- the AIR ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramPublic:
    """What the verifier knows besides the program: the public inputs' and outputs' values."""

    inputs: tuple[Ext, ...]
    outputs: tuple[Ext, ...]

    def __post_init__(self) -> None:
        for what, values in (("public input", self.inputs), ("public output", self.outputs)):
            for k, v in enumerate(values):
                if not isinstance(v, Ext):
                    raise ProgramError(f"{what} {k}: {v!r} is not an extension element (zkpor.field.Ext)")

    @classmethod
    def of_expressions(cls, inputs: Sequence, outputs: Sequence) -> ProgramPublic:
        """Public values that are expressions with `c0` and `c1` (a compiled verifier's cells,
        `verifier_program.SymbolicPair`): a `RecursionAir` built on them evaluates its constraints
        inside a node program, which reads a child proof's public values from cells. Unchecked."""
        public = object.__new__(cls)
        object.__setattr__(public, "inputs", tuple(inputs))
        object.__setattr__(public, "outputs", tuple(outputs))
        return public


@dataclass(frozen=True)
class ProgramSummary:
    """What verifying a run of a program needs of it besides its committed columns: the digest, the
    trace length, the constants and public inputs the verifier writes on the memory bus (each with
    the number of trace reads: the verifier writes it that often) and the public outputs it reads.
    `Layout.summary()` derives it; `recursion.verifying_key` stores it, so that a verifier need not
    hold (or rebuild) the program itself."""

    program_digest: bytes
    trace_length: int
    constants: tuple[tuple[int, Ext, int], ...]  # (cell, value, trace reads), read constants only
    inputs: tuple[tuple[int, int], ...]  # (cell, trace reads), every public input in order
    outputs: tuple[int, ...]  # cells, in order


def _periodic_schedule() -> list[np.ndarray]:
    """The decomposition schedule, one block long (the same for every program)."""
    rows = np.arange(BLOCK, dtype=np.uint64)
    following = (rows + np.uint64(1)) % np.uint64(BLOCK)
    block = {
        "first_next": (following == 0).astype(np.uint64),
        "pow_next": np.uint64(1) << following,
        "low_next": (following < BLOCK // 2).astype(np.uint64),
        "last": (rows == BLOCK - 1).astype(np.uint64),
    }
    return [block[name] for name in BLOCK_COLUMNS]


def _digest_words(digest: bytes) -> list[int]:
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, len(digest), 4)]


class RecursionAir(Air):
    name = "zkpor-recursion"
    version = 2  # 2: the bus multiplicities preprocessed, six arithmetic slots

    def __init__(self, layout: Layout | ProgramSummary, public: ProgramPublic) -> None:
        """From the program's `Layout` (to prove, or to commit its columns), or from its
        `ProgramSummary` alone (to verify: the columns are then known only by the key's root)."""
        summary = layout.summary() if isinstance(layout, Layout) else layout
        super().__init__(summary.trace_length)
        if len(public.inputs) != len(summary.inputs) or len(public.outputs) != len(summary.outputs):
            raise ProgramError(
                f"the program has {len(summary.inputs)} public inputs and "
                f"{len(summary.outputs)} outputs, got {len(public.inputs)} and {len(public.outputs)}"
            )
        self.layout = layout if isinstance(layout, Layout) else None
        self.summary = summary
        self.public = public
        self._periodic = _periodic_schedule()
        # Lookup terms see the periodic columns, then the preprocessed ones (`LookupTerm`).
        self._index = {name: k for k, name in enumerate([*BLOCK_COLUMNS, *ADDRESS_COLUMNS])}
        self._program_digest = summary.program_digest

    @property
    def main_width(self) -> int:
        return WIDTH

    preprocessed_width = len(ADDRESS_COLUMNS)

    def preprocessed_trace(self) -> np.ndarray:
        if self.layout is None:
            raise ProgramError(
                "this recursion AIR was built from a program summary: its columns need the program"
            )
        return self.layout.preprocessed()

    def periodic_columns(self) -> list:
        return self._periodic

    def _p(self, periodic: Sequence, name: str):
        return periodic[self._index[name]]

    def public_inputs(self) -> list[int]:
        values = [c for v in (*self.public.inputs, *self.public.outputs) for c in (v.c0, v.c1)]
        return [
            *_digest_words(self._program_digest),
            len(self.public.inputs),
            len(self.public.outputs),
            *values,
        ]

    # ---- constraints ------------------------------------------------------------------------------

    def constraints(self) -> list[Constraint]:
        out = [Constraint(gadget.CONSTRAINT_DEGREE, wraps=True)] * gadget.NUM_CONSTRAINTS
        out += [Constraint(2, wraps=True)] * 9  # Merkle swap (8) and its bit
        out += [Constraint(2, wraps=True)] * (2 * SLOTS)  # a·b + c = d, both coordinates
        out += [Constraint(d, wraps=True) for d in (2, 2, 2, 3, 3)]  # bit, sum, low half, ones, range
        return out

    def evaluate(self, frame: Frame, periodic: Sequence) -> list:
        cur, nxt = frame.current, frame.next
        out, _ = gadget.constraints(cur)
        bit = cur[BIT]
        for i in range(4):
            left, right = cur[PRE_SWAP + i], cur[PRE_SWAP + 4 + i]
            moved = bit * (right - left)
            out += [cur[i] - (left + moved), cur[4 + i] - (right - moved)]
        out.append(bit * bit - bit)
        for s in range(SLOTS):
            a0, a1, b0, b1, c0, c1, d0, d1 = (cur[SLOT0 + s * SLOT_WIDTH + j] for j in range(8))
            out.append(a0 * b0 + a1 * b1 * W + c0 - d0)
            out.append(a0 * b1 + a1 * b0 + c1 - d1)
        p = {name: self._p(periodic, name) for name in BLOCK_COLUMNS}
        b, acc, low, ones = cur[BIT_VALUE], cur[ACC], cur[LOW], cur[ONES]
        b_next, acc_next = nxt[BIT_VALUE], nxt[ACC]
        out.append(b * b - b)
        # acc: Σ_{j ≤ i} bit_j 2^j, restarting at each block
        out.append(acc_next - (1 - p["first_next"]) * acc - p["pow_next"] * b_next)
        # low: acc frozen after bit 31, so at bit 63 it is the low 32 bits
        out.append(nxt[LOW] - p["low_next"] * acc_next - (1 - p["low_next"]) * low)
        # ones: 1 over the low half, then the product of the high bits (1 iff they are all 1)
        out.append(nxt[ONES] - p["low_next"] - (1 - p["low_next"]) * b_next * ones)
        # canonical: high bits all 1 (the value ≥ (2^32 − 1)·2^32 = p − 1) only if the low bits are 0
        out.append(p["last"] * ones * low)
        return out

    # ---- the memory bus ---------------------------------------------------------------------------

    def _cell(self, address: str, c0: int, c1: int | None, offset: int):
        """The tuple fingerprinted for a cell: (MEM_BUS, address, c0, c1); c1 = 0 for a base cell."""
        return lambda row, p: [MEM_BUS, self._p(p, address) + offset, row[c0], 0 if c1 is None else row[c1]]

    def _read(self, address: str, c0: int, c1: int | None = None) -> LookupTerm:
        return LookupTerm(self._cell(address, c0, c1, 0), lambda row, p: 1, name=f"read {address}")

    def _write(
        self, address: str, c0: int, multiplicity: str, c1: int | None = None, offset: int = 0
    ) -> LookupTerm:
        """A write, as often as the preprocessed column `multiplicity` says the cell is read."""
        return LookupTerm(self._cell(address, c0, c1, offset), lambda row, p: -self._p(p, multiplicity),
                          multiplicity_degree=1, name=f"write {address}+{offset}")  # fmt: skip

    def lookups(self) -> list[LookupTerm]:
        terms = [self._read(f"p2_in{i}", PRE_SWAP + i if i < 8 else i) for i in range(PERMUTE_WIDTH)]
        terms.append(self._read("p2_bit", BIT))
        terms += [self._write("p2_out", OUT + i, f"p2_mult{i}", offset=i) for i in range(PERMUTE_WIDTH)]
        for s in range(SLOTS):
            terms += [
                self._read(f"slot{s}_{k}", slot_column(s, f"{k}0"), slot_column(s, f"{k}1")) for k in "abc"
            ]
            terms.append(self._slot_result(s))
        terms.append(
            LookupTerm(
                self._cell("bits_x", ACC, None, 0),
                lambda row, p: self._p(p, "last"),
                multiplicity_degree=1,
                name="read bits_x",
            )  # fmt: skip
        )
        terms.append(self._write("bits_out", BIT_VALUE, "bits_mult"))
        for j in range(WITNESS):
            c0, c1 = WITNESS0 + 2 * j, WITNESS0 + 2 * j + 1
            terms.append(self._write(f"witness{j}", c0, f"witness{j}_mult", c1))
        return terms

    def _slot_result(self, s: int) -> LookupTerm:
        """d is read (a Check: multiplicity 1) or written (multiplicity −m): `slot{s}_bus`."""
        d0, d1 = slot_column(s, "d0"), slot_column(s, "d1")
        return LookupTerm(
            values=self._cell(f"slot{s}_d", d0, d1, 0),
            multiplicity=lambda row, p: self._p(p, f"slot{s}_bus"),
            multiplicity_degree=1,
            name=f"result slot{s}",
        )

    def lookup_public_sum(self, beta, gamma):
        """The verifier writes constants and public inputs (as often as the trace reads them) and
        reads each public output once."""
        if isinstance(beta, Ext) and isinstance(gamma, Ext) and self._bus_ends is not None:
            return self._native_public_sum(beta, gamma)
        s = self.summary
        written = list(s.constants)
        inputs = zip(s.inputs, self.public.inputs, strict=True)
        written += [(cell, value, count) for (cell, count), value in inputs]
        # β − fingerprint(MEM_BUS, cell, c0, c1) as (β − MEM_BUS) + cell·(−γ) + c0·(−γ²) + c1·(−γ³),
        # zero coordinates skipped: the value `compress_values` gives, in the fewest multiply-adds
        # when a parent verifier evaluates it on program cells (one per coordinate, then the
        # inverse): this sum runs over every constant of the child's program.
        shift = beta - MEM_BUS
        negated = [-gamma]
        negated += [negated[-1] * gamma, negated[-1] * gamma * gamma]

        def pole(cell: int, value) -> object:
            d = shift
            for coefficient, v in zip(negated, (cell, value.c0, value.c1), strict=True):
                if not (isinstance(v, int) and v == 0):
                    d = d + coefficient * v
            return d

        total = Ext(0, 0)
        for cell, value, count in written:
            if count:
                total = total + Ext(count, 0) / pole(cell, value)
        for cell, value in zip(s.outputs, self.public.outputs, strict=True):
            total = total - Ext(1, 0) / pole(cell, value)
        return total

    @cached_property
    def _bus_ends(self) -> np.ndarray | None:
        """The bus's open ends as rows (cell, c0, c1, multiplicity): every constant and public
        input read (multiplicity its trace reads), every public output (−1); None when a public
        value is an expression (`ProgramPublic.of_expressions`: a parent's program cells)."""
        s = self.summary
        if not all(isinstance(v, Ext) for v in (*self.public.inputs, *self.public.outputs)):
            return None
        inputs = zip(s.inputs, self.public.inputs, strict=True)
        written = [*s.constants, *((cell, value, count) for (cell, count), value in inputs)]
        rows = [(cell, value.c0, value.c1, count) for cell, value, count in written if count]
        rows += [(cell, value.c0, value.c1, gl.P - 1) for cell, value in
                 zip(s.outputs, self.public.outputs, strict=True)]  # fmt: skip
        return np.array(rows, dtype=np.uint64).reshape(-1, 4)

    def _native_public_sum(self, beta: Ext, gamma: Ext) -> Ext:
        """`lookup_public_sum` on field elements, the poles inverted in one batch: the prover asks
        for it once per chunk of its constraint evaluation, and a top node's program has thousands
        of constants (≈ 45 µs an `Ext` division)."""
        ends = self._bus_ends
        if ends.shape[0] == 0:
            return Ext(0, 0)
        distance = ext.ext_add(ext.ext_mul_base(-gamma, ends[:, 0]), beta - MEM_BUS)
        distance = ext.ext_add(distance, ext.ext_mul_base(-(gamma * gamma), ends[:, 1]))
        distance = ext.ext_add(distance, ext.ext_mul_base(-(gamma * gamma * gamma), ends[:, 2]))
        return ext.ext_sum(ext.ext_mul_base(ext.ext_batch_inv(distance), ends[:, 3]))


# ---- the witness as a trace -------------------------------------------------------------------


def fill_bits_block(trace: np.ndarray, block: int, bits: Sequence[int]) -> None:
    """Rows of one decomposition block from its 64 bit values (any field elements: a cheating test
    may pass a non-bit), with the running sum, low half and high-ones product they imply."""
    rows = slice(BLOCK * block, BLOCK * (block + 1))
    acc, low, ones = 0, 0, 1
    accs, lows, oness = [], [], []
    for i, b in enumerate(bits):
        acc = (acc + (b << i)) % gl.P
        low = acc if i < BLOCK // 2 else low
        ones = 1 if i < BLOCK // 2 else (ones if i > BLOCK // 2 else 1) * b % gl.P
        accs.append(acc)
        lows.append(low)
        oness.append(ones)
    trace[BIT_VALUE, rows] = np.array(bits, dtype=np.uint64)
    trace[ACC, rows] = np.array(accs, dtype=np.uint64)
    trace[LOW, rows] = np.array(lows, dtype=np.uint64)
    trace[ONES, rows] = np.array(oness, dtype=np.uint64)


def fill_bits_blocks(trace: np.ndarray, xs: np.ndarray) -> None:
    """The decomposition unit's columns for every block at once, block k decomposing xs[k]
    (canonical): what `fill_bits_block` writes for the bits of each x."""
    shifts = np.arange(BITS, dtype=np.uint64)
    x = xs.astype(np.uint64)[:, None]
    bits = (x >> shifts) & np.uint64(1)
    # acc_i = Σ_{j ≤ i} bit_j·2^j = x mod 2^(i+1), below x < p: already reduced
    below = np.array([(1 << (i + 1)) - 1 for i in range(BITS)], dtype=np.uint64)
    acc = x & below
    half = BLOCK // 2
    low = np.where(shifts < half, acc, acc[:, half - 1 : half])
    # ones_i: 1 over the low half, then whether bits half..i are all 1
    high_ones = np.cumprod(bits[:, half:], axis=1)
    ones = np.concatenate([np.ones_like(bits[:, :half]), high_ones], axis=1)
    for column, block_values in ((BIT_VALUE, bits), (ACC, acc), (LOW, low), (ONES, ones)):
        trace[column] = block_values.reshape(-1)


def cell_values(layout: Layout, values: np.ndarray | Sequence[Ext]) -> np.ndarray:
    """Every cell's value as a (total_cells, 2) array; scratch cells hold 0. `values` is an
    execution's memory (`Execution.cells`) or its values as `Ext`s."""
    out = np.zeros((layout.total_cells, 2), dtype=np.uint64)
    if isinstance(values, np.ndarray):
        out[: values.shape[0]] = values
    else:
        out[: len(values)] = np.array([(v.c0, v.c1) for v in values], dtype=np.uint64).reshape(-1, 2)
    return out


def build_trace(layout: Layout, values: np.ndarray) -> np.ndarray:
    """The main trace of an execution whose cell values are `values` (from `cell_values`)."""
    n, cols = layout.trace_length, layout.columns
    trace = np.zeros((WIDTH, n), dtype=np.uint64)

    def cells(name: str) -> np.ndarray:
        return cols[name].astype(np.int64)

    read = np.stack([values[cells(f"p2_in{i}"), 0] for i in range(PERMUTE_WIDTH)])
    bit = values[cells("p2_bit"), 0]
    lanes = trace[:PERMUTE_WIDTH]  # the gadget's inputs: the lanes after the Merkle swap
    lanes[:] = read
    swap = bit == 1
    lanes[0:4, swap], lanes[4:8, swap] = read[4:8, swap], read[0:4, swap]
    # its other columns computed in place (`gadget.fill_trace` would fill a copy of 248 columns)
    fill_columns(trace[: gadget.COLUMNS], gadget.CONSTRAINT_DEGREE)
    trace[PRE_SWAP : PRE_SWAP + 8] = read[:8]
    trace[BIT] = bit

    for s in range(SLOTS):
        for k in "abcd":
            v = values[cells(f"slot{s}_{k}")]
            trace[slot_column(s, f"{k}0")], trace[slot_column(s, f"{k}1")] = v[:, 0], v[:, 1]

    fill_bits_blocks(trace, values[cells("bits_x")[BLOCK - 1 :: BLOCK], 0])
    for j in range(WITNESS):
        written = cells(f"witness{j}")
        trace[WITNESS0 + 2 * j], trace[WITNESS0 + 2 * j + 1] = values[written, 0], values[written, 1]
    return trace
