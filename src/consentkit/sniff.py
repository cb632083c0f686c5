"""What a browser renders a response as: ``Content-Type`` parsed as Fetch does, and MIME sniffing.

A response the app labels ``text/plain, text/html`` is HTML to a browser (the last valid type
wins); one with no usable ``Content-Type`` is sniffed, and a body starting with ``<html``,
``<script`` or ``<!--`` renders as HTML unless ``X-Content-Type-Options: nosniff`` forbids
it. consentkit rewrites exactly what a browser would render as HTML. References: Fetch
"extract a MIME type", MIME Sniffing "parse a MIME type" and "identifying a resource with
an unknown MIME type".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["RESOURCE_HEADER", "MimeType", "extract_mime_type", "nosniff", "parse_mime_type", "sniff_unknown"]

#: How many bytes of the body the sniffing algorithm reads (its "resource header").
RESOURCE_HEADER: Final = 1445

_WS: Final = " \t\n\r"
_TOKEN: Final = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UNKNOWN: Final = frozenset({"unknown/unknown", "application/unknown", "*/*"})
#: The tags whose start makes the sniffer say text/html (each followed by a space or ``>``).
_HTML_SIGNATURES: Final = tuple(
    s.encode()
    for s in (
        "<!doctype html",
        "<html",
        "<head",
        "<script",
        "<iframe",
        "<h1",
        "<div",
        "<font",
        "<table",
        "<a",
        "<style",
        "<title",
        "<b",
        "<body",
        "<br",
        "<p",
        "<!--",
    )
)


@dataclass(frozen=True)
class MimeType:
    """A parsed MIME type: lower-case ``type/subtype`` and its parameters (names lower-cased)."""

    essence: str
    params: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def charset(self) -> str | None:
        return self.params.get("charset")

    @property
    def is_html(self) -> bool:
        return self.essence == "text/html"

    @property
    def is_xhtml(self) -> bool:
        return self.essence == "application/xhtml+xml"

    @property
    def is_xml(self) -> bool:
        """A generic XML type: rendered as a page when its root element is XHTML."""
        return self.essence in ("text/xml", "application/xml")


def _token(text: str) -> bool:
    return bool(text) and all(c in _TOKEN for c in text)


def _quoted(text: str, i: int) -> tuple[str, int]:
    """An HTTP quoted string starting at ``text[i] == '"'``: its value and the index after it."""
    out = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 1
            if i >= len(text):
                out.append("\\")
                break
            out.append(text[i])
        elif c == '"':
            i += 1
            break
        else:
            out.append(c)
        i += 1
    return "".join(out), i


def parse_mime_type(value: str) -> MimeType | None:
    """The WHATWG "parse a MIME type" algorithm; ``None`` for failure."""
    text = value.strip(_WS)
    slash = text.find("/")
    if slash < 0:
        return None
    kind = text[:slash]
    semi = text.find(";", slash)
    subtype = (text[slash + 1 :] if semi < 0 else text[slash + 1 : semi]).rstrip(_WS)
    if not _token(kind) or not _token(subtype):
        return None
    params: dict[str, str] = {}
    i = len(text) if semi < 0 else semi
    while i < len(text):
        i += 1  # past ";"
        while i < len(text) and text[i] in _WS:
            i += 1
        start = i
        while i < len(text) and text[i] not in ";=":
            i += 1
        name = text[start:i].lower()
        if i < len(text) and text[i] == ";":
            continue
        if i >= len(text):
            break
        i += 1  # past "="
        if i < len(text) and text[i] == '"':
            pvalue, i = _quoted(text, i)
            while i < len(text) and text[i] != ";":
                i += 1
        else:
            start = i
            while i < len(text) and text[i] != ";":
                i += 1
            pvalue = text[start:i].rstrip(_WS)
            if not pvalue:
                continue
        if (
            _token(name)
            and all(c == "\t" or " " <= c <= "~" or "\x80" <= c <= "\xff" for c in pvalue)
            and name not in params
        ):
            params[name] = pvalue
    return MimeType(f"{kind}/{subtype}".lower(), params)


def _split(values: Iterable[bytes]) -> list[str]:
    """Fetch "get, decode, and split": the header values joined, then split on commas outside quotes."""
    text = ", ".join(v.decode("latin-1") for v in values)
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            end = i + 1
            while end < len(text):
                if text[end] == "\\":
                    end += 2
                    continue
                if text[end] == '"':
                    break
                end += 1
            current.append(text[i : end + 1])
            i = end + 1
            continue
        if c == ",":
            parts.append("".join(current).strip(" \t"))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current).strip(" \t"))
    return parts


def extract_mime_type(values: Iterable[bytes]) -> MimeType | None:
    """Fetch "extract a MIME type" from every ``Content-Type`` value: the last valid one wins,
    keeping an earlier ``charset`` for the same type. ``None`` when there is none."""
    mime: MimeType | None = None
    essence: str | None = None
    charset: str | None = None
    for value in _split(values):
        parsed = parse_mime_type(value)
        if parsed is None or parsed.essence == "*/*":
            continue
        mime = parsed
        if parsed.essence != essence:
            charset = parsed.params.get("charset")
            essence = parsed.essence
        elif "charset" not in parsed.params and charset is not None:
            mime = MimeType(parsed.essence, {**parsed.params, "charset": charset})
    return mime


def nosniff(values: Iterable[bytes]) -> bool:
    """Fetch "determine nosniff" over the ``X-Content-Type-Options`` values."""
    values = list(values)
    if not values:
        return False
    return _split(values)[0].lower() == "nosniff"


def needs_sniffing(mime: MimeType | None) -> bool:
    """Whether a browser sniffs the body to decide what it is (no usable type, or an "unknown" one)."""
    return mime is None or mime.essence in _UNKNOWN


_XML_PROLOG: Final = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*<(?:[A-Za-z_][\w.-]*:)?html\b([^>]*)>",
    re.S,
)
_XHTML_NS: Final = re.compile(rb"""xmlns(?::[\w.-]+)?\s*=\s*["']http://www\.w3\.org/1999/xhtml["']""")


def xhtml_root(head: bytes) -> bool:
    """Whether an XML document's root element is XHTML ``<html>`` (browsers then render it as a
    page, scripts and all, whatever its XML type). UTF-16 XML is decoded first by the caller."""
    match = _XML_PROLOG.match(head)
    return match is not None and _XHTML_NS.search(match.group(1)) is not None


def sniff_unknown(header: bytes, *, scriptable: bool) -> str:
    """The MIME type a browser computes for a body of unknown type, as far as consentkit cares:
    ``text/html``, ``text/xml``, or ``application/octet-stream`` for everything else."""
    if scriptable:
        start = 0
        while start < len(header) and header[start] in b"\t\n\x0c\r ":
            start += 1
        lowered = header[start : start + 16].lower()
        for signature in _HTML_SIGNATURES:
            if lowered.startswith(signature):
                after = header[start + len(signature) : start + len(signature) + 1]
                if after in (b" ", b">"):
                    return "text/html"
        if header[start : start + 5] == b"<?xml":
            return "text/xml"
    return "application/octet-stream"
