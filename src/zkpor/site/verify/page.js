/* The customer page: read the dropped or picked file, check it (zkporInclusion) against the round
 * written into this page, and show what was found. Nothing leaves the browser: no fetch, no form,
 * and the page's Content-Security-Policy forbids any connection. Everything the file says is shown
 * through textContent, never parsed as HTML.
 */
"use strict";
(function () {
  const MAX_READ = (64 << 10) + 1; // one byte past the limit, so an oversized file is refused, not cut
  const round = JSON.parse(document.getElementById("round-data").textContent);
  const $ = (id) => document.getElementById(id);
  const result = $("result");
  const uidInput = $("uid");
  let loaded = null; // {name, bytes}

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function verdict(ok, title, ...lines) {
    return el(
      "div",
      { class: `verdict ${ok ? "ok" : "bad"}`, "data-verdict": ok ? "verified" : "failed" },
      el("span", { class: "icon", "aria-hidden": "true" }, ok ? "✓" : "✗"),
      el("div", {}, el("h2", {}, title), lines.map((line) => el("p", {}, line))),
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
    "other-round": (r) => [
      "This proof is from another round",
      r.proof && r.proof.roundId !== round.round_id
        ? `The file is for round ${r.proof.roundId}; this page checks round ${round.round_id}. Open the ` +
          `page published with round ${r.proof.roundId}.`
        : `The file does not fit round ${round.round_id} as published (its assets or tree size differ).`,
    ],
    "other-root": () => [
      "Not under this round's published root",
      `The file is consistent in itself, but its root is not the one published for round ` +
        `${round.round_id}. Your balances cannot be confirmed from this file: contact your exchange.`,
    ],
    "other-customer": (r) => [
      "This proof is for another account",
      `The file is for user ID “${r.proof.uid}”, not the ID you typed (“${uidInput.value}”). ` +
        "Check the ID, or open your own file.",
    ],
  };

  function showFailure(r) {
    const [title, explanation] = FAILURES[r.reason](r);
    result.replaceChildren(
      el(
        "div",
        { class: "verdict bad", "data-verdict": "failed", "data-reason": r.reason },
        el("span", { class: "icon", "aria-hidden": "true" }, "✗"),
        el(
          "div",
          {},
          el("h2", {}, title),
          el("p", {}, explanation),
          r.message ? el("p", { class: "technical" }, `Technical detail: ${r.message}`) : null,
        ),
      ),
    );
  }

  function balancesTable(proof) {
    const Z = globalThis.zkporInclusion;
    const rows = [];
    const zero = [];
    proof.assets.forEach(([symbol, decimals], j) => {
      const equity = proof.equity[j];
      const debt = proof.debt[j];
      if (equity === 0n && debt === 0n) {
        zero.push(symbol);
        return;
      }
      rows.push(
        el(
          "tr",
          { "data-asset": symbol },
          el("td", { class: "asset" }, symbol),
          el("td", { class: "num" }, Z.formatUnitsGrouped(equity, decimals)),
          el("td", { class: "num" }, debt ? Z.formatUnitsGrouped(debt, decimals) : "—"),
        ),
      );
    });
    const table = el(
      "table",
      { id: "balances" },
      el("caption", {}, "Your balances as committed (whole coins)"),
      el(
        "thead",
        {},
        el("tr", {}, el("th", { scope: "col" }, "Asset"), el("th", { scope: "col", class: "num" }, "Balance"),
          el("th", { scope: "col", class: "num" }, "Debt")),
      ),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: "3" }, "All your balances are zero."))),
    );
    const zeroNote = zero.length
      ? el("p", { class: "zero-assets" }, `Zero in the other ${zero.length} asset${zero.length > 1 ? "s" : ""}: ${zero.join(", ")}.`)
      : null;
    return [el("div", { class: "table-scroll" }, table), zeroNote];
  }

  function showSuccess(r, ms) {
    const H = globalThis.zkporPoseidon2;
    const proof = r.proof;
    const rootHex = H.digestHex(proof.root);
    const typed = uidInput.value !== "";
    result.replaceChildren(
      verdict(
        true,
        "Your balances are included",
        `Round ${round.round_id} · user ID ${proof.uid}` + (typed ? " (the ID you typed)" : ""),
        `Checked in this browser in ${ms < 1 ? "<1" : Math.round(ms)} ms.`,
      ),
      el(
        "div",
        { class: "card" },
        balancesTable(proof),
        el(
          "dl",
          { class: "facts" },
          el("dt", {}, "Included under root"),
          el("dd", { class: "digest", id: "included-root" }, rootHex),
          el("dt", {}, `Is it round ${round.round_id}'s published root?`),
          el("dd", { class: "match", id: "root-match" }, "✓ Yes: the same root as published for this round."),
          el("dt", {}, "Where your entry sits"),
          el("dd", {}, `Entry ${proof.position + 1} of ${round.batch_size} in batch ${proof.batch + 1} of ` +
            `${round.batch_count}; ${proof.leafPath.length + proof.topPath.length} hashes lead from it to the root.`),
          typed ? null : el("dd", { class: "help" }, "Tip: type your user ID above to check the file is about your own account."),
        ),
      ),
    );
  }

  function run() {
    if (!loaded) return;
    const started = performance.now();
    const r = globalThis.zkporInclusion.check(loaded.bytes, round);
    const ms = performance.now() - started;
    if (!r.ok) return showFailure(r);
    if (uidInput.value !== "" && uidInput.value !== r.proof.uid) {
      return showFailure({ proof: r.proof, reason: "other-customer", message: null });
    }
    showSuccess(r, ms);
  }

  async function open(file) {
    if (!file) return;
    $("file-name").textContent = `Opened: ${file.name}`;
    const bytes = new Uint8Array(await file.slice(0, MAX_READ).arrayBuffer());
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
