"""The quadratic extension F_p[x]/(x^2 - 7) on numpy arrays, plus numba scalar helpers.

This is Plonky3's ``BinomialExtensionField<Goldilocks, 2>`` (W = 7). An array of extension
elements has shape ``(..., 2)`` and dtype uint64, the last axis holding ``[c0, c1]`` for
``c0 + c1·x``, both canonical.

Three layers, for three kinds of caller:

* ``ext_*_scalar`` numba functions on coordinate pairs (np.uint64), for other kernels
  (constraint evaluation, DEEP quotients) to call from inside their own loops; the small ones are
  ``inline="always"`` wrappers of the LLVM intrinsics in ``llvm_ops``;
* ``ext_add`` / ``ext_mul`` / ... on arrays: numba kernels (on all threads for large arrays)
  behind a numpy API, plus ``ext_linear_combination`` / ``ext_matvec`` for batching columns;
* ``Ext``, the pure-Python scalar class from ``zkpor.field.pure`` (re-exported here), for verifiers
  and challenges. Scalars given to the array functions may be ``Ext``, an int (a base element),
  a ``(c0, c1)`` pair or a shape-``(2,)`` array.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field import llvm_ops as ops
from zkpor.field import scalar as fs
from zkpor.field.jit import njit
from zkpor.field.parallel import parallel_ranges
from zkpor.field.pure import Ext
from zkpor.field.pure import W as W_INT

__all__ = [
    "Ext",
    "W",
    "as_ext",
    "ext_add",
    "ext_add_scalar",
    "ext_array",
    "ext_batch_inv",
    "ext_from_base",
    "ext_inv",
    "ext_inv_scalar",
    "ext_linear_combination",
    "ext_matvec",
    "ext_mul",
    "ext_mul_base",
    "ext_mul_base_scalar",
    "ext_mul_scalar",
    "ext_neg",
    "ext_neg_scalar",
    "ext_pow",
    "ext_pow_scalar",
    "ext_powers",
    "ext_square_scalar",
    "ext_sub",
    "ext_sub_scalar",
    "ext_sum",
    "ext_to_list",
    "random_ext_elements",
]

W = np.uint64(W_INT)
_GRAIN = 1 << 14  # extension elements a thread must get before another one is woken

# ---------------------------------------------------------------------------------------------
# numba scalar helpers: (c0, c1) pairs of canonical np.uint64 in, a pair out. Thin wrappers over
# the LLVM intrinsics in ``llvm_ops`` (cheap to inline, callable from the interpreter for tests).
# ---------------------------------------------------------------------------------------------


@njit(inline="always", cache=True)
def ext_add_scalar(a0, a1, b0, b1):
    return ops.ext_add(a0, a1, b0, b1)


@njit(inline="always", cache=True)
def ext_sub_scalar(a0, a1, b0, b1):
    return ops.ext_sub(a0, a1, b0, b1)


@njit(inline="always", cache=True)
def ext_neg_scalar(a0, a1):
    return ops.neg(a0), ops.neg(a1)


@njit(inline="always", cache=True)
def ext_mul_scalar(a0, a1, b0, b1):
    """(a0 + a1 x)(b0 + b1 x) = a0 b0 + 7 a1 b1 + (a0 b1 + a1 b0) x, by Karatsuba."""
    return ops.ext_mul(a0, a1, b0, b1)


@njit(inline="always", cache=True)
def ext_square_scalar(a0, a1):
    return ops.ext_square(a0, a1)


@njit(inline="always", cache=True)
def ext_mul_base_scalar(a0, a1, b):
    return ops.mul(a0, b), ops.mul(a1, b)


@njit(cache=True)
def ext_inv_scalar(a0, a1):
    """(a0 - a1 x) / (a0^2 - 7 a1^2). The norm is zero only for zero (7 is a non-residue); the
    inverse of zero comes out as zero, as with ``scalar.inverse``: callers check where it matters."""
    norm = ops.sub(ops.square(a0), ops.mul(ops.square(a1), W))
    n_inv = fs.inverse(norm)
    return ops.mul(a0, n_inv), ops.neg(ops.mul(a1, n_inv))


@njit(cache=True)
def ext_pow_scalar(a0, a1, e_lo, e_hi):
    """(a0 + a1 x)^e for e = e_hi·2^64 + e_lo (the group order P^2 - 1 needs 128 bits)."""
    r0 = fs.ONE
    r1 = fs.ZERO
    b0 = a0
    b1 = a1
    for word in (e_lo, e_hi):
        for _ in range(64):
            if word & fs.ONE:
                r0, r1 = ops.ext_mul(r0, r1, b0, b1)
            b0, b1 = ops.ext_square(b0, b1)
            word >>= fs.ONE
    return r0, r1


# ---------------------------------------------------------------------------------------------
# array kernels on (m, 2) C-contiguous arrays, over a range [lo, hi) of rows (see
# ``zkpor.field.parallel``); the second operand has m rows or 1 (broadcast). One kernel for all
# operations, selected by a code, to keep cold-cache compilation short.
# ---------------------------------------------------------------------------------------------

_OP_ADD = 0
_OP_SUB = 1
_OP_MUL = 2
_OP_MUL_BASE = 3  # b[:, 0] is a base element
_OP_CONJ_MUL_BASE = 4  # conjugate(a)·b[:, 0], the last step of inversion
_OP_NORM = 5  # (norm(a), 0)
_OP_POW = 6  # exponent b[0, 0] + 2^64·b[0, 1]


@njit(cache=True, nogil=True)
def _ext_kernel(lo, hi, op, a, b, out):
    # Flat 1-D views, c0 at 2i and c1 at 2i + 1, loops from 0: with 2-D indexing (x[i, 0]) or
    # loops over range(lo, hi) LLVM does not vectorise, and an ext_mul takes 9.5 ns instead of
    # 3.8 ns (measured).
    x = a[lo:hi].reshape(-1)
    o = out[lo:hi].reshape(-1)
    m = hi - lo
    if op == _OP_POW:
        e_lo = b[0, 0]
        e_hi = b[0, 1]
        for i in range(m):
            o[2 * i], o[2 * i + 1] = ext_pow_scalar(x[2 * i], x[2 * i + 1], e_lo, e_hi)
    elif op == _OP_NORM:
        for i in range(m):
            c0, c1 = x[2 * i], x[2 * i + 1]
            o[2 * i] = ops.sub(ops.mul_vec(c0, c0), ops.mul_vec(ops.mul_vec(c1, c1), W))
            o[2 * i + 1] = 0
    elif b.shape[0] == 1:  # a scalar operand
        s0 = b[0, 0]
        s1 = b[0, 1]
        if op == _OP_ADD:
            for i in range(m):
                o[2 * i], o[2 * i + 1] = ops.ext_add(x[2 * i], x[2 * i + 1], s0, s1)
        elif op == _OP_SUB:
            for i in range(m):
                o[2 * i], o[2 * i + 1] = ops.ext_sub(x[2 * i], x[2 * i + 1], s0, s1)
        elif op == _OP_MUL:
            h = ops.ext_halves(s0, s1)
            for i in range(m):
                o[2 * i], o[2 * i + 1] = ops.ext_mul_halves(x[2 * i], x[2 * i + 1], h)
        elif op == _OP_MUL_BASE:
            s_lo, s_hi = ops.halves(s0)
            for i in range(m):
                o[2 * i] = ops.mul_split(x[2 * i], s_lo, s_hi)
                o[2 * i + 1] = ops.mul_split(x[2 * i + 1], s_lo, s_hi)
        else:  # _OP_CONJ_MUL_BASE
            s_lo, s_hi = ops.halves(s0)
            for i in range(m):
                o[2 * i] = ops.mul_split(x[2 * i], s_lo, s_hi)
                o[2 * i + 1] = ops.neg(ops.mul_split(x[2 * i + 1], s_lo, s_hi))
    else:
        y = b[lo:hi].reshape(-1)
        if op == _OP_ADD:
            for i in range(m):
                o[2 * i], o[2 * i + 1] = ops.ext_add(x[2 * i], x[2 * i + 1], y[2 * i], y[2 * i + 1])
        elif op == _OP_SUB:
            for i in range(m):
                o[2 * i], o[2 * i + 1] = ops.ext_sub(x[2 * i], x[2 * i + 1], y[2 * i], y[2 * i + 1])
        elif op == _OP_MUL:
            for i in range(m):
                o[2 * i], o[2 * i + 1] = ops.ext_mul_vec(x[2 * i], x[2 * i + 1], y[2 * i], y[2 * i + 1])
        elif op == _OP_MUL_BASE:
            for i in range(m):
                o[2 * i] = ops.mul_vec(x[2 * i], y[2 * i])
                o[2 * i + 1] = ops.mul_vec(x[2 * i + 1], y[2 * i])
        else:  # _OP_CONJ_MUL_BASE
            for i in range(m):
                o[2 * i] = ops.mul_vec(x[2 * i], y[2 * i])
                o[2 * i + 1] = ops.neg(ops.mul_vec(x[2 * i + 1], y[2 * i]))


_LINCOMB_BLOCK = 512  # output columns per pass: the accumulators stay in L1


@njit(inline="always", cache=True)
def add_product(lo, hi, x, c_lo, c_hi):
    """(lo, hi) + x·c mod p as a 128-bit sum, c given as `ops.halves` (for other kernels' sums of
    products by loop constants too; `ops.reduce128` gives the sum)."""
    v = ops.mul_split(x, c_lo, c_hi)
    lo += v
    if lo < v:
        hi += fs.ONE
    return lo, hi


@njit(inline="always", cache=True)
def add_four_rows(lo_sum, hi_sum, r0, r1, r2, r3, c0, c1, c2, c3, width) -> None:
    """(lo_sum, hi_sum)[j] += c0·r0[j] + c1·r1[j] + c2·r2[j] + c3·r3[j] for j < width, as 128-bit
    sums: four rows per pass keep the sums in registers (0.72 -> 0.44 ns per product, against one
    row per pass, measured)."""
    l0, h0 = ops.halves(c0)
    l1, h1 = ops.halves(c1)
    l2, h2 = ops.halves(c2)
    l3, h3 = ops.halves(c3)
    for j in range(width):
        s, h = add_product(lo_sum[j], hi_sum[j], r0[j], l0, h0)
        s, h = add_product(s, h, r1[j], l1, h1)
        s, h = add_product(s, h, r2[j], l2, h2)
        lo_sum[j], hi_sum[j] = add_product(s, h, r3[j], l3, h3)


@njit(cache=True, nogil=True)
def _lincomb_kernel(lo, hi, m, coeffs, out):
    """out[t, j] = sum_k coeffs[t, k] · m[k, j] for lo <= j < hi and every coefficient set t (the
    coefficients in the extension).

    Reduced products are summed into 128-bit (lo, hi) accumulators, the high word counting
    carries, with one reduction per output instead of a modular addition per term, four rows of m
    per pass (`add_four_rows`). Rows whose coefficient is zero are skipped.
    """
    sets, k_rows = coeffs.shape[0], m.shape[0]
    acc = np.zeros((4, _LINCOMB_BLOCK), dtype=np.uint64)  # lo, hi of c0 then of c1
    used = np.empty(k_rows, dtype=np.int64)
    for start in range(lo, hi, _LINCOMB_BLOCK):
        width = min(_LINCOMB_BLOCK, hi - start)
        for t in range(sets):
            acc[:] = 0
            count = 0
            for k in range(k_rows):
                if coeffs[t, k, 0] != 0 or coeffs[t, k, 1] != 0:
                    used[count] = k
                    count += 1
            for c in range(2):
                a_lo, a_hi = acc[2 * c], acc[2 * c + 1]
                i = 0
                whole = count - count % 4
                while i < whole:
                    k0, k1, k2, k3 = used[i], used[i + 1], used[i + 2], used[i + 3]
                    r0 = m[k0, start : start + width]
                    r1 = m[k1, start : start + width]
                    r2 = m[k2, start : start + width]
                    r3 = m[k3, start : start + width]
                    c0, c1, c2, c3 = coeffs[t, k0, c], coeffs[t, k1, c], coeffs[t, k2, c], coeffs[t, k3, c]
                    add_four_rows(a_lo, a_hi, r0, r1, r2, r3, c0, c1, c2, c3, width)
                    i += 4
                for rest in range(whole, count):
                    l0, h0 = ops.halves(coeffs[t, used[rest], c])
                    r0 = m[used[rest], start : start + width]
                    for j in range(width):
                        a_lo[j], a_hi[j] = add_product(a_lo[j], a_hi[j], r0[j], l0, h0)
            for j in range(width):
                out[t, start + j, 0] = ops.reduce128(acc[0, j], acc[1, j])
                out[t, start + j, 1] = ops.reduce128(acc[2, j], acc[3, j])


@njit(cache=True, nogil=True)
def _matvec_kernel(lo, hi, m, rows, v0, v1, out):
    """out[r] = sum_i m[rows[r], i]·(v0[i] + v1[i]·x) for lo <= r < hi, i < len(v0) (v0, v1: the
    coordinates of an extension vector, split so that the loop reads contiguous memory and
    vectorises)."""
    for r in range(lo, hi):
        row = m[rows[r]]
        lo0 = fs.ZERO
        hi0 = fs.ZERO
        lo1 = fs.ZERO
        hi1 = fs.ZERO
        for i in range(v0.size):
            x = row[i]
            t = ops.mul_vec(x, v0[i])
            lo0 += t & fs.MASK32
            hi0 += t >> fs.SHIFT32
            t = ops.mul_vec(x, v1[i])
            lo1 += t & fs.MASK32
            hi1 += t >> fs.SHIFT32
        out[r, 0] = gl.fold_halves(lo0, hi0)
        out[r, 1] = gl.fold_halves(lo1, hi1)


@njit(cache=True, nogil=True)
def _ext_powers_kernel(z0, z1, out):
    """out[i] = z^i. The first 8 sequentially, then out[i] = out[i-8]·z^8: eight independent
    chains instead of one, so the products overlap instead of waiting on each other."""
    n = out.shape[0]
    c0 = fs.ONE
    c1 = fs.ZERO
    for i in range(min(n, 8)):
        out[i, 0] = c0
        out[i, 1] = c1
        c0, c1 = ops.ext_mul(c0, c1, z0, z1)
    # c = z^8 now
    for i in range(8, n):
        out[i, 0], out[i, 1] = ops.ext_mul(out[i - 8, 0], out[i - 8, 1], c0, c1)


@njit(cache=True, nogil=True)
def _sum_kernel(a):
    lo0 = fs.ZERO
    hi0 = fs.ZERO
    lo1 = fs.ZERO
    hi1 = fs.ZERO
    for i in range(a.shape[0]):
        v = a[i, 0]
        lo0 += v
        if lo0 < v:
            hi0 += fs.ONE
        v = a[i, 1]
        lo1 += v
        if lo1 < v:
            hi1 += fs.ONE
    return ops.reduce128(lo0, hi0), ops.reduce128(lo1, hi1)


# ---------------------------------------------------------------------------------------------
# numpy API
# ---------------------------------------------------------------------------------------------


def as_ext(value: Any) -> Ext:
    """An Ext from an Ext, an int (base element), a (c0, c1) pair or a shape-(2,) array."""
    if isinstance(value, Ext):
        return value
    if isinstance(value, int | np.integer):
        return Ext(int(value), 0)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return Ext(int(value), 0)
    return Ext.from_pair(value)


def _pairs(a: np.ndarray) -> np.ndarray:
    """``a`` (shape (..., 2), uint64) as a C-contiguous (m, 2) array."""
    if not isinstance(a, np.ndarray) or a.dtype != np.uint64:
        raise TypeError("expected a uint64 numpy array of shape (..., 2)")
    if a.ndim == 0 or a.shape[-1] != 2:
        raise ValueError(f"an extension array has last axis of length 2, got shape {a.shape}")
    return np.ascontiguousarray(a).reshape(-1, 2)


def _ext_operand(a: np.ndarray, b: Any) -> np.ndarray:
    """``b`` as (m, 2) rows matching ``a``, or as a single row to broadcast."""
    if isinstance(b, np.ndarray) and b.ndim >= 1:
        if b.shape == a.shape:
            return _pairs(b)
        if b.size != 2 or b.shape[-1] != 2:  # (2,), (1, 2), ...: one element, broadcast
            raise ValueError(f"shape mismatch: {a.shape} and {b.shape}")
        b = b.reshape(2)
    e = as_ext(b)
    return np.array([[e.c0, e.c1]], dtype=np.uint64)


def _run(op: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    fa = _pairs(a)
    out = np.empty_like(fa)
    _parallel_ext(op, fa, b, out)
    return out.reshape(a.shape)


def _parallel_ext(op: int, fa: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    # an exponentiation costs ~200 products, so far fewer elements already pay for a thread
    grain = _GRAIN // 128 if op == _OP_POW else _GRAIN
    parallel_ranges(_ext_kernel, fa.shape[0], op, fa, b, out, grain=grain)


def _base_operand(a_shape: tuple[int, ...], b: Any) -> np.ndarray:
    """A base array of shape a_shape[:-1] or a base scalar, as (m or 1, 2) rows [b, 0]."""
    if isinstance(b, np.ndarray) and b.ndim > 0 and (b.size != 1 or b.shape == a_shape[:-1]):
        if b.shape != a_shape[:-1]:
            raise ValueError(f"shape mismatch: ext {a_shape} and base {b.shape}")
        rows = np.zeros((b.size, 2), dtype=np.uint64)
        rows[:, 0] = gl._flat(b)
        return rows
    if isinstance(b, np.ndarray):
        b = b.reshape(())  # one element, broadcast
    if not isinstance(b, int | np.integer | np.ndarray):
        raise TypeError(f"expected a base array or an int, got {type(b).__name__}")
    return np.array([[int(b) % gl.P, 0]], dtype=np.uint64)


def ext_add(a: np.ndarray, b: Any) -> np.ndarray:
    """a + b; b an ext array of a's shape or an extension scalar."""
    return _run(_OP_ADD, a, _ext_operand(a, b))


def ext_sub(a: np.ndarray, b: Any) -> np.ndarray:
    """a - b; b an ext array of a's shape or an extension scalar."""
    return _run(_OP_SUB, a, _ext_operand(a, b))


def ext_mul(a: np.ndarray, b: Any) -> np.ndarray:
    """a · b; b an ext array of a's shape or an extension scalar."""
    return _run(_OP_MUL, a, _ext_operand(a, b))


def ext_neg(a: np.ndarray) -> np.ndarray:
    """-a; coordinatewise, so the base-field kernel does it."""
    return gl.neg(_pairs(a)).reshape(a.shape)


def ext_mul_base(a: Any, b: np.ndarray | int) -> np.ndarray:
    """Extension times base field, elementwise.

    ``a`` an ext array (..., 2) with ``b`` a base array of shape ``a.shape[:-1]`` or an int; or
    ``a`` an extension scalar (Ext, pair, or shape-(2,) array) with ``b`` a base array of any
    shape: the result has shape ``b.shape + (2,)`` (a challenge times a column).
    """
    a_is_scalar = not isinstance(a, np.ndarray) or (
        a.ndim == 1 and isinstance(b, np.ndarray) and b.ndim >= 1
    )
    if a_is_scalar:
        if not isinstance(b, np.ndarray):
            raise TypeError("ext_mul_base: an extension scalar needs a base array")
        e = as_ext(a)
        flat = gl._flat(b)
        out = np.empty((flat.size, 2), dtype=np.uint64)
        out[:, 0] = gl.mul(flat, e.c0)
        out[:, 1] = gl.mul(flat, e.c1)
        return out.reshape(b.shape + (2,))
    return _run(_OP_MUL_BASE, a, _base_operand(a.shape, b))


def ext_from_base(a: np.ndarray) -> np.ndarray:
    """Embed base elements: shape s -> s + (2,), c1 = 0."""
    gl._flat(a)  # dtype check
    out = np.zeros(a.shape + (2,), dtype=np.uint64)
    out[..., 0] = a
    return out


def ext_batch_inv(a: np.ndarray, *, allow_zero: bool = False) -> np.ndarray:
    """Elementwise inverse: one base-field batch inversion of the norms (~8 products each).

    ZeroDivisionError if any element is zero, unless ``allow_zero`` (then 0 maps to 0).
    """
    fa = _pairs(a)
    norms = np.empty_like(fa)
    _parallel_ext(_OP_NORM, fa, fa[:1], norms)
    try:
        norm_inv = gl.batch_inv(norms[:, 0], allow_zero=allow_zero)
    except ZeroDivisionError:
        raise ZeroDivisionError("ext_batch_inv: zero element(s) have no inverse") from None
    norms[:, 0] = norm_inv  # reuse the buffer as the [norm^-1, 0] operand
    out = np.empty_like(fa)
    _parallel_ext(_OP_CONJ_MUL_BASE, fa, norms, out)
    return out.reshape(a.shape)


def ext_inv(a: np.ndarray) -> np.ndarray:
    """Elementwise inverse; ZeroDivisionError if any element is zero."""
    return ext_batch_inv(a)


_EXT_ORDER = gl.P * gl.P - 1  # order of the multiplicative group of the extension


def ext_pow(a: np.ndarray, e: int) -> np.ndarray:
    """a^e elementwise, for any Python int e (negative: inverse first, ZeroDivisionError on 0)."""
    e = int(e)
    if e < 0:
        a = ext_inv(a)
        e = -e
    if e > 0:
        e = (e - 1) % _EXT_ORDER + 1  # x^order = 1 for x != 0; staying >= 1 keeps 0^e = 0
    exponent = np.array([[e & (2**64 - 1), e >> 64]], dtype=np.uint64)
    return _run(_OP_POW, a, exponent)


def ext_sum(a: np.ndarray) -> Ext:
    """The sum of all elements of an ext array."""
    c0, c1 = _sum_kernel(_pairs(a))
    return Ext(int(c0), int(c1))


def ext_linear_combination(m: np.ndarray, coeffs: Any) -> np.ndarray:
    """sum_k coeffs[k] · m[k] for a base matrix m of shape (k, n) and k extension coefficients
    (an ext array (k, 2) or a list of Ext); returns an ext array (n, 2).

    This is the batching step of DEEP/FRI and of the composition polynomial (random linear
    combination of many committed columns).
    """
    return ext_linear_combinations(m, [coeffs])[0]


def ext_linear_combinations(m: np.ndarray, coefficient_sets: Sequence[Any]) -> list[np.ndarray]:
    """`ext_linear_combination` of the same matrix with several coefficient sets, in one pass
    over m (DEEP combines every column at z and at zω)."""
    if not isinstance(m, np.ndarray) or m.dtype != np.uint64 or m.ndim != 2:
        raise TypeError("ext_linear_combination: m must be a 2-D uint64 array")
    sets = []
    for coeffs in coefficient_sets:
        c = _pairs(coeffs if isinstance(coeffs, np.ndarray) else ext_array(coeffs))
        if c.shape[0] != m.shape[0]:
            raise ValueError(f"{m.shape[0]} rows but {c.shape[0]} coefficients")
        sets.append(c)
    c = np.ascontiguousarray(np.stack(sets)) if sets else np.zeros((0, m.shape[0], 2), dtype=np.uint64)
    m = np.ascontiguousarray(m)
    out = np.zeros((len(sets), m.shape[1], 2), dtype=np.uint64)
    if m.shape[0] > 0 and sets:
        grain = max(1, _GRAIN // (m.shape[0] * len(sets)))
        parallel_ranges(_lincomb_kernel, m.shape[1], m, c, out, grain=grain)
    return list(out)


def ext_matvec(
    m: np.ndarray, v: Any, rows: Sequence[int] | None = None, *, leading: bool = False
) -> np.ndarray:
    """Base matrix (rows, n) times extension vector (n, 2): out[r] = sum_i m[r, i]·v[i], shape
    (rows, 2). (Evaluating many polynomials at one point, given the powers of the point.) With
    `rows`, only those rows of m, in that order: out[k] = sum_i m[rows[k], i]·v[i], without
    copying them out (fresh pages for a copy cost more than the products here). With `leading`,
    v may be shorter than m's rows, and only their first len(v) columns are read (in place)."""
    if not isinstance(m, np.ndarray) or m.dtype != np.uint64 or m.ndim != 2:
        raise TypeError("ext_matvec: m must be a 2-D uint64 array")
    picked = np.arange(m.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
    if picked.size and (picked.min() < 0 or picked.max() >= m.shape[0]):
        raise ValueError(f"ext_matvec: row indices must lie in [0, {m.shape[0]})")
    vv = _pairs(v if isinstance(v, np.ndarray) else ext_array(v))
    if vv.shape[0] > m.shape[1] or (vv.shape[0] < m.shape[1] and not leading):
        raise ValueError(f"ext_matvec: {m.shape[1]} columns but a vector of {vv.shape[0]}")
    if m.shape[1] >= 1 << 32:
        raise ValueError("sums of 2^32 or more terms are not supported")
    m = np.ascontiguousarray(m)
    v0 = np.ascontiguousarray(vv[:, 0])
    v1 = np.ascontiguousarray(vv[:, 1])
    out = np.zeros((picked.size, 2), dtype=np.uint64)
    grain = max(1, _GRAIN // max(1, m.shape[1]))
    parallel_ranges(_matvec_kernel, picked.size, m, picked, v0, v1, out, grain=grain)
    return out


def ext_powers(z: Any, n: int) -> np.ndarray:
    """[1, z, z^2, ..., z^(n-1)] as an ext array (n, 2)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    e = as_ext(z)
    out = np.empty((n, 2), dtype=np.uint64)
    if n:
        _ext_powers_kernel(np.uint64(e.c0), np.uint64(e.c1), out)
    return out


def ext_array(values: Iterable[Any]) -> np.ndarray:
    """An ext array (n, 2) from Ext values, ints or (c0, c1) pairs."""
    items = [as_ext(v) for v in values]
    out = np.empty((len(items), 2), dtype=np.uint64)
    for i, e in enumerate(items):
        out[i, 0] = e.c0
        out[i, 1] = e.c1
    return out


def ext_to_list(a: np.ndarray) -> list[Ext]:
    """The elements of an ext array, flattened, as Ext objects."""
    return [Ext(c0, c1) for c0, c1 in _pairs(a).tolist()]


def random_ext_elements(shape: int | tuple[int, ...], rng: np.random.Generator | None = None) -> np.ndarray:
    """Uniform extension elements of the given shape (+ a trailing 2); rng=None uses the OS CSPRNG."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return gl.random_elements(shape + (2,), rng)
