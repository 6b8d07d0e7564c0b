"""The round proof: the batch proofs folded by a tree of node proofs into one (`round.zkp`).

The tree (`aggregation.plan_tree`) sits on the top tree's leaf slots; level-1 nodes verify batch
proofs, higher nodes verify nodes, and the top node's public values are the statement digest, the
global root, the exact limb totals of every asset and the batch count — what global.json states.
See docs/round-proof.md.

Files (proof/, next to global.json):

    nodes/L{level}-{index:05d}.zkp   one node proof each (zero-knowledge unless the tree's inner
                                     options say otherwise; a resumed prove reuses every intact one)
    round.zkp                        the top node's proof, its public values, the tree's shape and
                                     the options of every level: the one liabilities proof published

Both are a small container (no pickle):

    magic (8 bytes: "ZKPNODE\\0" or "ZKPROUND") | u16 version (node 2, round 3)
    | u32 header length | header: canonical JSON (sorted keys, UTF-8) | u32 length | payload

A node header is {format, level, index, public}, its payload the node's STARK proof. A round
header is {format, round_id, batch_count, top} and, by `top`:

    "node"   (more than one batch) + tree {leaf_arity_log, node_arity_log, nodes_per_level},
             options {batch, inner, top} and public; the payload is the top node's STARK proof;
    "batch"  (a round of one batch: no tree, no recursion) nothing more; the payload is the batch
             proof file itself (`batch.BatchProof`, proven zero-knowledge with BLAKE3).

`public` is `aggregation.NodePublic.to_json`: statement_digest and root (hex digests), first_leaf,
batch_count, limb_totals ([asset][side][limb] field elements) and weights (the price weights, one
integer per real asset: public inputs of every node, which the verifier compares with the
statement's). Which form a round's proof has
follows from its statement's batch count (`expected_top`); the verifier never takes it from the file.

Verifying (`verify_round_proof`) never takes a program or key from the files: it derives every
level's program from this code, the statement's shape and the options in round.zkp (the options are
bound too: other options give another program, whose digest the proof does not match), caches the
derived verifying keys locally (`recursion.verifying_key.KeyCache`) and checks the top proof with them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import zkpor
from zkpor.errors import InputError, VerificationError, ZkporError
from zkpor.field.jit import Preloader
from zkpor.field.parallel import thread_cpu_seconds
from zkpor.fsutil import make_directory, remove_stale_temporaries, write_atomically
from zkpor.liabilities import aggregation
from zkpor.liabilities.air import BatchPublic
from zkpor.liabilities.batch import BatchProof, statement_layout, verify_batch
from zkpor.liabilities.encoding import merkle_root
from zkpor.liabilities.published import (
    OPTION_FIELDS,
    ROUND_PROOF_FILE,
    GlobalProof,
    JsonFields,
    read_bounded,
)
from zkpor.liabilities.statement import Statement
from zkpor.recursion.proving import inner_options
from zkpor.recursion.verifying_key import KeyCache, ProgramVerifyingKey, verify_with_key
from zkpor.stark.domain import committed_sizes
from zkpor.stark.params import (
    ProofOptions,
    SecurityLevel,
    conjectured_query_bits,
    default_options,
    security_level,
)
from zkpor.stark.phases import phase
from zkpor.stark.proof import MAX_PROOF_BYTES, ProofFormatError, StarkProof
from zkpor.stark.statement import distinct_draw_chance

ROUND_PROOF_NAME = ROUND_PROOF_FILE
NODES_DIR = "nodes"
NODE_MAGIC, ROUND_MAGIC = b"ZKPNODE\x00", b"ZKPROUND"
NODE_FORMAT, ROUND_FORMAT = "zkpor-node-v3", "zkpor-round-proof-v3"
# round 2: the header's `top` (a tree's top node, or the one batch); node 2 and round 3: the price
# weights are public inputs of every node (`public.weights`), no longer compiled into the programs;
# node 3: `public.batch_count` is the round's N, a public input of every node (was the node's own
# count of real batches, an output; the top's, in round.zkp, was N and still is)
NODE_VERSION, ROUND_VERSION = 3, 3
TOP_NODE, TOP_BATCH = "node", "batch"
TOP_FORMS = {TOP_NODE: "the top node of a tree of recursion proofs", TOP_BATCH: "its one batch proof itself"}
MAX_HEADER_BYTES = 1 << 20
# What a verifier derives programs for. It compiles every level's program from the options and
# arities round.zkp lists, and commits its columns, before the top proof can refuse anything; so
# every header field that sizes a program or a commitment is bounded by what `zkpor prove` writes
# (`tree_options` at 80-128 bits, --blowup up to 16) and checked while the header is parsed: a
# hostile header is refused in milliseconds, not after compiling a huge program.
# A node verifies at most 2^MAX_ARITY_LOG children (the defaults: 4 and 8).
MAX_ARITY_LOG = 3
# Batch and inner proofs are verified in-circuit by a parent: each query, Merkle level (the
# blowup), FRI fold and final coefficient is instructions of the parent's program. A node level's
# blowup also sizes the commitment of its program's columns (n · blowup rows).
# The top's other options only size its native check (milliseconds). Batch proofs are at blowup 2
# (IN_CIRCUIT_BATCH_BLOWUP): 85 queries at 100 bits, 113 at 128.
OPTION_LIMITS = {
    "batch": {"num_queries": 128, "blowup": 16, "fri_folding_log": 3, "fri_final_degree": 256},
    "inner": {"num_queries": 64, "blowup": 8, "fri_folding_log": 3, "fri_final_degree": 256},
    "top": {"blowup": 8},
}
IN_CIRCUIT_HASHER = "poseidon2"  # the only commitments a node program verifies
_HEAD = struct.Struct("<8sHI")
PUBLIC_FIELDS = ("statement_digest", "first_leaf", "root", "limb_totals", "batch_count", "weights")

Notice = Callable[[str], None]


def node_file_name(level: int, index: int) -> str:
    return f"{NODES_DIR}/L{level}-{index:05d}.zkp"


def expected_top(batch_count: int) -> str:
    """The form of the round proof of a round of `batch_count` batches: one batch needs no tree
    (its batch proof, which proves every statement of the round, is the round proof), more batches
    are folded by a node tree. The verifier derives it from the statement, never from the file."""
    return TOP_BATCH if batch_count == 1 else TOP_NODE


# ---- options of the stack ----------------------------------------------------------------------


@dataclass(frozen=True)
class TreeOptions:
    """The proof options of every level and the tree's arities: what the programs depend on."""

    batch: ProofOptions  # the leaves: zero-knowledge, hasher poseidon2 (verified in-circuit)
    inner: ProofOptions  # nodes below the top: zero-knowledge by default (`tree_options`)
    top: ProofOptions  # the published round proof: zero-knowledge
    leaf_arity_log: int = aggregation.LEAF_ARITY_LOG
    node_arity_log: int = aggregation.NODE_ARITY_LOG
    lone_batch: ProofOptions | None = field(default=None, compare=False)  # `leaf_options`; not in round.zkp

    def for_level(self, level: int, top_level: int) -> ProofOptions:
        return self.top if level == top_level else self.inner

    def leaf_options(self, batch_count: int) -> ProofOptions:
        """The batch proofs' options: `batch` (Poseidon2: a node verifies them in-circuit), or for a
        round of one batch, whose batch proof is the round proof (`expected_top`), the same with
        BLAKE3 (verified natively only: the default batch configuration, `lone_batch`, as given to
        `tree_options` before `in_circuit_batch_options` traded its grinding for queries)."""
        if expected_top(batch_count) == TOP_NODE:
            return self.batch
        return self.lone_batch or replace(self.batch, hasher="blake3")

    def to_json(self) -> dict[str, Any]:
        return {"batch": asdict(self.batch), "inner": asdict(self.inner), "top": asdict(self.top)}


def tree_options(batch: ProofOptions, target_bits: int = 100, *, inner_zk: bool = True) -> TreeOptions:
    """The default stack over batches proven with `batch` (`in_circuit_batch_options`: Poseidon2,
    grinding and blowup capped; a round of one batch keeps `batch` with BLAKE3): zero knowledge at
    every level.

    Inner nodes: `recursion.proving.inner_options` (Poseidon2: a parent verifies them; blowup 4,
    measured the cheapest to prove while eight children still fit a 2^16-row parent) — at another
    `target_bits`, `default_options` at blowup 8. `inner_zk=False` proves them without zero
    knowledge (cheaper; only for inner nodes that never leave the exchange's workers: round.zkp
    records it and `zkpor verify` refuses it unless --allow-non-zk).
    The top node: zero knowledge and BLAKE3 (nothing verifies it in-circuit, and BLAKE3 openings
    verify natively several times faster), blowup 8, grinding up to 24 bits and FRI stopped at
    degree 256 like the batch profile (fewer queries and layers: a smaller published proof)."""
    lone_batch = replace(batch, hasher="blake3")
    batch = in_circuit_batch_options(batch)
    if target_bits == 100:
        inner = inner_options(zero_knowledge=inner_zk)
    else:
        inner = replace(default_options(zero_knowledge=inner_zk, target_bits=target_bits), hasher="poseidon2")
    top = default_options(zero_knowledge=True, target_bits=target_bits, max_grinding_bits=24,
                          fri_final_degree=256)  # fmt: skip
    return TreeOptions(batch, inner, replace(top, hasher="blake3"), lone_batch=lone_batch)


# A Poseidon2 proof-of-work try is a permutation (~280 ns; BLAKE3's ~10 ns): the conjectured
# profile's 20 bits are 2^20 of them a batch on average (0.3 CPU-s, up to 0.7 by luck). Batches for
# the tree grind at most 18 bits and buy the bits back with a query (100 conjectured bits: 42
# queries + 18 bits instead of 41 + 20; proven 58 instead of 59, a query being worth less than a
# grinding bit there). A query is ~2 % more of a level-1 node's program, whose trace stays 2^15
# rows (79 % → 80 % full, benchmarks/bench_node_program.py), so the node costs the same to prove.
# (16 bits, 43 queries: 0.05 CPU-s less a batch, proven 57.)
IN_CIRCUIT_GRINDING_BITS = 18
# The tree's batch proofs are committed at blowup 2 whatever the published ones' (the default
# profile's 8, for 115 KB proofs): their cost is the Poseidon2 hashing of the LDE, which blowup 2
# halves, and with the degree-7 gadget (`batch.sbox_degree`; its constraints evaluated on a coset 4x
# the LDE, `ProofDomain.evaluation_size`) each row has 130 gadget columns instead of 248. A batch
# proves in 3.1-3.3 CPU-s instead of 6.2-6.5 (blowup 4, degree 3; docs/performance.md); its 85
# queries (18 grinding bits, 100 conjectured) cost the level-1 nodes more (docs/recursion.md).
IN_CIRCUIT_BATCH_BLOWUP = 2
# ... unless their LDE is so small that the query draw repeats a position more often than not:
# Poseidon2 proofs draw their queries without a repeat (`statement.grind_for_distinct_queries`),
# and 85 draws from a small LDE repeat so often (97 % of draws at 32 users) that the grinding costs
# more than blowup 2 saves; such batches (under 2^11 trace rows, 256 users of 22 assets, at the
# default options) are committed at blowup 4 (42 queries). `fit_batches`.
LEAST_DISTINCT_DRAW_CHANCE = 0.5


# The most points the top proof's LDE may have: a batch's (2^16 rows, zero knowledge, blowup 4). The
# top's LDE sets the round's peak memory otherwise: a 2^16-row top over 2^20 points (325 main, 75
# program and the aux columns) peaked at 6.5 GB at 2^20 users, a batch at 2.5 GB.
TOP_LDE_POINTS = 1 << 18
LEAST_ZK_BLOWUP = 4  # the recursion AIR's degree-3 constraints: 3 quotient chunks of n need N ≥ 3n


def fit_top(tree: TreeOptions, trace_length: int) -> TreeOptions:
    """`tree` with the top proof's blowup halved (down to 4) while its LDE for `trace_length` rows
    would exceed TOP_LDE_POINTS, with the queries and grinding for the same conjectured bits: a
    2^15-row top keeps blowup 8, a 2^16-row one gets 4 (41 queries instead of 27: a larger
    round.zkp, half the LDE, less CPU). round.zkp lists the options used; the verifier reads them."""
    top = tree.top
    blowup = top.blowup

    def lde_points(blowup: int) -> int:
        return committed_sizes(trace_length, replace(top, blowup=blowup))[1]

    while blowup > LEAST_ZK_BLOWUP and lde_points(blowup) > TOP_LDE_POINTS:
        blowup //= 2
    if blowup == top.blowup:
        return tree
    return replace(tree, top=same_bits(top, blowup, max_grinding_bits=max(top.grinding_bits, 24)))


def fit_batches(tree: TreeOptions, trace_length: int, batch_count: int) -> TreeOptions:
    """`tree` with its batch proofs at blowup 4 (the same conjectured bits) when blowup 2 does not
    pay: when at their own blowup a batch of `trace_length` rows would draw its queries without a
    repeat less often than LEAST_DISTINCT_DRAW_CHANCE, or when the round's only node level is the
    top (`batch_count` batches, at most the leaf arity): the top's program verifies the batches
    itself, and at 85 queries a child four children make it 2^16 rows, for which the top proof
    takes blowup 4 and 41 queries (`fit_top`): round.zkp 258 KB instead of 175 KB for the demo's
    four batches. round.zkp lists the options used."""
    batch = tree.batch
    if batch.blowup >= 4:
        return tree
    one_level = len(aggregation.plan_tree(batch_count, tree.leaf_arity_log, tree.node_arity_log).levels) == 1
    lde_size = committed_sizes(trace_length, batch)[1]
    if not one_level and distinct_draw_chance(lde_size, batch.num_queries) >= LEAST_DISTINCT_DRAW_CHANCE:
        return tree
    return replace(tree, batch=same_bits(batch, 4, max_grinding_bits=IN_CIRCUIT_GRINDING_BITS))


def same_bits(options: ProofOptions, blowup: int | None = None, *, max_grinding_bits: int) -> ProofOptions:
    """`options` at `blowup` (by default its own) with the fewest queries, and then the fewest
    grinding bits up to `max_grinding_bits`, that give its conjectured bits (`default_options`)."""
    blowup = options.blowup if blowup is None else blowup
    fitted = default_options(options.zero_knowledge, conjectured_query_bits(options) - 1, blowup,
                             max_grinding_bits=max_grinding_bits,
                             fri_final_degree=options.fri_final_degree)  # fmt: skip
    return replace(fitted, fri_folding_log=options.fri_folding_log, hasher=options.hasher)


def in_circuit_batch_options(batch: ProofOptions) -> ProofOptions:
    """The options of batch proofs a node verifies: `batch` with Poseidon2 commitments, at most
    IN_CIRCUIT_GRINDING_BITS of grinding and a blowup of at most IN_CIRCUIT_BATCH_BLOWUP, the same
    conjectured bits bought with queries."""
    batch = replace(batch, hasher="poseidon2")
    if batch.grinding_bits <= IN_CIRCUIT_GRINDING_BITS and batch.blowup <= IN_CIRCUIT_BATCH_BLOWUP:
        return batch
    blowup = min(batch.blowup, IN_CIRCUIT_BATCH_BLOWUP)
    return same_bits(batch, blowup, max_grinding_bits=IN_CIRCUIT_GRINDING_BITS)


# ---- the container -------------------------------------------------------------------------------


def _pack(magic: bytes, version: int, header: dict[str, Any], payload: bytes) -> bytes:
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return _HEAD.pack(magic, version, len(text)) + text + struct.pack("<I", len(payload)) + payload


def _unpack(data: bytes, magic: bytes, version_read: int, what: str) -> tuple[dict[str, Any], bytes]:
    if len(data) > MAX_PROOF_BYTES:
        raise ProofFormatError(f"{what} is over the size limit")
    if len(data) < _HEAD.size:
        raise ProofFormatError(f"{what} truncated in its header")
    found, version, length = _HEAD.unpack_from(data)
    if found != magic:
        raise ProofFormatError(f"not a zkpor {what} (bad magic)")
    if version != version_read:
        raise ProofFormatError(f"unsupported {what} version {version} (this zkpor reads {version_read})")
    end = _HEAD.size + length
    if length > MAX_HEADER_BYTES or len(data) < end + 4:
        raise ProofFormatError(f"{what} truncated in its header")
    try:
        header = json.loads(data[_HEAD.size : end].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProofFormatError(f"{what}: its header is not JSON") from None
    if not isinstance(header, dict):
        raise ProofFormatError(f"{what}: its header is not a JSON object")
    (proof_length,) = struct.unpack_from("<I", data, end)
    stark = data[end + 4 :]
    if proof_length != len(stark):
        raise ProofFormatError(f"{what}: the proof length field does not match the file")
    return header, stark


@dataclass(frozen=True)
class NodeFile:
    level: int
    index: int
    public: aggregation.NodePublic
    stark: bytes

    def to_bytes(self) -> bytes:
        header = {"format": NODE_FORMAT, "level": self.level, "index": self.index,
                  "public": self.public.to_json()}  # fmt: skip
        return _pack(NODE_MAGIC, NODE_VERSION, header, self.stark)

    @staticmethod
    def from_bytes(data: bytes, source: str = "node proof") -> NodeFile:
        header, stark = _unpack(data, NODE_MAGIC, NODE_VERSION, "node proof")
        r = JsonFields(header, source, "", ("format", "level", "index", "public"))
        if r.get("format", str) != NODE_FORMAT:
            raise InputError(f"not a {NODE_FORMAT} file", path=source, field="format")
        public = aggregation.NodePublic.from_json(r.get("public", dict), f"{source} (public)")
        return NodeFile(r.get("level", int), r.get("index", int), public, stark)


@dataclass(frozen=True)
class RoundProof:
    """round.zkp of a round of several batches: the top node's proof with everything needed to
    check it against global.json."""

    round_id: str
    batch_count: int
    tree: TreeOptions
    nodes_per_level: tuple[int, ...]
    public: aggregation.NodePublic
    stark: bytes
    top: ClassVar[str] = TOP_NODE

    @property
    def top_options(self) -> ProofOptions:
        return self.tree.top

    def stack_options(self) -> dict[str, ProofOptions]:
        """The options of each kind of proof in the stack, named as `stack_security` names them."""
        return stack_options(self.tree, len(self.nodes_per_level))

    def to_bytes(self) -> bytes:
        header = {
            "format": ROUND_FORMAT,
            "round_id": self.round_id,
            "batch_count": self.batch_count,
            "top": TOP_NODE,
            "tree": {
                "leaf_arity_log": self.tree.leaf_arity_log,
                "node_arity_log": self.tree.node_arity_log,
                "nodes_per_level": list(self.nodes_per_level),
            },
            "options": self.tree.to_json(),
            "public": self.public.to_json(),
        }
        return _pack(ROUND_MAGIC, ROUND_VERSION, header, self.stark)

    @staticmethod
    def from_bytes(data: bytes, source: str = ROUND_PROOF_NAME) -> RoundProof:
        rp = read_round_proof(data, source)
        if not isinstance(rp, RoundProof):
            raise InputError(f"its top is {rp.top!r}, not a node tree's", path=source, field="top")
        return rp

    @staticmethod
    def _from_header(header: dict[str, Any], stark: bytes, source: str) -> RoundProof:
        fields = ("format", "round_id", "batch_count", "top", "tree", "options", "public")
        r = JsonFields(header, source, "", fields)
        t = JsonFields(
            r.get("tree", dict), source, "tree", ("leaf_arity_log", "node_arity_log", "nodes_per_level")
        )
        levels = t.get("nodes_per_level", list)
        if not levels or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 < n < 1 << 32 for n in levels
        ):
            raise t.error("nodes_per_level", "must be a non-empty list of positive integers")
        o = JsonFields(r.get("options", dict), source, "options", ("batch", "inner", "top"))
        options = {name: _options(o.get(name, dict), source, name) for name in ("batch", "inner", "top")}
        arities = {}
        for name in ("leaf_arity_log", "node_arity_log"):
            arities[name] = t.get(name, int)
            if not 1 <= arities[name] <= MAX_ARITY_LOG:
                raise t.error(name, f"must be in [1, {MAX_ARITY_LOG}]")
        tree = TreeOptions(**options, **arities)
        public = aggregation.NodePublic.from_json(r.get("public", dict), f"{source} (public)")
        return RoundProof(
            r.get("round_id", str), r.get("batch_count", int), tree, tuple(levels), public, stark
        )


@dataclass(frozen=True)
class BatchRoundProof:
    """round.zkp of a round of one batch: that batch's proof file itself, which proves everything
    the round states (root, totals, count) with no tree and no recursion (`expected_top`)."""

    round_id: str
    batch: BatchProof
    top: ClassVar[str] = TOP_BATCH
    batch_count: ClassVar[int] = 1
    nodes_per_level: ClassVar[tuple[int, ...]] = ()

    @functools.cached_property
    def top_options(self) -> ProofOptions:
        return StarkProof.from_bytes(self.batch.stark).options

    def stack_options(self) -> dict[str, ProofOptions]:
        return {"batch": self.top_options}

    def to_bytes(self) -> bytes:
        header = {"format": ROUND_FORMAT, "round_id": self.round_id, "batch_count": 1, "top": TOP_BATCH}
        return _pack(ROUND_MAGIC, ROUND_VERSION, header, self.batch.to_bytes())

    @staticmethod
    def _from_header(header: dict[str, Any], payload: bytes, source: str) -> BatchRoundProof:
        r = JsonFields(header, source, "", ("format", "round_id", "batch_count", "top"))
        if r.get("batch_count", int) != 1:
            raise r.error("batch_count", "a round proof that is a batch proof is a round of one batch")
        return BatchRoundProof(r.get("round_id", str), BatchProof.from_bytes(payload))


def read_round_proof(
    data: bytes, source: str = ROUND_PROOF_NAME, batch_count: int | None = None
) -> RoundProof | BatchRoundProof:
    """Parse round.zkp strictly. With `batch_count` (the statement's), the file must have the form
    that count gives (`expected_top`), else VerificationError: a file never chooses how it is read."""
    header, payload = _unpack(data, ROUND_MAGIC, ROUND_VERSION, "round proof")
    r = JsonFields(header, source, "", tuple(header))  # the form's own parser refuses unknown fields
    if r.get("format", str) != ROUND_FORMAT:
        raise InputError(f"not a {ROUND_FORMAT} file", path=source, field="format")
    top = r.get("top", str)
    if top not in TOP_FORMS:
        raise r.error("top", f"must be {TOP_NODE!r} or {TOP_BATCH!r}, not {top!r}")
    if batch_count is not None and top != expected_top(batch_count):
        raise VerificationError(
            f"{source}: its top is {TOP_FORMS[top]} ({top!r}), but the round proof of a round of "
            f"{batch_count} batch{'es' if batch_count > 1 else ''} is {TOP_FORMS[expected_top(batch_count)]}"
        )
    if top == TOP_BATCH:
        return BatchRoundProof._from_header(header, payload, source)
    return RoundProof._from_header(header, payload, source)


def _options(raw: dict, source: str, level: str) -> ProofOptions:
    prefix = f"options.{level}"
    r = JsonFields(raw, source, prefix, OPTION_FIELDS)
    values = {
        name: r.get(name, {"zero_knowledge": bool, "hasher": str}.get(name, int)) for name in OPTION_FIELDS
    }
    options = ProofOptions(**values)
    try:
        options.validate()
    except ZkporError as error:
        raise InputError(str(error), path=source, field=prefix) from None
    problem = option_limit_problem(level, options)
    if problem:
        raise r.error(*problem)
    return options


def option_limit_problem(level: str, options: ProofOptions) -> tuple[str, str] | None:
    """(field, why) for the first option of the `level` proofs (batch, inner or top) beyond what a
    verifier derives the round proof's programs for (`OPTION_LIMITS`); None when all are within."""
    for name, most in OPTION_LIMITS[level].items():
        value = getattr(options, name)
        if value > most:
            return name, f"{value} is over {most}, the most a verifier derives the round proof's programs for"
    if level != "top" and options.hasher != IN_CIRCUIT_HASHER:
        return "hasher", (f"must be {IN_CIRCUIT_HASHER}, not {options.hasher!r}: a node program "
                          f"verifies the {level} proofs in-circuit")  # fmt: skip
    return None


def check_tree_limits(tree: TreeOptions) -> None:
    """Refuse, before proving, a tree whose round proof no verifier would derive programs for."""
    for level in ("batch", "inner", "top"):
        problem = option_limit_problem(level, getattr(tree, level))
        if problem:
            raise ZkporError(f"the round proof's {level} option {problem[0]}: {problem[1]}")
    for name in ("leaf_arity_log", "node_arity_log"):
        if not 1 <= getattr(tree, name) <= MAX_ARITY_LOG:
            raise ZkporError(f"the round proof's {name} must be in [1, {MAX_ARITY_LOG}]")


# ---- proving the tree -----------------------------------------------------------------------------


@dataclass
class TreeReport:
    round_proof: RoundProof | BatchRoundProof  # the latter for a round of one batch: no node proven
    nodes_proven: int
    nodes_reused: int
    # Per level: the wall seconds of its node jobs (children read, proof), summed: nodes run among
    # the batches (`TreeSchedule`), and with the runner's overlap a job is read while another proves
    seconds_per_level: list[float]
    trace_lengths: dict[int, list[int]]  # the node proofs' trace lengths, by level
    # Per level: its node jobs' CPU (children read, program compiled and committed, proof), each on
    # the threads that ran it, the field pool's ranges done for it included (`thread_cpu_seconds`)
    cpu_seconds_per_level: list[float]


Public = BatchPublic | aggregation.NodePublic


class TreeSchedule:
    """The round proof's nodes as jobs, each ready as soon as its children are proven: a level-1
    node once its batches are, a higher node once its child nodes are. A round's driver adds every
    batch proof as it is recorded (`add_batch`) and hands the runner the nodes that became ready
    (`jobs`) among the batches still to prove, so the cores never wait at a level's start for the
    whole level below, and only the chain from the last batch to the top is left at the end.

    A node whose file is already there, shows this node's public values and verifies, is reused (a
    resumed prove); one that is damaged or stale is named and proven again. Each node file is
    written atomically as its result comes back (`record`); `finish` writes round.zkp."""

    def __init__(self, proof_dir: Path, statement: Statement, tree: TreeOptions, say: Notice) -> None:
        if expected_top(statement.batch_count) != TOP_NODE:
            raise ValueError("a round of one batch has no tree")
        self.proof_dir, self.statement, self.tree, self.say = proof_dir, statement, tree, say
        self.plan = aggregation.plan_tree(statement.batch_count, tree.leaf_arity_log, tree.node_arity_log)
        self.top_level = len(self.plan.levels)
        self.nodes_proven = self.nodes_reused = 0
        self._done: dict[tuple[int, int], tuple[bytes, Public]] = {}  # (level, index): level 0 batches
        self._expected: dict[tuple[int, int], aggregation.NodePublic] = {}  # nodes handed out
        self._ready: deque[NodeJobLike] = deque()
        self._top_fitted = False
        self._seconds = [0.0] * self.top_level
        self._cpu = [0.0] * self.top_level
        make_directory(proof_dir / NODES_DIR)
        remove_stale_temporaries(proof_dir / NODES_DIR)

    @property
    def finished(self) -> bool:
        return (self.top_level, 0) in self._done

    @property
    def ready(self) -> int:
        """How many nodes are ready and not handed out yet."""
        return len(self._ready)

    def add_batch(self, index: int, data: bytes) -> None:
        """Batch `index`'s proof file (proven now, or earlier and intact)."""
        self._add(0, index, data, BatchProof.from_bytes(data).public)

    def jobs(self) -> Iterator[NodeJobLike]:
        """The nodes ready now, each handed out once (more become ready as results are recorded)."""
        while self._ready:
            yield self._ready.popleft()

    def record(self, job: NodeJobLike, result: dict[str, Any]) -> None:
        """A node job's result: checked against the node's expected public values, written."""
        public = aggregation.NodePublic.from_json(result["public"], "a node job's result")
        if public != self._expected[job.level, job.index]:
            raise ZkporError(f"node L{job.level}-{job.index:05d} came back with other public values")
        data = NodeFile(job.level, job.index, public, result["proof"]).to_bytes()
        write_atomically(self.proof_dir / node_file_name(job.level, job.index), data)
        self.nodes_proven += 1
        self._seconds[job.level - 1] += result.get("seconds", 0.0)
        self._cpu[job.level - 1] += result.get("cpu", 0.0)
        self._add(job.level, job.index, data, public)

    def finish(self) -> TreeReport:
        """Write round.zkp from the top node (every node proven or reused)."""
        if not self.finished:
            raise ZkporError("the round proof's tree is not finished: a node was never proven")
        top = NodeFile.from_bytes(self._done[self.top_level, 0][0])
        shape = tuple(len(level) for level in self.plan.levels)
        round_proof = RoundProof(self.statement.round_id, self.statement.batch_count, self.tree, shape,
                                 top.public, top.stark)  # fmt: skip
        write_atomically(self.proof_dir / ROUND_PROOF_NAME, round_proof.to_bytes())
        lengths: dict[int, set[int]] = {}
        for (level, _), (data, _) in self._done.items():
            if level:
                stark = StarkProof.from_bytes(NodeFile.from_bytes(data).stark)
                lengths.setdefault(level, set()).add(1 << stark.log_trace_length)
        by_level = {level: sorted(found) for level, found in sorted(lengths.items())}
        proven, reused = self.nodes_proven, self.nodes_reused
        return TreeReport(round_proof, proven, reused, self._seconds, by_level, self._cpu)

    def _add(self, level: int, index: int, data: bytes, public: Public) -> None:
        self._done[level, index] = (data, public)
        if level and all((level, shape.index) in self._done for shape in self.plan.levels[level - 1]):
            # the level is proven: its program's committed columns are not needed again
            node_program(self.statement, self.tree, self.plan.levels[level - 1][0]).release_columns()
        if level == self.top_level:
            return
        if level == self.top_level - 1 and not self._top_fitted:
            # The top's program (over this level's) is compiled now, while other jobs prove, rather
            # than after this level's last node, when nothing would prove beside it
            self._fit_top()
        parents = self.plan.levels[level]  # the level above (plan.levels[0] is level 1)
        first_leaf = index if level == 0 else self.plan.levels[level - 1][index].first_leaf
        parent = parents[first_leaf >> parents[0].height]
        children = [(level, _child_index(parent, k)) for k in range(parent.real_children)]
        if all(child in self._done for child in children):
            self._start(parent, [self._done[child] for child in children])

    def _start(self, shape: aggregation.NodeShape, children: list[tuple[bytes, Public]]) -> None:
        expected = self._expected[shape.level, shape.index] = self._public(shape, [p for _, p in children])
        if shape.level == self.top_level and not self._top_fitted:
            self._fit_top()
        options = self.tree.for_level(shape.level, self.top_level)
        path = self.proof_dir / node_file_name(shape.level, shape.index)
        data = _intact_node(path, shape, expected, self.statement, self.tree, options, self.say)
        if data is not None:
            self.nodes_reused += 1
            self._add(shape.level, shape.index, data, expected)
            return
        from zkpor.liabilities.distributed import NodeJob

        files = tuple(child_file for child_file, _ in children)
        self._ready.append(NodeJob(self.statement, shape.level, shape.index, self.tree, files))

    def _fit_top(self) -> None:
        """The top proof's options for its program's trace length (`fit_top`): its program is
        compiled here once, whatever its options."""
        top = node_program(self.statement, self.tree, self.plan.top)
        self.tree = fit_top(self.tree, top.layout.trace_length)
        self._top_fitted = True

    def _public(self, shape: aggregation.NodeShape, children: list[Public]) -> aggregation.NodePublic:
        """What the node must show: the top tree's subtree root over its slots (its children's roots,
        then filler subtrees) and the sums of its real children's limb totals."""
        fillers = [aggregation.filler_root(shape.child_height)] * (shape.arity - len(children))
        root = tuple(merkle_root([tuple(p.root) for p in children] + fillers))
        totals = tuple(  # [asset][side][limb], summed over the children
            tuple(tuple(map(sum, zip(*sides, strict=True))) for sides in zip(*asset, strict=True))
            for asset in zip(*(p.limb_totals for p in children), strict=True)
        )
        return aggregation.NodePublic(self.statement.digest(), shape.first_leaf, root, totals,  # type: ignore[arg-type]
                                      self.statement.batch_count, self.statement.weights)  # fmt: skip


NodeJobLike = Any  # `distributed.NodeJob` (distributed imports this module)


def prove_tree(
    proof_dir: Path,
    statement: Statement,
    batch_files: list[bytes],
    tree: TreeOptions,
    runner: Any,
    say: Notice,
) -> TreeReport:
    """Prove every node not already proven (intact) in proof_dir/nodes over the batch proof files
    `batch_files` (in index order) and write proof_dir/round.zkp; `prove_round` instead runs a
    `TreeSchedule` among its batches. A round of one batch has no tree (`expected_top`): its
    round.zkp is that batch's proof (proven with `tree.leaf_options(1)`)."""
    if expected_top(statement.batch_count) == TOP_BATCH:
        (batch_file,) = batch_files
        lone = BatchRoundProof(statement.round_id, BatchProof.from_bytes(batch_file))
        write_atomically(proof_dir / ROUND_PROOF_NAME, lone.to_bytes())
        say("Round proof: a round of one batch needs no tree; round.zkp is its batch proof.")
        return TreeReport(lone, 0, 0, [], {}, [])
    schedule = TreeSchedule(proof_dir, statement, tree, say)
    for index, data in enumerate(batch_files):
        schedule.add_batch(index, data)
    while not schedule.finished:
        if not schedule.ready:
            raise ZkporError("the round proof's tree has no node ready to prove and is not finished")
        for job, result in runner.run(schedule.jobs()):
            schedule.record(job, result)
    return schedule.finish()


def _child_index(shape: aggregation.NodeShape, k: int) -> int:
    """The index, in the level below, of the node's k-th child."""
    return (shape.first_leaf >> shape.child_height) + k


def _intact_node(
    path: Path,
    shape: aggregation.NodeShape,
    expected: aggregation.NodePublic,
    statement: Statement,
    tree: TreeOptions,
    options: ProofOptions,
    say: Notice,
) -> bytes | None:
    """The node file's bytes if it is there and shows what this node must (public values, and a
    proof that verifies); else None, naming a file that is there but wrong."""
    if not path.is_file():
        return None
    where = f"Node L{shape.level}-{shape.index:05d}: {path}"
    try:
        data = path.read_bytes()
        node = NodeFile.from_bytes(data, str(path))
        if (node.level, node.index) != (shape.level, shape.index):
            raise VerificationError(f"it is node L{node.level}-{node.index:05d}")
        if node.public != expected:
            raise VerificationError("its public values are not this node's")
        stark = StarkProof.from_bytes(node.stark)
        if stark.options != options:
            raise VerificationError("it was proven with other options")
        np = node_program(statement, tree, shape)
        aggregation.verify_node(np, node.public, stark, min_security_bits=0)  # integrity, not policy
    except (ZkporError, OSError) as error:
        say(f"{where} is damaged or stale ({error}); proving it again.")
        return None
    return data


def node_program(
    statement: Statement, tree: TreeOptions, shape: aggregation.NodeShape, *, early_keys: bool = False
) -> aggregation.NodeProgram:
    """The program of the node `shape` of this round's tree (and, to build it, those of the levels
    below: one a level; `aggregation.node_program` caches each per process). `early_keys`: the
    levels below commit their columns as soon as each is laid out (`aggregation.node_program`),
    for a verifier deriving the keys."""
    plan = aggregation.plan_tree(statement.batch_count, tree.leaf_arity_log, tree.node_arity_log)
    options = tree.for_level(shape.level, len(plan.levels))
    if shape.level == 1:
        child = aggregation.ChildSpec.batches(statement_layout(statement, tree.batch), tree.batch)
    else:
        below = plan.levels[shape.level - 2][0]
        child = aggregation.ChildSpec.nodes(node_program(statement, tree, below, early_keys=early_keys))
    # (the top's is committed once it is built, `stack_keys`: its layout beside the level below's
    # commitment would add a few tens of MB to the peak)
    early_key = early_keys and shape.level < len(plan.levels)
    return aggregation.node_program(shape, child, options, early_key=early_key)


def node_payload(job: Any) -> dict[str, Any]:
    """A node job (`distributed.NodeJob`) as plain values: the only form in which it leaves the client."""
    return {
        "kind": "node",
        "statement": job.statement.encode(),
        "level": job.level,
        "index": job.index,
        "tree": tree_payload(job.tree),
        "children": [bytes(c) for c in job.children],
    }


def prove_node_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Prove one node from its plain-value job; runs on a worker. `children` are the children's
    files (batch proof files at level 1, node files above)."""
    return prepare_node_payload(payload)()


def prepare_node_payload(payload: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """`prove_node_payload` in two steps (`aggregation.prepare_node`): the children read into the
    node program's inputs now, the proof by the function returned."""
    started, cpu_started = time.perf_counter(), thread_cpu_seconds()
    statement = Statement.decode(payload["statement"])
    tree = _tree_from_payload(payload["tree"])
    plan = aggregation.plan_tree(statement.batch_count, tree.leaf_arity_log, tree.node_arity_log)
    shape = plan.levels[payload["level"] - 1][payload["index"]]
    children: list[tuple[BatchPublic | aggregation.NodePublic, StarkProof]] = []
    for data in payload["children"]:
        child = BatchProof.from_bytes(data) if shape.level == 1 else NodeFile.from_bytes(data)
        children.append((child.public, StarkProof.from_bytes(child.stark)))
    node = node_program(statement, tree, shape)
    finish = aggregation.prepare_node(
        node, statement.digest(), shape.first_leaf, statement.batch_count, children, statement.weights
    )

    prepared, prepare_cpu = time.perf_counter() - started, thread_cpu_seconds() - cpu_started

    def prove() -> dict[str, Any]:
        proving, proof_cpu = time.perf_counter(), thread_cpu_seconds()
        public, proof = finish()
        seconds = prepared + time.perf_counter() - proving
        cpu = prepare_cpu + thread_cpu_seconds() - proof_cpu  # each step on the thread that ran it
        return {"kind": "node", "level": shape.level, "index": shape.index, "public": public.to_json(),
                "proof": proof.to_bytes(), "seconds": seconds, "cpu": cpu}  # fmt: skip

    return prove


def _tree_from_payload(raw: dict[str, Any]) -> TreeOptions:
    return TreeOptions(ProofOptions(**raw["batch"]), ProofOptions(**raw["inner"]), ProofOptions(**raw["top"]),
                       raw["leaf_arity_log"], raw["node_arity_log"])  # fmt: skip


def tree_payload(tree: TreeOptions) -> dict[str, Any]:
    return {**tree.to_json(), "leaf_arity_log": tree.leaf_arity_log, "node_arity_log": tree.node_arity_log}


# ---- verifying the round proof --------------------------------------------------------------------


@dataclass
class RoundProofCheck:
    round_proof: RoundProof | BatchRoundProof
    totals: list[tuple[int, int]]  # exact (equity, debt) per real asset, as proven
    # "batch", "inner" (when the tree has inner levels), "top"; "batch" only for a round of one batch
    security: dict[str, SecurityLevel]
    proof_bytes: int
    seconds: float  # the whole check, keys included
    keys_built: bool  # the verifying keys were derived here (not found in the local cache)
    keys_seconds: float = 0.0  # of `seconds`: deriving the keys, or reading them from the cache
    top_key: str = ""  # SHA-256 (hex) of the top program's verifying key: the same for every auditor


def verify_round_proof(
    path: Path,
    g: GlobalProof,
    *,
    min_security_bits: int = 100,
    min_proven_bits: int = 0,
    allow_non_zk: bool = False,
    cache: KeyCache | None = None,
    notice: Notice | None = None,
) -> RoundProofCheck:
    """Check round.zkp against global.json: the same round (id, statement digest, batch count), the
    batch options global.json lists, the proven root and exact totals equal to global.json's, every
    level's security, and the top proof under verifying keys derived here (or cached by an earlier
    derivation on this machine). Raises VerificationError naming the file and what differs."""
    started = time.perf_counter()
    where = str(path)
    data = read_bounded(path, MAX_PROOF_BYTES)
    try:
        rp = read_round_proof(data, where, g.batch_count)  # the form global.json's batch count gives
        if isinstance(rp, BatchRoundProof):
            minimums = {"min_security_bits": min_security_bits, "min_proven_bits": min_proven_bits}
            return _verify_lone_batch(where, rp, g, len(data), started, allow_non_zk=allow_non_zk, **minimums)
        top_options = StarkProof.from_bytes(rp.stark).options
    except ProofFormatError as error:
        raise VerificationError(f"{where}: {error}") from None
    _check_round(where, rp, g)
    if asdict(rp.tree.batch) != g.proof_options:
        raise VerificationError(f"{where}: its batch options are not global.json's proof_options")
    if top_options != rp.tree.top:
        raise VerificationError(f"{where}: the top proof's options are not the ones its header lists")
    try:
        plan = aggregation.plan_tree(g.batch_count, rp.tree.leaf_arity_log, rp.tree.node_arity_log)
        aggregation.check_top(plan, rp.public, g)
    except ZkporError as error:
        raise VerificationError(f"{where}: {error}") from None
    if rp.nodes_per_level != tuple(len(level) for level in plan.levels):
        raise VerificationError(f"{where}: its tree shape is not the one {g.batch_count} batches give")
    for name, options in stack_options(rp.tree, len(plan.levels)).items():
        if not options.zero_knowledge and not allow_non_zk:
            raise VerificationError(
                f"{where}: the {name} proofs are not zero-knowledge (their openings leak what they "
                "prove over); refused unless --allow-non-zk"
            )
    keys_started = time.perf_counter()
    try:
        keys = stack_keys(g.statement, rp.tree, plan, cache or KeyCache(None), notice)
    except ZkporError as error:  # e.g. options no node program can verify (a BLAKE3 batch)
        raise VerificationError(f"{where}: its tree's programs cannot be derived: {error}") from None
    keys_seconds = time.perf_counter() - keys_started
    lengths = {level: [k.summary.trace_length for k in found] for level, found in keys.by_level.items()}
    security = stack_security(g.statement, rp.tree, lengths)
    for name, level in security.items():
        if level.conjectured_bits < min_security_bits or level.proven_bits < min_proven_bits:
            raise VerificationError(
                f"{where}: the {name} proofs give {level.describe()}, below the required "
                f"{min_security_bits} conjectured / {min_proven_bits} proven bits"
            )
    try:
        verify_with_key(keys.top, rp.public.program_public(), rp.stark, min_security_bits=0)
    except ZkporError as error:
        raise VerificationError(f"{where}: {error}") from None
    totals = rp.public.asset_totals(g.limb_bits)[: len(g.assets)]
    return RoundProofCheck(rp, totals, security, len(data), time.perf_counter() - started, keys.built,
                           keys_seconds, keys.top.digest())  # fmt: skip


def _check_round(where: str, rp: RoundProof | BatchRoundProof, g: GlobalProof) -> None:
    if rp.round_id != g.round_id:
        raise VerificationError(f"{where} is the round proof of round {rp.round_id!r}, not {g.round_id!r}")
    if rp.batch_count != g.batch_count:
        raise VerificationError(f"{where} is for {rp.batch_count} batches, global.json lists {g.batch_count}")


def _verify_lone_batch(
    where: str,
    rp: BatchRoundProof,
    g: GlobalProof,
    size: int,
    started: float,
    *,
    allow_non_zk: bool,
    min_security_bits: int,
    min_proven_bits: int,
) -> RoundProofCheck:
    """A round of one batch: round.zkp is batch 0's proof. It must be this round's (id, statement,
    index 0), at global.json's proof_options, prove global.json's root and exact totals (the top
    node's checks, `aggregation.check_top`, on its public values) and verify."""
    _check_round(where, rp, g)
    if asdict(rp.top_options) != g.proof_options:
        raise VerificationError(f"{where}: its batch proof's options are not global.json's proof_options")
    if not rp.top_options.zero_knowledge and not allow_non_zk:
        raise VerificationError(
            f"{where}: the batch proof is not zero-knowledge (its openings leak balances); "
            "refused unless --allow-non-zk"
        )
    p = rp.batch.public
    try:
        report = verify_batch(g.statement, rp.batch, expected_index=0, min_security_bits=min_security_bits,
                              min_proven_bits=min_proven_bits)  # fmt: skip
        as_top = aggregation.NodePublic(
            p.statement_digest, p.batch_index, p.root, p.limb_totals, 1, p.weights
        )
        aggregation.check_top(aggregation.plan_tree(1), as_top, g)
    except ZkporError as error:
        raise VerificationError(f"{where}: {error}") from None
    totals = p.asset_totals(g.limb_bits)[: len(g.assets)]
    return RoundProofCheck(rp, totals, {"batch": report.security}, size, time.perf_counter() - started, False)


# ---- deriving the verifying keys ------------------------------------------------------------------


@dataclass
class StackKeys:
    by_level: dict[int, list[ProgramVerifyingKey]]  # every distinct program's key, by level
    top: ProgramVerifyingKey
    built: bool


# The code a node program is derived from: a change to any of it may change the programs, so it
# is part of every cached key's name (with the version: a development checkout changes without it).
# (published.py: the filler digest and top-tree size the programs use; batch.py: the layout of a
# statement; round_tree.py: which program each node of the tree gets.)
_PROGRAM_SOURCES = ("field", "hash", "stark", "recursion", "liabilities/aggregation.py",
                    "liabilities/air.py", "liabilities/layout.py", "liabilities/encoding.py",
                    "liabilities/published.py", "liabilities/batch.py",
                    "liabilities/round_tree.py")  # fmt: skip


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 over the sources node programs are compiled by."""
    root = Path(zkpor.__file__).parent
    digest = hashlib.sha256()
    for name in _PROGRAM_SOURCES:
        path = root / name
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(root).as_posix().encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def stack_id(statement: Statement, tree: TreeOptions) -> str:
    """A hash of everything the programs of a tree over this statement's batches share: the
    solvency layout (asset bit bounds, limb bits, batch size, gadget), every level's options and
    the arities, zkpor's version and its code (`code_fingerprint`). Not the round's data: the price
    weights, the statement digest (round id and all) and the batch count are public inputs of the
    programs; the batch count sets only the tree's height (`_signature`), so a later round of the
    same height finds its keys cached."""
    layout = statement_layout(statement, tree.batch)
    document = {
        "zkpor": zkpor.__version__,
        "code": code_fingerprint(),
        "layout": {
            "bits": list(layout.asset_bits),
            "limb_bits": layout.limb_bits,
            "batch_size": layout.batch_size,
            "sbox_degree": layout.sbox_degree,
        },  # fmt: skip
        "tree": tree_payload(tree),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(b"zkpor-round-keys-v2\x00" + text).hexdigest()


def _signature(plan: aggregation.TreePlan, shape: aggregation.NodeShape) -> tuple:
    """Equal for two nodes of trees over one layout and options exactly when their programs are:
    the shapes (level, height, child height) of its level and of every level below. Every node of
    a level has the same program, and the heights follow from the tree's height H alone
    (`plan_tree`): two rounds whose batch counts give the same H share every program."""
    return tuple(level[0].program_shape for level in plan.levels[: shape.level])


def key_id(base: str, plan: aggregation.TreePlan, shape: aggregation.NodeShape, options: ProofOptions) -> str:
    """The cache name of a node's verifying key: the stack's id, the node's program (`_signature`)
    and the options it is proven with (the same program is a top in one tree and an inner node in
    a larger one: another key)."""
    named = repr((_signature(plan, shape), sorted(asdict(options).items())))
    return f"{base[:48]}-{hashlib.sha256(named.encode()).hexdigest()[:16]}"


def stack_keys(
    statement: Statement,
    tree: TreeOptions,
    plan: aggregation.TreePlan,
    cache: KeyCache,
    notice: Notice | None,
) -> StackKeys:
    """The verifying key of every distinct program of the tree, from the local cache or derived
    (compiling the programs level by level) and cached. Derivation is announced through `notice`."""
    base = stack_id(statement, tree)
    top_level = len(plan.levels)
    distinct: dict[tuple, aggregation.NodeShape] = {}
    for level in plan.levels:
        for shape in level:
            distinct.setdefault(_signature(plan, shape), shape)
    ids = {sig: key_id(base, plan, shape, tree.for_level(shape.level, top_level))
           for sig, shape in distinct.items()}  # fmt: skip
    cached = all((p := cache.path(i)) is not None and p.is_file() for i in ids.values())
    if not cached and notice:
        where = f"cached in {cache.directory}" if cache.directory else "not cached"
        notice(f"Deriving the round proof's verification keys from the code, the statement and the options "
               f"({len(distinct)} program{'s' if len(distinct) > 1 else ''}; {where}).")  # fmt: skip
    # Deriving: the kernels it calls load in a thread while the first program is written, and its
    # large temporaries are mapped (`aggregation.map_large_allocations`).
    preloader = None if cached else Preloader(derivation_kernels())
    if not cached:
        aggregation.map_large_allocations()
    built_before = len(cache.built)
    compiled_before = aggregation.cached_programs()
    try:
        top_path = cache.path(ids[_signature(plan, plan.top)])
        if top_path is None or not top_path.is_file():
            # The top's program first (and with it every level's below): each level's columns are then
            # committed in a thread as soon as it is laid out, while the levels above are written
            # (`aggregation.node_program`), not after them; the loop below finds those keys computed.
            with phase("round keys: compile programs"):
                top_program = node_program(statement, tree, plan.top, early_keys=True)
            # its columns' commitment now, not after the levels below are summarised and cached
            top_program.key_in_background()
            del top_program
        by_level: dict[int, list[ProgramVerifyingKey]] = {}
        for sig, shape in distinct.items():  # level by level: the top last

            def build(shape=shape) -> ProgramVerifyingKey:
                with phase("round keys: compile programs"):  # (the levels below too, when not compiled yet)
                    program = node_program(statement, tree, shape)
                summary, committing = program.layout.summary(), program.key_in_background()
                if shape.level < top_level or committing is None:  # (a parent's program waited for it)
                    with phase("round keys: commit columns"):
                        return ProgramVerifyingKey(summary, program.key.preprocessed)
                # The top's columns are the tree's largest commitment and no program needs its key: the
                # programs compiled here (hundreds of MB at 2^20 users) are released while it runs.
                del program
                aggregation.forget_programs(compiled_before)
                with phase("round keys: commit columns"):
                    return ProgramVerifyingKey(summary, committing.result())

            key = cache.get(ids[sig], f"the level-{shape.level} verification key", build)
            by_level.setdefault(shape.level, []).append(key)
    finally:
        if preloader is not None:
            preloader.stop()  # (a kernel it failed to load loads, or fails, where first called)
    top = by_level[top_level][0]
    return StackKeys(by_level, top, len(cache.built) > built_before)


def derivation_kernels() -> list[Any]:
    """The kernels `stack_keys` calls when it derives keys, in the order it first calls them
    (tests/cli/test_kernel_preloading.py checks the list): the programs' periodic columns, checks
    and layouts, the inner levels' Poseidon2 leaves and nodes, the top's BLAKE3 leaves and nodes."""
    from zkpor.field import goldilocks, ntt
    from zkpor.hash import blake3_columns, poseidon2_lanes
    from zkpor.recursion import layout_kernel, program_check

    return [
        goldilocks._powers_kernel,
        ntt._bitrev_kernel,
        ntt._run_rows,
        program_check.well_formed,
        layout_kernel.fill_layout,
        goldilocks._elementwise_kernel,
        poseidon2_lanes.sponge_columns_range,
        poseidon2_lanes.hash_pairs_range,
        blake3_columns.hash_columns_range,
    ]


def stack_options(tree: TreeOptions, levels: int) -> dict[str, ProofOptions]:
    """The options of each kind of proof a tree of `levels` node levels has: batch, inner (only
    with two levels or more: a one-level tree's only node is its top) and top."""
    kinds = {"batch": tree.batch, "inner": tree.inner, "top": tree.top}
    if levels < 2:
        del kinds["inner"]
    return kinds


def stack_security(
    statement: Statement, tree: TreeOptions, trace_lengths: dict[int, list[int]]
) -> dict[str, SecurityLevel]:
    """The security level of each kind of proof in the stack: batch, inner (the weakest program
    below the top, when the tree has more than one level) and top. `trace_lengths`: the node
    programs' trace lengths, by level (the top level last)."""
    from zkpor.liabilities.round_proof import batch_security

    out = {"batch": batch_security(statement_layout(statement, tree.batch), statement.digest(), tree.batch)}
    top_level = max(trace_lengths)
    for level, lengths in sorted(trace_lengths.items()):
        name = "top" if level == top_level else "inner"
        options = tree.for_level(level, top_level)
        for n in lengths:
            found = security_level(options, *committed_sizes(n, options))
            out[name] = SecurityLevel.weakest([out.get(name, found), found])
    return out


def describe_stack(security: dict[str, SecurityLevel], stack: dict[str, ProofOptions]) -> Iterator[str]:
    """One line per kind of proof: its security and options (`stack`: RoundProof.stack_options())."""
    for name in ("batch", "inner", "top"):
        if name in security:
            options = stack[name]
            zk = "zero knowledge" if options.zero_knowledge else "NO zero knowledge"
            yield (f"{name}: {security[name].describe()}; {options.hasher}, blowup {options.blowup}, "
                   f"{options.num_queries} queries, {options.grinding_bits} grinding bits, {zk}")  # fmt: skip
