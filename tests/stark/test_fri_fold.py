"""FRI: the verifier's fold of one opened coset (`fri.fold_coset`) is the prover's fold of the
whole layer (`fri.fold_layer`) at that point, and the final polynomial is evaluated by `pure.horner`."""

from __future__ import annotations

import numpy as np
import pytest

from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.field.goldilocks import P
from zkpor.field.pure import horner
from zkpor.stark import fri


@pytest.mark.parametrize("folding_log", [1, 2, 3])
def test_the_verifiers_fold_of_a_coset_is_the_provers_fold_of_the_layer(folding_log: int) -> None:
    layout = fri.FriLayout(degree_bound=64, lde_size=256, folding_log=folding_log, num_folds=2)
    rng = np.random.default_rng(folding_log)
    beta = Ext(*map(int, rng.integers(0, P, size=2, dtype=np.uint64)))
    for layer in range(layout.num_folds):
        size, factor = layout.layer_size(layer), layout.factor
        values = rng.integers(0, P, size=(size, 2), dtype=np.uint64)
        folded = fri.fold_layer(values, layout, layer, beta)
        next_size = size // factor
        for row in (0, 1, next_size - 1):
            coset = [Ext(int(values[row + t * next_size, 0]), int(values[row + t * next_size, 1]))
                     for t in range(factor)]  # fmt: skip
            x = layout.layer_shift(layer) * pow(ntt.root_of_unity(size.bit_length() - 1), row, P) % P
            assert fri.fold_coset(coset, x, beta, factor) == Ext(int(folded[row, 0]), int(folded[row, 1]))


def test_the_final_polynomial_at_a_base_point_is_horner_over_the_field() -> None:
    """`pure.horner` at a base point (the FRI final check's) runs on integer coordinates: the same
    value as extension arithmetic, for extension and base coefficients."""
    coefficients = [Ext(P - 1, 3), Ext(5, P - 2), Ext(7, 11)]
    x = 1 << 40
    expected = coefficients[0] + coefficients[1] * x + coefficients[2] * x * x
    assert horner(coefficients, x) == expected
    assert horner(coefficients, Ext(x, 0)) == expected
    assert horner([P - 1, 5, 7], x) == Ext(P - 1, 0) + Ext(5, 0) * x + Ext(7, 0) * x * x
