"""The solvency AIR: honest batches verify; each cheating prover below is rejected.

Every cheat builds the rest of the witness honestly (`build_batch(strict=False)`), so exactly one
rule of the statement is broken, and the verifier is the real one."""

from dataclasses import replace

import numpy as np
import pytest

from zkpor.errors import VerificationError, ZkporError
from zkpor.field.goldilocks import P
from zkpor.liabilities import encoding
from zkpor.liabilities.air import BatchPublic, SolvencyAir
from zkpor.liabilities.batch import BatchProof, prove_batch, statement_layout, verify_batch
from zkpor.liabilities.witness import NegativeNetValueError, build_batch
from zkpor.stark.air import compress_values
from zkpor.stark.gadgets import poseidon2 as gadget
from zkpor.stark.next_row import next_row_columns
from zkpor.stark.proof import StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import verify


def prove_cheat(statement, options, trace, public):
    proof = prove(SolvencyAir(statement_layout(statement), public), trace, options, check=False)
    return BatchProof(statement, public, proof.to_bytes())


def rejected(proof):
    with pytest.raises(VerificationError):
        verify_batch(proof.statement, proof, expected_index=proof.public.batch_index, min_security_bits=0)


def test_honest_batch_verifies_with_exact_totals(statement, layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    proof, witness = prove_batch(statement, 3, ids, equity, debt, options)
    parsed = BatchProof.from_bytes(proof.to_bytes())
    verify_batch(statement, parsed, expected_index=3, min_security_bits=0)
    totals = parsed.public.asset_totals(layout.limb_bits)
    for a in range(equity.shape[1]):
        assert totals[a] == (int(equity[:, a].astype(object).sum()), int(debt[:, a].astype(object).sum()))
    leaves = [encoding.leaf_hash(digest, ids[u].tolist(), equity[u].tolist(), debt[u].tolist())
              for u in range(layout.batch_size)]  # fmt: skip
    assert list(parsed.public.root) == encoding.merkle_root(leaves)


def test_negative_balance_smuggled_as_p_minus_x(statement, layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    equity[5, 2] = np.uint64(P - 1000)  # "−1000" in the field
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights, strict=False)
    with pytest.raises(ZkporError):
        build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    rejected(prove_cheat(statement, options, witness.trace, witness.public))


def test_value_over_its_bound(statement, layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    equity[1, 4] = np.uint64(1 << layout.asset_bits[4])  # one past the asset's bound
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights, strict=False)
    rejected(prove_cheat(statement, options, witness.trace, witness.public))


def test_debt_without_collateral(statement, layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    equity[7, :] = 0
    debt[7, 1] = 5  # owes 5 units of asset 1 and holds nothing
    with pytest.raises(NegativeNetValueError):
        build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights, strict=False)
    rejected(prove_cheat(statement, options, witness.trace, witness.public))


def _with_totals(public: BatchPublic, asset: int, side: int, limb: int, delta: int) -> BatchPublic:
    totals = [[list(s) for s in a] for a in public.limb_totals]
    totals[asset][side][limb] += delta
    frozen = tuple(tuple(tuple(s) for s in a) for a in totals)
    return replace(public, limb_totals=frozen)


def test_total_off_by_one(statement, layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    lie = _with_totals(witness.public, 0, 1, 0, -1)  # report one base unit less debt... or equity
    rejected(prove_cheat(statement, options, witness.trace, lie))


def test_total_off_by_p(statement, layout, digest, options, make_users):
    """A limb total + p is the same field element: only the exact bound check can refuse it."""
    ids, equity, debt = make_users(layout)
    proof, witness = prove_batch(statement, 0, ids, equity, debt, options)
    lie = _with_totals(witness.public, 0, 0, 0, P)
    rejected(BatchProof(statement, lie, proof.stark))


def test_leaf_hashed_with_other_balances_than_range_checked(statement, layout, digest, options, make_users):
    """The leaf hashes 10^6 more units of one asset than the limbs (and so the range checks, the
    net value and the totals) account for: only "lane = Σ limbs" breaks."""
    ids, equity, debt = make_users(layout)
    checked = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    inflated = equity.copy()
    inflated[2, 3] += np.uint64(10**6)
    hashed = build_batch(layout, digest, 0, ids, inflated, debt, weights=statement.weights)
    trace = hashed.trace.copy()
    limb_columns = slice(layout.limb(0, 0), layout.width)  # limbs, scaled, acc, block, multiplicity
    trace[limb_columns] = checked.trace[limb_columns]
    public = replace(checked.public, root=hashed.public.root)
    rejected(prove_cheat(statement, options, trace, public))


def test_batch_root_that_does_not_match_the_leaves(statement, layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    p = witness.public
    lie = replace(p, root=(p.root[0] ^ 1, *p.root[1:]))
    rejected(prove_cheat(statement, options, witness.trace, lie))


def test_duplicated_user_in_place_of_another(statement, layout, digest, options, make_users):
    """The node over leaves 0 and 1 takes user 0's leaf twice (so user 1 could be dropped)."""
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    honest_ids = ids.copy()
    ids[1], equity[1], debt[1] = ids[0], equity[0], debt[0]
    duplicated = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    trace = witness.trace.copy()
    # Graft the duplicated tree's node rows (which hash leaf 0 twice) onto the honest leaves.
    node_rows = np.arange(layout.batch_size) * layout.block + layout.node_row
    trace[:, node_rows] = duplicated.trace[:, node_rows]
    assert not np.array_equal(honest_ids, ids)
    rejected(prove_cheat(statement, options, trace, duplicated.public))


def test_wrong_round_or_batch_index(statement, layout, digest, options, make_users):
    ids, equity, debt = make_users(layout)
    proof, _ = prove_batch(statement, 2, ids, equity, debt, options)
    with pytest.raises(VerificationError, match="file says it is batch 2"):
        verify_batch(statement, proof, expected_index=3, min_security_bits=0)
    other_round = replace(statement, round_id="2026-12")
    with pytest.raises(VerificationError, match="round_id is '2026-12', but this batch was proven for"):
        verify_batch(other_round, proof, expected_index=2, min_security_bits=0)
    public = replace(proof.public, statement_digest=other_round.digest())
    relabelled = BatchProof(other_round, public, proof.stark)
    with pytest.raises(VerificationError, match="^batch 2: STARK proof rejected"):
        verify_batch(other_round, relabelled, expected_index=2, min_security_bits=0)


def test_batch_proven_with_other_prices_is_rejected(statement, layout, digest, options, make_users):
    """User 7 owes more of asset 0 than its one unit of asset 1 is worth at the statement's prices;
    a prover pricing asset 0 at nothing makes every net value non-negative. The prices are public
    inputs, which the verifier takes from the statement: stating its own prices (a valid proof of
    another statement) or claiming the statement's (a trace off the net-value accumulator), the
    cheat is refused."""
    ids, equity, debt = make_users(layout)
    w = statement.weights
    equity[7, :], debt[7, :] = 0, 0
    equity[7, 1], debt[7, 0] = 1, w[1] // w[0] + 1  # net value w1 − (w1 // w0 + 1) · w0 < 0
    with pytest.raises(NegativeNetValueError):
        build_batch(layout, digest, 0, ids, equity, debt, weights=w)
    cheap = (0, *w[1:])
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=cheap)
    own_prices = prove(SolvencyAir(layout, witness.public), witness.trace, options)
    verify(SolvencyAir(layout, witness.public), own_prices, min_security_bits=0)  # true of other prices
    rejected(BatchProof(statement, witness.public, own_prices.to_bytes()))
    rejected(prove_cheat(statement, options, witness.trace, replace(witness.public, weights=w)))
    for wrong in ((1 << 40, *w[1:]), w[:-1]):
        with pytest.raises(ValueError, match="price weight"):
            SolvencyAir(layout, replace(witness.public, weights=wrong))


def test_leaf_sponge_started_from_another_capacity(statement, layout, digest, options, make_users):
    """Every leaf hashed from the capacity of another statement (the same round with its snapshot
    time restated), the tree and totals honest over those leaves, the public statement the true
    one: only the first-row capacity constraint, tied to the public digest, breaks."""
    ids, equity, debt = make_users(layout)
    restated = replace(statement, snapshot_time="2026-11-30T17:00:00Z")
    assert statement_layout(restated) == layout  # the AIR is the same: only the capacity differs
    witness = build_batch(layout, restated.digest(), 0, ids, equity, debt, weights=statement.weights)
    public = replace(witness.public, statement_digest=digest)
    rejected(prove_cheat(statement, options, witness.trace, public))
    honest = replace(witness.public, statement_digest=restated.digest())
    verify_batch(restated, prove_cheat(restated, options, witness.trace, honest), expected_index=0,
                 min_security_bits=0)  # fmt: skip


def test_range_and_tree_buses_carry_distinct_tags(layout, digest):
    """Both buses share one LogUp sum. Untagged, a tree tuple (index t, zero digest) fingerprints
    to t for every challenge, exactly as a range lookup of t does, so a range-table multiplicity
    could pay for a tree message; tagged, the two fingerprints differ for any challenge but a few.
    (No complete cheat exists today: a zero digest is never sent, so the test checks the bus.)"""
    zeros = tuple(((0,) * layout.limbs_per_value,) * 2 for _ in range(layout.assets))
    air = SolvencyAir(layout, BatchPublic(digest, 0, (0, 0, 0, 0), zeros, (0,) * len(layout.asset_bits)))
    terms = air.lookups()
    range_lookup, left_child = terms[0], terms[-2]
    row = [0] * layout.width
    row[layout.limb(0, 0)] = 2  # a limb of 2; block 0's left child has heap index 2
    periodic = [column[0] for column in air.periodic_columns()]
    gamma = 0x1234_5678_9ABC_DEF0
    assert compress_values(left_child.values(row, periodic), gamma) % P != compress_values(
        range_lookup.values(row, periodic), gamma
    ) % P


# ---- the range table and the final-block flag: committed columns pinned by constraints ----------


@pytest.fixture(scope="module")
def long_batch(statement, make_users):
    """A batch of 64 users: 512 rows, twice the 2^8-entry table, so the table column has a tail
    (rows 256 … 511 hold 255 with multiplicity 0) for a cheater to play with."""
    longer = replace(statement, batch_size=2 * statement.batch_size)
    layout = statement_layout(longer)
    assert layout.trace_length > 1 << layout.limb_bits
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, longer.digest(), 0, ids, equity, debt, weights=statement.weights)
    return longer, layout, witness


def test_long_batch_table_has_a_constant_tail(long_batch, options):
    statement, layout, witness = long_batch
    table = witness.trace[layout.table_column]
    assert table[: 1 << layout.limb_bits].tolist() == list(range(1 << layout.limb_bits))
    assert set(table[1 << layout.limb_bits :].tolist()) == {(1 << layout.limb_bits) - 1}
    verify_batch(statement, prove_cheat(statement, options, witness.trace, witness.public),
                 expected_index=0, min_security_bits=0)  # fmt: skip


def test_range_table_holding_a_value_past_the_table(long_batch, options):
    """A tail row of the table holds 2^L + 7 (looked up 0 times, so the bus still balances): only
    "the table steps by 0 or 1" breaks. With it, a limb of 2^L + 7 would pass its range check."""
    statement, layout, witness = long_batch
    trace = witness.trace.copy()
    trace[layout.table_column, 400] = (1 << layout.limb_bits) + 7
    rejected(prove_cheat(statement, options, trace, witness.public))


def test_range_table_starting_below_zero(long_batch, options):
    """The table runs −1, 0, 1, … , 2^L − 1 (one row later than honest, multiplicities shifted
    with it): every step is 0 or 1 and the last row is 2^L − 1; only "row 0 holds 0" breaks.
    With it, a limb of −1 (p − 1) would pass its range check."""
    statement, layout, witness = long_batch
    trace = witness.trace.copy()
    size = 1 << layout.limb_bits
    trace[layout.table_column, 0] = P - 1
    trace[layout.table_column, 1 : size + 1] = np.arange(size, dtype=np.uint64)
    trace[layout.multiplicity_column, 1 : size + 1] = witness.trace[layout.multiplicity_column, :size]
    trace[layout.multiplicity_column, 0] = 0
    rejected(prove_cheat(statement, options, trace, witness.public))


def test_range_table_running_past_its_end(long_batch, options):
    """The table counts on to 511 (the tail looked up 0 times): row 0 holds 0 and every step is 1;
    only "the last row holds 2^L − 1" breaks. With it, 9-bit limbs would pass their range check."""
    statement, layout, witness = long_batch
    trace = witness.trace.copy()
    trace[layout.table_column] = np.arange(layout.trace_length, dtype=np.uint64)
    rejected(prove_cheat(statement, options, trace, witness.public))


@pytest.mark.parametrize(
    ("block", "multiplicity"),
    [("last", 1), ("first", 0), ("first", 2), ("middle", 0), ("middle", P - 1)],
    ids=["dummy-counted", "root-dropped", "root-twice", "node-dropped", "node-negated"],
)
def test_node_multiplicity_is_pinned_by_the_tree_bus(statement, layout, digest, options, make_users,
                                                     block, multiplicity):  # fmt: skip
    """The node multiplicity is a free witness with no constraint of its own: the tree bus alone
    must refuse any value but 1 on a real node and 0 on the dummy (see `air`, item 4)."""
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    j = {"first": 0, "middle": layout.batch_size // 2 - 1, "last": layout.batch_size - 1}[block]
    trace = witness.trace.copy()
    trace[layout.node_multiplicity_column, j * layout.block + layout.node_row] = multiplicity
    rejected(prove_cheat(statement, options, trace, witness.public))


def test_node_multiplicity_off_the_node_rows_is_inert(statement, layout, digest, options, make_users):
    """Multiplied by the `node` selector, the multiplicity on any other row sends nothing: a sponge
    row's permutation (capacity not the node tag) can never pose as a tree node."""
    ids, equity, debt = make_users(layout)
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=statement.weights)
    trace = witness.trace.copy()
    trace[layout.node_multiplicity_column, layout.node_row - 1] = 1  # block 0's leaf row
    verify_batch(statement, prove_cheat(statement, options, trace, witness.public), expected_index=0,
                 min_security_bits=0)  # fmt: skip


def test_values_at_zw_are_sent_only_for_columns_read_on_the_next_row(
    statement, layout, options, make_users
):
    """The Poseidon2 gadget's round columns are never read on the next row, so a batch proof opens
    them at z only: the proof carries the few chained columns at zω, and still verifies."""
    ids, equity, debt = make_users(layout)
    proof, witness = prove_batch(statement, 1, ids, equity, debt, options)
    air = SolvencyAir(layout, witness.public)
    read = next_row_columns(air)
    assert set(read.main) >= set(range(8, 12))  # the sponge capacity, chained row to row
    rounds = range(gadget.WIDTH, layout.gadget.columns)
    assert not any(c in rounds for c in read.main)  # S-box columns: current row only
    stark = StarkProof.from_bytes(proof.stark)
    assert len(stark.main_at_zw) == len(read.main) < air.main_width // 4
    assert len(stark.aux_at_zw) == 2 * len(read.aux) < air.aux_width
    verify_batch(statement, proof, expected_index=1, min_security_bits=0)


@pytest.fixture
def narrow(monkeypatch, statement):
    """The solvency AIR with the degree-7 Poseidon2 gadget (130 columns), as `--sbox-degree 7`."""
    from zkpor.liabilities import batch

    monkeypatch.setattr(batch, "SBOX_DEGREE", 7)
    return statement_layout(statement)


def test_degree_7_gadget_batch(statement, narrow, digest, options, make_users):
    """An honest batch on the narrow gadget verifies (blowup 8: 13 quotient chunks) with the root
    of the same leaves; a limb that no longer adds up to its hashed lane is rejected."""
    assert narrow.width == replace(narrow, sbox_degree=3).width - 118
    wide = replace(options, blowup=8)
    ids, equity, debt = make_users(narrow)
    proof, witness = prove_batch(statement, 2, ids, equity, debt, wide)
    verify_batch(statement, BatchProof.from_bytes(proof.to_bytes()), expected_index=2, min_security_bits=0)
    leaves = [encoding.leaf_hash(digest, ids[u].tolist(), equity[u].tolist(), debt[u].tolist())
              for u in range(narrow.batch_size)]  # fmt: skip
    assert list(proof.public.root) == encoding.merkle_root(leaves)
    trace = witness.trace.copy()
    trace[narrow.limb(4, 0), 0] ^= 1
    rejected(prove_cheat(statement, wide, trace, witness.public))


def test_degree_7_gadget_packs_lookups_into_fewer_helpers(statement, narrow, layout, digest, make_users):
    """Degree 7 lets a LogUp helper take up to six terms (pairs at degree 3): fewer aux columns."""
    public = build_batch(layout, digest, 0, *make_users(layout), weights=statement.weights).public
    cubed, packed = SolvencyAir(replace(narrow, sbox_degree=3), public), SolvencyAir(narrow, public)
    assert len(cubed.lookups()) == len(packed.lookups())
    assert packed.aux_width < cubed.aux_width // 2
    assert max(c.degree for c in packed.aux_constraints()) == 7


@pytest.mark.parametrize("cheat", ["over-bound", "root"])
def test_degree_7_gadget_lookup_cheats_are_rejected(statement, narrow, digest, options, make_users, cheat):
    """A value past its asset's bound fails the range lookups, a root that is not the leaves' fails
    the tree bus, each now summed six terms to a helper."""
    ids, equity, debt = make_users(narrow)
    if cheat == "over-bound":
        equity[1, 4] = np.uint64(1 << narrow.asset_bits[4])
    witness = build_batch(narrow, digest, 0, ids, equity, debt, weights=statement.weights, strict=False)
    public = witness.public
    if cheat == "root":
        public = replace(public, root=(public.root[0] ^ 1, *public.root[1:]))
    rejected(prove_cheat(statement, replace(options, blowup=8), witness.trace, public))



def test_the_gadget_shape_follows_the_proofs_options_and_cannot_be_restated(statement, options, make_users):
    # BLAKE3 at blowup 8: the degree-7 gadget (batch.sbox_degree). A proof whose options are rewritten
    # so that the verifier would read it with the other shape (and the other way round) is refused.
    wide = replace(options, blowup=8)
    assert statement_layout(statement, wide).sbox_degree == 7
    assert statement_layout(statement, options).sbox_degree == 3
    ids, equity, debt = make_users(statement_layout(statement, wide))
    for proven_with, restated in ((wide, options), (options, wide)):
        proof, _ = prove_batch(statement, 1, ids, equity, debt, proven_with)
        verify_batch(statement, proof, expected_index=1, min_security_bits=0)
        stark = StarkProof.from_bytes(proof.stark)
        rewritten = replace(stark, options=replace(stark.options, blowup=restated.blowup))
        rejected(replace(proof, stark=rewritten.to_bytes()))
