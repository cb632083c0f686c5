"""Partial HTML (htmx, Turbo, Unpoly, fetch) and excluded paths: blocking applies, nothing is added.

Everything consentkit adds (stylesheet, banner, scripts, settings link, notes, Consent Mode
default) goes only into documents a visitor navigates to. A fragment swapped into a page by
htmx, Turbo or ``fetch()`` + ``innerHTML`` gets no additions, but its tracker tags are still
removed per the visitor's consent.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from consentkit import Policy, parse_policy

from .conftest import KEY, POLICY_YAML, client_for, decide, make_app, page_route

pytestmark = pytest.mark.anyio

FRAGMENT = (
    '<li>item 4</li><script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
    '<img src="https://www.facebook.com/tr?id=1&ev=PageView" alt="">'
)
FULL = (
    "<!DOCTYPE html><html><head><title>t</title>"
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script></head>'
    "<body><p>page</p></body></html>"
)

HTMX = {"hx-request": "true", "hx-target": "list", "sec-fetch-dest": "empty", "sec-fetch-mode": "cors"}
HTMX_NO_FETCH_METADATA = {"hx-request": "true"}
TURBO_FRAME = {"turbo-frame": "comments", "accept": "text/html, application/xhtml+xml"}
UNPOLY = {"x-up-target": ".results", "x-up-version": "3.9.0"}
FETCH = {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors", "sec-fetch-site": "same-origin"}
BOOSTED = {"hx-request": "true", "hx-boosted": "true", "sec-fetch-dest": "empty", "sec-fetch-mode": "cors"}
NAVIGATION = {"sec-fetch-dest": "document", "sec-fetch-mode": "navigate"}

ADDED = (
    "consentkit-banner",
    "ck-skip",
    "ck-manage",
    "ck-status",
    "/_consent/",
    "<style",
    'rel="stylesheet"',
    "consent-mode.js",
)


def added(text: str) -> list[str]:
    return [marker for marker in ADDED if marker in text]


def app_for(policy: Policy, tmp_path: Path, html: str) -> object:
    return make_app(
        policy,
        [
            Route("/", page_route()),
            Route("/items", page_route(html)),
            Route("/admin/users", page_route(html)),
        ],
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "headers",
    [HTMX, HTMX_NO_FETCH_METADATA, TURBO_FRAME, UNPOLY, FETCH],
    ids=["htmx", "htmx-old-browser", "turbo-frame", "unpoly", "fetch"],
)
@pytest.mark.parametrize("html", [FRAGMENT, FULL], ids=["fragment", "full-document"])
@pytest.mark.parametrize("decided", [False, True], ids=["undecided", "decided"])
async def test_fragment_requests_get_no_additions_but_blocking(
    policy: Policy, tmp_path: Path, headers: dict[str, str], html: str, decided: bool
) -> None:
    async with client_for(app_for(policy, tmp_path, html)) as client:
        if decided:
            await decide(client, "reject_all")
        response = await client.get("/items", headers=headers)
    assert response.status_code == 200
    assert added(response.text) == []
    assert "googletagmanager" not in response.text and "facebook.com/tr" not in response.text
    assert "<!-- consentkit: blocked analytics -->" in response.text
    if html == FRAGMENT:
        assert response.text.startswith("<li>item 4</li>")


async def test_a_fragment_keeps_the_saved_note_for_the_next_page(policy: Policy, tmp_path: Path) -> None:
    """The one-time "choices saved" note is not spent on a fragment nobody navigated to."""
    async with client_for(app_for(policy, tmp_path, FRAGMENT)) as client:
        await decide(client, "reject_all")
        fragment = await client.get("/items", headers=HTMX)
        assert "set-cookie" not in fragment.headers
        page = await client.get("/")
    assert "Your choices have been saved." in page.text


async def test_allowed_trackers_stay_in_fragments(policy: Policy, tmp_path: Path) -> None:
    async with client_for(app_for(policy, tmp_path, FRAGMENT)) as client:
        await decide(client, "accept_all")
        response = await client.get("/items", headers=FETCH)
    assert response.text == FRAGMENT


@pytest.mark.parametrize("html", [FRAGMENT, FULL], ids=["fragment", "full-document"])
async def test_a_boosted_htmx_navigation_gets_the_banner(policy: Policy, tmp_path: Path, html: str) -> None:
    """hx-boost replaces the whole body with the response's: the banner must come with it."""
    async with client_for(app_for(policy, tmp_path, html)) as client:
        response = await client.get("/items", headers=BOOSTED)
    assert response.text.count('id="consentkit-banner"') == 1
    assert "googletagmanager" not in response.text


@pytest.mark.parametrize(
    "html",
    [
        "<!DOCTYPE html><p>doctype only</p>",
        "<!doctype html>\n<title>x</title><p>lower-case doctype</p>",
        "<html><p>html tag only</p></html>",
        "<head><title>t</title></head><p>head tag</p>",
        "<title>t</title><BODY class=x><p>upper-case body tag</p>",
        "<!-- a comment first -->\n<html lang=en><body>x</body></html>",
    ],
)
async def test_without_request_headers_a_full_document_gets_additions(
    policy: Policy, tmp_path: Path, html: str
) -> None:
    async with client_for(app_for(policy, tmp_path, html)) as client:
        text = (await client.get("/items")).text
    assert text.count('id="consentkit-banner"') == 1


@pytest.mark.parametrize(
    "html",
    [
        "<li>item 4</li>",
        "<tr><td>1</td></tr>",
        "<div><p>htmlish text: <b>body</b> and headings</p></div>",
        "<header><h1>A header, not a head</h1></header><bodyguard>x</bodyguard>",
        "<p>&lt;html&gt; and &lt;body&gt; written as text</p>",
        "",
    ],
)
async def test_without_request_headers_bare_markup_gets_nothing(
    policy: Policy, tmp_path: Path, html: str
) -> None:
    async with client_for(app_for(policy, tmp_path, html)) as client:
        await decide(client, "reject_all")
        text = (await client.get("/items")).text
    assert text == html


async def test_a_navigation_gets_additions_even_on_bare_markup(policy: Policy, tmp_path: Path) -> None:
    async with client_for(app_for(policy, tmp_path, "<p>bare</p>")) as client:
        text = (await client.get("/items", headers=NAVIGATION)).text
    assert text.count('id="consentkit-banner"') == 1


async def test_a_document_split_across_chunks_is_recognised(policy: Policy, tmp_path: Path) -> None:
    """The doctype/tag check sees the stream, even when ``<bo`` and ``dy>`` arrive apart."""
    from starlette.responses import StreamingResponse

    async def endpoint(request: object) -> StreamingResponse:
        async def chunks():  # type: ignore[no-untyped-def]
            for part in ("<title>t</title><bo", "dy><p>streamed</p>", "</body>"):
                yield part.encode()

        return StreamingResponse(chunks(), media_type="text/html; charset=utf-8")

    app = make_app(policy, [Route("/", endpoint)], tmp_path=tmp_path)
    async with client_for(app) as client:
        text = (await client.get("/")).text
    assert text.count('id="consentkit-banner"') == 1


async def test_fragment_responses_vary_on_the_headers_that_decide(policy: Policy, tmp_path: Path) -> None:
    async with client_for(app_for(policy, tmp_path, FRAGMENT)) as client:
        vary = (await client.get("/items", headers=HTMX)).headers["vary"].lower()
    for name in ("hx-request", "hx-boosted", "turbo-frame", "sec-fetch-dest", "cookie"):
        assert name in vary


# --- banner.exclude_paths ------------------------------------------------------------------------

EXCLUDING = POLICY_YAML + 'banner:\n  exclude_paths: ["/admin", "/admin/*", "/docs", "/openapi.json"]\n'


@pytest.mark.parametrize("decided", [False, True], ids=["undecided", "decided"])
async def test_excluded_paths_get_no_additions_but_blocking(tmp_path: Path, decided: bool) -> None:
    policy = parse_policy(EXCLUDING)
    async with client_for(app_for(policy, tmp_path, FULL)) as client:
        if decided:
            await decide(client, "reject_all")
        excluded = await client.get("/admin/users", headers=NAVIGATION)
        other = await client.get("/items", headers=NAVIGATION)
    assert added(excluded.text) == []
    assert "googletagmanager" not in excluded.text
    assert "<!-- consentkit: blocked analytics -->" in excluded.text
    assert added(other.text) != []


async def test_exclusion_is_relative_to_the_root_path(tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    policy = parse_policy(EXCLUDING)
    inner = app_for(policy, tmp_path, FULL)
    outer = Starlette(routes=[Mount("/shop", app=inner)])  # type: ignore[arg-type]
    async with client_for(outer) as client:
        assert added((await client.get("/shop/admin/users")).text) == []
        assert "consentkit-banner" in (await client.get("/shop/items")).text


def test_an_exclude_path_must_be_a_path() -> None:
    from consentkit import PolicyError

    with pytest.raises(PolicyError) as caught:
        parse_policy(POLICY_YAML + 'banner:\n  exclude_paths: ["admin/*"]\n', "consent.yaml")
    message = str(caught.value)
    assert (
        "consent.yaml:" in message and "banner.exclude_paths[0]" in message and "start it with /" in message
    )


async def test_fastapi_docs_excluded_as_the_policy_guide_shows(tmp_path: Path) -> None:
    from fastapi import FastAPI

    from consentkit import ConsentMiddleware

    policy = parse_policy(
        POLICY_YAML + 'banner:\n  exclude_paths: ["/docs", "/docs/*", "/redoc", "/openapi.json"]\n'
    )
    app = FastAPI()
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        docs = await c.get("/docs", headers=NAVIGATION)
        redoc = await c.get("/redoc", headers=NAVIGATION)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    for page in (docs.text, redoc.text):  # their own stylesheets, none of consentkit's markup
        assert "consentkit" not in page and "/_consent" not in page and "ck-" not in page


FRAGMENT_TAGS = [
    "<li>",
    "</li>",
    "<p>",
    "</p>",
    "<div class=x>",
    "</div>",
    "<header>",
    "</header>",
    "<b>",
    "text ",
    "<tr>",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(FRAGMENT_TAGS), max_size=12), fetch=st.booleans())
async def test_property_fragments_come_back_unchanged(
    policy: Policy, tmp_path: Path, parts: list[str], fetch: bool
) -> None:
    """Markup without a doctype/html/head/body tag and without trackers is returned byte for byte."""
    html = "".join(parts)
    async with client_for(app_for(policy, tmp_path, html)) as client:
        response = await client.get("/items", headers=FETCH if fetch else {})
    assert response.text == html


async def test_no_consent_mode_default_in_a_fragment_even_without_headers(
    policy: Policy, tmp_path: Path
) -> None:
    """An allowed Google tag in a fragment stays, without consentkit's Consent Mode script in front."""
    async with client_for(app_for(policy, tmp_path, FRAGMENT)) as client:
        await decide(client, "accept_all")
        bare = (await client.get("/items")).text
        page = (await client.get("/items", headers=NAVIGATION)).text
    assert bare == FRAGMENT
    assert "consent-mode.js" in page  # the same markup navigated to is a document: it gets the default


TURBO_DRIVE = {"x-turbo-request-id": "5f0b4c1e", "accept": "text/vnd.turbo-stream.html, text/html"}


@pytest.mark.parametrize(("html", "banner"), [(FULL, 1), (FRAGMENT, 0)], ids=["full-page", "fragment"])
async def test_a_turbo_drive_visit_gets_the_banner_on_a_full_page(
    policy: Policy, tmp_path: Path, html: str, banner: int
) -> None:
    """Turbo Drive fetches the next page and swaps its body in, like hx-boost: the banner comes along."""
    async with client_for(app_for(policy, tmp_path, html)) as client:
        text = (await client.get("/items", headers={**FETCH, **TURBO_DRIVE})).text
        framed = (await client.get("/items", headers={**FETCH, **TURBO_DRIVE, **TURBO_FRAME})).text
    assert text.count('id="consentkit-banner"') == banner
    assert "consentkit-banner" not in framed and "googletagmanager" not in text


async def test_an_htmx_history_restore_of_a_full_page_gets_the_banner(policy: Policy, tmp_path: Path) -> None:
    restore = {**HTMX, "hx-history-restore-request": "true"}
    async with client_for(app_for(policy, tmp_path, FULL)) as client:
        assert (await client.get("/items", headers=restore)).text.count('id="consentkit-banner"') == 1
    async with client_for(app_for(policy, tmp_path, FRAGMENT)) as client:
        assert "consentkit-banner" not in (await client.get("/items", headers=restore)).text
