"""Strict CSP: consentkit's CSS is a same-origin, content-hashed stylesheet; no inline style anywhere.

Under ``default-src 'self'`` (no nonce) an inline ``<style>`` or ``style=`` attribute is refused by
the browser; the banner must still render styled. (The real-browser check is in
``tests/browser/test_csp.py``.)
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import html5lib
import httpx
import pytest
from starlette.routing import Route

from consentkit import Policy, parse_policy

from .conftest import POLICY_YAML, client_for, decide, make_app, page_route

pytestmark = pytest.mark.anyio

LINK = re.compile(
    r'<link rel="stylesheet" href="(/_consent/consentkit\.[0-9a-f]{16}\.css)"( nonce="[^"]*")?>'
)


def inline_styles(html: str) -> list[str]:
    """``<style>`` elements and ``style`` attributes, as a browser's parser sees them."""
    document = html5lib.parse(html, namespaceHTMLElements=False)
    found = []
    for element in document.iter():
        if element.tag == "style":
            found.append("<style>")
        if "style" in element.attrib:
            found.append(f"<{element.tag} style=...>")
    return found


async def stylesheet_of(client: httpx.AsyncClient, page: str) -> httpx.Response:
    match = LINK.search(page)
    assert match is not None, "no consentkit stylesheet link in the page"
    return await client.get(match.group(1))


async def test_the_page_links_a_content_hashed_stylesheet(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    assert page.count('rel="stylesheet"') == 1
    response = await stylesheet_of(client, page)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "#consentkit-banner{position:fixed" in response.text
    assert ".ck-manage" in response.text and ".ck-embed" in response.text


async def test_the_stylesheet_is_served_compressed_when_asked(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    url = LINK.search(page).group(1)  # type: ignore[union-attr]
    plain = await client.get(url, headers={"accept-encoding": "identity"})
    packed = await client.get(url, headers={"accept-encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert packed.text == plain.text  # httpx decodes it
    assert int(packed.headers["content-length"]) < len(plain.content) / 2


async def test_the_hash_follows_the_content(tmp_path: Path) -> None:
    themed = parse_policy(POLICY_YAML + "banner:\n  theme:\n    accent: '#123456'\n")
    urls = []
    for policy in (parse_policy(POLICY_YAML), themed):
        async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
            urls.append(LINK.search((await client.get("/")).text).group(1))  # type: ignore[union-attr]
    assert urls[0] != urls[1]


async def test_an_outdated_hash_gets_the_current_css_briefly_cached(client: httpx.AsyncClient) -> None:
    """A page cached before a deploy still gets a styled banner; its old URL is not cached forever."""
    current = await stylesheet_of(client, (await client.get("/")).text)
    old = await client.get("/_consent/consentkit.0123456789abcdef.css")
    assert old.status_code == 200 and old.text == current.text
    assert "immutable" not in old.headers["cache-control"]
    assert (await client.post("/_consent/consentkit.0123456789abcdef.css")).status_code == 405


async def test_head_of_the_stylesheet(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    url = LINK.search(page).group(1)  # type: ignore[union-attr]
    head = await client.head(url, headers={"accept-encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len((await client.get(url)).content)


PAGE = '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><p>x</p></body></html>'


@pytest.mark.parametrize("state", ["undecided", "just-saved", "decided", "gpc", "inert", "french"])
async def test_nothing_consentkit_adds_is_inline_style(policy: Policy, tmp_path: Path, state: str) -> None:
    yaml = POLICY_YAML + ("blocking:\n  mode: inert\n" if state == "inert" else "")
    html = PAGE.replace('lang="en"', 'lang="fr"') if state == "french" else PAGE
    app = make_app(parse_policy(yaml), [Route("/", page_route(html))], tmp_path=tmp_path)
    headers = {"sec-gpc": "1"} if state == "gpc" else {}
    async with client_for(app) as client:
        if state in ("just-saved", "decided"):
            await decide(client, "save", ("analytics",))
        if state == "decided":
            await client.get("/")
        response = await client.get("/", headers=headers)
    assert response.text != html, "nothing was added: the test would prove nothing"
    assert inline_styles(response.text) == []
    assert response.text.count('rel="stylesheet"') == 1


async def test_the_settings_page_needs_no_inline_style(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await client.get("/_consent/settings?next=/page")
        assert inline_styles(response.text) == []
        csp = response.headers["content-security-policy"]
        assert "style-src 'self'" in csp and "nonce" not in csp and "unsafe-inline" not in csp
        assert LINK.search(response.text)
        await decide(client, "reject_all", next_url="/_consent/settings")


async def test_the_link_carries_the_style_nonce_and_scripts_the_script_nonce(
    policy: Policy, tmp_path: Path
) -> None:
    csp = "default-src 'self'; script-src 'nonce-Scr1pt' 'strict-dynamic'; style-src 'nonce-Sty1e'"
    app = make_app(
        policy, [Route("/", page_route(headers={"content-security-policy": csp}))], tmp_path=tmp_path
    )
    async with client_for(app) as client:
        text = (await client.get("/")).text
    assert LINK.search(text).group(2) == ' nonce="Sty1e"'  # type: ignore[union-attr]
    assert 'banner.js" defer nonce="Scr1pt"></script>' in text


async def test_a_style_src_of_self_gives_no_nonce(policy: Policy, tmp_path: Path) -> None:
    csp = "default-src 'self'; script-src 'self' 'nonce-abc'"
    app = make_app(
        policy, [Route("/", page_route(headers={"content-security-policy": csp}))], tmp_path=tmp_path
    )
    async with client_for(app) as client:
        text = (await client.get("/")).text
    assert LINK.search(text).group(2) is None  # type: ignore[union-attr]
    assert 'nonce="abc"' in text


async def test_first_visit_pages_carry_less(policy: Policy, tmp_path: Path) -> None:
    """The banner's CSS is fetched once and cached, instead of riding along in every page."""
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        page = await client.get("/")
        css = await stylesheet_of(client, page.text)
    added = len(page.content) - len(PAGE_SOURCE)
    assert len(css.content) > 1000
    assert added < 6000  # the banner markup, a skip link and a ~90-byte link; no CSS
    assert css.text not in page.text


PAGE_SOURCE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Page</title></head>'
    "<body><h1>Hello</h1><p>Content</p></body></html>"
)


def test_css_ships_gzip_identical() -> None:
    from consentkit.banner import Renderer

    renderer = Renderer(parse_policy(POLICY_YAML), "/_consent")
    assert gzip.decompress(renderer.css_gzip) == renderer.css_bytes
