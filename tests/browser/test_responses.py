"""Responses read as Chromium reads them (#14 §1, §3, §4): what the browser would fetch from pages
that are sniffed, labelled oddly, encoded, compressed, XHTML, or announced in Link headers."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from consentkit import ConsentMiddleware, Policy, parse_policy

from ..conftest import KEY, POLICY_YAML
from .conftest import GTM_HOST, VIEWPORT, Traffic, install_network_guard, serve_app

pytestmark = pytest.mark.browser

GTM = f"https://{GTM_HOST}/gtag/js?id=G-1"
TRACKED = (
    "<!DOCTYPE html><html><head><title>Page</title>"
    f'<script async src="{GTM}"></script></head>'
    '<body><h1 id="title">Hello</h1><p>Content</p></body></html>'
)
XHTML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head>'
    f'<title>XHTML</title><script async="async" src="{GTM}"></script></head>'
    '<body><h1 id="title">Hello</h1><p>Content&#160;here</p></body></html>'
)
ISO2022_HIDDEN = (
    b"<!DOCTYPE html><html><head><title>t</title></head><body>"
    + "<p>日本語</p>".encode("iso2022_jp")
    + b"\x1b$B<!--\x1b(B"
    + b'<script src="'
    + GTM.encode()
    + b'"></script><h1 id="title">Hello</h1><p>--></p></body></html>'
)

# path -> (headers, body)
PAGES: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {
    "/sniffed": ([], TRACKED.encode()),
    "/sniffed-comment": ([], b"<!-- page -->" + TRACKED.encode()),
    "/two-types": ([(b"content-type", b"text/plain, text/html")], TRACKED.encode()),
    "/xhtml": ([(b"content-type", b"application/xhtml+xml")], XHTML.encode()),
    "/xml-xhtml": ([(b"content-type", b"text/xml")], XHTML.encode()),
    "/utf16": ([(b"content-type", b"text/html; charset=utf-16")], TRACKED.encode("utf-16-le")),
    "/utf16-bom": (
        [(b"content-type", b"text/html; charset=utf-8")],
        b"\xff\xfe" + TRACKED.encode("utf-16-le"),
    ),
    "/iso2022": ([(b"content-type", b"text/html; charset=iso-2022-jp")], ISO2022_HIDDEN),
    "/gzip": (
        [(b"content-type", b"text/html; charset=utf-8"), (b"content-encoding", b"gzip")],
        gzip.compress(TRACKED.encode()),
    ),
    "/link": (
        [
            (b"content-type", b"text/html; charset=utf-8"),
            (
                b"link",
                b"</style.css>; rel=preload; as=style, <" + GTM.encode() + b">; rel=preload; as=script",
            ),
        ],
        TRACKED.replace(f'<script async src="{GTM}"></script>', "").encode(),
    ),
}

# Passed through untouched, because Chromium does not render them as HTML either.
NOT_HTML: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {
    "/nosniff": ([(b"x-content-type-options", b"nosniff")], TRACKED.encode()),
    "/html-then-plain": ([(b"content-type", b"text/html, text/plain")], TRACKED.encode()),
    "/text-first": ([], b"Hello " + TRACKED.encode()),
    "/bom-first": ([], b"\xef\xbb\xbf" + TRACKED.encode()),
    "/xml-not-xhtml": (
        [(b"content-type", b"text/xml")],
        XHTML.replace(' xmlns="http://www.w3.org/1999/xhtml"', "").encode(),
    ),
}


def _serve(policy: Policy, tmp_path: Path) -> Iterator[str]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers, body = {**PAGES, **NOT_HTML}.get(scope["path"], ([(b"content-type", b"text/plain")], b"?"))
        if scope["path"] == "/style.css":
            headers, body = [(b"content-type", b"text/css")], b"h1{color:#123}"
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    wrapped = ConsentMiddleware(app, policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl")
    url, stop = serve_app(wrapped)
    try:
        yield url
    finally:
        stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    yield from _serve(parse_policy(POLICY_YAML), tmp_path)


@pytest.fixture
def inert_server(tmp_path: Path) -> Iterator[str]:
    yield from _serve(parse_policy(POLICY_YAML + "blocking:\n  mode: inert\n"), tmp_path)


OpenPage = Callable[[str], tuple[Page, Traffic]]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    contexts = []

    def opener(url: str) -> tuple[Page, Traffic]:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        traffic = Traffic()
        install_network_guard(context, traffic)
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        return page, traffic

    yield opener
    for context in contexts:
        context.close()


@pytest.mark.parametrize("path", sorted(PAGES))
def test_nothing_reaches_a_tracker_and_the_banner_is_shown(
    server: str, open_page: OpenPage, path: str
) -> None:
    page, traffic = open_page(server + path)
    assert traffic.trackers() == [], f"{path}: tracker requests {traffic.trackers()}"
    assert page.locator("parsererror").count() == 0, f"{path}: Chromium could not parse the page"
    assert page.locator("#title").inner_text() == "Hello", f"{path}: the page is not rendered as HTML"
    assert page.locator("#consentkit-banner").is_visible(), f"{path}: no banner"


@pytest.mark.parametrize("path", sorted(NOT_HTML))
def test_what_consentkit_passes_untouched_chromium_does_not_render_as_html(
    server: str, open_page: OpenPage, path: str
) -> None:
    page, traffic = open_page(server + path)
    assert traffic.trackers() == [], f"{path}: Chromium rendered it as HTML and fetched {traffic.trackers()}"
    assert page.evaluate("document.contentType") not in ("text/html", "application/xhtml+xml")
    assert page.locator("#consentkit-banner").count() == 0


def test_the_script_that_posts_a_decision_sends_the_version_it_showed(
    inert_server: str, open_page: OpenPage
) -> None:
    page, _ = open_page(inert_server + "/sniffed")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/_consent")) as posted:
        page.locator("#consentkit-banner").get_by_role("button", name="Decline", exact=True).click()
    sent = posted.value.post_data_json
    assert sent["version"] == parse_policy(POLICY_YAML).version
    assert sent["action"] == "reject_all"
