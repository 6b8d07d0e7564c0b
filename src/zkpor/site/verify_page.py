"""The customer page, verify.html: one self-contained file per round, written into its public folder.

The page carries everything it needs inline: its CSS, its JavaScript (Poseidon2 with the constants of
`zkpor.hash.poseidon2_constants`, the inclusion-proof check that mirrors
`zkpor.liabilities.inclusion`, and the page logic) and the round it checks against (its statement:
round id, snapshot time, assets with decimals, bounds and prices, batch shape; the batch roots and
the global root), taken from a verified round's global.json. It loads nothing:
a Content-Security-Policy with the hashes of its one script and one style forbids every fetch, so it
works the same from file:// and from `zkpor serve`.

`zkpor publish` calls `write_verify_page(public_dir, global_proof)`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from importlib import resources
from pathlib import Path

from zkpor.fsutil import write_atomically
from zkpor.hash import poseidon2_constants as consts
from zkpor.liabilities.published import GlobalProof, digest_hex, statement_json

PAGE_NAME = "verify.html"
_ASSETS = resources.files("zkpor.site") / "verify"
# The page's script, in order: constants, then the hash, the check, the page.
_SCRIPTS = ("poseidon2.js", "inclusion.js", "page.js")


def _asset_text(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def poseidon2_constants_script() -> str:
    """`globalThis.ZKPOR_POSEIDON2_CONSTANTS`: Plonky3's constants as hex strings, from the Python module."""

    def hexes(values: tuple[int, ...]) -> list[str]:
        return [f"0x{v:x}" for v in values]

    def width(initial: tuple, internal: tuple, final: tuple, diag: tuple) -> dict[str, object]:
        return {
            "external_initial": [hexes(r) for r in initial],
            "internal": hexes(internal),
            "external_final": [hexes(r) for r in final],
            "diag": hexes(diag),
        }

    constants = {
        "P": f"0x{consts.P:x}",
        "8": width(consts.RC8_EXTERNAL_INITIAL, consts.RC8_INTERNAL, consts.RC8_EXTERNAL_FINAL, consts.DIAG8),
        "12": width(
            consts.RC12_EXTERNAL_INITIAL, consts.RC12_INTERNAL, consts.RC12_EXTERNAL_FINAL, consts.DIAG12
        ),
    }
    return f"globalThis.ZKPOR_POSEIDON2_CONSTANTS = {json.dumps(constants, separators=(',', ':'))};\n"


def verifier_script() -> str:
    """The verification JavaScript without the page logic: constants, Poseidon2, the inclusion check.

    Defines `zkporPoseidon2` and `zkporInclusion` on `globalThis` (the tests load exactly this)."""
    return poseidon2_constants_script() + "".join(_asset_text(name) for name in _SCRIPTS[:2])


def round_data(global_proof: GlobalProof) -> dict[str, object]:
    """What the page checks a proof against: what `inclusion._compare_with_global` reads."""
    g = global_proof
    return {
        "statement": statement_json(g.statement, compact=True),
        "statement_digest": digest_hex(g.statement_digest),
        "batch_roots": [digest_hex(b.root) for b in g.batches],
        "root": digest_hex(g.root),
    }


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it or open a comment."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _snapshot_text(snapshot_time: str) -> str:
    """2024-06-30T16:00:00Z as people read it: 2024-06-30 16:00 UTC (anything else unchanged)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::00)?Z", snapshot_time)
    return f"{match[1]} {match[2]} UTC" if match else snapshot_time


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def render_verify_page(global_proof: GlobalProof) -> bytes:
    """verify.html for this round, every resource inline."""
    script = verifier_script() + _asset_text(_SCRIPTS[2])
    style = _asset_text("verify.css")
    csp = (
        f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    g = global_proof
    fields = {
        "@@CSP@@": csp,
        "@@ROUND_ID@@": html.escape(g.round_id),
        "@@SNAPSHOT@@": html.escape(_snapshot_text(g.snapshot_time)),
        "@@ASSET_COUNT@@": str(len(g.assets)),
        "@@USERS@@": f"{g.batch_count * g.batch_size:,}",
        "@@ROOT@@": digest_hex(g.root),
        "@@ROUND_JSON@@": _script_json(round_data(g)),
        "@@STYLE@@": style,
        "@@SCRIPT@@": script,
    }
    assert "</script" not in script.lower() and "</style" not in style.lower()
    # One pass, so no inserted text is scanned for markers again.
    page = re.sub(r"@@[A-Z_]+@@", lambda m: fields[m.group(0)], _asset_text(PAGE_NAME))
    return page.encode("utf-8")


def write_verify_page(public_dir: str | Path, global_proof: GlobalProof) -> Path:
    """Write PUBLIC_DIR/verify.html atomically; returns its path."""
    path = Path(public_dir) / PAGE_NAME
    write_atomically(path, render_verify_page(global_proof))
    return path
