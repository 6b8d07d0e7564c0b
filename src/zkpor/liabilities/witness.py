"""Build the solvency trace of one batch (see `layout` for where everything goes).

Work is vectorised across the batch: sponge row r of every block is one call of the Poseidon2
gadget's trace filler, tree level ℓ is one call, and limbs, accumulators and carries are numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkpor.errors import ZkporError
from zkpor.field.goldilocks import P
from zkpor.hash import poseidon2
from zkpor.liabilities.air import BatchPublic
from zkpor.liabilities.encoding import NODE_DOMAIN, leaf_capacity
from zkpor.liabilities.layout import EQUITY, LANES, SolvencyLayout, check_weights


class NegativeNetValueError(ZkporError):
    """A user's net value is negative: the prover refuses to prove the batch."""

    def __init__(self, user: int) -> None:
        self.user = user
        super().__init__(f"user {user} of the batch has a negative net value")


@dataclass
class BatchWitness:
    trace: np.ndarray
    public: BatchPublic
    leaves: np.ndarray  # (B, 4) leaf digests
    nodes: np.ndarray  # (2B, 4) heap-numbered tree: nodes[1] is the root, leaves at B … 2B−1


def leaf_element_matrix(layout: SolvencyLayout, id_hashes: np.ndarray, equity: np.ndarray,
                        debt: np.ndarray) -> np.ndarray:  # fmt: skip
    """(B, 4 + 2A) leaf inputs: id hash, then equity and debt interleaved, padded with zero assets."""
    B = layout.batch_size
    values = np.zeros((B, 2 * layout.assets), dtype=np.uint64)
    values[:, 0 : 2 * equity.shape[1] : 2] = equity
    values[:, 1 : 2 * debt.shape[1] : 2] = debt
    return np.concatenate([id_hashes.astype(np.uint64), values], axis=1)


def build_batch(
    layout: SolvencyLayout,
    statement_digest: tuple[int, int, int, int],
    batch_index: int,
    id_hashes: np.ndarray,
    equity: np.ndarray,
    debt: np.ndarray,
    *,
    weights: tuple[int, ...],
    strict: bool = True,
) -> BatchWitness:
    """The trace and public statement for B users (arrays of shape (B, 4), (B, assets), (B, assets))
    priced by `weights` (the statement's price weights, one per real asset: public inputs).

    `strict=False` skips the refusals (a balance over its bound, a negative net value) and builds
    the trace anyway: the tests use it to play a cheating prover and watch the verifier reject."""
    B, block, n = layout.batch_size, layout.block, layout.trace_length
    L, K = layout.limb_bits, layout.limbs_per_value
    if id_hashes.shape != (B, 4) or equity.shape != debt.shape or equity.shape[0] != B:
        raise ValueError("batch arrays have the wrong shape")
    check_weights(weights, len(layout.asset_bits))

    def signed_weight(content: tuple[int, int]) -> int:
        return weights[content[0]] * (1 if content[1] == EQUITY else -1) if content[0] < len(weights) else 0

    bounds = np.array([1 << b for b in layout.asset_bits], dtype=np.uint64)
    if strict and (np.any(equity >= bounds) or np.any(debt >= bounds)):
        raise ZkporError("a balance is over its asset's bit bound")
    trace = np.zeros((layout.width, n), dtype=np.uint64)
    gadget, output = layout.gadget, layout.gadget_output
    width = gadget.columns
    elements = leaf_element_matrix(layout, id_hashes, equity, debt)
    starts = np.arange(B) * block

    # The leaf sponge, one row type at a time, from the capacity the round's statement gives.
    capacity = np.array(leaf_capacity(statement_digest, layout.leaf_elements), dtype=np.uint64)
    state_capacity = np.repeat(capacity[:, None], B, axis=1)
    for r in range(layout.sponge_rows):
        inputs = np.concatenate([elements[:, r * LANES : (r + 1) * LANES].T, state_capacity])
        rows = gadget.fill_trace(np.ascontiguousarray(inputs))
        trace[:width, starts + r] = rows
        state_capacity = rows[output + LANES : output + 12]
    leaves = trace[output : output + 4, starts + layout.sponge_rows - 1].T.copy()

    # The tree, level by level: node i (1 … B−1) lives on the node row of block i − 1.
    nodes = np.zeros((2 * B, 4), dtype=np.uint64)
    nodes[B:] = leaves
    node_capacity = np.array(poseidon2.sponge_initial_state(NODE_DOMAIN, 8)[LANES:], dtype=np.uint64)
    level = B // 2
    while level >= 1:
        ids = np.arange(level, 2 * level)
        capacities = np.repeat(node_capacity[:, None], level, 1)
        inputs = np.concatenate([nodes[2 * ids].T, nodes[2 * ids + 1].T, capacities])
        rows = gadget.fill_trace(np.ascontiguousarray(inputs))
        trace[:width, (ids - 1) * block + layout.node_row] = rows
        nodes[ids] = rows[output : output + 4].T
        level //= 2
    filler_rows = [(B - 1) * block + layout.node_row]  # the dummy node: zero children, node capacity
    dummy = np.concatenate([np.zeros(8, dtype=np.uint64), node_capacity])[:, None]
    trace[:width, filler_rows] = gadget.fill_trace(dummy)
    spare = gadget.fill_trace(np.zeros((12, 1), dtype=np.uint64))
    for r in range(layout.carry_row, block):
        trace[:width, starts + r] = spare

    # Limbs of every balance lane on the sponge rows; the limb-position sums of the net value.
    mask = np.uint64((1 << L) - 1)
    sums = np.zeros((B, K), dtype=object)
    for r in range(layout.sponge_rows):
        for lane in range(LANES):
            content = layout.lane_content(r, lane)
            if content is None:
                continue
            values = trace[lane, starts + r]
            weight = signed_weight(content)
            for k in range(K):
                limb = (values >> np.uint64(L * k)) & mask
                trace[layout.limb(lane, k), starts + r] = limb
                if weight:
                    sums[:, k] += limb.astype(object) * weight
    # acc[k] on each row: running sum over the block's sponge rows (constant afterwards).
    running = np.zeros((B, K), dtype=object)
    for r in range(block):
        if r < layout.sponge_rows:
            for lane in range(LANES):
                content = layout.lane_content(r, lane)
                if content is None:
                    continue
                w = signed_weight(content)
                for k in range(K):
                    running[:, k] += trace[layout.limb(lane, k), starts + r].astype(object) * w
        for k in range(K):
            as_field = [int(v) % P for v in running[:, k]]
            trace[layout.acc_offset + k, starts + r] = np.array(as_field, dtype=np.uint64)

    _fill_carry_chain(layout, trace, starts, sums, strict)

    for s, (lane, k) in enumerate(layout.scaled_slots):
        scales = np.array([layout.scale(r, lane, k) for r in range(block)], dtype=np.uint64)
        column = trace[layout.limb(lane, k)]
        trace[layout.scaled_offset + s] = column * np.tile(scales, B)  # < 2^L · 2^L: no wrap
    trace[layout.block_column] = np.repeat(np.arange(B, dtype=np.uint64), block)

    looked_up = trace[width : layout.acc_offset].ravel()  # limbs and scaled limbs
    in_table = looked_up[looked_up < np.uint64(1 << L)]
    if strict and in_table.shape[0] != looked_up.shape[0]:
        raise ZkporError("a limb is out of range (internal error: limbs are built below 2^L)")
    counts = np.bincount(in_table.astype(np.int64), minlength=1 << L)
    trace[layout.multiplicity_column, : 1 << L] = counts.astype(np.uint64)
    trace[layout.table_column] = np.minimum(np.arange(n), (1 << L) - 1).astype(np.uint64)
    trace[layout.node_multiplicity_column, starts[:-1] + layout.node_row] = 1

    limb_totals = []
    for asset in range(layout.assets):
        per_side = []
        for side in (0, 1):
            r, lane = divmod(4 + 2 * asset + side, LANES)
            per_side.append(tuple(int(trace[layout.limb(lane, k), starts + r].sum(dtype=np.uint64))
                                  for k in range(K)))  # fmt: skip
        limb_totals.append(tuple(per_side))
    root = tuple(int(v) for v in nodes[1])
    public = BatchPublic(statement_digest, batch_index, root, tuple(limb_totals), tuple(weights))  # type: ignore[arg-type]
    return BatchWitness(trace, public, leaves, nodes)


def _fill_carry_chain(
    layout: SolvencyLayout, trace: np.ndarray, starts: np.ndarray, sums: np.ndarray, strict: bool
) -> None:
    """Witnesses r_k, q_k + offset, top (see CarryChain) into the carry row's limb slots."""
    chain, L, K = layout.carry, layout.limb_bits, layout.limbs_per_value
    row = starts + layout.carry_row
    B = starts.shape[0]
    slots = np.zeros((B, LANES * K), dtype=np.uint64)
    for user in range(B):
        carry = 0
        for k in range(K - 1):
            total = int(sums[user, k]) + carry
            remainder, carry = total % (1 << L), total >> L  # floor division, also for negatives
            slots[user, chain.remainder_slots[k]] = remainder
            _spread(slots[user], chain.quotient_slots[k], carry + chain.q_offset, L)
        top = int(sums[user, K - 1]) + carry
        if top < 0:
            if strict:
                raise NegativeNetValueError(user)
            top %= 1 << (L * len(chain.top_slots))  # what a cheater could best write
        _spread(slots[user], chain.top_slots, top, L)
    for s in range(LANES * K):
        trace[layout.gadget.columns + s, row] = slots[:, s]


def _spread(target: np.ndarray, slots: tuple[int, ...], value: int, L: int) -> None:
    for i, s in enumerate(slots):
        target[s] = (value >> (L * i)) & ((1 << L) - 1)
