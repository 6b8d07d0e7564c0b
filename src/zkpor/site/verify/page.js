/* The customer page: read the dropped or picked file, check it (zkporInclusion) against the round
 * written into this page, and show what was found. Nothing leaves the browser: no fetch, no form,
 * and the page's Content-Security-Policy forbids any connection. Everything the file says is shown
 * through textContent, never parsed as HTML.
 */
"use strict";
(function () {
  const MAX_READ = (64 << 10) + 1; // one byte past the limit, so an oversized file is refused, not cut
  const round = JSON.parse(document.getElementById("round-data").textContent);
  const roundId = round.statement.round_id;
  const $ = (id) => document.getElementById(id);
  const result = $("result");
  const uidInput = $("uid");
  let loaded = null; // {name, bytes}
  // A uid never starts or ends with a space (the users file's rule), so a pasted one is trimmed.
  const typedUid = () => uidInput.value.trim() || null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  /** The result's heading box: ✓ or ✗ (for the eye; the heading says it in words), title, paragraphs. */
  function verdict(ok, reason, title, ...paragraphs) {
    const attrs = { class: `verdict ${ok ? "ok" : "bad"}`, "data-verdict": ok ? "verified" : "failed" };
    if (reason) attrs["data-reason"] = reason;
    return el(
      "div",
      attrs,
      el("span", { class: "icon", "aria-hidden": "true" }, ok ? "✓" : "✗"),
      el("div", {}, el("h2", {}, title), paragraphs),
    );
  }

  const FAILURES = {
    input: () => [
      "This is not a valid inclusion proof file",
      "The file could not be read as a zkpor inclusion proof. Make sure you opened the file your " +
        "exchange gave you, unchanged.",
    ],
    tampered: () => [
      "Not verified: the file was changed",
      "The balances, user ID or hashes in this file do not lead to the root the file names. It was " +
        "altered or damaged after the exchange made it: do not rely on it, and ask your exchange for a " +
        "fresh copy.",
    ],
    "old-format": () => [
      "This file is from an older version",
      "It was made by an older zkpor whose files do not prove the round, asset names and decimals they " +
        "show. Ask your exchange for a new inclusion proof for this round.",
    ],
    "other-round": (r) => [
      "This proof is from another round",
      r.proof.statement.round_id !== roundId
        ? `The file is for round ${r.proof.statement.round_id}; this page checks round ${roundId}. Open ` +
          `the page published with round ${r.proof.statement.round_id}.`
        : `The file names round ${roundId}, but its details (assets, decimals, prices, snapshot or size) ` +
          "differ from what was published for it.",
    ],
    "other-root": () => [
      "Not under this round's published root",
      `The file is consistent in itself, but its root is not the one published for round ` +
        `${roundId}. Your balances cannot be confirmed from this file: contact your exchange.`,
    ],
    "other-customer": (r) => [
      "This proof is for another account",
      `The file is for user ID “${r.proof.uid}”, not the ID you typed (“${typedUid()}”). ` +
        "Check the ID, or open your own file.",
    ],
  };

  function showFailure(r) {
    const [title, explanation] = FAILURES[r.reason](r);
    const detail = el("p", { class: "technical" }, `Technical detail: ${r.message}`);
    result.replaceChildren(verdict(false, r.reason, title, el("p", {}, explanation), detail));
  }

  /** Exact units of 10^-decimals USD, shown with cents (cut towards zero: display only). */
  function usd(units, decimals) {
    const negative = units < 0n;
    const abs = negative ? -units : units;
    const cents = decimals >= 2 ? abs / 10n ** BigInt(decimals - 2) : abs * 10n ** BigInt(2 - decimals);
    const text = globalThis.zkporInclusion.formatUnitsGrouped(cents, 2);
    const [whole, fraction = ""] = text.split(".");
    return `${negative && cents ? "−" : ""}${whole}.${fraction.padEnd(2, "0")}`;
  }

  /** Per asset: the balance, any debt, and their net value in USD below it (two columns: phones). */
  function balancesTable(proof) {
    const Z = globalThis.zkporInclusion;
    const st = proof.statement;
    const prices = Z.priceUnits(st);
    const withDebt = proof.debt.some((d) => d !== 0n);
    const rows = [];
    const zero = [];
    st.assets.forEach(({ symbol, decimals }, j) => {
      const equity = proof.equity[j];
      const debt = proof.debt[j];
      if (equity === 0n && debt === 0n) {
        zero.push(symbol);
        return;
      }
      const price = `${Z.formatUnitsGrouped(prices[j], st.price_decimals)} USD`;
      const value = usd((equity - debt) * prices[j], decimals + st.price_decimals);
      rows.push(
        el(
          "tr",
          { "data-asset": symbol },
          el("td", { class: "asset" }, symbol, el("span", { class: "price" }, price)),
          el(
            "td",
            { class: "num" },
            el("span", { class: "amount" }, Z.formatUnitsGrouped(equity, decimals)),
            debt ? el("span", { class: "debt" }, `debt ${Z.formatUnitsGrouped(debt, decimals)}`) : null,
            el("span", { class: "value" }, `${value} USD${debt ? " net" : ""}`),
          ),
        ),
      );
    });
    const [netUnits, netDecimals] = Z.netValue(proof);
    const table = el(
      "table",
      { id: "balances" },
      el("caption", {}, "Your balances as committed, in whole coins, with their value at the round's prices"),
      el(
        "thead",
        {},
        el("tr", {}, el("th", { scope: "col" }, "Asset · price"), el("th", { scope: "col", class: "num" }, "Balance · value")),
      ),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: "2" }, "All your balances are zero."))),
      el(
        "tfoot",
        {},
        el("tr", {}, el("th", { scope: "row" }, "Net value"),
          el("td", { class: "num", id: "net-value" }, `${usd(netUnits, netDecimals)} USD`)),
      ),
    );
    const notes = [];
    if (zero.length) notes.push(`Zero in the other ${zero.length} asset${zero.length > 1 ? "s" : ""}: ${zero.join(", ")}.`);
    if (!withDebt) notes.push("No debt.");
    return [el("div", { class: "table-scroll" }, table), el("p", { class: "zero-assets" }, notes.join(" "))];
  }

  function showSuccess(r, ms) {
    const H = globalThis.zkporPoseidon2;
    const proof = r.proof;
    const st = proof.statement;
    const typed = typedUid() !== null;
    result.replaceChildren(
      verdict(
        true,
        null,
        "Your balances are included",
        el("p", {}, `Round ${roundId} · user ID ${proof.uid}` + (typed ? " (the ID you typed)" : "")),
        el("p", {}, `Checked in this browser in ${ms < 1 ? "<1" : Math.round(ms)} ms.`),
      ),
      el(
        "div",
        { class: "card" },
        balancesTable(proof),
        el(
          "dl",
          { class: "facts" },
          el("dt", {}, "Included under root"),
          el("dd", { class: "digest", id: "included-root" }, H.digestHex(proof.root)),
          el("dt", {}, `Is it round ${roundId}'s published root?`),
          el("dd", { class: "match", id: "root-match" }, "✓ Yes: the same root as published for this round."),
          el("dt", {}, "Where your entry sits"),
          el("dd", {}, `Entry ${proof.position + 1} of ${st.batch_size} in batch ${proof.batch + 1} of ` +
            `${st.batch_count}; ${proof.leafPath.length + proof.topPath.length} hashes lead from it to the root.`),
          typed ? null : el("dd", { class: "help" }, "Tip: type your user ID above to check the file is about your own account."),
        ),
      ),
    );
  }

  function run() {
    if (!loaded) return;
    const started = performance.now();
    const r = globalThis.zkporInclusion.check(loaded.bytes, round, typedUid());
    const ms = performance.now() - started;
    if (r.ok) showSuccess(r, ms);
    else showFailure(r);
  }

  async function open(file) {
    if (!file) return;
    $("file-name").textContent = `Opened: ${file.name}`;
    let bytes;
    try {
      bytes = new Uint8Array(await file.slice(0, MAX_READ).arrayBuffer());
    } catch (error) {
      loaded = null;
      showFailure({ reason: "input", message: `the browser could not read ${file.name} (${error.name})` });
      return;
    }
    loaded = { name: file.name, bytes };
    run();
  }

  $("file").addEventListener("change", (event) => open(event.target.files[0]));
  uidInput.addEventListener("input", run);
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    open(event.dataTransfer.files[0]);
  });
  // A file dropped anywhere else would make the browser navigate away to it.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    if (!drop.contains(event.target)) open(event.dataTransfer.files[0]);
  });
})();
