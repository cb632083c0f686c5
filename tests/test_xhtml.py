"""XHTML pages (``application/xhtml+xml``) keep parsing as XML with consentkit's markup in them (#14 §3)."""

from __future__ import annotations

import json
import xml.dom.minidom
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consentkit import Policy, parse_policy

from .conftest import POLICY_YAML, client_for, decide, make_app

pytestmark = pytest.mark.anyio

XHTML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="fr"><head><meta charset="UTF-8"/>'
    "<title>Communiqué</title></head><body><h1>Titre</h1><p>Texte&#160;: é</p>"
    '<p>Vidéo <iframe src="https://www.youtube.com/embed/x" width="560" height="315"></iframe></p>'
    "</body></html>"
)


def _app(policy: Policy, tmp_path: Path) -> object:
    async def page(request: Request) -> Response:
        return Response(XHTML, media_type="application/xhtml+xml")

    return make_app(policy, [Route("/", page), Route("/page", page)], tmp_path=tmp_path)


def _parses_as_xml(body: bytes) -> xml.dom.minidom.Document:
    try:
        return xml.dom.minidom.parseString(body)
    except Exception as error:
        pytest.fail(f"the page is not well-formed XML any more: {error}\n{body.decode()[:3000]}")


async def _states(client: httpx.AsyncClient) -> list[bytes]:
    """The page as an undecided visitor, right after deciding (flash note) and later (settings control)."""
    pages = [(await client.get("/")).content]
    await decide(client, "reject_all")
    pages.append((await client.get("/")).content)
    pages.append((await client.get("/")).content)
    return pages


# (Inert mode rewrites the page's own tags, e.g. a hidden iframe: that is the rewriter's XML mode.)
@pytest.mark.parametrize("extra", ["", "signals:\n  gpc: true\n", "banner:\n  settings_control: false\n"])
async def test_every_state_of_an_xhtml_page_is_well_formed(tmp_path: Path, extra: str) -> None:
    policy = parse_policy(POLICY_YAML + extra)
    async with client_for(_app(policy, tmp_path)) as client:
        pages = await _states(client)
        gpc = (await client.get("/", headers={"sec-gpc": "1"})).content
    for body in [*pages, gpc]:
        document = _parses_as_xml(body)
        assert document.documentElement.getAttribute("xmlns") == "http://www.w3.org/1999/xhtml"
    first = _parses_as_xml(pages[0])
    ids = [e.getAttribute("id") for e in first.getElementsByTagName("section")]
    assert "consentkit-banner" in ids
    banner = next(
        e for e in first.getElementsByTagName("section") if e.getAttribute("id") == "consentkit-banner"
    )
    assert banner.getAttribute("data-nosnippet") == ""
    assert banner.hasAttribute("data-nosnippet")


async def test_hostile_policy_texts_keep_an_xhtml_page_well_formed(tmp_path: Path) -> None:
    hostile = "A &nbsp; <b>bold</b> \"quoted\" 'single' ]]> &amp; &copy; <!-- -->"
    yaml = POLICY_YAML.replace("title: Vos données", f"title: {json.dumps(hostile)}").replace(
        "accept: Accept\n", f"accept: {json.dumps(hostile)}\n"
    )
    policy = parse_policy(yaml)
    async with client_for(_app(policy, tmp_path)) as client:
        body = (await client.get("/", headers={"accept-language": "en"})).content
    document = _parses_as_xml(body)
    [title] = [e for e in document.getElementsByTagName("h2") if e.getAttribute("id") == "ck-title"]
    text = "".join(node.data for node in title.childNodes if node.nodeType == node.TEXT_NODE)
    assert text == hostile


async def test_an_xhtml_page_in_chunks_is_well_formed_too(policy: Policy, tmp_path: Path) -> None:
    from starlette.responses import StreamingResponse

    async def page(request: Request) -> StreamingResponse:
        async def chunks():  # type: ignore[no-untyped-def]
            data = XHTML.encode()
            for i in range(0, len(data), 11):
                yield data[i : i + 11]

        return StreamingResponse(chunks(), media_type="application/xhtml+xml")

    app = make_app(policy, [Route("/", page)], tmp_path=tmp_path)
    async with client_for(app) as client:
        _parses_as_xml((await client.get("/")).content)


@pytest.mark.parametrize("media", ["text/xml", "application/xml", "text/xml; charset=utf-8"])
async def test_an_xhtml_document_served_as_generic_xml_is_rewritten_too(
    policy: Policy, tmp_path: Path, media: str
) -> None:
    """A browser renders an XML document whose root is XHTML <html> as a page, scripts and all."""
    tracked = XHTML.replace(
        "<title>Communiqué</title>",
        '<title>Communiqué</title><script src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>',
    )

    async def page(request: Request) -> Response:
        return Response(tracked, media_type=media)

    app = make_app(policy, [Route("/", page)], tmp_path=tmp_path)
    async with client_for(app) as client:
        response = await client.get("/")
    document = _parses_as_xml(response.content)
    assert "googletagmanager" not in response.text
    assert any(e.getAttribute("id") == "consentkit-banner" for e in document.getElementsByTagName("section"))


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        "<description>&lt;script src=https://www.googletagmanager.com/gtag/js&gt;</description></channel></rss>",
        '<?xml version="1.0"?><html><body><p>not in the XHTML namespace</p></body></html>',
        "<feed xmlns='http://www.w3.org/2005/Atom'><html xmlns='http://www.w3.org/1999/xhtml'/></feed>",
    ],
)
async def test_other_xml_documents_pass_untouched(policy: Policy, tmp_path: Path, body: str) -> None:
    async def page(request: Request) -> Response:
        return Response(body, media_type="application/xml")

    app = make_app(policy, [Route("/", page)], tmp_path=tmp_path)
    async with client_for(app) as client:
        response = await client.get("/")
    assert response.text == body


@pytest.mark.parametrize("chunk", [0, 1, 7])
async def test_the_additions_go_into_the_xhtml_body_not_the_head(
    policy: Policy, tmp_path: Path, chunk: int
) -> None:
    """XML has no raw text: the <title>'s text must not be taken for the first content of the body."""
    from starlette.responses import StreamingResponse

    async def page(request: Request) -> Response:
        data = XHTML.encode()
        if not chunk:
            return Response(data, media_type="application/xhtml+xml")

        async def chunks():  # type: ignore[no-untyped-def]
            for i in range(0, len(data), chunk):
                yield data[i : i + chunk]

        return StreamingResponse(chunks(), media_type="application/xhtml+xml")

    app = make_app(policy, [Route("/", page)], tmp_path=tmp_path)
    async with client_for(app) as client:
        document = _parses_as_xml((await client.get("/")).content)
    [head] = document.getElementsByTagName("head")
    [title] = document.getElementsByTagName("title")
    assert [n.nodeName for n in head.childNodes] == ["meta", "title"]
    assert "".join(n.data for n in title.childNodes) == "Communiqué"
    [banner] = [
        e for e in document.getElementsByTagName("section") if e.getAttribute("id") == "consentkit-banner"
    ]
    parent = banner.parentNode
    while parent is not None and parent.nodeName != "body":
        parent = parent.parentNode
    assert parent is not None, "the banner is not inside <body>"
