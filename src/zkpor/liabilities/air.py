"""The solvency AIR: one batch of users (DESIGN.md, "The solvency statement").

For every user (a block of rows, see `layout`), the constraints enforce:

1. range: each equity and debt value is the sum of its L-bit limbs, every limb is in the 2^L table
   (LogUp), and the top limbs are scaled so that the value is below 2^bits of its asset. The table
   is a committed column that starts at 0, steps by 0 or 1 and ends at 2^L − 1, so its values are
   exactly 0 … 2^L − 1 (no periodic column of period 2^L for the verifier to evaluate);
2. net value ≥ 0: the limb-position sums s_k = Σ_j w_j (e_jk − d_jk) accumulate over the sponge
   rows, and the carry chain on the carry row shows Σ_k s_k 2^(Lk) ≥ 0 exactly (see CarryChain);
3. the leaf: the sponge rows compute the leaf sponge over id_hash ‖ balances in the trace, each
   absorbing the very lane values that are range-checked; the first row's capacity is the one
   derived from the public statement digest (`encoding.leaf_capacity`), so every leaf commits to
   the round's statement;
4. the tree: every leaf digest and every node digest is sent on a LogUp bus keyed by its heap
   index, every node receives its two children by index, and the one unreceived digest — the
   root, index 1 — is the public batch root (the bus's public sum). How often each node row counts
   is a committed multiplicity μ (1 on real nodes, 0 on block B − 1's dummy), free like the range
   table's, because the bus pins it: the dummy alone receives heap indices 2B and 2B + 1, which
   nothing sends, so its μ must be 0; the root's μ must be 1 to match the public sum, and going
   down, each node's μ must equal its parent's receive (each index < B is sent by one node row
   and received by one), so every real node's μ is 1. The index j is pinned by the block-index
   constraint, and μ only acts on node rows (it is multiplied by the `node` selector, the rows
   whose capacity is the node tag). Range lookups and tree
   digests share one LogUp sum, so each tuple starts with its bus's tag (RANGE_BUS, TREE_BUS):
   a tree tuple can never stand in for a range-table entry or the reverse;
5. exact totals: for a verifier challenge ρ, an aux running sum shows Σ_users Σ ρ^(slot) · limb =
   Σ ρ^(slot) · T_slot for the public per-(asset, side, limb) totals T. Each T < B · 2^L < p, so
   equality of the random combination means every T is exact; the verifier rebuilds the exact
   integer totals Σ_k T_k 2^(Lk) with Python integers.

The public inputs (statement digest, batch index, batch size, price weights, root, limb totals) are
absorbed with the AIR's digest, and the bit bounds are in its periodic columns, so a proof is bound
to its round's whole statement (`statement`) and its batch. The price weights are public inputs, not
constants: the accumulator constraint reads the weight of lane `lane` on the next row as
Σ_r next_is_r · w_(asset on row r, lane), so the AIR's shape (its digest, and the node program that
verifies it in-circuit) is the same for every round of one asset list and batch shape, whatever the
prices (docs/round-proof.md, "What a verification key depends on"). The carry chain is planned for
any weights `layout.check_weights` admits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext
from zkpor.hash import poseidon2
from zkpor.liabilities.encoding import NODE_DOMAIN, leaf_capacity
from zkpor.liabilities.layout import EQUITY, LANES, SolvencyLayout, check_weights
from zkpor.stark.air import Air, Assertion, Constraint, Frame, LookupTerm, compress_values
from zkpor.stark.algebra import ExtVec, selected_combinations

RANGE_BUS, TREE_BUS = 1, 2  # first element of every LogUp tuple: which bus it travels on


@dataclass(frozen=True)
class BatchPublic:
    """A batch's public statement."""

    statement_digest: tuple[int, int, int, int]  # the round's statement (`statement.Statement`)
    batch_index: int
    root: tuple[int, int, int, int]
    limb_totals: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # [asset][side][k]
    weights: tuple[int, ...]  # the statement's price weights w_j, one per real asset

    def asset_totals(self, limb_bits: int) -> list[tuple[int, int]]:
        """Exact (equity, debt) totals per asset, as Python integers."""
        return [
            tuple(sum(t << (limb_bits * k) for k, t in enumerate(side)) for side in asset)  # type: ignore[misc]
            for asset in self.limb_totals
        ]


class SolvencyAir(Air):
    name = "zkpor-solvency"

    def __init__(
        self, layout: SolvencyLayout, public: BatchPublic, *, capacity: Sequence | None = None
    ) -> None:
        super().__init__(layout.trace_length)
        self.layout = layout
        self.public = public
        if len(public.limb_totals) != layout.assets:
            raise ValueError("limb totals must cover every (padded) asset")
        if all(isinstance(w, int) for w in public.weights):  # not a node program's cells
            check_weights(public.weights, len(layout.asset_bits))
        elif len(public.weights) != len(layout.asset_bits):
            raise ValueError("one price weight per asset")
        # The leaf sponge's first capacity, a public constant of the statement (`encoding`). A
        # verifier compiled into a node program, whose statement digest is program cells, hashes
        # them there and passes the capacity's cells (`zkpor.liabilities.aggregation`).
        if capacity is None:
            capacity = leaf_capacity(public.statement_digest, layout.leaf_elements)
        self._leaf_capacity = list(capacity)
        self._periodic_index: dict[str, int] = {}
        self._periodic: list[list[int]] = []
        self._build_periodic()

    # ---- periodic columns -----------------------------------------------------------------------

    def _add(self, name: str, values: list[int]) -> None:
        self._periodic_index[name] = len(self._periodic)
        self._periodic.append([v % gl.P for v in values])

    def _build_periodic(self) -> None:
        lay = self.layout
        rows = range(lay.block)

        def at(row_predicate) -> list[int]:
            return [1 if row_predicate(r) else 0 for r in rows]

        self._add("first", at(lambda r: r == 0))
        self._add("continues", at(lambda r: r + 1 < lay.sponge_rows))  # next row continues the sponge
        self._add("leaf", at(lambda r: r == lay.sponge_rows - 1))
        self._add("node", at(lambda r: r == lay.node_row))
        self._add("carry", at(lambda r: r == lay.carry_row))
        self._add("last", at(lambda r: r == lay.block - 1))
        for lane in range(LANES):
            self._add(f"balance{lane}", at(lambda r, lane=lane: lay.lane_content(r, lane) is not None))
        for lane, k in lay.scaled_slots:
            self._add(f"scale{lane}.{k}", [lay.scale(r, lane, k) for r in rows])
        for r in range(lay.sponge_rows):
            self._add(f"next_is{r}", at(lambda row, r=r: (row + 1) % lay.block == r))

    def periodic_columns(self) -> list[list[int]]:
        return self._periodic

    def _p(self, periodic: Sequence, name: str):
        return periodic[self._periodic_index[name]]

    # ---- layout -------------------------------------------------------------------------------

    @property
    def main_width(self) -> int:
        return self.layout.width

    def public_inputs(self) -> list[int]:
        p = self.public
        totals = [t for asset in p.limb_totals for side in asset for t in side]
        return [*p.statement_digest, p.batch_index, self.layout.batch_size, *p.weights, *p.root, *totals]

    # ---- main constraints -----------------------------------------------------------------------

    def constraints(self) -> list[Constraint]:
        lay = self.layout
        out = [Constraint(lay.gadget.constraint_degree, wraps=True)] * lay.gadget.num_constraints
        out += [Constraint(2, wraps=True)] * (4 + 4 + 4)  # leaf capacity, node capacity, chaining
        out += [Constraint(2, wraps=True)] * LANES  # balance = Σ limbs
        out += [Constraint(2, wraps=True)] * len(lay.scaled_slots)
        out += [Constraint(2, wraps=True)] * lay.limbs_per_value  # net-value accumulators
        out += [Constraint(2)]  # block index (not across the wrap)
        out += [Constraint(2, wraps=True)] * lay.limbs_per_value  # carry chain
        out += [Constraint(2)]  # the range table steps by 0 or 1 (not across the wrap)
        return out

    def evaluate(self, frame: Frame, periodic: Sequence) -> list:
        lay = self.layout
        cur, nxt = frame.current, frame.next
        L, K = lay.limb_bits, lay.limbs_per_value
        out, _ = lay.gadget.constraints(cur)
        output = lay.gadget_output
        first, node, continues = (self._p(periodic, n) for n in ("first", "node", "continues"))
        node_capacity = poseidon2.sponge_initial_state(NODE_DOMAIN, 8)[LANES:]
        for i in range(4):
            out.append(first * (cur[LANES + i] - self._leaf_capacity[i]))
        for i in range(4):
            out.append(node * (cur[LANES + i] - node_capacity[i]))
        for i in range(4):
            out.append(continues * (nxt[LANES + i] - cur[output + LANES + i]))
        for lane in range(LANES):
            recomposed = cur[lay.limb(lane, 0)]
            for k in range(1, K):
                recomposed = recomposed + cur[lay.limb(lane, k)] * (1 << (L * k))
            out.append(self._p(periodic, f"balance{lane}") * (cur[lane] - recomposed))
        for s, (lane, k) in enumerate(lay.scaled_slots):
            scale = self._p(periodic, f"scale{lane}.{k}")
            out.append(cur[lay.scaled_offset + s] - cur[lay.limb(lane, k)] * scale)
        keep = 1 - self._p(periodic, "last")
        weights = self._next_row_weights(periodic)
        for k in range(K):
            step = None
            for lane, (weight, side) in weights.items():  # equity lanes add, debt lanes subtract
                term = nxt[lay.limb(lane, k)] * weight
                step = term if step is None else (step + term if side == EQUITY else step - term)
            out.append(nxt[lay.acc_offset + k] - cur[lay.acc_offset + k] * keep - step)
        out.append(nxt[lay.block_column] - cur[lay.block_column] - self._p(periodic, "last"))
        out += [self._p(periodic, "carry") * e for e in self._carry_equations(cur)]
        table_step = nxt[lay.table_column] - cur[lay.table_column]
        out.append(table_step * (table_step - 1))
        return out

    def _next_row_weights(self, periodic: Sequence) -> dict[int, tuple[object, int]]:
        """Per rate lane holding a real asset's balance on some sponge row: (the price weight of the
        next row's asset in that lane, Σ_r next_is_r · w_(asset on row r), and the lane's side).
        A lane always holds one side (element 4 + 2·asset + side sits in lane (4 + 2·asset + side)
        mod 8), so the sign is the lane's. The first lane listed holds equity (lane 0 from row 1
        on, or lane 4, asset 0's equity on row 0), so the accumulator's sum starts with a term
        that is added."""
        lay, weights = self.layout, self.public.weights
        out: dict[int, tuple[object, int]] = {}
        for lane in range(LANES):
            total, side = None, None
            for r in range(lay.sponge_rows):
                content = lay.lane_content(r, lane)
                if content is None or content[0] >= len(weights):  # the id hash, a padding asset
                    continue
                term = self._p(periodic, f"next_is{r}") * weights[content[0]]
                total, side = (term if total is None else total + term), content[1]
            if total is not None:
                out[lane] = (total, side)
        return out

    def _carry_equations(self, cur: Sequence) -> list:
        lay, chain = self.layout, self.layout.carry
        L, K = lay.limb_bits, lay.limbs_per_value

        def slot(s: int):
            return cur[lay.gadget.columns + s]

        def combine(slots: Sequence[int]):
            value = slot(slots[0])
            for i, s in enumerate(slots[1:], start=1):
                value = value + slot(s) * (1 << (L * i))
            return value

        quotients = [combine(q) - chain.q_offset for q in chain.quotient_slots]
        sums = [cur[lay.acc_offset + k] for k in range(K)]
        equations = []
        for k in range(K - 1):
            incoming = sums[k] if k == 0 else sums[k] + quotients[k - 1]
            equations.append(incoming - slot(chain.remainder_slots[k]) - quotients[k] * (1 << L))
        equations.append(sums[K - 1] + quotients[K - 2] - combine(chain.top_slots))
        return equations

    def assertions(self) -> list[Assertion]:
        lay = self.layout
        return [
            Assertion(lay.block_column, 0, 0),
            Assertion(lay.table_column, 0, 0),
            Assertion(lay.table_column, lay.trace_length - 1, (1 << lay.limb_bits) - 1),
        ]

    # ---- lookups: range checks and the digest bus -----------------------------------------------

    def lookups(self) -> list[LookupTerm]:
        lay = self.layout
        def column(c: int) -> LookupTerm:
            return LookupTerm(values=lambda row, p: [RANGE_BUS, row[c]], multiplicity=lambda row, p: 1)

        limb_columns = [lay.limb(lane, k) for lane in range(LANES) for k in range(lay.limbs_per_value)]
        scaled_columns = [lay.scaled_offset + s for s in range(len(lay.scaled_slots))]
        terms = [column(c) for c in limb_columns + scaled_columns]
        terms.append(
            LookupTerm(
                values=lambda row, p: [RANGE_BUS, row[lay.table_column]],
                multiplicity=lambda row, p: -row[lay.multiplicity_column],
                multiplicity_degree=1,
            )
        )
        B, j, output = lay.batch_size, lay.block_column, lay.gadget_output

        def digest(row, first_column: int) -> list:
            return [row[first_column + i] for i in range(4)]

        def real_node(row, p):  # 1 on the node row of every block but the last (the dummy)
            return self._p(p, "node") * row[lay.node_multiplicity_column]

        terms += [
            LookupTerm(values=lambda row, p: [TREE_BUS, row[j] + B, *digest(row, output)],
                       multiplicity=lambda row, p: self._p(p, "leaf"), multiplicity_degree=1),
            LookupTerm(values=lambda row, p: [TREE_BUS, row[j] + 1, *digest(row, output)],
                       multiplicity=real_node, multiplicity_degree=2),
            LookupTerm(values=lambda row, p: [TREE_BUS, row[j] * 2 + 2, *digest(row, 0)],
                       multiplicity=lambda row, p: -real_node(row, p), multiplicity_degree=2),
            LookupTerm(values=lambda row, p: [TREE_BUS, row[j] * 2 + 3, *digest(row, 4)],
                       multiplicity=lambda row, p: -real_node(row, p), multiplicity_degree=2),
        ]  # fmt: skip
        return terms

    def lookup_public_sum(self, beta, gamma):
        """The root (heap index 1) is sent and never received."""
        return Ext(1, 0) / (beta - compress_values([TREE_BUS, 1, *self.public.root], gamma))

    # ---- exact totals: an extra aux running sum under the challenge ρ ----------------------------

    extra_aux_width = 1
    num_extra_challenges = 1

    def extra_aux_constraints(self) -> list[Constraint]:
        return [Constraint(2, wraps=True)]

    def _slot_weights(self, rho: Ext) -> dict[tuple[int, int, int], Ext]:
        """ρ^i for every (sponge row, lane, k) holding a balance limb, in a fixed order."""
        lay = self.layout
        weights, power = {}, Ext(1, 0)
        for r in range(lay.sponge_rows):
            for lane in range(LANES):
                if lay.lane_content(r, lane) is None:
                    continue
                for k in range(lay.limbs_per_value):
                    weights[(r, lane, k)] = power
                    power = power * rho
        return weights

    def _public_total(self, weights: dict[tuple[int, int, int], Ext]) -> Ext:
        total = Ext(0, 0)
        for (r, lane, k), weight in weights.items():
            asset, side = self.layout.lane_content(r, lane)  # type: ignore[misc]
            total = total + weight * self.public.limb_totals[asset][side][k]
        return total

    def _totals_terms(self, rho) -> tuple[list[list[tuple[int, int]]], list[list], object]:
        """Per sponge row its limb slots (lane, k) and their weights ρ^slot, and the public total's
        share per row, Σ ρ^slot·T_slot / n. The prover evaluates the constraint chunk by chunk
        with one ρ: kept for the last `Ext` ρ (a node program's cells are computed each time)."""
        cached = self._totals_cache
        if cached is not None and isinstance(rho, Ext) and cached[0] == rho:
            return cached[1]
        weights = self._slot_weights(rho)
        slots: list[list[tuple[int, int]]] = [[] for _ in range(self.layout.sponge_rows)]
        slot_weights: list[list] = [[] for _ in range(self.layout.sponge_rows)]
        for (r, lane, k), weight in weights.items():
            slots[r].append((lane, k))
            slot_weights[r].append(weight)
        offset = self._public_total(weights) * pow(self.trace_length, gl.P - 2, gl.P)
        terms = (slots, slot_weights, offset)
        if isinstance(rho, Ext):
            self._totals_cache = (rho, terms)
        return terms

    _totals_cache: tuple[Ext, tuple] | None = None

    def evaluate_extra_aux(self, frame: Frame, periodic: Sequence, challenges: Sequence) -> list:
        (rho,) = challenges
        lay = self.layout
        slots, slot_weights, offset = self._totals_terms(rho)
        selectors = [self._p(periodic, f"next_is{r}") for r in range(lay.sponge_rows)]
        limbs = [[frame.next[lay.limb(lane, k)] for lane, k in row] for row in slots]
        step = selected_combinations(selectors, limbs, slot_weights)  # Σ_r next_is_r · Σ ρ^slot · limb
        column = self.extra_aux_offset
        return [frame.aux_next[column] - frame.aux_current[column] - step + offset]

    def build_extra_aux(self, trace: np.ndarray, challenges: Sequence) -> np.ndarray:
        from zkpor.field import extension as ext
        from zkpor.stark.kernels import exclusive_prefix_sum

        (rho,) = challenges
        lay = self.layout
        n = lay.trace_length
        slots, slot_weights, offset = self._totals_terms(rho)
        contribution = np.zeros((n, 2), dtype=np.uint64)
        for r in range(lay.sponge_rows):  # rows r, r + block, …: Σ_(lane, k) ρ^slot · limb, one pass
            if slots[r]:
                limbs = trace[[lay.limb(lane, k) for lane, k in slots[r]], r :: lay.block]
                contribution[r :: lay.block] = ext.ext_linear_combination(limbs, slot_weights[r])
        # The step from row i to i+1 is contribution[i+1] − S/n.
        step = (ExtVec(np.roll(contribution, -1, axis=0)) - offset).values
        running = [exclusive_prefix_sum(np.ascontiguousarray(step[:, c])) for c in (0, 1)]
        return np.stack(running)

