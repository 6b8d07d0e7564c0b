"""The versioned binary proof format and its strict parser.

Layout (little-endian), every count bounded before anything is allocated:

    magic "ZKPSTARK" | u16 version | options (u8 hasher last) | u8 log_n | u16 main_width
    u16 aux_width | u8 chunks | u16 preprocessed_width
    u16 main_next | u16 aux_next | u16 preprocessed_next       (columns opened at zω, see below)
    main_root | u8 has_aux [aux_root] | quotient_root    (32 bytes; BLAKE3 roots end in 4 zero bytes)
    OOD values: main@z, main@zω, aux@z, aux@zω (2 per aux column), quotient chunks@z (2 per chunk),
                preprocessed@z, preprocessed@zω
    u8 num_fri_layers, roots | u16 final_len, final coefficients | u64 pow_nonce
    openings: main, [aux], quotient, [preprocessed], then one per FRI layer:  u16 rows, u16 width,
              rows·width u64, u32 proof_len, Merkle multi-proof bytes

The preprocessed columns' root is not in the proof: the verifier takes it from its verification key.
Values at zω are sent only for the columns the constraints read on the next row
(`stark.next_row`), in column order; the verifier checks that the counts are its AIR's.

Extension elements are two u64, each must be canonical (< p). A proof file is at most 64 MiB.
The parser checks structure only; `verifier.verify` checks that the shape matches the AIR and
the options, and everything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from zkpor.errors import ZkporError
from zkpor.field import goldilocks as gl
from zkpor.field.extension import Ext
from zkpor.stark.params import HASHERS, ProofOptions

MAGIC = b"ZKPSTARK"
# 2: the options carry the commitment/transcript hasher; 3: preprocessed columns; 4: values at zω only
# for the columns read on the next row; 5: BLAKE3 tree digests truncated to 28 bytes; 6: zero
# knowledge over degree n + 2·(queries + 1) on an LDE of blowup·n points (was degree 2n, blowup·2n);
# 7: FRI layer 0 is DEEP degree-corrected to test D itself, and r = 2·(queries + 2) (`stark.domain`)
# 8: a salted Poseidon2 leaf carries its salt in the sponge's capacity (`hash.merkle_proof`)
VERSION = 8
DIGEST_BYTES = 32
MAX_PROOF_BYTES = 64 << 20
MAX_WIDTH = 4096
MAX_ROWS = 256  # openings hold at most num_queries rows
MAX_FRI_LAYERS = 32
MAX_FINAL_LEN = 1024
MAX_MULTIPROOF_BYTES = 16 << 20


class ProofFormatError(ZkporError):
    """The bytes are not a well-formed zkpor STARK proof."""


@dataclass
class Opening:
    """Rows of one committed matrix at the queried indices, and their Merkle multi-proof."""

    rows: np.ndarray  # (num_indices, width) uint64
    proof: bytes


@dataclass
class StarkProof:
    options: ProofOptions
    log_trace_length: int
    main_width: int
    aux_width: int  # extension columns (each committed as two base columns)
    num_quotient_chunks: int
    main_root: bytes
    aux_root: bytes | None
    quotient_root: bytes
    main_at_z: list[Ext]
    main_at_zw: list[Ext]
    aux_at_z: list[Ext]
    aux_at_zw: list[Ext]
    quotient_at_z: list[Ext]
    fri_roots: list[bytes]
    fri_final: list[Ext]
    pow_nonce: int
    main_opening: Opening
    aux_opening: Opening | None
    quotient_opening: Opening
    fri_openings: list[Opening]
    preprocessed_at_z: list[Ext] = field(default_factory=list)
    preprocessed_at_zw: list[Ext] = field(default_factory=list)
    preprocessed_opening: Opening | None = None

    @property
    def preprocessed_width(self) -> int:
        return len(self.preprocessed_at_z)

    def to_bytes(self) -> bytes:
        w = _Writer()
        w.raw(MAGIC)
        w.u16(VERSION)
        o = self.options
        w.u16(o.blowup)
        w.u16(o.num_queries)
        w.u8(o.grinding_bits)
        w.u8(o.fri_folding_log)
        w.u16(o.fri_final_degree)
        w.u8(int(o.zero_knowledge))
        w.u8(HASHERS.index(o.hasher))
        w.u8(self.log_trace_length)
        w.u16(self.main_width)
        w.u16(self.aux_width)
        w.u8(self.num_quotient_chunks)
        w.u16(self.preprocessed_width)
        w.u16(len(self.main_at_zw))
        w.u16(len(self.aux_at_zw) // 2)
        w.u16(len(self.preprocessed_at_zw))
        w.raw(self.main_root)
        w.u8(self.aux_root is not None)
        if self.aux_root is not None:
            w.raw(self.aux_root)
        w.raw(self.quotient_root)
        for values in (self.main_at_z, self.main_at_zw, self.aux_at_z, self.aux_at_zw, self.quotient_at_z,
                       self.preprocessed_at_z, self.preprocessed_at_zw):  # fmt: skip
            w.exts(values)
        w.u8(len(self.fri_roots))
        for root in self.fri_roots:
            w.raw(root)
        w.u16(len(self.fri_final))
        w.exts(self.fri_final)
        w.u64(self.pow_nonce)
        for opening in self.openings():
            w.opening(opening)
        return w.getvalue()

    def openings(self) -> list[Opening]:
        head = [self.main_opening] + ([self.aux_opening] if self.aux_opening is not None else [])
        tail = [self.preprocessed_opening] if self.preprocessed_opening is not None else []
        return head + [self.quotient_opening] + tail + list(self.fri_openings)

    @staticmethod
    def from_bytes(data: bytes) -> StarkProof:
        if len(data) > MAX_PROOF_BYTES:
            raise ProofFormatError(f"proof is {len(data)} bytes, over the {MAX_PROOF_BYTES}-byte limit")
        r = _Reader(data)
        if r.raw(len(MAGIC), "magic") != MAGIC:
            raise ProofFormatError("not a zkpor STARK proof (bad magic)")
        version = r.u16("version")
        if version != VERSION:
            raise ProofFormatError(f"unsupported proof version {version} (this verifier reads {VERSION})")
        options = ProofOptions(
            blowup=r.u16("blowup"),
            num_queries=r.u16("num_queries"),
            grinding_bits=r.u8("grinding_bits"),
            fri_folding_log=r.u8("fri_folding_log"),
            fri_final_degree=r.u16("fri_final_degree"),
            zero_knowledge=bool(r.bounded(r.u8("zero_knowledge"), 1, "zero_knowledge")),
            hasher=HASHERS[r.bounded(r.u8("hasher"), len(HASHERS) - 1, "hasher")],
        )
        try:
            options.validate()
        except ZkporError as error:
            raise ProofFormatError(f"invalid options in proof: {error}") from None
        log_n = r.bounded(r.u8("log_trace_length"), 28, "log_trace_length")
        main_width = r.bounded(r.u16("main_width"), MAX_WIDTH, "main_width")
        aux_width = r.bounded(r.u16("aux_width"), MAX_WIDTH, "aux_width")
        chunks = r.bounded(r.u8("num_quotient_chunks"), 64, "num_quotient_chunks")
        preprocessed_width = r.bounded(r.u16("preprocessed_width"), MAX_WIDTH, "preprocessed_width")
        main_next = r.bounded(r.u16("main_next"), main_width, "main_next")
        aux_next = r.bounded(r.u16("aux_next"), aux_width, "aux_next")
        preprocessed_next = r.bounded(r.u16("preprocessed_next"), preprocessed_width, "preprocessed_next")
        main_root = r.raw(DIGEST_BYTES, "main_root")
        has_aux = r.bounded(r.u8("has_aux"), 1, "has_aux")
        aux_root = r.raw(DIGEST_BYTES, "aux_root") if has_aux else None
        quotient_root = r.raw(DIGEST_BYTES, "quotient_root")
        main_at_z = r.exts(main_width, "main_at_z")
        main_at_zw = r.exts(main_next, "main_at_zw")
        aux_at_z = r.exts(2 * aux_width, "aux_at_z")
        aux_at_zw = r.exts(2 * aux_next, "aux_at_zw")
        quotient_at_z = r.exts(2 * chunks, "quotient_at_z")
        preprocessed_at_z = r.exts(preprocessed_width, "preprocessed_at_z")
        preprocessed_at_zw = r.exts(preprocessed_next, "preprocessed_at_zw")
        num_layers = r.bounded(r.u8("num_fri_layers"), MAX_FRI_LAYERS, "num_fri_layers")
        fri_roots = [r.raw(DIGEST_BYTES, "fri_root") for _ in range(num_layers)]
        final_len = r.bounded(r.u16("fri_final_len"), MAX_FINAL_LEN, "fri_final_len")
        fri_final = r.exts(final_len, "fri_final")
        pow_nonce = r.u64("pow_nonce")
        main_opening = r.opening("main_opening")
        aux_opening = r.opening("aux_opening") if has_aux else None
        quotient_opening = r.opening("quotient_opening")
        preprocessed_opening = r.opening("preprocessed_opening") if preprocessed_width else None
        fri_openings = [r.opening(f"fri_opening[{i}]") for i in range(num_layers)]
        if r.remaining():
            raise ProofFormatError(f"{r.remaining()} unexpected bytes after the end of the proof")
        return StarkProof(
            options, log_n, main_width, aux_width, chunks, main_root, aux_root, quotient_root,
            main_at_z, main_at_zw, aux_at_z, aux_at_zw, quotient_at_z, fri_roots, fri_final,
            pow_nonce, main_opening, aux_opening, quotient_opening, fri_openings,
            preprocessed_at_z, preprocessed_at_zw, preprocessed_opening,
        )  # fmt: skip


class _Writer:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def raw(self, data: bytes) -> None:
        self._parts.append(bytes(data))

    def u8(self, v: int) -> None:
        self._parts.append(struct.pack("<B", v))

    def u16(self, v: int) -> None:
        self._parts.append(struct.pack("<H", v))

    def u32(self, v: int) -> None:
        self._parts.append(struct.pack("<I", v))

    def u64(self, v: int) -> None:
        self._parts.append(struct.pack("<Q", v))

    def exts(self, values: list[Ext]) -> None:
        self._parts.append(np.array([(v.c0, v.c1) for v in values], dtype="<u8").tobytes())

    def opening(self, opening: Opening) -> None:
        rows = np.ascontiguousarray(opening.rows, dtype="<u8")
        self.u16(rows.shape[0])
        self.u16(rows.shape[1])
        self.raw(rows.tobytes())
        self.u32(len(opening.proof))
        self.raw(opening.proof)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def raw(self, n: int, what: str) -> bytes:
        if n > self.remaining():
            raise ProofFormatError(f"proof truncated while reading {what}")
        out = bytes(self._data[self._pos : self._pos + n])
        self._pos += n
        return out

    def _unpack(self, fmt: str, what: str) -> int:
        return struct.unpack(fmt, self.raw(struct.calcsize(fmt), what))[0]

    def u8(self, what: str) -> int:
        return self._unpack("<B", what)

    def u16(self, what: str) -> int:
        return self._unpack("<H", what)

    def u32(self, what: str) -> int:
        return self._unpack("<I", what)

    def u64(self, what: str) -> int:
        return self._unpack("<Q", what)

    @staticmethod
    def bounded(value: int, maximum: int, what: str) -> int:
        if value > maximum:
            raise ProofFormatError(f"{what} is {value}, over the maximum {maximum}")
        return value

    def elements(self, count: int, what: str) -> np.ndarray:
        values = np.frombuffer(self.raw(8 * count, what), dtype="<u8").astype(np.uint64)
        if np.any(values >= np.uint64(gl.P)):
            raise ProofFormatError(f"{what} holds a value that is not a canonical field element")
        return values

    def exts(self, count: int, what: str) -> list[Ext]:
        values = self.elements(2 * count, what).reshape(count, 2)
        return [Ext(int(a), int(b)) for a, b in values]

    def opening(self, what: str) -> Opening:
        rows = self.bounded(self.u16(f"{what} rows"), MAX_ROWS, f"{what} rows")
        width = self.bounded(self.u16(f"{what} width"), 2 * MAX_WIDTH, f"{what} width")
        values = self.elements(rows * width, what).reshape(rows, width)
        proof_len = self.bounded(self.u32(f"{what} proof length"), MAX_MULTIPROOF_BYTES, f"{what} proof")
        return Opening(values, self.raw(proof_len, f"{what} Merkle proof"))
