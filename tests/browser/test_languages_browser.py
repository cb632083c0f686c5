"""Every shipped language in Chromium: equal Accept/Decline at 320 px, right-to-left Arabic, axe-core.

A site with one page per language (``<html lang>``) behind a policy that gives no texts of its
own: every word comes from consentkit's built-in texts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware, parse_policy
from consentkit.texts import SHIPPED_LANGUAGES

from .conftest import Traffic, install_network_guard
from .test_accessibility import describe, open_settings_layer, run_axe

pytestmark = pytest.mark.browser

LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl", "ar", "ru", "zh")
POLICY = (
    "version: 1\nprivacy_policy_url: /privacy\n"
    "services:\n  google-analytics: {}\n  meta-pixel: {}\n  youtube: {}\n"
    "texts:\n" + "".join(f"  {lang}: {{}}\n" for lang in LANGUAGES)
)
KEY = "languages-test-key-0123456789abcdef"


def test_the_languages_under_test_are_the_shipped_ones() -> None:
    assert set(SHIPPED_LANGUAGES) == set(LANGUAGES)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    async def page(request: Request) -> Response:
        lang = request.path_params["lang"]
        direction = ' dir="rtl"' if lang == "ar" else ""
        return HTMLResponse(
            f'<!DOCTYPE html><html lang="{lang}"{direction}><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>News</title></head>'
            "<body><main><h1>News</h1><p>Text.</p></main></body></html>"
        )

    app = Starlette(routes=[Route("/{lang}", page)])
    audit = tmp_path_factory.mktemp("languages") / "audit.jsonl"
    wrapped = ConsentMiddleware(app, policy=parse_policy(POLICY), secret_keys=[KEY], audit_path=audit)
    server = uvicorn.Server(
        uvicorn.Config(wrapped, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the languages site did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def open_page(browser: Browser, site: str) -> Iterator[Any]:
    contexts = []

    def open_(path: str, **options: Any) -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        install_network_guard(context, Traffic())
        contexts.append(context)
        page = context.new_page()
        page.goto(site + path)
        return page

    yield open_
    for context in contexts:
        context.close()


def _choices(page: Page) -> tuple[dict[str, float], dict[str, float]]:
    banner = page.locator("#consentkit-banner")
    accept = banner.locator("button[value='accept_all']").bounding_box()
    decline = banner.locator("button[value='reject_all']").bounding_box()
    assert accept is not None and decline is not None
    return accept, decline


@pytest.mark.parametrize("lang", LANGUAGES)
def test_accept_and_decline_are_the_same_size_at_320_px(open_page: Any, lang: str) -> None:
    width, height = 320, 640
    page = open_page(f"/{lang}", viewport={"width": width, "height": height})
    banner = page.locator("#consentkit-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("lang", lang)
    accept, decline = _choices(page)
    assert abs(accept["width"] - decline["width"]) <= 1, (lang, accept, decline)
    assert abs(accept["height"] - decline["height"]) <= 1, (lang, accept, decline)
    for box in (accept, decline):
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (lang, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (lang, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("lang", LANGUAGES)
def test_accept_and_decline_are_the_same_size_on_a_desktop(open_page: Any, lang: str) -> None:
    page = open_page(f"/{lang}", viewport={"width": 1280, "height": 800})
    accept, decline = _choices(page)
    assert abs(accept["width"] - decline["width"]) <= 1 and abs(accept["height"] - decline["height"]) <= 1


def test_arabic_is_right_to_left_and_mirrored(open_page: Any) -> None:
    page = open_page("/ar", viewport={"width": 1280, "height": 800})
    banner = page.locator("#consentkit-banner")
    expect(banner).to_have_attribute("dir", "rtl")
    assert banner.evaluate("el => getComputedStyle(el).direction") == "rtl"
    accept, decline = _choices(page)
    assert accept["x"] > decline["x"], "in right-to-left, the first choice (Accept) is on the right"
    title = banner.locator("h2").bounding_box()
    inner = banner.locator(".ck-in").bounding_box()
    assert title is not None and inner is not None
    assert abs((title["x"] + title["width"]) - (inner["x"] + inner["width"])) <= 2, (
        "the title starts at the right"
    )
    english = open_page("/en", viewport={"width": 1280, "height": 800})
    expect(english.locator("#consentkit-banner")).not_to_have_attribute("dir", "rtl")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_axe_finds_no_violation_in_every_language(open_page: Any, axe_script: Path, lang: str) -> None:
    page = open_page(f"/{lang}", viewport={"width": 1280, "height": 800}, bypass_csp=True)
    expect(page.locator("#consentkit-banner")).to_be_visible()
    open_settings_layer(page)
    violations = run_axe(page, axe_script, "#consentkit-banner")
    assert violations == [], describe(violations)


def test_the_arabic_settings_page_is_right_to_left_and_passes_axe(open_page: Any, axe_script: Path) -> None:
    page = open_page("/_consent/settings?lang=ar", viewport={"width": 1280, "height": 800}, bypass_csp=True)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator(".ck-decl table")).to_be_visible()
    violations = run_axe(page, axe_script, None)
    assert violations == [], describe(violations)


@pytest.mark.parametrize("path", ["/privacy", "/fr/privacy"], ids=["en", "fr"])
def test_the_demo_privacy_page_with_the_generated_declaration_passes_axe(
    open_browsing: Any, axe_script: Path, path: str
) -> None:
    browsing = open_browsing(bypass_csp=True)
    browsing.goto(path)
    page = browsing.page
    table = page.locator("main .ck-decl table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).not_to_have_count(0)
    violations = run_axe(page, axe_script, "main")
    assert violations == [], describe(violations)
