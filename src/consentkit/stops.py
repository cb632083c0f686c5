"""Where the scan stops: the tags the rewriter must look at, by where it is in the page.

Everything else is copied by the scan (C, or its Python twin) without a look: text, tags
that fetch nothing from another host, inert inline SVGs, first-party external scripts.
Which tags must stop it depends on the context: before the body (where consentkit's markup
goes), in HTML with or without something to block, in SVG/MathML content.
"""

from __future__ import annotations

import re
from typing import Any, Final

from . import scanner
from .namespaces import BREAKOUT, ForeignStack
from .tokens import ATTRS

#: Copy inert inline SVGs (icons) and first-party external scripts in the scan (the tests turn
#: it off to compare with tag by tag).
ISLANDS = True

# After the body starts, with something to block: raw text, the elements that fetch, and what
# changes how the next tags are read (the body, SVG/MathML, <select>).
BLOCKING_CANDIDATES: Final = (
    b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript",
    b"plaintext", b"img", b"image", b"embed", b"object", b"link", b"source", b"video", b"audio",
    b"html", b"body", b"svg", b"math", b"select", b"base",
)  # fmt: skip
# With the URL filter (scanner.URL_FILTER), elements that only fetch through a URL attribute need
# no stop of their own: a start tag whose values could reach another host is a stop anyway.
URL_ONLY: Final = (b"img", b"image", b"source", b"video", b"audio", b"link")
FILTERED_CANDIDATES: Final = tuple(name for name in BLOCKING_CANDIDATES if name not in URL_ONLY)
# In SVG/MathML content (no integration point open): what can leave it or enter an
# integration point, and the elements that fetch. Other foreign elements need no tracking:
# under foreign rules they cannot change which rules read the next tag.
FOREIGN_CANDIDATES: Final = (
    b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript",
    b"plaintext", b"html", b"body", b"svg", b"math", b"select", b"font", b"foreignobject", b"desc", b"mi",
    b"mo", b"mn", b"ms", b"mtext", b"annotation-xml", b"image", b"use", b"feimage", b"set", b"animate",
    b"animatemotion", b"animatetransform", b"mpath", b"textpath", b"pattern", b"lineargradient",
    b"radialgradient", b"filter", b"tref", b"cursor", b"font-face-uri", b"mglyph", b"a", *sorted(BREAKOUT),
)  # fmt: skip
STRUCTURE_CANDIDATES: Final = (
    b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript",
    b"plaintext", b"html", b"body", b"svg", b"math", b"select",
)  # fmt: skip
# End tags that matter in SVG/MathML content: the candidates' and </p>, </br> (they pop foreign elements).
FOREIGN_ENDS: Final = (*FOREIGN_CANDIDATES, b"p", b"br")

# Before the body: start tags that keep it from starting and need no stop of their own (with
# something to block, a <link> or <meta> that could fetch is a stop through the URL filter).
HEAD_QUIET: Final = (b"head", b"meta", b"link", b"basefont", b"bgsound")
HEAD_QUIET_UNBLOCKED: Final = (*HEAD_QUIET, b"base")
HEAD_QUIET_UNFILTERED: Final = tuple(name for name in HEAD_QUIET if name != b"link")  # it may fetch
# Whitespace and those head tags (the end tags too, but the body's): what needs no look before
# the body starts (<html> is looked at for its lang).
HEAD_SKIP: Final = re.compile(
    rb"(?:[\t\n\f\r ]++|<(?:" + b"|".join(HEAD_QUIET_UNBLOCKED) + rb")(?=[\t\n\f\r />])" + ATTRS + rb">"
    rb"|</(?!(?:body|html|br)[\t\n\f\r />])[A-Za-z][^\t\n\f\r />]*+" + ATTRS + rb">)*+",
    re.I,
)


def scan_stops(
    *,
    prebody: bool,
    xml: bool,
    blocking: bool,
    filtered: bool,
    foreign: ForeignStack,
    banner_meta: bool,
    in_select: bool,
    frames: tuple[bytes, ...],
) -> Any:
    """The compiled stop set (``scanner.candidates``) for where the rewriter is in the page.

    ``prebody``: the body has not started; ``blocking``: something may be blocked;
    ``filtered``: the URL filter judges other start tags; ``banner_meta``: the chunk names our
    banner (its ``<meta>`` is a stop); ``frames``: elements being removed or wrapped.
    """
    mode = foreign.mode
    if mode == 2 or (prebody and xml):
        return scanner.ANY_TAG  # HTML inside SVG/MathML: every tag moves the stack
    islands = None
    quiet_scripts = False
    if prebody:
        # Every start tag but those that keep the body from starting and need no look of
        # their own (a <meta> naming our banner does; a <link> is left to the URL filter).
        if not blocking:
            names: tuple[bytes, ...] = HEAD_QUIET_UNBLOCKED
        else:
            names = HEAD_QUIET if filtered else HEAD_QUIET_UNFILTERED
        if banner_meta:
            names = tuple(name for name in names if name != b"meta")
        ends: tuple[bytes, ...] = (b"body", b"html", b"br", b"select")
    elif mode == 1:
        names = FOREIGN_CANDIDATES
        ends = FOREIGN_ENDS
    else:
        if not blocking:
            names = STRUCTURE_CANDIDATES
        else:
            names = FILTERED_CANDIDATES if filtered else BLOCKING_CANDIDATES
        ends = (b"body", b"svg", b"math", b"select")
        # (not after </p> in SVG/MathML either: an SVG script's inline code runs despite a src)
        plain = not (foreign or foreign.end_p_seen or frames or in_select or xml)
        if ISLANDS and plain:
            islands = (FOREIGN_CANDIDATES, FOREIGN_ENDS)  # inert inline SVGs are copied whole
            quiet_scripts = blocking and filtered  # and <script src=/own.js></script>
    for frame in frames:
        if prebody:
            names = tuple(name for name in names if name != frame)
        elif frame not in names:
            names = (*names, frame)
        if frame not in ends:
            ends = (*ends, frame)
    return scanner.candidates(
        names, ends, all_starts_but=prebody, islands=islands, quiet_scripts=quiet_scripts
    )
