/* A customer's inclusion proof: strict parsing and the check, the JavaScript twin of
 * zkpor.liabilities.inclusion (with zkpor.liabilities.encoding and .published). It accepts exactly
 * the files the Python verifier accepts and rejects the rest; the tests feed both the same files.
 *
 * zkporInclusion.check(bytes, round) returns {ok: true, proof, idHash, leaf} or
 * {ok: false, kind, field, message}; kind is "input" (not a well-formed proof file: the Python
 * InputError) or "verification" (the hashes or the round do not match: VerificationError), and
 * `reason` says which check failed, for the page to explain.
 */
"use strict";
(function (root) {
  const H = root.zkporPoseidon2;
  const INCLUSION_FORMAT = "zkpor-inclusion-v1";
  const LEAF_DOMAIN = "zkpor-leaf-v1";
  const NODE_DOMAIN = "zkpor-node-v1";
  const ID_DOMAIN = "zkpor-id-v1";
  const MAX_FILE_BYTES = 64 << 10;
  const MAX_DEPTH = 40;
  const MAX_UID_BYTES = 128;
  const MAX_AMOUNT = (1n << 63n) - 1n;
  const FIELDS = [
    "format", "round_id", "uid", "nonce", "assets", "equity", "debt",
    "batch", "position", "leaf_path", "batch_root", "top_path", "root",
  ];

  class InclusionError extends Error {
    constructor(kind, message, field = null, reason = kind) {
      super(field ? `field '${field}': ${message}` : message);
      this.kind = kind;
      this.field = field;
      this.reason = reason;
    }
  }
  const inputError = (message, field = null) => new InclusionError("input", message, field);
  const verificationError = (reason, message) => new InclusionError("verification", message, null, reason);

  // ---- JSON as Python's json.loads reads it ---------------------------------------------------
  // JSON.parse cannot tell 1 from 1.0 and rounds integers past 2^53; Python can and does not. So:
  // objects become Maps (keys in first-seen order, the last value wins), integers BigInts, other
  // numbers (and Python's NaN/Infinity extensions) JsonFloat.

  class JsonFloat {
    constructor(text) {
      this.text = text;
    }
  }

  const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

  function parseJson(text) {
    let i = 0;
    const fail = (what) => {
      const line = text.slice(0, i).split("\n").length;
      throw new InclusionError("input", `not valid JSON: ${what} (line ${line})`);
    };
    const ws = () => {
      while (i < text.length && " \t\n\r".includes(text[i])) i++;
    };
    const literal = (word) => {
      if (text.startsWith(word, i)) {
        i += word.length;
        return true;
      }
      return false;
    };
    function value() {
      ws();
      const c = text[i];
      if (c === "{") return object();
      if (c === "[") return array();
      if (c === '"') return string();
      if (literal("true")) return true;
      if (literal("false")) return false;
      if (literal("null")) return null;
      if (literal("NaN")) return new JsonFloat("NaN");
      if (literal("Infinity")) return new JsonFloat("Infinity");
      if (literal("-Infinity")) return new JsonFloat("-Infinity");
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) fail("expecting value");
      i += m[0].length;
      return m[1] || m[2] ? new JsonFloat(m[0]) : BigInt(m[0]);
    }
    // The members of an object or array: items separated by commas, up to `close`.
    function members(close, item) {
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        item();
        ws();
        if (text[i] === close) {
          i++;
          return;
        }
        if (text[i] !== ",") fail("expecting ',' delimiter");
        i++;
      }
    }
    function object() {
      const out = new Map();
      members("}", () => {
        ws();
        if (text[i] !== '"') fail("expecting property name enclosed in double quotes");
        const key = string();
        ws();
        if (text[i] !== ":") fail("expecting ':' delimiter");
        i++;
        out.set(key, value());
      });
      return out;
    }
    function array() {
      const out = [];
      members("]", () => out.push(value()));
      return out;
    }
    function string() {
      const escapes = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      let out = "";
      i++;
      for (;;) {
        if (i >= text.length) fail("unterminated string");
        const c = text[i++];
        if (c === '"') return out;
        if (c < " ") fail("invalid control character in a string");
        if (c !== "\\") {
          out += c;
          continue;
        }
        const e = text[i++];
        if (e === "u") {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid \\uXXXX escape");
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
        } else if (e in escapes) {
          out += escapes[e];
        } else {
          fail("invalid escape");
        }
      }
    }
    const result = value();
    ws();
    if (i !== text.length) fail("extra data");
    return result;
  }

  function pythonType(v) {
    if (typeof v === "string") return "str";
    if (typeof v === "bigint") return "int";
    if (typeof v === "boolean") return "bool";
    if (v === null) return "NoneType";
    if (v instanceof JsonFloat) return "float";
    if (Array.isArray(v)) return "list";
    return "dict";
  }

  /** Typed access to a JSON object's fields, strict about unknown ones (JsonFields in Python). */
  class Fields {
    constructor(obj, known) {
      if (!(obj instanceof Map)) throw inputError("expected a JSON object");
      this.obj = obj;
      for (const key of obj.keys()) if (!known.includes(key)) throw inputError("unknown field", key);
    }
    get(key, kind) {
      if (!this.obj.has(key)) throw inputError("missing", key);
      const v = this.obj.get(key);
      const type = pythonType(v);
      if (type !== kind) throw inputError(`must be ${kind}, not ${type}`, key);
      if (kind === "int" && (v < 0n || v >= 1n << 64n)) throw inputError(`${v} is out of range`, key);
      return v;
    }
    digest(key) {
      const d = H.parseDigestHex(this.get(key, "str"));
      if (!d) throw inputError("not a digest (64 lower-case hex digits, canonical elements)", key);
      return d;
    }
  }

  // ---- amounts: zkpor.round.decimal_text ---------------------------------------------------------

  function parseUnits(text, decimals) {
    const m = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text);
    if (!m) return { error: `not a decimal number: '${text}'` };
    if (m[1]) return { error: `must not be negative: '${text}'` };
    const fraction = m[3] || "";
    if (/[1-9]/.test(fraction.slice(decimals))) {
      return { error: `'${text}' has more than ${decimals} decimals; zkpor never rounds` };
    }
    return { units: BigInt(m[2] + fraction.slice(0, decimals).padEnd(decimals, "0")) };
  }

  /** Base units as whole coins, without trailing zeros (format_units). */
  function formatUnits(units, decimals) {
    const scale = 10n ** BigInt(decimals);
    const whole = units / scale;
    const fraction = units % scale;
    if (fraction === 0n) return whole.toString();
    return `${whole}.${fraction.toString().padStart(decimals, "0").replace(/0+$/, "")}`;
  }

  /** With thousands separators, for people: 1,234.5 (the fraction is never cut). */
  function formatUnitsGrouped(units, decimals) {
    const [whole, fraction] = formatUnits(units, decimals).split(".");
    const grouped = whole.replace(/\B(?=([0-9]{3})+$)/g, ",");
    return fraction ? `${grouped}.${fraction}` : grouped;
  }

  // ---- base64 as Python's base64.b64decode(validate=True) (binascii strict mode) ----------------

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  function b64decodeStrict(text) {
    const out = [];
    let quad = 0;
    let pads = 0;
    let left = 0;
    let paddingStarted = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === "=") {
        paddingStarted = true;
        if (i === 0) return null; // leading padding
        if (quad >= 2 && quad + ++pads >= 4) {
          if (i + 1 < text.length) return null; // excess data after padding
          quad = 0;
          break;
        }
        continue;
      }
      const v = B64.indexOf(ch);
      if (v < 0 || ch.length !== 1) return null;
      if (paddingStarted) return null; // discontinuous padding
      pads = 0;
      if (quad === 0) left = v;
      else if (quad === 1) {
        out.push(((left << 2) | (v >> 4)) & 0xff);
        left = v & 0x0f;
      } else if (quad === 2) {
        out.push(((left << 4) | (v >> 2)) & 0xff);
        left = v & 0x03;
      } else out.push(((left << 6) | v) & 0xff);
      quad = (quad + 1) % 4;
    }
    return quad === 0 ? Uint8Array.from(out) : null;
  }

  function path(r, name) {
    const raw = b64decodeStrict(r.get(name, "str"));
    if (!raw) throw inputError("not base64", name);
    if (raw.length % 32 || raw.length / 32 > MAX_DEPTH) {
      throw inputError(`must be at most ${MAX_DEPTH} digests of 32 bytes`, name);
    }
    const digests = [];
    for (let i = 0; i < raw.length; i += 32) {
      const d = H.digestFromBytes(raw.subarray(i, i + 32));
      if (!d) throw inputError("holds a non-canonical digest", name);
      digests.push(d);
    }
    return digests;
  }

  // ---- the file ----------------------------------------------------------------------------------

  function asset(entry, i) {
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      typeof entry[0] !== "string" ||
      typeof entry[1] !== "bigint" ||
      entry[1] < 0n ||
      entry[1] > 18n
    ) {
      throw inputError("must be [symbol, decimals] with decimals 0..18", `assets[${i}]`);
    }
    return [entry[0], Number(entry[1])];
  }

  function amounts(r, name, assets) {
    const values = r.get(name, "list");
    if (values.length !== assets.length) throw inputError(`must hold one amount per asset (${assets.length})`, name);
    return values.map((text, i) => {
      const [symbol, decimals] = assets[i];
      if (typeof text !== "string") throw inputError("must be a decimal string", `${name}.${symbol}`);
      const parsed = parseUnits(text, decimals);
      if (parsed.error) throw inputError(parsed.error, `${name}.${symbol}`);
      if (parsed.units > MAX_AMOUNT) throw inputError("amount is over 2^63 base units", `${name}.${symbol}`);
      return parsed.units;
    });
  }

  /** Parse strictly, in the order InclusionProof.from_json checks; throws an "input" InclusionError. */
  function parseProof(bytes) {
    if (bytes.length > MAX_FILE_BYTES) throw inputError("too large for an inclusion proof");
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw inputError("not UTF-8 text");
    }
    const doc = parseJson(text);
    if (!(doc instanceof Map)) throw inputError("expected a JSON object");
    const r = new Fields(doc, FIELDS);
    if (r.get("format", "str") !== INCLUSION_FORMAT) throw inputError(`not a ${INCLUSION_FORMAT} file`, "format");
    const uid = r.get("uid", "str");
    if (/[\uD800-\uDFFF]/.test(uid.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""))) {
      throw inputError("is not valid Unicode text", "uid");
    }
    const uidBytes = new TextEncoder().encode(uid);
    if (uidBytes.length < 1 || uidBytes.length > MAX_UID_BYTES) throw inputError(`must be 1–${MAX_UID_BYTES} bytes`, "uid");
    const nonce = r.get("nonce", "str");
    if (!/^[0-9a-f]{64}$/.test(nonce)) throw inputError("must be 64 lower-case hex digits", "nonce");
    const assets = r.get("assets", "list").map(asset);
    if (assets.length < 1 || assets.length > 256) throw inputError("must list 1–256 assets", "assets");
    const positions = ["batch", "position"].map((name) => {
      const v = r.get(name, "int");
      if (v >> BigInt(MAX_DEPTH)) throw inputError("out of range", name);
      return Number(v);
    });
    return {
      roundId: r.get("round_id", "str"),
      uid,
      uidBytes,
      nonce: Uint8Array.from(nonce.match(/../g), (h) => parseInt(h, 16)),
      assets,
      equity: amounts(r, "equity", assets),
      debt: amounts(r, "debt", assets),
      batch: positions[0],
      position: positions[1],
      leafPath: path(r, "leaf_path"),
      batchRoot: r.digest("batch_root"),
      topPath: path(r, "top_path"),
      root: r.digest("root"),
    };
  }

  // ---- the check: zkpor.liabilities.encoding and inclusion.verify_inclusion -----------------------

  /** [length] + 7-byte little-endian chunks: injective for a fixed domain. */
  function bytesToElements(bytes) {
    return [BigInt(bytes.length), ...H.chunksLE(bytes, 7)];
  }

  function idHash(uidBytes, nonce) {
    const data = new Uint8Array(uidBytes.length + 1 + nonce.length);
    data.set(uidBytes, 0);
    data.set(nonce, uidBytes.length + 1);
    return H.spongeHash(ID_DOMAIN, bytesToElements(data));
  }

  /** The smallest A' >= assets with 4 + 2A' a multiple of the sponge rate. */
  function paddedAssetCount(assets) {
    const half = H.RATE / 2;
    return assets + ((((-(4 + 2 * assets) / 2) % half) + half) % half);
  }

  function leafHash(identity, equity, debt) {
    const values = [...identity];
    equity.forEach((e, j) => values.push(e, debt[j]));
    for (let j = equity.length; j < paddedAssetCount(equity.length); j++) values.push(0n, 0n);
    return H.spongeHash(LEAF_DOMAIN, values);
  }

  const nodeHash = (left, right) => H.spongeHash(NODE_DOMAIN, [...left, ...right]);

  function climb(leaf, index, siblings) {
    let node = leaf;
    for (const sibling of siblings) {
      node = index % 2 === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node);
      index = Math.floor(index / 2);
    }
    return node;
  }

  const sameDigest = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

  /** Compare with the round the page was written for (GlobalProof's fields, see verify_page.py). */
  function compareWithRound(proof, round) {
    const fail = (reason, what) => verificationError(reason, `inclusion proof does not match global.json: ${what}`);
    if (proof.roundId !== round.round_id) {
      throw fail("other-round", `round '${proof.roundId}' vs '${round.round_id}'`);
    }
    const assets = round.assets;
    if (proof.assets.length !== assets.length || proof.assets.some(([s, d], j) => s !== assets[j].symbol || d !== assets[j].decimals)) {
      throw fail("other-round", "the asset lists (symbols, decimals) differ");
    }
    if (2 ** proof.leafPath.length !== round.batch_size || 2 ** proof.topPath.length !== round.top_leaves) {
      throw fail("other-round", "the path lengths do not fit the round's batch size and batch count");
    }
    if (proof.batch >= round.batch_count) {
      throw fail("other-round", `batch ${proof.batch} is past the round's ${round.batch_count} batches`);
    }
    if (round.batch_roots[proof.batch] !== H.digestHex(proof.batchRoot)) {
      throw fail("other-root", `batch ${proof.batch}'s root differs`);
    }
    if (round.root !== H.digestHex(proof.root)) throw fail("other-root", "the global root differs");
  }

  function verify(proof, round) {
    const identity = idHash(proof.uidBytes, proof.nonce);
    const leaf = leafHash(identity, proof.equity, proof.debt);
    if (proof.position >= 2 ** proof.leafPath.length || proof.batch >= 2 ** proof.topPath.length) {
      throw verificationError("tampered", "inclusion proof: position or batch index is past the end of its tree");
    }
    if (!sameDigest(climb(leaf, proof.position, proof.leafPath), proof.batchRoot)) {
      throw verificationError(
        "tampered",
        "inclusion proof: the leaf (uid, nonce and balances) does not hash up the leaf path to the batch " +
          "root: a balance, the nonce, the position or a sibling was changed",
      );
    }
    if (!sameDigest(climb(proof.batchRoot, proof.batch, proof.topPath), proof.root)) {
      throw verificationError(
        "tampered",
        "inclusion proof: the batch root does not hash up the top path to the global root: " +
          "the batch index, a sibling of the top path or the root was changed",
      );
    }
    if (round) compareWithRound(proof, round);
    return { idHash: identity, leaf };
  }

  /** Parse and verify; never throws for a bad file. `round` may be null (then only the paths). */
  function check(bytes, round) {
    let proof = null;
    try {
      proof = parseProof(bytes);
      const { idHash: identity, leaf } = verify(proof, round);
      return { ok: true, proof, idHash: identity, leaf };
    } catch (error) {
      if (!(error instanceof InclusionError)) throw error;
      return { ok: false, proof, kind: error.kind, reason: error.reason, field: error.field, message: error.message };
    }
  }

  root.zkporInclusion = {
    INCLUSION_FORMAT,
    check,
    parseJson,
    b64decodeStrict,
    bytesToElements,
    idHash,
    leafHash,
    nodeHash,
    paddedAssetCount,
    formatUnits,
    formatUnitsGrouped,
  };
})(globalThis);
