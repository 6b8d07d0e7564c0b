"""The aggregation tree (zkpor.liabilities.aggregation): node programs verify their children inside a
recursion proof and carry the subtree root, the exact limb totals and the batch count up to the top
node, whose public values are global.json's.

Honest trees verify (N = 1, N = 3: a partial node with a filler slot, N = 5: two levels). Each
cheat violates one thing: a child proof that does not verify (an opening, a Merkle path step, a FRI
fold, a trace off its constraints), a child of another round, AIR or program, a child counted
twice, a root, total or count carried up wrongly; and the filler slots, which a node's program
selects from the batch count (a public input: one program a level, whatever N): a filler slot
claimed as a batch, a copied child counted twice, a real batch dropped as filler, a selector not
boolean, selectors not monotone, a copy's root in the root, a node proven for another N. Each is
refused by the program's run (naming the failed check, `failed_checks`) and, where a cheating
recursion prover can still make a proof, by `verify_node`.

Tiny batches (32 users × 22 assets, 8-bit limbs, 256 rows) and cheap options keep this fast; the
proofs are shared at module scope."""

from dataclasses import replace

import pytest

from zkpor.errors import InputError, VerificationError
from zkpor.field.pure import Ext, P
from zkpor.hash.merkle import SALT_ELEMS
from zkpor.liabilities import aggregation as ag
from zkpor.liabilities.air import SolvencyAir
from zkpor.liabilities.batch import statement_layout
from zkpor.liabilities.published import BatchEntry, GlobalProof, top_tree_leaves, top_tree_levels
from zkpor.liabilities.witness import build_batch
from zkpor.recursion import air as R  # noqa: N812 (the module: its names read as R.plan, R.build_trace)
from zkpor.recursion.program import MulAdd, Permute, execute
from zkpor.recursion.proving import program_key
from zkpor.recursion.verifier_program import LateKey, ProofValues, repeat_verifier
from zkpor.stark import fri
from zkpor.stark.params import ProofOptions
from zkpor.stark.prover import prove

BATCH_OPTIONS = ProofOptions(blowup=4, num_queries=8, grinding_bits=2, fri_folding_log=2, fri_final_degree=4,
                             zero_knowledge=True, hasher="poseidon2")  # fmt: skip
NODE_OPTIONS = replace(BATCH_OPTIONS, zero_knowledge=False)  # soundness does not depend on it: cheaper
ZK_NODE_OPTIONS = BATCH_OPTIONS  # nodes as the round proof proves them by default


class Round:
    """A statement of N batches, its batch proofs, tree and node programs."""

    def __init__(
        self, statement, make_users, batch_count: int, node_options=NODE_OPTIONS, arity_logs=()
    ) -> None:
        self.statement = replace(statement, batch_count=batch_count)
        self.n = batch_count
        self.layout = statement_layout(self.statement)
        self.digest = self.statement.digest()
        self.make_users = make_users
        self.batches = [self.batch(i) for i in range(batch_count)]
        self.tree = ag.plan_tree(batch_count, *arity_logs)
        self.programs = ag.tree_programs(self.tree, self.layout, BATCH_OPTIONS, node_options)

    @property
    def weights(self):
        return self.statement.weights

    def batch(self, index, *, seed=None, digest=None, weights=None, edit_trace=None):
        layout = self.layout
        ids, equity, debt = self.make_users(layout, index + 1 if seed is None else seed)
        priced = weights or self.weights
        witness = build_batch(layout, digest or self.digest, index, ids, equity, debt, weights=priced)
        trace = witness.trace
        if edit_trace is not None:
            trace = trace.copy()
            edit_trace(trace)
        proof = prove(SolvencyAir(layout, witness.public), trace, BATCH_OPTIONS, check=edit_trace is None)
        return witness.public, proof

    def prove_level(self, depth, children):
        out = []
        for shape, node in zip(self.tree.levels[depth], self.programs[depth], strict=True):
            kids = children[shape.first_leaf >> shape.child_height :][: shape.real_children]
            public, proof = ag.prove_node(node, self.digest, shape.first_leaf, self.n, kids, self.weights)
            ag.verify_node(node, public, proof.to_bytes(), min_security_bits=0)
            out.append((public, proof))
        return out

    def prove_tree(self):
        children = self.batches
        for depth in range(len(self.tree.levels)):
            children = self.prove_level(depth, children)
        return children

    def global_proof(self) -> GlobalProof:
        entries = []
        for i, (public, _) in enumerate(self.batches):
            totals = public.asset_totals(self.layout.limb_bits)[: len(self.statement.assets)]
            entries.append(BatchEntry(i, f"batch-{i:05d}.zkp", public.root, tuple(e for e, _ in totals),
                                      tuple(d for _, d in totals)))  # fmt: skip
        root = top_tree_levels([p.root for p, _ in self.batches])[-1][0]
        options = {"blowup": 4}  # not read by check_top
        return GlobalProof(self.statement, options, self.digest, tuple(entries),
                           top_tree_leaves(len(self.batches)), root)  # fmt: skip

    def inputs(self, first_leaf, batch_count=None):
        return ag.node_inputs(self.digest, first_leaf, batch_count or self.n, self.weights)

    def failures(self, node, first_leaf, children, read=()) -> set[str]:
        private = ag.node_witness(node, children, first_leaf, self.n, read=read)
        return ag.failed_checks(node, self.inputs(first_leaf), private)


@pytest.fixture(scope="module")
def five(statement, make_users):
    """N = 5: level 1 is a full node (slots 0–3) and a partial one (slot 4, slots 5–7 filler);
    level 2 is the top (two real children)."""
    return Round(statement, make_users, 5)


@pytest.fixture(scope="module")
def five_proven(five):
    level1 = five.prove_level(0, five.batches)
    return level1, five.prove_level(1, level1)


def prove_cheat(node, inputs, private, edit):
    """A cheating recursion prover: the honest run of `node.program`, `edit`ed (a list of cell
    values), proven with the prover's checks off; its public values are what the edited run says."""
    values = list(execute(node.program, inputs, private, check=False).values)
    edit(values)
    outputs = [values[c] for c in node.program.public_outputs]
    public = R.ProgramPublic(tuple(Ext(v) for v in inputs), tuple(outputs))
    trace = R.build_trace(node.layout, R.cell_values(node.layout, values))
    air = R.RecursionAir(node.layout, public)
    proof = prove(air, trace, node.options, check=False, preprocessed=node.committed)
    return node.public_from_outputs(inputs, [v.c0 for v in outputs]), proof


def refused(node, public, proof):
    with pytest.raises(VerificationError):
        ag.verify_node(node, public, proof.to_bytes(), min_security_bits=0)


def only_child(failures, child):
    """Every failed check is the child's own verifier's."""
    return failures and all(f.startswith(f"child {child}: ") for f in failures)


# ---- the tree's shape --------------------------------------------------------------------------


def test_plan_tree_shapes():
    one = ag.plan_tree(1)
    assert one.height == 0 and one.levels == ((ag.NodeShape(1, 0, 0, 0, 0, 1),),)
    three = ag.plan_tree(3)
    assert three.levels == ((ag.NodeShape(1, 0, 0, 2, 0, 3),),)
    five = ag.plan_tree(5)
    assert five.levels == ((ag.NodeShape(1, 0, 0, 2, 0, 4), ag.NodeShape(1, 1, 4, 2, 0, 1)),
                           (ag.NodeShape(2, 0, 0, 3, 2, 2),))  # fmt: skip
    for n in (128, 129, 1000):  # 2^20 users in batches of 8,192; one more; any
        tree = ag.plan_tree(n)
        assert tree.top.height == tree.height == (top_tree_leaves(n).bit_length() - 1)
        assert tree.top.first_leaf == 0 and len(tree.levels[-1]) == 1
        below = n
        for level in tree.levels:  # every real slot in exactly one node; at most two programs a level
            assert sum(s.real_children for s in level) == below
            assert len({s.program_shape for s in level}) == 1  # one program a level, whatever N
            assert all(s.child_first_leaf(s.real_children - 1) < n for s in level)
            below = len(level)
    assert [len(level) for level in ag.plan_tree(128).levels] == [32, 4, 1]
    assert [s.height for s in (lv[0] for lv in ag.plan_tree(128).levels)] == [2, 5, 7]
    with pytest.raises(ag.AggregationError):
        ag.plan_tree(0)


def test_filler_roots_are_the_top_trees():
    roots = [[i, i + 1, i + 2, i + 3] for i in range(5)]
    levels = top_tree_levels(roots)  # 8 slots, 5..7 filler
    assert levels[0][7] == ag.filler_root(0)
    assert levels[1][3] == ag.filler_root(1)


def test_the_totals_bound_is_refused_beyond_the_field(five):
    big = replace(five.layout, limb_bits=16, batch_size=1 << 13)
    with pytest.raises(ag.AggregationError, match="exact"):
        ag.check_total_bound(big, 1 << 36)  # 2^49 users: a limb total could reach 2^65
    ag.check_total_bound(big, 1 << 35)  # 2^48 users: (2^16 − 1)·2^48 < p


def test_node_public_json_round_trip_and_strictness():
    totals = (((1, 2), (3, 4)), ((5, 6), (7, 8)))
    public = ag.NodePublic((1, 2, 3, 4), 8, (5, 6, 7, P - 1), totals, 3, (9, 2**40 - 1))
    assert ag.NodePublic.from_json(public.to_json(), "n.json") == public
    for field, value in (("first_leaf", -1), ("batch_count", "3"), ("root", "00" * 31),
                         ("limb_totals", [[[P], [0]]]), ("limb_totals", [[[1]]]), ("weights", []),
                         ("weights", [2**40]), ("weights", ["9"]), ("weights", [True])):  # fmt: skip
        with pytest.raises(InputError, match=field):
            ag.NodePublic.from_json({**public.to_json(), field: value}, "n.json")
    with pytest.raises(InputError):
        ag.NodePublic.from_json({**public.to_json(), "extra": 1}, "n.json")


# ---- honest trees ---------------------------------------------------------------------------------


def check_top_matches(round_, top):
    public, _ = top
    ag.check_top(round_.tree, public, round_.global_proof())
    equity = [sum(e) for e in zip(*(b.equity for b in round_.global_proof().batches), strict=True)]
    assert [e for e, _ in public.asset_totals(round_.layout.limb_bits)][: len(equity)] == equity


def test_one_batch(statement, make_users):
    one = Round(statement, make_users, 1)
    one.batches = [(public, proof.to_bytes()) for public, proof in one.batches]  # children as bytes
    (top,) = one.prove_tree()
    assert top[0].root == one.batches[0][0].root and top[0].batch_count == 1
    with pytest.raises(ag.AggregationError, match="child 0"):
        garbled = [(one.batches[0][0], b"not a proof")]
        ag.prove_node(one.programs[0][0], one.digest, 0, 1, garbled, one.weights)
    check_top_matches(one, top)


def test_a_round_proven_with_other_prices_is_refused(statement, make_users):
    """The price weights are public inputs of the node programs, not constants: a prover can make a
    valid proof of the very program the verifier derives over batches priced lower (here BTC-like
    asset 0 at nothing). Its top states the prices it was proven for, which `check_top` compares
    with the statement's; claiming the statement's instead, the proof does not verify."""
    one = Round(statement, make_users, 1)
    node = one.programs[0][0]
    cheap = (0, *one.weights[1:])
    batch = one.batch(0, weights=cheap)
    public, proof = ag.prove_node(node, one.digest, 0, 1, [batch], cheap)
    ag.verify_node(node, public, proof.to_bytes(), min_security_bits=0)  # a true proof, of other prices
    assert public.root == one.batches[0][0].root and public.limb_totals == one.batches[0][0].limb_totals
    with pytest.raises(VerificationError, match="other price weights"):
        ag.check_top(one.tree, public, one.global_proof())
    claimed = replace(public, weights=one.weights)
    ag.check_top(one.tree, claimed, one.global_proof())
    with pytest.raises(VerificationError):
        ag.verify_node(node, claimed, proof.to_bytes(), min_security_bits=0)


@pytest.mark.slow
def test_three_batches_a_partial_node_with_a_filler_slot(statement, make_users):
    three = Round(statement, make_users, 3)
    (top,) = three.prove_tree()
    assert top[0].batch_count == 3
    check_top_matches(three, top)


@pytest.mark.slow
def test_a_two_level_tree(five, five_proven):
    level1, (top,) = five_proven
    assert [p.batch_count for p, _ in level1] == [5, 5]  # the round's N, a public input of every node
    assert level1[1][0].first_leaf == 4
    check_top_matches(five, top)
    good = five.global_proof()
    for cheat, match in ((replace(good, root=level1[0][0].root), "root"),
                         (replace(good, statement=replace(good.statement, batch_count=4)), "batches"),
                         (replace(good, batches=good.batches[:4]), "totals")):  # fmt: skip
        with pytest.raises(VerificationError, match=match):
            ag.check_top(five.tree, top[0], cheat)


# ---- a child proof that does not verify ----------------------------------------------------------


def _edit_row(proof, field, k, column):
    opening = getattr(proof, field)
    rows = opening.rows.copy()
    rows[k, column] = (int(rows[k, column]) + 1) % P
    return replace(proof, **{field: replace(opening, rows=rows)})


def _edit_sibling(proof):
    """The first sibling word of the main opening's paths (after the salts and the u32 count) + 1."""
    opening = proof.main_opening
    data = bytearray(opening.proof)
    offset = 8 * SALT_ELEMS * opening.rows.shape[0] + 4
    word = int.from_bytes(data[offset : offset + 8], "little")
    data[offset : offset + 8] = ((word + 1) % P).to_bytes(8, "little")
    return replace(proof, main_opening=replace(opening, proof=bytes(data)))


def _edit_fri_row(proof):
    layer = proof.fri_openings[0]
    rows = layer.rows.copy()
    rows[0, 0] = (int(rows[0, 0]) + 1) % P
    return replace(proof, fri_openings=[replace(layer, rows=rows), *proof.fri_openings[1:]])


@pytest.mark.parametrize(
    "edit, label",
    [
        (lambda p: _edit_row(p, "main_opening", 0, 3), "main opening"),
        (_edit_sibling, "main opening"),  # a Merkle path step
        (_edit_fri_row, "fri0 opening"),
    ],
    ids=["opened row", "Merkle path step", "FRI layer row"],
)  # fmt: skip
def test_a_tampered_child_opening_fails_its_check(five, edit, label):
    node = five.programs[0][0]
    children = list(five.batches[:4])
    public, proof = children[2]
    children[2] = (public, edit(proof))
    failures = five.failures(node, 0, children)
    assert f"child 2: {label}" in failures and only_child(failures, 2)


def test_a_child_with_a_wrong_fri_fold_fails_its_fold_check(five, monkeypatch):
    """A batch prover committing a wrong FRI layer 1 (every opening matches its root)."""
    honest = fri.fold_layer

    def fold_layer(values, layout, layer, beta):
        folded = honest(values, layout, layer, beta)
        if layer == 0:
            folded = folded.copy()
            folded[:, 0] = (folded[:, 0] + 1) % P
        return folded

    monkeypatch.setattr(fri, "fold_layer", fold_layer)
    cheat = five.batch(1)
    monkeypatch.undo()
    children = [five.batches[0], cheat, *five.batches[2:4]]
    assert five.failures(five.programs[0][0], 0, children) == {"child 1: FRI layer 1"}


@pytest.fixture(scope="module")
def off_constraints(five):
    """Batch 4 proven from a trace that breaks one constraint (one cell of its node row)."""

    def edit(trace):
        trace[200, 17] = (int(trace[200, 17]) + 1) % P

    return five.batch(4, edit_trace=edit)


def test_a_child_off_its_constraints_fails_out_of_domain_and_the_node_proof_is_refused(five, off_constraints):
    node = five.programs[0][1]  # the partial node over slot 4
    # its filler slots 1–3 verify copies of it: they fail the same check
    assert five.failures(node, 4, [off_constraints]) == {f"child {i}: out-of-domain" for i in range(4)}
    with pytest.raises(ag.AggregationError, match="child 0: out-of-domain"):
        ag.prove_node(node, five.digest, 4, 5, [off_constraints], five.weights)
    private = ag.node_witness(node, [off_constraints], 4, 5)
    public, proof = prove_cheat(node, five.inputs(4), private, lambda values: None)
    refused(node, public, proof)


# ---- children of another round, AIR or program; a child counted twice ------------------------------


def test_a_child_of_another_round_is_refused(five):
    other = replace(five.statement, round_id="2026-10")
    child = five.batch(1, digest=other.digest())
    failures = five.failures(five.programs[0][0], 0, [five.batches[0], child, *five.batches[2:4]])
    assert only_child(failures, 1)


def test_a_child_of_other_prices_is_refused(five):
    """The same statement digest, but proven with other price weights (public inputs of the
    solvency AIR, which the node passes from its own)."""
    cheaper = (five.weights[0] + 1, *five.weights[1:])
    child = five.batch(1, weights=cheaper)
    children = [five.batches[0], child, *five.batches[2:4]]
    own_air = SolvencyAir(five.layout, child[0])  # the child read with its own prices
    read = [None, ProofValues(own_air, child[1], BATCH_OPTIONS, 8, None)]
    failures = five.failures(five.programs[0][0], 0, children, read)
    assert only_child(failures, 1)


def test_a_batch_counted_twice_or_in_another_slot_is_refused(five):
    node = five.programs[0][0]
    twice = [five.batches[0], five.batches[0], *five.batches[2:4]]  # batch 0's proof in slot 1 too
    assert only_child(five.failures(node, 0, twice), 1)
    moved = [five.batches[0], five.batch(5, seed=2), *five.batches[2:4]]  # proven as batch 5, in slot 1
    assert only_child(five.failures(node, 0, moved), 1)
    # the whole node placed at another first leaf (of a round of 8): every child is in another slot
    private = ag.slot_witness(node, list(five.batches[:4]), [0, 0, 0, 0])
    assert ag.failed_checks(node, five.inputs(4, 8), private) == {f"child {i}: slot" for i in range(4)}


@pytest.mark.slow  # the proven two-level tree (five_proven)
def test_a_node_child_of_another_program_or_slot_is_refused(five, five_proven):
    level1, _ = five_proven
    top = five.programs[1][0]
    # the partial node's public values, proven under another program (its batch child made with
    # other options): the same values, another program digest and key
    other_options = replace(BATCH_OPTIONS, grinding_bits=1)
    shape = five.tree.levels[0][1]
    other = ag.node_program(shape, ag.ChildSpec.batches(five.layout, other_options), NODE_OPTIONS)
    assert other.layout.trace_length == five.programs[0][1].layout.trace_length  # the same proof shape
    public4, _ = five.batches[4]
    batch4 = (public4, prove(SolvencyAir(five.layout, public4), _batch_trace(five, 4), other_options))
    impostor = ag.prove_node(other, five.digest, 4, 5, [batch4], five.weights)
    assert impostor[0] == level1[1][0]
    own = R.RecursionAir(other.layout, impostor[0].program_public())
    read = [None, ProofValues(own, impostor[1], NODE_OPTIONS, 8, other.key.preprocessed)]
    assert only_child(five.failures(top, 0, [level1[0], impostor], read), 1)
    # the first node's proof counted twice: it verifies in slot 1 too (one program a level), but
    # it is not that slot's
    assert five.failures(top, 0, [level1[0], level1[0]]) == {"child 1: slot"}


def _batch_trace(round_, index):
    ids, equity, debt = round_.make_users(round_.layout, index + 1)
    return build_batch(round_.layout, round_.digest, index, ids, equity, debt, weights=round_.weights).trace


# ---- values carried up wrongly ------------------------------------------------------------------------


@pytest.mark.slow  # the proven two-level tree (five_proven)
def test_a_wrong_claim_of_root_totals_or_count_is_refused(five, five_proven):
    """The honest top proof with other public values claimed."""
    level1, (top,) = five_proven
    public, proof = top
    totals = [[list(side) for side in asset] for asset in public.limb_totals]
    totals[0][0][0] += 1
    for cheat in (replace(public, root=(public.root[0] + 1, *public.root[1:])),
                  replace(public, limb_totals=tuple((tuple(a[0]), tuple(a[1])) for a in totals)),
                  replace(public, batch_count=public.batch_count + 1),
                  replace(public, first_leaf=4),
                  replace(public, statement_digest=level1[0][0].root)):  # fmt: skip
        refused(five.programs[1][0], cheat, proof)


def _cells_written_by(node, kind):
    return [i for i in node.program.instructions if isinstance(i, kind)]


@pytest.mark.slow  # the proven two-level tree (five_proven)
def test_a_total_carried_up_wrongly_is_refused(five, five_proven):
    """The top node's first total is child 0's plus child 1's (one mul-add): a cheating prover
    writes another value there and claims it."""
    level1, _ = five_proven
    node = five.programs[1][0]
    total_cell = node.program.public_outputs[ag.DIGEST]
    assert any(i.out == total_cell for i in _cells_written_by(node, MulAdd))

    def edit(values):
        values[total_cell] = values[total_cell] + Ext(1)

    public, proof = prove_cheat(node, five.inputs(0), ag.node_witness(node, level1, 0, 5), edit)
    assert public.limb_totals != five_proven[1][0][0].limb_totals
    refused(node, public, proof)


def test_a_root_carried_up_wrongly_is_refused(five, off_constraints):
    """The partial node's root: the last Merkle step over the child's root and the filler. A
    cheating prover writes another digest as that step's output (every other cell honest)."""
    node = five.programs[0][1]
    root_cells = node.program.public_outputs[: ag.DIGEST]
    step = next(i for i in _cells_written_by(node, Permute) if i.out == root_cells[0])
    assert step.bit == 0  # a plain compress: left ‖ right

    def edit(values):
        values[root_cells[0]] = values[root_cells[0]] + Ext(1)

    public, proof = prove_cheat(node, five.inputs(4), ag.node_witness(node, [five.batches[4]], 4, 5), edit)
    refused(node, public, proof)


@pytest.mark.slow  # the proven two-level tree (five_proven)
def test_a_wrong_batch_count_is_refused(five, five_proven, batch5):
    level1, (top,) = five_proven
    node = five.programs[1][0]
    with pytest.raises(VerificationError, match="batches"):
        ag.check_top(ag.plan_tree(4), top[0], five.global_proof())
    refused(node, replace(top[0], batch_count=4), top[1])
    # the partial node proven for a round of 6 (slot 5 real): a true proof of the same program, but
    # not a child of this round's top, which passes its own batch count down
    partial = five.programs[0][0]
    six = ag.prove_node(partial, five.digest, 4, 6, [five.batches[4], batch5], five.weights)
    ag.verify_node(partial, six[0], six[1].to_bytes(), min_security_bits=0)
    assert six[0].root != level1[1][0].root
    assert only_child(five.failures(node, 0, [level1[0], six]), 1)


# ---- filler slots: selected in the program from the batch count ----------------------------------


def test_one_program_a_level_whatever_the_batch_count(five):
    """The filler slots are selected in the program from the batch count (a public input), so every
    node of a level has one program, and rounds of every N of one tree height (5–8: H = 3) have the
    same programs; the level-1 program is also that of N = 3 and 4 (H = 2, where it is the top)."""
    digests = set()
    for n in (5, 6, 7, 8):
        programs = ag.tree_programs(ag.plan_tree(n), five.layout, BATCH_OPTIONS, NODE_OPTIONS)
        assert [len({id(p) for p in level}) for level in programs] == [1, 1]
        digests.add(tuple(level[0].program.digest() for level in programs))
    assert digests == {(five.programs[0][0].program.digest(), five.programs[1][0].program.digest())}
    (three,) = ag.tree_programs(ag.plan_tree(3), five.layout, BATCH_OPTIONS, NODE_OPTIONS)
    assert three[0] is five.programs[0][0]


def cheat(round_, first_leaf, slots, selectors, batch_count=None, edit=lambda values: None):
    """A cheating prover's node over `slots` with filler `selectors` (1: filler) at `first_leaf`:
    the checks its run fails, and the public values of the proof it still makes, which
    `verify_node` refuses."""
    node = round_.programs[0][0]
    inputs = round_.inputs(first_leaf, batch_count)
    private = ag.slot_witness(node, slots, selectors)
    failures = ag.failed_checks(node, inputs, private)
    public, proof = prove_cheat(node, inputs, private, edit)
    refused(node, public, proof)
    return failures, public


@pytest.fixture(scope="module")
def batch5(five):
    """A genuine batch proof for slot 5, which is filler for N = 5."""
    return five.batch(5, seed=9)


def test_a_filler_slot_claimed_as_a_batch_is_refused(five, batch5):
    """The partial node at slot 4 of N = 5 with a real batch proof for slot 5 and slot 5's selector
    0 (the real count too high): the selector is not the batch count's."""
    b4 = five.batches[4]
    failures, public = cheat(five, 4, [b4, batch5, b4, b4], [0, 0, 1, 1])
    assert failures == {"slot 1: selector vs batch count"}
    honest = ag.node_witness(five.programs[0][0], [b4], 4, 5)
    assert ag.failed_checks(five.programs[0][0], five.inputs(4), honest) == set()


def test_a_copied_child_counted_twice_is_refused(five):
    """A filler slot's copy of the last real child claimed as real (its totals counted twice,
    its root in the subtree's): neither its slot nor the batch count allow it."""
    b4 = five.batches[4]
    failures, _ = cheat(five, 4, [b4, b4, b4, b4], [0, 0, 1, 1])
    assert failures == {"child 1: slot", "slot 1: selector vs batch count"}


def test_a_real_batch_dropped_as_filler_is_refused(five):
    """Batch 3 of N = 5 selected as filler (the real count too low: its totals left out)."""
    failures, public = cheat(five, 0, list(five.batches[:4]), [0, 0, 0, 1])
    assert failures == {"slot 3: selector vs batch count"}


def test_a_selector_not_boolean_is_refused(five, batch5):
    """Slot 5's selector 2 with a real batch proof there: the range check and the slot check hold
    (s·(d − N) + (1 − s)·(N − 1 − d) = 1, the child is slot 5's), the totals would subtract batch
    5's; only booleanity refuses it."""
    b4 = five.batches[4]
    failures, public = cheat(five, 4, [b4, batch5, b4, b4], [0, 2, 1, 1])
    assert failures == {"slot 1: selector boolean"}
    assert public.limb_totals != b4[0].limb_totals


def test_selectors_not_monotone_are_refused(five, batch5):
    """A real slot after a filler one (slot 6 claimed real after slot 5 filler, in a round of 8)."""
    failures, _ = cheat(five, 4, [five.batches[4], batch5, batch5, batch5], [0, 1, 0, 1], batch_count=8)
    assert "slot 2: selectors monotone" in failures


def test_a_copied_childs_root_in_the_root_is_refused(five):
    """The partial node's filler slot 1 (a copy of batch 4's proof) with the copy's root written
    where the program selects the filler root (every other cell honest)."""
    node = five.programs[0][0]
    root_cells = node.program.public_outputs[: ag.DIGEST]
    permutes = {i.out: i for i in _cells_written_by(node, Permute)}
    left = permutes[permutes[root_cells[0]].inputs[0]]  # the step over slots 0 and 1
    selected = left.inputs[4:8]  # slot 1's root as the program selected it
    assert all(any(i.out == c for i in _cells_written_by(node, MulAdd)) for c in selected)
    b4 = five.batches[4]

    def edit(values):
        assert [values[c].c0 for c in selected] == list(ag.filler_root(0))
        for c, word in zip(selected, b4[0].root, strict=True):
            values[c] = Ext(word)

    cheat(five, 4, [b4] * 4, [0, 1, 1, 1], edit=edit)


# ---- zero knowledge at every level ---------------------------------------------------------------


def _salts(opening):
    """The salts at the front of a salted opening's proof bytes (one per opened row)."""
    return opening.proof[: 8 * SALT_ELEMS * opening.rows.shape[0]]


def _edit_salt(proof):
    """The first salt word of the main opening + 1: the leaf it salts hashes to another digest."""
    opening = proof.main_opening
    data = bytearray(opening.proof)
    data[:8] = ((int.from_bytes(data[:8], "little") + 1) % P).to_bytes(8, "little")
    return replace(proof, main_opening=replace(opening, proof=bytes(data)))


@pytest.mark.slow  # a two-level tree of zero-knowledge nodes
def test_zero_knowledge_nodes_are_hiding_and_verified_by_their_parent(statement, make_users):
    """Inner nodes proven with zero knowledge (the round proof's default): proving the same node
    twice commits other roots and opens other salts and trace values (hiding commitments, a
    randomised trace), where without zero knowledge the two proofs are the same bytes; a parent's
    compiled verifier checks such salted children, and a child's salt changed fails that child's
    opening."""
    three = Round(statement, make_users, 3, ZK_NODE_OPTIONS, arity_logs=(1, 1))  # levels of 2 and 1 nodes
    assert [len(level) for level in three.tree.levels] == [2, 1]
    level1 = three.prove_level(0, three.batches)  # each verified by verify_node
    assert all(proof.options.zero_knowledge for _, proof in level1)
    node, (public, first) = three.programs[0][1], level1[1]
    first_leaf = public.first_leaf
    again_public, again = ag.prove_node(node, three.digest, first_leaf, 3, three.batches[2:], three.weights)
    assert again_public == public
    assert again.main_root != first.main_root and again.quotient_root != first.quotient_root
    assert _salts(again.main_opening) != _salts(first.main_opening)
    assert len(_salts(first.main_opening)) == 8 * SALT_ELEMS * first.main_opening.rows.shape[0] > 0
    ag.verify_node(node, again_public, again.to_bytes(), min_security_bits=0)

    plain = ag.node_program(node.shape, node.child, NODE_OPTIONS)  # the same node without zero knowledge
    proofs = [ag.prove_node(plain, three.digest, public.first_leaf, 3, three.batches[2:], three.weights)[1]
              for _ in range(2)]
    assert proofs[0].to_bytes() == proofs[1].to_bytes()  # deterministic: its openings are the trace's

    (top,) = three.prove_level(1, level1)  # the top verifies both zero-knowledge children
    check_top_matches(three, top)
    tampered = [level1[0], (level1[1][0], _edit_salt(level1[1][1]))]
    failures = three.failures(three.programs[1][0], 0, tampered)
    assert "child 1: main opening" in failures and only_child(failures, 1)


# ---- what a process proving the tree keeps -------------------------------------------------------


def test_a_parent_program_keeps_its_childrens_committed_columns_until_released(five):
    """Building the level-2 program (asked for) leaves the level-1 programs' committed columns: a
    level's nodes are proven among the level below's (`round_tree.TreeSchedule`), which would
    commit them again. Released, their keys stay, and committing again gives the same key."""
    below = five.programs[0]
    keys = [node.committed.key for node in below]  # as the level-1 prover leaves them
    shape = five.tree.levels[1][0]
    child = ag.ChildSpec.nodes(below[0])
    assert ag.node_program(shape, child, five.programs[1][0].options) is five.programs[1][0]
    assert all("committed" in node.__dict__ for node in below)
    for node, key in zip(below, keys, strict=True):
        node.release_columns()
        assert "committed" not in node.__dict__ and node.key.preprocessed == key
    assert below[0].committed.key == keys[0]
    below[0].release_columns()
    assert "committed" not in below[0].__dict__


def test_a_program_is_compiled_once_whatever_its_proofs_options(five):
    """A node's program does not depend on the options of its own proofs (only its committed
    columns do): asked for with other options, the compiled program is reused."""
    shape = five.tree.levels[1][0]
    child = ag.ChildSpec.nodes(five.programs[0][0])
    other = replace(NODE_OPTIONS, blowup=8, num_queries=6)
    node = ag.node_program(shape, child, other)
    assert node.program is five.programs[1][0].program and node.options == other
    assert "committed" not in node.__dict__


@pytest.mark.parametrize("arity_logs", [(), (1, 1)], ids=["four-batches", "two-nodes-of-two"])
def test_the_verifiers_copied_for_children_of_one_kind_are_the_ones_emitting_writes(
    statement, arity_logs, monkeypatch
):
    """A node's verifiers of its second and later children are copied from the first
    (`repeat_verifier`): the same program, private-input keys, assertion labels and challenge cells
    as emitting each verifier. Four batches: one node over four batch children; with arity 2,
    level-1 nodes of two batches and the top over two children of their program."""
    layout = statement_layout(replace(statement, batch_count=4))
    tree = ag.plan_tree(4, *arity_logs)
    programs = ag.tree_programs(tree, layout, BATCH_OPTIONS, NODE_OPTIONS)
    copies = []  # the children whose verifier was copied

    def counted(*args):
        copies.append(args[-1])
        return repeat_verifier(*args)

    monkeypatch.setattr(ag, "repeat_verifier", counted)
    for shapes, nodes in zip(tree.levels, programs, strict=True):
        for shape, node in zip(shapes, nodes, strict=True):
            copies.clear()
            copied = ag._build(shape, node.child, node.options)
            assert copies == list(range(1, shape.arity))  # every child slot after the first
            emitted = ag._build(shape, node.child, node.options, repeat=False)
            assert copied.program.to_bytes() == emitted.program.to_bytes()
            assert copied.private_keys == emitted.private_keys and copied.checks == emitted.checks
            assert copied.verifiers == emitted.verifiers


@pytest.mark.parametrize("clash", [False, True], ids=["late-root", "root-word-clash"])
def test_a_program_committed_as_soon_as_it_is_laid_out_has_the_finished_programs_key(
    statement, clash, monkeypatch
):
    """`early_key` (a verifier deriving keys): each program's columns are committed in a thread from
    its layout as soon as it is written, before its child's key is known (`build_unfinished`, root
    words 0): the keys are those of the finished programs, and the program is the one written with
    the child's key known — also when a root word would have shared another constant's cell and the
    program is written again (the first commitment is then not the key)."""
    layout = statement_layout(replace(statement, batch_count=4))
    level1, (top,) = ag.plan_tree(4, 1, 1).levels
    below = ag._build(level1[0], ag.ChildSpec.batches(layout, BATCH_OPTIONS), NODE_OPTIONS, early_key=True)
    if clash:
        monkeypatch.setattr(LateKey, "set_late_root", lambda self, b, key: False)
    early = ag._build(top, ag.ChildSpec.nodes(below), NODE_OPTIONS, early_key=True)
    known = ag._build(top, ag.ChildSpec.nodes(below), NODE_OPTIONS, late_key=False)
    assert early.program.to_bytes() == known.program.to_bytes() and early.layout.program is early.program
    assert early.private_keys == known.private_keys and early.verifiers == known.verifiers
    assert below.key == program_key(below.program, NODE_OPTIONS, below.layout)
    assert early.key == program_key(known.program, NODE_OPTIONS, known.layout)


@pytest.mark.parametrize("clash", [False, True], ids=["late-root", "root-word-clash"])
def test_a_program_written_while_its_childrens_key_is_committed_is_the_one_written_after(
    statement, clash, monkeypatch
):
    """A node program over a child program whose key is not computed yet commits the child's
    columns in a thread while its verifiers are written, reading the key's root from late
    constants (`LateKey`): the same program, private-input keys, labels and verifiers as written
    with the key known; and when a root word would have shared another constant's cell
    (`set_late_root` False), the program is written again with the key known."""
    layout = statement_layout(replace(statement, batch_count=4))
    level1, (top,) = ag.plan_tree(4, 1, 1).levels
    below = ag._build(level1[0], ag.ChildSpec.batches(layout, BATCH_OPTIONS), NODE_OPTIONS)
    if clash:
        monkeypatch.setattr(LateKey, "set_late_root", lambda self, b, key: False)
    started = []
    in_background = ag.NodeProgram.key_in_background

    def counted(node):
        started.append(future := in_background(node))
        return future

    monkeypatch.setattr(ag.NodeProgram, "key_in_background", counted)
    late = ag._build(top, ag.ChildSpec.nodes(below), NODE_OPTIONS)
    assert started[0] is not None and below.key == program_key(below.program, NODE_OPTIONS, below.layout)
    assert started[1:] == ([None] if clash else [])  # written again: the key known then
    known = ag._build(top, ag.ChildSpec.nodes(below), NODE_OPTIONS, late_key=False)
    assert late.program.to_bytes() == known.program.to_bytes()
    assert late.private_keys == known.private_keys and late.checks == known.checks
    assert late.verifiers == known.verifiers and late.verifiers[0].key == below.key.preprocessed
