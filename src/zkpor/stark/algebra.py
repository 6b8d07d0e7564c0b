"""Column vectors with arithmetic operators, for evaluating constraints on the prover side.

An `Air` writes its constraints with `+ - *` and powers. The verifier runs them on `Ext` scalars; the
prover runs the very same code on these wrappers around numpy arrays of many LDE points at once.
`BaseVec` holds base-field values (shape (n,)), `ExtVec` extension-field values (shape (n, 2)).
Mixing is allowed with Python ints, `Ext` scalars and each other; anything involving an extension
value yields an `ExtVec`.
"""

from __future__ import annotations

import numpy as np

from zkpor.field import extension as ext
from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext


def _as_base_scalar(value: int) -> np.uint64:
    return np.uint64(value % gl.P)


def _ext_scalar_array(value: Ext, length: int) -> np.ndarray:
    out = np.empty((length, 2), dtype=np.uint64)
    out[:, 0] = value.c0
    out[:, 1] = value.c1
    return out


class BaseVec:
    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __len__(self) -> int:
        return self.values.shape[0]

    def _lift(self) -> ExtVec:
        return ExtVec(ext.ext_from_base(self.values))

    def __add__(self, other):
        if isinstance(other, BaseVec):
            return BaseVec(gl.add(self.values, other.values))
        if isinstance(other, int):
            return BaseVec(gl.add(self.values, _as_base_scalar(other)))
        return self._lift() + other

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, BaseVec):
            return BaseVec(gl.sub(self.values, other.values))
        if isinstance(other, int):
            return BaseVec(gl.sub(self.values, _as_base_scalar(other)))
        return self._lift() - other

    def __rsub__(self, other):
        if isinstance(other, int):
            return BaseVec(gl.sub(np.full_like(self.values, _as_base_scalar(other)), self.values))
        return ExtVec.coerce(other, len(self)) - self._lift()

    def __mul__(self, other):
        if isinstance(other, BaseVec):
            return BaseVec(gl.mul(self.values, other.values))
        if isinstance(other, int):
            return BaseVec(gl.mul(self.values, _as_base_scalar(other)))
        if isinstance(other, ExtVec):
            return ExtVec(ext.ext_mul_base(other.values, self.values))
        if isinstance(other, Ext):
            return ExtVec(ext.ext_mul_base(other, self.values))
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self):
        return BaseVec(gl.neg(self.values))

    def __pow__(self, exponent: int):
        return BaseVec(gl.pow(self.values, exponent))


class ExtVec:
    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __len__(self) -> int:
        return self.values.shape[0]

    @staticmethod
    def coerce(value, length: int) -> ExtVec:
        if isinstance(value, ExtVec):
            return value
        if isinstance(value, BaseVec):
            return value._lift()
        if isinstance(value, Ext):
            return ExtVec(_ext_scalar_array(value, length))
        if isinstance(value, int):
            return ExtVec(_ext_scalar_array(Ext(value % gl.P, 0), length))
        raise TypeError(f"cannot use {type(value).__name__} in a constraint expression")

    def __add__(self, other):
        return ExtVec(ext.ext_add(self.values, _ext_operand(other, len(self))))

    __radd__ = __add__

    def __sub__(self, other):
        return ExtVec(ext.ext_sub(self.values, _ext_operand(other, len(self))))

    def __rsub__(self, other):
        return ExtVec(ext.ext_sub(ExtVec.coerce(other, len(self)).values, self.values))

    def __mul__(self, other):
        if isinstance(other, BaseVec):
            return ExtVec(ext.ext_mul_base(self.values, other.values))
        if isinstance(other, int):
            return ExtVec(ext.ext_mul_base(self.values, _as_base_scalar(other)))
        return ExtVec(ext.ext_mul(self.values, _ext_operand(other, len(self))))

    __rmul__ = __mul__

    def __neg__(self):
        return ExtVec(ext.ext_neg(self.values))

    def __pow__(self, exponent: int):
        return ExtVec(ext.ext_pow(self.values, exponent))


def _ext_operand(value, length: int):
    """An operand for the ext kernels: scalars stay scalars (the kernels broadcast them)."""
    if isinstance(value, Ext):
        return value
    if isinstance(value, int):
        return Ext(value % gl.P, 0)
    return ExtVec.coerce(value, length).values


def as_ext_array(value, length: int) -> np.ndarray:
    """Any constraint result (vector, scalar or int) as an (length, 2) extension array."""
    return ExtVec.coerce(value, length).values


class CombinedConstraints:
    """`count` consecutive constraints that a fused kernel evaluates already combined: `combine`
    takes their weights α_k ((count, 2) extension array) and returns Σ α_k · c_k as an `ExtVec`,
    so the constraint vectors themselves never exist. Only the prover sees these (a gadget returns
    one in place of its constraint list when given `BaseVec` columns); all `count` constraints must
    share one declaration kind (wrapping or not)."""

    __slots__ = ("combine", "count")

    def __init__(self, count: int, combine) -> None:
        self.count = count
        self.combine = combine


class BaseColumn(BaseVec):
    """`matrix[row, offset : offset + length]` of a C-contiguous matrix, with where it lies: the
    prover's frame columns (slices of the column-major LDEs), which the fused kernels read in place
    by (matrix, rows, offset) (`row_views`) instead of stacking copies. The view `values` is made
    on first use only (most of a frame's columns are read by kernels alone)."""

    __slots__ = ("matrix", "row", "offset", "length", "_view")

    def __init__(self, matrix: np.ndarray, row: int, offset: int, length: int) -> None:
        self.matrix, self.row, self.offset, self.length = matrix, row, offset, length
        self._view: np.ndarray | None = None

    def __len__(self) -> int:
        return self.length

    @property
    def values(self) -> np.ndarray:  # type: ignore[override]
        if self._view is None:
            self._view = self.matrix[self.row, self.offset : self.offset + self.length]
        return self._view


class ExtColumn(ExtVec):
    """An extension column stored as two base rows of a C-contiguous matrix (c0 at `row`, c1 at
    `row + 1`, points [offset, offset + length)), as the prover's aux LDE holds it. Kernels read it
    there (`ext_row_views`); the generic code's (length, 2) `values` are interleaved on first use
    only (the LogUp pairs, most aux columns, never need them)."""

    __slots__ = ("matrix", "row", "offset", "length", "_pairs")

    def __init__(self, matrix: np.ndarray, row: int, offset: int, length: int) -> None:
        self.matrix, self.row, self.offset, self.length = matrix, row, offset, length
        self._pairs: np.ndarray | None = None

    def __len__(self) -> int:
        return self.length

    @property
    def values(self) -> np.ndarray:  # type: ignore[override]
        if self._pairs is None:
            pairs = np.empty((self.length, 2), dtype=np.uint64)
            pairs[:, 0] = self.matrix[self.row, self.offset : self.offset + self.length]
            pairs[:, 1] = self.matrix[self.row + 1, self.offset : self.offset + self.length]
            self._pairs = pairs
        return self._pairs


def _contiguous(matrix: np.ndarray) -> np.ndarray:
    if matrix.ndim != 2 or matrix.dtype != np.uint64 or not matrix.flags.c_contiguous:
        raise ValueError("frame columns are read from a C-contiguous 2-D uint64 matrix")
    return matrix


def base_columns(matrix: np.ndarray, offset: int, length: int) -> list[BaseColumn]:
    """Every row of `matrix` (C-contiguous) at points [offset, offset + length), in place."""
    _contiguous(matrix)
    return [BaseColumn(matrix, row, offset, length) for row in range(matrix.shape[0])]


def ext_columns(matrix: np.ndarray, offset: int, length: int) -> list[ExtColumn]:
    """The extension columns stored as consecutive pairs of rows (c0, c1) of `matrix`, in place."""
    _contiguous(matrix)
    return [ExtColumn(matrix, row, offset, length) for row in range(0, matrix.shape[0] - 1, 2)]


def row_views(vectors: list[BaseVec]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(matrix, rows, offset) with vectors[i].values == matrix[rows[i], offset : offset + n], when
    every vector is a `BaseColumn` of one matrix at one offset (as the prover's frames are); None
    otherwise."""
    first = vectors[0]
    if not isinstance(first, BaseColumn):
        return None
    matrix, offset, n = first.matrix, first.offset, first.length
    for v in vectors:
        if not (isinstance(v, BaseColumn) and v.matrix is matrix and v.offset == offset and v.length == n):
            return None
    return matrix, np.array([v.row for v in vectors], dtype=np.int64), offset


def read_in_place(vectors: list[BaseVec]) -> tuple[np.ndarray, np.ndarray, int]:
    """(matrix, rows, offset) as `row_views` finds them, or for any other vectors a stacked copy
    with rows 0, 1, … at offset 0."""
    views = row_views(vectors)
    if views is not None:
        return views
    return np.stack([v.values for v in vectors]), np.arange(len(vectors), dtype=np.int64), 0


def stacked(vectors: list[BaseVec]) -> tuple[np.ndarray, int]:
    """`vectors` as (matrix, offset) with vectors[i].values == matrix[i, offset : offset + n] and
    matrix C-contiguous: a view when they are consecutive rows of one matrix at one offset (as the
    prover's frames are), a copy otherwise."""
    views = row_views(vectors)
    if views is not None:
        matrix, rows, offset = views
        first = int(rows[0])
        if np.array_equal(rows, np.arange(first, first + len(vectors))):
            return matrix[first : first + len(vectors)], offset
    return np.stack([v.values for v in vectors]), 0


def ext_row_views(vectors: list[ExtVec]) -> tuple[np.ndarray, np.ndarray, int]:
    """(matrix, rows, offset) with vectors[i] == matrix[rows[i]] + x·matrix[rows[i] + 1] at points
    [offset, offset + n): in place when they are `ExtColumn`s of one matrix at one offset (the
    prover's aux frames), else a copy (rows 0, 2, 4, … at offset 0)."""
    first = vectors[0]
    if isinstance(first, ExtColumn) and all(
        isinstance(v, ExtColumn) and v.matrix is first.matrix and v.offset == first.offset
        and v.length == first.length for v in vectors
    ):  # fmt: skip
        return first.matrix, np.array([v.row for v in vectors], dtype=np.int64), first.offset
    copy = np.empty((2 * len(vectors), len(first)), dtype=np.uint64)
    for i, v in enumerate(vectors):
        copy[2 * i], copy[2 * i + 1] = v.values[:, 0], v.values[:, 1]
    return copy, np.arange(0, 2 * len(vectors), 2, dtype=np.int64), 0


def ext_sum(values: list):
    """Σ values: on the prover's aux columns (`ExtColumn`s of one matrix at one offset) one pass
    over their c0 rows and one over their c1 rows, read in place (`kernels.row_sums`); anything
    else (the verifier's scalars) term by term."""
    first = values[0]
    if isinstance(first, ExtColumn) and len(values) > 1:
        matrix, rows, offset = ext_row_views(values)
        if matrix is first.matrix:
            from zkpor.stark.kernels import row_sums

            out = np.empty((first.length, 2), dtype=np.uint64)
            out[:, 0] = row_sums(matrix, rows, offset, first.length)
            out[:, 1] = row_sums(matrix, rows + 1, offset, first.length)
            return ExtVec(out)
    total = first
    for value in values[1:]:
        total = total + value
    return total


def linear_combination(values: list, weights: list[Ext]):
    """Σ weights[i] · values[i] for constraint expressions: prover vectors (`BaseVec`) in one
    linear-combination kernel, anything else (the verifier's scalars) term by term."""
    if values and all(isinstance(v, BaseVec) for v in values):
        return ExtVec(ext.ext_linear_combination(np.stack([v.values for v in values]), weights))
    total = None
    for value, weight in zip(values, weights, strict=True):
        term = value * weight
        total = term if total is None else total + term
    return total


def selected_combinations(selectors: list, values: list[list], weights: list[list[Ext]]):
    """Σ_r selectors[r] · Σ_i weights[r][i] · values[r][i]: on the prover's vectors one kernel
    (`kernels.selected_combinations`) reading the values in place when they are slices of one
    matrix (`read_in_place`), without a vector per term; on the verifier's scalars term by term."""
    flat = [v for group in values for v in group]
    if flat and all(isinstance(v, BaseVec) for v in flat + list(selectors)):
        from zkpor.stark.kernels import selected_combinations as kernel

        matrix, rows, offset = read_in_place(flat)
        starts = np.cumsum([0] + [len(group) for group in values])
        pairs = ext.ext_array([w for group in weights for w in group])
        selected = np.stack([s.values for s in selectors])
        return ExtVec(kernel(matrix, rows, offset, pairs, starts, selected))
    total = None
    for selector, group, group_weights in zip(selectors, values, weights, strict=True):
        term = linear_combination(group, group_weights) * selector
        total = term if total is None else total + term
    return total
