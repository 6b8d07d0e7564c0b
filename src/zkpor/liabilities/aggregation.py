"""The aggregation tree: recursion proofs of node programs over the batch proofs (stage 4 of
docs/recursion.md; the round integration builds on `plan_tree`, `node_program`, `prove_node`,
`verify_node` and `check_top`).

The tree is aligned with the published top tree (`published.top_tree_levels`): its leaves are the
2^H top-tree slots, slot i < N the batch proof of batch i, slots >= N the filler digest. A node
covers 2^h aligned slots [first, first + 2^h) and has 2^a child subtrees of height h − a; a
level-1 node's children are batch proofs (height 0), a higher node's the nodes of the level below;
the top node (the last level) covers all 2^H slots.

A node program (`node_program`) has the public inputs statement digest (4 cells), first leaf (1),
the round's batch count N (1) and the price weights (one per real asset), and the public outputs
subtree root (4) and limb totals ([asset][side][k], the solvency AIR's order). For every child slot
it verifies a child proof by a verifier emitted into the program
(`recursion.verifier_program.emit_verifier`), with the child's public inputs wired to the node's
cells:

- statement digest and batch count (above level 1): the node's own (a child of another round is
  another transcript);
- price weights (level 1 and above): the node's own, so every batch below the top was proven
  with the weights the top's public inputs carry, which the verifier compares with the
  statement's (`check_top`). Weights are public inputs, not constants, so one program (and one
  verifying key) serves every round of the same shape whatever its prices;
- first leaf / batch index: a private input, equal to first + i·2^(h−a) (computed in the
  program) for a real slot (a child cannot sit in another slot, nor one batch proof in two);
- batch size (level 1): the layout's, a constant; the leaf capacity the batch AIR pins is hashed
  from the digest cells in the program;
- root, limb totals: private inputs, bound by the child's transcript and constraints;
- the child's AIR: the solvency AIR of the layout (level 1: its shape is compiled in, its
  weights are the node's cells), or the recursion AIR of the level below's program, whose digest
  and preprocessed root (its `ProgramKey`) are constants of this program.

A child subtree lying wholly at or beyond N is filler. Which slots are is derived in the program
from the public inputs N and first leaf (`_filler_selectors`: a boolean, monotone selector a slot,
1 exactly when the slot's first leaf is >= N, by a 32-bit range check), never chosen by the
prover, and never a constant: one program serves every N of the same tree height. A filler slot
still verifies a child proof (the prover's copy of a real child's), but its slot check is off and
the program uses the constant root of a filler subtree of that height and no totals instead of
the child's. The subtree root is the binary tree of `encoding.node_hash` steps over the slots'
roots in order; the outputs are then exactly what `published.top_tree_levels` computes over the
same slots.

Exactness of the totals: every child's limb totals are exact integer sums (a batch's: the solvency
AIR proves T ≡ Σ limbs mod p and both lie in [0, B·(2^L − 1)] ⊂ [0, p); a node's: by induction),
so a node's field sum of them is the exact sum as long as 2^h · B · (2^L − 1) < p. `node_program`
refuses a shape beyond that bound (with 16-bit limbs: fewer than 2^48 users per node).
"""

from __future__ import annotations

import contextvars
import ctypes
import gc
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.field.goldilocks import P
from zkpor.field.pure import Ext
from zkpor.liabilities.air import BatchPublic, SolvencyAir
from zkpor.liabilities.batch import statement_layout
from zkpor.liabilities.encoding import LEAF_DOMAIN, NODE_DOMAIN, node_hash
from zkpor.liabilities.layout import MAX_WEIGHT, SolvencyLayout
from zkpor.liabilities.published import GlobalProof, digest_hex, parse_digest_hex, top_filler, top_tree_leaves
from zkpor.liabilities.statement import MAX_ASSETS
from zkpor.recursion.air import ADDRESS_COLUMNS, Layout, ProgramPublic, RecursionAir, plan
from zkpor.recursion.program import ZERO_CELL, Check, Program, ProgramBuilder, ProgramError, execute
from zkpor.recursion.proving import (
    ProgramKey,
    columns_key,
    commit_program,
    program_key,
    prove_program,
    verify_program,
)
from zkpor.recursion.verifier_program import (
    ChildVerifier,
    CompilerMark,
    LateKey,
    ProofValues,
    Symbolic,
    SymbolicPair,
    VerifierCompiler,
    emit_verifier,
    proof_values,
    repeat_verifier,
)
from zkpor.stark.domain import committed_sizes
from zkpor.stark.params import ProofOptions
from zkpor.stark.preprocessed import PreprocessedColumns, VerificationKey
from zkpor.stark.proof import StarkProof
from zkpor.stark.verifier import DEFAULT_MIN_SECURITY_BITS, VerificationReport

LEAF_ARITY_LOG = 2  # four batch children: a 2^16-row node at the default batch (docs/recursion.md)
NODE_ARITY_LOG = 3  # eight node children: a 2^16-row node
DIGEST = 4

Digest = tuple[int, int, int, int]
LimbTotals = tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]


class AggregationError(ZkporError):
    """A tree, node or child that does not fit together (shape, counts, bounds)."""


# ---- the tree's shape ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeShape:
    """One node: it covers top-tree slots [first_leaf, first_leaf + 2^height) and has 2^(height −
    child_height) child subtrees of height child_height, the first `real_children` of which hold
    at least one batch (the rest are filler)."""

    level: int
    index: int
    first_leaf: int
    height: int
    child_height: int
    real_children: int

    @property
    def arity(self) -> int:
        return 1 << (self.height - self.child_height)

    def child_first_leaf(self, i: int) -> int:
        return self.first_leaf + (i << self.child_height)

    @property
    def program_shape(self) -> tuple[int, int, int]:
        """What its program depends on: the first leaf and the round's batch count are public
        inputs, from which the program derives which child slots are filler (`real_children`)."""
        return (self.level, self.height, self.child_height)


@dataclass(frozen=True)
class TreePlan:
    batch_count: int
    height: int  # H: the top tree has 2^H leaf slots
    levels: tuple[tuple[NodeShape, ...], ...]  # levels[0] is level 1 (over the batch proofs)

    @property
    def top(self) -> NodeShape:
        return self.levels[-1][0]


def plan_tree(
    batch_count: int, leaf_arity_log: int = LEAF_ARITY_LOG, node_arity_log: int = NODE_ARITY_LOG
) -> TreePlan:
    """The nodes of a round of `batch_count` batches, bottom-up. Level 1 has a = min(leaf arity,
    H), each higher level a = min(node arity, what is left of H), so the top node covers exactly
    the 2^H slots of `published.top_tree_leaves(N)`: the arities are a function of the level and
    H only, so every node of a level has one program, and two rounds of the same H (N in
    (2^(H−1), 2^H]) have the same programs. Only nodes holding a real slot exist; the last node
    of a level may be partial (fewer real children: the program selects the filler slots from the
    batch count, a public input). N = 1: one level-1 node with one child (H = 0)."""
    if isinstance(batch_count, bool) or not isinstance(batch_count, int) or batch_count < 1:
        raise AggregationError(f"a round has at least one batch, not {batch_count!r}")
    if leaf_arity_log < 1 or node_arity_log < 1:
        raise AggregationError("node arities must be at least 2 (arity logs >= 1)")
    total_height = top_tree_leaves(batch_count).bit_length() - 1
    levels: list[tuple[NodeShape, ...]] = []
    child_height, level = 0, 1
    while True:
        arity_log = min(leaf_arity_log if level == 1 else node_arity_log, total_height - child_height)
        height = child_height + arity_log
        nodes = []
        for index in range(-(-batch_count // (1 << height))):
            first = index << height
            real = min(1 << arity_log, -(-(batch_count - first) // (1 << child_height)))
            nodes.append(NodeShape(level, index, first, height, child_height, real))
        levels.append(tuple(nodes))
        if height == total_height:
            return TreePlan(batch_count, total_height, tuple(levels))
        child_height, level = height, level + 1


def filler_root(height: int) -> Digest:
    """The root of a subtree of 2^height filler slots (`published.top_filler`)."""
    digest = top_filler()
    for _ in range(height):
        digest = tuple(node_hash(digest, digest))  # type: ignore[assignment]
    return digest


def check_totals_shape(public: NodePublic, layout: SolvencyLayout, what: str = "node") -> None:
    """Refuse limb totals not grouped as the layout's [asset][side][limb]: a proof binds only their
    flat list (its outputs), so another grouping of the same list would read as other totals
    (`asset_totals`), e.g. an asset's equity limbs moved to its debt side."""
    k = layout.limbs_per_value
    totals = public.limb_totals
    if len(totals) != layout.assets or any(len(asset) != 2 or any(len(side) != k for side in asset)
                                           for asset in totals):  # fmt: skip
        raise VerificationError(
            f"{what}: its limb totals are not {layout.assets} assets × 2 sides × {k} limbs (the layout's)"
        )


def check_total_bound(layout: SolvencyLayout, slots: int) -> None:
    """Refuse a node whose field sum of limb totals could wrap: its `slots` batches' limb totals
    sum to at most slots · B · (2^L − 1), which must stay below p (see the module docstring)."""
    if slots * layout.batch_size * ((1 << layout.limb_bits) - 1) >= P:
        raise AggregationError(
            f"{slots} batches of {layout.batch_size} users with {layout.limb_bits}-bit limbs could "
            "sum past the field: the node's totals would not be exact"
        )


# ---- public values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodePublic:
    """A node proof's public values: inputs (statement digest, first leaf, the round's batch count
    N, price weights) and outputs (subtree root, limb totals summed over its real batches)."""

    statement_digest: Digest
    first_leaf: int
    root: Digest
    limb_totals: LimbTotals  # [asset][side][k], as `BatchPublic`
    batch_count: int  # the round's N (every node's): which slots are real
    weights: tuple[int, ...]  # the statement's price weights, one per real asset

    def inputs(self) -> list[int]:
        return [*self.statement_digest, self.first_leaf, self.batch_count, *self.weights]

    def outputs(self) -> list[int]:
        totals = [t for asset in self.limb_totals for side in asset for t in side]
        return [*self.root, *totals]

    def program_public(self) -> ProgramPublic:
        return ProgramPublic(tuple(Ext(v) for v in self.inputs()), tuple(Ext(v) for v in self.outputs()))

    def asset_totals(self, limb_bits: int) -> list[tuple[int, int]]:
        """Exact (equity, debt) totals per (padded) asset, as Python integers."""
        return BatchPublic(self.statement_digest, 0, self.root, self.limb_totals, self.weights).asset_totals(
            limb_bits
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "statement_digest": digest_hex(self.statement_digest),
            "first_leaf": self.first_leaf,
            "root": digest_hex(self.root),
            "limb_totals": [[list(side) for side in asset] for asset in self.limb_totals],
            "batch_count": self.batch_count,
            "weights": list(self.weights),
        }

    @staticmethod
    def from_json(document: object, source: str) -> NodePublic:
        """Strict: every field present, digests as 64 hex digits, totals field elements, weights
        integers below 2^40 (`layout.MAX_WEIGHT`)."""
        fields = ("statement_digest", "first_leaf", "root", "limb_totals", "batch_count", "weights")
        if not isinstance(document, dict) or set(document) != set(fields):
            raise InputError(
                f"node public values must be an object with exactly {', '.join(fields)}", path=source
            )
        digests = {}
        for name in ("statement_digest", "root"):
            digests[name] = parse_digest_hex(document[name])
            if digests[name] is None:
                raise InputError("is not a 64-hex-digit digest", path=source, field=name)
        for name in ("first_leaf", "batch_count"):
            value = document[name]
            if type(value) is not int or not 0 <= value < 1 << 32:
                raise InputError("must be an integer in [0, 2^32)", path=source, field=name)
        totals = document["limb_totals"]

        def limbs(side: object) -> bool:
            return isinstance(side, list) and all(type(t) is int and 0 <= t < P for t in side)

        shaped = isinstance(totals, list) and totals
        if not (shaped and all(isinstance(a, list) and len(a) == 2 and all(map(limbs, a)) for a in totals)):
            raise InputError("must be [asset][side][limb] field elements", path=source, field="limb_totals")
        weights = document["weights"]
        if not (isinstance(weights, list) and 1 <= len(weights) <= MAX_ASSETS
                and all(type(w) is int and 0 <= w < MAX_WEIGHT for w in weights)):  # fmt: skip
            raise InputError(f"must be 1–{MAX_ASSETS} integers in [0, 2^40)", path=source, field="weights")
        return NodePublic(
            digests["statement_digest"],  # type: ignore[arg-type]
            document["first_leaf"],
            digests["root"],  # type: ignore[arg-type]
            tuple((tuple(a[0]), tuple(a[1])) for a in totals),
            document["batch_count"],
            tuple(weights),
        )

    def to_json_bytes(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":")).encode()


# ---- node programs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildSpec:
    """What a node's children are: batch proofs of `layout` (level 1, `program` None) or proofs of
    the level below's node program, made with `options`."""

    layout: SolvencyLayout
    options: ProofOptions
    program: NodeProgram | None = None

    @staticmethod
    def batches(layout: SolvencyLayout, options: ProofOptions) -> ChildSpec:
        return ChildSpec(layout, options)

    @staticmethod
    def nodes(program: NodeProgram) -> ChildSpec:
        """Children that are proofs of `program` (every node of a level has the same program)."""
        return ChildSpec(program.solvency, program.options, program)

    @property
    def kind(self) -> str:
        return "node" if self.program is not None else "batch"

    @property
    def cache_key(self) -> tuple:
        # (the child program's key root is not in it: a function of the program and `options`)
        below = self.program
        program = () if below is None else (below.program.digest(),)
        return (self.layout, self.options, program)


@dataclass(frozen=True, eq=False)
class NodeProgram:
    """A node's program and what proving or verifying it needs. `shape` is the shape it was built
    for: every node of the same level and heights shares it (the first leaf and the batch count are
    public inputs). `key` (program digest + committed program columns) is built on first use."""

    shape: NodeShape
    program: Program
    layout: Layout
    solvency: SolvencyLayout
    options: ProofOptions  # this node's proofs
    child: ChildSpec
    private_keys: Sequence[tuple]  # `verifier_program.PrivateKeys`
    verifiers: tuple[ChildVerifier, ...]  # per child slot (a filler slot verifies a copy)
    checks: dict[int, str] = field(default_factory=dict)  # assertion labels, by instruction index

    @cached_property
    def committed(self) -> PreprocessedColumns:
        return commit_program(self.program, self.options, self.layout)

    @cached_property
    def key(self) -> ProgramKey:
        # A parent program or a verifier needs only the root: the columns' LDE and Merkle tree are
        # kept (`committed`) only by a prover, which commits them once for all its proofs.
        committed = self.__dict__.get("committed")
        if committed is not None:
            return ProgramKey(self.program.digest(), committed.key)
        root = self.__dict__.get("_key_root")  # committed in a thread (`key_in_background`)
        if root is not None:
            return ProgramKey(self.program.digest(), root.result())
        return program_key(self.program, self.options, self.layout)

    def key_in_background(self) -> Future[VerificationKey] | None:
        """None when `key` is known; else a future of its columns' key, computed in a thread
        (`columns_key`: the columns' LDE and Merkle root, numba kernels that release the GIL) while
        the caller writes the program above in Python (`_build`); `key` reads it. A program built
        with `early_key` has it started already."""
        if "key" in self.__dict__ or "committed" in self.__dict__:
            return None
        if "_key_root" not in self.__dict__:
            self.__dict__["_key_root"] = _commit_in_background(self.layout, self.options)
        return self.__dict__["_key_root"]

    def release_columns(self) -> None:
        """Drop the committed program columns (their LDE, coefficients and Merkle tree: ~0.3 GB for
        a 2^16-row node) and keep the key, all a parent's program or a check of a proof needs.
        Proving with this program again commits them again."""
        if "committed" in self.__dict__:
            self.key  # noqa: B018 — derived from the columns before they go
            del self.__dict__["committed"]

    @property
    def totals_count(self) -> int:
        return self.solvency.assets * 2 * self.solvency.limbs_per_value

    def public_from_outputs(self, inputs: Sequence[int], outputs: Sequence[int]) -> NodePublic:
        k, n = self.solvency.limbs_per_value, self.totals_count
        flat = list(outputs[DIGEST : DIGEST + n])
        totals = tuple(
            (tuple(flat[(2 * a) * k : (2 * a + 1) * k]), tuple(flat[(2 * a + 1) * k : (2 * a + 2) * k]))
            for a in range(self.solvency.assets)
        )
        return NodePublic(tuple(inputs[:DIGEST]), inputs[DIGEST], tuple(outputs[:DIGEST]), totals,  # type: ignore[arg-type]
                          inputs[DIGEST + 1], tuple(inputs[DIGEST + 2 :]))  # fmt: skip


_PROGRAMS: dict[tuple, NodeProgram] = {}
_PROGRAMS_LOCK = threading.RLock()  # nodes proven at once in threads build each program once
_COMMITS_LOCK = threading.Lock()
_last_commit: Future[VerificationKey] | None = None  # the commitment each new one waits for


def _commit_in_background(layout: Layout, options: ProofOptions) -> Future[VerificationKey]:
    """`columns_key(layout, options)` in a thread, after every commitment started before it: one
    at a time, in the order asked (each runs on both cores by itself, `field.parallel`, and their
    buffers are never held at once), recorded in the caller's `stark.phases` recording."""
    global _last_commit
    future: Future[VerificationKey] = Future()
    context = contextvars.copy_context()
    with _COMMITS_LOCK:
        before, _last_commit = _last_commit, future

    def run() -> None:
        if before is not None:
            wait([before])
        try:
            future.set_result(context.run(columns_key, layout, options))
            _return_free_heap()  # this thread's malloc arena keeps the commitment's buffers else
        except BaseException as error:  # raised again by `result()`, in the caller's thread
            future.set_exception(error)

    threading.Thread(target=run, name="zkpor-program-key", daemon=True).start()
    return future


def node_program(
    shape: NodeShape, child: ChildSpec, options: ProofOptions, *, early_key: bool = False
) -> NodeProgram:
    """The program of a node of `shape` over children `child`, for node proofs made with `options`
    (hasher "poseidon2" when a parent verifies them). Cached per process by what it depends on; the
    program itself does not depend on `options` (only its committed columns do), so one compiled
    for other options is reused.

    A program over children keeps their committed columns: nodes of a level are proven among the
    nodes and batches below (`round_tree.TreeSchedule`), which would commit them again. A prover
    drops a level's columns once its last node is proven (`NodeProgram.release_columns`; the
    schedule does), so that the upper levels are not proven beside every lower level's.

    `early_key` (a verifier deriving keys: it needs this program's key, not its columns) starts
    committing the columns in a thread as soon as they are laid out (`_build`)."""
    cache_key = (shape.program_shape, child.cache_key, options)
    with _PROGRAMS_LOCK:
        if cache_key not in _PROGRAMS:
            compiled = next((p for k, p in _PROGRAMS.items() if k[:2] == cache_key[:2]), None)
            if compiled is not None:
                _PROGRAMS[cache_key] = replace(compiled, options=options)
            else:
                _PROGRAMS[cache_key] = _build(shape, child, options, early_key=early_key)
        return _PROGRAMS[cache_key]


def cached_programs() -> frozenset[tuple]:
    """What `node_program` holds compiled in this process now (to pass to `forget_programs`)."""
    with _PROGRAMS_LOCK:
        return frozenset(_PROGRAMS)


def forget_programs(keep: frozenset[tuple]) -> None:
    """Drop every program compiled since `cached_programs()` gave `keep`: a verifier that needs only
    their keys frees their memory (hundreds of MB at 2^20 users) before its largest commitment."""
    with _PROGRAMS_LOCK:
        for key in set(_PROGRAMS) - keep:
            del _PROGRAMS[key]
    gc.collect()
    _return_free_heap()


def map_large_allocations() -> None:
    """From now on, let the C heap place every allocation of 4 MB or more in a mapping of its own,
    returned to the OS when freed. glibc otherwise raises that threshold to the largest block freed
    so far (up to 32 MB), so the layout's temporaries and a commitment's buffers, freed while other
    threads allocate, stay in its heaps: deriving a round's keys at 2^20 users peaked at 474-519 MB
    with them, 420-440 MB without (each large temporary's pages are faulted in afresh instead; the
    derivation's CPU stayed within its run-to-run spread). For the rest of the process: a verifier's
    (`round_tree.stack_keys` calls it when it derives). A no-op without glibc."""
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 4 << 20)
    except (OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _return_free_heap() -> None:
    """Hand the C heap's free pages back to the OS: glibc keeps them otherwise, and a large array
    allocated next is a fresh mapping that cannot reuse them. A no-op without glibc."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _symbolic(b: ProgramBuilder, cells: Sequence[int]) -> list[Symbolic]:
    return [Symbolic(b, c) for c in cells]


SLOT_BITS = 32  # first leaves and batch counts are below 2^32 (`NodePublic.from_json`, the top tree)


def _assert_below(c: VerifierCompiler, label: str, x: int, bits: int) -> None:
    """Assert 0 <= x < 2^bits for a base-element cell: its canonical bits above `bits` are zero."""
    for bit in c.b.decompose(x)[bits:]:
        c.assert_equal(label, bit, ZERO_CELL)


def _filler_selectors(c: VerifierCompiler, first: int, batch_count: int, shape: NodeShape) -> list[int]:
    """One private selector a child slot, constrained to be 1 exactly when the slot's subtree lies
    wholly at or beyond the round's batch count N (its first slot d_i = first + i·2^(child height)
    >= N): boolean, monotone, and s·(d − N) + (1 − s)·(N − 1 − d) in [0, 2^32) — which is d >= N for
    s = 1 and d < N for s = 0, as N and d are below 2^32 and far below p."""
    b = c.b
    selectors = []
    for i in range(shape.arity):
        s = c.private("selector", i)
        c.checks[b.instruction_count] = f"slot {i}: selector boolean"
        b.check_mul_add(s, s, ZERO_CELL, s)  # s² = s
        if selectors:  # s_(i−1) = 1 ⇒ s_i = 1: s_(i−1)·s_i = s_(i−1)
            c.checks[b.instruction_count] = f"slot {i}: selectors monotone"
            b.check_mul_add(selectors[-1], s, ZERO_CELL, selectors[-1])
        below = b.sub(b.sub(batch_count, b.constant(1 + (i << shape.child_height))), first)  # N − 1 − d_i
        side = b.mul(s, b.mul_add(below, b.constant(2), b.constant(1)))  # s·(2(N − 1 − d_i) + 1)
        _assert_below(c, f"slot {i}: selector vs batch count", b.sub(below, side), SLOT_BITS)
        selectors.append(s)
    return selectors


def _build(
    shape: NodeShape,
    child: ChildSpec,
    options: ProofOptions,
    *,
    repeat: bool = True,
    late_key: bool = True,
    early_key: bool = False,
) -> NodeProgram:
    """The node's program. Its children are of one kind (batches, or nodes of the level below's
    program) and get the same verifier on other cells: the first is emitted, the others copied
    from it (`repeat_verifier`: the same instructions as emitting each, `repeat=False`, in a
    fraction of the time).

    With `early_key` the program is laid out (`plan`) and its columns' commitment started
    (`key_in_background`, after the child's) before the child's key is waited for: the layout does
    not depend on the root words the program carries (`ProgramBuilder.build_unfinished`)."""
    layout = child.layout
    check_total_bound(layout, 1 << shape.height)
    by_batches = shape.child_height == 0
    if by_batches != (child.kind == "batch"):
        raise AggregationError(
            f"a node over subtrees of height {shape.child_height} does not fit {child.kind} children"
        )
    c = VerifierCompiler()
    b = c.b
    digest = [b.public_input() for _ in range(DIGEST)]
    first = b.public_input()
    batch_count = b.public_input()  # the round's N: every node's, passed down like the digest
    weights = [b.public_input() for _ in layout.asset_bits]  # passed to every child
    n_totals = layout.assets * 2 * layout.limbs_per_value
    k = layout.limbs_per_value
    capacity = b.sponge_hash(LEAF_DOMAIN, [*digest, b.constant(layout.leaf_elements)]) if by_batches else []
    selectors = _filler_selectors(c, first, batch_count, shape)
    filler = [b.constant(w) for w in filler_root(shape.child_height)]
    roots: list[list[int]] = []
    totals = [ZERO_CELL] * n_totals
    verifiers: list[ChildVerifier | None] = []
    shared_below = b.mark().cells  # the cells every child's verifier may read: digest, weights, capacity
    templates: dict[object, tuple[ChildVerifier, tuple[CompilerMark, CompilerMark], list[int]]] = {}
    # A child program's key not computed yet is computed while its verifiers are written here: they
    # read its root from late constants (`LateKey`), given before the program is built.
    pending = child.program.key_in_background() if child.program is not None and late_key else None
    for i, s in enumerate(selectors):
        # Every slot verifies a child proof; a filler slot's (s = 1: the prover's copy of a real
        # child) is verified like any other, then its slot, root and totals are discarded.
        slot = first if i == 0 else b.add(first, b.constant(i << shape.child_height))
        index = c.private("child-public", i, "index")  # the child's batch index or first leaf
        moved = b.sub(index, slot)
        c.checks[b.instruction_count] = f"child {i}: slot"
        b.check_mul_add(s, moved, ZERO_CELL, moved)  # (1 − s)·(index − slot) = 0
        root = [c.private("child-public", i, "root", j) for j in range(DIGEST)]
        limbs = [c.private("child-public", i, "totals", j) for j in range(n_totals)]
        roots.append([b.select(s, f, r) for f, r in zip(filler, root, strict=True)])
        real = b.sub(b.constant(1), s)
        totals = [b.mul_add(real, t, total) for t, total in zip(limbs, totals, strict=True)]
        if by_batches:
            nested = tuple(
                (tuple(_symbolic(b, limbs[2 * a * k : (2 * a + 1) * k])),
                 tuple(_symbolic(b, limbs[(2 * a + 1) * k : (2 * a + 2) * k])))
                for a in range(layout.assets)
            )  # fmt: skip
            public = BatchPublic(
                tuple(_symbolic(b, digest)), Symbolic(b, index), tuple(_symbolic(b, root)), nested,
                tuple(_symbolic(b, weights)),
            )  # type: ignore[arg-type]
            air = SolvencyAir(layout, public, capacity=_symbolic(b, capacity))
            verifier_key = None
            kind: object = "batch"
        else:
            below = child.program
            assert below is not None
            values = [*digest, index, batch_count, *weights], [*root, *limbs]
            air = RecursionAir(below.layout, ProgramPublic.of_expressions(
                *([SymbolicPair(Symbolic(b, cell), 0) for cell in cells] for cells in values)))  # fmt: skip
            verifier_key = _late_key(below) if pending is not None else below.key.preprocessed
            kind = (below.program.digest(), verifier_key)
        cells = [v.cell if isinstance(v, Symbolic) else b.constant(v) for v in air.public_inputs()]
        if repeat and kind in templates:
            template, span, template_cells = templates[kind]
            inputs = dict(zip(template_cells, cells, strict=True))
            if len(inputs) == len(set(zip(template_cells, cells, strict=True))):  # one cell for each
                try:
                    verifiers.append(repeat_verifier(c, template, span, inputs, shared_below, i))
                    continue
                except ProgramError:  # the template reads a cell other than its inputs: emit
                    pass
        start = c.mark()
        verifiers.append(emit_verifier(c, air, child.options, cells, key=verifier_key, child=i))
        templates.setdefault(kind, (verifiers[-1], (start, c.mark()), cells))
    level = roots
    while len(level) > 1:  # the binary tree over the children's roots, left ‖ right
        level = [b.compress(level[j], level[j + 1], NODE_DOMAIN) for j in range(0, len(level), 2)]
    for cell in level[0]:
        b.output(cell)
    for total in totals:
        b.output(total)
    early = plan(b.build_unfinished()) if early_key else None
    own_root = _commit_in_background(early, options) if early is not None else None
    if pending is not None:
        below = child.program
        assert below is not None
        pending.result()
        known = below.key
        late = _late_key(below)
        if not late.set_late_root(b, known.preprocessed):  # (a root word is another constant's)
            return _build(shape, child, options, repeat=repeat, early_key=early_key)
        verifiers = [replace(v, key=known.preprocessed) if v.key == late else v for v in verifiers]
    program = b.build()
    laid_out = plan(program) if early is None else replace(early, program=program)
    node = NodeProgram(shape, program, laid_out, layout, options, child, c.private_keys(), tuple(verifiers),
                       dict(c.checks))  # fmt: skip
    if own_root is not None:
        node.__dict__["_key_root"] = own_root
    return node


def _late_key(below: NodeProgram) -> LateKey:
    """The key of `below`'s proofs before its root is known (`key_in_background`)."""
    n = below.layout.trace_length
    return LateKey(len(ADDRESS_COLUMNS), n, committed_sizes(n, below.options)[1], below.options.hasher)


def tree_programs(
    tree: TreePlan,
    layout: SolvencyLayout,
    batch_options: ProofOptions,
    inner_options: ProofOptions,
    top_options: ProofOptions | None = None,
) -> list[list[NodeProgram]]:
    """Every node's program, level by level (one a level, shared by its nodes): level-1 nodes over batch
    proofs made with `batch_options`, nodes below the top proven with `inner_options`, the top
    with `top_options` (default: `inner_options`)."""
    levels: list[list[NodeProgram]] = []
    for depth, shapes in enumerate(tree.levels):
        options = top_options if depth == len(tree.levels) - 1 and top_options is not None else inner_options
        child = ChildSpec.batches(layout, batch_options) if depth == 0 else ChildSpec.nodes(levels[-1][0])
        program = node_program(shapes[0], child, options)  # one program a level
        levels.append([program] * len(shapes))
    return levels


# ---- proving and verifying a node ---------------------------------------------------------------


def _child_air(node: NodeProgram, i: int, public: BatchPublic | NodePublic) -> SolvencyAir | RecursionAir:
    if node.child.program is None:
        if not isinstance(public, BatchPublic):
            raise AggregationError(
                f"child {i} of a level-1 node is a batch proof, not {type(public).__name__}"
            )
        return SolvencyAir(node.solvency, public)
    if not isinstance(public, NodePublic):
        raise AggregationError(f"child {i} of a node over nodes is a node proof, not {type(public).__name__}")
    return RecursionAir(node.child.program.layout, public.program_public())


Child = tuple[BatchPublic | NodePublic, StarkProof | bytes]  # a proof as parsed, or its bytes


def real_children(shape: NodeShape, first_leaf: int, batch_count: int) -> int:
    """How many child slots of a node of `shape` at `first_leaf` hold a batch of a round of
    `batch_count` (the rest are filler: the program's selectors, `_filler_selectors`)."""
    return sum(1 for i in range(shape.arity) if first_leaf + (i << shape.child_height) < batch_count)


def node_witness(
    node: NodeProgram,
    children: Sequence[Child],
    first_leaf: int,
    batch_count: int,
    *,
    read: Sequence[ProofValues | None] = (),
) -> list[int]:
    """The private inputs of `node.program` at `first_leaf` of a round of `batch_count` batches for
    `children` (one (public, proof) per real child). Each filler slot gets the last real child's
    proof again: its verifier runs, and the program discards its slot, root and totals. `read` as
    for `slot_witness`."""
    real = real_children(node.shape, first_leaf, batch_count)
    if len(children) != real or not children:
        raise AggregationError(f"the node has {real} real children, {len(children)} were given")
    slots = [children[min(i, real - 1)] for i in range(node.shape.arity)]
    return slot_witness(node, slots, [int(i >= real) for i in range(node.shape.arity)], read=read)


def slot_witness(
    node: NodeProgram,
    slots: Sequence[Child],
    selectors: Sequence[int],
    *,
    read: Sequence[ProofValues | None] = (),
) -> list[int]:
    """The private inputs of `node.program` for one child proof per slot and the slots' filler
    selectors (1: filler), as given: `node_witness` gives the honest ones, a test playing a
    cheating prover others. Each child proof is read as the node's child AIR for its public values
    sees it, or as `read[i]` says when given (a child of another AIR or program, with that AIR
    and key)."""
    if len(slots) != node.shape.arity or len(selectors) != node.shape.arity:
        raise AggregationError(f"the node has {node.shape.arity} child slots")
    own: dict[tuple, int] = {("selector", i): s for i, s in enumerate(selectors)}
    readers = []
    for i, (public, proof) in enumerate(slots):
        if isinstance(proof, bytes | bytearray):
            try:
                proof = StarkProof.from_bytes(bytes(proof))
            except ZkporError as error:
                raise AggregationError(f"child {i}: {error}") from None
        flat = [t for asset in public.limb_totals for side in asset for t in side]
        if len(flat) != node.totals_count:
            raise AggregationError(f"child {i}: {len(flat)} limb totals, the layout has {node.totals_count}")
        own.update({("child-public", i, "root", j): v for j, v in enumerate(public.root)})
        own.update({("child-public", i, "totals", j): v for j, v in enumerate(flat)})
        index = public.first_leaf if isinstance(public, NodePublic) else public.batch_index
        own[("child-public", i, "index")] = index
        verifier = node.verifiers[i]
        try:
            given = read[i] if i < len(read) else None
            readers.append(given or proof_values(verifier, _child_air(node, i, public), proof))
        except ZkporError as error:
            raise AggregationError(f"child {i}: {error}") from None
    return [
        own[key] if isinstance(key[0], str) else readers[key[0]].value(key[1:]) for key in node.private_keys
    ]


def failed_checks(node: NodeProgram, inputs: Sequence[int], private: Sequence[int]) -> set[str]:
    """What the failing assertions of a run of `node.program` check ("child <i>: <check>", e.g.
    "child 1: main opening"; "other" for an inverse's check): the run goes on past failures."""
    values = execute(node.program, inputs, private, check=False).values
    return {
        node.checks.get(k, "other")
        for k, i in enumerate(node.program.instructions)
        if isinstance(i, Check) and values[i.a] * values[i.b] + values[i.c] != values[i.d]
    }


def node_inputs(
    statement_digest: Sequence[int], first_leaf: int, batch_count: int, weights: Sequence[int]
) -> list[int]:
    """A node program's public inputs (`NodePublic.inputs`)."""
    return [*statement_digest, first_leaf, batch_count, *weights]


def prove_node(
    node: NodeProgram,
    statement_digest: Sequence[int],
    first_leaf: int,
    batch_count: int,
    children: Sequence[Child],
    weights: Sequence[int],
) -> tuple[NodePublic, StarkProof]:
    """Prove a node at `first_leaf` of a round of `batch_count` batches with `weights` (the
    statement's price weights): verify each child slot inside `node.program` (`node_witness`) and
    prove that run (with the program's options). Returns the node's public values and its proof;
    children that do not verify raise AggregationError naming the failed checks."""
    return prepare_node(node, statement_digest, first_leaf, batch_count, children, weights)()


def prepare_node(
    node: NodeProgram,
    statement_digest: Sequence[int],
    first_leaf: int,
    batch_count: int,
    children: Sequence[Child],
    weights: Sequence[int],
) -> Callable[[], tuple[NodePublic, StarkProof]]:
    """`prove_node` in two steps: this call reads the children into the program's private inputs
    (`node_witness`, single-threaded), the function it returns proves the program's run (the cores'
    work), so that a runner can read the next node's children while one is proven."""
    inputs = node_inputs(statement_digest, first_leaf, batch_count, weights)
    private = node_witness(node, children, first_leaf, batch_count)

    def prove() -> tuple[NodePublic, StarkProof]:
        try:
            public, proof = prove_program(
                node.program, inputs, private, node.options, layout=node.layout, committed=node.committed
            )
        except ProgramError:
            failed = ", ".join(sorted(failed_checks(node, inputs, private)))
            raise AggregationError(
                f"node at slot {first_leaf}: its children do not verify ({failed})"
            ) from None
        return node.public_from_outputs(inputs, [v.c0 for v in public.outputs]), proof

    return prove


def verify_node(
    node: NodeProgram,
    public: NodePublic,
    proof: StarkProof | bytes,
    *,
    min_security_bits: int = DEFAULT_MIN_SECURITY_BITS,
) -> VerificationReport:
    """Check a node proof against its program's key; raises VerificationError (or
    ProofFormatError) otherwise."""
    check_totals_shape(public, node.solvency)
    return verify_program(node.program, public.program_public(), proof, min_security_bits=min_security_bits,
                          layout=node.layout, key=node.key)  # fmt: skip


def check_top(tree: TreePlan, public: NodePublic, global_proof: GlobalProof) -> None:
    """The top node's public values are global.json's: statement digest, first leaf 0, the global
    root, the exact per-asset totals of all batches (limb totals grouped as the layout's), the
    batch count N (= the tree's) and the statement's price weights (the node programs take them as
    public inputs: the proof holds for the prices its inputs carry)."""
    statement = global_proof.statement
    check_totals_shape(public, statement_layout(statement), "round proof")
    if tree.batch_count != statement.batch_count:
        raise VerificationError(
            f"round proof: a tree of {tree.batch_count} batches, the statement has {statement.batch_count}"
        )
    if public.statement_digest != global_proof.statement_digest:
        raise VerificationError("round proof: proven for another statement digest")
    if public.weights != statement.weights:
        raise VerificationError("round proof: proven for other price weights than the statement's")
    if public.first_leaf != 0:
        raise VerificationError(f"round proof: the top node starts at slot {public.first_leaf}, not 0")
    if public.batch_count != statement.batch_count:
        raise VerificationError(
            f"round proof: {public.batch_count} batches proven, the statement has {statement.batch_count}"
        )
    if public.root != global_proof.root:
        raise VerificationError("round proof: its root is not global.json's root")
    totals = public.asset_totals(statement.limb_bits)
    for a, (equity, debt) in enumerate(totals):
        expected = (0, 0)
        if a < len(statement.assets):
            expected = (
                sum(b.equity[a] for b in global_proof.batches),
                sum(b.debt[a] for b in global_proof.batches),
            )
        if (equity, debt) != expected:
            name = statement.assets[a].symbol if a < len(statement.assets) else f"padding asset {a}"
            raise VerificationError(f"round proof: the proven totals of {name} are not global.json's")
