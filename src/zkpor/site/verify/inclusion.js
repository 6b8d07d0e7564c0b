/* A customer's inclusion proof: strict parsing and the check, the JavaScript twin of
 * zkpor.liabilities.inclusion (with zkpor.liabilities.encoding and .published). It accepts exactly
 * the files the Python verifier accepts and rejects the rest; the tests feed both the same files.
 *
 * Format v2 (docs/inclusion-format.md): the file carries the round statement (round id, snapshot
 * time, assets with decimals, bounds and prices, batch shape), and the leaf sponge starts from a
 * capacity derived from the statement's digest, so a root that matches vouches for every field shown.
 *
 * zkporInclusion.check(bytes, round, uid) returns {ok: true, proof, idHash, leaf} or
 * {ok: false, kind, reason, field, message}; kind is "input" (not a well-formed proof file: the
 * Python InputError) or "verification" (the uid, the hashes or the round do not match:
 * VerificationError), and `reason` says which check failed, for the page to explain.
 */
"use strict";
(function (root) {
  const H = root.zkporPoseidon2;
  const INCLUSION_FORMAT = "zkpor-inclusion-v2";
  const OLD_FORMATS = ["zkpor-inclusion-v1"];
  const STATEMENT_DOMAIN = "zkpor-statement-v1";
  const LEAF_DOMAIN = "zkpor-leaf-v2";
  const NODE_DOMAIN = "zkpor-node-v1";
  const ID_DOMAIN = "zkpor-id-v1";
  const MAX_FILE_BYTES = 64 << 10;
  const MAX_DEPTH = 40;
  const MAX_UID_BYTES = 128;
  const STATEMENT_FIELDS = ["round_id", "snapshot_time", "price_decimals", "limb_bits", "batch_size", "batch_count"];
  const FIELDS = [
    "format", ...STATEMENT_FIELDS, "assets", "uid", "nonce", "equity", "debt",
    "batch", "position", "leaf_path", "batch_root", "top_path", "root",
  ];

  const utf8 = (text) => new TextEncoder().encode(text);
  // JSON's \ud800 escapes give strings UTF-8 cannot encode; Python refuses them field by field.
  const hasLoneSurrogate = (text) => /[\uD800-\uDFFF]/.test(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));

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
  const MAX_INT_DIGITS = 4300; // Python's int() refuses longer digit strings
  const MAX_NESTING = 900; // Python's json stops near its recursion limit (1000); deeper is refused

  function parseJson(text) {
    let i = 0;
    let depth = 0;
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
      if (m[1] || m[2]) return new JsonFloat(m[0]);
      if (m[0].replace("-", "").length > MAX_INT_DIGITS) throw inputError("not valid JSON: an integer has too many digits");
      return BigInt(m[0]);
    }
    // The members of an object or array: items separated by commas, up to `close`.
    function members(close, item) {
      if (++depth > MAX_NESTING) throw inputError("not valid JSON: nested too deeply");
      i++;
      ws();
      if (text[i] === close) {
        i++;
        depth--;
        return;
      }
      for (;;) {
        item();
        ws();
        if (text[i] === close) {
          i++;
          depth--;
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
      if (kind === "str" && hasLoneSurrogate(v)) throw inputError("not valid Unicode (a lone surrogate)", key);
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

  // ---- the round statement: zkpor.liabilities.statement --------------------------------------------


  /** RFC 3339 in UTC with "Z", a real date, microseconds only when non-zero (canonical_snapshot_time). */
  function canonicalSnapshotTime(text) {
    const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{6})?Z$/.exec(text);
    if (!m) return false;
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    return year >= 1 && days !== undefined && day >= 1 && day <= days && hour <= 23 && minute <= 59 &&
      second <= 59 && m[7] !== ".000000";
  }

  /** [field, reason] of the first rule the statement breaks, in Statement.problems()'s order, or null. */
  function statementProblem(st) {
    const texts = [["round_id", st.round_id], ["snapshot_time", st.snapshot_time]];
    st.assets.forEach((a, i) => texts.push([`assets[${i}].symbol`, a.symbol], [`assets[${i}].price`, a.price]));
    const broken = texts.find(([, text]) => hasLoneSurrogate(text));
    if (broken) return [broken[0], "must be valid Unicode text"];
    const between = (v, low, high) => BigInt(low) <= v && v <= BigInt(high);
    const roundIdBytes = utf8(st.round_id).length;
    if (roundIdBytes < 1 || roundIdBytes > 64) return ["round_id", "must be 1–64 bytes"];
    if (!canonicalSnapshotTime(st.snapshot_time)) {
      return ["snapshot_time", "must be RFC 3339 in UTC with 'Z', like 2024-06-30T16:00:00Z"];
    }
    if (!between(st.price_decimals, 0, 18)) return ["price_decimals", "must be 0..18"];
    if (st.limb_bits !== 8n && st.limb_bits !== 16n) return ["limb_bits", "must be 8 or 16"];
    if (!between(st.batch_size, 2, 1 << 24) || st.batch_size & (st.batch_size - 1n)) {
      return ["batch_size", "must be a power of two, 2 … 2^24"];
    }
    if (!between(st.batch_count, 1, 2 ** 32 - 1)) return ["batch_count", "must be at least 1"];
    if (st.assets.length < 1 || st.assets.length > 256) return ["assets", "must list 1–256 assets"];
    for (const [i, a] of st.assets.entries()) {
      const symbolBytes = utf8(a.symbol).length;
      if (symbolBytes < 1 || symbolBytes > 16) return [`assets[${i}].symbol`, "must be 1–16 bytes"];
      if (!between(a.decimals, 0, 18)) return [`assets[${i}].decimals`, "must be 0..18"];
      if (!between(a.bits, 1, 63)) return [`assets[${i}].bits`, "must be 1..63"];
      const price = parseUnits(a.price, Number(st.price_decimals));
      if (price.error) return [`assets[${i}].price`, price.error];
      if (price.units <= 0n || formatUnits(price.units, Number(st.price_decimals)) !== a.price) {
        return [`assets[${i}].price`, `'${a.price}' is not a positive price in its shortest form`];
      }
    }
    const w = weights(statementOf(st));
    const over = w.findIndex((weight) => weight >= 1n << 64n);
    if (over >= 0) return [`assets[${over}].price`, "gives a price weight of 2^64 or more: too large to encode"];
    return null;
  }

  /** The statement of a file (parse_statement, compact form); integers are Numbers once checked. */
  function parseStatement(r) {
    const rawAssets = r.get("assets", "list");
    if (rawAssets.length < 1 || rawAssets.length > 256) throw inputError("must list 1–256 assets", "assets");
    const assets = rawAssets.map((raw, i) => {
      const [symbol, decimals, bits, price] = Array.isArray(raw) ? raw : [];
      if (!Array.isArray(raw) || raw.length !== 4 || typeof symbol !== "string" || typeof decimals !== "bigint" ||
          typeof bits !== "bigint" || typeof price !== "string") {
        throw inputError("must be [symbol, decimals, bits, price]", `assets[${i}]`);
      }
      return { symbol, decimals, bits, price };
    });
    const values = STATEMENT_FIELDS.map((name) => r.get(name, name === "round_id" || name === "snapshot_time" ? "str" : "int"));
    const [round_id, snapshot_time, price_decimals, limb_bits, batch_size, batch_count] = values;
    const raw = { round_id, snapshot_time, price_decimals, limb_bits, batch_size, batch_count, assets };
    const problem = statementProblem(raw);
    if (problem) throw inputError(problem[1], problem[0]);
    return statementOf(raw);
  }

  /** A checked statement with Number fields, from BigInts (a file) or Numbers (the page's round). */
  function statementOf(st) {
    const num = Number;
    return {
      round_id: st.round_id,
      snapshot_time: st.snapshot_time,
      price_decimals: num(st.price_decimals),
      limb_bits: num(st.limb_bits),
      batch_size: num(st.batch_size),
      batch_count: num(st.batch_count),
      assets: st.assets.map((a) => ({ symbol: a.symbol, decimals: num(a.decimals), bits: num(a.bits), price: a.price })),
    };
  }

  /** The page's round statement, written by verify_page.py in the file's compact form. */
  const roundStatement = (s) => statementOf({ ...s, assets: s.assets.map(([symbol, decimals, bits, price]) => ({ symbol, decimals, bits, price })) });

  /** Price units at price_decimals, and weights w_j = units_j · 10^(D − decimals_j). */
  function priceUnits(st) {
    return st.assets.map((a) => parseUnits(a.price, st.price_decimals).units);
  }

  function weights(st) {
    const top = Math.max(...st.assets.map((a) => a.decimals));
    return priceUnits(st).map((units, j) => units * 10n ** BigInt(top - st.assets[j].decimals));
  }

  /** Statement.encode: the canonical bytes the digest is taken over. */
  function encodeStatement(st) {
    const bytes = [];
    const int = (value, size, field) => {
      let v = BigInt(value);
      if (v >> BigInt(8 * size)) throw inputError(`does not fit the statement's ${8 * size}-bit field`, field);
      for (let i = 0; i < size; i++, v >>= 8n) bytes.push(Number(v & 0xffn));
    };
    const text = (value, field) => {
      const data = utf8(value);
      int(data.length, 2, field);
      bytes.push(...data);
    };
    int(1, 1);
    text(st.round_id, "round_id");
    text(st.snapshot_time, "snapshot_time");
    int(st.price_decimals, 1);
    int(st.limb_bits, 1);
    int(st.batch_size, 4);
    int(st.batch_count, 4);
    int(st.assets.length, 2);
    const w = weights(st);
    st.assets.forEach((a, j) => {
      text(a.symbol, `assets[${j}].symbol`);
      int(a.decimals, 1);
      int(a.bits, 1);
      text(a.price, `assets[${j}].price`);
      int(w[j], 8, `assets[${j}].price`);
    });
    return Uint8Array.from(bytes);
  }

  function statementDigest(st) {
    return H.spongeHash(STATEMENT_DOMAIN, bytesToElements(encodeStatement(st)));
  }

  /** Every field, flattened and named as Statement.fields() names them (assets by symbol). */
  function statementFields(st) {
    const out = STATEMENT_FIELDS.map((name) => [name, String(st[name])]);
    out.push(["assets (symbols, in order)", JSON.stringify(st.assets.map((a) => a.symbol))]);
    const w = weights(st);
    st.assets.forEach((a, j) => {
      const where = `assets[${a.symbol}]`;
      out.push([`${where}.decimals`, String(a.decimals)], [`${where}.bits`, String(a.bits)]);
      out.push([`${where}.price`, a.price], [`${where}.weight`, String(w[j])]);
    });
    return out;
  }

  function firstDifference(mine, theirs) {
    const [a, b] = [statementFields(mine), statementFields(theirs)];
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i][1] !== b[i][1]) return [a[i][0], a[i][1], b[i][1]];
    }
    return null;
  }

  // ---- the file ----------------------------------------------------------------------------------

  function amounts(r, name, st) {
    const values = r.get(name, "list");
    if (values.length !== st.assets.length) throw inputError(`must hold one amount per asset (${st.assets.length})`, name);
    return values.map((text, i) => {
      const { symbol, decimals, bits } = st.assets[i];
      if (typeof text !== "string") throw inputError("must be a decimal string", `${name}.${symbol}`);
      const parsed = parseUnits(text, decimals);
      if (parsed.error) throw inputError(parsed.error, `${name}.${symbol}`);
      if (parsed.units >> BigInt(bits)) throw inputError(`amount is over 2^${bits} base units`, `${name}.${symbol}`);
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
    if (OLD_FORMATS.includes(doc.get("format"))) {
      const error = inputError(
        `this is a ${doc.get("format").slice(6)} inclusion proof from an older zkpor (0.1), which does not bind ` +
          `the round, asset labels or decimals to the root; ask the exchange for a new one (${INCLUSION_FORMAT})`,
        "format",
      );
      error.reason = "old-format";
      throw error;
    }
    const r = new Fields(doc, FIELDS);
    if (r.get("format", "str") !== INCLUSION_FORMAT) throw inputError(`not a ${INCLUSION_FORMAT} file`, "format");
    const statement = parseStatement(r);
    const uid = r.get("uid", "str");
    const uidBytes = utf8(uid);
    if (uidBytes.length < 1 || uidBytes.length > MAX_UID_BYTES) throw inputError(`must be 1–${MAX_UID_BYTES} bytes`, "uid");
    const nonce = r.get("nonce", "str");
    if (!/^[0-9a-f]{64}$/.test(nonce)) throw inputError("must be 64 lower-case hex digits", "nonce");
    const positions = ["batch", "position"].map((name) => {
      const v = r.get(name, "int");
      if (v >> BigInt(MAX_DEPTH)) throw inputError("out of range", name);
      return Number(v);
    });
    return {
      statement,
      uid,
      uidBytes,
      nonce: Uint8Array.from(nonce.match(/../g), (h) => parseInt(h, 16)),
      equity: amounts(r, "equity", statement),
      debt: amounts(r, "debt", statement),
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

  /** The leaf: the sponge from a capacity bound to the statement digest absorbs id_hash ‖ e_1 ‖ d_1 ‖ …. */
  function leafHash(statementDigestValue, identity, equity, debt) {
    const values = [...identity];
    equity.forEach((e, j) => values.push(e, debt[j]));
    for (let j = equity.length; j < paddedAssetCount(equity.length); j++) values.push(0n, 0n);
    const capacity = H.spongeHash(LEAF_DOMAIN, [...statementDigestValue, BigInt(values.length)]);
    return H.spongeFromCapacity(capacity, values);
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

  function topTreeLeaves(batchCount) {
    let leaves = 1;
    while (leaves < batchCount) leaves *= 2;
    return leaves;
  }

  /** Compare with the round the page was written for (its global.json, see verify_page.py). */
  function compareWithRound(proof, round) {
    const fail = (reason, what) => verificationError(reason, `inclusion proof does not match global.json: ${what}`);
    const difference = firstDifference(proof.statement, roundStatement(round.statement));
    if (difference) {
      const [name, mine, published] = difference;
      throw fail("other-round", `${name} is '${mine}' here, '${published}' in global.json`);
    }
    if (round.batch_roots[proof.batch] !== H.digestHex(proof.batchRoot)) {
      throw fail("other-root", `batch ${proof.batch}'s root differs`);
    }
    if (round.root !== H.digestHex(proof.root)) throw fail("other-root", "the global root differs");
  }

  function verify(proof, round, uid) {
    if (uid !== undefined && uid !== null && proof.uid !== uid) {
      throw verificationError("other-customer", `inclusion proof is for uid '${proof.uid}', not '${uid}'`);
    }
    const st = proof.statement;
    if (2 ** proof.leafPath.length !== st.batch_size || 2 ** proof.topPath.length !== topTreeLeaves(st.batch_count)) {
      throw verificationError("tampered", "inclusion proof: the path lengths do not fit the round's batch size and batch count");
    }
    if (proof.position >= st.batch_size || proof.batch >= st.batch_count) {
      throw verificationError("tampered", "inclusion proof: position or batch index is past the end of its tree");
    }
    const identity = idHash(proof.uidBytes, proof.nonce);
    const leaf = leafHash(statementDigest(st), identity, proof.equity, proof.debt);
    if (!sameDigest(climb(leaf, proof.position, proof.leafPath), proof.batchRoot)) {
      throw verificationError(
        "tampered",
        "inclusion proof: the leaf (round statement, uid, nonce and balances) does not hash up the leaf path " +
          "to the batch root: a statement field (round, snapshot, assets, decimals, prices), a balance, the " +
          "nonce, the position or a sibling was changed",
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

  /** Parse and verify; never throws for a bad file. `round` (the page's) and `uid` may be null. */
  function check(bytes, round, uid = null) {
    let proof = null;
    try {
      proof = parseProof(bytes);
      const { idHash: identity, leaf } = verify(proof, round, uid);
      return { ok: true, proof, idHash: identity, leaf };
    } catch (error) {
      if (!(error instanceof InclusionError)) throw error;
      return { ok: false, proof, kind: error.kind, reason: error.reason, field: error.field, message: error.message };
    }
  }

  /** Net value in USD at the round's prices, as [units, decimals] (exact). */
  function netValue(proof) {
    const st = proof.statement;
    const top = Math.max(...st.assets.map((a) => a.decimals));
    const units = weights(st).reduce((sum, w, j) => sum + w * (proof.equity[j] - proof.debt[j]), 0n);
    return [units, top + st.price_decimals];
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
    encodeStatement,
    statementDigest,
    roundStatement,
    priceUnits,
    netValue,
    formatUnits,
    formatUnitsGrouped,
  };
})(globalThis);
