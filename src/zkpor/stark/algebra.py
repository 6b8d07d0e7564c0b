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


def row_views(vectors: list[BaseVec]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(matrix, rows, offset) with vectors[i].values == matrix[rows[i], offset : offset + n] and
    matrix C-contiguous, when every vector is such a slice of one matrix (as the prover's frames
    are: slices of the LDE's column rows at one offset); None otherwise."""
    first = vectors[0].values
    base = first.base
    if not (
        isinstance(base, np.ndarray) and base.ndim == 2 and base.flags.c_contiguous and first.strides == (8,)
    ):
        return None
    row_bytes = base.strides[0]
    start, offset = divmod(first.ctypes.data - base.ctypes.data, row_bytes)
    if offset % 8:
        return None
    rows = np.empty(len(vectors), dtype=np.int64)
    for i, v in enumerate(vectors):
        values = v.values
        if values.base is not base or values.shape != first.shape or values.strides != (8,):
            return None
        row, rest = divmod(values.ctypes.data - base.ctypes.data, row_bytes)
        if rest != offset or not 0 <= row < base.shape[0]:
            return None
        rows[i] = row
    return base, rows, offset // 8


def stacked(vectors: list[BaseVec]) -> tuple[np.ndarray, int]:
    """`vectors` as (matrix, offset) with vectors[i].values == matrix[i, offset : offset + n] and
    matrix C-contiguous: a view when they are consecutive rows of one matrix, or slices of such
    rows at one offset (as the prover's frames are), a copy otherwise."""
    views = row_views(vectors)
    if views is not None:
        base, rows, offset = views
        first = int(rows[0])
        if np.array_equal(rows, np.arange(first, first + len(vectors))):
            return base[first : first + len(vectors)], offset
    return np.stack([v.values for v in vectors]), 0


def ext_stacked(vectors: list[ExtVec]) -> np.ndarray:
    """The (k, n, 2) array of `vectors`' values: a view when they are consecutive entries of one
    C-contiguous (K, n, 2) array (as the prover's aux frames are), a copy otherwise."""
    first = vectors[0].values
    base = first.base
    whole = isinstance(base, np.ndarray) and base.ndim == 3 and base.flags.c_contiguous
    if whole and first.shape == base.shape[1:]:
        start, rest = divmod(first.ctypes.data - base.ctypes.data, base.strides[0])
        if rest == 0 and start + len(vectors) <= base.shape[0] and all(
            v.values.base is base and v.values.ctypes.data == first.ctypes.data + i * base.strides[0]
            for i, v in enumerate(vectors)
        ):
            return base[start : start + len(vectors)]
    return np.stack([v.values for v in vectors])


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
    matrix (`row_views`), without a vector per term; on the verifier's scalars term by term."""
    flat = [v for group in values for v in group]
    if flat and all(isinstance(v, BaseVec) for v in flat + list(selectors)):
        from zkpor.stark.kernels import selected_combinations as kernel

        views = row_views(flat)
        if views is None:
            matrix, rows, offset = np.stack([v.values for v in flat]), np.arange(len(flat)), 0
        else:
            matrix, rows, offset = views
        starts = np.cumsum([0] + [len(group) for group in values])
        pairs = ext.ext_array([w for group in weights for w in group])
        selected = np.stack([s.values for s in selectors])
        return ExtVec(kernel(matrix, rows, offset, pairs, starts, selected))
    total = None
    for selector, group, group_weights in zip(selectors, values, weights, strict=True):
        term = linear_combination(group, group_weights) * selector
        total = term if total is None else total + term
    return total
