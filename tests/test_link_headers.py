"""``Link`` response headers to blocked hosts are dropped until their category is allowed (#14 §1)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consentkit import Policy

from .conftest import client_for, decide, make_app, page_route

pytestmark = pytest.mark.anyio

GTM = "https://www.googletagmanager.com/gtag/js?id=G-1"
FB = "https://connect.facebook.net/en_US/fbevents.js"


def _app(policy: Policy, tmp_path: Path, links: list[str], media: str = "text/html") -> Starlette:
    route = page_route()

    async def linked(request: Request) -> Response:
        response = await route(request)
        for link in links:
            response.headers.append("link", link)
        if media != "text/html":
            response.headers["content-type"] = media
        return response

    return make_app(policy, [Route("/", linked)], tmp_path=tmp_path)


def _links(response: httpx.Response) -> list[str]:
    return response.headers.get_list("link")


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        (f"<{GTM}>; rel=preload; as=script", None),
        (f'<{GTM}>; rel="preload"; as="script"', None),
        ("<https://www.googletagmanager.com>; rel=preconnect", None),
        ("<//www.google-analytics.com>; rel=dns-prefetch", None),
        (f"<{FB}>; rel=modulepreload", None),
        (f"<{FB}>; rel=prefetch", None),
        (f"<{FB}>; rel=prerender", None),
        (f"<{FB}>; rel=stylesheet", None),
        (f'<{FB}>; rel="alternate stylesheet"', None),
        ("<https://static.hotjar.com/c/hotjar.js>; rel=preload; as=script", None),
        (f"<{GTM}>; rel=some-future-hint", None),
        (f'<{GTM}>; title="a, b; c"; rel=preload', None),
        ('</img.jpg>; rel=preload; as=image; imagesrcset="https://www.facebook.com/tr.gif 2x"', None),
        (f'<{GTM}>; rel=preload; title="unterminated', None),
        ("</app.css>; rel=preload; as=style", "</app.css>; rel=preload; as=style"),
        ("<https://cdn.example.org/a.js>; rel=preload", "<https://cdn.example.org/a.js>; rel=preload"),
        (f"<{FB}>; rel=canonical", f"<{FB}>; rel=canonical"),
        (
            f"</a.css>; rel=preload; as=style, <{GTM}>; rel=preload; as=script, </b.js>; rel=modulepreload",
            "</a.css>; rel=preload; as=style, </b.js>; rel=modulepreload",
        ),
        (
            f'</x,y.css>; rel="preload"; title="one, <{GTM}>", <{FB}>; rel=preload',
            f'</x,y.css>; rel="preload"; title="one, <{GTM}>"',
        ),
    ],
)
async def test_links_to_blocked_hosts_are_dropped(
    policy: Policy, tmp_path: Path, header: str, kept: str | None
) -> None:
    async with client_for(_app(policy, tmp_path, [header])) as client:
        undecided = await client.get("/")
        assert _links(undecided) == ([] if kept is None else [kept])
        await decide(client, "accept_all")
        accepted = await client.get("/")
        assert _links(accepted) == [header]


async def test_several_link_headers_are_each_filtered(policy: Policy, tmp_path: Path) -> None:
    headers = [
        f"<{GTM}>; rel=preload; as=script",
        "</site.css>; rel=preload; as=style",
        f"<{FB}>; rel=preconnect",
    ]
    async with client_for(_app(policy, tmp_path, headers)) as client:
        assert _links(await client.get("/")) == ["</site.css>; rel=preload; as=style"]
        await decide(client, "save", ("analytics",))
        assert _links(await client.get("/")) == headers[:2]


async def test_link_headers_on_responses_that_are_not_html_are_filtered(
    policy: Policy, tmp_path: Path
) -> None:
    async with client_for(
        _app(policy, tmp_path, [f"<{GTM}>; rel=preload"], media="application/json")
    ) as client:
        response = await client.get("/")
        assert response.headers["content-type"] == "application/json"
        assert _links(response) == []


_SAFE = st.sampled_from(["/a.css", "https://cdn.example.org/x.js", "/p?a=1,2", "https://example.org/f.woff2"])
_BLOCKED = st.sampled_from([GTM, FB, "https://script.hotjar.com/x", "//www.google-analytics.com/g"])
_FETCHING = st.sampled_from(["preload", "prefetch", "preconnect", "dns-prefetch", "modulepreload", "PreLoad"])
_PARAM = st.sampled_from(["as=script", 'as="style"', 'title="a, b; <c>"', "crossorigin", 'media="(x), y"'])


@st.composite
def _link(draw: st.DrawFn) -> tuple[str, bool]:
    blocked = draw(st.booleans())
    url = draw(_BLOCKED if blocked else _SAFE)
    rel = draw(_FETCHING)
    rel_param = draw(st.sampled_from([f"rel={rel}", f'rel="{rel}"', f'rel="canonical {rel}"']))
    params = draw(st.lists(_PARAM, max_size=3))
    params.insert(draw(st.integers(0, len(params))), rel_param)
    return f"<{url}>" + "".join(f"; {p}" for p in params), blocked


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_link(), min_size=1, max_size=4), min_size=1, max_size=3))
def test_generated_link_headers_keep_exactly_the_allowed_links(
    policy: Policy, headers: list[list[tuple[str, bool]]]
) -> None:
    import anyio

    app = _app(policy, Path("/nonexistent"), [", ".join(link for link, _ in header) for header in headers])

    async def run() -> list[str]:
        async with client_for(app) as client:
            return _links(await client.get("/"))

    got = anyio.run(run)
    expected = [
        ", ".join(link for link, blocked in header if not blocked)
        for header in headers
        if any(not blocked for _, blocked in header)
    ]
    assert got == expected


async def test_early_hints_lose_their_blocked_links(policy: Policy) -> None:
    """Hypercorn's ``http.response.early_hint`` extension (103 Early Hints) carries links too."""
    from consentkit import ConsentMiddleware

    from .conftest import KEY

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        await send(  # type: ignore[operator]
            {
                "type": "http.response.early_hint",
                "links": [f"<{GTM}>; rel=preload".encode(), b"</a.css>; rel=preload"],
            }
        )
        await send({"type": "http.response.early_hint", "links": [f"<{FB}>; rel=preconnect".encode()]})  # type: ignore[operator]
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    middleware = ConsentMiddleware(app, policy=policy, secret_keys=[KEY])
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await middleware(scope, receive, send)
    hints = [m for m in sent if m["type"] == "http.response.early_hint"]
    assert hints == [{"type": "http.response.early_hint", "links": [b"</a.css>; rel=preload"]}]
