"""NTTs and coset LDE against a naive DFT and against direct polynomial evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from field_helpers import P, naive_eval
from hypothesis import given, settings
from hypothesis import strategies as st

from zkpor.field import goldilocks as gl
from zkpor.field import ntt as nt
from zkpor.field import parallel


def naive_dft(coeffs: list[int], omega: int) -> list[int]:
    n = len(coeffs)
    return [sum(c * pow(omega, i * j, P) for j, c in enumerate(coeffs)) % P for i in range(n)]


def test_constants_and_roots() -> None:
    assert nt.GENERATOR == 7 and nt.TWO_ADICITY == 32
    assert nt.root_of_unity(32) == 0x185629DCDA58878C
    assert nt.root_of_unity(5) ** 2 % P == nt.root_of_unity(4)


@pytest.mark.parametrize("shift", [1, 7, 12345])
def test_domain(shift: int) -> None:
    d = nt.domain(5, shift)
    w = nt.root_of_unity(5)
    assert d.tolist() == [shift * pow(w, i, P) % P for i in range(32)]


@pytest.mark.parametrize("log_n", range(0, 9))
def test_ntt_matches_naive_dft(log_n: int) -> None:
    n = 1 << log_n
    rng = np.random.default_rng(log_n)
    c = gl.random_elements(n, rng)
    expected = naive_dft(c.tolist(), nt.root_of_unity(log_n))
    assert nt.ntt(c).tolist() == expected
    assert nt.intt(np.array(expected, dtype=np.uint64)).tolist() == c.tolist()


def test_ntt_edge_values() -> None:
    c = np.array([P - 1, 0, 2**32, 2**63, 1, P - 2, 2**32 - 1, 5], dtype=np.uint64)
    assert nt.ntt(c).tolist() == naive_dft(c.tolist(), nt.root_of_unity(3))
    assert nt.ntt(np.full(64, P - 1, dtype=np.uint64)).tolist() == [(64 * (P - 1)) % P] + [0] * 63


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 17), st.integers(1, 4), st.integers(0, 2**32))
def test_round_trips(log_n: int, n_cols: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = gl.random_elements((n_cols, 1 << log_n), rng)
    e = nt.ntt(c)
    assert (nt.intt(e) == c).all()
    assert (nt.ntt(nt.intt(c)) == c).all()
    assert (nt.ntt(c[0]) == e[0]).all()  # 1-D and 2-D agree


@pytest.mark.parametrize("log_n", [12, 13, 14, 15, 16])
def test_all_code_paths_agree(log_n: int) -> None:
    """Rows split over threads, one long row with threads inside it, and one thread: the same."""
    n = 1 << log_n
    rng = np.random.default_rng(log_n)
    c = gl.random_elements((3, n), rng)
    by_rows = nt.ntt(c)  # 3 rows: each row on one thread, or all threads on each row
    one_by_one = np.stack([nt.ntt(row) for row in c])
    old = parallel.num_threads()
    try:
        parallel.set_num_threads(1)
        single = nt.ntt(c)
        lde_single = nt.coset_lde(c, 2)
    finally:
        parallel.set_num_threads(old)
    assert (by_rows == one_by_one).all() and (by_rows == single).all()
    assert (nt.coset_lde(c, 2) == lde_single).all()
    assert (np.stack([nt.coset_lde(row, 2) for row in c]) == lde_single).all()
    # spot-check against the definition
    w = nt.root_of_unity(log_n)
    coeffs = c[1].tolist()
    for i in (0, 1, n // 2 + 3, n - 1):
        assert int(by_rows[1, i]) == naive_eval(coeffs, pow(w, i, P))


def test_axis_argument() -> None:
    rng = np.random.default_rng(7)
    c = gl.random_elements((16, 3), rng)  # 3 polynomials of 16 coefficients, one per column
    e = nt.ntt(c, axis=0)
    assert e.shape == (16, 3)
    assert (e == nt.ntt(c.T.copy()).T).all()
    assert (nt.intt(e, axis=0) == c).all()
    assert (nt.coset_intt(nt.ntt(c.T.copy()), shift=1, axis=-1) == c.T).all()


@pytest.mark.parametrize("log_n", [0, 1, 2, 3, 4, 6, 7])
@pytest.mark.parametrize("blowup", [1, 2, 4, 8, 16])
@pytest.mark.parametrize("shift", [7, 1, 3])
def test_coset_lde_matches_evaluation(log_n: int, blowup: int, shift: int) -> None:
    n = 1 << log_n
    rng = np.random.default_rng(n * blowup + shift)
    coeffs = gl.random_elements((2, n), rng)
    evals = nt.ntt(coeffs)
    lde = nt.coset_lde(evals, blowup, shift)
    assert lde.shape == (2, n * blowup)
    points = nt.domain(log_n + blowup.bit_length() - 1, shift).tolist()
    for r in range(2):
        expected = [naive_eval(coeffs[r].tolist(), x) for x in points]
        assert lde[r].tolist() == expected
    assert (nt.coset_evaluate(coeffs, blowup, shift) == lde).all()
    # and back: the LDE interpolates to the same coefficients, padded with zeros
    back = nt.coset_intt(lde, shift)
    assert (back[:, :n] == coeffs).all() and not back[:, n:].any()


@pytest.mark.parametrize("log_n,blowup", [(10, 8), (12, 4), (13, 8), (14, 2), (15, 4), (16, 1)])
def test_coset_lde_large(log_n: int, blowup: int) -> None:
    """Sizes across the block and tile sizes and the threshold of threads inside a row."""
    n = 1 << log_n
    rng = np.random.default_rng(log_n)
    coeffs = gl.random_elements((2, n), rng)
    evals = nt.ntt(coeffs)
    for rows in (evals, evals[:1]):  # 2 rows: per-row threads; 1 row: threads inside it
        lde = nt.coset_lde(rows, blowup)
        assert (lde == nt.coset_evaluate(coeffs[: rows.shape[0]], blowup)).all()
        assert (nt.coset_intt(lde)[:, :n] == coeffs[: rows.shape[0]]).all()
    lde = nt.coset_lde(evals[0], blowup)
    points = nt.domain(log_n + blowup.bit_length() - 1, nt.GENERATOR)
    c0 = coeffs[0].tolist()
    for i in (0, 1, 5, n * blowup - 1, n * blowup // 3):
        assert int(lde[i]) == naive_eval(c0, int(points[i]))
    # low degree: the LDE of a degree < n polynomial has nothing above degree n
    assert not nt.coset_intt(lde)[n:].any()


@pytest.mark.parametrize("blowup", [1, 2, 4, 8])
def test_block_kernels_on_edge_values(blowup: int) -> None:
    """Rows of 2^13 and 2^14 through every block kernel (the transposed 64x64 tiles for the DIF
    and for DIT stages after an expansion by 2 or 4, in-place stages after one by 8, the wide
    stages two at a time and one alone), filled with the edge values of the field: 0, 1, P - 1,
    2^32 - 1, 2^32, 2^63, ... against the definition at spot points, and on round trips."""
    edges = np.array([0, 1, P - 1, P - 2, 2**32 - 1, 2**32, 2**63, 2**64 - 2**32], dtype=np.uint64)
    rng = np.random.default_rng(blowup)
    for log_n in (13, 14):
        n = 1 << log_n
        coeffs = np.stack([rng.choice(edges, n), np.full(n, P - 1, dtype=np.uint64), np.tile(edges, n // 8)])
        coeffs[0, :8] = edges
        lde = nt.coset_evaluate(coeffs, blowup)
        evals = nt.ntt(coeffs)
        assert (nt.coset_lde(evals, blowup) == lde).all()
        assert (nt.intt(evals) == coeffs).all()
        assert (nt.coset_intt(lde)[:, :n] == coeffs).all()
        points = nt.domain(log_n + blowup.bit_length() - 1, nt.GENERATOR)
        w = nt.root_of_unity(log_n)
        for r in range(3):
            c = coeffs[r].tolist()
            for i in (0, 1, 63, 64, 4095, 4096, n - 1):
                assert int(evals[r, i]) == naive_eval(c, pow(w, i, P))
            for i in (0, 3, 4097, n * blowup - 1):
                assert int(lde[r, i]) == naive_eval(c, int(points[i]))


@pytest.mark.parametrize("log_n,blowup", [(1, 8192), (2, 4096), (0, 1 << 15)])
def test_blowup_beyond_a_block(log_n: int, blowup: int) -> None:
    """A blowup of a block or more: no DIT stages inside blocks, expansion on its own."""
    rng = np.random.default_rng(blowup)
    coeffs = gl.random_elements((2, 1 << log_n), rng)
    lde = nt.coset_lde(nt.ntt(coeffs), blowup)
    points = nt.domain(log_n + blowup.bit_length() - 1, nt.GENERATOR)
    for i in (0, 1, 777, blowup - 1):
        assert int(lde[1, i]) == naive_eval(coeffs[1].tolist(), int(points[i]))
    assert (nt.coset_evaluate(coeffs, blowup) == lde).all()
    assert (nt.coset_lde(nt.ntt(coeffs[0]), blowup) == lde[0]).all()


def test_lde_of_a_constant_and_of_x() -> None:
    n, blowup = 8, 4
    const = np.full(n, 5, dtype=np.uint64)
    assert (nt.coset_lde(const, blowup) == 5).all()
    x_evals = nt.domain(3)  # the polynomial X
    assert (nt.coset_lde(x_evals, blowup) == nt.domain(5, nt.GENERATOR)).all()


def test_validation() -> None:
    with pytest.raises(ValueError):
        nt.ntt(np.zeros(6, dtype=np.uint64))
    with pytest.raises(TypeError):
        nt.ntt(np.zeros(8, dtype=np.int64))
    with pytest.raises(ValueError):
        nt.ntt(np.zeros((2, 2, 2), dtype=np.uint64))
    with pytest.raises(ValueError):
        nt.coset_lde(np.zeros(8, dtype=np.uint64), 3)
    with pytest.raises(ValueError):
        nt.coset_lde(np.zeros(8, dtype=np.uint64), 2, shift=P)
    with pytest.raises(ValueError):
        nt.root_of_unity(33)
    assert nt.ntt(np.zeros((0, 8), dtype=np.uint64)).shape == (0, 8)
    ro = np.arange(8, dtype=np.uint64)
    ro.flags.writeable = False
    assert (nt.intt(nt.ntt(ro)) == ro).all()


def test_coset_evaluate_into_a_given_array() -> None:
    rng = np.random.default_rng(9)
    coeffs = gl.random_elements((3, 64), rng)
    out = np.full((3, 256), 5, dtype=np.uint64)
    result = nt.coset_evaluate(coeffs, 4, out=out)
    assert result is out
    assert np.array_equal(out, nt.coset_evaluate(coeffs, 4))
    wrong_shape, transposed = np.empty((3, 128), dtype=np.uint64), np.empty((256, 3), dtype=np.uint64).T
    for bad in (wrong_shape, transposed, np.empty((3, 256))):
        with pytest.raises(ValueError, match="out must be"):
            nt.coset_evaluate(coeffs, 4, out=bad)
    with pytest.raises(ValueError, match="out must be"):  # one polynomial: no out
        nt.coset_evaluate(coeffs[0], 4, out=np.empty((1, 256), dtype=np.uint64))


@pytest.mark.parametrize("rows,log_n", [(3, 3), (5, 12), (2, 17), (1, 17), (3, 18)])
def test_intt_into_the_columns_of_a_wider_matrix(rows: int, log_n: int) -> None:
    """The prover interpolates into the first half of its (rows, 2n) coefficient matrix: the
    other half (and the other columns) stay untouched, per row and per-task paths alike."""
    n = 1 << log_n
    evals = gl.random_elements((rows, n), np.random.default_rng(log_n))
    expected = nt.intt(evals)
    wide = np.full((rows, 3 * n), 5, dtype=np.uint64)
    assert nt.intt(evals, out=wide[:, n : 2 * n]).base is not None
    assert np.array_equal(wide[:, n : 2 * n], expected)
    assert (wide[:, :n] == 5).all() and (wide[:, 2 * n :] == 5).all()
    own = np.empty((rows, n), dtype=np.uint64)
    assert nt.intt(evals, out=own) is own and np.array_equal(own, expected)
    strided = np.empty((rows, 2 * n), dtype=np.uint64)[:, ::2]
    for bad in (strided, np.empty((rows, n + 1), dtype=np.uint64), np.empty((rows, n))):
        with pytest.raises(ValueError, match="out must be"):
            nt.intt(evals, out=bad)
    with pytest.raises(ValueError, match="out must be"):  # one polynomial: no out
        nt.intt(evals[0], out=np.empty((1, n), dtype=np.uint64))


@pytest.mark.parametrize("width,blowup", [(1, 4), (2, 2), (8, 1), (16, 8), (64, 4), (64, 2), (128, 16)])
def test_coset_evaluate_with_a_degree_bound(width: int, blowup: int) -> None:
    """A degree bound D: the coefficients from D on are not read (filled with junk here), and the
    result is the polynomial of the D below on the coset, for every D: powers of two, one above
    (a single extra coefficient), a zero-knowledge-like n + r and just below the width."""
    rng = np.random.default_rng(width * blowup)
    points = nt.domain((width * blowup).bit_length() - 1, nt.GENERATOR).tolist()
    for bound in sorted({1, 2, 3, 5, width // 2 + 1, width // 2 + 3, width // 2 + 7, width - 1, width}):
        if not 1 <= bound <= width:
            continue
        coeffs = gl.random_elements((2, width), rng)
        coeffs[:, bound:] = np.uint64(P - 1)  # junk
        lde = nt.coset_evaluate(coeffs, blowup, degree_bound=bound)
        for r in range(2):
            assert lde[r].tolist() == [naive_eval(coeffs[r, :bound].tolist(), x) for x in points], bound
        assert (nt.coset_evaluate(coeffs[1], blowup, degree_bound=bound) == lde[1]).all()


@pytest.mark.parametrize(
    "log_width,extra,blowup", [(13, 86, 2), (14, 86, 4), (17, 86, 2), (13, 4095, 2), (4, 3, 4096)]
)
def test_degree_bound_at_the_provers_shapes(log_width: int, extra: int, blowup: int) -> None:
    """Zero-knowledge shapes (2n coefficients wide, n + r of them used) through every kernel: blocks
    with and without extra coefficients, one long row with threads inside it (2^17 → 2^18), many
    extra (n + n − 1), a blowup beyond a block; against the full-width transform of the same
    coefficients with zeros above the bound, and the definition at spot points."""
    width = 1 << log_width
    bound = width // 2 + extra
    rng = np.random.default_rng(log_width)
    coeffs = gl.random_elements((3, width), rng)
    coeffs[:, bound:] = 0
    junk = coeffs.copy()
    junk[:, bound:] = np.uint64(12345)
    full = nt.coset_evaluate(coeffs, blowup)
    for rows in (3, 1):  # several rows: per-row threads; one long row: threads inside it
        assert np.array_equal(nt.coset_evaluate(junk[:rows], blowup, degree_bound=bound), full[:rows])
    points = nt.domain(log_width + blowup.bit_length() - 1, nt.GENERATOR)
    c = coeffs[2, :bound].tolist()
    for i in (0, 1, 2, 3, 4097, width * blowup - 1):
        assert int(full[2, i]) == naive_eval(c, int(points[i]))
    with pytest.raises(ValueError, match="degree bound"):
        nt.coset_evaluate(coeffs, blowup, degree_bound=width + 1)
