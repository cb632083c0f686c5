"""Server-side blocking: tracker tags, embeds and cookies never reach the browser before consent."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from consentkit import ConsentMiddleware, Policy, parse_policy

from .conftest import KEY, POLICY_YAML, client_for, decide
from .oracle import leaks

pytestmark = pytest.mark.anyio

FIXTURE = (Path(__file__).parent / "fixtures" / "trackers.html").read_text(encoding="utf-8")
TRACKER_HOSTS = [
    "googletagmanager.com",
    "google-analytics.com",
    "connect.facebook.net",
    "facebook.com",
    "hotjar.com",
    "stats.example.org",
    "youtube.com",
]
MARKERS = ["gtag(", "fbq(", "hj(", "_paq", "dataLayer"]
NO_CONTROL = POLICY_YAML + "banner:\n  settings_control: false\n"


def tracker_app(policy: Policy, tmp_path: Path, html: str = FIXTURE, **options: object) -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(html)

    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(
        ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl", **options
    )
    return app


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_nothing_tracks(
    html: str, policy: Policy, denied: tuple[str, ...] = ("analytics", "marketing")
) -> None:
    for host in TRACKER_HOSTS:
        assert host not in html, f"{host} reached the browser"
    for marker in MARKERS:
        assert marker not in html, f"inline tracker code {marker!r} reached the browser"
    for tag, attrs in elements(html):
        assert tag not in ("iframe", "embed", "object"), f"<{tag}> reached the browser"
        assert attrs.get("data-consent") is None
    assert leaks(html, policy, denied) == []


async def test_first_visit_page_has_no_tracker_at_all(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML)
    async with client_for(tracker_app(policy, tmp_path)) as client:
        html = (await client.get("/")).text
    assert_nothing_tracks(html, policy)
    # first-party and non-executable scripts are kept, the embed has a placeholder
    assert '<script src="/static/app.js" defer></script>' in html
    assert '<script type="application/ld+json">' in html
    # sized by an SVG sizer's attributes, not style= (strict CSP)
    assert 'class="ck-embed"' in html and 'viewBox="0 0 560 315" width="560" height="315"' in html
    assert "This YouTube content is blocked until you allow Marketing cookies." in html
    # a blocked element leaves a comment naming only its category
    assert "<!-- consentkit: blocked analytics -->" in html
    assert "<!-- consentkit: blocked marketing -->" in html


async def test_after_decline_nothing_tracks_either(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML)
    async with client_for(tracker_app(policy, tmp_path)) as client:
        await decide(client, "reject_all")
        html = (await client.get("/")).text
    assert "consentkit-banner" not in html
    assert_nothing_tracks(html, policy)


async def test_after_accept_all_the_page_is_the_original_plus_consent_mode(tmp_path: Path) -> None:
    policy = parse_policy(NO_CONTROL)
    async with client_for(tracker_app(policy, tmp_path)) as client:
        await decide(client, "accept_all")
        await client.get("/")  # shows the one-off "saved" note
        html = (await client.get("/")).text
    default = '<script src="/_consent/consent-mode.js?g=1111101"></script>'  # nothing grants personalization
    first_google_tag = FIXTURE.index("<script>(function(w,d,s,l,i)")
    assert html == FIXTURE[:first_google_tag] + default + FIXTURE[first_google_tag:]


async def test_partial_consent_blocks_exactly_the_denied_category(tmp_path: Path) -> None:
    policy = parse_policy(NO_CONTROL)
    async with client_for(tracker_app(policy, tmp_path)) as client:
        await decide(client, "save", ("analytics",))
        await client.get("/")
        html = (await client.get("/")).text
    assert leaks(html, policy, ("marketing",)) == []
    for kept in ("googletagmanager.com/gtag/js", "static.hotjar.com", "stats.example.org", "gtag('config'"):
        assert kept in html
    for gone in ("connect.facebook.net", "facebook.com/tr", "youtube.com", "fbq("):
        assert gone not in html
    assert "consent-mode.js?g=0001101" in html  # analytics (and necessary) granted, ads denied


async def test_consent_mode_is_not_emitted_before_consent_in_remove_mode(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML)
    async with client_for(tracker_app(policy, tmp_path)) as client:
        html = (await client.get("/")).text
    assert "consent-mode" not in html and "gtag" not in html


async def _chunked(policy: Policy, tmp_path: Path, sizes: list[int], cookie: str | None = None) -> str:
    data = FIXTURE.encode()

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            position = 0
            index = 0
            while position < len(data):
                size = sizes[index % len(sizes)] if sizes else len(data)
                yield data[position : position + size]
                position += size
                index += 1

        return StreamingResponse(chunks(), media_type="text/html; charset=utf-8")

    app = Starlette(routes=[Route("/", stream)])
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    async with client_for(app) as client:
        headers = {"cookie": cookie} if cookie else {}
        return (await client.get("/", headers=headers)).text


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=30))
async def test_any_chunking_gives_the_same_page(sizes: list[int]) -> None:
    policy = parse_policy(POLICY_YAML)
    tmp = Path("/tmp")
    whole = await _chunked(policy, tmp, [])
    assert await _chunked(policy, tmp, sizes) == whole


async def test_gzip_outside_consentkit_blocks_then_compresses(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML)
    inner = tracker_app(policy, tmp_path)
    app = GZipMiddleware(inner, minimum_size=100)
    async with client_for(app) as client:
        response = await client.get("/", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert_nothing_tracks(response.text, policy)  # httpx decompressed it


async def test_gzip_inside_consentkit_is_decompressed_rewritten_and_compressed_again(tmp_path: Path) -> None:
    """Compression inside the app (Django's GZipMiddleware where users put it) no longer hides trackers."""
    policy = parse_policy(POLICY_YAML)

    async def page(request: Request) -> Response:
        return HTMLResponse(FIXTURE)

    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(GZipMiddleware, minimum_size=100)
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    async with client_for(app) as client:
        response = await client.get("/", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert_nothing_tracks(response.text, policy)  # httpx decompressed it
    assert 'id="consentkit-banner"' in response.text


async def test_inert_mode_keeps_tags_disabled_in_place(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML + "blocking:\n  mode: inert\n")
    async with client_for(tracker_app(policy, tmp_path)) as client:
        html = (await client.get("/")).text
    assert leaks(html, policy, ("analytics", "marketing")) == []
    assert (
        '<script type="text/plain" data-consentkit-category="analytics" async '
        'src="https://www.googletagmanager.com/gtag/js?id=G-XXXXXXX"></script>'
    ) in html
    assert '<script type="text/plain" data-consentkit-category="marketing">\n!function(f,b,e,v,n,t,s)' in html
    # renamed out of the way of lazy-loading scripts, which would load a "data-src"
    assert 'data-consentkit-attr-src="https://www.youtube.com/embed/dQw4w9WgXcQ"' in html
    assert '<link data-consentkit-category="analytics" rel="preconnect" data-consentkit-attr-href=' in html
    assert '<template data-consentkit-category="marketing"><div data-consent="marketing"' in html
    assert re.search(r'<script src="/_consent/activate\.js" defer></script>', html)
    # inert mode may set Google's defaults (all denied) before the first Google tag
    assert "consent-mode.js?g=0000101" in html


async def test_embed_placeholder_grants_its_category_without_javascript(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML)
    async with client_for(tracker_app(policy, tmp_path)) as client:
        html = (await client.get("/")).text
        assert 'form="ck-allow-marketing"' in html[html.index('<span class="ck-embed"') :]
        form = html[html.index('<form id="ck-allow-marketing"') :]
        assert '<input type="hidden" name="categories" value="marketing">' in form
        assert 'name="action" value="embed"' in form
        response = await client.post(
            "/_consent",
            data={"action": "embed", "categories": "marketing", "next": "/"},
            headers={"origin": "http://testserver"},
        )
        assert response.status_code == 303
        after = (await client.get("/")).text
    assert "https://www.youtube.com/embed/dQw4w9WgXcQ" in after  # the video is back
    assert "googletagmanager.com" not in after  # analytics still undecided, still blocked
    assert "consentkit-banner" in after  # and still asked


async def test_cookies_of_denied_categories_are_expired_on_every_parent_domain(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML)
    async with client_for(tracker_app(policy, tmp_path), base_url="http://www.news.example.org") as client:
        response = await client.post(
            "/_consent",
            data={"action": "reject_all"},
            headers={
                "origin": "http://www.news.example.org",
                "cookie": "_ga_ABC123=GS1; _hjSession_1=x; keep=1",
            },
        )
    expired = response.headers.get_list("set-cookie")
    for name in ("_ga", "_gid", "_fbp", "_ga_ABC123", "_hjSession_1"):
        for domain in (
            "",
            "; Domain=www.news.example.org",
            "; Domain=news.example.org",
            "; Domain=example.org",
        ):
            assert f"{name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{domain}" in expired
    assert not any(c.startswith("keep=") for c in expired)


async def test_a_50_mb_streamed_page_passes_with_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    policy = parse_policy(POLICY_YAML)
    block = b"<p class='t'>Lorem ipsum <a href='/x'>dolor</a> sit amet, consectetur.</p>\n" * 800 + (
        b"<script src='https://www.googletagmanager.com/gtag/js?id=G-1'></script>\n"
    )
    total = 50 * 1024 * 1024

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"<!DOCTYPE html><html><body>"
            sent = 0
            while sent < total:
                yield block
                sent += len(block)
            yield b"</body></html>"

        return StreamingResponse(chunks(), media_type="text/html")

    app = Starlette(routes=[Route("/", stream)])
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    received = 0
    leaked = False

    requested = False

    async def receive() -> dict[str, object]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await anyio.sleep_forever()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, object]) -> None:  # consumes the stream as a server would
        nonlocal received, leaked
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            assert isinstance(body, bytes)
            received += len(body)
            leaked = leaked or b"googletagmanager" in body

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    tracemalloc.start()
    try:
        await app(scope, receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received > 20 * 1024 * 1024
    assert not leaked
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"


async def test_raw_text_and_comments_are_not_markup(tmp_path: Path) -> None:
    html = (
        '<html><body><textarea><script src="https://connect.facebook.net/x.js"></script></textarea>'
        '<!-- <script src="https://www.googletagmanager.com/x"></script> -->'
        "<title></body></title><p>ok</p></body></html>"
    )
    policy = parse_policy(POLICY_YAML)
    async with client_for(tracker_app(policy, tmp_path, html=html)) as client:
        out = (await client.get("/")).text
    assert '<textarea><script src="https://connect.facebook.net/x.js"></script></textarea>' in out
    assert '<!-- <script src="https://www.googletagmanager.com/x"></script> -->' in out
    assert out.count('<section id="consentkit-banner"') == 1
    # placed where the body starts (issue #14 §1b), once, whatever the raw text holds
    assert out.index("<body>") < out.index('<section id="consentkit-banner"') < out.index("<textarea>")


@pytest.mark.parametrize(
    "nest",
    [
        "<svg>" + "<script>" * 300,
        "<svg>" + "<style>" * 300,
        "<noscript>" * 300,
        "<math>" + "<script>" * 300,
    ],
    ids=["svg-script", "svg-style", "noscript", "math-script"],
)
async def test_deeply_nested_documents_are_blocked_not_a_server_error(tmp_path: Path, nest: str) -> None:
    """Content nested past what the rewriter looks into is blocked uninspected; the page is served."""
    html = (
        f"<html><body><p>before</p>{nest}<img src=https://www.facebook.com/tr?id=1><p>after</p></body></html>"
    )
    policy = parse_policy(POLICY_YAML)
    async with client_for(tracker_app(policy, tmp_path, html=html)) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert "facebook.com" not in response.text
    assert "<p>before</p>" in response.text
    assert leaks(response.text, policy, ("analytics", "marketing")) == []
