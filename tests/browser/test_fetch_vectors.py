"""Issue #14 §1 in Chromium: the page as written makes Chromium fetch from tracker hosts through
attributes, CSS and embedded documents; behind consentkit (remove and inert mode, before any
decision) it fetches nothing from them. Every non-loopback request is recorded by the network
guard, so "loaded" means the request was made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from consentkit import ConsentMiddleware, parse_policy

from ..conftest import KEY, POLICY_YAML
from .conftest import VIEWPORT, Traffic, install_network_guard, serve_app

pytestmark = pytest.mark.browser

PIXEL = "https://www.facebook.com/tr?id=1"
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Vectors</title>
<link rel="icon" href="https://www.facebook.com/favicon.ico">
<style>@import url("https://www.googletagmanager.com/fonts.css");
@font-face { font-family: Tracked; src: url(https://www.google-analytics.com/f.woff2) format("woff2") }
.font { font-family: Tracked }
.hero { background-image: url(https://www.facebook.com/hero.png) }</style>
<script type="importmap">{"imports": {"ga": "https://www.googletagmanager.com/module.js"}}</script>
</head><body>
<p class="font">Text in a tracked font</p>
<div class="hero">Hero</div>
<div style="background-image:url('https://www.facebook.com/inline.png')">Inline style</div>
<table background="https://www.facebook.com/table.png"><tr><td>cell</td></tr></table>
<form><input type="image" src="https://www.facebook.com/button.png" alt="Go"></form>
<svg width="10" height="10"><image href="https://www.facebook.com/svg.png" width="10" height="10"/>
<use href="https://www.facebook.com/sprite.svg#i"/></svg>
<iframe src="data:text/html,<img src='https://www.facebook.com/data-iframe.png'>"></iframe>
<iframe srcdoc="<img src='https://www.facebook.com/srcdoc.png'>" src="https://www.youtube.com/embed/x"></iframe>
<object data="https://www.youtube.com/v/x" type="text/html" width="10" height="10"></object>
<embed src="https://www.youtube.com/e/x" type="text/html" width="10" height="10">
<script type="module">import "ga";</script>
</body></html>"""
HOSTS = {"www.googletagmanager.com", "www.google-analytics.com", "www.facebook.com", "www.youtube.com"}


def _serve(app: ASGIApp) -> Iterator[str]:
    url, stop = serve_app(app)
    try:
        yield url
    finally:
        stop()


@pytest.fixture(params=["bare", "remove", "inert"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    async def page(_: Request) -> Response:
        return HTMLResponse(PAGE)

    app: ASGIApp = Starlette(routes=[Route("/", page)])
    if request.param != "bare":
        policy = parse_policy(POLICY_YAML + f"blocking:\n  mode: {request.param}\n")
        app = ConsentMiddleware(app, policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl")
    for url in _serve(app):
        yield request.param, url


def test_the_vectors_fetch_in_chromium_and_nothing_behind_consentkit(
    browser: Browser, server: tuple[str, str]
) -> None:
    mode, url = server
    context = browser.new_context(viewport=VIEWPORT)
    traffic = Traffic()
    install_network_guard(context, traffic)
    page = context.new_page()
    page.goto(url + "/", wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    fetched = sorted({r.url for r in traffic.external if r.host in HOSTS})
    context.close()
    if mode == "bare":
        # the vectors are real: Chromium fetches through each kind of them
        paths = " ".join(fetched)
        for piece in ("fonts.css", "f.woff2", "hero.png", "inline.png", "table.png", "button.png", "svg.png",
                      "data-iframe.png", "module.js", "srcdoc.png"):  # fmt: skip
            assert piece in paths, f"{piece} was not fetched by Chromium: {fetched}"
    else:
        assert fetched == [], f"{mode}: fetched {fetched}"
