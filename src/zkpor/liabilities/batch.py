"""One batch: prove, serialise, parse, verify.

A batch proof file (version 3) is

    magic "ZKPBATCH" | u16 version | u32 batch index | u32 statement length | statement
    root (4 × u64) | limb totals (assets × 2 sides × K limbs, u64 each) | u32 length | STARK proof

where `statement` is the round's canonical statement encoding (`statement.Statement.encode`). The
file is self-describing, and its statement is what the proof is bound to: the verifier hashes it
into the public input, so a published file restating any field is caught here, by name. The
parser bounds every size; the verifier rebuilds the AIR from the statement (never from anything
else in the file) and checks the file's shape against it before verifying the STARK.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

import numpy as np

from zkpor.errors import VerificationError, ZkporError
from zkpor.field.goldilocks import P
from zkpor.liabilities.air import BatchPublic, SolvencyAir
from zkpor.liabilities.encoding import padded_asset_count
from zkpor.liabilities.layout import SolvencyLayout, check_weights
from zkpor.liabilities.statement import Statement, StatementFormatError
from zkpor.liabilities.witness import BatchWitness, build_batch
from zkpor.stark.params import ProofOptions
from zkpor.stark.phases import phase
from zkpor.stark.proof import MAX_PROOF_BYTES, ProofFormatError, StarkProof
from zkpor.stark.prover import prove
from zkpor.stark.verifier import VerificationReport, verify

MAGIC = b"ZKPBATCH"
VERSION = 3  # 3: the price weights are public inputs of the AIR (version 2 compiled them in)
_HEADER = struct.Struct("<8sHII")


# The Poseidon2 gadget's S-box degree in the solvency AIR (`gadgets.poseidon2.Poseidon2Gadget`), chosen
# by the batch proof's options (`sbox_degree`): 7 (130 columns, 7 quotient chunks) for BLAKE3 batch
# proofs at blowup >= 8, the published ones (113-115 KB a batch of 8,192 users instead of 206-210 KB
# at the same peak memory, for ~20 % more CPU: docs/performance.md, "The degree-7 gadget"), and for
# Poseidon2 ones at any blowup (the round tree's leaves, blowup 2): their cost is hashing the LDE's
# rows, which are half as wide (3.1-3.3 CPU-s against 3.6 with degree 3 at blowup 2); 3 (248 columns)
# for BLAKE3 below blowup 8, the cheapest there (1.6-1.9 CPU-s at blowup 4, against 2.0-2.5).
# The AIR's digest holds its shape, so a proof verifies only under the degree it was proven with.
# `SBOX_DEGREE`, when set, overrides the rule (the benchmarks' `--sbox-degree`).
SBOX_DEGREE: int | None = None


def sbox_degree(options: ProofOptions | None) -> int:
    """The gadget's S-box degree for batch proofs made with `options` (None: 3), see above."""
    if SBOX_DEGREE is not None:
        return SBOX_DEGREE
    if options is None:
        return 3
    return 7 if options.hasher == "poseidon2" or options.blowup >= 8 else 3


def statement_layout(statement: Statement, options: ProofOptions | None = None) -> SolvencyLayout:
    """The solvency AIR's layout for a statement (bit bounds, limb size, batch size) and the options
    of its batch proofs (the gadget's shape, `sbox_degree`; None: degree 3, for what does not depend
    on it), after checking that its price weights (public inputs of the AIR, not part of the layout)
    fit the carry chain (ValueError otherwise)."""
    bits = tuple(a.bits for a in statement.assets)
    check_weights(statement.weights, len(bits))
    return SolvencyLayout(bits, statement.limb_bits, statement.batch_size, sbox_degree(options))


@dataclass(frozen=True)
class BatchProof:
    statement: Statement
    public: BatchPublic
    stark: bytes

    def to_bytes(self) -> bytes:
        p = self.public
        encoded = self.statement.encode()
        head = _HEADER.pack(MAGIC, VERSION, p.batch_index, len(encoded)) + encoded
        totals = [t for asset in p.limb_totals for side in asset for t in side]
        body = np.array([*p.root, *totals], dtype="<u8").tobytes()
        return head + body + struct.pack("<I", len(self.stark)) + self.stark

    @staticmethod
    def from_bytes(data: bytes) -> BatchProof:
        if len(data) > MAX_PROOF_BYTES:
            raise ProofFormatError("batch proof file is over the size limit")
        if len(data) < _HEADER.size:
            raise ProofFormatError("batch proof truncated in its header")
        magic, version, index, statement_length = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ProofFormatError("not a zkpor batch proof (bad magic)")
        if version != VERSION:
            raise ProofFormatError(f"unsupported batch proof version {version} (this zkpor reads {VERSION})")
        start = _HEADER.size + statement_length
        if len(data) < start:
            raise ProofFormatError("batch proof truncated in its statement")
        try:
            statement = Statement.decode(data[_HEADER.size : start])
        except StatementFormatError as error:
            raise ProofFormatError(f"batch proof statement: {error}") from None
        assets = padded_asset_count(len(statement.assets))  # real assets padded to whole sponge blocks
        k = 64 // statement.limb_bits
        count = 4 + assets * 2 * k
        end = start + 8 * count
        if len(data) < end + 4:
            raise ProofFormatError("batch proof truncated in its public values")
        values = np.frombuffer(data[start:end], dtype="<u8")
        if np.any(values >= np.uint64(P)):
            raise ProofFormatError("batch proof holds a non-canonical field element")
        (length,) = struct.unpack_from("<I", data, end)
        stark = data[end + 4 :]
        if length != len(stark):
            raise ProofFormatError("batch proof length field does not match the file")
        ints = [int(v) for v in values]
        totals = tuple(
            tuple(tuple(ints[4 + (a * 2 + side) * k : 4 + (a * 2 + side + 1) * k]) for side in (0, 1))
            for a in range(assets)
        )
        public = BatchPublic(statement.digest(), index, tuple(ints[:4]), totals, statement.weights)  # type: ignore[arg-type]
        return BatchProof(statement, public, stark)


def prove_batch(
    statement: Statement,
    index: int,
    id_hashes: np.ndarray,
    equity: np.ndarray,
    debt: np.ndarray,
    options: ProofOptions,
) -> tuple[BatchProof, BatchWitness]:
    witness = batch_witness(statement, index, id_hashes, equity, debt, options)
    return prove_witness(statement, witness, options), witness


def batch_witness(
    statement: Statement,
    index: int,
    id_hashes: np.ndarray,
    equity: np.ndarray,
    debt: np.ndarray,
    options: ProofOptions,
) -> BatchWitness:
    """The first step of `prove_batch`: the trace and public values for a proof with `options`
    (the gadget's shape) (raises NegativeNetValueError)."""
    with phase("witness"):
        return build_batch(
            statement_layout(statement, options), statement.digest(), index, id_hashes, equity, debt,
            weights=statement.weights,
        )


def prove_witness(statement: Statement, witness: BatchWitness, options: ProofOptions) -> BatchProof:
    """The second step of `prove_batch`: the STARK proof of a batch's witness."""
    stark = prove(SolvencyAir(statement_layout(statement, options), witness.public), witness.trace, options)
    return BatchProof(statement, witness.public, stark.to_bytes())


def verify_batch(
    statement: Statement,
    proof: BatchProof,
    *,
    expected_index: int,
    min_security_bits: int = 100,
    min_proven_bits: int = 0,
) -> VerificationReport:
    """Check one batch proof against the round's statement; raises VerificationError naming the
    batch and, when the file was proven for another statement, the first field that differs."""
    p = proof.public
    where = f"batch {expected_index}"
    if p.batch_index != expected_index:
        raise VerificationError(f"{where}: file says it is batch {p.batch_index}")
    difference = statement.first_difference(proof.statement)
    if difference:
        name, expected, proven = difference
        raise VerificationError(
            f"{where}: the statement says {name} is {expected!r}, but this batch was proven for {proven!r}"
        )
    if p.statement_digest != statement.digest():
        raise VerificationError(f"{where}: proven for another statement digest")
    try:
        stark = StarkProof.from_bytes(proof.stark)
    except ProofFormatError as error:
        raise VerificationError(f"{where}: {error}") from None
    layout = statement_layout(statement, stark.options)  # the gadget's shape its options give
    if len(p.limb_totals) != layout.assets:
        raise VerificationError(f"{where}: totals cover {len(p.limb_totals)} assets, not {layout.assets}")
    # Each limb total is a sum of B limbs below 2^L: anything larger (e.g. off by p) is a lie.
    bound = layout.batch_size * ((1 << layout.limb_bits) - 1)
    if any(t > bound for asset in p.limb_totals for side in asset for t in side):
        raise VerificationError(f"{where}: a limb total is larger than {layout.batch_size} limbs can sum to")
    try:
        air = SolvencyAir(layout, replace(p, weights=statement.weights))  # the statement's prices
        return verify(air, stark, min_security_bits=min_security_bits, min_proven_bits=min_proven_bits)
    except ZkporError as error:
        raise VerificationError(f"{where}: {error}") from None
