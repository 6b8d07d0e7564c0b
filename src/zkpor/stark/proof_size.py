"""Where the bytes of a STARK proof go: one line per part of the format (`stark.proof`).

    for part, size in size_breakdown(proof):
        print(part, size)

The parts add up to `len(proof.to_bytes())` exactly. Each opening is split into its opened rows,
its salts (salted trees only: the trace and quotient trees with zero knowledge) and its Merkle
multi-proof siblings; the few bytes of lengths and counts around them are counted as "framing".
"""

from __future__ import annotations

from zkpor.hash.merkle_proof import SALT_ELEMS
from zkpor.stark.params import COMMITMENT_DIGEST_BYTES
from zkpor.stark.proof import DIGEST_BYTES, MAGIC, StarkProof

_EXT_BYTES = 16
_HEADER_BYTES = len(MAGIC) + 2 + 10 + 1 + 2 + 2 + 1 + 2 + 6  # magic, version, options, shape
_OPENING_FRAMING = 2 + 2 + 4 + 4  # u16 rows, u16 width, u32 proof length, u32 sibling count


def opening_names(proof: StarkProof) -> list[str]:
    """The name of each opening, in `StarkProof.openings()` order."""
    names = ["main"] + (["aux"] if proof.aux_opening is not None else []) + ["quotient"]
    names += ["preprocessed"] if proof.preprocessed_opening is not None else []
    return names + [f"FRI layer {i}" for i in range(len(proof.fri_openings))]


def size_breakdown(proof: StarkProof) -> list[tuple[str, int]]:
    """(part, bytes) for every part of the serialised proof, in format order."""
    salted_names = {"main", "aux", "quotient"} if proof.options.zero_knowledge else set()
    digest_bytes = COMMITMENT_DIGEST_BYTES[proof.options.hasher]
    parts = [
        ("header", _HEADER_BYTES),
        ("roots", DIGEST_BYTES * (2 + (proof.aux_root is not None)) + 1),
        ("OOD main at z", _EXT_BYTES * len(proof.main_at_z)),
        ("OOD main at zω", _EXT_BYTES * len(proof.main_at_zw)),
        ("OOD aux at z", _EXT_BYTES * len(proof.aux_at_z)),
        ("OOD aux at zω", _EXT_BYTES * len(proof.aux_at_zw)),
        ("OOD quotient at z", _EXT_BYTES * len(proof.quotient_at_z)),
        ("OOD preprocessed", _EXT_BYTES * (len(proof.preprocessed_at_z) + len(proof.preprocessed_at_zw))),
        ("FRI roots", 1 + DIGEST_BYTES * len(proof.fri_roots)),
        ("FRI final polynomial", 2 + _EXT_BYTES * len(proof.fri_final)),
        ("proof-of-work nonce", 8),
    ]
    framing = 0
    for name, opening in zip(opening_names(proof), proof.openings(), strict=True):
        rows = opening.rows.shape[0]
        salts = 8 * SALT_ELEMS * rows if name in salted_names else 0
        parts.append((f"{name} rows ({rows} × {opening.rows.shape[1]})", 8 * opening.rows.size))
        if salts:
            parts.append((f"{name} salts", salts))
        siblings = len(opening.proof) - salts - 4
        parts.append((f"{name} Merkle siblings ({siblings // digest_bytes})", siblings))
        framing += _OPENING_FRAMING
    parts.append(("framing (lengths, counts)", framing))
    return [(name, size) for name, size in parts if size]


def format_breakdown(proof: StarkProof) -> str:
    """The breakdown as an aligned table with each part's share of the total."""
    parts = size_breakdown(proof)
    total = sum(size for _, size in parts)
    width = max(len(name) for name, _ in parts)
    lines = [f"  {name:{width}s} {size:9,d} B {100 * size / total:5.1f} %" for name, size in parts]
    groups = {
        "opened rows": sum(s for n, s in parts if " rows (" in n),
        "Merkle siblings": sum(s for n, s in parts if "Merkle siblings" in n),
        "salts": sum(s for n, s in parts if n.endswith(" salts")),
        "OOD values": sum(s for n, s in parts if n.startswith("OOD")),
    }
    summary = ", ".join(f"{name} {size:,} ({100 * size / total:.0f} %)" for name, size in groups.items())
    return "\n".join([*lines, f"  {'total':{width}s} {total:9,d} B", f"  {summary}"])
