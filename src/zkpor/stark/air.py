"""The AIR (algebraic intermediate representation) API.

An `Air` describes a computation as a table of field elements (the trace) and the polynomial rules
every row must satisfy. It is written once and evaluated twice: by the prover on numpy chunks of the
low-degree-extended trace (`algebra.BaseVec`/`ExtVec`) and by the verifier on extension-field scalars
(`field.extension.Ext`) at the out-of-domain point. Constraint code therefore uses only `+ - *`,
integer powers and integer constants.

What an AIR declares:

- `main_width`, `trace_length` (a power of two);
- transition constraints over (current row, next row, periodic values), each with its degree and
  whether it also wraps from the last row to the first (`Constraint.wraps`);
- boundary assertions: a column equals a value at one row, or at every `stride`-th row;
- periodic columns: short value lists repeated down the trace (round constants, selectors, tables);
- preprocessed columns: full-length public columns (`preprocessed_width`, `preprocessed_trace()`),
  committed once into a verification key and opened in the proof (`stark.preprocessed`), seen by
  constraints as `frame.preprocessed` / `frame.preprocessed_next`;
- lookups (LogUp): each `LookupTerm` adds `multiplicity / (β − fingerprint(values))` to a running sum
  that must close to zero (or to `lookup_public_sum`) over the whole trace. A range check is "each
  value is a query with multiplicity 1; the table column contributes with multiplicity −m"; a
  multiset equality is "+1 for the left column, −1 for the right". The framework builds the
  auxiliary columns (one helper per two terms, plus the running sum) and their constraints;
- extra auxiliary columns with their own verifier challenges, for anything else that needs
  randomness (`extra_aux_width`, `num_extra_challenges`, `evaluate_extra_aux`, `build_extra_aux`).
- `public_inputs()`: field elements of the statement, absorbed into the transcript right after the
  AIR's digest (which holds their count, not their values), so a proof cannot be replayed for
  another statement.
"""

from __future__ import annotations

import hashlib
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zkpor.errors import ZkporError

# A constraint expression: BaseVec/ExtVec on the prover side, Ext (or int) on the verifier side.
Expr = Any


class AirError(ZkporError):
    """An AIR definition or trace that does not fit together."""


@dataclass(frozen=True)
class Constraint:
    """Declaration of one transition constraint: its degree in the trace variables, and whether it
    must also hold between the last row and the first (cyclic), or only between consecutive rows."""

    degree: int
    wraps: bool = False


@dataclass(frozen=True)
class Assertion:
    """`column` equals `value` at `row`, and, if `stride` > 0, at every `stride`-th row after it."""

    column: int
    row: int
    value: int
    stride: int = 0

    def rows(self, trace_length: int) -> range:
        if self.stride == 0:
            return range(self.row, self.row + 1)
        return range(self.row, trace_length, self.stride)


@dataclass(frozen=True)
class LookupTerm:
    """One term of a LogUp running sum: on every row, add `multiplicity / (β − Σ γ^i · values[i])`.

    Both callables receive `(row, fixed)` — the current main-trace row, and the periodic values
    followed by the preprocessed ones (`Frame.preprocessed`) — and return expressions (use a
    constant 1 for a plain query, `-row[m]` for a table's multiplicity).
    `degree` is the degree of `multiplicity`, and of the fingerprint, in trace variables.
    """

    values: Callable[[Sequence[Expr], Sequence[Expr]], Sequence[Expr]]
    multiplicity: Callable[[Sequence[Expr], Sequence[Expr]], Expr]
    values_degree: int = 1
    multiplicity_degree: int = 0
    name: str = ""


@dataclass
class Frame:
    """The rows a constraint sees: `current` and `next` of the main trace, of the aux trace and of
    the preprocessed columns."""

    current: Sequence[Expr]
    next: Sequence[Expr]
    aux_current: Sequence[Expr] = field(default_factory=list)
    aux_next: Sequence[Expr] = field(default_factory=list)
    preprocessed: Sequence[Expr] = field(default_factory=list)
    preprocessed_next: Sequence[Expr] = field(default_factory=list)


class Air(ABC):
    """Base class of every AIR. Subclasses set `name` and implement the abstract methods."""

    name: str = "air"
    version: int = 1

    def __init__(self, trace_length: int) -> None:
        if trace_length < 8 or trace_length & (trace_length - 1):
            raise AirError(f"trace length must be a power of two >= 8, got {trace_length}")
        self.trace_length = trace_length

    # ---- layout -------------------------------------------------------------------------------

    @property
    @abstractmethod
    def main_width(self) -> int:
        """Number of main (base-field) trace columns."""

    def periodic_columns(self) -> list[list[int]]:
        """Each list's length is a power of two dividing the trace length; it repeats down the trace."""
        return []

    preprocessed_width: int = 0

    def preprocessed_trace(self) -> np.ndarray:
        """The preprocessed columns, uint64 of shape (preprocessed_width, n). Only whoever builds
        the verification key calls this (`preprocessed.commit_preprocessed`), never the verifier."""
        return np.empty((0, self.trace_length), dtype=np.uint64)

    # ---- constraints --------------------------------------------------------------------------

    @abstractmethod
    def constraints(self) -> list[Constraint]:
        """Declarations of the main-trace transition constraints, in `evaluate` order."""

    @abstractmethod
    def evaluate(self, frame: Frame, periodic: Sequence[Expr]) -> list[Expr]:
        """The main-trace constraint expressions; each must be zero on every row it applies to."""

    def assertions(self) -> list[Assertion]:
        return []

    def lookups(self) -> list[LookupTerm]:
        return []

    def public_inputs(self) -> list[int]:
        """Field elements of the public statement (absorbed into the transcript)."""
        return []

    def lookup_public_sum(self, beta: Expr, gamma: Expr) -> Expr:
        """What the LogUp sum must equal instead of zero: a bus whose open end is public (e.g. a
        Merkle root that is produced but never consumed) puts that end's term here."""
        return 0

    # ---- extra auxiliary columns (beyond LogUp), for AIRs that need their own randomness --------

    extra_aux_width: int = 0
    num_extra_challenges: int = 0

    def extra_aux_constraints(self) -> list[Constraint]:
        return []

    def evaluate_extra_aux(
        self, frame: Frame, periodic: Sequence[Expr], challenges: Sequence[Expr]
    ) -> list[Expr]:
        """Constraints on the extra aux columns, found at `frame.aux_current[self.extra_aux_offset:]`."""
        return []

    def build_extra_aux(self, trace: np.ndarray, challenges: Sequence[Any]) -> np.ndarray:
        """The extra aux columns as base-field pairs, shape (2·extra_aux_width, n)."""
        return np.empty((0, self.trace_length), dtype=np.uint64)

    # ---- derived: the whole auxiliary trace -----------------------------------------------------

    @property
    def extra_aux_offset(self) -> int:
        # The LogUp columns, counted once: a shape of the AIR that a compiled verifier asks for at
        # every query, and each count builds the lookups and the constraints again.
        width = self.__dict__.get("_logup_width")
        if width is None:
            from zkpor.stark import logup

            width = self.__dict__["_logup_width"] = logup.width(self)
        return width

    @property
    def aux_width(self) -> int:
        """Extension-field aux columns: LogUp helpers and running sum, then the extra ones."""
        return self.extra_aux_offset + self.extra_aux_width

    @property
    def num_aux_challenges(self) -> int:
        # β (the LogUp pole) and γ (fingerprint compression) come first when there are lookups.
        return (2 if self.lookups() else 0) + self.num_extra_challenges

    def aux_constraints(self) -> list[Constraint]:
        from zkpor.stark import logup

        return logup.constraints(self) + self.extra_aux_constraints()

    def evaluate_aux(
        self, frame: Frame, periodic: Sequence[Expr], challenges: Sequence[Expr]
    ) -> list[Expr]:
        from zkpor.stark import logup

        lookup_challenges = 2 if self.lookups() else 0
        return logup.evaluate(self, frame, periodic, challenges[:lookup_challenges]) + (
            self.evaluate_extra_aux(frame, periodic, challenges[lookup_challenges:])
        )

    def build_aux_trace(self, trace: np.ndarray, challenges: Sequence[Any]) -> np.ndarray:
        """The aux columns as base-field pairs, shape (2·aux_width, n)."""
        from zkpor.stark import logup

        lookup_challenges = 2 if self.lookups() else 0
        lookup_columns = logup.build_columns(self, trace, challenges[:lookup_challenges])
        extra = self.build_extra_aux(trace, challenges[lookup_challenges:])
        return np.concatenate([lookup_columns, extra])

    def max_constraint_degree(self) -> int:
        degrees = [c.degree for c in self.constraints() + self.aux_constraints()]
        return max([1, *degrees])

    def digest(self) -> bytes:
        """Binds proofs to this AIR's shape; the verifier recomputes it itself. The public inputs'
        values are not in it, only their count: the transcript absorbs the values right after the
        digest (`statement.start_transcript`), so they are bound all the same, and one compiled
        verifier (`zkpor.recursion.verifier_program.emit_verifier`) checks proofs of any public
        values, which it reads as program cells."""
        h = hashlib.blake2b(digest_size=32, person=b"zkpor-air-v1")
        h.update(self.name.encode() + b"\0")
        h.update(struct.pack("<IQII", self.version, self.trace_length, self.main_width, self.aux_width))
        if self.preprocessed_width:  # (absent before preprocessed columns existed: digests unchanged)
            h.update(b"preprocessed" + struct.pack("<I", self.preprocessed_width))
        for c in self.constraints() + self.aux_constraints():
            h.update(struct.pack("<I?", c.degree, c.wraps))
        for a in self.assertions():
            h.update(struct.pack("<IQQQ", a.column, a.row, a.value, a.stride))
        for column in self.periodic_columns():
            h.update(struct.pack("<I", len(column)))
            h.update(np.asarray(column, dtype=np.uint64).tobytes())
        for t in self.lookups():
            h.update(struct.pack("<II", t.values_degree, t.multiplicity_degree) + t.name.encode())
        h.update(struct.pack("<I", len(self.public_inputs())))
        return h.digest()

    # ---- checks the prover runs before proving --------------------------------------------------

    def validate_trace(self, trace: np.ndarray) -> None:
        if trace.dtype != np.uint64 or trace.shape != (self.main_width, self.trace_length):
            raise AirError(
                f"{self.name}: trace must be uint64 of shape {(self.main_width, self.trace_length)}, "
                f"got {trace.dtype} {trace.shape}"
            )
        for column in self.periodic_columns():
            n = len(column)
            if n < 1 or n & (n - 1) or self.trace_length % n:
                raise AirError(f"{self.name}: periodic column length {n} must be a power of two dividing n")


def compress_values(values: Sequence[Expr], gamma: Expr) -> Expr:
    """Σ γ^i · values[i], by Horner's rule, so that a tuple is fingerprinted by one element."""
    acc = values[-1]
    for v in reversed(values[:-1]):
        acc = acc * gamma + v
    return acc
