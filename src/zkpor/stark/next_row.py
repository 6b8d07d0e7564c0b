"""Which columns the constraints read on the next row: only those are opened at zω.

A proof sends every committed column's value at z, but a column's value at zω is needed only if
some constraint reads that column on the next row (`frame.next`, `aux_next`, `preprocessed_next`).
For the solvency AIR that is 42 of 298 main columns and 2 of 26 aux columns, so sending the others
would waste 16 bytes each and a DEEP term each.

Which ones they are is found, not declared: the AIR's constraints are evaluated once at a point
on a frame that records every index read (a slice or an iteration reads all it covers, so the
record errs towards more). Prover and verifier run the same code, so they find the same columns.
The verifier then builds its frame with `Unopened` placeholders elsewhere: a constraint reading
one (code that reads different columns on different calls) raises instead of reading a value the
proof does not bind.

Proofs with Poseidon2 commitments (the recursion-friendly configuration) still open every column
at zω: the compiled verifier (`zkpor.recursion.verifier_program`) reads them all, and is left
unchanged for now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zkpor.field.extension import Ext
from zkpor.field.goldilocks import P
from zkpor.stark.air import Air, AirError, Frame


@dataclass(frozen=True)
class NextRowColumns:
    main: tuple[int, ...]
    aux: tuple[int, ...]  # extension columns (each two base columns in the commitment)
    preprocessed: tuple[int, ...]

    def shifted_indices(self, main_width: int, aux_width: int) -> list[int]:
        """The same columns as indices into the concatenated base columns main ‖ aux ‖ preprocessed
        (the order of the DEEP terms and of the proof's values at zω)."""
        aux = [main_width + 2 * j + half for j in self.aux for half in (0, 1)]
        preprocessed = [main_width + 2 * aux_width + k for k in self.preprocessed]
        return list(self.main) + aux + preprocessed


class Unopened:
    """A next-row value the proof does not open: any arithmetic on it is an AIR bug."""

    def __init__(self, what: str) -> None:
        self.what = what

    def _fail(self, *_: Any) -> Any:
        raise AirError(f"a constraint read {self.what} at the next row, which it did not read before")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __pow__ = __neg__ = _fail


class _Recording(list):
    """A list that remembers which positions were read."""

    def __init__(self, values: Sequence[Any]) -> None:
        super().__init__(values)
        self.read: set[int] = set()

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            self.read.update(range(*index.indices(len(self))))
        else:
            self.read.add(index % len(self) if -len(self) <= index < len(self) else index)
        return super().__getitem__(index)

    def __iter__(self):  # type: ignore[override]
        self.read.update(range(len(self)))
        return super().__iter__()


def next_row_columns(air: Air, hasher: str = "blake3") -> NextRowColumns:
    """The columns opened at zω in a proof of `air` with this commitment hasher: those its
    constraints read on the next row, or (Poseidon2) all (see the module docstring)."""
    if hasher == "poseidon2":
        return NextRowColumns(
            tuple(range(air.main_width)), tuple(range(air.aux_width)), tuple(range(air.preprocessed_width))
        )
    cached = getattr(air, "_next_row_columns", None)
    if cached is not None:
        return cached
    counter = iter(range(1, 1 << 30))

    def values(count: int) -> list[Ext]:  # distinct nonzero values: no accidental zero products
        return [Ext((7 * next(counter)) % P, (3 * next(counter) + 1) % P) for _ in range(count)]

    frame = Frame(
        values(air.main_width), _Recording(values(air.main_width)),
        values(air.aux_width), _Recording(values(air.aux_width)),
        values(air.preprocessed_width), _Recording(values(air.preprocessed_width)),
    )  # fmt: skip
    periodic = values(len(air.periodic_columns()))
    air.evaluate(frame, periodic)
    if air.aux_width:
        air.evaluate_aux(frame, periodic, values(air.num_aux_challenges))
    found = NextRowColumns(
        *(tuple(sorted(r.read)) for r in (frame.next, frame.aux_next, frame.preprocessed_next))  # type: ignore[attr-defined]
    )
    air._next_row_columns = found  # type: ignore[attr-defined]
    return found


def next_frame_rows(
    columns: NextRowColumns, main: Sequence[Any], aux: Sequence[Any], preprocessed: Sequence[Any], air: Air
) -> tuple[list[Any], list[Any], list[Any]]:
    """Full-width next rows for a verifier's frame from the values opened at zω (`main[k]` is column
    `columns.main[k]`, and so on); every other position holds an `Unopened` placeholder."""

    def expand(opened: Sequence[Any], indices: Sequence[int], width: int, what: str) -> list[Any]:
        row: list[Any] = [Unopened(f"{what} column {c}") for c in range(width)]
        for index, value in zip(indices, opened, strict=True):
            row[index] = value
        return row

    return (
        expand(main, columns.main, air.main_width, "main"),
        expand(aux, columns.aux, air.aux_width, "aux"),
        expand(preprocessed, columns.preprocessed, air.preprocessed_width, "preprocessed"),
    )
