"""The page's JavaScript verifier, run in Chromium, against the pure-Python one.

Poseidon2 on Plonky3's known answers and on random inputs; then the inclusion-proof check on a real
proof and on hundreds of edits of it (every field deleted, retyped or changed; base64, JSON and
amount edge cases; random byte flips; with and without the round, with and without the customer's
uid): the page must accept exactly what `zkpor.liabilities.inclusion` accepts, and name the same
field when it refuses a malformed file. Also the statement encoding and docs/inclusion-format.md's
test vector.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from zkpor.errors import InputError, VerificationError
from zkpor.hash import poseidon2
from zkpor.liabilities import encoding
from zkpor.liabilities.inclusion import InclusionProof, load_global, verify_inclusion
from zkpor.liabilities.published import GlobalProof, digest_hex, statement_json
from zkpor.liabilities.statement import Statement, StatementAsset
from zkpor.site.verify_page import round_data

pytestmark = pytest.mark.browser
P = poseidon2.P


def _vectors() -> object:
    path = Path(__file__).parents[1] / "hash" / "poseidon2_vectors.py"
    spec = importlib.util.spec_from_file_location("poseidon2_vectors", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def js_permute(js, states: list[list[int]]) -> list[list[int]]:
    out = js.evaluate(
        "states => states.map(s => zkporPoseidon2.permute(s.map(BigInt)).map(String))",
        [[str(v) for v in s] for s in states],
    )
    return [[int(v) for v in s] for s in out]


def test_poseidon2_known_answers(js) -> None:
    v = _vectors()
    cases = [v.KAT_8, v.KAT_12, *v.CROSS_CHECK_8, *v.CROSS_CHECK_12]
    assert js_permute(js, [list(inp) for inp, _ in cases]) == [list(out) for _, out in cases]


def test_poseidon2_matches_python_on_random_inputs(js) -> None:
    rng = random.Random(12)
    states = [[rng.randrange(P) for _ in range(w)] for w in (8, 12) for _ in range(40)]
    states += [[P - 1] * 12, [0] * 8]
    assert js_permute(js, states) == [poseidon2.permute(s) for s in states]

    cases = []
    for domain in ("zkpor-leaf-v1", "zkpor-node-v1", "é-domain-✓", "x" * 255):
        for length in (0, 1, 7, 8, 9, 16, 17, 30):
            elements = [rng.randrange(P) for _ in range(length)]
            cases.append((domain, elements, rng.choice([1, 4, 8, 9, 17])))
    got = js.evaluate(
        "cases => cases.map(([d, e, n]) => zkporPoseidon2.spongeHash(d, e.map(BigInt), n).map(String))",
        [[d, [str(x) for x in e], n] for d, e, n in cases],
    )
    assert [[int(x) for x in out] for out in got] == [poseidon2.sponge_hash(d, e, n) for d, e, n in cases]

    pairs = [([rng.randrange(P) for _ in range(4)], [rng.randrange(P) for _ in range(4)]) for _ in range(20)]
    got = js.evaluate(
        "pairs => pairs.map(([l, r]) => zkporPoseidon2.compress(l.map(BigInt), r.map(BigInt)).map(String))",
        [[[str(x) for x in left], [str(x) for x in right]] for left, right in pairs],
    )
    assert [[int(x) for x in out] for out in got] == [
        poseidon2.compress(left, right) for left, right in pairs
    ]

    # Non-canonical inputs are refused, as in Python.
    assert js.evaluate(f"() => {{ try {{ zkporPoseidon2.permute(Array(8).fill({P}n)); return 'ok'; }}"
                       " catch (e) { return e.name; } }") == "RangeError"  # fmt: skip


def test_leaf_encoding_matches_python(js) -> None:
    rng = random.Random(5)
    for assets in (1, 2, 3, 6, 22, 23):
        digest = [rng.randrange(P) for _ in range(4)]
        identity = [rng.randrange(P) for _ in range(4)]
        equity = [rng.randrange(1 << 63) for _ in range(assets)]
        debt = [rng.randrange(1 << 63) for _ in range(assets)]
        got = js.evaluate(
            "(args) => zkporInclusion.leafHash(...args.map((v) => v.map(BigInt))).map(String)",
            [[str(x) for x in values] for values in (digest, identity, equity, debt)],
        )
        assert [int(x) for x in got] == encoding.leaf_hash(digest, identity, equity, debt), assets
        padded = js.evaluate("n => zkporInclusion.paddedAssetCount(n)", assets)
        assert padded == encoding.padded_asset_count(assets)
    for uid in ("1", "ü-user", "x" * 128):
        nonce = rng.randbytes(32)
        got = js.evaluate(
            "([u, n]) => zkporInclusion.idHash(new TextEncoder().encode(u), Uint8Array.from(n)).map(String)",
            [uid, list(nonce)],
        )
        assert [int(x) for x in got] == encoding.id_hash(uid, nonce)


def test_statement_encoding_and_digest_match_python(js, published_round) -> None:
    g = load_global(published_round.global_json)
    unusual = Statement(
        "2025-02 ✓ round",
        "2024-02-29T23:59:59.000001Z",
        6,
        (StatementAsset("Ünï", 0, 1, "0.000001"), StatementAsset("BTC", 18, 63, "123456.5")),
        8,
        1 << 24,
        (1 << 32) - 1,
    )
    for statement in (g.statement, unusual):
        got = js.evaluate(
            """s => {
                const st = zkporInclusion.roundStatement(s);
                const digest = zkporInclusion.statementDigest(st).map(String);
                return [Array.from(zkporInclusion.encodeStatement(st)), digest];
            }""",
            statement_json(statement, compact=True),
        )
        assert bytes(got[0]) == statement.encode()
        assert tuple(int(x) for x in got[1]) == statement.digest()


def test_documented_test_vector(js) -> None:
    """docs/inclusion-format.md, section 6: alice's file checks, with the documented leaf and root."""
    data = (Path(__file__).parents[1] / "liabilities" / "vectors" / "inclusion-v2-alice.json").read_bytes()
    got = js.evaluate(
        """bytes => {
            const r = zkporInclusion.check(Uint8Array.from(bytes), null, "alice");
            const hex = zkporPoseidon2.digestHex;
            return r.ok ? [hex(r.leaf), hex(r.proof.root)] : r.message;
        }""",
        list(data),
    )
    assert got == [
        "40d63df4cd831239be512c7de87354a9e89fae39f44b397d9950a954801c474f",
        "7083ecb3075543bd9efb96e43274928ee162ae98a409c2a7f39284b29afc767e",
    ]


# ---- the inclusion check on edited files ---------------------------------------------------------


def python_outcome(data: bytes, g: GlobalProof | None, uid: str | None) -> list[object]:
    """What the Python verifier says: ["ok", None], ["input", field] or ["verification", None]."""
    try:
        verify_inclusion(InclusionProof.from_json(data, "proof.json"), g, uid=uid)
    except InputError as error:
        return ["input", error.field]
    except VerificationError:
        return ["verification", None]
    return ["ok", None]


def js_outcomes(js, files: list[bytes], g: GlobalProof | None, uid: str | None) -> list[list[object]]:
    return js.evaluate(
        """([files, round, uid]) => files.map((b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const r = zkporInclusion.check(bytes, round, uid);
            return r.ok ? ["ok", null] : [r.kind, r.field];
        })""",
        [[base64.b64encode(f).decode() for f in files], round_data(g) if g else None, uid],
    )


def _dump(document: dict[str, object]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _changed_values(value: object) -> Iterator[object]:
    """Plausible wrong values for one field: other types, and small edits of the right type."""
    yield from (None, True, 1, 1.0, "x", [], {})
    if isinstance(value, str):
        yield from (value + "0", value[:-1], value.upper(), value[:-1] + ("1" if value[-1:] != "1" else "2"))
    elif isinstance(value, int) and not isinstance(value, bool):
        yield from (value + 1, value - 1, float(value), 1 << 40, 1 << 64, -1)
    elif isinstance(value, list) and value:
        yield from (value[:-1], value + value[-1:])
        for i in sorted({0, 1, len(value) - 1}):
            for changed in list(_changed_values(value[i]))[7:] or [None]:
                yield value[:i] + [changed] + value[i + 1 :]


def field_edits(document: dict[str, object]) -> Iterator[tuple[str, bytes]]:
    for key, value in document.items():
        yield f"{key} deleted", _dump({k: v for k, v in document.items() if k != key})
        for i, changed in enumerate(_changed_values(value)):
            yield f"{key} #{i} = {changed!r}"[:120], _dump({**document, key: changed})
    yield "unknown field", _dump({**document, "extra": 1})
    yield "keys reordered", _dump(dict(reversed(document.items())))


def amount_edits(document: dict[str, object]) -> Iterator[tuple[str, bytes]]:
    amounts = document["equity"]
    assert isinstance(amounts, list)
    edge_cases = ["1e5", "-0", "-1", ".5", "5.", "00.5", "0.000000000000000000000", "0.0000000000000000001"]
    edge_cases += ["1" + "0" * 20, "9223372036854775807", "92233720368.54775808", "１", " 1", "0x10", ""]
    for text in edge_cases:
        yield f"equity[0] = {text!r}", _dump({**document, "equity": [text, *amounts[1:]]})


def statement_edits(document: dict[str, object]) -> Iterator[tuple[str, bytes]]:
    """Each rule of the statement (docs/inclusion-format.md, section 2), broken and just kept."""
    snapshots = [
        "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-06-30T24:00:00Z",
        "2024-6-30T16:00:00Z",
    ]
    snapshots += ["2024-06-30T16:00:00.000000Z", "2024-06-30T16:00:00.000001Z", "2024-06-30T16:00:00+00:00"]
    snapshots += [
        "0000-01-01T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-06-31T00:00:00Z",
        "2024-06-30T16:00:60Z",
    ]
    snapshots += ["2024-06-30T16:00:00z", "2024-06-30 16:00:00Z", "9999-12-31T23:59:59Z"]
    for snapshot in snapshots:
        yield f"snapshot {snapshot}", _dump({**document, "snapshot_time": snapshot})
    shape = {
        "round_id": ["", "r" * 64, "r" * 65, "é" * 32, "é" * 33],
        "limb_bits": [12, 16],
        "batch_size": [1, 3, 1 << 24, 1 << 25],
        "batch_count": [0, (1 << 32) - 1, 1 << 32],
        "price_decimals": [0, 18, 19],
    }
    for name, values in shape.items():
        for value in values:
            yield f"{name} = {value!r}"[:60], _dump({**document, name: value})
    assets = document["assets"]
    assert isinstance(assets, list)
    asset_values = [(0, ""), (0, "S" * 16), (0, "S" * 17), (0, "€" * 5), (0, "€" * 6), (1, -1), (1, 19)]
    asset_values += [(2, 0), (2, 63), (2, 64), (3, "67000.0"), (3, "0"), (3, "-1"), (3, "1e3"), (3, "067000")]
    asset_values += [(3, "0.0000001"), (3, "1" + "0" * 15), (3, "1" + "0" * 12)]
    for index, value in asset_values:
        for j in (0, len(assets) - 1):
            edited = [list(a) for a in assets]
            edited[j][index] = value
            yield f"assets[{j}][{index}] = {value!r}", _dump({**document, "assets": edited})


def path_edits(document: dict[str, object]) -> Iterator[tuple[str, bytes]]:
    for key in ("leaf_path", "top_path"):
        text = document[key]
        assert isinstance(text, str)
        last_bits_changed = text[:-2] + "B=" if text.endswith("=") else text[:-1] + "B"
        non_canonical = base64.b64encode(b"\xff" * 32).decode() + text
        edits = [text.rstrip("="), text + "=", text + "==", text + "====", text + "AAAA", "=" + text]
        edits += [text[:4] + "\n" + text[4:], last_bits_changed, text[:-4], non_canonical, "", "=", "=="]
        for edited in edits:
            yield f"{key} = {edited[-12:]!r}", _dump({**document, key: edited})


def raw_edits(data: bytes) -> Iterator[tuple[str, bytes]]:
    yield "BOM", b"\xef\xbb\xbf" + data
    yield "invalid UTF-8", data.replace(b'"format"', b'"form\xffat"')
    yield "trailing garbage", data + b"x"
    yield "surrounding whitespace", b" \n\t" + data + b"\r\n "
    yield "empty", b""
    yield "an array", b"[" + data + b"]"
    yield "too large", data + b" " * (64 << 10)
    yield "NaN batch", data.replace(b'"batch":', b'"batch":NaN,"_":', 1)
    yield "exponent batch", data.replace(b'"batch":', b'"batch":1e0,"_":', 1)
    yield "duplicate key, last wins", data.replace(b'"batch":', b'"batch":"x","batch":', 1)
    yield "escaped key", data.replace(b'"uid"', b'"\\u0075id"', 1)
    yield "control character", data.replace(b'"uid":"', b'"uid":"\x01', 1)
    yield "single quotes", data.replace(b'"format"', b"'format'", 1)
    yield "trailing comma", data.rstrip().rstrip(b"}") + b",}"
    yield "lone surrogate in the uid", data.replace(b'"uid":"', b'"uid":"\\ud800', 1)
    yield "lone surrogate in a key", data.replace(b'"uid":', b'"\\udc00":1,"uid":', 1)
    yield "lone surrogate in a symbol", data.replace(b'[["BTC"', b'[["\\ud800BTC"', 1)
    yield "surrogate pair in the uid", data.replace(b'"uid":"', b'"uid":"\\ud83d\\ude00', 1)
    yield "integer of 5000 digits", data.replace(b'"batch":', b'"batch":' + b"1" * 5000 + b',"_":', 1)
    yield "integer of 4300 digits", data.replace(b'"batch":', b'"batch":' + b"1" * 4300 + b',"_":', 1)
    for depth in (100, 3000):
        nested = b"[" * depth + b"]" * depth
        yield f"nested {depth} deep", data.replace(b'"uid":', b'"_":' + nested + b',"uid":', 1)
    rng = random.Random(7)
    for i in range(150):
        position = rng.randrange(len(data))
        flipped = bytes([rng.choice(b'0123456789abcdefAB=+/",:[]{} .-\\e')])
        yield f"flip #{i} at {position}", data[:position] + flipped + data[position + 1 :]


def test_page_verifier_accepts_exactly_what_python_accepts(js, published_round, other_round) -> None:
    uid = published_round.uids[0]
    data = published_round.proofs[uid].read_bytes()
    document = json.loads(data)
    other_customer = published_round.proof_document(published_round.uids[1])
    cases: list[tuple[str, bytes]] = [("valid", data)]
    cases += field_edits(document)
    cases += amount_edits(document)
    cases += statement_edits(document)
    cases += path_edits(document)
    cases += raw_edits(data)
    cases += [(f"{key} from another customer", _dump({**document, key: other_customer[key]}))
              for key in document if document[key] != other_customer[key]]  # fmt: skip
    cases.append(("another round's proof", other_round.proofs[other_round.uids[0]].read_bytes()))

    cases.append(("a v1 file", _dump({**document, "format": "zkpor-inclusion-v1"})))

    names, files = [name for name, _ in cases], [f for _, f in cases]
    g = load_global(published_round.global_json)
    for against, typed_uid in ((g, None), (None, None), (g, uid), (None, published_round.uids[1])):
        expected = [python_outcome(f, against, typed_uid) for f in files]
        got = js_outcomes(js, files, against, typed_uid)
        mismatches = [(n, e, a) for n, e, a in zip(names, expected, got, strict=True) if e != a]
        assert not mismatches, mismatches[:10]
        outcomes = {e[0] for e in expected}
        assert outcomes == ({"ok", "input", "verification"} if typed_uid != published_round.uids[1]
                            else {"input", "verification"}), outcomes  # fmt: skip

    # The valid proof's id hash and leaf are Python's.
    checked = verify_inclusion(InclusionProof.from_json(data, "p"), g)
    got = js.evaluate(
        """([b64, round]) => {
            const r = zkporInclusion.check(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), round);
            return [zkporPoseidon2.digestHex(r.idHash), zkporPoseidon2.digestHex(r.leaf)];
        }""",
        [base64.b64encode(data).decode(), round_data(g)],
    )
    assert got == [digest_hex(checked.id_hash), digest_hex(checked.leaf)]
