"""Goldilocks arithmetic on numpy ``uint64`` arrays of any shape, with parallel numba kernels.

Inputs are canonical (``< P``) unless a function says otherwise: only ``canonical`` and
``from_ints`` accept arbitrary values, and they are how outside data enters the field. Outputs are
always canonical, C-contiguous, fresh arrays of the input's shape (or `out`, where a function
takes one).

Every binary function takes ``b`` as an array of ``a``'s shape or as a scalar (Python int of any
size or sign, reduced mod P; or ``np.uint64``). Kernels work on the flattened data; inputs of more than
``_GRAIN`` elements per thread are split over all threads (``zkpor.field.parallel``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zkpor.field import llvm_ops as ops
from zkpor.field import scalar as fs
from zkpor.field.jit import njit
from zkpor.field.parallel import parallel_ranges
from zkpor.field.pure import P as P_PURE

P: int = P_PURE
assert fs.P_INT == P

_U64 = np.uint64
# Elements a thread must get before another thread is woken: a wake-up costs ~20 µs, the time of
# ~2^14 field products.
_GRAIN = 1 << 15
# Interleaved chains in batch inversion: independent products hide the multiply latency.
_LANES = 8


# ---------------------------------------------------------------------------------------------
# kernels: serial, GIL-free functions of a range [lo, hi) of the flattened data, which
# ``parallel_ranges`` spreads over the threads. The elementwise operations share one kernel,
# selected by an operation code, to keep cold-cache compilation short.
# ---------------------------------------------------------------------------------------------

_OP_ADD = 0
_OP_SUB = 1
_OP_MUL = 2
_OP_NEG = 3
_OP_CANONICAL = 4
_OP_POW = 5  # b holds the exponent


@njit(cache=True, nogil=True)
def _elementwise_kernel(lo, hi, op, a, b, out):
    """out[i] = op(a[i], b[i]) for lo <= i < hi; b has a's length, or length 1 to broadcast."""
    # Loops over slices from 0, not over range(lo, hi): numba's negative-index handling would
    # otherwise stop LLVM from vectorising them (3.4 ns against 0.8 ns per product, measured).
    x = a[lo:hi]
    o = out[lo:hi]
    n = x.size
    if op == _OP_NEG:
        for i in range(n):
            o[i] = ops.neg(x[i])
    elif op == _OP_CANONICAL:
        for i in range(n):
            o[i] = ops.canonical(x[i])
    elif op == _OP_POW:
        e = b[0]
        for i in range(n):
            o[i] = fs.power(x[i], e)
    elif b.size == 1:
        s = b[0]
        if op == _OP_ADD:
            for i in range(n):
                o[i] = ops.add(x[i], s)
        elif op == _OP_SUB:
            for i in range(n):
                o[i] = ops.sub(x[i], s)
        else:
            s_lo, s_hi = ops.halves(s)
            for i in range(n):
                o[i] = ops.mul_split(x[i], s_lo, s_hi)
    else:
        y = b[lo:hi]
        if op == _OP_ADD:
            for i in range(n):
                o[i] = ops.add(x[i], y[i])
        elif op == _OP_SUB:
            for i in range(n):
                o[i] = ops.sub(x[i], y[i])
        else:
            for i in range(n):
                o[i] = ops.mul_vec(x[i], y[i])


@njit(cache=True, nogil=True)
def _batch_inv_kernel(lo, hi, a, out):
    """Montgomery's trick on a[lo:hi]: 3 products per element and one exponentiation.

    _LANES independent running products (element i goes to lane i % _LANES) keep the multiplier
    busy instead of waiting on one long dependency chain. Zeros are skipped and left as 0 in
    ``out``; the number of zeros is returned so the caller can refuse them.
    """
    zeros = 0
    acc = np.ones(_LANES, dtype=np.uint64)
    # forward pass: out[i] = product of the non-zero earlier elements of i's lane
    for i in range(lo, hi):
        lane = i % _LANES
        out[i] = acc[lane]
        x = a[i]
        if x == fs.ZERO:
            zeros += 1
        else:
            acc[lane] = ops.mul(acc[lane], x)
    # one inversion for all lanes: invert the product of the lane products, then peel
    total = fs.ONE
    for lane in range(_LANES):
        total = ops.mul(total, acc[lane])
    total_inv = fs.inverse(total)
    inv = np.empty(_LANES, dtype=np.uint64)
    for lane in range(_LANES):
        t = total_inv
        for other in range(_LANES):
            if other != lane:
                t = ops.mul(t, acc[other])
        inv[lane] = t
    # backward pass: inv[lane] is the inverse of the lane's product up to and including i
    for i in range(hi - 1, lo - 1, -1):
        lane = i % _LANES
        x = a[i]
        if x == fs.ZERO:
            out[i] = 0
        else:
            out[i] = ops.mul(out[i], inv[lane])
            inv[lane] = ops.mul(inv[lane], x)
    return zeros


@njit(cache=True, nogil=True)
def fold_halves(sum_lo, sum_hi):
    """(sum_hi·2^32 + sum_lo) mod P, for sums of the low and high 32-bit halves of terms.

    Summing the halves separately keeps each sum below 2^64 for up to 2^32 terms, with plain
    additions that LLVM vectorises (a 128-bit carry chain would not be)."""
    lo = sum_lo + (sum_hi << fs.SHIFT32)
    carry = fs.ONE if lo < sum_lo else fs.ZERO
    return ops.reduce128(lo, (sum_hi >> fs.SHIFT32) + carry)


@njit(cache=True, nogil=True)
def _dot_rows_kernel(lo, hi, a, b, use_b, out):
    """out[r] = sum_i a[r, i]·b[r, i] (or sum_i a[r, i] when not use_b), mod P, lo <= r < hi."""
    for r in range(lo, hi):
        x = a[r]
        y = b[r]
        sum_lo = fs.ZERO
        sum_hi = fs.ZERO
        if use_b:
            for i in range(x.size):
                v = ops.mul_vec(x[i], y[i])
                sum_lo += v & fs.MASK32
                sum_hi += v >> fs.SHIFT32
        else:
            for i in range(x.size):
                v = x[i]
                sum_lo += v & fs.MASK32
                sum_hi += v >> fs.SHIFT32
        out[r] = fold_halves(sum_lo, sum_hi)


@njit(cache=True, nogil=True)
def _powers_kernel(base, out):
    """out[i] = base^i. The first 8 sequentially, then out[i] = out[i-8]·base^8: eight independent
    chains, which LLVM turns into vector products."""
    n = out.size
    x = fs.ONE
    for i in range(min(n, 8)):
        out[i] = x
        x = ops.mul(x, base)
    step8 = x  # base^8
    for i in range(8, n):
        out[i] = ops.mul(out[i - 8], step8)


# ---------------------------------------------------------------------------------------------
# numpy API
# ---------------------------------------------------------------------------------------------


def _flat(a: np.ndarray) -> np.ndarray:
    """A 1-D C-contiguous uint64 view (or copy) of ``a``; refuses other dtypes."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected a numpy uint64 array, got {type(a).__name__}")
    if a.dtype != np.uint64:
        raise TypeError(f"expected a uint64 array, got dtype {a.dtype}; use from_ints() to convert")
    return np.ascontiguousarray(a).reshape(-1)


def _operand(a: np.ndarray, b: Any) -> np.ndarray:
    """``b`` as a flat array: of a's size, or of size 1 for a scalar (reduced mod P) or an array of
    one element (broadcast)."""
    if isinstance(b, np.ndarray) and b.ndim > 0 and (b.size != 1 or b.shape == a.shape):
        if b.shape != a.shape:
            raise ValueError(f"shape mismatch: {a.shape} and {b.shape}")
        return _flat(b)
    if isinstance(b, np.ndarray) and b.dtype != np.uint64:
        raise TypeError(f"expected a uint64 array, got dtype {b.dtype}")
    if isinstance(b, np.ndarray):  # an array of one element
        b = b.reshape(())
    if isinstance(b, np.ndarray | np.integer | int):
        return np.array([int(b) % P], dtype=_U64)
    raise TypeError(f"expected a uint64 array or an int, got {type(b).__name__}")


def _elementwise(op: int, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    fa = _flat(a)
    if out is None:
        flat_out = np.empty_like(fa)
    elif out.shape != a.shape or out.dtype != _U64 or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be a writeable C-contiguous uint64 array of shape {a.shape}")
    else:
        flat_out = out.reshape(-1)
    # an exponentiation costs ~100 products, so far fewer elements already pay for a thread
    grain = _GRAIN // 64 if op == _OP_POW else _GRAIN
    parallel_ranges(_elementwise_kernel, fa.size, op, fa, b, flat_out, grain=grain)
    return flat_out.reshape(a.shape)


_NO_OPERAND = np.zeros(1, dtype=_U64)


def add(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """a + b (mod P), elementwise."""
    return _elementwise(_OP_ADD, a, _operand(a, b))


def sub(a: np.ndarray, b: np.ndarray | int, out: np.ndarray | None = None) -> np.ndarray:
    """a - b (mod P), elementwise; written into `out` (a's shape, C-contiguous) when given."""
    return _elementwise(_OP_SUB, a, _operand(a, b), out)


def mul(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """a · b (mod P), elementwise. (The kernel reduces any uint64 inputs correctly.)"""
    return _elementwise(_OP_MUL, a, _operand(a, b))


def neg(a: np.ndarray) -> np.ndarray:
    """-a (mod P), elementwise."""
    return _elementwise(_OP_NEG, a, _NO_OPERAND)


def canonical(a: np.ndarray) -> np.ndarray:
    """Any uint64 values (P .. 2^64-1 included) to their canonical representatives."""
    return _elementwise(_OP_CANONICAL, a, _NO_OPERAND)


def _reduce_exponent(e: int) -> int:
    """An exponent in [0, P-1] with x^result == x^e for every x (x = 0 included, for e >= 0)."""
    if e <= 0:
        return e
    # x^(P-1) = 1 for x != 0; keeping the result >= 1 keeps 0^e = 0.
    return (e - 1) % (P - 1) + 1


def pow(a: np.ndarray, e: int) -> np.ndarray:  # the API name shadows the builtin on purpose
    """a^e elementwise, for any Python int e. Negative e inverts first (ZeroDivisionError on 0)."""
    e = int(e)
    if e < 0:
        a = inv(a)
        e = -e
    return _elementwise(_OP_POW, a, np.array([_reduce_exponent(e)], dtype=_U64))


def batch_inv(a: np.ndarray, *, allow_zero: bool = False) -> np.ndarray:
    """Elementwise inverse by Montgomery's batch trick (any shape; 3 multiplications per element).

    Raises ZeroDivisionError if any element is 0, unless ``allow_zero``: then 0 maps to 0.
    """
    fa = _flat(a)
    out = np.empty_like(fa)
    zeros = sum(parallel_ranges(_batch_inv_kernel, fa.size, fa, out, grain=_GRAIN))
    if zeros and not allow_zero:
        raise ZeroDivisionError(f"batch_inv: {zeros} zero element(s) have no inverse")
    return out.reshape(a.shape)


def inv(a: np.ndarray) -> np.ndarray:
    """Elementwise inverse; ZeroDivisionError if any element is 0."""
    return batch_inv(a)


def from_ints(values: Any) -> np.ndarray:
    """Python ints of any size and sign (a list, nested lists, an iterable or an integer array),
    reduced mod P, as a uint64 array."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "ui":
        if values.dtype == np.uint64:
            return canonical(values)
        if values.dtype.kind == "u":
            return values.astype(_U64)  # below 2^32: already canonical
        # signed: v < 0 wraps to v + 2^64 = v + P + EPSILON, so subtract EPSILON (no underflow:
        # v + 2^64 >= 2^63 > EPSILON)
        wrapped = values.astype(np.int64).astype(_U64)
        return np.where(values < 0, wrapped - fs.EPSILON, wrapped)
    if not isinstance(values, list | tuple | np.ndarray):
        values = list(values)
    obj = np.array(values, dtype=object)
    reduce = np.frompyfunc(lambda v: int(v) % P, 1, 1)
    return np.asarray(reduce(obj), dtype=object).astype(_U64).reshape(obj.shape)


def to_ints(a: np.ndarray) -> list:
    """The inverse of ``from_ints`` for inspection and tests: nested lists of Python ints."""
    return np.asarray(a).tolist()


def powers(base: int, n: int) -> np.ndarray:
    """[1, base, base^2, ..., base^(n-1)] (mod P)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    out = np.empty(n, dtype=_U64)
    if n:
        _powers_kernel(_U64(int(base) % P), out)
    return out


def _rows(a: np.ndarray, axis: int | None) -> tuple[np.ndarray, tuple[int, ...]]:
    """``a`` as a C-contiguous 2-D (rows, reduced length) array, and the shape of the result."""
    if axis is None:
        m, result_shape = _flat(a).reshape(1, -1), ()
    else:
        _flat(a)  # dtype check
        moved = np.moveaxis(a, axis, -1)
        m, result_shape = np.ascontiguousarray(moved).reshape(-1, moved.shape[-1]), moved.shape[:-1]
    if m.shape[1] >= 1 << 32:  # the sums of 32-bit halves in _dot_rows_kernel would overflow
        raise ValueError("sums of 2^32 or more terms are not supported")
    return m, result_shape


def sum_mod(a: np.ndarray, axis: int | None = None) -> np.ndarray | np.uint64:
    """Sum mod P over ``axis`` (all elements when None: an ``np.uint64`` scalar)."""
    m, result_shape = _rows(a, axis)
    out = np.zeros(m.shape[0], dtype=_U64)
    grain = max(1, _GRAIN // max(1, m.shape[1]))
    parallel_ranges(_dot_rows_kernel, m.shape[0], m, m, False, out, grain=grain)
    if axis is None:
        return out[0] if out.size else _U64(0)
    return out.reshape(result_shape)


def dot(a: np.ndarray, b: np.ndarray, axis: int | None = None) -> np.ndarray | np.uint64:
    """Sum of a·b mod P over ``axis`` (all elements when None: an ``np.uint64`` scalar)."""
    if not isinstance(b, np.ndarray) or a.shape != b.shape:
        raise ValueError("dot needs two arrays of the same shape")
    ma, result_shape = _rows(a, axis)
    mb, _ = _rows(b, axis)
    out = np.zeros(ma.shape[0], dtype=_U64)
    grain = max(1, _GRAIN // max(1, ma.shape[1]))
    parallel_ranges(_dot_rows_kernel, ma.shape[0], ma, mb, True, out, grain=grain)
    if axis is None:
        return out[0] if out.size else _U64(0)
    return out.reshape(result_shape)


def random_elements(shape: int | tuple[int, ...], rng: np.random.Generator | None = None) -> np.ndarray:
    """Uniform field elements. With a numpy Generator: reproducible, NOT for secrets. With
    ``rng=None``: from a CSPRNG (`randomness.uniform_elements`: AES-256-CTR under a key from
    `secrets`), for blinding."""
    if rng is not None:
        return rng.integers(0, P, size=shape, dtype=_U64)
    from zkpor.field.randomness import uniform_elements  # it imports this package's parallel

    return uniform_elements(shape)
