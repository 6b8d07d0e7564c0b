/* Poseidon2 over Goldilocks, the sponge and the 2-to-1 compression: the JavaScript twin of
 * zkpor.hash.poseidon2 (read that module's docstring for the construction). Field elements are
 * BigInts in [0, p); a customer's check needs a few dozen permutations, so clarity beats speed.
 *
 * The round constants are not written here: zkpor.site.verify_page inlines them from
 * zkpor.hash.poseidon2_constants (one source of truth) as ZKPOR_POSEIDON2_CONSTANTS before this script.
 */
"use strict";
(function (root) {
  const C = root.ZKPOR_POSEIDON2_CONSTANTS;
  if (!C) throw new Error("Poseidon2 constants are missing");
  const big = (values) => values.map((v) => BigInt(v));
  const P = BigInt(C.P);
  const RATE = 8;
  const SPONGE_WIDTH = 12;
  const DIGEST_LEN = 4;
  const DOMAIN_CHUNK = 7; // bytes per element when encoding a domain: 7 bytes < 2^56 < p

  const PARAMS = {};
  for (const width of [8, 12]) {
    const w = C[width];
    PARAMS[width] = {
      initial: w.external_initial.map(big),
      internal: big(w.internal),
      final: w.external_final.map(big),
      diag: big(w.diag),
    };
  }

  function sbox(x) {
    const x2 = (x * x) % P;
    const x3 = (x2 * x) % P;
    const x4 = (x2 * x2) % P;
    return (x3 * x4) % P;
  }

  // Plonky3's MDSMat4 on each block of four lanes, then add the sum over blocks of each position.
  function externalLayer(s) {
    const out = new Array(s.length);
    for (let b = 0; b < s.length; b += 4) {
      const [x0, x1, x2, x3] = [s[b], s[b + 1], s[b + 2], s[b + 3]];
      out[b] = 2n * x0 + 3n * x1 + x2 + x3;
      out[b + 1] = x0 + 2n * x1 + 3n * x2 + x3;
      out[b + 2] = x0 + x1 + 2n * x2 + 3n * x3;
      out[b + 3] = 3n * x0 + x1 + x2 + 2n * x3;
    }
    const sums = [0n, 0n, 0n, 0n];
    out.forEach((v, i) => (sums[i % 4] += v));
    return out.map((v, i) => (v + sums[i % 4]) % P);
  }

  function internalLayer(s, diag) {
    const total = s.reduce((a, b) => a + b, 0n);
    return s.map((v, i) => (diag[i] * v + total) % P);
  }

  function checkElements(values, what) {
    return values.map((v) => {
      if (typeof v !== "bigint" || v < 0n || v >= P) {
        throw new RangeError(`${what}: ${v} is not a canonical Goldilocks element`);
      }
      return v;
    });
  }

  function permuteUnchecked(state) {
    const { initial, internal, final, diag } = PARAMS[state.length];
    let s = externalLayer(state);
    for (const rc of initial) s = externalLayer(s.map((v, i) => sbox((v + rc[i]) % P)));
    for (const c of internal) {
      s[0] = sbox((s[0] + c) % P);
      s = internalLayer(s, diag);
    }
    for (const rc of final) s = externalLayer(s.map((v, i) => sbox((v + rc[i]) % P)));
    return s;
  }

  /** The Poseidon2 permutation; the width (8 or 12) is the state's length. Returns a new array. */
  function permute(state) {
    if (!PARAMS[state.length]) throw new RangeError(`Poseidon2 state must have 8 or 12 elements, not ${state.length}`);
    return permuteUnchecked(checkElements(state, "Poseidon2 state"));
  }

  /** Little-endian chunks of `size` bytes as BigInts. */
  function chunksLE(bytes, size) {
    const out = [];
    for (let i = 0; i < bytes.length; i += size) {
      let v = 0n;
      const end = Math.min(i + size, bytes.length);
      for (let j = end - 1; j >= i; j--) v = (v << 8n) | BigInt(bytes[j]);
      out.push(v);
    }
    return out;
  }

  // Overwrite-mode absorption: blocks of 8 into lanes 0..7, the last one zero-filled; one block if empty.
  function absorb(state, elements) {
    let s = state.slice();
    for (let start = 0; start < Math.max(elements.length, 1); start += RATE) {
      const block = elements.slice(start, start + RATE);
      for (let i = 0; i < RATE; i++) s[i] = i < block.length ? block[i] : 0n;
      s = permuteUnchecked(s);
    }
    return s;
  }

  const tagCache = new Map();

  /** The three capacity elements separating `domain` (a string, taken as UTF-8) from other domains. */
  function domainTag(domain) {
    const bytes = new TextEncoder().encode(domain);
    if (bytes.length < 1 || bytes.length > 255) throw new RangeError("domain must be 1..255 bytes long");
    let tag = tagCache.get(domain);
    if (!tag) {
      const encoded = [BigInt(bytes.length), ...chunksLE(bytes, DOMAIN_CHUNK)];
      const out = absorb(new Array(SPONGE_WIDTH).fill(0n), encoded);
      tag = [out[0], out[1], out[2]];
      tagCache.set(domain, tag);
    }
    return tag;
  }

  /** Hash field elements to `outLen` elements: width 12, rate 8, capacity = domain tag ‖ length. */
  function spongeHash(domain, elements, outLen = DIGEST_LEN) {
    const values = checkElements(elements, "sponge input");
    const initial = [...new Array(RATE).fill(0n), ...domainTag(domain), BigInt(values.length)];
    let state = absorb(initial, values);
    const out = state.slice(0, RATE);
    while (out.length < outLen) {
      state = permuteUnchecked(state);
      out.push(...state.slice(0, RATE));
    }
    return out.slice(0, outLen);
  }

  /** The overwrite sponge started from [0]*8 ‖ capacity (4 elements): lanes 0..3 after absorbing. */
  function spongeFromCapacity(capacity, elements) {
    if (capacity.length !== 4) throw new RangeError("a capacity has 4 elements");
    const state = [...new Array(RATE).fill(0n), ...checkElements(capacity, "capacity")];
    return absorb(state, checkElements(elements, "sponge input")).slice(0, DIGEST_LEN);
  }

  /** 2-to-1 compression of two 4-element digests: permute8(left ‖ right)[0..4]. */
  function compress(left, right) {
    if (left.length !== DIGEST_LEN || right.length !== DIGEST_LEN) throw new RangeError("compress takes two 4-element digests");
    return permuteUnchecked(checkElements([...left, ...right], "compress input")).slice(0, DIGEST_LEN);
  }

  /** 64 hex digits: the 4 elements, each as 8 little-endian bytes. */
  function digestHex(digest) {
    let text = "";
    for (const v of digest) {
      for (let i = 0n; i < 8n; i++) text += Number((v >> (8n * i)) & 0xffn).toString(16).padStart(2, "0");
    }
    return text;
  }

  /** The digest in 32 bytes, or null when an element is not canonical (>= p). */
  function digestFromBytes(bytes) {
    if (bytes.length !== 8 * DIGEST_LEN) return null;
    const out = chunksLE(bytes, 8);
    return out.every((v) => v < P) ? out : null;
  }

  /** The digest written as 64 lower-case hex digits, or null if the text is not one. */
  function parseDigestHex(text) {
    if (typeof text !== "string" || !/^[0-9a-f]{64}$/.test(text)) return null;
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
    return digestFromBytes(bytes);
  }

  root.zkporPoseidon2 = {
    P,
    RATE,
    DIGEST_LEN,
    permute,
    domainTag,
    spongeHash,
    spongeFromCapacity,
    compress,
    chunksLE,
    digestHex,
    digestFromBytes,
    parseDigestHex,
  };
})(globalThis);
