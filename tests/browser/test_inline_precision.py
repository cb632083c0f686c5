"""Inline scripts in a real browser (issue #14 §1c): behind the ~150-host policy, no vendor loader
fetches anything before consent, and the page's own application-state scripts still run.

The same page without consentkit is loaded first: it shows that each snippet really makes
Chromium request its vendor's host, so the absence of requests behind consentkit means something.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware, load_policy
from consentkit.rewrite import BlockPlan

from .. import vendor_snippets as v
from ..conftest import KEY
from .conftest import VIEWPORT, Traffic, install_network_guard, serve_app

pytestmark = pytest.mark.browser

POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "policy-large.yaml")
PLAN = BlockPlan.build(POLICY, ("analytics", "marketing", "media"))
STATES = {
    "__APOLLO_STATE__": v.app_state(300_000),
    "__NUXT__": v.nuxt_state(60_000),
    "__PAGE_DATA__": v.site_bootstrap(120_000),
    "__PRELOADED_STATE__": v.json_parse_state(80_000),
}
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>News</title>\n'
    + "".join(f"<script>{script}</script>\n" for script in STATES.values())
    + "".join(f"<script>{snippet}</script>\n" for snippet in v.LOADERS.values())
    + "".join(f"<script>{script}</script>\n" for script in v.FIRST_PARTY_LOADS.values())
    + "</head><body><h1>News</h1></body></html>"
)


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    """Start ``app`` on a loopback port; return its URL and how to stop it."""
    url, stop = serve_app(app)
    return url + "/", stop


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, str]]:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    bare = Starlette(routes=[Route("/", page)])
    wrapped = ConsentMiddleware(
        Starlette(routes=[Route("/", page)]), POLICY, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl"
    )
    running = {"bare": serve(bare), "consentkit": serve(wrapped)}
    try:
        yield {name: url for name, (url, _) in running.items()}
    finally:
        for _, stop in running.values():
            stop()


def visit(browser: Browser, url: str) -> tuple[list[str], dict[str, int]]:
    """The listed hosts the page requested, and the size of each state object it defined."""
    context = browser.new_context(viewport=VIEWPORT)
    traffic = Traffic()
    install_network_guard(context, traffic)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        listed = sorted({r.host for r in traffic.external if PLAN.host_rule(r.host) is not None})
        sizes = page.evaluate(
            "names => Object.fromEntries(names.map(n => [n, window[n] ? JSON.stringify(window[n]).length : 0]))",
            list(STATES),
        )
        return listed, sizes
    finally:
        context.close()


def test_loaders_fetch_nothing_and_application_state_runs(browser: Browser, servers: dict[str, str]) -> None:
    bare_hosts, bare_sizes = visit(browser, servers["bare"])
    assert len(bare_hosts) >= 20, f"without consentkit the snippets fetch from only {bare_hosts}"
    blocked_hosts, sizes = visit(browser, servers["consentkit"])
    assert blocked_hosts == [], f"requests to listed hosts before consent: {blocked_hosts}"
    for name, size in sizes.items():
        assert size > 10_000, f"window.{name} is missing: its script was removed"
        assert size == bare_sizes[name]
