"""Goldilocks scalar operations for numba kernels, emitted directly as LLVM IR (numba intrinsics).

They compute exactly what ``zkpor.field.scalar`` computes (the tests compare them), with the same
4 x 32-bit product formulation, which LLVM vectorises with AVX2/AVX-512 in elementwise loops. Why
a second copy: numba inlines ``inline="always"`` functions at the level of its own IR, and that is
slow to compile: a kernel with a few dozen field operations took minutes. An intrinsic is one IR
node for numba and a handful of instructions for LLVM, so kernels compile several times faster,
and run as fast.

Callable from numba code only (not from the interpreter). Arguments of any integer type are
converted to uint64 first; floats are refused at compile time (numba would otherwise promote
``uint64 op int64`` to float64 and lose precision).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = [
    "add",
    "canonical",
    "epsilon",
    "ext_add",
    "ext_halves",
    "ext_mul",
    "ext_mul_halves",
    "ext_mul_vec",
    "ext_square",
    "ext_sub",
    "halves",
    "mul",
    "mul_split",
    "mul_vec",
    "mul_wide",
    "neg",
    "reduce128",
    "square",
    "square_mul_split",
    "square_mul_split_lazy",
    "square_mul_vec",
    "sub",
]

_P = 0xFFFF_FFFF_0000_0001
_EPSILON = 0xFFFF_FFFF  # 2^64 mod P
_W = 7  # the extension's x^2

_I64 = ir.IntType(64)
_U64 = types.uint64


def _const(value: int) -> ir.Constant:
    return ir.Constant(_I64, value)


# -- IR builders: each takes and returns i64 values holding canonical field elements ----------


def _ir_add(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    s = b.add(x, y)
    # a carry out of 2^64 is worth EPSILON; x + y - P < P then, so one correction each suffices
    s = b.select(b.icmp_unsigned("<", s, x), b.add(s, _const(_EPSILON)), s)
    return b.select(b.icmp_unsigned(">=", s, _const(_P)), b.sub(s, _const(_P)), s)


def _ir_sub(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    d = b.sub(x, y)
    return b.select(b.icmp_unsigned("<", x, y), b.add(d, _const(_P)), d)


def _ir_neg(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    return b.select(b.icmp_unsigned("==", x, _const(0)), x, b.sub(_const(_P), x))


def _ir_canonical(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    return b.select(b.icmp_unsigned(">=", x, _const(_P)), b.sub(x, _const(_P)), x)


def _ir_mul_wide(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> tuple[ir.Value, ir.Value]:
    """x·y as (lo, hi) from four 32x32 -> 64 products (vectorisable, unlike an i128 product)."""
    return _ir_mul_wide_halves(b, x, y, b.lshr(y, _const(32)))


def _ir_partial_products(b: ir.IRBuilder, x: ir.Value, y_lo: ir.Value, y_hi: ir.Value) -> tuple:
    """The four 32x32 -> 64 products of x's halves and y's (y_lo, y_hi < 2^32): ll, lh, hl, hh."""
    x_lo, x_hi = b.and_(x, _const(_EPSILON)), b.lshr(x, _const(32))
    return b.mul(x_lo, y_lo), b.mul(x_lo, y_hi), b.mul(x_hi, y_lo), b.mul(x_hi, y_hi)


def _ir_mul_wide_halves(
    b: ir.IRBuilder, x: ir.Value, y_lo: ir.Value, y_hi: ir.Value
) -> tuple[ir.Value, ir.Value]:
    """x·(y_hi·2^32 + y_lo) as (lo, hi), for y_lo, y_hi < 2^32 (only their low 32 bits are used)."""
    m32, s32 = _const(_EPSILON), _const(32)
    ll, lh, hl, hh = _ir_partial_products(b, x, b.and_(y_lo, m32), b.and_(y_hi, m32))
    mid = b.add(b.add(lh, b.lshr(ll, s32)), b.and_(hl, m32))  # < 2^64, no carry
    lo = b.or_(b.shl(mid, s32), b.and_(ll, m32))
    hi = b.add(b.add(hh, b.lshr(mid, s32)), b.lshr(hl, s32))
    return lo, hi


def _ir_mul_wide_vec(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> tuple[ir.Value, ir.Value]:
    """x·y as (lo, hi) from four 32x32 -> 64 products whose carries are taken as comparisons.

    The same product as `_ir_mul_wide`, in a shape LLVM's multiply-high idiom recognition
    (AggressiveInstCombine, LLVM >= 22) does not know: it turns `_ir_mul_wide`'s carry-free
    ladder back into one 64x64 -> 128-bit product, which in a vector loop becomes an extract, a
    scalar `mulx` and an insert per lane. This form stays four vector `vpmuludq`s."""
    s32 = _const(32)
    ll, lh, hl, hh = _ir_partial_products(b, x, b.and_(y, _const(_EPSILON)), b.lshr(y, s32))
    mid = b.add(lh, hl)  # the cross terms, 65 bits: carry 2^64 · 2^32 into hi
    mid_carry = b.zext(b.icmp_unsigned("<", mid, lh), _I64)
    lo = b.add(ll, b.shl(mid, s32))
    lo_carry = b.zext(b.icmp_unsigned("<", lo, ll), _I64)
    hi = b.add(b.add(hh, b.lshr(mid, s32)), b.add(b.shl(mid_carry, s32), lo_carry))
    return lo, hi


def _ir_square_wide_vec(b: ir.IRBuilder, x: ir.Value) -> tuple[ir.Value, ir.Value]:
    """x² as (lo, hi) from three 32x32 -> 64 products, x² = hh·2^64 + lh·2^33 + ll, summed with
    no carries (no comparisons) and not in a shape LLVM's multiply-high recognition knows, so it
    stays vector code (see `_ir_mul_wide_vec`)."""
    m32, s32 = _const(_EPSILON), _const(32)
    x_lo, x_hi = b.and_(x, m32), b.lshr(x, s32)
    ll, lh, hh = b.mul(x_lo, x_lo), b.mul(x_lo, x_hi), b.mul(x_hi, x_hi)
    mid = b.add(b.lshr(ll, s32), b.shl(b.and_(lh, m32), _const(1)))  # < 2^34
    lo = b.or_(b.shl(mid, s32), b.and_(ll, m32))
    hi = b.add(b.add(hh, b.shl(b.lshr(lh, s32), _const(1))), b.lshr(mid, s32))
    return lo, hi


def _ir_square_wide_low64(b: ir.IRBuilder, x: ir.Value) -> tuple[ir.Value, ir.Value]:
    """x² as (lo, hi): lo as one 64-bit product (a vector `vpmullq`), hi from three 32x32 -> 64
    products, x² = hh·2^64 + lh·2^33 + ll: hi = hh + (lh >> 31) + the carry out of the low word,
    ((ll >> 33) + (lh mod 2^31)) >> 31. No comparisons, two instructions fewer than
    `_ir_square_wide_vec` (a Poseidon2 S-box ~6 % faster, measured), and still not a shape
    LLVM's multiply-high recognition knows."""
    m32, s32 = _const(_EPSILON), _const(32)
    x_lo, x_hi = b.and_(x, m32), b.lshr(x, s32)
    ll, lh, hh = b.mul(x_lo, x_lo), b.mul(x_lo, x_hi), b.mul(x_hi, x_hi)
    carry = b.lshr(b.add(b.lshr(ll, _const(33)), b.and_(lh, _const(2**31 - 1))), _const(31))
    return b.mul(x, x), b.add(b.add(hh, b.lshr(lh, _const(31))), carry)


def _ir_reduce128_lazy(b: ir.IRBuilder, lo: ir.Value, hi: ir.Value, eps: ir.Value | None = None) -> ir.Value:
    """Some uint64 congruent to hi·2^64 + lo mod P (maybe >= P), using 2^64 = 2^32 - 1 and
    2^96 = -1 (mod P); any lo, hi. A product's input needs no more.

    `eps`: EPSILON as a value LLVM cannot see is a constant (`epsilon`), so that hi_lo·EPSILON
    stays one 32-bit product (a vector multiply) instead of LLVM's mask, shift and subtraction."""
    hi_hi = b.lshr(hi, _const(32))
    hi_lo = b.and_(hi, _const(_EPSILON))
    t0 = b.sub(lo, hi_hi)
    t0 = b.select(b.icmp_unsigned("<", lo, hi_hi), b.sub(t0, _const(_EPSILON)), t0)
    t1 = b.mul(hi_lo, _const(_EPSILON) if eps is None else b.and_(eps, _const(_EPSILON)))
    t2 = b.add(t0, t1)
    return b.select(b.icmp_unsigned("<", t2, t1), b.add(t2, _const(_EPSILON)), t2)


def _ir_reduce128(b: ir.IRBuilder, lo: ir.Value, hi: ir.Value, eps: ir.Value | None = None) -> ir.Value:
    """hi·2^64 + lo mod P, canonical; any lo, hi."""
    return _ir_canonical(b, _ir_reduce128_lazy(b, lo, hi, eps))


def _ir_mul(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    lo, hi = _ir_mul_wide(b, x, y)
    return _ir_reduce128(b, lo, hi)


def _ir_mul_vec(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return _ir_reduce128(b, *_ir_mul_wide_vec(b, x, y))


def _ir_mul_halves(b: ir.IRBuilder, x: ir.Value, y_lo: ir.Value, y_hi: ir.Value) -> ir.Value:
    return _ir_reduce128(b, *_ir_mul_wide_halves(b, x, y_lo, y_hi))


def _ir_square_mul_halves(b: ir.IRBuilder, x, y_lo, y_hi, eps, canonical: bool) -> ir.Value:
    """x²·y, canonical or lazily reduced: the square (`_ir_square_wide_low64`), left lazily
    reduced, then the product by y's halves (as `mul_split`); both reductions with `eps`
    (`epsilon()`)."""
    x2 = _ir_reduce128_lazy(b, *_ir_square_wide_low64(b, x), eps)
    wide = _ir_mul_wide_halves(b, x2, y_lo, y_hi)
    return _ir_reduce128(b, *wide, eps) if canonical else _ir_reduce128_lazy(b, *wide, eps)


def _ir_ext_mul(b: ir.IRBuilder, a0, a1, b0, b1, mul=_ir_mul) -> tuple[ir.Value, ir.Value]:
    # Karatsuba: 3 general products and one by 7 (whose high half is zero, so LLVM folds it to
    # two 32-bit products).
    v0 = mul(b, a0, b0)
    v1 = mul(b, a1, b1)
    c0 = _ir_add(b, v0, mul(b, v1, _const(_W)))
    cross = mul(b, _ir_add(b, a0, a1), _ir_add(b, b0, b1))
    c1 = _ir_sub(b, _ir_sub(b, cross, v0), v1)
    return c0, c1


def _ir_ext_mul_halves(b: ir.IRBuilder, a0, a1, *h) -> tuple[ir.Value, ir.Value]:
    """Karatsuba with b given as `ext_halves`: (b0, b1, b0 + b1) as (lo, hi) halves each."""
    v0 = _ir_mul_halves(b, a0, h[0], h[1])
    v1 = _ir_mul_halves(b, a1, h[2], h[3])
    c0 = _ir_add(b, v0, _ir_mul_vec(b, v1, _const(_W)))
    cross = _ir_mul_halves(b, _ir_add(b, a0, a1), h[4], h[5])
    c1 = _ir_sub(b, _ir_sub(b, cross, v0), v1)
    return c0, c1


def _ir_opaque(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """x, through an empty inline-assembly statement: LLVM cannot see where the value came from."""
    return b.asm(ir.FunctionType(_I64, [_I64]), "", "=r,0", [x], side_effect=False)


def _ir_halves(b: ir.IRBuilder, x: ir.Value) -> tuple[ir.Value, ir.Value]:
    return _ir_opaque(b, b.and_(x, _const(_EPSILON))), _ir_opaque(b, b.lshr(x, _const(32)))


def _ir_ext_square(b: ir.IRBuilder, a0, a1) -> tuple[ir.Value, ir.Value]:
    t = _ir_mul(b, a0, a1)
    c0 = _ir_add(b, _ir_mul(b, a0, a0), _ir_mul(b, _ir_mul(b, a1, a1), _const(_W)))
    return c0, _ir_add(b, t, t)


# -- intrinsics ------------------------------------------------------------------------------


def _integers(*args: types.Type) -> bool:
    return all(isinstance(t, types.Integer) for t in args)


def _pair(context, builder, signature, values):
    return context.make_tuple(builder, signature.return_type, values)


@intrinsic
def add(typingctx, a, b):
    """(a + b) mod P for canonical a, b."""
    if not _integers(a, b):
        return None
    return _U64(_U64, _U64), lambda ctx, bld, sig, args: _ir_add(bld, *args)


@intrinsic
def sub(typingctx, a, b):
    """(a - b) mod P for canonical a, b."""
    if not _integers(a, b):
        return None
    return _U64(_U64, _U64), lambda ctx, bld, sig, args: _ir_sub(bld, *args)


@intrinsic
def neg(typingctx, a):
    """-a mod P for canonical a."""
    if not _integers(a):
        return None
    return _U64(_U64), lambda ctx, bld, sig, args: _ir_neg(bld, *args)


@intrinsic
def canonical(typingctx, a):
    """Any uint64 to [0, P)."""
    if not _integers(a):
        return None
    return _U64(_U64), lambda ctx, bld, sig, args: _ir_canonical(bld, *args)


@intrinsic
def mul(typingctx, a, b):
    """a·b mod P; correct (and canonical) for any uint64 a, b."""
    if not _integers(a, b):
        return None
    return _U64(_U64, _U64), lambda ctx, bld, sig, args: _ir_mul(bld, *args)


@intrinsic
def mul_split(typingctx, a, b_lo, b_hi):
    """a·b mod P for any uint64 a and b = b_hi·2^32 + b_lo given as its two 32-bit halves.

    Why: LLVM (22, numba 0.68) recognises ``mul``'s four 32-bit products of two whole words as one
    64x64 -> 128-bit product, and in a vector loop it then extracts every lane for a scalar
    ``mulx``. With b's halves loaded from memory (e.g. a split twiddle table) it cannot, and the
    loop keeps its four vector 32-bit products: an NTT butterfly 0.70 -> 0.54 ns (measured)."""
    if not _integers(a, b_lo, b_hi):
        return None

    return _U64(_U64, _U64, _U64), lambda ctx, bld, sig, args: _ir_mul_halves(bld, *args)


@intrinsic
def mul_vec(typingctx, a, b):
    """a·b mod P for any uint64 a, b (as `mul`), in the form to use in loops that LLVM vectorises.

    `mul`'s product becomes a scalar `mulx` per vector lane there (see `mul_split`); this one
    takes its carries as comparisons, which LLVM keeps in vector lanes: 0.49 -> 0.36 ns per
    product in an elementwise loop, a cube 1.25 -> 0.89 ns (AVX-512, measured). Outside vector
    loops (dependent chains, scalar code) `mul` is faster: one `mulx`."""
    if not _integers(a, b):
        return None
    return _U64(_U64, _U64), lambda ctx, bld, sig, args: _ir_mul_vec(bld, *args)


@intrinsic
def epsilon(typingctx):
    """EPSILON = 2^64 mod P (2^32 - 1), as a value LLVM cannot see is that constant: for
    `square_mul_split`. Call it before the loop, never inside (as `halves`)."""
    return _U64(), lambda ctx, bld, sig, args: _ir_opaque(bld, _const(_EPSILON))


def _square_mul_split_signature(canonical: bool, *args: types.Type):
    if not _integers(*args):
        return None

    def codegen(ctx, bld, sig, values):
        return _ir_square_mul_halves(bld, *values, canonical)

    return _U64(_U64, _U64, _U64, _U64), codegen


@intrinsic
def square_mul_split(typingctx, a, b_lo, b_hi, eps):
    """a²·b mod P (canonical) for any uint64 a, and b given as b_lo (any uint64 whose low 32 bits
    are b's) and b_hi (b >> 32), which (as for `mul_split`) must not be computed from b in the
    same loop; eps is `epsilon()`. 9 vector 32-bit products and one 64-bit one: a² from three
    and a 64-bit one for its low word, a²·b from four, and in each of the two 128-bit reductions
    hi·EPSILON as one (with a constant EPSILON LLVM makes it a mask, a shift and a subtraction;
    measured: S-boxes 12 % faster). x^7 (the Poseidon2 S-box) is
    ``square_mul_split(square_mul_split_lazy(x, x, x_hi, eps), x, x_hi, eps)``."""
    return _square_mul_split_signature(True, a, b_lo, b_hi, eps)


@intrinsic
def square_mul_split_lazy(typingctx, a, b_lo, b_hi, eps):
    """`square_mul_split` left lazily reduced (some uint64 congruent to a²·b, maybe >= P): for
    the input of another product, which takes any uint64."""
    return _square_mul_split_signature(False, a, b_lo, b_hi, eps)


@intrinsic
def square_mul_vec(typingctx, a, b):
    """a²·b mod P (canonical) for any uint64 a, b, as `square_mul_split` for a b that varies in
    the loop (its halves taken as `mul_vec` does): 7 vector 32-bit products against 8 for
    `mul_vec(mul_vec(a, a), b)`. A cube is ``square_mul_vec(x, x)``."""
    if not _integers(a, b):
        return None

    def codegen(ctx, bld, sig, args):
        x, y = args
        square = _ir_reduce128_lazy(bld, *_ir_square_wide_vec(bld, x))
        return _ir_reduce128(bld, *_ir_mul_wide_vec(bld, square, y))

    return _U64(_U64, _U64), codegen


@intrinsic
def halves(typingctx, a):
    """(low, high) 32-bit halves of a, for `mul_split` by a value that a loop does not change.

    Call it before the loop, never inside: the halves pass through an empty inline-assembly
    statement, so that LLVM cannot fold `mul_split(x, *halves(c))` back into a 64x64 product
    (which would be scalar in a vector loop again), and inline assembly inside a loop stops it
    from being vectorised at all."""
    if not _integers(a):
        return None
    sig = types.UniTuple(_U64, 2)(_U64)
    return sig, lambda ctx, bld, sig, args: _pair(ctx, bld, sig, _ir_halves(bld, *args))


@intrinsic
def square(typingctx, a):
    if not _integers(a):
        return None
    return _U64(_U64), lambda ctx, bld, sig, args: _ir_mul(bld, args[0], args[0])


@intrinsic
def mul_wide(typingctx, a, b):
    """The full product as (lo, hi)."""
    if not _integers(a, b):
        return None
    sig = types.UniTuple(_U64, 2)(_U64, _U64)
    return sig, lambda ctx, bld, sig, args: _pair(ctx, bld, sig, _ir_mul_wide(bld, *args))


@intrinsic
def reduce128(typingctx, lo, hi):
    """(hi·2^64 + lo) mod P, any lo, hi."""
    if not _integers(lo, hi):
        return None
    return _U64(_U64, _U64), lambda ctx, bld, sig, args: _ir_reduce128(bld, *args)


@intrinsic
def ext_mul(typingctx, a0, a1, b0, b1):
    """(a0 + a1 x)(b0 + b1 x) in F_p[x]/(x^2 - 7), as a (c0, c1) tuple."""
    if not _integers(a0, a1, b0, b1):
        return None
    sig = types.UniTuple(_U64, 2)(_U64, _U64, _U64, _U64)
    return sig, lambda ctx, bld, sig, args: _pair(ctx, bld, sig, _ir_ext_mul(bld, *args))


@intrinsic
def ext_mul_vec(typingctx, a0, a1, b0, b1):
    """`ext_mul` with `mul_vec`'s products: for loops that LLVM vectorises."""
    if not _integers(a0, a1, b0, b1):
        return None
    sig = types.UniTuple(_U64, 2)(_U64, _U64, _U64, _U64)
    return sig, lambda ctx, bld, sig, args: _pair(ctx, bld, sig, _ir_ext_mul(bld, *args, mul=_ir_mul_vec))


@intrinsic
def ext_halves(typingctx, b0, b1):
    """b = b0 + b1·x prepared for `ext_mul_halves`, before a loop that multiplies by it: the
    `halves` of b0, b1 and b0 + b1 (Karatsuba's third product), as a 6-tuple."""
    if not _integers(b0, b1):
        return None
    sig = types.UniTuple(_U64, 6)(_U64, _U64)

    def codegen(ctx, bld, sig, args):
        x0, x1 = args
        parts = [*_ir_halves(bld, x0), *_ir_halves(bld, x1), *_ir_halves(bld, _ir_add(bld, x0, x1))]
        return ctx.make_tuple(bld, sig.return_type, parts)

    return sig, codegen


@intrinsic
def ext_mul_halves(typingctx, a0, a1, h):
    """(a0 + a1·x)·b with b as `ext_halves(b0, b1)`: a product by a loop's constant that stays
    in vector lanes."""
    if not (_integers(a0, a1) and isinstance(h, types.UniTuple) and h.count == 6):
        return None
    sig = types.UniTuple(_U64, 2)(_U64, _U64, types.UniTuple(_U64, 6))

    def codegen(ctx, bld, sig, args):
        x0, x1, packed = args
        parts = [bld.extract_value(packed, i) for i in range(6)]
        return _pair(ctx, bld, sig, _ir_ext_mul_halves(bld, x0, x1, *parts))

    return sig, codegen


@intrinsic
def ext_square(typingctx, a0, a1):
    if not _integers(a0, a1):
        return None
    sig = types.UniTuple(_U64, 2)(_U64, _U64)
    return sig, lambda ctx, bld, sig, args: _pair(ctx, bld, sig, _ir_ext_square(bld, *args))


@intrinsic
def ext_add(typingctx, a0, a1, b0, b1):
    if not _integers(a0, a1, b0, b1):
        return None
    sig = types.UniTuple(_U64, 2)(_U64, _U64, _U64, _U64)

    def codegen(ctx, bld, sig, args):
        x0, x1, y0, y1 = args
        return _pair(ctx, bld, sig, (_ir_add(bld, x0, y0), _ir_add(bld, x1, y1)))

    return sig, codegen


@intrinsic
def ext_sub(typingctx, a0, a1, b0, b1):
    if not _integers(a0, a1, b0, b1):
        return None
    sig = types.UniTuple(_U64, 2)(_U64, _U64, _U64, _U64)

    def codegen(ctx, bld, sig, args):
        x0, x1, y0, y1 = args
        return _pair(ctx, bld, sig, (_ir_sub(bld, x0, y0), _ir_sub(bld, x1, y1)))

    return sig, codegen
