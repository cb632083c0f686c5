"""Embed placeholders stand where the iframe was without reshaping the page (issue #14 §1b), and
carry no inline style (they work under a strict CSP)."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

import html5lib
import pytest
from starlette.routing import Route

from consentkit import Policy

from .conftest import client_for, make_app, page_route

pytestmark = pytest.mark.anyio

VIDEO = '<iframe src="https://www.youtube.com/embed/x" width="560" height="315"></iframe>'


async def fetch(policy: Policy, tmp_path: Path, body: str) -> str:
    html = f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"
    app = make_app(policy, [Route("/", page_route(html))], tmp_path=tmp_path)
    async with client_for(app) as client:
        return (await client.get("/")).text


def _find(tree: Element, tag: str, attr: str | None = None) -> list[Element]:
    return [e for e in tree.iter(tag) if attr is None or e.get(attr) is not None]


@pytest.mark.parametrize("wrapper", ["p", "a", "b", "button", "em", "label"])
async def test_the_placeholder_stays_inside_its_phrasing_parent(
    policy: Policy, tmp_path: Path, wrapper: str
) -> None:
    attrs = ' href="/watch"' if wrapper == "a" else ""
    inner = f"<{wrapper}{attrs}>this {VIDEO} now.</{wrapper}>" if wrapper != "p" else f"this {VIDEO} now."
    text = await fetch(policy, tmp_path, f"<p>Watch {inner} Thanks.</p>")
    tree = html5lib.parse(text, namespaceHTMLElements=False)
    body = tree.find("body")
    assert body is not None
    banner = body.find("section")
    ours = set(banner.iter()) if banner is not None else set()
    paragraphs = [p for p in body.iter("p") if p not in ours and p.get("class") is None]
    assert len(paragraphs) == 1, "the placeholder split the paragraph"
    paragraph = paragraphs[0]
    assert "".join(paragraph.itertext()).endswith("now. Thanks.")
    parent = paragraph.find(wrapper) if wrapper != "p" else paragraph
    assert parent is not None
    holder = [e for e in parent.iter("span") if e.get("data-consentkit-placeholder") == "marketing"]
    assert holder, "the placeholder left its parent"
    assert "now." in "".join(parent.itertext())


async def test_the_placeholder_button_grants_through_its_form(policy: Policy, tmp_path: Path) -> None:
    text = await fetch(policy, tmp_path, f"<p>{VIDEO}</p>")
    tree = html5lib.parse(text, namespaceHTMLElements=False)
    button = next(e for e in tree.iter("input") if e.get("type") == "submit")
    form = next(e for e in tree.iter("form") if e.get("id") == button.get("form"))
    fields = {e.get("name"): e.get("value") for e in form.iter("input")}
    assert fields["action"] == "embed" and fields["categories"] == "marketing" and fields["next"] == "/"


async def test_nothing_injected_carries_an_inline_style(policy: Policy, tmp_path: Path) -> None:
    text = await fetch(policy, tmp_path, f"<p>{VIDEO}</p>")
    tree = html5lib.parse(text, namespaceHTMLElements=False)
    for element in tree.iter():
        assert element.get("style") is None, f"<{element.tag}> has style="
    assert 'viewBox="0 0 560 315" width="560" height="315"' in text
