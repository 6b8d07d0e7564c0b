"""The solvency AIR: honest batches verify; each cheating prover below is rejected.

Every cheat builds the rest of the witness honestly (`build_batch(strict=False)`), so exactly one
rule of the statement is broken, and the verifier is the real one."""

import numpy as np
import pytest

from zkpor.errors import VerificationError, ZkporError
from zkpor.field.goldilocks import P
from zkpor.liabilities import encoding
from zkpor.liabilities.air import BatchPublic, SolvencyAir
from zkpor.liabilities.batch import BatchProof, prove_batch, verify_batch
from zkpor.liabilities.witness import NegativeNetValueError, build_batch
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify


def prove_cheat(layout, options, trace, public):
    proof = prove(SolvencyAir(layout, public), trace, options, check=False)
    return BatchProof(public, layout.batch_size, layout.limb_bits, proof.to_bytes())


def rejected(layout, proof):
    with pytest.raises(VerificationError):
        verify_batch(layout, proof, expected_index=proof.public.batch_index, min_security_bits=0)


def test_honest_batch_verifies_with_exact_totals(layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    proof, witness = prove_batch(layout, digest, 3, ids, equity, debt, options)
    parsed = BatchProof.from_bytes(proof.to_bytes(), digest)
    verify_batch(layout, parsed, expected_index=3, min_security_bits=0)
    totals = parsed.public.asset_totals(layout.limb_bits)
    for a in range(equity.shape[1]):
        assert totals[a] == (int(equity[:, a].astype(object).sum()), int(debt[:, a].astype(object).sum()))
    leaves = [encoding.leaf_hash(list(map(int, ids[u])), list(map(int, equity[u])), list(map(int, debt[u])))
              for u in range(layout.batch_size)]  # fmt: skip
    assert list(parsed.public.root) == encoding.merkle_root(leaves)


def test_negative_balance_smuggled_as_p_minus_x(layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    equity[5, 2] = np.uint64(P - 1000)  # "−1000" in the field
    witness = build_batch(layout, digest, 0, ids, equity, debt, strict=False)
    with pytest.raises(ZkporError):
        build_batch(layout, digest, 0, ids, equity, debt)
    rejected(layout, prove_cheat(layout, options, witness.trace, witness.public))


def test_value_over_its_bound(layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    equity[1, 4] = np.uint64(1 << layout.asset_bits[4])  # one past the asset's bound
    witness = build_batch(layout, digest, 0, ids, equity, debt, strict=False)
    rejected(layout, prove_cheat(layout, options, witness.trace, witness.public))


def test_debt_without_collateral(layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    equity[7, :] = 0
    debt[7, 1] = 5  # owes 5 units of asset 1 and holds nothing
    with pytest.raises(NegativeNetValueError):
        build_batch(layout, digest, 0, ids, equity, debt)
    witness = build_batch(layout, digest, 0, ids, equity, debt, strict=False)
    rejected(layout, prove_cheat(layout, options, witness.trace, witness.public))


def _with_totals(public: BatchPublic, asset: int, side: int, limb: int, delta: int) -> BatchPublic:
    totals = [[list(s) for s in a] for a in public.limb_totals]
    totals[asset][side][limb] += delta
    frozen = tuple(tuple(tuple(s) for s in a) for a in totals)
    return BatchPublic(public.round_digest, public.batch_index, public.root, frozen)


def test_total_off_by_one(layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt)
    lie = _with_totals(witness.public, 0, 1, 0, -1)  # report one base unit less debt... or equity
    rejected(layout, prove_cheat(layout, options, witness.trace, lie))


def test_total_off_by_p(layout, digest, options, make_users):
    """A limb total + p is the same field element: only the exact bound check can refuse it."""
    ids, equity, debt = make_users(layout)
    proof, witness = prove_batch(layout, digest, 0, ids, equity, debt, options)
    lie = _with_totals(witness.public, 0, 0, 0, P)
    rejected(layout, BatchProof(lie, layout.batch_size, layout.limb_bits, proof.stark))


def test_leaf_hashed_with_other_balances_than_range_checked(layout, digest, options, make_users):
    """The leaf hashes 10^6 more units of one asset than the limbs (and so the range checks, the
    net value and the totals) account for: only "lane = Σ limbs" breaks."""
    ids, equity, debt = make_users(layout)
    checked = build_batch(layout, digest, 0, ids, equity, debt)
    inflated = equity.copy()
    inflated[2, 3] += np.uint64(10**6)
    hashed = build_batch(layout, digest, 0, ids, inflated, debt)
    trace = hashed.trace.copy()
    limb_columns = slice(layout.limb(0, 0), layout.width)  # limbs, scaled, acc, block, multiplicity
    trace[limb_columns] = checked.trace[limb_columns]
    public = BatchPublic(digest, 0, hashed.public.root, checked.public.limb_totals)
    rejected(layout, prove_cheat(layout, options, trace, public))


def test_batch_root_that_does_not_match_the_leaves(layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt)
    p = witness.public
    lie = BatchPublic(p.round_digest, p.batch_index, (p.root[0] ^ 1, *p.root[1:]), p.limb_totals)
    rejected(layout, prove_cheat(layout, options, witness.trace, lie))


def test_duplicated_user_in_place_of_another(layout, digest, options, make_users):
    """The node over leaves 0 and 1 takes user 0's leaf twice (so user 1 could be dropped)."""
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt)
    honest_ids = ids.copy()
    ids[1], equity[1], debt[1] = ids[0], equity[0], debt[0]
    duplicated = build_batch(layout, digest, 0, ids, equity, debt)
    trace = witness.trace.copy()
    # Graft the duplicated tree's node rows (which hash leaf 0 twice) onto the honest leaves.
    node_rows = np.arange(layout.batch_size) * layout.block + layout.node_row
    trace[:, node_rows] = duplicated.trace[:, node_rows]
    assert not np.array_equal(honest_ids, ids)
    rejected(layout, prove_cheat(layout, options, trace, duplicated.public))


def test_wrong_round_or_batch_index(layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    proof, _ = prove_batch(layout, digest, 2, ids, equity, debt, options)
    with pytest.raises(VerificationError):
        verify_batch(layout, proof, expected_index=3, min_security_bits=0)
    other = BatchProof.from_bytes(proof.to_bytes(), (1, 2, 3, 4))
    with pytest.raises(VerificationError):
        verify_batch(layout, other, expected_index=2, min_security_bits=0)


def test_air_is_bound_to_prices(layout, digest, options, make_users):
    from dataclasses import replace

    ids, equity, debt = make_users(layout)
    proof, _ = prove_batch(layout, digest, 0, ids, equity, debt, options)
    cheaper = replace(layout, weights=(layout.weights[0] + 1, *layout.weights[1:]))
    with pytest.raises(ZkporError):
        verify(SolvencyAir(cheaper, proof.public), proof.stark, min_security_bits=0)
