"""DEEP: the verifier's value at a queried point (`DeepAtQueries`, the query-independent sums once
a proof) is the prover's on the whole LDE (`deep_on_lde`), with and without the zero-knowledge
randomiser and the degree correction."""

from __future__ import annotations

import numpy as np
import pytest

from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.field.goldilocks import P
from zkpor.stark.deep import DeepAtQueries, deep_on_lde
from zkpor.stark.domain import ProofDomain


def _random_ext(rng: np.random.Generator, count: int) -> list[Ext]:
    return [Ext(int(a), int(b)) for a, b in rng.integers(0, P, size=(count, 2), dtype=np.uint64)]


@pytest.mark.parametrize("salted, correction", [(False, 0), (True, 0), (True, 5)])
@pytest.mark.parametrize("next_columns", [[0, 4], [4, 1], list(range(6))])
def test_the_verifiers_deep_at_a_query_is_the_provers_on_the_lde(
    salted: bool, correction: int, next_columns: list[int]
) -> None:
    rng = np.random.default_rng(len(next_columns) + correction)
    n, blowup, chunks = 16, 4, 2
    domain = ProofDomain(n, n, n * blowup, 1, n * blowup)
    main, aux = (rng.integers(0, P, size=(k, n), dtype=np.uint64) for k in (4, 2))
    quotient = rng.integers(0, P, size=(chunks, n), dtype=np.uint64)
    randomizer_coefficients = rng.integers(0, P, size=(2, n), dtype=np.uint64)
    randomizer = ntt.coset_evaluate(randomizer_coefficients, blowup) if salted else None
    values_at_z = _random_ext(rng, 6 + chunks)
    values_at_zw = _random_ext(rng, len(next_columns))
    z, alpha = _random_ext(rng, 2)
    provers = deep_on_lde(domain, [main, aux], quotient, chunks, randomizer, values_at_z, values_at_zw,
                          next_columns, z, alpha, correction)  # fmt: skip

    opened = ntt.coset_evaluate(np.vstack([main, aux, quotient]), blowup)
    deep = DeepAtQueries(values_at_z, values_at_zw, 6, next_columns, z, z * domain.omega, alpha, correction)
    for index in (0, 1, 17, n * blowup - 1):
        column = [int(v) for v in opened[:, index]]
        row = None if randomizer is None else [int(v) for v in randomizer[:, index]]
        value = deep.at(domain.lde_point(index), column[:6], column[6:], row)
        assert value == Ext(int(provers[index, 0]), int(provers[index, 1]))


def test_an_opened_row_of_another_width_is_refused() -> None:
    z, alpha = Ext(3, 1), Ext(5, 2)
    deep = DeepAtQueries([Ext(1, 0)] * 3, [Ext(2, 0)], 2, [0], z, z * 7, alpha)
    with pytest.raises(ValueError, match="another width"):
        deep.at(11, [1, 2, 3], [], None)
