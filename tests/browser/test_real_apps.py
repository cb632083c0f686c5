"""Real apps in a real Chromium: fragments (fetch, htmx, Turbo, boosted htmx), strict CSP, the settings page.

The app under test is a small Starlette site behind ConsentMiddleware with the demo's policy. Its
own script (``/static/app.js``, same origin so that ``default-src 'self'`` allows it) swaps
fragments in the way htmx, Turbo and hand-written ``fetch()`` code do, with the request headers
those libraries send; the browser adds ``Sec-Fetch-Dest`` itself.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware
from consentkit.jinja import settings_layout

from .conftest import VIEWPORT, Browsing, DemoServer, Traffic, install_network_guard

pytestmark = pytest.mark.browser

POLICY = Path(__file__).resolve().parents[2] / "examples" / "release_page" / "consent.yaml"
KEY = "browser-test-secret-key-0123456789"
GTAG = '<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST"></script>'

APP_JS = """
(function () {
  "use strict";
  var HEADERS = {
    fetch: {},
    htmx: {"HX-Request": "true", "HX-Target": "list", "HX-Current-URL": location.href},
    turbo: {"Turbo-Frame": "list", "Accept": "text/html, application/xhtml+xml"},
    unpoly: {"X-Up-Target": "#list", "X-Up-Version": "3.9.0"}
  };
  window.__fragments = [];
  window.loadFragment = function (kind) {
    return fetch("/fragment?kind=" + kind, {headers: HEADERS[kind]}).then(function (r) { return r.text(); })
      .then(function (text) {
        window.__fragments.push(text);
        document.getElementById("list").insertAdjacentHTML("beforeend", text);
      });
  };
  /* What hx-boost does on a link: fetch the page, swap the new body in, push the URL. */
  window.boost = function () {
    return fetch("/next", {headers: {"HX-Request": "true", "HX-Boosted": "true"}})
      .then(function (r) { return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        document.title = doc.title;
        document.body.innerHTML = doc.body.innerHTML;
        history.pushState({}, "", "/next");
      });
  };
})();
"""

VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    "  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));"
    "});"
)


def page_html(lang: str, nonce: str | None, title: str = "Articles", tracker: bool = True) -> str:
    attr = f' nonce="{nonce}"' if nonce else ""
    inline = f"<script{attr}>window.__pageScriptRan = true;</script>" if nonce else ""
    tag = GTAG if tracker else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{tag}{inline}'
        '</head><body><header id="site-header"><p>Example site header</p></header>'
        f'<main><h1>{title}</h1><ul id="list"><li>item 1</li></ul></main>'
        '<footer style-free id="site-footer"><p>footer</p></footer>'
        f'<script src="/static/app.js"{attr}></script></body></html>'
    )


INERT_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Inert</title>'
    '<script nonce="{nonce}">window.dataLayer = window.dataLayer || []; window.__inlineRan = true;</script>'
    "</head><body><main><h1>Inert mode</h1></main></body></html>"
)


LAYOUT = (
    '<!DOCTYPE html><html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }} | Example</title>'
    '</head><body><header id="site-header"><p>Example site header</p></header>'
    "<main>{{ consentkit_settings }}</main>"
    '<footer id="site-footer"><p>footer</p></footer></body></html>'
)


def make_site(
    csp: Callable[[str], str] | None, tmp_path: Path, *, inert: bool = False, layout: bool = False
) -> Any:
    async def page(request: Request) -> Response:
        nonce = secrets.token_urlsafe(12) if csp and "nonce" in csp("x") else None
        headers = {"content-security-policy": csp(nonce or "")} if csp else {}
        if inert:
            return HTMLResponse(INERT_PAGE.format(nonce=nonce or ""), headers=headers)
        lang = "fr" if request.url.path.startswith("/fr") else "en"
        title = "Next page" if request.url.path == "/next" else "Articles"
        # under a CSP, no third-party tag: the site's own CSP would refuse it once allowed
        return HTMLResponse(page_html(lang, nonce, title, tracker=csp is None), headers=headers)

    async def fragment(request: Request) -> Response:
        kind = request.query_params.get("kind", "fetch")
        return HTMLResponse(f'<li class="from-{kind}">item from {kind}</li>{GTAG}')

    async def app_js(request: Request) -> Response:
        return Response(APP_JS, media_type="text/javascript")

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/fr", page),
            Route("/next", page),
            Route("/fragment", fragment),
            Route("/static/app.js", app_js),
        ]
    )
    policy: Any = POLICY
    if inert:
        policy = tmp_path / "inert.yaml"
        policy.write_text(POLICY.read_text(encoding="utf-8").replace("mode: remove", "mode: inert"))
    options: dict[str, Any] = {}
    if layout:
        env = jinja2.Environment(loader=jinja2.DictLoader({"settings.html": LAYOUT}), autoescape=True)
        options["settings_layout"] = settings_layout(env, "settings.html")
    return ConsentMiddleware(app, policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl", **options)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Any], DemoServer]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> DemoServer:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="consentkit-real-app", daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive(), "the test server did not start"
            assert time.monotonic() < deadline, "the test server did not start within 15 s"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        return DemoServer(base_url=f"http://127.0.0.1:{port}", audit_path=tmp_path / "audit.jsonl")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def open_site(browser: Browser, serve: Callable[[Any], DemoServer], tmp_path: Path) -> Iterator[Any]:
    contexts = []

    def open_(
        csp: Callable[[str], str] | None = None, inert: bool = False, layout: bool = False, **options: Any
    ) -> Browsing:
        server = serve(make_site(csp, tmp_path, inert=inert, layout=layout))
        options.setdefault("viewport", VIEWPORT)
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        traffic = Traffic()
        install_network_guard(context, traffic)
        context.add_init_script(VIOLATIONS)
        return Browsing(context, context.new_page(), server, traffic)

    yield open_
    for context in contexts:
        context.close()


def violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__violations"))


def consentkit_parts(page: Page) -> dict[str, int]:
    return page.evaluate(
        """() => ({
            banner: document.querySelectorAll('#consentkit-banner').length,
            stylesheet: document.querySelectorAll('link[href*="/_consent/consentkit."]').length,
            skip: document.querySelectorAll('.ck-skip').length,
            manage: document.querySelectorAll('.ck-manage').length,
            scripts: document.querySelectorAll('script[src*="/_consent/"]').length,
        })"""
    )


# --- 1. partial HTML -------------------------------------------------------------------------------


def test_fragments_get_nothing_added_and_a_boosted_navigation_gets_the_banner(open_site: Any) -> None:
    browsing: Browsing = open_site()
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    before = consentkit_parts(page)
    assert before == {"banner": 1, "stylesheet": 1, "skip": 1, "manage": 0, "scripts": 1}
    for kind in ("fetch", "htmx", "turbo", "unpoly"):
        page.evaluate(f"loadFragment({kind!r})")
        expect(page.locator(f"li.from-{kind}")).to_have_text(f"item from {kind}")
    fragments = page.evaluate("window.__fragments")
    for text in fragments:
        assert text.endswith("<!-- consentkit: blocked analytics -->"), text  # blocking still applies
        added = text.replace("<!-- consentkit: blocked analytics -->", "")
        assert "consentkit" not in added and "ck-" not in added and "/_consent" not in added, text
    assert consentkit_parts(page) == before
    browsing.settle()
    assert browsing.traffic.trackers() == []

    page.evaluate("boost()")
    expect(page).to_have_title("Next page")
    # hx-boost swapped the whole body: the banner came back with the new one, once
    assert consentkit_parts(page)["banner"] == 1
    expect(page.locator("#consentkit-banner")).to_be_visible()
    browsing.decide("Accept")
    assert consentkit_parts(page)["banner"] == 0
    page.evaluate("loadFragment('htmx')")
    expect(page.locator("li.from-htmx")).to_have_count(1)
    assert "googletagmanager" in page.evaluate("window.__fragments")[-1]  # allowed now: left in place
    assert consentkit_parts(page)["manage"] == 1


# --- 3. strict Content-Security-Policy -------------------------------------------------------------

SELF_ONLY = "default-src 'self'"


def nonce_policy(nonce: str) -> str:
    return f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; object-src 'none'"


def assert_banner_styled(page: Page) -> None:
    banner = page.locator("#consentkit-banner")
    expect(banner).to_be_visible()
    assert banner.evaluate("el => getComputedStyle(el).position") == "fixed"
    assert banner.evaluate("el => getComputedStyle(el).zIndex") == "2147483000"
    button = banner.get_by_role("button", name="Accept", exact=True)
    assert button.evaluate("el => getComputedStyle(el).minHeight") == "44px"


@pytest.mark.parametrize("policy", [SELF_ONLY, "nonce"], ids=["default-src-self", "nonce"])
@pytest.mark.parametrize("choice", ["Accept", "Decline"])
def test_strict_csp_banner_styled_and_working_without_violations(
    open_site: Any, policy: str, choice: str
) -> None:
    csp = (lambda nonce: SELF_ONLY) if policy == SELF_ONLY else nonce_policy
    browsing: Browsing = open_site(csp)
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    assert_banner_styled(page)
    if policy == "nonce":
        assert page.evaluate("window.__pageScriptRan") is True
    # banner.js ran (it measures the banner for the page's scroll padding)
    expect(page.locator("html")).to_have_attribute("style", _re(r"--ck-banner-height:\s*\d"))
    assert violations(page) == []

    browsing.decide(choice)
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    saved = page.locator(".ck-saved")
    expect(saved).to_be_visible()
    assert saved.evaluate("el => getComputedStyle(el).position") == "fixed"
    control = page.locator("p.ck-manage a")
    expect(control).to_be_visible()
    assert violations(page) == []

    control.click()
    page.wait_for_load_state("load")
    settings = page.locator("#consentkit-settings")
    expect(settings).to_be_visible()
    assert settings.evaluate("el => getComputedStyle(el).maxWidth") != "none"  # the stylesheet applies
    assert violations(page) == []
    browsing.assert_no_page_errors()


def test_inert_mode_brings_an_inline_tag_to_life_under_a_nonce_policy(open_site: Any) -> None:
    """activate.js re-creates the allowed inline tag without a reload: it must carry the page's nonce."""
    browsing: Browsing = open_site(nonce_policy, inert=True)
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    assert page.evaluate("window.__inlineRan === true") is False  # held back before consent
    assert_banner_styled(page)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/_consent")):
        page.locator("#consentkit-banner").get_by_role("button", name="Accept", exact=True).click()
    page.wait_for_function("() => window.__inlineRan === true")
    note = page.get_by_role("status")
    expect(note).to_have_text("Your choices have been saved.")
    box = note.bounding_box()
    assert box is not None and 0 <= box["y"] <= 40, box  # without a reload too: top of the viewport
    assert violations(page) == []
    browsing.assert_no_page_errors()


def _re(pattern: str) -> Any:
    import re

    return re.compile(pattern)


# --- 7. the settings page belongs to the site ------------------------------------------------------


def test_saved_note_at_the_top_of_the_viewport_and_settings_in_the_page_language(open_site: Any) -> None:
    browsing: Browsing = open_site(lambda nonce: SELF_ONLY)
    page = browsing.page
    browsing.goto("/fr")
    browsing.settle()
    page.mouse.wheel(0, 400)
    browsing.decide("Refuser")
    note = page.get_by_role("status")
    expect(note).to_have_text("Vos choix ont été enregistrés.")
    box = note.bounding_box()
    assert box is not None and 0 <= box["y"] <= 40, box  # at the top of the viewport, not below the footer
    assert box["x"] > 0 and box["x"] + box["width"] < VIEWPORT["width"]
    # it is first in the page, where a screen reader meets it first too
    first = page.evaluate("[...document.body.children].find(el => el.tagName !== 'LINK').className")
    assert "ck-saved" in first

    link = page.locator("p.ck-manage a")
    expect(link).to_have_attribute("href", _re(r"lang=fr"))
    link.click()
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#consentkit-settings h1")).to_have_text("Paramètres des cookies")
    page.locator("#consentkit-settings").get_by_role("button", name="Enregistrer", exact=False).first.click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("status").first).to_be_visible()
    assert violations(page) == []


def test_the_settings_page_in_the_sites_layout(open_site: Any) -> None:
    browsing: Browsing = open_site(layout=True)
    page = browsing.page
    browsing.goto("/fr")
    browsing.settle()
    browsing.decide("Refuser")
    page.locator("p.ck-manage a").click()
    page.wait_for_load_state("load")
    expect(page.locator("#site-header")).to_be_visible()
    expect(page.locator("#site-footer")).to_be_attached()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_title(_re(r"Paramètres des cookies \| Example"))
    settings = page.locator("#consentkit-settings")
    assert settings.evaluate("el => getComputedStyle(el).maxWidth") != "none"  # consentkit's stylesheet
    settings.get_by_role("button", name="Tout accepter", exact=False).or_(
        settings.get_by_role("button", name="Accepter", exact=True)
    ).first.click()
    page.wait_for_load_state("load")
    expect(page.locator("#site-header")).to_be_visible()
    expect(page.get_by_role("status").first).to_be_visible()
    assert violations(page) == []
    browsing.assert_no_page_errors()


# --- 8. the demo sends a strict CSP, and consentkit works under it -----------------------------------


@pytest.mark.parametrize("choice", ["Accept", "Decline"])
def test_the_demo_under_its_own_strict_csp(open_browsing: Any, choice: str) -> None:
    browsing: Browsing = open_browsing()
    browsing.context.add_init_script(VIOLATIONS)
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    assert "default-src 'self'" in browsing_csp(browsing)
    assert_banner_styled(page)
    assert violations(page) == []
    browsing.decide(choice)
    browsing.settle()
    assert violations(page) == []
    ran = page.evaluate("window.__ckGtagRan === true")
    assert ran is (choice == "Accept")  # the allowed tag ran, under the CSP, with its nonce
    browsing.assert_no_page_errors()


def browsing_csp(browsing: Browsing) -> str:
    import httpx

    return httpx.get(browsing.server.url("/"), timeout=5).headers["content-security-policy"]
