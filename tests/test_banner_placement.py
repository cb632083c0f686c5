"""Where the banner lands (issue #14 §1b, issue #12 item 2): where the body starts, so that no page
ending can swallow it; at the page's own marker; never twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import html5lib
import pytest
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from consentkit import Policy

from .conftest import client_for, make_app, page_route

pytestmark = pytest.mark.anyio

BANNER = '<section id="consentkit-banner"'
HEAD = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'


def _paths(element: Element, path: tuple[str, ...] = ()) -> Iterator[tuple[Element, tuple[str, ...]]]:
    here = (*path, str(element.tag))
    yield element, here
    for child in element:
        yield from _paths(child, here)


def banner_in_dom(page: str) -> tuple[str, ...] | None:
    """The element path to the banner as a browser builds the page (None: not in the DOM)."""
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    for element, path in _paths(tree):
        if element.get("id") == "consentkit-banner":
            assert element.find(".//form") is not None and element.find(".//button") is not None
            return path
    return None


async def fetch(policy: Policy, tmp_path: Path, html: str) -> str:
    app = make_app(policy, [Route("/", page_route(html))], tmp_path=tmp_path)
    async with client_for(app) as client:
        return (await client.get("/")).text


ENDINGS = {
    "unclosed select": "<body><form><select name=s><option>One<option>Two",
    "unclosed a": '<body><p><a href="/x">link',
    "unclosed button": "<body><button>Press",
    "unclosed table": "<body><table><tr><td>cell",
    "table without cells": "<body><table>",
    "plaintext": "<body><plaintext>everything here is text",
    "unclosed textarea": "<body><textarea>typing",
    "unclosed comment": "<body><p>x<!-- never closed",
    "unclosed script": "<body><script>var x = 1;",
    "unclosed svg": "<body><svg><g><text>label",
    "no body tag": "<p>Just a paragraph<select><option>x",
    "content before body tag": "<p>early</p><body class=late><select>",
}


@pytest.mark.parametrize("name", list(ENDINGS))
async def test_the_banner_survives_any_page_end(policy: Policy, tmp_path: Path, name: str) -> None:
    text = await fetch(policy, tmp_path, HEAD + ENDINGS[name])
    assert text.count(BANNER) == 1
    path = banner_in_dom(text)
    assert path == ("html", "body", "section"), f"{name}: the banner ended up at {path}"


async def test_a_frameset_page_keeps_its_frames(policy: Policy, tmp_path: Path) -> None:
    """A frameset page has no body to show a banner in: it is left whole (its frames, served
    through the middleware, carry the banner), never broken by markup that would void it."""
    page = HEAD + '<frameset cols="50%,50%"><frame src="/a"><frame src="/b"></frameset></html>'
    text = await fetch(policy, tmp_path, page)
    tree = html5lib.parse(text, namespaceHTMLElements=False)
    assert len(tree.findall(".//frame")) == 2
    assert tree.find(".//body") is None


async def test_the_marker_places_the_banner(policy: Policy, tmp_path: Path) -> None:
    page = (
        HEAD + "<body><header><h1>Site</h1></header><main><p>Article</p></main>"
        "<footer><!-- consentkit:banner --><p>Footer</p></footer></body></html>"
    )
    text = await fetch(policy, tmp_path, page)
    assert text.count(BANNER) == 1
    assert "consentkit:banner" not in text
    assert banner_in_dom(text) == ("html", "body", "footer", "section")
    assert text.index("<footer>") < text.index(BANNER) < text.index("<p>Footer</p>")
    assert text.index('class="ck-skip"') < text.index("<header>")  # the rest stays at the start


async def test_a_page_with_its_own_banner_does_not_get_a_second(policy: Policy, tmp_path: Path) -> None:
    own = '<section id="consentkit-banner" class="ck">rendered by the template helper</section>'
    text = await fetch(policy, tmp_path, HEAD + f"<body><main>x</main>{own}</body></html>")
    assert text.count(BANNER) == 1
    assert "rendered by the template helper" in text


def _streamed(chunks: list[bytes]) -> Route:
    async def endpoint(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        return StreamingResponse(body(), media_type="text/html")

    return Route("/", endpoint)


async def test_a_streamed_page_declares_its_marker(policy: Policy, tmp_path: Path) -> None:
    """In a streamed body the marker may come chunks later: <meta name=consentkit-banner
    content=manual> says so, and the banner waits for it (nothing else is held back)."""
    later = [
        b"<main>" + b"<p>text</p>" * 500 + b"</main>",
        b"<aside><!-- consentkit:banner --></aside></body>",
    ]
    for declared in (False, True):
        meta = b'<meta name="consentkit-banner" content="manual">' if declared else b""
        chunks = [HEAD.encode().replace(b"</head>", meta + b"</head>") + b"<body>", *later]
        app = make_app(policy, [_streamed(chunks)], tmp_path=tmp_path)
        async with client_for(app) as client:
            text = (await client.get("/")).text
        assert text.count(BANNER) == 1
        where = banner_in_dom(text)
        if declared:
            assert where == ("html", "body", "aside", "section")
        else:  # not declared: at the start of the body, the late marker left as it is
            assert where == ("html", "body", "section")
            assert "<!-- consentkit:banner -->" in text
