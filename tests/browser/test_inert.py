"""Inert mode in a real browser: blocked tags stay in the page, disabled, and come to life in place
after Accept, in document order, without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware, parse_policy

from ..conftest import KEY, POLICY_YAML
from .conftest import VIEWPORT, Traffic, install_network_guard, serve_app

pytestmark = pytest.mark.browser

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Inert</title>
<script>window.order = [];</script>
<script src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}
order.push("inline after gtag.js: " + (window.__ckGtagRan === true));</script>
</head><body><h1>Inert mode</h1>
<iframe id="video" width="560" height="315" src="https://www.youtube.com/embed/abc"></iframe>
<img id="pixel" src="https://www.facebook.com/tr?id=1" alt="">
<div data-consent="marketing"><span id="promo">Partner offer</span><script>order.push("marketing block");</script></div>
</body></html>"""


@pytest.fixture
def inert_server(tmp_path: Path) -> Iterator[str]:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    app = Starlette(routes=[Route("/", page)])
    policy = parse_policy(POLICY_YAML + "blocking:\n  mode: inert\n")
    wrapped = ConsentMiddleware(app, policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl")
    url, stop = serve_app(wrapped)
    try:
        yield url
    finally:
        stop()


def open_page(browser: Browser, url: str) -> tuple[Page, Traffic]:
    context = browser.new_context(viewport=VIEWPORT)
    traffic = Traffic()
    install_network_guard(context, traffic)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, traffic


def test_accept_brings_the_tags_to_life_in_place_and_in_order(browser: Browser, inert_server: str) -> None:
    page, traffic = open_page(browser, inert_server + "/")
    assert traffic.trackers() == [] and traffic.external == []  # disabled tags fetch nothing
    assert page.evaluate("window.order") == []
    page.evaluate("window.__notReloaded = true")
    page.locator("#consentkit-banner").get_by_role("button", name="Accept", exact=True).click()
    page.wait_for_function("window.order.length === 2")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__notReloaded") is True  # the same document: no reload
    assert page.evaluate("window.order") == ["inline after gtag.js: true", "marketing block"]
    assert page.locator("#consentkit-banner").count() == 0
    assert page.get_by_role("status").inner_text() == "Your choices have been saved."
    hosts = {request.host for request in traffic.external}
    assert {"www.googletagmanager.com", "www.youtube.com", "www.facebook.com"} <= hosts
    assert page.locator("#video").get_attribute("src") == "https://www.youtube.com/embed/abc"
    assert page.locator("#promo").is_visible()
    assert page.locator("[data-consentkit-placeholder]").count() == 0
    updates = page.evaluate(
        "window.dataLayer.filter(a => a[0] === 'consent').map(a => [a[1], a[2].ad_storage])"
    )
    assert updates == [["default", "denied"], ["update", "granted"]]
    page.context.close()


def test_decline_keeps_everything_disabled_without_a_reload(browser: Browser, inert_server: str) -> None:
    page, traffic = open_page(browser, inert_server + "/")
    page.evaluate("window.__notReloaded = true")
    page.locator("#consentkit-banner").get_by_role("button", name="Decline", exact=True).click()
    page.wait_for_selector("#consentkit-banner", state="detached")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__notReloaded") is True
    assert traffic.external == []
    assert page.evaluate("window.order") == []
    assert {c["name"] for c in page.context.cookies()} == {"consentkit"}
    page.context.close()


def test_the_embed_button_activates_only_its_category(browser: Browser, inert_server: str) -> None:
    page, traffic = open_page(browser, inert_server + "/")
    page.locator("[data-consentkit-placeholder]").get_by_role("button").click()
    page.wait_for_function("window.order.length === 1")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.order") == ["marketing block"]
    assert {request.host for request in traffic.external} == {"www.youtube.com", "www.facebook.com"}
    assert page.locator("#consentkit-banner").count() == 1  # analytics is still to be asked
    page.context.close()
