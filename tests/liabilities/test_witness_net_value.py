"""The witness's net-value columns (limb-position sums acc[k], the carry chain) built in int64 numpy
against a per-user Python-integer reference, at the largest price weights the layout admits, with
honest users and with a cheater's (strict=False) negative net values and over-bound balances."""

import numpy as np
import pytest

from zkpor.field.goldilocks import P
from zkpor.liabilities.layout import EQUITY, LANES, MAX_WEIGHT, MAX_WEIGHT_SUM, SolvencyLayout
from zkpor.liabilities.witness import NegativeNetValueError, build_batch, release_trace
from zkpor.stark.polys import fault_in_trace, give_trace, zeroed_trace


def reference_columns(layout: SolvencyLayout, trace: np.ndarray, weights: tuple[int, ...]):
    """Per user, with Python integers: acc[k] on every row of the block, and the carry row's slots."""
    L, K, block, chain = layout.limb_bits, layout.limbs_per_value, layout.block, layout.carry
    acc = np.zeros((K, layout.trace_length), dtype=np.uint64)
    slots = np.zeros((LANES * K, layout.batch_size), dtype=np.uint64)
    for user in range(layout.batch_size):
        running = [0] * K
        for r in range(block):
            for lane in range(LANES):
                content = layout.lane_content(r, lane)
                if content is None or content[0] >= len(weights):
                    continue
                value = int(trace[lane, user * block + r])
                weight = weights[content[0]] * (1 if content[1] == EQUITY else -1)
                for k in range(K):
                    running[k] += weight * ((value >> (L * k)) & ((1 << L) - 1))
            for k in range(K):
                acc[k, user * block + r] = running[k] % P
        carry = 0
        for k in range(K - 1):
            total = running[k] + carry
            remainder, carry = total % (1 << L), total >> L
            slots[chain.remainder_slots[k], user] = remainder
            for i, s in enumerate(chain.quotient_slots[k]):
                slots[s, user] = ((carry + chain.q_offset) >> (L * i)) & ((1 << L) - 1)
        top = (running[K - 1] + carry) % (1 << (L * len(chain.top_slots)))
        for i, s in enumerate(chain.top_slots):
            slots[s, user] = (top >> (L * i)) & ((1 << L) - 1)
    return acc, slots


@pytest.mark.parametrize("cheat", [False, True])
def test_net_value_columns_match_python_integers(layout, digest, make_users, cheat):
    assets = len(layout.asset_bits)
    weights = tuple(min(MAX_WEIGHT - 1, MAX_WEIGHT_SUM // assets) for _ in range(assets))
    ids, equity, debt = make_users(layout, seed=3)
    equity[0] = [(1 << b) - 1 for b in layout.asset_bits]  # every balance at its bound
    if cheat:  # debts beyond the equity (negative net values) and a balance over its bound
        debt[1::3] = equity[1::3] + np.uint64(1)
        debt[2, 0] = np.uint64((1 << 63) + 12345)
    witness = build_batch(layout, digest, 0, ids, equity, debt, weights=weights, strict=not cheat)
    acc, slots = reference_columns(layout, witness.trace, weights)
    K = layout.limbs_per_value
    assert np.array_equal(witness.trace[layout.acc_offset : layout.acc_offset + K], acc)
    carry_slots = witness.trace[layout.gadget.columns : layout.gadget.columns + LANES * K]
    assert np.array_equal(carry_slots[:, layout.carry_row :: layout.block], slots)


def test_first_negative_net_value_is_named(layout, digest, make_users):
    ids, equity, debt = make_users(layout, seed=4)
    equity[9] = equity[20] = 0  # users 9 and 20 owe and hold nothing
    debt[9, 1] = debt[20, 2] = 1
    weights = (1,) * len(layout.asset_bits)
    with pytest.raises(NegativeNetValueError) as refused:
        build_batch(layout, digest, 0, ids, equity, debt, weights=weights)
    assert refused.value.user == 9


def test_a_trace_given_back_is_cleared_and_reused(layout, digest, make_users):
    weights = (1,) * len(layout.asset_bits)
    first = build_batch(layout, digest, 0, *make_users(layout, seed=5), weights=weights)
    other = build_batch(layout, digest, 1, *make_users(layout, seed=6), weights=weights)
    other.trace.fill(12345)  # what a cleared buffer must not show
    address = other.trace.__array_interface__["data"][0]
    release_trace(other)
    assert other.trace.size == 0
    again = build_batch(layout, digest, 0, *make_users(layout, seed=5), weights=weights)
    assert again.trace.__array_interface__["data"][0] == address, "the given-back matrix is reused"
    assert np.array_equal(again.trace, first.trace)
    held = again.trace[:, :4]  # a view still holds it: not given back
    release_trace(again)
    third = build_batch(layout, digest, 0, *make_users(layout, seed=5), weights=weights)
    assert not np.shares_memory(third.trace, held)


def test_a_trace_faulted_in_ahead_is_the_next_witness_matrix(layout, digest, make_users):
    weights = (1,) * len(layout.asset_bits)
    fresh = build_batch(layout, digest, 0, *make_users(layout, seed=5), weights=weights)
    fault_in_trace((layout.width, layout.trace_length))
    kept = zeroed_trace((layout.width, layout.trace_length))
    assert not kept.any()
    give_trace(kept)
    again = build_batch(layout, digest, 0, *make_users(layout, seed=5), weights=weights)
    assert np.shares_memory(again.trace, kept) and np.array_equal(again.trace, fresh.trace)
