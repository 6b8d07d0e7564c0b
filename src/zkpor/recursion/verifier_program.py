"""The STARK verifier compiled into a recursion program (stage 2 of docs/recursion.md).

For a proof made with `ProofOptions(hasher="poseidon2")` the program replays, with the recursion
AIR's operations,

- the **Fiat–Shamir transcript**: the Poseidon2 duplex sponge of
  `zkpor.hash.transcript_poseidon2` absorbing the statement (AIR digest, options, the child's public
  inputs — the program's public inputs), the commitment roots, the OOD values and the FRI final
  polynomial, squeezing the aux challenges, α, z, the DEEP α and the FRI β, checking the proof of
  work (the nonce's permutation output decomposed, its top bits asserted zero) and drawing the
  query positions (each drawn lane decomposed into bits);
- the **Merkle openings** of every queried row against every commitment root (trace, aux,
  preprocessed, quotient, each FRI layer): the row (with its salt) hashed by the sponge, then one
  Merkle step a level, the swap bit being the query position's bit at that level, the top asserted
  equal to the root absorbed into the transcript;
- the **out-of-domain identity**: the child AIR's own constraint code (`Air.evaluate`,
  `evaluate_aux`, `composition.combine`) run on `Symbolic` cells, which write instructions as it
  computes, periodic columns evaluated at z^(n/period) by Horner, preprocessed columns as opened
  (their root, from the child's verification key, is a constant of the program), against
  Σ z^(i·n)·Q_i(z);
- **DEEP** at each query point x = g·ω^i (from the bits): Σ α^k (row_k − v_k(z))/(x − z) +
  Σ α^k (row_k − v_k(zω))/(x − zω) (+ the zero-knowledge randomizer), as `zkpor.stark.deep`;
- **FRI**: per layer, the coset's value at the query (selected by the position's bits) equals the
  previous fold (DEEP at layer 0), the coset folded with β as `fri.fold_coset`, and the last fold
  equals the final polynomial at its point.

Not as natively: z is the transcript's first draw (the native verifier redraws the ≈ 2^-60 draw
that lands on the trace domain or the LDE coset; on the trace domain the program's 1/Z_H(z) has no
inverse and the run fails, on the coset only a query landing on z fails), and the security level is
the options' (fixed with the program), not re-derived.

Proof data enters as private inputs (`witness` lists them in the program's order), so a tampered
opening, path, root, nonce or FRI layer makes an assertion fail (`VerifierCells.checks` says which).
The program depends on the child's shape (AIR, options) and on `draws`, the number of sponge lanes
the query draw read: the native verifier draws *distinct* positions, so a repeated lane (a
collision, probability ≈ q²/2·lde) makes it read one more. Each drawn lane is checked, a repeat
included (its row is opened once in the proof). The Poseidon2 prover grinds its proof-of-work
nonce until the draw has no repeat (`zkpor.stark.statement.grind_for_distinct_queries`), so every
proof it makes needs `draws` = the number of queries, the default.

`compile_verifier` makes a program of one verifier, the child's public inputs being the program's.
`emit_verifier` writes a verifier into a shared `VerifierCompiler` (a node of the aggregation tree
holds several): the child's public inputs are existing cells, read by the child AIR's constraint
code as `Symbolic` values, its private-input keys and assertion labels prefixed by its number;
`proof_values` reads a proof's data for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import astuple, dataclass, field, replace

import numpy as np

from zkpor.field import ntt
from zkpor.field.extension import Ext
from zkpor.hash import merkle_proof, poseidon2, poseidon2_batch, poseidon2_lanes
from zkpor.hash import transcript_poseidon2 as tp
from zkpor.recursion.program import ZERO_CELL, Mark, Program, ProgramBuilder, ProgramError
from zkpor.stark import composition, fri
from zkpor.stark.air import Air, Frame
from zkpor.stark.domain import ProofDomain
from zkpor.stark.params import ProofOptions
from zkpor.stark.preprocessed import VerificationKey, key_mismatch
from zkpor.stark.proof import Opening, StarkProof
from zkpor.stark.statement import PROTOCOL_LABEL, options_bytes
from zkpor.stark.verifier import replay_to_out_of_domain

P = poseidon2.P
RATE = poseidon2.RATE
DIGEST_LEN = poseidon2.DIGEST_LEN
U = Ext(0, 1)

# A private input is named by a key; `witness` reads the value it names from the proof.
Key = tuple


class ProgramTranscript:
    """`Poseidon2Transcript` on program cells: the same records, absorbed block by block."""

    def __init__(self, b: ProgramBuilder, protocol_label: bytes) -> None:
        self.b = b
        self.state = [ZERO_CELL] * poseidon2.SPONGE_WIDTH
        self._record(tp.OP_PROTOCOL, b"protocol", self._constants(tp.bytes_elements(protocol_label)))

    def _constants(self, values: Sequence[int]) -> list[int]:
        return [self.b.constant(v) for v in values]

    def _record(self, op: int, label: bytes, data: Sequence[int]) -> None:
        elements = [*self._constants([op, *tp.label_elements(label)]), *data]
        for start in range(0, len(elements), RATE):
            block = elements[start : start + RATE]
            self.state = self.b.permute([*block, *[ZERO_CELL] * (RATE - len(block)), *self.state[RATE:]])

    def absorb_bytes(self, label: bytes, data: bytes) -> None:
        self._record(tp.OP_BYTES, label, self._constants(tp.bytes_elements(data)))

    def absorb_elements(self, label: bytes, cells: Sequence[int]) -> None:
        self._record(tp.OP_ELEMENTS, label, [self.b.constant(len(cells)), *cells])

    def absorb_digest(self, label: bytes, cells: Sequence[int]) -> None:
        """A Poseidon2 root: its four words (cells hold field elements, so always this record)."""
        self._record(tp.OP_DIGEST, label, cells)

    def absorb_constant_digest(self, label: bytes, digest: bytes) -> None:
        words = [int.from_bytes(digest[i : i + 8], "little") for i in range(0, 32, 8)]
        if all(w < poseidon2.P for w in words):
            self._record(tp.OP_DIGEST, label, self._constants(words))
        else:
            self._record(tp.OP_DIGEST_BYTES, label, self._constants(tp.bytes_elements(digest)))

    def _challenge(self, label: bytes, kind: int, count: int, extra: int = 0) -> None:
        self._record(tp.OP_CHALLENGE, label, self._constants([kind, extra, count]))

    def _squeeze(self, count: int) -> list[int]:
        out: list[int] = []
        while True:
            out += self.state[: min(RATE, count - len(out))]
            if len(out) >= count:
                return out
            self.state = self.b.permute(self.state)

    def challenge_ext(self, label: bytes) -> int:
        """An extension challenge c0 + c1·u as one cell."""
        self._challenge(label, tp.KIND_EXT, 1)
        c0, c1 = self._squeeze(2)
        return self.b.mul_add(c1, self.b.constant(U), c0)

    def distinct_index_lanes(self, label: bytes, domain_size: int, count: int, draws: int) -> list[int]:
        """The first `draws` lanes `challenge_distinct_indices` reads (an index is a lane's low bits)."""
        self._challenge(label, tp.KIND_DISTINCT, count, domain_size.bit_length())
        lanes: list[int] = []
        while True:
            for lane in self.state[:RATE]:
                lanes.append(lane)
                if len(lanes) == draws:
                    return lanes
            self.state = self.b.permute(self.state)

    def check_grinding(self, nonce: int, bits: int, assert_zero: Callable[[int], None]) -> None:
        """The proof of work of `Poseidon2Transcript.check_grinding` (`assert_zero` is called on each
        bit that must be 0), then the nonce absorbed."""
        self._record(tp.OP_POW, b"pow", [self.b.constant(bits)])
        trial = self.b.permute([nonce, *self.state[1:]])
        if bits:
            for bit in self.b.decompose(trial[0])[64 - bits :]:
                assert_zero(bit)
        self._record(tp.OP_POW_NONCE, b"pow-nonce", [nonce])


@dataclass
class VerifierCells:
    """The challenge cells and what each assertion checks."""

    aux_challenges: list[int] = field(default_factory=list)
    alpha: int = 0
    z: int = 0
    deep_alpha: int = 0
    betas: list[int] = field(default_factory=list)
    query_bits: list[list[int]] = field(default_factory=list)  # per drawn lane, log2(lde) bits
    # what each assertion checks, by instruction index: "out-of-domain", "proof of work",
    # "<commitment> opening", "FRI layer <l>" (the coset's value at the query against the previous
    # fold, or DEEP for layer 0), "FRI final"
    checks: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LateKey:
    """A child's verification key whose root is still being computed: a verifier emitted with it
    reads the root's four words from late constants of the program (`ProgramBuilder.late_constants`,
    token: this key), which `set_late_root` gives their values before the program is built. The
    program is then the one emitted with the key itself (or, the rare time `set_late_root` says
    it is not, must be emitted again with it). Only for Poseidon2 keys, whose root words are field
    elements (`ProgramTranscript.absorb_constant_digest` absorbs them as such)."""

    width: int
    trace_length: int
    lde_size: int
    hasher: str = "poseidon2"

    def set_late_root(self, b: ProgramBuilder, key: VerificationKey) -> bool:
        """Give the root words of `key` (this key's, now known) to the program being built by `b`
        (see `ProgramBuilder.set_late_constants` for False)."""
        if (key.width, key.trace_length, key.lde_size, key.hasher) != astuple(self):
            raise ProgramError("the key given is not the one the verifier was emitted for")
        words = _digest_words(key.root)
        return all(w < P for w in words) and b.set_late_constants(self, words)


@dataclass(frozen=True)
class VerifierProgram:
    """A compiled (partial) verifier: the program, the keys of its private inputs in order, the
    cells of the challenges, and how many query lanes it checks. `witness` gives the private inputs
    for one proof."""

    program: Program
    private_keys: tuple[Key, ...]
    cells: VerifierCells
    options: ProofOptions
    draws: int
    key: VerificationKey | None = None  # the child's preprocessed columns, a constant of the program


class VerifierCompiler:
    """A program under construction holding verifiers: the builder, the keys of its private
    inputs in order (what `witness` reads from the proofs) and the label of each assertion."""

    def __init__(self, builder: ProgramBuilder | None = None) -> None:
        self.b = builder if builder is not None else ProgramBuilder()
        self.keys: list[Key] = []  # the keys written (`private`), in order
        self.copies: list[tuple[int, int, int, int]] = []  # `PrivateKeys` runs of `repeat_verifier`
        self.checks: dict[int, str] = {}

    def private_keys(self) -> PrivateKeys:
        """Every private input's key, in the program's order (the written ones and the copies)."""
        return PrivateKeys(tuple(self.keys), tuple(self.copies))

    def assert_equal(self, label: str, a: int, b: int) -> None:
        self.checks[self.b.instruction_count] = label
        self.b.assert_equal(a, b)

    def private(self, *key: object) -> int:
        self.keys.append(key)
        return self.b.private_input()

    def privates(self, keys: Sequence[Key]) -> range:
        """`[private(*key) for key in keys]`, written at once (a verifier reads ~10^5)."""
        self.keys.extend(keys)
        return self.b.private_inputs(len(keys))

    def mark(self) -> CompilerMark:
        """Where the program is now (`repeat_verifier` copies what is written between two)."""
        builder = self.b.mark()
        return CompilerMark(builder.cells, builder.instructions, builder.operands, len(self.keys))


@dataclass(frozen=True)
class CompilerMark(Mark):
    private_inputs: int  # private-input keys written


class PrivateKeys(Sequence[Key]):
    """A program's private-input keys in order: the keys written, and runs of them copied under
    another child number (`repeat_verifier`), each copy (at, start, end, child) standing for
    `(child, *key[1:])` of written[start:end], placed after the first `at` written keys. Copies are
    listed, not held: a node program's copied verifiers read hundreds of thousands of inputs."""

    def __init__(self, written: tuple[Key, ...], copies: tuple[tuple[int, int, int, int], ...] = ()) -> None:
        self._written, self._copies = written, copies

    def __iter__(self) -> Iterator[Key]:
        done = 0
        for at, start, end, child in self._copies:
            yield from self._written[done:at]
            done = at
            for key in self._written[start:end]:
                yield (child, *key[1:])
        yield from self._written[done:]

    def __len__(self) -> int:
        return len(self._written) + sum(end - start for _, start, end, _ in self._copies)

    def __getitem__(self, index):  # type: ignore[override]
        return tuple(self)[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class _Emitter:
    """One child verifier's view of a `VerifierCompiler`: its private-input keys prefixed by the
    child number and its assertion labels by "child <i>: " (none for a lone verifier)."""

    def __init__(self, compiler: VerifierCompiler, child: int | None) -> None:
        self.compiler, self.b, self.child = compiler, compiler.b, child
        self.checks: dict[int, str] = {}

    def assert_equal(self, label: str, a: int, b: int) -> None:
        self.checks[self.b.instruction_count] = label
        self.compiler.assert_equal(label if self.child is None else f"child {self.child}: {label}", a, b)

    def inverse(self, label: str, a: int) -> int:
        """a⁻¹ (a hint), its check a·a⁻¹ = 1 labelled like an assertion."""
        out = self.b.inverse(a)
        check = self.b.instruction_count - 1  # `ProgramBuilder.inverse` writes the check last
        self.checks[check] = label
        self.compiler.checks[check] = label if self.child is None else f"child {self.child}: {label}"
        return out

    def private(self, *key: object) -> int:
        return self.compiler.private(*key) if self.child is None else self.compiler.private(self.child, *key)

    def privates(self, *key: object, count: int) -> list[int]:
        """`[private(*key, j) for j in range(count)]`, written at once."""
        prefix = key if self.child is None else (self.child, *key)
        return list(self.compiler.privates([(*prefix, j) for j in range(count)]))

    def digest(self, *key: object) -> list[int]:
        return self.privates(*key, count=DIGEST_LEN)

    def ext_values(self, name: str, count: int) -> list[int]:
        """`count` extension values as 2·count base cells, as the transcript absorbs them."""
        return [self.private(name, k, c) for k in range(count) for c in range(2)]

    def check_opening(
        self, name: str, lane: int, root: list[int], bits: Sequence[int], width: int, salted: bool
    ) -> list[int]:
        """The row of query `lane` under `root`: the leaf sponge of the row (salted: the salt in
        its capacity, `merkle_proof.salted_leaf_capacity`), then one step a level. Returns the
        row's cells (the salt is not part of it)."""
        row = self.privates("row", name, lane, count=width)
        domain = merkle_proof.default_leaf_domain("poseidon2", salted)
        if salted:
            salt = self.privates("salt", name, lane, count=merkle_proof.SALT_ELEMS)
            tag, _, _, length = merkle_proof.salted_leaf_capacity(domain, [0] * len(salt), width)
            node = self.b.sponge_from_capacity([self.b.constant(tag), *salt, self.b.constant(length)], row)
        else:
            node = self.b.sponge_hash(domain, row)
        for level, bit in enumerate(bits):
            sibling = self.digest("sibling", name, lane, level)
            node = self.b.merkle_step(node, sibling, bit, merkle_proof.POSEIDON2_NODE_DOMAIN)
        for got, want in zip(node, root, strict=True):
            self.assert_equal(f"{name} opening", got, want)
        return row


@dataclass(frozen=True)
class ChildVerifier:
    """A verifier emitted into a shared program (`emit_verifier`): its challenge cells and
    assertion labels (unprefixed), and what `proof_values` needs to read a proof for it."""

    cells: VerifierCells
    options: ProofOptions
    draws: int
    key: VerificationKey | None
    child: int | None  # the prefix of its private-input keys (None: unprefixed)


def repeat_verifier(
    compiler: VerifierCompiler,
    template: ChildVerifier,
    span: tuple[CompilerMark, CompilerMark],
    inputs: Mapping[int, int],
    shared_below: int,
    child: int,
) -> ChildVerifier:
    """The verifier `emit_verifier` would write for child `child` whose public cells are those of
    `template` (written between the marks `span`, for another child of the same AIR shape,
    options and key) mapped by `inputs`: the template's instructions copied
    (`ProgramBuilder.repeat`), its private-input keys and assertion labels renamed for `child`.
    The same program, in a fraction of the time: emitting a verifier runs the child AIR's
    constraint code and the transcript in Python, instruction by instruction.

    ProgramError (nothing written) when the template reads a cell that is not one of its inputs,
    a constant or below `shared_below` (cells shared by every child)."""
    if template.child is None:
        raise ProgramError("only a verifier emitted for a numbered child can be repeated")
    start, end = span
    b = compiler.b
    first = b.instruction_count
    cell = b.repeat(start, end, inputs, shared_below)
    shift = first - start.instructions
    compiler.copies.append((len(compiler.keys), start.private_inputs, end.private_inputs, child))
    t = template.cells
    for k, label in t.checks.items():  # the template's assertions, unprefixed: all in the span
        compiler.checks[k + shift] = f"child {child}: {label}"
    cells = VerifierCells(
        aux_challenges=[cell(c) for c in t.aux_challenges],
        alpha=cell(t.alpha),
        z=cell(t.z),
        deep_alpha=cell(t.deep_alpha),
        betas=[cell(c) for c in t.betas],
        query_bits=[[cell(c) for c in bits] for bits in t.query_bits],
        checks={k + shift: label for k, label in t.checks.items()},
    )
    return replace(template, cells=cells, child=child)


def compile_verifier(
    air: Air, options: ProofOptions, *, draws: int | None = None, key: VerificationKey | None = None
) -> VerifierProgram:
    """The verifier of `air` (see the module docstring) for proofs made with `options` (hasher
    "poseidon2") whose query draw read `draws` lanes (default: the number of queries, i.e. no
    repeat; `replay(air, proof).positions` has a proof's). An AIR with preprocessed columns needs
    their `key`: its root is a constant of the program, the openings are checked against it.

    The child's public inputs are the program's public inputs (they enter the transcript); its
    constraints are evaluated with `air`'s own public values, so the program verifies proofs of
    those values. A program verifying proofs of values it reads as cells is built with
    `emit_verifier` and an AIR whose public values are those cells (`Symbolic`)."""
    c = VerifierCompiler()
    public_cells = [c.b.public_input() for _ in air.public_inputs()]
    child = _emit(c, air, options, public_cells, key=key, draws=draws, child=None)
    return VerifierProgram(c.b.build(), tuple(c.keys), child.cells, options, child.draws, key)


def emit_verifier(
    compiler: VerifierCompiler,
    air: Air,
    options: ProofOptions,
    public_cells: Sequence[int],
    *,
    key: VerificationKey | LateKey | None = None,
    draws: int | None = None,
    child: int | None = None,
) -> ChildVerifier:
    """Write the verifier of one proof of `air` into `compiler`'s program: the child's public
    inputs are the existing `public_cells` (in `air.public_inputs()` order), its private inputs
    get keys prefixed by `child` and its assertions the label prefix "child <child>: ".

    `air` is evaluated at z as given, so each of its public values must be the cell it is read
    from: a `Symbolic` of the same cell, or a constant whose cell is the one given (the caller
    builds the AIR on `Symbolic` public values, e.g. a node program's). `draws` and `key` as
    for `compile_verifier`; `key` may be a `LateKey`, its root given before the program is built."""
    public = air.public_inputs()
    if len(public) != len(public_cells):
        raise ProgramError(f"{air.name} has {len(public)} public inputs, not {len(public_cells)}")
    for k, (value, cell) in enumerate(zip(public, public_cells, strict=True)):
        read = value.cell if isinstance(value, Symbolic) else compiler.b.constant(value)
        if read != cell:
            raise ProgramError(
                f"{air.name}: public input {k} is evaluated from cell {read} but absorbed from cell {cell}"
            )
    return _emit(compiler, air, options, public_cells, key=key, draws=draws, child=child)


def _emit(
    compiler: VerifierCompiler,
    air: Air,
    options: ProofOptions,
    public_cells: Sequence[int],
    *,
    key: VerificationKey | LateKey | None,
    draws: int | None,
    child: int | None,
) -> ChildVerifier:
    if options.hasher != "poseidon2":
        raise ProgramError(f"only proofs with hasher 'poseidon2' compile, not {options.hasher!r}")
    draws = options.num_queries if draws is None else draws
    n = air.trace_length
    domain = ProofDomain.create(n, air.max_constraint_degree(), options)
    _check_key(air, domain, options, key)
    layout = fri.FriLayout.for_proof(domain, options)
    log_lde = domain.lde_size.bit_length() - 1
    c = _Emitter(compiler, child)
    b = c.b
    cells = VerifierCells()

    t = ProgramTranscript(b, PROTOCOL_LABEL)
    t.absorb_constant_digest(b"air", air.digest())
    t.absorb_bytes(b"options", options_bytes(options))
    t.absorb_elements(b"public-inputs", list(public_cells))
    preprocessed_root = None
    if air.preprocessed_width and isinstance(key, LateKey):  # root words given before the build
        preprocessed_root = b.late_constants(key, DIGEST_LEN)
        t.absorb_digest(b"preprocessed-root", preprocessed_root)  # = absorb_constant_digest of them
    elif air.preprocessed_width:
        t.absorb_constant_digest(b"preprocessed-root", key.root)
        preprocessed_root = [b.constant(word) for word in _digest_words(key.root)]
    main_root = c.digest("main-root")
    t.absorb_digest(b"main-root", main_root)
    cells.aux_challenges = [t.challenge_ext(b"aux-challenge") for _ in range(air.num_aux_challenges)]
    aux_root = None
    if air.aux_width:
        aux_root = c.digest("aux-root")
        t.absorb_digest(b"aux-root", aux_root)
    cells.alpha = t.challenge_ext(b"composition")
    quotient_root = c.digest("quotient-root")
    t.absorb_digest(b"quotient-root", quotient_root)
    cells.z = t.challenge_ext(b"ood-point")  # the first draw: a redraw (≈ 2^-60) does not compile
    opened_at_zw = air.main_width + 2 * air.aux_width + air.preprocessed_width
    at_z = c.ext_values("at-z", opened_at_zw)
    at_zw = c.ext_values("at-zw", opened_at_zw)
    quotient_at_z = c.ext_values("quotient-at-z", 2 * domain.num_quotient_chunks)
    for label, values in ((b"ood-z", at_z), (b"ood-zw", at_zw), (b"ood-quotient", quotient_at_z)):
        t.absorb_elements(label, values)
    expected, claimed = _out_of_domain(b, air, domain, cells, at_z, at_zw, quotient_at_z)
    c.assert_equal("out-of-domain", expected.cell, claimed.cell)
    cells.deep_alpha = t.challenge_ext(b"deep")
    fri_roots = []
    for layer in range(layout.num_folds):
        fri_roots.append(c.digest("fri-root", layer))
        t.absorb_digest(b"fri-layer-root", fri_roots[-1])
        cells.betas.append(t.challenge_ext(b"fri-fold"))
    final_coordinates = c.ext_values("fri-final", layout.final_degree_bound)
    t.absorb_elements(b"fri-final", final_coordinates)
    t.check_grinding(
        c.private("pow-nonce"),
        options.grinding_bits,
        lambda bit: c.assert_equal("proof of work", bit, ZERO_CELL),
    )
    lanes = t.distinct_index_lanes(b"queries", domain.lde_size, options.num_queries, draws)

    salted = options.zero_knowledge
    chunk_columns = 2 * domain.num_quotient_chunks
    deep = _DeepCombination(b, cells, domain, at_z, at_zw, quotient_at_z, salted)
    final = [_ext(b, final_coordinates[2 * k], final_coordinates[2 * k + 1])
             for k in range(layout.final_degree_bound)]  # fmt: skip
    s, correction_weight = layout.correction_exponent, None
    if s:
        correction_weight = b.mul(deep.powers[-1], cells.deep_alpha)  # λ = α^{Z + S + 1}
    for lane, value in enumerate(lanes):
        bits = b.decompose(value)[:log_lde]
        cells.query_bits.append(bits)
        shifted = c.check_opening("main", lane, main_root, bits, air.main_width, salted)
        if aux_root is not None:
            shifted += c.check_opening("aux", lane, aux_root, bits, 2 * air.aux_width, salted)
        if preprocessed_root is not None:
            shifted += c.check_opening("preprocessed", lane, preprocessed_root, bits, air.preprocessed_width,
                                       False)  # fmt: skip
        quotient = c.check_opening(
            "quotient", lane, quotient_root, bits, chunk_columns + (2 if salted else 0), salted
        )
        x = _point(b, ntt.GENERATOR, log_lde, bits)  # the query's LDE point
        expected = deep.at_query(x, shifted, quotient[:chunk_columns], quotient[chunk_columns:])
        if correction_weight is not None:  # DEEP·(1 + λ·x^s), `zkpor.stark.deep`: FRI tests degree < D
            # s < F^k: square-and-multiply from x (≈ 2·log2 s products) costs fewer instructions
            # than a product over the position's log N bits (2 a bit) as x itself is built
            expected = b.mul(expected, b.mul_add(correction_weight, b.power(x, s), b.constant(1)))
        point_inverse = b.inverse(x)  # 1/p for the query's point p of each layer (p → p^F a fold)
        for layer, root in enumerate(fri_roots):
            log_size = log_lde - layout.folding_log * layer
            log_next = log_size - layout.folding_log  # row: the position mod the next layer's size
            row = c.check_opening(f"fri{layer}", lane, root, bits[:log_next], 2 * layout.factor, False)
            coset = [_ext(b, row[2 * t], row[2 * t + 1]) for t in range(layout.factor)]
            slot = bits[log_next:log_size]  # the query's place t in its coset: p = x·ω_F^t
            c.assert_equal(f"FRI layer {layer}", _select(b, slot, coset), expected)
            x_inverse = b.mul(point_inverse, b.power_of_constant(ntt.root_of_unity(layout.folding_log), slot))
            expected = _fold(b, coset, x_inverse, cells.betas[layer], layout.factor)
            for _ in range(layout.folding_log):
                point_inverse = b.mul(point_inverse, point_inverse)
        # The final layer's point x^(F^k), the inverse of the last 1/p: one check instead of
        # g^(F^k)·ω^position from the position's bits (2 instructions a bit)
        x = c.inverse("FRI final point", point_inverse)
        value_at_x = final[-1]
        for coefficient in reversed(final[:-1]):
            value_at_x = b.mul_add(value_at_x, x, coefficient)
        c.assert_equal("FRI final", value_at_x, expected)
    cells.checks = c.checks
    return ChildVerifier(cells, options, draws, key, child)


def _check_key(
    air: Air, domain: ProofDomain, options: ProofOptions, key: VerificationKey | LateKey | None
) -> None:
    if not air.preprocessed_width:
        return
    if key is None:
        raise ProgramError(f"{air.name} has preprocessed columns: its verifier needs their verification key")
    mismatch = key_mismatch(key, air, domain, options.hasher)
    if mismatch is not None:
        raise ProgramError(mismatch)


def _ext(b: ProgramBuilder, c0: int, c1: int) -> int:
    """The extension cell c0 + c1·u from two base cells."""
    return b.mul_add(c1, b.constant(U), c0)


def _point(b: ProgramBuilder, shift: int, log_size: int, bits: Sequence[int]) -> int:
    """shift · ω^index on a coset of 2^log_size points, the index given by its bits."""
    return b.mul(b.power_of_constant(ntt.root_of_unity(log_size), bits), b.constant(shift))


def _select(b: ProgramBuilder, bits: Sequence[int], values: Sequence[int]) -> int:
    """values[Σ bits_i·2^i]: a tree of selects, low bit first."""
    for bit in bits:
        values = [b.select(bit, values[i + 1], values[i]) for i in range(0, len(values), 2)]
    (chosen,) = values
    return chosen


def _fold(b: ProgramBuilder, coset: Sequence[int], x_inverse: int, beta: int, factor: int) -> int:
    """`zkpor.stark.fri.fold_coset` on cells (`coset[t]` = f(x·ω_F^t)), as log2(F) binary folds:
    the pair f(x_t), f(−x_t) of a coset of m points folds to (a + b) + (a − b)·β/x_t, then x → x²,
    β → β², m → m/2; the factors ½ of each fold are paid once, as 1/F at the end. The same linear map
    of the F values as the inverse DFT there (both interpolate on the coset), in fewer operations."""
    values = list(coset)
    m = factor
    while m > 1:
        half = m // 2
        omega_inverse = pow(ntt.root_of_unity(m.bit_length() - 1), P - 2, P)
        c0 = b.mul(beta, x_inverse)  # β/x_0; β/x_t = β/x_0 · ω_m^−t
        folded = []
        for t in range(half):
            c_t = c0 if t == 0 else b.mul(c0, b.constant(pow(omega_inverse, t, P)))
            a, a_opposite = values[t], values[t + half]
            folded.append(b.mul_add(b.sub(a, a_opposite), c_t, b.add(a, a_opposite)))
        values, m = folded, half
        if m > 1:
            x_inverse, beta = b.mul(x_inverse, x_inverse), b.mul(beta, beta)
    return b.mul(values[0], b.constant(pow(factor, P - 2, P)))


class Symbolic:
    """A program cell that the child AIR's own constraint code computes with: +, −, ·, /, ** on it
    write instructions, so `Air.evaluate` / `evaluate_aux` and `composition.combine`, written for
    the native verifier's Ext scalars, compile the out-of-domain identity unchanged.

    A product is written lazily: x·y becomes a pending product that a following + fuses into one
    `MulAdd` (x·y + c: one arithmetic slot, not two), as does a − with a constant factor or a
    constant subtrahend (c − x·k is x·(−k) + c); read in any other way, its `cell` writes the
    multiplication then. The cells hold the same values either way: only the instruction count
    (the parent's busiest unit, arithmetic) changes."""

    __slots__ = ("b", "_cell", "_factors")

    def __init__(self, b: ProgramBuilder, cell: int | None, factors: tuple | None = None) -> None:
        # factors: (x cell, y cell, y's constant value or None) of a pending product x·y
        self.b, self._cell, self._factors = b, cell, factors

    @property
    def cell(self) -> int:
        if self._cell is None:
            x, y, _ = self._factors
            self._cell = self.b.mul(x, y)
        return self._cell

    def _pending(self) -> tuple | None:
        """The factors of a product not written yet (fusing it then costs nothing extra)."""
        return self._factors if self._cell is None else None

    def _operand(self, other: object) -> tuple[int, Ext | None] | None:
        """`other` as (cell, its constant value or None); None for a type it does not combine with."""
        if isinstance(other, Symbolic):
            return other.cell, None
        if isinstance(other, Ext):
            return self.b.constant(other), other
        if isinstance(other, int) and not isinstance(other, bool):
            return self.b.constant(other % P), Ext(other % P, 0)
        return None

    def _new(self, cell: int) -> Symbolic:
        return Symbolic(self.b, cell)

    def _negated_constant(self, value: Ext) -> int:
        return self.b.constant(Ext((P - value.c0) % P, (P - value.c1) % P))

    def __add__(self, other: object) -> Symbolic:
        if isinstance(other, Symbolic) and other._pending() and not self._pending():
            x, y, _ = other._factors
            return self._new(self.b.mul_add(x, y, self.cell))
        o = self._operand(other)
        if o is None:
            return NotImplemented
        if self._pending():
            x, y, _ = self._factors
            return self._new(self.b.mul_add(x, y, o[0]))
        return self._new(self.b.add(self.cell, o[0]))

    __radd__ = __add__

    def __sub__(self, other: object) -> Symbolic:
        if isinstance(other, Symbolic) and other._pending() and other._factors[2] is not None:
            x, _, k = other._factors  # self − x·k = x·(−k) + self
            return self._new(self.b.mul_add(x, self._negated_constant(k), self.cell))
        o = self._operand(other)
        if o is None:
            return NotImplemented
        if self._pending() and o[1] is not None:
            x, y, _ = self._factors  # x·y − c = x·y + (−c)
            return self._new(self.b.mul_add(x, y, self._negated_constant(o[1])))
        return self._new(self.b.sub(self.cell, o[0]))

    def __rsub__(self, other: object) -> Symbolic:
        o = self._operand(other)
        if o is None:
            return NotImplemented
        if self._pending() and self._factors[2] is not None:
            x, _, k = self._factors  # c − x·k = x·(−k) + c
            return self._new(self.b.mul_add(x, self._negated_constant(k), o[0]))
        return self._new(self.b.sub(o[0], self.cell))

    def __mul__(self, other: object) -> Symbolic:
        o = self._operand(other)
        if o is None:
            return NotImplemented
        return Symbolic(self.b, None, (self.cell, o[0], o[1]))

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Symbolic:
        o = self._operand(other)
        if o is None:
            return NotImplemented
        return Symbolic(self.b, None, (self.cell, self.b.inverse(o[0]), None))

    def __rtruediv__(self, other: object) -> Symbolic:
        o = self._operand(other)
        if o is None:
            return NotImplemented
        return Symbolic(self.b, None, (self.b.inverse(self.cell), o[0], o[1]))

    def __neg__(self) -> Symbolic:
        if self._pending() and self._factors[2] is not None:
            x, _, k = self._factors
            negated = Ext((P - k.c0) % P, (P - k.c1) % P)
            return Symbolic(self.b, None, (x, self.b.constant(negated), negated))
        return self._new(self.b.sub(ZERO_CELL, self.cell))

    def __pow__(self, exponent: int) -> Symbolic:
        result, square = None, self
        while exponent:
            if exponent & 1:
                result = square if result is None else result * square
            exponent >>= 1
            if exponent:
                square = square * square
        return result if result is not None else self._new(self.b.constant(1))

    def inverse(self) -> Symbolic:
        return self._new(self.b.inverse(self.cell))


def _out_of_domain(
    b, air: Air, domain: ProofDomain, cells: VerifierCells, at_z, at_zw, quotient_at_z
) -> tuple:
    """`composition.evaluate_at_point` (the constraints at z) and `composition.chunks_at` (the
    quotient claimed at z) on cells: the two sides of the out-of-domain identity."""
    n = air.trace_length
    z = Symbolic(b, cells.z)

    def ext_values(coordinates):
        return [
            Symbolic(b, _ext(b, c0, c1)) for c0, c1 in zip(coordinates[0::2], coordinates[1::2], strict=True)
        ]

    def pairs(values):  # an aux column is a pair of base columns: c0 + c1·u
        return [values[2 * j] + values[2 * j + 1] * U for j in range(len(values) // 2)]

    values_z, values_zw = ext_values(at_z), ext_values(at_zw)
    w, a = air.main_width, air.main_width + 2 * air.aux_width
    frame = Frame(values_z[:w], values_zw[:w], pairs(values_z[w:a]), pairs(values_zw[w:a]),
                  values_z[a:], values_zw[a:])  # fmt: skip
    periodic = []
    for coefficients in composition.periodic_coefficients(air):  # Horner at z^(n/period)
        point = (z ** (n // coefficients.shape[0])).cell
        acc = b.constant(int(coefficients[-1]))
        for c in reversed(coefficients[:-1].tolist()):
            acc = b.mul_add(acc, point, b.constant(int(c)))
        periodic.append(Symbolic(b, acc))
    challenges = [Symbolic(b, c) for c in cells.aux_challenges]
    main_values = air.evaluate(frame, periodic)
    aux_values = air.evaluate_aux(frame, periodic, challenges) if air.aux_width else []
    alphas = [Symbolic(b, b.constant(1))]
    for _ in range(composition.num_composition_terms(air) - 1):
        alphas.append(alphas[-1] * Symbolic(b, cells.alpha))
    z_to_n = z**n
    zh_inverse = (z_to_n - 1).inverse()
    last_row = pow(domain.omega, n - 1, P)
    inverses = [(z**g.exponent - g.root).inverse() for g in composition.group_assertions(air)]
    expected = composition.combine(
        air, main_values, aux_values, frame, alphas, z, zh_inverse, z - last_row, inverses
    )
    claimed, weight = None, None
    for chunk in pairs(ext_values(quotient_at_z)):  # Σ z^(i·n) · Q_i(z)
        term = chunk if weight is None else chunk * weight
        claimed = term if claimed is None else claimed + term
        weight = z_to_n if weight is None else weight * z_to_n
    return expected, claimed


class _DeepCombination:
    """`zkpor.stark.deep.deep_at_point` on cells. The query-independent parts (α powers, Σ α^k·v(z),
    zω) are computed once; a query costs one mul-add an opened column and two inverses."""

    def __init__(self, b, cells, domain, at_z, at_zw, quotient_at_z, salted: bool) -> None:
        self.b, self.cells, self.salted = b, cells, salted
        values_z = [_ext(b, *pair) for pair in zip(at_z[0::2], at_z[1::2], strict=True)]
        values_z += [_ext(b, *pair) for pair in zip(quotient_at_z[0::2], quotient_at_z[1::2], strict=True)]
        values_zw = [_ext(b, *pair) for pair in zip(at_zw[0::2], at_zw[1::2], strict=True)]
        self.n_at_z, self.n_shifted = len(values_z), len(values_zw)
        self.powers = [b.constant(1)]
        for _ in range(self.n_at_z + self.n_shifted):
            self.powers.append(b.mul(self.powers[-1], cells.deep_alpha))
        self.offset_z = self._dot(self.powers[: self.n_at_z], values_z)
        self.offset_zw = self._dot(self.powers[self.n_at_z : self.n_at_z + self.n_shifted], values_zw)
        self.zw = b.mul(cells.z, b.constant(domain.omega))

    def _dot(self, coefficients: Sequence[int], values: Sequence[int], acc: int = ZERO_CELL) -> int:
        for coefficient, value in zip(coefficients, values, strict=True):
            acc = self.b.mul_add(coefficient, value, acc)
        return acc

    def at_query(self, x: int, shifted: list[int], quotient: list[int], randomizer: list[int]) -> int:
        b = self.b
        n_shifted, n_at_z = self.n_shifted, self.n_at_z
        # The zω coefficients are α^n_at_z times the z ones of the same columns: one pass over the row.
        shifted_sum = self._dot(self.powers[:n_shifted], shifted)
        row_sum = self._dot(self.powers[n_shifted:n_at_z], quotient, shifted_sum)
        at_z = b.sub(row_sum, self.offset_z)
        at_zw = b.sub(b.mul(shifted_sum, self.powers[n_at_z]), self.offset_zw)
        result = b.mul(at_z, b.inverse(b.sub(x, self.cells.z)))
        result = b.mul_add(at_zw, b.inverse(b.sub(x, self.zw)), result)
        if self.salted:  # the zero-knowledge randomizer polynomial's column pair
            result = b.mul_add(_ext(b, *randomizer), self.powers[-1], result)
        return result


@dataclass(frozen=True)
class SymbolicPair:
    """An extension value c0 + c1·u whose coordinates are `Symbolic` cells or int constants: a
    `RecursionAir` child's public value read from cells (`ProgramPublic.of_expressions`)."""

    c0: Symbolic | int
    c1: Symbolic | int


@dataclass(frozen=True)
class NativeReplay:
    """The native verifier's transcript on one proof: the challenges and query draws the program
    must reproduce (it trusts the proof; the program checks)."""

    aux_challenges: list[Ext]
    alpha: Ext
    z: Ext
    deep_alpha: Ext
    betas: list[Ext]
    positions: list[int]  # the LDE position of every lane the distinct query draw read, in order


def replay(air: Air, proof: StarkProof, key: VerificationKey | None = None) -> NativeReplay:
    """Replay `proof`'s transcript natively, as `zkpor.stark.verifier.verify` does (`key`: the
    preprocessed columns' verification key, for an AIR that has them)."""
    options = proof.options
    domain = ProofDomain.create(air.trace_length, air.max_constraint_degree(), options)
    _check_key(air, domain, options, key)
    transcript, aux, alpha, z = replay_to_out_of_domain(air, proof, domain, key)
    deep_alpha = Ext(*transcript.challenge_ext(b"deep"))
    betas = []
    for root in proof.fri_roots:
        transcript.absorb_digest(b"fri-layer-root", root)
        betas.append(Ext(*transcript.challenge_ext(b"fri-fold")))
    transcript.absorb_elements(b"fri-final", _ext_coordinates(proof.fri_final))
    transcript.check_grinding(proof.pow_nonce, options.grinding_bits)
    positions = transcript.distinct_index_draws(b"queries", domain.lde_size, options.num_queries)
    return NativeReplay(aux, alpha, z, deep_alpha, betas, positions)


# ---- the witness: private inputs read from the proof ---------------------------------------------


def _digest_words(digest: bytes) -> list[int]:
    return [int.from_bytes(digest[i : i + 8], "little") for i in range(0, 32, 8)]


def _ext_coordinates(values: Sequence[Ext]) -> list[int]:
    return [c for v in values for c in (v.c0, v.c1)]


class _OpenedTree:
    """The rows, salts and every tree node a multi-opening determines: each query's whole path."""

    def __init__(self, opening: Opening, indices: list[int], n_rows: int, salted: bool) -> None:
        if opening.rows.shape[0] != len(indices):
            raise ProgramError(f"an opening has {opening.rows.shape[0]} rows, its query draw {len(indices)}")
        data = opening.proof
        salt_len = 8 * merkle_proof.SALT_ELEMS * len(indices) if salted else 0
        words = [int.from_bytes(data[i : i + 8], "little") for i in range(0, salt_len, 8)]
        s = merkle_proof.SALT_ELEMS
        self.salts = {index: words[k * s : (k + 1) * s] for k, index in enumerate(indices)}
        self.rows = dict(zip(indices, opening.rows.tolist(), strict=True))
        siblings = iter(merkle_proof.MultiProof.from_bytes(data[salt_len:]).siblings)
        # The leaves and each level's nodes hashed as batches by the numba sponge (the digests
        # `merkle_proof.leaf_digest` / `node_digest` compute one at a time in pure Python: tens of
        # thousands of permutations for a node's children); every node kept as its four words,
        # the form the program reads (a node's witness reads ~60,000 siblings).
        domain = merkle_proof.default_leaf_domain("poseidon2", salted)
        rows = np.ascontiguousarray(opening.rows.T)
        if salted:
            width = rows.shape[0]
            capacities = [merkle_proof.salted_leaf_capacity(domain, self.salts[i], width) for i in indices]
            leaves = poseidon2_lanes.sponge_columns_from_capacity(np.array(capacities, dtype=np.uint64), rows)
        else:
            leaves = poseidon2_lanes.sponge_columns(domain, rows)
        known = dict(zip(indices, map(tuple, leaves.tolist()), strict=True))
        self.nodes: dict[tuple[int, int], tuple[int, ...]] = {}
        for level in range(merkle_proof.depth_of(n_rows)):
            self.nodes.update({(level, i): d for i, d in known.items()})
            for i in sorted(known):  # the multi-proof's order: missing siblings, left to right
                if i ^ 1 not in known:
                    sibling = next(siblings, bytes(32))
                    self.nodes[(level, i ^ 1)] = tuple(poseidon2.digest_from_bytes(sibling))
            parents = sorted({i >> 1 for i in known})
            pairs = [self.nodes[(level, 2 * p)] + self.nodes[(level, 2 * p + 1)] for p in parents]
            digests = poseidon2_batch.sponge_hash_batch(
                merkle_proof.POSEIDON2_NODE_DOMAIN, np.array(pairs, dtype=np.uint64).reshape(len(parents), 8)
            )
            known = dict(zip(parents, map(tuple, digests.tolist()), strict=True))

    def sibling(self, index: int, level: int) -> tuple[int, ...]:
        return self.nodes[(level, (index >> level) ^ 1)]


def witness(vp: VerifierProgram, air: Air, proof: StarkProof) -> list[int]:
    """The private inputs of `vp.program` for `proof`, in the program's order."""
    values = ProofValues(air, proof, vp.options, vp.draws, vp.key)
    return [values.value(key) for key in vp.private_keys]


class ProofValues:
    """A proof's data as a verifier program's private inputs: `value(key)` for each key an emitted
    verifier (`emit_verifier`, without its child prefix) asked for. Refuses a proof made with other
    options, or whose query draw read another number of lanes than the program checks."""

    def __init__(
        self, air: Air, proof: StarkProof, options: ProofOptions, draws: int, key: VerificationKey | None
    ) -> None:
        if proof.options != options:
            raise ProgramError("the proof was made with other options than the program verifies")
        domain = ProofDomain.create(air.trace_length, air.max_constraint_degree(), options)
        layout = fri.FriLayout.for_proof(domain, options)
        # The proof's shape first: a tampered one also redraws the queries, which may then repeat
        if len(proof.fri_roots) != layout.num_folds or len(proof.fri_openings) != layout.num_folds:
            raise ProgramError(
                f"the proof has {len(proof.fri_roots)} FRI layers, the program checks {layout.num_folds}"
            )
        if len(proof.fri_final) != layout.final_degree_bound:
            raise ProgramError(
                f"the proof's FRI final polynomial has {len(proof.fri_final)} coefficients, the program "
                f"checks {layout.final_degree_bound}"
            )
        positions = replay(air, proof, key).positions
        if len(positions) != draws:
            raise ProgramError(
                f"the proof's query draw read {len(positions)} lanes, the program checks {draws}"
            )
        indices = sorted(set(positions))
        salted = options.zero_knowledge
        openings = {"main": (proof.main_opening, indices, domain.lde_size, salted),
                    "quotient": (proof.quotient_opening, indices, domain.lde_size, salted)}  # fmt: skip
        if proof.aux_opening is not None:
            openings["aux"] = (proof.aux_opening, indices, domain.lde_size, salted)
        if proof.preprocessed_opening is not None:
            openings["preprocessed"] = (proof.preprocessed_opening, indices, domain.lde_size, False)
        layer_rows = fri.query_positions(layout, indices)
        self.sizes: dict[str, int] = {}
        for layer, opening in enumerate(proof.fri_openings):
            self.sizes[f"fri{layer}"] = layout.layer_size(layer + 1)
            openings[f"fri{layer}"] = (opening, layer_rows[layer], self.sizes[f"fri{layer}"], False)
        self.trees: dict[str, _OpenedTree] = {}
        for name, arguments in openings.items():
            try:
                self.trees[name] = _OpenedTree(*arguments)
            except ValueError as error:  # a truncated multi-proof, a sibling that is not a digest
                raise ProgramError(f"the {name} opening is malformed: {error}") from None
        self.proof, self.positions, self.lde_size = proof, positions, domain.lde_size
        self.scalars: dict[str, list[int]] = {
            "main-root": _digest_words(proof.main_root),
            "aux-root": _digest_words(proof.aux_root) if proof.aux_root is not None else [],
            "quotient-root": _digest_words(proof.quotient_root),
            "at-z": _ext_coordinates(proof.main_at_z + proof.aux_at_z + proof.preprocessed_at_z),
            "at-zw": _ext_coordinates(proof.main_at_zw + proof.aux_at_zw + proof.preprocessed_at_zw),
            "quotient-at-z": _ext_coordinates(proof.quotient_at_z),
            "fri-final": _ext_coordinates(proof.fri_final),
            "pow-nonce": [proof.pow_nonce],
        }

    def value(self, key: Key) -> int:
        kind = key[0]
        if kind in ("salt", "row", "sibling"):
            name, lane = key[1], key[2]
            position = self.positions[lane] % self.sizes.get(name, self.lde_size)
            tree = self.trees[name]
            if kind == "salt":
                return tree.salts[position][key[3]]
            if kind == "row":
                return tree.rows[position][key[3]]
            return tree.sibling(position, key[3])[key[4]]
        if kind == "fri-root":
            return _digest_words(self.proof.fri_roots[key[1]])[key[2]]
        if kind in ("at-z", "at-zw", "quotient-at-z", "fri-final"):
            return self.scalars[kind][2 * key[1] + key[2]]
        return self.scalars[kind][key[1] if len(key) > 1 else 0]


def proof_values(verifier: ChildVerifier, air: Air, proof: StarkProof) -> ProofValues:
    """The private inputs an emitted verifier reads from `proof` (`value(key)`, key unprefixed)."""
    return ProofValues(air, proof, verifier.options, verifier.draws, verifier.key)
