"""Number-theoretic transforms over power-of-two subgroups of the Goldilocks field, and the coset
low-degree extension (LDE) of many columns.

Conventions (the STARK relies on them):

* ``ω_n = root_of_unity(log2 n) = 7^((P-1)/n)``: the same subgroup generators as Plonky3
  (``ω_{2^32} = 0x185629dcda58878c``), so ``ω_{2n}^2 = ω_n``.
* Everything is in natural order: ``ntt(c)[i] = Σ_j c[j]·ω_n^(i·j)``; on a coset,
  ``evals[i] = f(shift·ω_N^i)``.
* 1-D arrays are one polynomial; 2-D arrays of shape ``(n_cols, n)`` are many, transformed along
  the last axis (the layout in which a column is contiguous and can be streamed).

How it is fast: an in-place iterative radix-2 transform whose butterflies run over contiguous
slices, so that LLVM vectorises the field products (AVX2/AVX-512 here); twiddles precomputed once
for every size, stored as 32-bit halves so that the products stay vector code
(``llvm_ops.mul_split``); the narrowest stages (half-width < 64) over transposed tiles, 64 lanes
per row (8x8 tiles and one radix-8 pass for short rows), fused with a cache-friendly tiled bit
reversal where there is one; the other stages that fit in 32 KiB done block by block while the
block is in L1; the wider ones two per pass over memory; threads over columns when there are
many, over the blocks and butterflies of each stage for one long column (``zkpor.field.parallel``).

The coset LDE does no bit reversal at all: the inverse transform (decimation in frequency) leaves
the coefficients in bit-reversed order, which is exactly the input order of the forward transform
(decimation in time); zero-padding them to the blown-up size then amounts to repeating each
coefficient ``blowup`` times, which also does the first ``log2(blowup)`` stages for free.
"""

from __future__ import annotations

import operator
import threading
from functools import lru_cache

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field import llvm_ops as ops
from zkpor.field.jit import njit
from zkpor.field.parallel import num_threads, parallel_ranges
from zkpor.field.pure import GENERATOR, TWO_ADICITY, fp_root_of_unity

__all__ = [
    "GENERATOR",
    "TWO_ADICITY",
    "coset_evaluate",
    "coset_intt",
    "coset_lde",
    "domain",
    "intt",
    "ntt",
    "root_of_unity",
]

P = gl.P
_U64 = np.uint64

# Stages whose butterflies stay within _BLOCK elements are done block by block, so a block is
# loaded into L1/L2 once for all of them (2^12 words = 32 KiB).
_BLOCK = 1 << 12
# A single column at least this long is transformed by all threads; shorter ones by one thread
# (a phase costs ~20 µs of thread wake-ups, and a transform has log2(n) - 10 phases or so).
_PARALLEL_MIN = 1 << 17
# Butterflies per parallel task in a stage whose butterflies span more than a block.
_TASK = 1 << 11


def root_of_unity(log_n: int) -> int:
    """The generator ω of the subgroup of order 2^log_n (0 <= log_n <= 32)."""
    return fp_root_of_unity(log_n)


def _log2(n: int) -> int:
    if n < 1 or n & (n - 1):
        raise ValueError(f"length must be a power of two, got {n}")
    log_n = n.bit_length() - 1
    if log_n > TWO_ADICITY:
        raise ValueError(f"length 2^{log_n} exceeds the two-adicity 2^{TWO_ADICITY} of the field")
    return log_n


def domain(log_n: int, shift: int = 1) -> np.ndarray:
    """[shift·ω^i for i < 2^log_n], natural order."""
    points = gl.powers(root_of_unity(log_n), 1 << log_n)
    shift = int(shift) % P
    return points if shift == 1 else gl.mul(points, shift)


# ---------------------------------------------------------------------------------------------
# precomputed tables
# ---------------------------------------------------------------------------------------------

# tw[:, h + j] = ω_{2h}^j for every power of two h and j < h (entry 0 unused), as its low and high
# 32-bit halves (tw[0] and tw[1]): the products by twiddles are ``ops.mul_split``, which LLVM
# keeps in vector registers (see there). The entries for a stage do not depend on the transform
# size, so one table serves every size up to its own.
_twiddle_lock = threading.Lock()
_twiddle_tables: dict[bool, np.ndarray] = {}


def _twiddles(log_n: int, inverse: bool) -> np.ndarray:
    """Read-only twiddle table (2, size) covering transforms of size up to 2^log_n (at least 8
    entries, which the radix-8 passes read)."""
    size = 1 << max(log_n, 3)
    with _twiddle_lock:
        table = _twiddle_tables.get(inverse)
        if table is None or table.shape[1] < size:
            table = _build_twiddles(size, inverse)
            _twiddle_tables[inverse] = table
    return table


def _build_twiddles(size: int, inverse: bool) -> np.ndarray:
    log_size = size.bit_length() - 1
    omega = root_of_unity(log_size)
    if inverse:
        omega = pow(omega, P - 2, P)
    table = np.zeros(size, dtype=_U64)
    half = size // 2
    table[half:] = gl.powers(omega, half)
    h = half // 2
    while h >= 1:
        table[h : 2 * h] = table[2 * h : 4 * h : 2]  # ω_{2h}^j = ω_{4h}^{2j}
        h //= 2
    return _halves(table)


def _halves(values: np.ndarray) -> np.ndarray:
    """A read-only (2, n) table of the low and high 32-bit halves of the values: the form in
    which the kernels multiply by a table (``ops.mul_split``)."""
    out = np.stack([values & _U64(0xFFFF_FFFF), values >> _U64(32)])
    out.flags.writeable = False
    return out


@njit(cache=True)
def _bitrev_kernel(log_n, out):
    out[0] = 0
    top = log_n - 1
    for i in range(1, out.size):
        out[i] = (out[i >> 1] >> 1) | ((i & 1) << top)


@lru_cache(maxsize=8)
def _bitrev(log_n: int) -> np.ndarray:
    """rev[i] = i with its log_n bits reversed."""
    out = np.zeros(1 << log_n, dtype=np.int64)
    if log_n > 0:
        _bitrev_kernel(log_n, out)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=16)
def _shift_powers_bitrev(log_n: int, shift: int, factor: int) -> np.ndarray:
    """[shift^rev(k)·factor for k < 2^log_n] as halves: the coset scaling of coefficients held in
    bit-reversed order, with the 1/n of an inverse transform (factor) folded in."""
    return _halves(gl.mul(gl.powers(shift, 1 << log_n)[_bitrev(log_n)], factor))


@lru_cache(maxsize=16)
def _shift_powers(log_n: int, shift: int) -> np.ndarray:
    """[shift^i for i < 2^log_n] as halves."""
    return _halves(gl.powers(shift, 1 << log_n))


# ---------------------------------------------------------------------------------------------
# butterflies and stages (in place on 1-D contiguous arrays)
#
# Plain (not inline) numba functions at the granularity of a stage or a block: numba compiles each
# once, and a call per stage costs nothing next to the stage. Inner loops run over contiguous
# slices, which is what lets LLVM vectorise them.
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _bfly_dit(x, y, w_lo, w_hi):
    """(x, y) <- (x + w·y, x - w·y) over equal-length slices (w as its 32-bit halves)."""
    for j in range(x.size):
        u = x[j]
        v = ops.mul_split(y[j], w_lo[j], w_hi[j])
        x[j] = ops.add(u, v)
        y[j] = ops.sub(u, v)


@njit(cache=True, nogil=True)
def _bfly_dif(x, y, w_lo, w_hi):
    """(x, y) <- (x + y, (x - y)·w)."""
    for j in range(x.size):
        u = x[j]
        v = y[j]
        x[j] = ops.add(u, v)
        y[j] = ops.mul_split(ops.sub(u, v), w_lo[j], w_hi[j])


@njit(cache=True, nogil=True)
def _bfly_dit2(a, b, c, d, tw, h, j):
    """The DIT stages h and 2h on the quarters (a, b, c, d) = elements (s + j + i, s + j + h + i,
    s + j + 2h + i, s + j + 3h + i) for i < a.size of a segment of 4h: (a, b) and (c, d) with
    ω_{2h}^(j+i), then (a, c) with ω_{4h}^(j+i) and (b, d) with ω_{4h}^(j+h+i).

    The same products as two radix-2 passes, in one pass over memory: the wide stages of a long
    row (4 MB and more) run at the speed of the cache misses, not of the arithmetic."""
    w1l = tw[0, h + j : h + j + a.size]
    w1h = tw[1, h + j : h + j + a.size]
    w2l = tw[0, 2 * h + j : 2 * h + j + a.size]
    w2h = tw[1, 2 * h + j : 2 * h + j + a.size]
    w3l = tw[0, 3 * h + j : 3 * h + j + a.size]
    w3h = tw[1, 3 * h + j : 3 * h + j + a.size]
    for i in range(a.size):
        v = ops.mul_split(b[i], w1l[i], w1h[i])
        a0, b0 = ops.add(a[i], v), ops.sub(a[i], v)
        v = ops.mul_split(d[i], w1l[i], w1h[i])
        c0, d0 = ops.add(c[i], v), ops.sub(c[i], v)
        v = ops.mul_split(c0, w2l[i], w2h[i])
        a[i], c[i] = ops.add(a0, v), ops.sub(a0, v)
        v = ops.mul_split(d0, w3l[i], w3h[i])
        b[i], d[i] = ops.add(b0, v), ops.sub(b0, v)


@njit(cache=True, nogil=True)
def _dit_stage(a, tw, h):
    """One DIT stage: butterflies (s + j, s + j + h) with twiddle ω_{2h}^j. (The loop of
    ``_bfly_dit`` written out: a call per segment would cost as much as 8 butterflies.)"""
    w_lo = tw[0, h : 2 * h]
    w_hi = tw[1, h : 2 * h]
    for s in range(0, a.size, 2 * h):
        x = a[s : s + h]
        y = a[s + h : s + 2 * h]
        for j in range(h):
            u = x[j]
            v = ops.mul_split(y[j], w_lo[j], w_hi[j])
            x[j] = ops.add(u, v)
            y[j] = ops.sub(u, v)


@njit(cache=True, nogil=True)
def _dif_stage(a, tw, h):
    w_lo = tw[0, h : 2 * h]
    w_hi = tw[1, h : 2 * h]
    for s in range(0, a.size, 2 * h):
        x = a[s : s + h]
        y = a[s + h : s + 2 * h]
        for j in range(h):
            u = x[j]
            v = y[j]
            x[j] = ops.add(u, v)
            y[j] = ops.mul_split(ops.sub(u, v), w_lo[j], w_hi[j])


# -- the three narrowest stages, as radix-8 passes over 8x8 tiles ----------------------------
#
# Stages of half-width 1, 2 and 4 do not vectorise as they are (their inner loops are 1 to 4
# long). Instead, 8 groups of 8 consecutive elements are loaded transposed into a tile t, where
# t[k] holds element k of each of the 8 groups; the radix-8 butterflies then combine whole rows
# of the tile, 8 lanes at a time, and the trivial twiddles (1) cost no product: 5 products per 8
# elements instead of 12. Measured: 1.4 ms against 2.6 ms (scalar) per 2^20 elements.


@njit(cache=True, nogil=True)
def _r8_dit_tile(t, tw):
    """DIT stages h = 1, 2, 4 on each column of the 8x8 tile t (t[k, g]: element k of group g)."""
    w4l, w4h = tw[0, 3], tw[1, 3]  # ω_4
    w81l, w81h = tw[0, 5], tw[1, 5]  # ω_8
    w83l, w83h = tw[0, 7], tw[1, 7]  # ω_8^3
    x0, x1, x2, x3, x4, x5, x6, x7 = t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]
    for g in range(8):
        a0, a1, a2, a3, a4, a5, a6, a7 = x0[g], x1[g], x2[g], x3[g], x4[g], x5[g], x6[g], x7[g]
        # h = 1
        a0, a1 = ops.add(a0, a1), ops.sub(a0, a1)
        a2, a3 = ops.add(a2, a3), ops.sub(a2, a3)
        a4, a5 = ops.add(a4, a5), ops.sub(a4, a5)
        a6, a7 = ops.add(a6, a7), ops.sub(a6, a7)
        # h = 2: twiddles 1, ω_4
        a0, a2 = ops.add(a0, a2), ops.sub(a0, a2)
        m = ops.mul_split(a3, w4l, w4h)
        a1, a3 = ops.add(a1, m), ops.sub(a1, m)
        a4, a6 = ops.add(a4, a6), ops.sub(a4, a6)
        m = ops.mul_split(a7, w4l, w4h)
        a5, a7 = ops.add(a5, m), ops.sub(a5, m)
        # h = 4: twiddles 1, ω_8, ω_4 (= ω_8^2), ω_8^3
        x0[g], x4[g] = ops.add(a0, a4), ops.sub(a0, a4)
        m = ops.mul_split(a5, w81l, w81h)
        x1[g], x5[g] = ops.add(a1, m), ops.sub(a1, m)
        m = ops.mul_split(a6, w4l, w4h)
        x2[g], x6[g] = ops.add(a2, m), ops.sub(a2, m)
        m = ops.mul_split(a7, w83l, w83h)
        x3[g], x7[g] = ops.add(a3, m), ops.sub(a3, m)


@njit(cache=True, nogil=True)
def _r8_dif_tile(t, tw):
    """DIF stages h = 4, 2, 1 on each column of the tile (the mirror image of ``_r8_dit_tile``)."""
    w4l, w4h = tw[0, 3], tw[1, 3]  # ω_4
    w81l, w81h = tw[0, 5], tw[1, 5]  # ω_8
    w83l, w83h = tw[0, 7], tw[1, 7]  # ω_8^3
    x0, x1, x2, x3, x4, x5, x6, x7 = t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]
    for g in range(8):
        a0, a1, a2, a3, a4, a5, a6, a7 = x0[g], x1[g], x2[g], x3[g], x4[g], x5[g], x6[g], x7[g]
        # h = 4
        a0, a4 = ops.add(a0, a4), ops.sub(a0, a4)
        a1, a5 = ops.add(a1, a5), ops.mul_split(ops.sub(a1, a5), w81l, w81h)
        a2, a6 = ops.add(a2, a6), ops.mul_split(ops.sub(a2, a6), w4l, w4h)
        a3, a7 = ops.add(a3, a7), ops.mul_split(ops.sub(a3, a7), w83l, w83h)
        # h = 2
        a0, a2 = ops.add(a0, a2), ops.sub(a0, a2)
        a1, a3 = ops.add(a1, a3), ops.mul_split(ops.sub(a1, a3), w4l, w4h)
        a4, a6 = ops.add(a4, a6), ops.sub(a4, a6)
        a5, a7 = ops.add(a5, a7), ops.mul_split(ops.sub(a5, a7), w4l, w4h)
        # h = 1
        x0[g], x1[g] = ops.add(a0, a1), ops.sub(a0, a1)
        x2[g], x3[g] = ops.add(a2, a3), ops.sub(a2, a3)
        x4[g], x5[g] = ops.add(a4, a5), ops.sub(a4, a5)
        x6[g], x7[g] = ops.add(a6, a7), ops.sub(a6, a7)


@njit(cache=True, nogil=True)
def _radix8(a, tw, dif):
    """The three narrowest stages in place: DIT h = 1, 2, 4, or DIF h = 4, 2, 1 (a.size >= 8)."""
    t = np.empty((8, 8), dtype=np.uint64)
    n = a.size
    groups = min(8, n // 8)  # below 64 elements: a partial tile
    for s in range(0, n, 8 * groups):
        block = a[s : s + 8 * groups]
        for g in range(groups):
            for k in range(8):
                t[k, g] = block[8 * g + k]
        if dif:
            _r8_dif_tile(t, tw)
        else:
            _r8_dit_tile(t, tw)
        for g in range(groups):
            for k in range(8):
                block[8 * g + k] = t[k, g]


_REV3 = np.array([0, 4, 2, 6, 1, 5, 3, 7], dtype=np.int64)  # 3-bit reversal
_TILES = 64  # tiles of 64 elements per task of _bitrev_tiles


@njit(cache=True, nogil=True)
def _bitrev_tiles(lo, hi, src, dst, log_n, rev_mid, factor, tw, butterflies):
    """dst = bitrev(src)·factor (factor: halves, (2, 1)) for tiles lo..hi-1 (log_n >= 6), followed
    by the DIT stages h = 1, 2, 4 if ``butterflies``.

    Write an index as (a, b, c): a its top 3 bits, c its low 3, b the log_n - 6 between; its
    reversal is (rev c, rev b, rev a). Tile b holds the 64 elements with middle bits b: it is
    read as 8 runs of 8 consecutive elements (fixed a) and written as 8 runs (fixed c), so every
    cache line is used whole, unlike an element-by-element permutation (5.7 ms per 2^20
    elements, against 2.3 ms, measured). In dst, the run for c is one radix-8 group, whose
    element k is the src element (rev k, b, c), i.e. tile row rev(k), lane c: so the butterflies
    work on the tile's rows, as in ``_radix8``.
    """
    stride = 1 << (log_n - 3)
    t = np.empty((8, 8), dtype=np.uint64)
    # (plain indexing here: 16 slices per tile cost more than the copying itself)
    for b in range(lo, hi):
        for a in range(8):
            k = _REV3[a]
            base = a * stride + 8 * b
            if factor[0, 0] == 1 and factor[1, 0] == 0:
                for c in range(8):
                    t[k, c] = src[base + c]
            else:
                for c in range(8):
                    t[k, c] = ops.mul_split(src[base + c], factor[0, 0], factor[1, 0])
        if butterflies:
            _r8_dit_tile(t, tw)
        out_base = 8 * rev_mid[b]
        for c in range(8):
            base = _REV3[c] * stride + out_base
            for k in range(8):
                dst[base + k] = t[k, c]


# -- the narrow stages of a block on a transposed 64x64 tile ---------------------------------
#
# Stages of half-width h < 64 have inner loops of h butterflies, too short to vectorise well in
# place (h = 4 cost 3.6 times a wide stage, measured). On a tile t[k, c] = block[64·c + k], such a
# stage pairs whole tile rows (k, k + h) with one twiddle per pair, 64 lanes at a time; the
# transposition in and out (in L1) costs about one stage.


@njit(cache=True, nogil=True)
def _tile_stages(t, tw, h0, dif):
    """On the rows of the 64x64 tile t: the DIT stages h0, 2·h0, ..., 32, or the DIF stages
    32, 16, ..., 1. (LLVM takes the test of ``dif`` out of the inner loop.)"""
    h = 32 if dif else h0
    while 1 <= h < 64:
        for base in range(0, 64, 2 * h):
            # j = 0: the twiddle is 1 (all of stage 1, half of stage 2, ...): no product
            x = t[base]
            y = t[base + h]
            for c in range(64):
                u = x[c]
                v = y[c]
                x[c] = ops.add(u, v)
                y[c] = ops.sub(u, v)
            for j in range(1, h):
                w_lo = tw[0, h + j]
                w_hi = tw[1, h + j]
                x = t[base + j]
                y = t[base + j + h]
                for c in range(64):
                    u = x[c]
                    v = y[c]
                    if dif:  # (x, y) <- (x + y, (x - y)·w)
                        x[c] = ops.add(u, v)
                        y[c] = ops.mul_split(ops.sub(u, v), w_lo, w_hi)
                    else:  # (x, y) <- (x + w·y, x - w·y)
                        v = ops.mul_split(v, w_lo, w_hi)
                        x[c] = ops.add(u, v)
                        y[c] = ops.sub(u, v)
        h = h // 2 if dif else 2 * h


@njit(cache=True, nogil=True)
def _block_tiled(block, tw, h0, dif):
    """The stages of half-width < 64 of a _BLOCK-element block, through a transposed tile: DIT
    from h0, or all DIF ones (h = 32 .. 1)."""
    t = np.empty((64, 64), dtype=np.uint64)
    for c in range(64):
        run = block[64 * c : 64 * c + 64]
        for k in range(64):
            t[k, c] = run[k]
    _tile_stages(t, tw, h0, dif)
    for c in range(64):
        run = block[64 * c : 64 * c + 64]
        for k in range(64):
            run[k] = t[k, c]


_REV6 = np.array([int(f"{i:06b}"[::-1], 2) for i in range(64)], dtype=np.int64)  # 6-bit reversal


@njit(cache=True, nogil=True)
def _bitrev_tiles64(lo, hi, src, dst, log_n, rev_mid, factor, tw, stages):
    """``_bitrev_tiles`` with 64x64 tiles (log_n >= 12), followed by the DIT stages h = 1..32 if
    ``stages``.

    Same decomposition with 6-bit a and c. Runs of 64 elements (512 bytes) instead of 8 matter
    for long rows: at 2^24 elements, the 8-element runs of the 8x8 tiles touch a new page every
    few elements and the permutation took 0.5 s, nearly all of it TLB misses. And the first six
    DIT stages of the 64 groups of a tile (one per lane c) combine whole tile rows, 64 lanes at
    a time, with one twiddle per pair of rows.
    """
    stride = 1 << (log_n - 6)
    t = np.empty((64, 64), dtype=np.uint64)  # 32 KiB: stays in L1
    for b in range(lo, hi):
        for a in range(64):
            run = src[a * stride + 64 * b : a * stride + 64 * b + 64]
            row = t[_REV6[a]]
            if factor[0, 0] == 1 and factor[1, 0] == 0:
                for c in range(64):
                    row[c] = run[c]
            else:
                for c in range(64):
                    row[c] = ops.mul_split(run[c], factor[0, 0], factor[1, 0])
        if stages:
            _tile_stages(t, tw, 1, False)
        out_base = 64 * rev_mid[b]
        for c in range(64):
            start = _REV6[c] * stride + out_base
            run = dst[start : start + 64]
            for k in range(64):
                run[k] = t[k, c]


@njit(cache=True, nogil=True)
def _dit_small_stages(block, tw, h0):
    """DIT stages h0, 2·h0, ... < block.size, all inside one block (which stays in cache)."""
    n = block.size
    h = h0
    if h <= 4 and n == _BLOCK:  # through a tile (for h0 = 8, in place is as fast: measured)
        _block_tiled(block, tw, h0, False)
        h = 64
    elif h == 1 and n >= 8:
        _radix8(block, tw, False)
        h = 8
    while h < n:
        _dit_stage(block, tw, h)
        h *= 2


@njit(cache=True, nogil=True)
def _dif_small_stages(block, tw):
    """All DIF stages h = block.size/2, ..., 1 inside one block."""
    n = block.size
    h = n // 2
    stop = 32 if n == _BLOCK else 4 if n >= 8 else 0
    while h > stop:
        _dif_stage(block, tw, h)
        h //= 2
    if n == _BLOCK:
        _block_tiled(block, tw, 1, True)
    elif n >= 8:
        _radix8(block, tw, True)


@njit(cache=True, nogil=True)
def _gather(src, dst, rev, factor):
    """dst[i] = src[rev[i]] · factor: the plain bit-reversal permutation, for short rows."""
    for i in range(dst.size):
        dst[i] = ops.mul_split(src[rev[i]], factor[0, 0], factor[1, 0])


@njit(cache=True, nogil=True)
def _scale(a, post_lo, post_hi):
    for i in range(a.size):
        a[i] = ops.mul_split(a[i], post_lo[i], post_hi[i])


@njit(cache=True, nogil=True)
def _expand(coeffs_rev, dst, spow_rev, blowup, lo, hi):
    """dst[k·blowup + t] = coeffs_rev[k] · spow_rev[k] for t < blowup, lo <= k < hi (spow_rev as
    halves).

    coeffs_rev holds the n coefficients in bit-reversed order. Zero-padding them to n·blowup and
    bit-reversing at the larger size puts coefficient rev_n(k) at k·blowup with zeros between,
    and the first log2(blowup) DIT stages turn each such group into blowup copies of its first
    element: so this replaces both the padding and those stages.
    """
    # views and loops from 0: twice as fast as indexing dst[k·blowup + t] with k from lo
    c = coeffs_rev[lo:hi]
    s_lo = spow_rev[0, lo:hi]
    s_hi = spow_rev[1, lo:hi]
    out = dst[lo * blowup : hi * blowup]
    # A blowup known to LLVM lets it vectorise the copies: 2.8 -> 0.75 µs per 4,096 outputs at
    # blowup 4 (the prover's), 5.2 -> 0.9 at 2 (measured; 8 gains nothing).
    if blowup == 4:
        _expand_run(c, s_lo, s_hi, out, 4)
    elif blowup == 2:
        _expand_run(c, s_lo, s_hi, out, 2)
    else:
        _expand_run(c, s_lo, s_hi, out, blowup)


@njit(inline="always", cache=True)
def _expand_run(c, s_lo, s_hi, out, blowup):
    for k in range(c.size):
        v = ops.mul_split(c[k], s_lo[k], s_hi[k])
        for t in range(blowup):
            out[k * blowup + t] = v


@njit(cache=True, nogil=True)
def _add_high(dst, high, high_rev, high_spow, tw, n, blowup, lo, hi):
    """Add the coefficients above the n that ``_expand`` expanded into groups lo..hi-1.

    Coefficient n + j (j < high.size <= n) belongs to the same group of the first log2(blowup)
    DIT stages as coefficient j, the group at bit-reversed position rev_n(j): after those stages
    the group holds c_j·s^j + c_{n+j}·s^(n+j)·ω_blowup^i (i < blowup) where ``_expand`` wrote only
    the first term. For j < 2^a (the size of high_rev), rev_n(j) = rev_a(j)·n/2^a: so the groups
    to visit are every (n/2^a)-th, and group q·n/2^a gets coefficient n + rev_a(q) (high_rev[q])
    if there is one. A degree bound a little above a power of two n costs blowup products per
    extra coefficient, not a transform of twice the length."""
    if high.size == 0:
        return
    stride = n // high_rev.size
    half = blowup // 2  # ω_blowup^(i + half) = −ω_blowup^i
    for k in range(-(-lo // stride) * stride, hi, stride):
        j = high_rev[k // stride]
        if j < high.size:
            d = ops.mul_split(high[j], high_spow[0, j], high_spow[1, j])
            group = dst[k * blowup : (k + 1) * blowup]
            for i in range(half):
                v = ops.mul_split(d, tw[0, half + i], tw[1, half + i])
                group[i] = ops.add(group[i], v)
                group[half + i] = ops.sub(group[half + i], v)


# ---------------------------------------------------------------------------------------------
# plans: every transform is a list of phases, each a number of independent tasks
#
# A plan row is (kind, param, number of tasks). With many rows (or short ones), each thread takes
# whole rows and runs all their phases (``_run_rows``); with few long rows, the rows go one after
# another and the threads share the tasks of each phase, with a barrier between phases
# (``_run_tasks``). Either way every transform goes through the same two small kernels, so all of
# them compile once.
# ---------------------------------------------------------------------------------------------

_MODE_NTT = 0  # dst = DIT(bitrev(src)·factor) [·post]     (ntt, intt, coset_intt)
_MODE_LDE = 1  # src evaluations -> DIF -> expand -> DIT   (coset_lde)
_MODE_EVAL = 2  # src coefficients -> bitrev -> expand -> DIT (coset_evaluate)

# task kinds; "block" is _BLOCK elements, or the whole row if shorter
_K_GATHER = 1  # tiles of bitrev(src)·factor: into dst (param 0), followed by the first DIT
#                stages (see _row_phases); or into scratch (param 1)
_K_COPY = 2  # block t of src into scratch
_K_DIF_WIDE = 3  # task t of the DIF stage of half-width param (a block or more) on scratch
_K_DIF_BLOCKS = 4  # block t of scratch: all its DIF stages
_K_EXPAND = 5  # coefficients [t·param, (t+1)·param) of scratch expanded into dst
_K_DIT_BLOCKS = 6  # block t of dst: its DIT stages from half-width param
_K_EXPAND_DIT_BLOCKS = 7  # the _K_EXPAND of block t, then its _K_DIT_BLOCKS (param: blowup)
_K_DIT_WIDE = 8  # task t of the DIT stage of half-width param (a block or more) on dst
_K_POST = 9  # block t of dst times post
_K_DIT_WIDE2 = 10  # task t of the DIT stages of half-width param and 2·param together


def _row_phases(mode: int, n: int, big: int, has_post: bool) -> list[tuple[int, int, int]]:
    """The phases that transform one row of length n into a row of length big."""
    blowup = big // n
    block_src = min(n, _BLOCK)
    block_dst = min(big, _BLOCK)
    phases = []
    # 1. the bit-reversed input of the DIT: the permuted row, or the expanded coefficients
    if n >= 1 << 12:  # tiles of 64x64, one per task; the first 6 DIT stages come with them
        gather_tasks, gather_stages = n >> 12, 64
    elif n >= 64:  # tiles of 8x8, _TILES per task; the first 3 DIT stages come with them
        gather_tasks, gather_stages = -(-n // (64 * _TILES)), 8
    else:
        gather_tasks, gather_stages = 1, 1
    if mode == _MODE_NTT:
        phases.append((_K_GATHER, 0, gather_tasks))
        h0 = gather_stages
    else:
        if mode == _MODE_EVAL:
            phases.append((_K_GATHER, 1, gather_tasks))
        else:  # the DIF of the evaluations gives the coefficients, bit-reversed (and times n)
            phases.append((_K_COPY, 0, n // block_src))
            h = n // 2
            while h >= block_src and h > 0:
                phases.append((_K_DIF_WIDE, h, n // (2 * min(h, _TASK))))
                h //= 2
            phases.append((_K_DIF_BLOCKS, 0, n // block_src))
        h0 = blowup
        if h0 >= block_dst:  # a huge blowup: no stages inside blocks
            chunk = max(1, _BLOCK // blowup)
            phases.append((_K_EXPAND, chunk, -(-n // chunk)))
    # 2. the DIT: the stages inside blocks, then the wide ones
    if h0 < block_dst:
        kind = _K_DIT_BLOCKS if mode == _MODE_NTT else _K_EXPAND_DIT_BLOCKS
        phases.append((kind, h0, big // block_dst))
    h = max(h0, block_dst)
    while h < big:
        if 2 * h < big:
            phases.append((_K_DIT_WIDE2, h, big // (4 * min(h, _TASK))))
            h *= 4
        else:
            phases.append((_K_DIT_WIDE, h, big // (2 * min(h, _TASK))))
            h *= 2
    # 3. the coset correction of coset_intt
    if has_post:
        phases.append((_K_POST, 0, big // block_dst))
    return phases


@njit(cache=True, nogil=True)
def _run_task(kind, param, t, src, high, dst, scratch, tables):
    """Task t of a phase, on one row: src (length n), dst (length big), scratch (length n); high:
    coefficients n, n + 1, ... of a coefficient row (``_add_high``), empty but in _MODE_EVAL;
    tables: see ``_run``."""
    rev, tw_inv, tw_fwd, factor, post, spow_rev, high_rev, high_spow = tables
    n = src.size
    big = dst.size
    if kind == _K_DIT_WIDE or kind == _K_DIF_WIDE:
        # butterflies (s, s + h) .. (s + width - 1, s + h + width - 1) of the stage of width h
        h = param
        width = min(h, _TASK)
        per_segment = h // width
        j = (t % per_segment) * width
        s = (t // per_segment) * 2 * h + j
        lo = h + j
        hi = lo + width
        if kind == _K_DIT_WIDE:
            _bfly_dit(dst[s : s + width], dst[s + h : s + h + width], tw_fwd[0, lo:hi], tw_fwd[1, lo:hi])
        else:
            x = scratch[s : s + width]
            _bfly_dif(x, scratch[s + h : s + h + width], tw_inv[0, lo:hi], tw_inv[1, lo:hi])
    elif kind == _K_DIT_WIDE2:
        h = param
        width = min(h, _TASK)
        per_segment = h // width
        j = (t % per_segment) * width
        s = (t // per_segment) * 4 * h + j
        a = dst[s : s + width]
        b = dst[s + h : s + h + width]
        c = dst[s + 2 * h : s + 2 * h + width]
        d = dst[s + 3 * h : s + 3 * h + width]
        _bfly_dit2(a, b, c, d, tw_fwd, h, j)
    elif kind == _K_EXPAND:
        lo, hi = t * param, min(n, (t + 1) * param)
        _expand(scratch, dst, spow_rev, big // n, lo, hi)
        _add_high(dst, high, high_rev, high_spow, tw_fwd, n, big // n, lo, hi)
    elif kind == _K_GATHER:
        # rev: the reversal table of the middle bits (log_n - 12 of them from 2^12 elements on,
        # log_n - 6 from 64), or of all bits below 64
        target = dst if param == 0 else scratch
        log_n = 0
        while (1 << log_n) < n:
            log_n += 1
        if log_n >= 12:
            _bitrev_tiles64(t, t + 1, src, target, log_n, rev, factor, tw_fwd, param == 0)
        elif log_n >= 6:
            first = t * _TILES
            last = min(n // 64, first + _TILES)
            _bitrev_tiles(first, last, src, target, log_n, rev, factor, tw_fwd, param == 0)
        else:
            _gather(src, target, rev, factor)
    elif kind == _K_COPY:
        block = min(n, _BLOCK)
        lo = t * block
        part = src[lo : lo + block]
        into = scratch[lo : lo + block]
        for i in range(block):
            into[i] = part[i]
    elif kind == _K_DIF_BLOCKS:
        block = min(n, _BLOCK)
        _dif_small_stages(scratch[t * block : (t + 1) * block], tw_inv)
    else:
        block = min(big, _BLOCK)
        lo = t * block
        hi = lo + block
        if kind == _K_DIT_BLOCKS:
            _dit_small_stages(dst[lo:hi], tw_fwd, param)
        elif kind == _K_EXPAND_DIT_BLOCKS:
            per_block = block // param  # coefficients per block
            _expand(scratch, dst, spow_rev, param, t * per_block, (t + 1) * per_block)
            _add_high(dst, high, high_rev, high_spow, tw_fwd, n, param, t * per_block, (t + 1) * per_block)
            _dit_small_stages(dst[lo:hi], tw_fwd, param)
        else:  # _K_POST
            _scale(dst[lo:hi], post[0, lo:hi], post[1, lo:hi])


@njit(cache=True, nogil=True)
def _run_tasks(lo, hi, kind, param, src, high, dst, scratch, tables):
    """Tasks lo..hi-1 of one phase on one row."""
    for t in range(lo, hi):
        _run_task(kind, param, t, src, high, dst, scratch, tables)


@njit(cache=True, nogil=True)
def _run_rows(lo, hi, plan, n, src, dst, dst_step, scratch_size, tables):
    """Rows lo..hi-1, each with all the phases of the plan, on the calling thread: the first n
    entries of src[r] (and the coefficients after them of ``_add_high``) go to dst[r·dst_step]
    (see ``_target_rows``)."""
    high_count = tables[7].shape[1]
    scratch = np.empty(scratch_size, dtype=np.uint64)
    for r in range(lo, hi):
        src_row = src[r][:n]
        high = src[r][n : n + high_count]
        dst_row = dst[r * dst_step]
        for p in range(plan.shape[0]):
            for t in range(plan[p, 2]):
                _run_task(plan[p, 0], plan[p, 1], t, src_row, high, dst_row, scratch, tables)


_EMPTY = _halves(np.zeros(0, dtype=_U64))  # no table (the same numba type as one)
_NO_POSITIONS = np.zeros(0, dtype=np.int64)


def _as_rows(a: np.ndarray, axis: int, name: str) -> tuple[np.ndarray, bool]:
    """A C-contiguous (rows, n) uint64 array with the transform axis last; and whether the input
    was 1-D. Only 1-D and 2-D inputs are accepted."""
    if not isinstance(a, np.ndarray) or a.dtype != np.uint64:
        raise TypeError(f"{name}: expected a uint64 numpy array")
    if a.ndim == 1:
        rows, one_d = a.reshape(1, -1), True
    elif a.ndim == 2:
        if axis not in (0, 1, -1, -2):
            raise ValueError(f"{name}: axis {axis} out of range for a 2-D array")
        rows, one_d = (a.T if axis in (0, -2) else a), False
    else:
        raise ValueError(f"{name}: expected a 1-D or 2-D array, got shape {a.shape}")
    rows = np.ascontiguousarray(rows)
    if not rows.flags.writeable:
        # a read-only input would be a new type for numba, and a new compilation of the kernel
        rows = rows.copy()
    return rows, one_d


def _per_row(rows: int, big: int) -> bool:
    """Threads over rows (each transformed by one thread), or threads inside each row?"""
    if big < _PARALLEL_MIN:
        return True
    threads = num_threads()
    # whole rows per thread balance well when there are many, or when they divide evenly
    return rows >= 4 * threads or rows % threads == 0


def _target_rows(out: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    """``out`` (rows, m) with contiguous rows `step` rows of m apart (e.g. the first m columns of a
    wider matrix) as a C-contiguous matrix of rows of m whose row r·step is out[r], and step: the
    form in which the kernels write it without a copy."""
    n_rows, m = out.shape
    row_stride = out.strides[0] // out.itemsize if n_rows > 1 else m
    if (
        out.dtype != _U64
        or not out.flags.writeable
        or (m > 1 and out.strides[1] != out.itemsize)
        or out.strides[0] % out.itemsize
        or row_stride % m
        or row_stride <= 0
    ):
        raise ValueError(f"{name}: out must be writeable uint64 with contiguous rows a multiple of {m} apart")
    step = row_stride // m
    if step == 1 and out.flags.c_contiguous:
        return out, 1
    view = np.lib.stride_tricks.as_strided(out, shape=((n_rows - 1) * step + 1, m), strides=(8 * m, 8))
    return view, step


def _run(
    mode: int,
    rows: np.ndarray,
    big: int,
    tw_inv,
    tw_fwd,
    factor: int,
    post,
    spow_rev,
    out=None,
    n: int | None = None,
    high_rev: np.ndarray = _NO_POSITIONS,
    high_spow=_EMPTY,
) -> np.ndarray:
    """Transform the first n (default: all) entries of each row, in _MODE_EVAL plus the
    high_spow.shape[1] after them (``_add_high``)."""
    n_rows = rows.shape[0]
    n = rows.shape[1] if n is None else n
    if out is None:
        out = np.empty((n_rows, big), dtype=_U64)
    if n_rows == 0:
        return out
    target, step = _target_rows(out, "transform")
    phases = _row_phases(mode, n, big, post.size > 0)
    scratch_size = 0 if mode == _MODE_NTT else n
    log_n = n.bit_length() - 1
    rev = _bitrev(log_n - 12 if log_n >= 12 else log_n - 6 if log_n >= 6 else log_n)  # see _K_GATHER
    # the kernels' read-only tables, in the order in which ``_run_task`` unpacks them
    tables = (
        rev,
        tw_inv,
        tw_fwd,
        _halves(np.array([factor], dtype=_U64)),
        post,
        spow_rev,
        high_rev,
        high_spow,
    )
    if _per_row(n_rows, big):
        plan = np.array(phases, dtype=np.int64)
        # rows of at least _PARALLEL_MIN words: one per thread; smaller ones: a thread must get
        # enough of them to be worth waking
        grain = max(1, _PARALLEL_MIN // big)
        parallel_ranges(_run_rows, n_rows, plan, n, rows, target, step, scratch_size, tables, grain=grain)
        return out
    scratch = np.empty(scratch_size, dtype=_U64)
    high_end = n + high_spow.shape[1]
    for r in range(n_rows):
        low, high = rows[r, :n], rows[r, n:high_end]
        for kind, param, count in phases:
            parallel_ranges(_run_tasks, count, kind, param, low, high, target[r * step], scratch, tables)
    return out


def _transform(
    a: np.ndarray, axis: int, inverse: bool, shift: int, name: str, out: np.ndarray | None = None
) -> np.ndarray:
    rows, one_d = _as_rows(a, axis, name)
    wrong_out = one_d or axis not in (1, -1) or not isinstance(out, np.ndarray) or out.shape != rows.shape
    if out is not None and wrong_out:
        raise ValueError(f"{name}: out must be a 2-D array of the input's shape {rows.shape} (last axis)")
    n = rows.shape[1]
    log_n = _log2(n)
    shift = int(shift) % P
    if shift == 0:
        raise ValueError(f"{name}: the coset shift must be non-zero")
    tw = _twiddles(log_n, inverse)
    factor = pow(n, P - 2, P) if inverse else 1  # the 1/n of the inverse DFT
    # evaluations on a coset give the coefficients times shift^i: undo that after the transform
    post = _shift_powers(log_n, pow(shift, P - 2, P)) if shift != 1 else _EMPTY
    out = _run(_MODE_NTT, rows, n, tw, tw, factor, post, _EMPTY, out)
    if one_d:
        return out.reshape(-1)
    return np.ascontiguousarray(out.T) if axis in (0, -2) else out


def ntt(coeffs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Evaluations on ⟨ω_n⟩ in natural order: out[i] = Σ_j coeffs[j]·ω_n^(i·j)."""
    return _transform(coeffs, axis, inverse=False, shift=1, name="ntt")


def intt(evals: np.ndarray, axis: int = -1, out: np.ndarray | None = None) -> np.ndarray:
    """Coefficients from evaluations on ⟨ω_n⟩ (natural order): the inverse of ``ntt``. With `out`
    (2-D input, last axis), written there instead of a new array: `out` may be a view with
    contiguous rows spaced by a multiple of n, e.g. the first n columns of an (rows, 2n) matrix."""
    return _transform(evals, axis, inverse=True, shift=1, name="intt", out=out)


def coset_intt(evals: np.ndarray, shift: int = GENERATOR, axis: int = -1) -> np.ndarray:
    """Coefficients from evaluations on the coset shift·⟨ω_n⟩ (natural order)."""
    return _transform(evals, axis, inverse=True, shift=shift, name="coset_intt")


@lru_cache(maxsize=16)
def _high_tables(log_n: int, count: int, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """For coefficients n + j (j < count) of a row transformed from its first n = 2^log_n
    (``_add_high``): the a-bit reversal table, 2^a the power of two >= count, and the coset factors
    shift^(n + j) as halves."""
    return _bitrev((count - 1).bit_length()), _halves(
        gl.mul(gl.powers(shift, count), pow(shift, 1 << log_n, P))
    )


def _lde(
    src: np.ndarray, blowup: int, shift: int, mode: int, name: str, out=None, degree_bound: int | None = None
) -> np.ndarray:
    rows, one_d = _as_rows(src, -1, name)
    blowup = operator.index(blowup)  # ints and numpy integers; not floats
    if blowup < 1 or blowup & (blowup - 1):
        raise ValueError(f"{name}: blowup must be a power of two, got {blowup}")
    shift = int(shift) % P
    if shift == 0:
        raise ValueError(f"{name}: the coset shift must be non-zero")
    width = rows.shape[1]
    _log2(width)
    big = width * blowup
    log_big = _log2(big)
    if out is not None and (
        not isinstance(out, np.ndarray)
        or out.dtype != _U64
        or out.shape != (rows.shape[0], big)
        or not out.flags.c_contiguous
        or not out.flags.writeable
        or one_d
    ):
        shape = (rows.shape[0], big)
        raise ValueError(f"{name}: out must be a writeable C-contiguous uint64 array of shape {shape}")
    # the transform's length n: the row, or the power of two below the degree bound (the
    # coefficients above it added after the expansion: _add_high)
    n, high_rev, high_spow = width, _NO_POSITIONS, _EMPTY
    if degree_bound is not None:
        degree_bound = operator.index(degree_bound)
        if not 1 <= degree_bound <= width:
            raise ValueError(f"{name}: degree bound {degree_bound} outside 1..{width}")
        n = 1 << (degree_bound.bit_length() - 1)
        if degree_bound > n:
            high_rev, high_spow = _high_tables(n.bit_length() - 1, degree_bound - n, shift)
    log_n = n.bit_length() - 1
    out = _run(
        mode,
        rows,
        big,
        _twiddles(log_n, inverse=True),
        _twiddles(log_big, inverse=False),
        1,
        _EMPTY,
        # with the 1/n of the inverse DFT
        _shift_powers_bitrev(log_n, shift, pow(n, P - 2, P) if mode == _MODE_LDE else 1),
        out,
        n,
        high_rev,
        high_spow,
    )
    return out.reshape(-1) if one_d else out


def coset_lde(evals: np.ndarray, blowup: int, shift: int = GENERATOR) -> np.ndarray:
    """Low-degree extension: columns given as evaluations on ⟨ω_n⟩ (shape (n_cols, n) or (n,)),
    returned as evaluations of the same polynomials on the coset shift·⟨ω_{n·blowup}⟩, natural
    order, shape (n_cols, n·blowup) (or (n·blowup,))."""
    return _lde(evals, blowup, shift, _MODE_LDE, "coset_lde")


def coset_evaluate(
    coeffs: np.ndarray,
    blowup: int,
    shift: int = GENERATOR,
    out: np.ndarray | None = None,
    degree_bound: int | None = None,
) -> np.ndarray:
    """Evaluations of polynomials given by n coefficients (shape (n_cols, n) or (n,)) on the coset
    shift·⟨ω_{n·blowup}⟩, natural order; written into `out` (2-D input only) when given.

    With `degree_bound` the coefficients from that degree on are taken as zero and not read, and
    a bound D is transformed from the m = 2^⌊log2 D⌋ lowest coefficients, the D − m above them
    added to the groups of the first stages: for a zero-knowledge column (D = n + r, r ≪ n) a
    transform of n·blowup points from n coefficients instead of one from 2n."""
    return _lde(coeffs, blowup, shift, _MODE_EVAL, "coset_evaluate", out, degree_bound)
