"""The middleware on pages: banner injection, pass-through, request.state.consent."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from consentkit import ConsentMiddleware, Policy

from .conftest import KEY, PAGE, client_for, decide, make_app, page_route

pytestmark = pytest.mark.anyio

BANNER = '<section id="consentkit-banner"'


def count(text: str, needle: str = BANNER) -> int:
    return text.count(needle)


async def test_banner_once_before_the_last_body_end(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert count(response.text) == 1
    banner_at = response.text.index(BANNER)
    assert banner_at < response.text.rindex("</body>")
    assert response.text.endswith("</body></html>")
    assert int(response.headers["content-length"]) == len(response.content)
    assert "cookie" in response.headers["vary"].lower()
    assert response.headers["x-consent"] == "False:False:False"


async def test_banner_markup_is_accessible_and_works_without_javascript(client: httpx.AsyncClient) -> None:
    text = (await client.get("/page?x=1")).text
    assert 'aria-labelledby="ck-title"' in text and "data-nosnippet" in text and 'lang="en"' in text
    assert '<form method="post" action="/_consent">' in text
    assert '<input type="hidden" name="next" value="/page?x=1">' in text
    assert '<button class="ck-btn" type="submit" name="action" value="accept_all">Accept</button>' in text
    assert '<button class="ck-btn" type="submit" name="action" value="reject_all">Decline</button>' in text
    assert '<a href="/privacy">Privacy policy</a>' in text
    assert (
        '<input type="checkbox" id="ck-c-analytics" name="categories" value="analytics" aria-describedby'
        in text
    )
    assert "checked disabled" in text  # necessary: always on
    assert 'class="ck-skip" href="#consentkit-banner"' in text


@pytest.mark.parametrize("html", ["<p>no body tag at all</p>", "<html><body>x</body></html><!-- tail -->"])
async def test_banner_goes_at_the_end_without_a_body_end(policy: Policy, html: str, tmp_path: Path) -> None:
    app = make_app(policy, [Route("/", page_route(html))], tmp_path=tmp_path)
    async with client_for(app) as client:
        # bare markup is a document when the browser navigates to it (see test_fragments.py)
        text = (await client.get("/", headers={"sec-fetch-dest": "document"})).text
    assert count(text) == 1
    if "</body>" in html:
        assert text.index(BANNER) < text.index("</body>")
    else:  # where the body starts: before the first content (issue #14 §1b)
        assert text.index(BANNER) < text.index("<p>no body tag at all</p>")


async def test_streamed_html_in_tiny_chunks_with_split_body_end(policy: Policy, tmp_path: Path) -> None:
    document = PAGE.replace("</body>", "<script>var s = '</body>';</script></body>") + "\n"

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            data = document.encode()
            for index in range(0, len(data), 3):
                yield data[index : index + 3]

        return StreamingResponse(chunks(), media_type="text/html")

    app = make_app(policy, [Route("/", stream)], tmp_path=tmp_path)
    async with client_for(app) as client:
        response = await client.get("/")
    assert count(response.text) == 1
    assert "content-length" not in response.headers
    # right after <body> (issue #14 §1b), whatever the script string holds
    assert response.text.index("<body>") < response.text.index(BANNER) < response.text.index("<h1>Hello")


async def _bare_and_wrapped(
    policy: Policy, tmp_path: Path, route: Route, method: str = "GET"
) -> tuple[Any, Any]:
    bare = Starlette(routes=[route])
    wrapped = make_app(policy, [route], tmp_path=tmp_path)
    async with client_for(bare) as a, client_for(wrapped) as b:
        return await a.request(method, route.path), await b.request(method, route.path)


@pytest.mark.parametrize(
    "response",
    [
        JSONResponse({"hello": "world", "html": "</body>"}),
        Response(bytes(range(256)) * 10, media_type="image/png"),
        Response(PAGE, status_code=206, media_type="text/html", headers={"content-range": "bytes 0-10/100"}),
        Response(status_code=304, headers={"etag": '"x"'}),
        Response(status_code=204),
    ],
    ids=["json", "binary", "partial", "not-modified", "no-content"],
)
async def test_other_responses_pass_byte_for_byte(policy: Policy, tmp_path: Path, response: Response) -> None:
    async def endpoint(request: Request) -> Response:
        return response

    bare, wrapped = await _bare_and_wrapped(policy, tmp_path, Route("/x", endpoint))
    assert wrapped.status_code == bare.status_code
    assert wrapped.content == bare.content
    assert wrapped.headers.raw == bare.headers.raw


async def test_head_requests_pass_untouched(policy: Policy, tmp_path: Path) -> None:
    async def endpoint(request: Request) -> Response:
        return HTMLResponse(PAGE)

    bare, wrapped = await _bare_and_wrapped(
        policy, tmp_path, Route("/x", endpoint, methods=["GET", "HEAD"]), "HEAD"
    )
    assert wrapped.headers["content-length"] == bare.headers["content-length"]
    assert wrapped.content == b""


async def test_lifespan_passes_through(policy: Policy) -> None:
    """(A WebSocket handshake is not passed through: its Set-Cookie is filtered, see test_websocket.py.)"""
    kind = "lifespan"
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    async def receive() -> dict[str, Any]:
        return {}

    async def send(message: Any) -> None:
        return None

    scope = {"type": kind, "path": "/_consent", "headers": []}
    await ConsentMiddleware(app, policy, secret_keys=[KEY])(scope, receive, send)
    assert seen == [(scope, receive, send)]
    assert "state" not in scope


async def test_vary_is_merged_with_the_apps(policy: Policy, tmp_path: Path) -> None:
    app = make_app(policy, [Route("/", page_route(headers={"vary": "Accept-Encoding"}))], tmp_path=tmp_path)
    async with client_for(app) as client:
        vary = (await client.get("/")).headers["vary"]
    assert vary.startswith("Accept-Encoding, Cookie")


async def test_decline_then_the_banner_is_gone_and_analytics_is_off(client: httpx.AsyncClient) -> None:
    response = await decide(client, "reject_all")
    assert response.status_code == 303
    page = await client.get("/")
    assert BANNER not in page.text
    assert page.headers["x-consent"] == "True:False:False"
    assert '<a href="/_consent/settings?next=/&amp;lang=en">Cookie settings</a>' in page.text
    assert 'role="status"' in page.text  # "Your choices have been saved."
    again = await client.get("/")
    assert 'role="status"' not in again.text


async def test_accept_all_and_save_are_visible_to_the_app(client: httpx.AsyncClient) -> None:
    await decide(client, "accept_all")
    assert (await client.get("/")).headers["x-consent"] == "True:True:True"
    await decide(client, "save", ("analytics",))
    assert (await client.get("/")).headers["x-consent"] == "True:True:False"


async def test_latin1_page_gets_an_ascii_banner(policy: Policy, tmp_path: Path) -> None:
    html = '<html lang="fr"><body><p>caf\xe9</p></body></html>'
    route = Route("/", page_route(html, media_type="text/html; charset=iso-8859-1"))

    async def endpoint(request: Request) -> Response:
        return Response(html.encode("latin-1"), media_type="text/html; charset=iso-8859-1")

    app = make_app(policy, [Route("/", endpoint)], tmp_path=tmp_path)
    async with client_for(app) as client:
        response = await client.get("/")
    assert route is not None
    raw = response.content
    assert b"caf\xe9" in raw  # the page itself is untouched
    banner = raw[raw.index(BANNER.encode()) : raw.index(b"</section>")]
    assert banner.isascii()
    assert b"Vos donn&#233;es" in banner  # the French banner, because of <html lang="fr">


async def test_csp_nonce_is_carried_by_injected_elements(policy: Policy, tmp_path: Path) -> None:
    csp = "script-src 'nonce-abc123' 'strict-dynamic'; style-src 'self' 'nonce-abc123'"
    app = make_app(
        policy, [Route("/", page_route(headers={"content-security-policy": csp}))], tmp_path=tmp_path
    )
    async with client_for(app) as client:
        text = (await client.get("/")).text
    assert re.search(
        r'<link rel="stylesheet" href="/_consent/consentkit\.[0-9a-f]{16}\.css" nonce="abc123">', text
    )
    assert 'banner.js" defer nonce="abc123"></script>' in text


async def test_mounted_under_a_root_path(policy: Policy, tmp_path: Path) -> None:
    from starlette.routing import Mount

    inner = make_app(policy, tmp_path=tmp_path)
    outer = Starlette(routes=[Mount("/shop", app=inner)])
    async with client_for(outer) as client:
        text = (await client.get("/shop/page")).text
        assert 'action="/shop/_consent"' in text
        assert 'name="next" value="/shop/page"' in text
        response = await client.post(
            "/shop/_consent",
            data={"action": "reject_all", "next": "/shop/page"},
            headers={"origin": "http://testserver"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/shop/page"


async def test_app_set_cookies_of_denied_categories_are_dropped(policy: Policy, tmp_path: Path) -> None:
    async def endpoint(request: Request) -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("_ga", "GA1.1.123")
        response.set_cookie("_ga_ABC", "GS1")
        response.set_cookie("session", "s1")
        return response

    app = make_app(policy, [Route("/api", endpoint)], tmp_path=tmp_path)
    async with client_for(app) as client:
        before = (await client.get("/api")).headers.get_list("set-cookie")
        assert [c.split("=")[0] for c in before] == ["session"]
        await decide(client, "accept_all")
        after = (await client.get("/api")).headers.get_list("set-cookie")
        assert [c.split("=")[0] for c in after] == ["_ga", "_ga_ABC", "session"]


async def test_html_response_from_the_app_is_not_buffered_whole(policy: Policy, tmp_path: Path) -> None:
    sent: list[int] = []

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"<html><body>"
            for _ in range(50):
                yield b"<p>" + b"x" * 1000 + b"</p>"
            yield b"</body></html>"

        return StreamingResponse(chunks(), media_type="text/html")

    app = make_app(policy, [Route("/", stream)], tmp_path=tmp_path)

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.body":
                sent.append(len(message.get("body", b"")))
            await send(message)

        await app(scope, receive, wrapped)

    async with client_for(spy) as client:
        response = await client.get("/")
    assert count(response.text) == 1
    assert len(sent) > 40 and max(sent) < 10_000


async def test_pages_read_the_decision_as_html_too(policy: Policy, tmp_path: Path) -> None:
    async def endpoint(request: Request) -> Response:
        return HTMLResponse(f"<body>{request.state.consent.choices}</body>")

    app = make_app(policy, [Route("/", endpoint)], tmp_path=tmp_path)
    async with client_for(app) as client:
        await decide(client, "save", ("marketing",))
        text = (await client.get("/")).text
    assert "{'necessary': True, 'analytics': False, 'marketing': True}" in text


@pytest.mark.parametrize(
    "key", ["background", "text", "muted", "accent", "accent_text", "border", "focus", "link"]
)
async def test_every_theme_colour_reaches_a_css_rule(key: str, tmp_path: Path) -> None:
    from consentkit import parse_policy

    from .conftest import POLICY_YAML

    policy = parse_policy(POLICY_YAML + f"banner:\n  theme:\n    {key}: '#010203'\n")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        html = (await client.get("/")).text
        href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert href is not None
        page = (await client.get(href.group(1))).text  # the stylesheet the page links
    declared = re.findall(r"(--ck-[a-z-]+):#010203", page)
    assert declared
    assert any(f"var({name})" in page for name in declared)
