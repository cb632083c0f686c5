"""Where the scan stops (``consentkit.stops``): which tags the rewriter gets to look at, by context.

Each case runs the active scan (C or its Python twin) with the stop set ``scan_stops`` gives and
checks the first tag it stops at: what the rewriter must see is never skipped, and the tags it
need not see are.
"""

from __future__ import annotations

import pytest

from consentkit import scanner
from consentkit.namespaces import ForeignStack
from consentkit.stops import scan_stops


def first_stop(
    page: bytes,
    *,
    prebody: bool = False,
    blocking: bool = True,
    xml: bool = False,
    foreign: ForeignStack | None = None,
    banner_meta: bool = False,
    in_select: bool = False,
    frames: tuple[bytes, ...] = (),
) -> bytes:
    """The text from the first stop on (empty: the scan copies the whole page)."""
    stops = scan_stops(
        prebody=prebody,
        xml=xml,
        blocking=blocking,
        filtered=scanner.NATIVE,
        foreign=foreign if foreign is not None else ForeignStack(),
        banner_meta=banner_meta,
        in_select=in_select,
        frames=frames,
    )
    if not blocking:
        attention, tag_filter = scanner.NONE, None
    elif scanner.NATIVE:
        attention, tag_filter = scanner.NAMES_FILTERED, scanner.URL_FILTER
    else:
        attention, tag_filter = scanner.NAMES, None
    p, kind = scanner.advance(page, page.lower(), 0, stops, attention, tag_filter)
    return b"" if kind == scanner.END else page[p:]


def test_before_the_body_the_heads_quiet_tags_are_copied_and_the_first_other_tag_stops() -> None:
    head = b'<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>'
    assert first_stop(head + b"<p>text", prebody=True).startswith(b"<p>")
    assert first_stop(b"<head><title>T</title>", prebody=True).startswith(b"<title>")
    assert first_stop(b"<head><html lang=fr>", prebody=True).startswith(b"<html")  # its lang is read


def test_a_meta_stops_the_scan_when_the_chunk_names_the_banner() -> None:
    page = b'<meta name="consentkit-banner" content="manual"><p>'
    assert first_stop(page, prebody=True, banner_meta=True).startswith(b"<meta")
    assert first_stop(page, prebody=True, banner_meta=False).startswith(b"<p>")


@pytest.mark.parametrize(
    "tag",
    [
        b"<script src=https://www.googletagmanager.com/gtag/js>",
        b"<iframe src=/embed>",
        b"<style>",
        b"<textarea>",
        b"<noscript>",
        b"<object data=x>",
        b"<body>",
        b"<svg onload=x><script>",
        b"<math><mi>",
        b"<select>",
        b"<div data-consent=marketing>",
        b'<img src="https://www.facebook.com/tr?id=1">',
    ],
)
def test_in_the_body_with_something_to_block_what_may_fetch_or_change_the_parse_stops(tag: bytes) -> None:
    page = b'<p class="lead">Text <a href="/about">about</a> <em title="Note: x">us</em> ' + tag
    assert first_stop(page) == tag


def test_with_the_url_filter_first_party_urls_make_no_stop() -> None:
    page = b'<img src="/logo.png" alt="Logo: us"><a href="/x" class="md:flex">x</a><video src=https://v.example/a>'
    if scanner.NATIVE:
        assert first_stop(page) == b"<video src=https://v.example/a>"
    else:
        assert first_stop(page) == page  # the Python twin stops by attribute names (src)


def test_inert_inline_svgs_and_first_party_scripts_are_copied_whole() -> None:
    icon = b'<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M0 0h24v24z"></path></svg>'
    own = b'<script src="/static/app.js" defer></script>'
    tail = b"<iframe src=https://www.youtube.com/embed/x></iframe>"
    page = b"<p>" + icon + own + tail
    if scanner.NATIVE:
        assert first_stop(page) == tail
    else:
        assert first_stop(page) == own + tail  # the twin copies SVG islands, and stops at scripts


def test_islands_are_off_where_the_parse_is_in_doubt() -> None:
    icon = b'<svg viewBox="0 0 24 24"><path d="M0 0"></path></svg>'
    doubt = ForeignStack()
    doubt.end_p_seen = True  # after </p> in SVG, parsers disagree on what a <script> is
    assert first_stop(b"<p>" + icon, foreign=doubt).startswith(b"<svg")
    assert first_stop(b"<p>" + icon, in_select=True).startswith(b"<svg")
    assert first_stop(b"<p>" + icon, frames=(b"div",)).startswith(b"<svg")


def test_nothing_to_block_stops_only_for_structure() -> None:
    page = b'<p><img src="https://www.facebook.com/tr?id=1"><iframe src=/x></iframe>'
    assert first_stop(page, blocking=False).startswith(b"<iframe")  # raw text: its end matters


def test_an_element_being_removed_makes_its_own_end_tag_a_stop() -> None:
    assert first_stop(b"<p>a</p></div>", frames=(b"div",)) == b"</div>"
    assert first_stop(b"<p>a</p></div>") == b""


def test_html_inside_svg_makes_every_tag_a_stop() -> None:
    stack = ForeignStack()
    stack.start(b"svg", [], False)
    stack.start(b"foreignobject", [], False)  # an integration point: HTML inside
    assert first_stop(b"text <b>bold</b>", foreign=stack) == b"<b>bold</b>"


def test_in_svg_the_elements_that_fetch_or_leave_it_stop() -> None:
    stack = ForeignStack()
    stack.start(b"svg", [], False)
    assert (
        first_stop(b'<path d="M0"/><g><circle r="1"/></g><image href=x>', foreign=stack) == b"<image href=x>"
    )
    assert first_stop(b"<path/><p>", foreign=stack) == b"<p>"  # a breakout
    assert first_stop(b"<path/></p>", foreign=stack) == b"</p>"  # pops SVG in browsers
