"""The customer page as `zkpor demo` / `zkpor publish` leave it: public/verify.html checks a customer's
exported proof in Chromium, refuses another round's, and `zkpor serve ROUND_DIR` serves it (and
nothing private) with the page making no request of its own."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from zkpor.site.serve import make_server, public_folder

from .conftest import ROUNDS

pytestmark = pytest.mark.browser


def _check(browser, url: str, proof: Path) -> tuple[str, str, list[str]]:
    """(verdict, reason, requests) after opening `proof` on the page at `url`."""
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto(url)
    page.set_input_files("#file", str(proof))
    verdict = page.locator("#result [data-verdict]")
    expect(verdict).to_have_count(1)
    result = verdict.get_attribute("data-verdict"), verdict.get_attribute("data-reason") or ""
    context.close()
    return *result, requests


def test_published_page_verifies_the_demo_customer(demos, browser):
    round_dir = demos.round_dir(ROUNDS[-1])
    page = demos.public() / "verify.html"
    proof = round_dir / "inclusion-demo-user.json"
    verdict, _, requests = _check(browser, page.as_uri(), proof)
    assert verdict == "verified"
    assert requests == [page.as_uri()]
    assert json.loads(proof.read_text())["root"] in page.read_text()  # the published root is embedded


def test_published_page_refuses_another_rounds_customer(demos, browser):
    page = demos.public(ROUNDS[-1]) / "verify.html"
    earlier = demos.round_dir(ROUNDS[0]) / "inclusion-demo-user.json"
    assert _check(browser, page.as_uri(), earlier)[:2] == ("failed", "other-round")


def test_zkpor_serve_serves_the_published_folder_only(demos, browser):
    round_dir = demos.round_dir(ROUNDS[-1])
    server = make_server(public_folder(round_dir), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        verdict, _, requests = _check(browser, f"{base}/verify.html", round_dir / "inclusion-demo-user.json")
        assert verdict == "verified" and requests == [f"{base}/verify.html"]
        page = browser.new_page()
        for private in ("exchange.secret", "users.csv", "private/inclusion.sqlite", "../exchange.secret"):
            assert page.goto(f"{base}/{private}").status == 404, private
        page.close()
    finally:
        server.shutdown()
        server.server_close()
