"""The HTML tokenizer's rules, as the Python side of the rewriter reads them.

Tags and attributes are quoted exactly as the HTML tokenizer quotes them (a quote opens a
value only right after "name ="); the patterns here find where a tag, a comment or raw text
ends, and parse a tag's attributes. The C scan (``csrc/ck_scan.c``) and its Python twin
(``_pyscan.py``) find the tags; this module reads the few the rewriter stops at.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Final

Attrs = list[tuple[bytes, bytes | None, bytes]]

# Attributes of a tag, quoted exactly as the HTML tokenizer quotes them: a quote opens a
# value only right after "name =". Possessive quantifiers keep every scan linear; an
# unterminated quoted value makes the tag fail to match, which means "incomplete".
ATTRS: Final = (
    rb"""(?:[\t\n\f\r /]++|[^\t\n\f\r />][^\t\n\f\r /=>]*+"""
    rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"]*+"|'[^']*+'|[^\t\n\f\r >"'][^\t\n\f\r >]*+|(?=>))"""
    rb"""|(?![\t\n\f\r ]*+=)))*+"""
)
TAG: Final = re.compile(rb"<(/?)([A-Za-z][^\t\n\f\r />]*+)(" + ATTRS + rb")>")
ATTR: Final = re.compile(
    rb"""([^\t\n\f\r />][^\t\n\f\r /=>]*)"""
    rb"""(?:[\t\n\f\r ]*=[\t\n\f\r ]*("[^"]*"|'[^']*'|[^\t\n\f\r >"'][^\t\n\f\r >]*|))?"""
)
COMMENT_END: Final = re.compile(rb"--!?>")
# What can change where a <script> ends: the tokenizer's "escaped" states (<!-- ... -->, in which
# <script ... </script> nest once), and in SVG/MathML comments and CDATA sections.
SCRIPT_TOKENS: Final = re.compile(rb"<!--|-->|</script(?=[\t\n\f\r />])|<script(?=[\t\n\f\r />])", re.I)
# In SVG/MathML a <script> start tag inside a script's content opens a nested script element
# (its </script> closes that one first): they are counted, so that the hold covers them all.
FOREIGN_SCRIPT_TOKENS: Final = re.compile(
    rb"<!--|<!\[cdata\[|</script(?=[\t\n\f\r />])|<script(?=[\t\n\f\r />])", re.I
)
FOREIGN_STYLE_TOKENS: Final = re.compile(rb"<!--|<!\[cdata\[|</style(?=[\t\n\f\r />])", re.I)
TOKEN_ROOM: Final = 10  # bytes kept back so that no token is cut at a chunk boundary
DATA_CONSENT: Final = b"data-consent"

RAWTEXT: Final = frozenset(
    {b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript"}
)
VOID: Final = frozenset(
    {
        b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"image", b"input", b"link", b"meta",
        b"source", b"track", b"wbr", b"param", b"keygen", b"frame",
    }
)  # fmt: skip
JS_TYPES: Final = frozenset(
    {
        "", "module", "text/javascript", "application/javascript", "application/ecmascript",
        "application/x-javascript", "application/x-ecmascript", "text/ecmascript", "text/jscript",
        "text/livescript", "text/x-ecmascript", "text/x-javascript", "text/javascript1.0",
        "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
        "text/javascript1.5",
    }
)  # fmt: skip
# Start tags that "in head" and before it keep the body from starting (others start it).
HEAD_TAGS: Final = frozenset(
    {b"html", b"head", b"base", b"basefont", b"bgsound", b"link", b"meta", b"noframes", b"script", b"style",
     b"template", b"title", b"noscript"}
)  # fmt: skip

# Tags and comments: what is left out of SVG/MathML markup to read its text.
TAGS_AND_COMMENTS: Final = re.compile(rb"<!--.*?-->|<[^>]*>", re.S)


@lru_cache(maxsize=32)
def raw_end_pattern(name: bytes) -> re.Pattern[bytes]:
    """The end tag that closes raw text (``</title``, ``</style``...), any case."""
    return re.compile(b"</" + re.escape(name) + rb"(?=[\t\n\f\r />])", re.I)


ATTRS_CACHE_MAX: Final = 512  # longer attribute texts (data: URLs, srcdoc) are parsed every time


def parse_attrs(raw: bytes) -> Attrs:
    """(lower-cased name, value without quotes or None, raw text) per attribute, in order.

    Pages repeat the same tags request after request, so a short attribute text is parsed
    once and its list kept: callers only read it.
    """
    if len(raw) > ATTRS_CACHE_MAX:
        return parse_attrs_uncached(raw)
    return _parse_attrs_cached(raw)


@lru_cache(maxsize=1024)
def _parse_attrs_cached(raw: bytes) -> Attrs:
    return parse_attrs_uncached(raw)


def parse_attrs_uncached(raw: bytes) -> Attrs:
    result = []
    for m in ATTR.finditer(raw):
        value = m.group(2)
        if value is not None and value[:1] in (b'"', b"'"):
            value = value[1:-1]
        result.append((m.group(1).lower(), value, m.group(0)))
    return result


def self_closing(raw_attrs: bytes) -> bool:
    """Whether a tag ends with the self-closing "/": not when that "/" ends an unquoted value."""
    if not raw_attrs.endswith(b"/"):
        return False
    last = None
    for last in ATTR.finditer(raw_attrs):  # noqa: B007 - only the last attribute matters
        pass
    if last is None or last.end() < len(raw_attrs):
        return True
    value = last.group(2)
    return not value or value[:1] in (b'"', b"'")


def attr(attrs: Attrs, name: bytes) -> bytes | None:
    for key, value, _ in attrs:
        if key == name:
            return value if value is not None else b""
    return None


def canonical(name: bytes, value: bytes | None) -> bytes:
    """An attribute written back double-quoted, so a rebuilt tag ends exactly where it should."""
    if value is None:
        return b" " + name
    return b" " + name + b'="' + value.replace(b'"', b"&quot;") + b'"'


def esc(value: str) -> bytes:
    return html.escape(value, quote=True).encode("ascii", "xmlcharrefreplace")


def dimension(value: bytes | None) -> str | None:
    if not value:
        return None
    m = re.match(rb"^\s*(\d{1,5}(?:\.\d+)?)\s*(px|%)?\s*$", value)
    if m is None:
        return None
    return m.group(1).decode() + (m.group(2) or b"px").decode()
