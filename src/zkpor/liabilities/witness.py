"""Build the solvency trace of one batch (see `layout` for where everything goes).

Work is vectorised across the batch: the leaf sponges' rows are filled block by block (the Poseidon2
gadget's `fill_sponge_rows`), tree level ℓ is one call of its trace filler, and limbs, accumulators
and carries are numpy. The trace matrix is a finished proof's when one was given back
(`release_trace`): fresh pages cost more to fault than the matrix costs to clear.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from zkpor.errors import ZkporError
from zkpor.field.goldilocks import P
from zkpor.hash import poseidon2
from zkpor.liabilities.air import BatchPublic
from zkpor.liabilities.encoding import NODE_DOMAIN, leaf_capacity
from zkpor.liabilities.layout import EQUITY, LANES, SolvencyLayout, check_weights
from zkpor.stark.polys import give_trace, zeroed_trace


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
    trace = zeroed_trace((layout.width, n))  # a finished proof's, when one was given back
    gadget, output = layout.gadget, layout.gadget_output
    width = gadget.columns
    elements = leaf_element_matrix(layout, id_hashes, equity, debt)

    def rows_of(r: int) -> slice:  # row r of every block: a strided view, not a gathered copy
        return slice(r, n, block)

    # The leaf sponges, from the capacity the round's statement gives: rows 0 … R−1 of every block.
    capacity = np.array(leaf_capacity(statement_digest, layout.leaf_elements), dtype=np.uint64)
    gadget.fill_sponge_rows(trace, elements.T, capacity, block)
    leaves = trace[output : output + 4, rows_of(layout.sponge_rows - 1)].T.copy()

    # The tree, level by level: node i (1 … B−1) lives on the node row of block i − 1.
    nodes = np.zeros((2 * B, 4), dtype=np.uint64)
    nodes[B:] = leaves
    node_capacity = np.array(poseidon2.sponge_initial_state(NODE_DOMAIN, 8)[LANES:], dtype=np.uint64)
    level = B // 2
    while level >= 1:
        capacities = np.repeat(node_capacity[:, None], level, 1)
        inputs = np.concatenate([nodes[2 * level : 4 * level : 2].T, nodes[2 * level + 1 : 4 * level : 2].T,
                                 capacities])  # fmt: skip
        rows = gadget.fill_trace(np.ascontiguousarray(inputs))
        first = (level - 1) * block + layout.node_row  # nodes level … 2·level − 1
        trace[:width, first : first + level * block : block] = rows
        nodes[level : 2 * level] = rows[output : output + 4].T
        level //= 2
    filler_row = (B - 1) * block + layout.node_row  # the dummy node: zero children, node capacity
    dummy = np.concatenate([np.zeros(8, dtype=np.uint64), node_capacity])[:, None]
    trace[:width, filler_row : filler_row + 1] = gadget.fill_trace(dummy)
    spare = gadget.fill_trace(np.zeros((12, 1), dtype=np.uint64))
    for r in range(layout.carry_row, block):
        trace[:width, rows_of(r)] = spare

    # Limbs of every balance lane on the sponge rows, and acc[k]: the running Σ weight · limb over
    # the block's sponge rows (constant afterwards), whose last value s_k is the net value's limb-
    # position sum. In int64: check_weights bounds Σ_j w_j · (2^L − 1) below 2^61, and every
    # partial sum lies between minus the debt side's and plus the equity side's.
    mask = np.uint64((1 << L) - 1)
    running = np.zeros((K, B), dtype=np.int64)
    for r in range(block):
        for lane in range(LANES) if r < layout.sponge_rows else ():
            content = layout.lane_content(r, lane)
            if content is None:
                continue
            values = trace[lane, rows_of(r)]
            weight = signed_weight(content)
            for k in range(K):
                limb = (values >> np.uint64(L * k)) & mask
                trace[layout.limb(lane, k), rows_of(r)] = limb
                if weight:
                    running[k] += limb.astype(np.int64) * weight
        for k in range(K):
            trace[layout.acc_offset + k, rows_of(r)] = _to_field(running[k])

    _fill_carry_chain(layout, trace, running, strict)

    for s, (lane, k) in enumerate(layout.scaled_slots):
        scales = np.array([layout.scale(r, lane, k) for r in range(block)], dtype=np.uint64)
        column = trace[layout.limb(lane, k)]
        trace[layout.scaled_offset + s] = column * np.tile(scales, B)  # < 2^L · 2^L: no wrap
    trace[layout.block_column] = np.repeat(np.arange(B, dtype=np.uint64), block)

    looked_up = trace[width : layout.acc_offset].ravel()  # limbs and scaled limbs (a view)
    if looked_up.max() < np.uint64(1 << L):  # always, unless a test builds a cheat
        counts = np.bincount(looked_up.view(np.int64), minlength=1 << L)
    else:
        if strict:
            raise ZkporError("a limb is out of range (internal error: limbs are built below 2^L)")
        in_table = looked_up[looked_up < np.uint64(1 << L)]
        counts = np.bincount(in_table.astype(np.int64), minlength=1 << L)
    trace[layout.multiplicity_column, : 1 << L] = counts.astype(np.uint64)
    trace[layout.table_column] = np.minimum(np.arange(n), (1 << L) - 1).astype(np.uint64)
    trace[layout.node_multiplicity_column, layout.node_row : (B - 1) * block : block] = 1

    limb_totals = []
    for asset in range(layout.assets):
        per_side = []
        for side in (0, 1):
            r, lane = divmod(4 + 2 * asset + side, LANES)
            per_side.append(tuple(int(trace[layout.limb(lane, k), rows_of(r)].sum(dtype=np.uint64))
                                  for k in range(K)))  # fmt: skip
        limb_totals.append(tuple(per_side))
    root = tuple(int(v) for v in nodes[1])
    public = BatchPublic(statement_digest, batch_index, root, tuple(limb_totals), tuple(weights))  # type: ignore[arg-type]
    return BatchWitness(trace, public, leaves, nodes)


def release_trace(witness: BatchWitness) -> None:
    """After its proof: the witness's trace matrix goes back for the next batch's (`stark.polys.
    give_trace`), unless something still holds it or a view of it; `witness.trace` is emptied."""
    trace = witness.trace
    witness.trace = np.empty((0, 0), dtype=np.uint64)
    # references: `trace` here and getrefcount's argument; any other holder (a view's base) adds one
    if sys.getrefcount(trace) <= 2:
        give_trace(trace)


def _to_field(values: np.ndarray) -> np.ndarray:
    """int64 values above −p as field elements: a negative x is p + x = (2^64 + x) − (2^64 − p)."""
    field = values.astype(np.uint64)  # two's complement: 2^64 + x for a negative x
    field[values < 0] -= np.uint64((1 << 64) - P)
    return field


def _fill_carry_chain(layout: SolvencyLayout, trace: np.ndarray, sums: np.ndarray, strict: bool) -> None:
    """Witnesses r_k, q_k + offset, top (see CarryChain) into the carry row's limb slots, for every
    user at once from the (K, B) int64 limb-position sums. `&` and `>>` on int64 are Python's floor
    remainder and division by 2^L, also for negatives."""
    chain, L, K = layout.carry, layout.limb_bits, layout.limbs_per_value
    B = sums.shape[1]
    slots = np.zeros((LANES * K, B), dtype=np.uint64)
    carry = np.zeros(B, dtype=np.int64)
    for k in range(K - 1):
        total = sums[k] + carry
        slots[chain.remainder_slots[k]] = total & ((1 << L) - 1)
        carry = total >> L
        _spread(slots, chain.quotient_slots[k], (carry + chain.q_offset).astype(np.uint64), L)
    top = sums[K - 1] + carry
    negative = np.flatnonzero(top < 0)
    if strict and negative.size:
        raise NegativeNetValueError(int(negative[0]))
    # A cheater's negative top is written mod 2^(L · slots), as Python's `%` would: two's complement.
    _spread(slots, chain.top_slots, top.astype(np.uint64), L)
    for s in range(LANES * K):
        trace[layout.gadget.columns + s, layout.carry_row :: layout.block] = slots[s]


def _spread(target: np.ndarray, slots: tuple[int, ...], values: np.ndarray, L: int) -> None:
    for i, s in enumerate(slots):
        target[s] = (values >> np.uint64(L * i)) & np.uint64((1 << L) - 1)
