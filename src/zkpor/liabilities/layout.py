"""Where everything sits in the solvency trace.

The trace is a sequence of blocks, one per user, of `block` rows (a power of two). Every row is one
Poseidon2 width-12 permutation (the gadget's columns: 248 with degree-3 S-box constraints, 130 with
degree-7 ones, `sbox_degree`) plus the columns below. In a block:

    rows 0 … R−1   the leaf sponge: row r absorbs leaf elements 8r … 8r+7 (id hash, then equity,
                   debt of each asset); its capacity comes from row r−1 (row 0: the leaf domain tag
                   and the element count). Row R−1's output lanes 0..3 are the leaf digest.
    row R          one tree node: inputs (left ‖ right ‖ node tag); block j holds node j+1 of the
                   heap-numbered tree (root = node 1, leaves = B … 2B−1). Block B−1's node row is
                   a dummy.
    row R+1        the net-value carry chain, its witnesses in the limb columns.
    further rows   spare (any valid permutation; nothing reads them).

Columns after the permutation's:

    limbs[lane][k]  L-bit limbs of rate lane `lane` (k = 0 … K−1, K = 64/L), range-checked by LogUp
    scaled[s]       limb · scale for the few (lane, k) whose allowed bits are < L (top limbs)
    acc[k]          running Σ_lane weight · limb within the block: at row R+1 it is s_k, the
                    net value's limb-position sums
    block           j, the block (user) index: 0 on row 0, +1 after each block's last row
    multiplicity    how often the table value on this row is looked up
    table           the range table: 0 on row 0, then +0 or +1 per row, 2^L−1 on the last row, so
                    it holds exactly the values 0 … 2^L−1 (the witness counts up, then stays)
    node_multiplicity  how often the node on this row counts on the tree bus: 1 on the node rows
                    of blocks 0 … B−2, 0 elsewhere (the dummy). Like `multiplicity`, it is a free
                    witness that the bus itself pins (see `air`, item 4).

`table` and `node_multiplicity` are committed columns, not periodic ones: a verifier (native, or
compiled into a recursion program) evaluates a periodic column at z as a polynomial of its period,
2^L and n terms for these two, while a committed column is one opened value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from zkpor.field.goldilocks import P
from zkpor.liabilities.encoding import SPONGE_RATE, padded_asset_count
from zkpor.stark.gadgets import poseidon2 as gadget

LANES = SPONGE_RATE
EQUITY, DEBT = 0, 1


def _next_power_of_two(x: int) -> int:
    return 1 << (x - 1).bit_length()


# Price weights are public inputs of the solvency AIR, not part of its shape (`air.BatchPublic`):
# one layout, and so one AIR digest and one node program, serves every round of the same assets,
# bit bounds and batch shape, whatever the prices. The carry chain is therefore planned for the
# largest weight sum the no-wrap rule admits, not for a round's prices: round.config's
# 2 · Σ w_j · (2^16 − 1) · 2 < (p − 1) / 2 gives Σ w_j ≤ MAX_WEIGHT_SUM (about 2^45).
MAX_WEIGHT = 1 << 40  # exclusive bound on every w_j (round.config's PRICE_WEIGHT_LIMIT)
MAX_WEIGHT_SUM = ((P - 1) // 2 - 1) // (4 * ((1 << 16) - 1))


def check_weights(weights: tuple[int, ...], assets: int) -> None:
    """Refuse price weights the carry chain was not planned for (ValueError naming the rule)."""
    if len(weights) != assets:
        raise ValueError(f"one price weight per asset: {len(weights)} weights for {assets} assets")
    if any(type(w) is not int or not 0 <= w < MAX_WEIGHT for w in weights):
        raise ValueError("price weights must be integers in [0, 2^40)")
    if sum(weights) > MAX_WEIGHT_SUM:
        raise ValueError(
            f"prices too large for an exact net-value carry chain: the weights sum to {sum(weights)}, "
            f"above {MAX_WEIGHT_SUM}"
        )


@dataclass(frozen=True)
class SolvencyLayout:
    """The solvency trace's shape: what the AIR's digest and a node program depend on."""

    asset_bits: tuple[int, ...]  # per real asset; padding assets get 0 bits (always zero)
    limb_bits: int  # L: 16 in production, 8 for small test batches (the table needs 2^L rows)
    batch_size: int  # B users (a power of two)
    sbox_degree: int = 3  # the Poseidon2 gadget's shape (`gadget.Poseidon2Gadget`)

    def __post_init__(self) -> None:
        self.gadget  # noqa: B018 — validates the S-box degree
        if self.limb_bits not in (8, 16):
            raise ValueError("limb_bits must be 8 or 16")
        if self.batch_size < 2 or self.batch_size & (self.batch_size - 1):
            raise ValueError("batch size must be a power of two >= 2")
        if not self.asset_bits:
            raise ValueError("a layout has at least one asset")
        if any(not 1 <= b <= 63 for b in self.asset_bits):
            raise ValueError("asset bit bounds must be in [1, 63]")
        if self.trace_length < (1 << self.limb_bits):
            raise ValueError(
                f"a batch of {self.batch_size} users has {self.trace_length} rows, fewer than the "
                f"2^{self.limb_bits}-entry range table"
            )
        self.carry  # noqa: B018 — validates the carry-chain bounds now, not at proving time

    # ---- sizes --------------------------------------------------------------------------------

    @property
    def assets(self) -> int:
        return padded_asset_count(len(self.asset_bits))

    @property
    def limbs_per_value(self) -> int:
        return 64 // self.limb_bits

    @property
    def sponge_rows(self) -> int:
        return (4 + 2 * self.assets) // LANES

    @property
    def node_row(self) -> int:
        return self.sponge_rows

    @property
    def carry_row(self) -> int:
        return self.sponge_rows + 1

    @property
    def block(self) -> int:
        return _next_power_of_two(self.sponge_rows + 2)

    @property
    def trace_length(self) -> int:
        return self.batch_size * self.block

    @property
    def leaf_elements(self) -> int:
        return 4 + 2 * self.assets

    # ---- what each rate lane holds ------------------------------------------------------------

    def lane_content(self, row: int, lane: int) -> tuple[int, int] | None:
        """(asset, EQUITY|DEBT) of a rate lane on a sponge row, or None (id hash, or not a sponge row)."""
        if row >= self.sponge_rows:
            return None
        element = row * LANES + lane
        if element < 4:
            return None
        return divmod(element - 4, 2)

    def bits_of(self, asset: int) -> int:
        return self.asset_bits[asset] if asset < len(self.asset_bits) else 0

    def allowed_limb_bits(self, row: int, lane: int, k: int) -> int:
        """How many bits limb k of this lane may have on this row (L where unconstrained)."""
        L = self.limb_bits
        content = self.lane_content(row, lane)
        if content is not None:
            return max(0, min(L, self.bits_of(content[0]) - L * k))
        if row == self.carry_row:
            slot = lane * self.limbs_per_value + k
            return self.carry.slot_bits.get(slot, L)
        return L

    @cached_property
    def scaled_slots(self) -> tuple[tuple[int, int], ...]:
        """(lane, k) pairs that need a scaled lookup on some row of the block."""
        L = self.limb_bits
        return tuple(
            (lane, k)
            for lane in range(LANES)
            for k in range(self.limbs_per_value)
            if any(self.allowed_limb_bits(row, lane, k) < L for row in range(self.block))
        )

    def scale(self, row: int, lane: int, k: int) -> int:
        return 1 << (self.limb_bits - self.allowed_limb_bits(row, lane, k))

    # ---- columns ------------------------------------------------------------------------------

    @cached_property  # read for every column index (`limb`), chunk after chunk by the prover
    def gadget(self) -> gadget.Poseidon2Gadget:
        return gadget.Poseidon2Gadget(self.sbox_degree)

    @property
    def gadget_output(self) -> int:
        """The first of the permutation's 12 output columns."""
        return self.gadget.output_offset

    def limb(self, lane: int, k: int) -> int:
        return self.gadget.columns + lane * self.limbs_per_value + k

    @property
    def scaled_offset(self) -> int:
        return self.gadget.columns + LANES * self.limbs_per_value

    @property
    def acc_offset(self) -> int:
        return self.scaled_offset + len(self.scaled_slots)

    @property
    def block_column(self) -> int:
        return self.acc_offset + self.limbs_per_value

    @property
    def multiplicity_column(self) -> int:
        return self.block_column + 1

    @property
    def table_column(self) -> int:
        return self.multiplicity_column + 1

    @property
    def node_multiplicity_column(self) -> int:
        return self.table_column + 1

    @property
    def width(self) -> int:
        return self.node_multiplicity_column + 1

    @cached_property
    def carry(self) -> CarryChain:
        return CarryChain.plan(self)


@dataclass(frozen=True)
class CarryChain:
    """Witness slots of the net-value carry chain (flattened limb columns of the carry row).

    With s_k the limb-position sums (|s_k| ≤ s_bound): s_0 = r_0 + 2^L q_0,
    s_k + q_{k−1} = r_k + 2^L q_k (k < K−1), s_{K−1} + q_{K−2} = top, r_k ∈ [0, 2^L),
    q_k + q_offset ∈ [0, 2^(QL·L)), top ∈ [0, 2^top_bits). Then the net value
    Σ_k s_k 2^(Lk) = Σ_{k<K−1} r_k 2^(Lk) + top · 2^(L(K−1)) is ≥ 0 exactly when top is; the bounds
    are checked below so that no equation can wrap modulo p.
    """

    remainder_slots: tuple[int, ...]
    quotient_slots: tuple[tuple[int, ...], ...]
    top_slots: tuple[int, ...]
    q_offset: int
    top_bits: int
    slot_bits: dict[int, int]

    @staticmethod
    def plan(layout: SolvencyLayout) -> CarryChain:
        L, K = layout.limb_bits, layout.limbs_per_value
        s_bound = MAX_WEIGHT_SUM * ((1 << L) - 1)  # every round's prices (`check_weights`)
        quotient_limbs = max(1, -(-(s_bound.bit_length() - L + 2) // L))
        q_offset = 1 << (quotient_limbs * L - 1)
        if s_bound + q_offset + (1 << L) + (q_offset << L) >= P:
            raise ValueError("no exact net-value carry chain for these limbs")
        top_bits = (s_bound + q_offset).bit_length()
        if (1 << top_bits) > P - (s_bound + q_offset):
            raise ValueError("limbs too large: a negative net value could pass as positive")
        top_limbs = -(-top_bits // L)
        slots = iter(range(LANES * K))
        remainders = tuple(next(slots) for _ in range(K - 1))
        quotients = tuple(tuple(next(slots) for _ in range(quotient_limbs)) for _ in range(K - 1))
        top = tuple(next(slots) for _ in range(top_limbs))
        slot_bits = {top[-1]: top_bits - L * (top_limbs - 1)}
        return CarryChain(remainders, quotients, top, q_offset, top_bits, slot_bits)
