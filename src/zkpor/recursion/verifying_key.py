"""The compact verifying form of a program, and a local cache of them.

Verifying a recursion proof needs of its program only what `air.ProgramSummary` holds (the digest,
the trace length, the constants and public inputs with their read counts, the output cells) and the
root of its committed columns for the proof's options: a few kilobytes, against a program of
hundreds of thousands of instructions whose compilation and column commitment take seconds.

`ProgramVerifyingKey` is that form, with a strict binary encoding (no pickle):

    "zkpor-program-vk" 0x00, u8 version = 1, digest (32 bytes), u32 trace length
    u32 count, count × (u32 cell, u64 c0, u64 c1, u32 reads)     constants
    u32 count, count × (u32 cell, u32 reads)                     public inputs
    u32 count, count × u32 cell                                  public outputs
    u8 hasher length, hasher, u32 width, u32 lde size, u8 root length, root   preprocessed key
    32 bytes: BLAKE3 (keyed by purpose) of everything above

A verifier derives keys itself — from code, the statement's shape and the options — and never takes
one from a published folder. `KeyCache` keeps derived keys on the local disk (default
~/.cache/zkpor/keys, or $ZKPOR_KEY_CACHE; "off" disables it), keyed by a hash of everything the
program depends on and the zkpor version, written atomically; an entry is the key id it was derived
for, then the key. An entry that does not parse, whose
checksum fails or that was written for another key is ignored and rebuilt, with a notice. The cache
is as trustworthy as the user's own files: it saves time, it is not a trust anchor for anyone else.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zkpor.errors import ZkporError
from zkpor.field.extension import Ext
from zkpor.field.goldilocks import P
from zkpor.fsutil import OutputError, make_directory, write_atomically
from zkpor.hash.bytehash import hash_bytes
from zkpor.recursion.air import Layout, ProgramPublic, ProgramSummary, RecursionAir, plan
from zkpor.recursion.program import Program
from zkpor.recursion.proving import ProgramKey, program_key
from zkpor.stark.params import HASHERS, ProofOptions
from zkpor.stark.preprocessed import VerificationKey
from zkpor.stark.proof import StarkProof
from zkpor.stark.verifier import DEFAULT_MIN_SECURITY_BITS, VerificationReport, verify

MAGIC = b"zkpor-program-vk\x00"
VERSION = 1
CHECKSUM_PURPOSE = "zkpor-program-vk-v1"
MAX_KEY_BYTES = 64 << 20
CACHE_ENV = "ZKPOR_KEY_CACHE"
# A cache entry names the key id it was derived for, so that an entry copied or renamed to another
# id (another program's name) is not taken for that program's key.
ENTRY_MAGIC = b"zkpor-key-cache-entry\x00"


class KeyFormatError(ZkporError):
    """A verifying key's bytes are not a well-formed, intact key."""


@dataclass(frozen=True)
class ProgramVerifyingKey:
    summary: ProgramSummary
    preprocessed: VerificationKey

    @property
    def program_key(self) -> ProgramKey:
        return ProgramKey(self.summary.program_digest, self.preprocessed)

    def digest(self) -> str:
        """SHA-256 (hex) of the key's encoding: a name for it that two verifiers can compare."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def air(self, public: ProgramPublic) -> RecursionAir:
        return RecursionAir(self.summary, public)

    def to_bytes(self) -> bytes:
        s, k = self.summary, self.preprocessed
        out = [MAGIC, bytes([VERSION]), s.program_digest, struct.pack("<I", s.trace_length)]
        out.append(struct.pack("<I", len(s.constants)))
        out += [struct.pack("<IQQI", cell, v.c0, v.c1, reads) for cell, v, reads in s.constants]
        out.append(struct.pack("<I", len(s.inputs)))
        out += [struct.pack("<II", cell, reads) for cell, reads in s.inputs]
        out.append(struct.pack("<I", len(s.outputs)))
        out += [struct.pack("<I", cell) for cell in s.outputs]
        hasher = k.hasher.encode()
        out += [bytes([len(hasher)]), hasher, struct.pack("<II", k.width, k.lde_size)]
        out += [bytes([len(k.root)]), k.root]
        body = b"".join(out)
        return body + _checksum(body)

    @staticmethod
    def from_bytes(data: bytes) -> ProgramVerifyingKey:
        if len(data) > MAX_KEY_BYTES:
            raise KeyFormatError("verifying key is over the size limit")
        if len(data) < 32 or _checksum(data[:-32]) != data[-32:]:
            raise KeyFormatError("verifying key is damaged (its checksum does not match)")
        r = _Reader(data[:-32])
        if r.take(len(MAGIC)) != MAGIC:
            raise KeyFormatError("not a zkpor program verifying key (bad magic)")
        if (version := r.take(1)[0]) != VERSION:
            raise KeyFormatError(f"unsupported verifying key version {version} (this zkpor reads {VERSION})")
        digest = r.take(32)
        (trace_length,) = r.unpack("<I")
        constants = []
        for _ in range(r.count(24)):
            cell, c0, c1, reads = r.unpack("<IQQI")
            if c0 >= P or c1 >= P:
                raise KeyFormatError("verifying key holds a non-canonical constant")
            constants.append((cell, Ext(c0, c1), reads))
        inputs = tuple(r.unpack("<II") for _ in range(r.count(8)))
        outputs = tuple(r.unpack("<I")[0] for _ in range(r.count(4)))
        hasher = r.take(r.take(1)[0]).decode("ascii", "replace")
        width, lde_size = r.unpack("<II")
        root = r.take(r.take(1)[0])
        if r.remaining():
            raise KeyFormatError("verifying key has trailing bytes")
        if hasher not in HASHERS or trace_length < 1 or trace_length & (trace_length - 1):
            raise KeyFormatError("verifying key names an unknown hasher or a trace length not a power of two")
        summary = ProgramSummary(digest, trace_length, tuple(constants), inputs, outputs)  # type: ignore[arg-type]
        return ProgramVerifyingKey(summary, VerificationKey(root, width, trace_length, lde_size, hasher))


def verifying_key(
    program: Program, options: ProofOptions, layout: Layout | None = None
) -> ProgramVerifyingKey:
    """Derive the verifying form of `program` for proofs made with `options` (plans the program,
    unless given its `layout`, and computes its columns' root: seconds for a node program)."""
    layout = layout or plan(program)
    return ProgramVerifyingKey(layout.summary(), program_key(program, options, layout).preprocessed)


def verify_with_key(
    key: ProgramVerifyingKey,
    public: ProgramPublic,
    proof: StarkProof | bytes,
    *,
    min_security_bits: int = DEFAULT_MIN_SECURITY_BITS,
    min_proven_bits: int = 0,
) -> VerificationReport:
    """`proving.verify_program` without the program: the same checks, from its verifying form."""
    return verify(key.air(public), proof, min_security_bits=min_security_bits,
                  min_proven_bits=min_proven_bits, key=key.preprocessed)  # fmt: skip


# ---- the local cache ----------------------------------------------------------------------------


def default_cache_dir() -> Path | None:
    """$ZKPOR_KEY_CACHE, or ~/.cache/zkpor/keys ($XDG_CACHE_HOME honoured); None when set to "off"."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "none", "0") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "zkpor" / "keys"


class KeyCache:
    """Verifying keys derived on this machine, one file per key id (a hex hash of what the program
    depends on). `directory=None` caches nothing (every key is derived). Notices say what happened."""

    def __init__(self, directory: Path | None, notice: Callable[[str], None] | None = None) -> None:
        self.directory = directory
        self._notice = notice or (lambda message: None)
        self.built: list[str] = []  # key ids derived (not found, or rebuilt) during this cache's life
        self.loaded: list[str] = []

    def path(self, key_id: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key_id}.vk"

    def get(self, key_id: str, what: str, build: Callable[[], ProgramVerifyingKey]) -> ProgramVerifyingKey:
        path = self.path(key_id)
        if path is not None and path.exists():
            try:
                key = _read_entry(path.read_bytes(), key_id)
                self.loaded.append(key_id)
                return key
            except (KeyFormatError, OSError) as error:
                self._notice(f"key cache: {path} ignored ({error}); rebuilding {what}")
        key = build()
        self.built.append(key_id)
        if path is not None:
            try:
                make_directory(path.parent)
                write_atomically(path, _entry(key_id, key))
            except OutputError as error:
                self._notice(f"key cache: {error} (the key is used without being cached)")
        return key


def _entry(key_id: str, key: ProgramVerifyingKey) -> bytes:
    named = key_id.encode()
    return ENTRY_MAGIC + struct.pack("<H", len(named)) + named + key.to_bytes()


def _read_entry(data: bytes, key_id: str) -> ProgramVerifyingKey:
    """The key of a cache entry written for `key_id` (KeyFormatError for any other entry)."""
    named = key_id.encode()
    head = ENTRY_MAGIC + struct.pack("<H", len(named))
    if not data.startswith(head):
        raise KeyFormatError("not a key cache entry of this zkpor")
    if data[len(head) : len(head) + len(named)] != named:
        raise KeyFormatError("the entry was written for another key id")
    return ProgramVerifyingKey.from_bytes(data[len(head) + len(named) :])


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def take(self, n: int) -> bytes:
        if self._at + n > len(self._data):
            raise KeyFormatError("verifying key is truncated")
        out = self._data[self._at : self._at + n]
        self._at += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def count(self, item_size: int) -> int:
        (n,) = self.unpack("<I")
        if n * item_size > len(self._data) - self._at:
            raise KeyFormatError("verifying key is truncated (a count runs past its end)")
        return n

    def remaining(self) -> int:
        return len(self._data) - self._at


def _checksum(body: bytes) -> bytes:
    return hash_bytes(CHECKSUM_PURPOSE, body)
