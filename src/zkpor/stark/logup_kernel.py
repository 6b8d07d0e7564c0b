"""LogUp's plain pair and group constraints on many LDE points at once, fused into one numba kernel.

Most helpers of a range-checking AIR sum two plain lookups a, b (multiplicity 1, one trace
column each): with the pole distances d_t = β − φ_t = c_t − w_t·v_t (c_t, w_t extension constants
from β, γ and the tuple's integer entries, v_t the column), the helper's constraint is

    h · d_a · d_b − d_a − d_b.

An AIR of degree 7 packs up to six plain lookups into a helper (`logup.groups`): its constraint
h·Π_t d_t − Σ_t Π_{u≠t} d_u is built term by term from P = Π d and S = Σ Π_{u≠t} d_u,
(P, S) ← (P·d, S·d + P), two extension products a term.

`logup.evaluate` through the generic vector code costs ~10 vector passes per pair, each a numpy
call streaming its operands through memory. This kernel computes the same expressions on tiles of
rows held in cache and folds them straight into Σ_g α_g · c_g (as the Poseidon2 gadget's kernel
does), so neither the distances nor the constraint vectors exist. It is an optimisation of the
prover only: the verifier evaluates the generic code at one point, and the tests compare the
two on random rows.
"""

from __future__ import annotations

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field import llvm_ops as f
from zkpor.field.extension import add_product
from zkpor.field.jit import njit
from zkpor.field.parallel import parallel_ranges

_TILE = 512  # rows per tile: the accumulators stay in L1


# A group's scratch in one flat array (rows at constant offsets, so LLVM vectorises without alias
# checks): the product Π d_t and the sum Σ_t Π_{u≠t} d_u of the terms so far, each (c0, c1).
_P0, _P1, _S0, _S1 = 0, _TILE, 2 * _TILE, 3 * _TILE


@njit(cache=True, nogil=True, inline="always")
def _weight_halves(w):
    """A term's weight w = (w0, w1) as the `halves` of w0 and w1, for `_plain_distance` (before a
    loop)."""
    w0_lo, w0_hi = f.halves(w[0])
    w1_lo, w1_hi = f.halves(w[1])
    return w0_lo, w0_hi, w1_lo, w1_hi


@njit(cache=True, nogil=True, inline="always")
def _plain_distance(x, c0, c1, h):
    """d = c − w·x, c = c0 + c1·x, w given as `_weight_halves` h."""
    return f.sub(c0, f.mul_split(x, h[0], h[1])), f.sub(c1, f.mul_split(x, h[2], h[3]))


@njit(cache=True, nogil=True)
def _first_pair(scratch, m, va, vb, ca, cb, wa, wb) -> None:
    """scratch = (d_a·d_b, d_a + d_b) on m rows, d_t = c_t − w_t·v_t."""
    ha, hb = _weight_halves(wa), _weight_halves(wb)
    ca0, ca1, cb0, cb1 = ca[0], ca[1], cb[0], cb[1]
    for r in range(m):
        da0, da1 = _plain_distance(va[r], ca0, ca1, ha)
        db0, db1 = _plain_distance(vb[r], cb0, cb1, hb)
        scratch[_P0 + r], scratch[_P1 + r] = f.ext_mul_vec(da0, da1, db0, db1)
        scratch[_S0 + r] = f.add(da0, db0)
        scratch[_S1 + r] = f.add(da1, db1)


@njit(cache=True, nogil=True)
def _next_term(scratch, m, v, c, w) -> None:
    """One more term d = c − w·v: (P, S) ← (P·d, S·d + P)."""
    h, c0, c1 = _weight_halves(w), c[0], c[1]
    for r in range(m):
        d0, d1 = _plain_distance(v[r], c0, c1, h)
        p0, p1 = scratch[_P0 + r], scratch[_P1 + r]
        s0, s1 = f.ext_mul_vec(scratch[_S0 + r], scratch[_S1 + r], d0, d1)
        scratch[_S0 + r] = f.add(s0, p0)
        scratch[_S1 + r] = f.add(s1, p1)
        scratch[_P0 + r], scratch[_P1 + r] = f.ext_mul_vec(p0, p1, d0, d1)


@njit(cache=True, nogil=True)
def _first_term(scratch, m, v, c, w) -> None:
    """scratch = (d, 1) for a lone first term d = c − w·v (multiplicity 1)."""
    h, c0, c1 = _weight_halves(w), c[0], c[1]
    for r in range(m):
        scratch[_P0 + r], scratch[_P1 + r] = _plain_distance(v[r], c0, c1, h)
        scratch[_S0 + r] = 1
        scratch[_S1 + r] = 0


@njit(cache=True, nogil=True)
def _first_computed(scratch, m, d0, d1, mu) -> None:
    """scratch = (d, μ) for a first term given by its distance d and multiplicity μ."""
    for r in range(m):
        scratch[_P0 + r] = d0[r]
        scratch[_P1 + r] = d1[r]
        scratch[_S0 + r] = mu[r]
        scratch[_S1 + r] = 0


@njit(cache=True, nogil=True)
def _next_computed(scratch, m, d0, d1, mu) -> None:
    """One more term given by its distance d and multiplicity μ: (P, S) ← (P·d, S·d + μ·P)."""
    for r in range(m):
        p0, p1, u = scratch[_P0 + r], scratch[_P1 + r], mu[r]
        s0, s1 = f.ext_mul_vec(scratch[_S0 + r], scratch[_S1 + r], d0[r], d1[r])
        scratch[_S0 + r] = f.add(s0, f.mul_vec(u, p0))
        scratch[_S1 + r] = f.add(s1, f.mul_vec(u, p1))
        scratch[_P0 + r], scratch[_P1 + r] = f.ext_mul_vec(p0, p1, d0[r], d1[r])


@njit(cache=True, nogil=True)
def _accumulate_group(acc, m, scratch, h0, h1, alpha) -> None:
    """acc += α · (h·P − S); alpha = (α0, α1, 7·α1)."""
    a0_lo, a0_hi = f.halves(alpha[0])
    a1_lo, a1_hi = f.halves(alpha[1])
    a7_lo, a7_hi = f.halves(alpha[2])
    lo0, hi0, lo1, hi1 = acc[0], acc[1], acc[2], acc[3]
    for r in range(m):
        p0, p1 = f.ext_mul_vec(h0[r], h1[r], scratch[_P0 + r], scratch[_P1 + r])
        c0 = f.sub(p0, scratch[_S0 + r])
        c1 = f.sub(p1, scratch[_S1 + r])
        s, t = add_product(lo0[r], hi0[r], c0, a0_lo, a0_hi)
        lo0[r], hi0[r] = add_product(s, t, c1, a7_lo, a7_hi)
        s, t = add_product(lo1[r], hi1[r], c1, a0_lo, a0_hi)
        lo1[r], hi1[r] = add_product(s, t, c0, a1_lo, a1_hi)


@njit(cache=True, nogil=True)
def _add_term(scratch, m, first, t, values, rows, at, constants, weights, kinds, computed, j) -> None:
    """Term t into the group's (P, S): the first one or one more; plain (kinds[t] < 0: row
    rows[t] of `values` from point `at`) or computed (rows 3k, 3k + 1, 3k + 2 of `computed`
    from point j: d's c0, c1 and μ, k = kinds[t])."""
    k = kinds[t]
    if k < 0:
        v = values[rows[t], at : at + m]
        if first:
            _first_term(scratch, m, v, constants[t], weights[t])
        else:
            _next_term(scratch, m, v, constants[t], weights[t])
        return
    d0, d1 = computed[3 * k, j : j + m], computed[3 * k + 1, j : j + m]
    mu = computed[3 * k + 2, j : j + m]
    if first:
        _first_computed(scratch, m, d0, d1, mu)
    else:
        _next_computed(scratch, m, d0, d1, mu)


@njit(cache=True, nogil=True)
def combined_range(lo, hi, values, rows, offset, helpers, helper_rows, helper_offset, starts, constants,
                   weights, kinds, computed, alphas, out) -> None:  # fmt: skip
    """out[j] = Σ_g α_g · (h_g·Π_t d_t − Σ_t μ_t·Π_{u≠t} d_u), t over group g's terms starts[g] …
    starts[g + 1] − 1, for lo <= j < hi, where a plain term (kinds[t] < 0) has μ_t = 1 and
    d_t = constants[t] − weights[t]·values[rows[t], offset + j], a computed one (k = kinds[t])
    d_t = computed[3k, j] + x·computed[3k + 1, j] and μ_t = computed[3k + 2, j], and h_g =
    helpers[helper_rows[g], helper_offset + j] + x·helpers[helper_rows[g] + 1, helper_offset + j].
    A plain pair is h·d_a·d_b − d_a − d_b."""
    acc = np.empty((4, _TILE), dtype=np.uint64)  # 128-bit sums: lo, hi of c0, then of c1
    scratch = np.empty(4 * _TILE, dtype=np.uint64)
    for t0 in range(lo, hi, _TILE):
        m = min(_TILE, hi - t0)
        acc[:] = 0
        first, h_first = offset + t0, helper_offset + t0
        for g in range(helper_rows.shape[0]):
            a, b, end = starts[g], starts[g] + 1, starts[g + 1]
            if end > b and kinds[a] < 0 and kinds[b] < 0:
                va = values[rows[a], first : first + m]
                vb = values[rows[b], first : first + m]
                _first_pair(scratch, m, va, vb, constants[a], constants[b], weights[a], weights[b])
                rest = b + 1
            else:
                _add_term(scratch, m, True, a, values, rows, first, constants, weights, kinds, computed, t0)
                rest = b
            for t in range(rest, end):
                _add_term(scratch, m, False, t, values, rows, first, constants, weights, kinds, computed, t0)
            h0 = helpers[helper_rows[g], h_first : h_first + m]
            h1 = helpers[helper_rows[g] + 1, h_first : h_first + m]
            _accumulate_group(acc, m, scratch, h0, h1, alphas[g])
        for r in range(m):
            out[t0 + r, 0] = f.reduce128(acc[0, r], acc[1, r])
            out[t0 + r, 1] = f.reduce128(acc[2, r], acc[3, r])


def combined_groups(
    values: np.ndarray,
    rows: np.ndarray,
    offset: int,
    helpers: np.ndarray,
    helper_rows: np.ndarray,
    helper_offset: int,
    length: int,
    starts: np.ndarray,
    constants: np.ndarray,
    weights: np.ndarray,
    alphas: np.ndarray,
    kinds: np.ndarray | None = None,
    computed: np.ndarray | None = None,
) -> np.ndarray:
    """Σ_g α_g · (group constraint g) on `length` points: group g sums the lookups starts[g] …
    starts[g + 1] − 1 (starts (G + 1,) from 0 to T). Term t is plain (kinds[t] < 0, or no
    `kinds`): its column is row rows[t] of the C-contiguous base matrix `values` from point
    `offset`, with constants[t] and weights[t] (T, 2); or computed, k = kinds[t]: rows 3k, 3k + 1
    and 3k + 2 of the C-contiguous `computed` (3K, length) are its distance's c0, c1 and its
    multiplicity. Helper g is rows helper_rows[g] (c0) and helper_rows[g] + 1 (c1) of the
    C-contiguous `helpers` from point `helper_offset` (the aux LDE, read in place); alphas (G, 2).
    Returns (length, 2)."""
    count, terms = helper_rows.shape[0], rows.shape[0]
    if count == 0:
        raise ValueError("no helpers")
    starts = np.asarray(starts, dtype=np.int64)
    if starts.shape != (count + 1,) or starts[0] != 0 or starts[-1] != terms or np.any(np.diff(starts) < 1):
        raise ValueError("each helper sums one term or more, in order")
    if constants.shape != (terms, 2) or weights.shape != (terms, 2):
        raise ValueError("one row, constant and weight per term")
    if alphas.shape != (count, 2):
        raise ValueError("one weight per helper")
    if kinds is None:
        kinds = np.full(terms, -1, dtype=np.int64)
    if computed is None:
        computed = np.zeros((0, length), dtype=np.uint64)
    if kinds.shape != (terms,) or computed.shape != (3 * int(max(kinds.max(), -1) + 1), length):
        raise ValueError("three computed rows (d's c0 and c1, μ) for each computed term, in order")
    plain = kinds < 0
    reads = ((values, offset, rows[plain]), (helpers, helper_offset, helper_rows + 1),
             (computed, 0, 3 * kinds[~plain] + 2))  # fmt: skip
    _check_reads(reads, length)
    weighted = np.empty((count, 3), dtype=np.uint64)
    weighted[:, :2] = alphas
    weighted[:, 2] = gl.mul(np.ascontiguousarray(alphas[:, 1]), np.uint64(7))
    out = np.empty((length, 2), dtype=np.uint64)
    parallel_ranges(
        combined_range, length, values, rows, offset, helpers, helper_rows, helper_offset, starts, constants,
        weights, kinds, computed, weighted, out, grain=_TILE,
    )  # fmt: skip
    return out


def _check_reads(reads, length: int) -> None:
    """Refuse a read the kernels would make outside its matrix: each (matrix, first point, rows
    read) must have the rows within a C-contiguous matrix and points [first, first + length) in it.
    A matrix nothing is read from (an AIR without preprocessed columns passes a stand-in) is not
    checked."""
    for matrix, first, picked in reads:
        if picked.size == 0:
            continue
        inside = 0 <= first and first + length <= matrix.shape[1] and matrix.flags.c_contiguous
        if not (inside and 0 <= picked.min() and picked.max() < len(matrix)):
            raise ValueError("the rows read must lie within a C-contiguous matrix")


# ---- helpers over linear fingerprints (a memory bus: address, value columns, multiplicity) ----
#
# A term whose fingerprint and multiplicity are linear in the prover's columns (the recursion AIR's
# memory bus: (MEM_BUS, address + offset, c0, c1) with a preprocessed address and multiplicity) has
# d_t = c_t + Σ_k w_tk·v_tk and m_t = e_t + u_t·y_t (c, w extension constants from β and γ; e, u
# base; v, y columns of the main, preprocessed or periodic rows). Each helper h_g sums one or two
# such terms; with them the running sum's constraint, as `logup.evaluate` writes them all:
#
#     h·d_a·d_b − m_a·d_b − m_b·d_a   (a pair),   h·d − m   (a single term),
#     r' − r − Σ_g h_g + s            (s = S/n, the bus's public end spread over the rows).

MAIN, PREPROCESSED, PERIODIC = 0, 1, 2  # where a column of a linear term lives


@njit(cache=True, nogil=True)
def _source_row(main, main_offset, fixed, fixed_offset, periodic, zeros, source, row, first, m):
    """A column's values on the tile's m rows; zeros for none (source −1)."""
    if source == MAIN:
        return main[row, main_offset + first : main_offset + first + m]
    if source == PREPROCESSED:
        return fixed[row, fixed_offset + first : fixed_offset + first + m]
    if source == PERIODIC:
        return periodic[row, first : first + m]
    return zeros[:m]


@njit(cache=True, nogil=True)
def _distance(d0, d1, v0, v1, v2, w, c0, c1, m) -> None:
    """d = c + Σ_k w_k·v_k on m rows, w the six halves of (w_k0, w_k1) for k < 3."""
    for r in range(m):
        x, y, z = v0[r], v1[r], v2[r]
        d0[r] = f.add(c0, f.add(f.add(f.mul_split(x, w[0], w[1]), f.mul_split(y, w[4], w[5])),
                                f.mul_split(z, w[8], w[9])))  # fmt: skip
        d1[r] = f.add(c1, f.add(f.add(f.mul_split(x, w[2], w[3]), f.mul_split(y, w[6], w[7])),
                                f.mul_split(z, w[10], w[11])))  # fmt: skip


@njit(cache=True, nogil=True)
def _multiplicity(out, y, u, e, m) -> None:
    """out = e + u·y on m rows."""
    u_lo, u_hi = f.halves(u)
    for r in range(m):
        out[r] = f.add(e, f.mul_split(y[r], u_lo, u_hi))


# A group's scratch rows: d_a (c0, c1), d_b, m_a, m_b, the helper (c0, c1); the sums: Σ α·constraint
# (c0, c1) and Σ h. One array in and one out in the constraint's loop: LLVM vectorises it only with
# few arrays to check for overlap (measured: 280 ns a row with each in its own array, ~30 so).
_DA, _DB, _MA, _MB, _H = 0, 2, 4, 5, 6


@njit(cache=True, nogil=True)
def _pair_constraint(sums, scratch, m, alpha) -> None:
    """sums += (α·((h·d_a − m_a)·d_b − m_b·d_a), h): h·d_a·d_b − m_a·d_b − m_b·d_a."""
    for r in range(m):
        h0, h1 = scratch[_H, r], scratch[_H + 1, r]
        da0, da1, mb = scratch[_DA, r], scratch[_DA + 1, r], scratch[_MB, r]
        p0, p1 = f.ext_mul_vec(h0, h1, da0, da1)
        p0, p1 = f.ext_mul_vec(f.sub(p0, scratch[_MA, r]), p1, scratch[_DB, r], scratch[_DB + 1, r])
        q0, q1 = f.ext_mul_halves(f.sub(p0, f.mul_vec(mb, da0)), f.sub(p1, f.mul_vec(mb, da1)), alpha)
        sums[0, r] = f.add(sums[0, r], q0)
        sums[1, r] = f.add(sums[1, r], q1)
        sums[2, r] = f.add(sums[2, r], h0)
        sums[3, r] = f.add(sums[3, r], h1)


@njit(cache=True, nogil=True)
def _single_constraint(sums, scratch, m, alpha) -> None:
    """sums += (α·(h·d − m), h)."""
    for r in range(m):
        h0, h1 = scratch[_H, r], scratch[_H + 1, r]
        p0, p1 = f.ext_mul_vec(h0, h1, scratch[_DA, r], scratch[_DA + 1, r])
        q0, q1 = f.ext_mul_halves(f.sub(p0, scratch[_MA, r]), p1, alpha)
        sums[0, r] = f.add(sums[0, r], q0)
        sums[1, r] = f.add(sums[1, r], q1)
        sums[2, r] = f.add(sums[2, r], h0)
        sums[3, r] = f.add(sums[3, r], h1)


@njit(cache=True, nogil=True)
def linear_range(lo, hi, main, main_offset, fixed, fixed_offset, periodic, sources, rows, weights,
                 constants, m_sources, m_rows, m_weights, m_constants, groups, helpers, helper_rows,
                 helper_offset, running, running_row, running_offset, following, following_row,
                 following_offset, alphas, shift, out) -> None:  # fmt: skip
    """out[j] for lo <= j < hi: Σ_g α_g·(helper g's constraint) + α_G·(the running sum's)."""
    sums = np.empty((4, _TILE), dtype=np.uint64)
    scratch = np.empty((_H + 2, _TILE), dtype=np.uint64)
    zeros = np.zeros(_TILE, dtype=np.uint64)
    count = groups.shape[0]
    halves = np.empty((sources.shape[0], 12), dtype=np.uint64)  # each term's weights as halves
    for t in range(sources.shape[0]):
        for k in range(3):
            for c in range(2):
                halves[t, 4 * k + 2 * c], halves[t, 4 * k + 2 * c + 1] = f.halves(weights[t, k, c])
    src = (main, main_offset, fixed, fixed_offset, periodic, zeros)
    for t0 in range(lo, hi, _TILE):
        m = min(_TILE, hi - t0)
        sums[:, :m] = 0
        for g in range(count):
            for j in range(2):
                t = groups[g, j]
                if t < 0:
                    continue
                v0 = _source_row(*src, sources[t, 0], rows[t, 0], t0, m)
                v1 = _source_row(*src, sources[t, 1], rows[t, 1], t0, m)
                v2 = _source_row(*src, sources[t, 2], rows[t, 2], t0, m)
                d = _DA if j == 0 else _DB
                c0, c1 = constants[t, 0], constants[t, 1]
                _distance(scratch[d], scratch[d + 1], v0, v1, v2, halves[t], c0, c1, m)
                y = _source_row(*src, m_sources[t], m_rows[t], t0, m)
                _multiplicity(scratch[_MA + j], y, m_weights[t], m_constants[t], m)
            h = helper_offset + t0
            for r in range(m):
                scratch[_H, r] = helpers[helper_rows[g], h + r]
                scratch[_H + 1, r] = helpers[helper_rows[g] + 1, h + r]
            alpha = f.ext_halves(alphas[g, 0], alphas[g, 1])
            if groups[g, 1] < 0:
                _single_constraint(sums, scratch, m, alpha)
            else:
                _pair_constraint(sums, scratch, m, alpha)
        alpha = f.ext_halves(alphas[count, 0], alphas[count, 1])
        s0, s1 = shift[0], shift[1]
        now, nxt = running_offset + t0, following_offset + t0
        for r in range(m):
            c0 = f.sub(following[following_row, nxt + r], running[running_row, now + r])
            c1 = f.sub(following[following_row + 1, nxt + r], running[running_row + 1, now + r])
            c0 = f.add(f.sub(c0, sums[2, r]), s0)
            c1 = f.add(f.sub(c1, sums[3, r]), s1)
            q0, q1 = f.ext_mul_halves(c0, c1, alpha)
            out[t0 + r, 0] = f.add(sums[0, r], q0)
            out[t0 + r, 1] = f.add(sums[1, r], q1)


def combined_linear(main, main_offset, fixed, fixed_offset, periodic, terms, groups, aux, length, alphas,
                    shift) -> np.ndarray:  # fmt: skip
    """Σ_g α_g · (helper g's constraint) + α_G · (the running sum's) on `length` points: the
    columns are rows of the C-contiguous base matrices main (from point main_offset), fixed (from
    fixed_offset) and periodic (from 0). `terms` = (sources, rows, weights, constants, m_sources,
    m_rows, m_weights, m_constants): per term t its fingerprint's three columns (sources[t, k] one
    of MAIN, PREPROCESSED, PERIODIC or −1 for none; rows[t, k]; weights (T, 3, 2)), constants (T, 2)
    and its multiplicity's column (m_sources[t] or −1, m_rows), weight and constant (base).
    groups (G, 2): the terms of each helper (second −1 for a single). `aux` = (helpers,
    helper_rows, helper_offset, running, running_row, running_offset, following, following_row,
    following_offset): helper g is rows helper_rows[g] (c0) and + 1 (c1) of `helpers`, the running
    sum and its next row likewise (the aux LDE, read in place). alphas (G + 1, 2); shift (2,).
    Returns (length, 2)."""
    sources = terms[0]
    if sources.shape[1] != 3:
        raise ValueError("three fingerprint columns a term (−1 for none)")
    if groups.shape[0] != aux[1].shape[0] or alphas.shape != (groups.shape[0] + 1, 2):
        raise ValueError("one helper per group, and one weight per helper and for the running sum")
    every = np.concatenate([sources.reshape(-1), terms[4]])  # the fingerprints' and multiplicities' columns
    every_row = np.concatenate([terms[1].reshape(-1), terms[5]])
    reads = [(matrix, first, every_row[every == source])
             for source, matrix, first in ((MAIN, main, main_offset), (PREPROCESSED, fixed, fixed_offset),
                                           (PERIODIC, periodic, 0))]  # fmt: skip
    reads += [(aux[0], aux[2], aux[1] + 1), (aux[3], aux[5], np.array([aux[4] + 1])),
              (aux[6], aux[8], np.array([aux[7] + 1]))]  # fmt: skip
    _check_reads(reads, length)
    out = np.empty((length, 2), dtype=np.uint64)
    parallel_ranges(
        linear_range, length, main, main_offset, fixed, fixed_offset, periodic, *terms, groups, *aux, alphas,
        shift, out, grain=_TILE,
    )  # fmt: skip
    return out
