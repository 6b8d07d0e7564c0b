"""One batch: prove, serialise, parse, verify.

A batch proof file is

    magic "ZKPBATCH" | u16 version | u32 batch index | u32 batch size | u8 limb bits | u16 assets
    root (4 × u64) | limb totals (assets × 2 sides × K limbs, u64 each) | u32 length | STARK proof

The parser bounds every size; the verifier rebuilds the AIR from the round's parameters (never
from the file) and checks that the file's shape matches them before verifying the STARK.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from zkpor.errors import VerificationError, ZkporError
from zkpor.field.goldilocks import P
from zkpor.hash import poseidon2
from zkpor.liabilities.air import BatchPublic, SolvencyAir
from zkpor.liabilities.layout import SolvencyLayout
from zkpor.liabilities.witness import BatchWitness, build_batch
from zkpor.stark.params import ProofOptions
from zkpor.stark.phases import phase
from zkpor.stark.proof import MAX_PROOF_BYTES, ProofFormatError
from zkpor.stark.prover import prove
from zkpor.stark.verifier import VerificationReport, verify

MAGIC = b"ZKPBATCH"
VERSION = 1
ROUND_DOMAIN = "zkpor-round-v1"
_HEADER = struct.Struct("<8sHIIBH")


def round_digest(round_id: str, symbols: list[str], layout: SolvencyLayout) -> tuple[int, int, int, int]:
    """Binds a batch to its round: round id, asset symbols, bit bounds, price weights, limb size and
    batch size (the weights and bounds are also in the AIR's periodic columns)."""
    text = "\n".join([round_id, ",".join(symbols)]).encode()
    elements = [len(text)] + [int.from_bytes(text[i : i + 7], "little") for i in range(0, len(text), 7)]
    elements += [*layout.asset_bits, *layout.weights, layout.limb_bits, layout.batch_size]
    return tuple(poseidon2.sponge_hash(ROUND_DOMAIN, elements))  # type: ignore[return-value]


@dataclass(frozen=True)
class BatchProof:
    public: BatchPublic
    batch_size: int
    limb_bits: int
    stark: bytes

    def to_bytes(self) -> bytes:
        p = self.public
        assets = len(p.limb_totals)
        head = _HEADER.pack(MAGIC, VERSION, p.batch_index, self.batch_size, self.limb_bits, assets)
        totals = [t for asset in p.limb_totals for side in asset for t in side]
        body = np.array([*p.root, *totals], dtype="<u8").tobytes()
        return head + body + struct.pack("<I", len(self.stark)) + self.stark

    @staticmethod
    def from_bytes(data: bytes, round_digest_value: tuple[int, int, int, int]) -> BatchProof:
        if len(data) > MAX_PROOF_BYTES:
            raise ProofFormatError("batch proof file is over the size limit")
        if len(data) < _HEADER.size:
            raise ProofFormatError("batch proof truncated in its header")
        magic, version, index, batch_size, limb_bits, assets = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ProofFormatError("not a zkpor batch proof (bad magic)")
        if version != VERSION:
            raise ProofFormatError(f"unsupported batch proof version {version}")
        if limb_bits not in (8, 16) or not 1 <= assets <= 256 or not 2 <= batch_size <= 1 << 24:
            raise ProofFormatError("batch proof header out of range")
        k = 64 // limb_bits
        count = 4 + assets * 2 * k
        end = _HEADER.size + 8 * count
        if len(data) < end + 4:
            raise ProofFormatError("batch proof truncated in its public values")
        values = np.frombuffer(data[_HEADER.size : end], dtype="<u8")
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
        public = BatchPublic(round_digest_value, index, tuple(ints[:4]), totals)  # type: ignore[arg-type]
        return BatchProof(public, batch_size, limb_bits, stark)


def prove_batch(
    layout: SolvencyLayout,
    digest: tuple[int, int, int, int],
    index: int,
    id_hashes: np.ndarray,
    equity: np.ndarray,
    debt: np.ndarray,
    options: ProofOptions,
) -> tuple[BatchProof, BatchWitness]:
    with phase("witness"):
        witness = build_batch(layout, digest, index, id_hashes, equity, debt)
    stark = prove(SolvencyAir(layout, witness.public), witness.trace, options).to_bytes()
    return BatchProof(witness.public, layout.batch_size, layout.limb_bits, stark), witness


def verify_batch(
    layout: SolvencyLayout,
    proof: BatchProof,
    *,
    expected_index: int,
    min_security_bits: int = 100,
    min_proven_bits: int = 0,
) -> VerificationReport:
    """Check one batch proof against the round's layout; raises VerificationError naming the batch."""
    p = proof.public
    where = f"batch {expected_index}"
    if p.batch_index != expected_index:
        raise VerificationError(f"{where}: file says it is batch {p.batch_index}")
    if proof.batch_size != layout.batch_size or proof.limb_bits != layout.limb_bits:
        raise VerificationError(f"{where}: batch size or limb size differ from the round's")
    if len(p.limb_totals) != layout.assets:
        raise VerificationError(f"{where}: totals cover {len(p.limb_totals)} assets, not {layout.assets}")
    # Each limb total is a sum of B limbs below 2^L: anything larger (e.g. off by p) is a lie.
    bound = layout.batch_size * ((1 << layout.limb_bits) - 1)
    if any(t > bound for asset in p.limb_totals for side in asset for t in side):
        raise VerificationError(f"{where}: a limb total is larger than {layout.batch_size} limbs can sum to")
    try:
        air = SolvencyAir(layout, p)
        return verify(air, proof.stark, min_security_bits=min_security_bits, min_proven_bits=min_proven_bits)
    except ZkporError as error:
        raise VerificationError(f"{where}: {error}") from None
