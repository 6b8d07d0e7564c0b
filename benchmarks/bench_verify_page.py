"""Benchmark of the customer page: checking one inclusion proof in the browser, and the page's size.

    .venv/bin/python benchmarks/bench_verify_page.py [--batch-log 13] [--top-log 7] [--repeats 20]

The proof is a real v2 inclusion proof for the 22 default assets at production depth (2^13 users per
batch, 2^7 batches: about 10^6 users), built with the pure-Python encoding (no STARK needed: the page
checks hashes only); its path siblings are random digests. Runs the page's JavaScript in headless
Chromium (Debian's, as the tests do) and prints the time of one check, first (domain tags computed)
and then the median of repeats, next to the pure-Python verifier's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from zkpor.liabilities import encoding
from zkpor.liabilities.inclusion import InclusionProof, verify_inclusion
from zkpor.liabilities.published import climb
from zkpor.liabilities.statement import Statement
from zkpor.round.config import default_round_config
from zkpor.site.verify_page import render_verify_page, verifier_script

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the tests' Chromium settings)

P = (1 << 64) - (1 << 32) + 1


def production_proof(batch_log: int, top_log: int, seed: int = 1) -> InclusionProof:
    rng = random.Random(seed)
    statement = Statement.from_config(default_round_config(), 16, 1 << batch_log, 1 << top_log)
    uid, nonce = "8405227119", rng.randbytes(32)
    equity = tuple(rng.randrange(1 << (a.bits - 1)) for a in statement.assets)
    debt = tuple(0 for _ in statement.assets)
    identity = encoding.id_hash(uid, nonce)
    leaf = encoding.leaf_hash(statement.digest(), identity, equity, debt)

    def path(depth: int) -> tuple:
        return tuple(tuple(rng.randrange(P) for _ in range(4)) for _ in range(depth))

    position, batch = rng.randrange(1 << batch_log), rng.randrange(1 << top_log)
    leaf_path, top_path = path(batch_log), path(top_log)
    batch_root = climb(leaf, position, leaf_path)
    root = climb(batch_root, batch, top_path)
    return InclusionProof(statement, uid, nonce, equity, debt, batch, position, leaf_path, batch_root,
                          top_path, root)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-log", type=int, default=13)
    parser.add_argument("--top-log", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    proof = production_proof(args.batch_log, args.top_log)
    data = proof.to_json()

    started = time.perf_counter()
    for _ in range(args.repeats):
        verify_inclusion(InclusionProof.from_json(data, "proof.json"), uid=proof.uid)
    python_ms = (time.perf_counter() - started) / args.repeats * 1000

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content("<!DOCTYPE html><title>bench</title>")
        page.add_script_tag(content=verifier_script())
        times = page.evaluate(
            """([bytes, uid, repeats]) => {
                const data = Uint8Array.from(bytes);
                const times = [];
                for (let i = 0; i <= repeats; i++) {
                    const t = performance.now();
                    const r = zkporInclusion.check(data, null, uid);
                    times.push(performance.now() - t);
                    if (!r.ok) throw new Error(r.message);
                }
                return times;
            }""",
            [list(data), proof.uid, args.repeats],
        )
        browser.close()
    hashes = args.batch_log + args.top_log
    print(f"inclusion proof: 22 assets, {hashes} path hashes (2^{args.batch_log} users per batch, "
          f"2^{args.top_log} batches), {len(data):,} bytes")  # fmt: skip
    print(f"  Chromium, first check (domain tags computed): {times[0]:8.1f} ms")
    print(f"  Chromium, median of {args.repeats}:                  {statistics.median(times[1:]):8.1f} ms")
    print(f"  pure Python verifier, mean of {args.repeats}:        {python_ms:8.1f} ms")
    print(
        f"verify.html for a round of 2^{args.top_log} batches: {len(render_verify_page_for(proof)):,} bytes"
    )


def render_verify_page_for(proof: InclusionProof) -> bytes:
    """The page as publish writes it, for a round shaped like `proof`'s (batch roots are random)."""
    from zkpor.liabilities.published import BatchEntry, GlobalProof

    rng = random.Random(2)
    n = proof.statement.batch_count
    zeros = tuple(0 for _ in proof.statement.assets)
    batches = tuple(
        BatchEntry(i, f"batches/{i:05d}.zkp", tuple(rng.randrange(P) for _ in range(4)), zeros, zeros)
        for i in range(n)
    )
    g = GlobalProof(proof.statement, {}, proof.statement.digest(), batches, n, proof.root)
    return render_verify_page(g)


if __name__ == "__main__":
    main()
