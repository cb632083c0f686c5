"""consentkit's own markup made well-formed XML, for pages served as ``application/xhtml+xml``.

A browser parses such a page with an XML parser and shows an error page instead of the page
at the first fault: ``<input>`` not closed, ``data-nosnippet`` without a value, ``&nbsp;``.
The banner, notes and placeholders are written as HTML; :class:`XhtmlInjector` rewrites
every piece an injector returns so that it parses as XML (void elements self-closed, every
attribute quoted with a value, named references numeric, ``<style>``/``<script>`` text
escaped) and means the same to an HTML parser.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

__all__ = ["XhtmlInjector", "xml_markup"]

_VOID: Final = frozenset(
    b"area base br col embed hr img input keygen link meta param source track wbr".split()
)
_TAG: Final = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9:-]*)([^>]*?)(/?)>|<!--.*?-->", re.S)
_ATTR: Final = re.compile(rb"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_ENTITY: Final = re.compile(rb"&([A-Za-z][A-Za-z0-9]*);?")
_XML_ENTITIES: Final = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})
_RAW_TEXT: Final = frozenset({b"style", b"script"})


def _text(data: bytes) -> bytes:
    """Text or an attribute value with every named reference XML does not know made numeric."""

    def numeric(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in _XML_ENTITIES and match.group(0).endswith(b";"):
            return match.group(0)
        key = name.decode("ascii") + ";"
        chars = html.entities.html5.get(key)
        if chars is None:
            return b"&amp;" + match.group(0)[1:]
        return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")

    return _ENTITY.sub(numeric, data).replace(b"<", b"&lt;")


def _attributes(raw: bytes) -> bytes:
    out = []
    seen: set[bytes] = set()
    for match in _ATTR.finditer(raw):
        name = match.group(1).lower()
        if name in seen:
            continue  # XML refuses a repeated attribute; HTML keeps the first
        seen.add(name)
        value = next((g for g in match.group(2, 3, 4) if g is not None), b"")
        value = _text(value).replace(b'"', b"&quot;")
        out.append(b" " + name + b'="' + value + b'"')
    return b"".join(out)


@lru_cache(maxsize=256)
def xml_markup(markup: bytes) -> bytes:
    """HTML markup consentkit generates, as well-formed XML with the same meaning."""
    if not markup:
        return markup
    out = []
    pos = 0
    raw_end: bytes | None = None
    for match in _TAG.finditer(markup):
        if raw_end is not None:
            if match.group(1) == b"/" and match.group(2).lower() == raw_end:
                content = markup[pos : match.start()]
                if b"<" in content or b"&" in content:
                    content = b"<![CDATA[" + content.replace(b"]]>", b"]]]]><![CDATA[>") + b"]]>"
                out.append(content)
                out.append(b"</" + raw_end + b">")
                pos = match.end()
                raw_end = None
            continue
        out.append(_text(markup[pos : match.start()]))
        pos = match.end()
        if match.group(2) is None:  # a comment (consentkit's never hold "--")
            out.append(match.group(0))
            continue
        name = match.group(2).lower()
        if match.group(1):
            out.append(b"</" + name + b">")
            continue
        attrs = _attributes(match.group(3))
        if name in _VOID:
            out.append(b"<" + name + attrs + b"/>")
        else:
            out.append(b"<" + name + attrs + b">")
            if name in _RAW_TEXT:
                raw_end = name
    out.append(_text(markup[pos:]))
    return b"".join(out)


class XhtmlInjector:
    """Wraps a page's injector: whatever markup it returns comes back as well-formed XML."""

    def __init__(self, injector: Any) -> None:
        self._injector = injector

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._injector, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            return xml_markup(result) if isinstance(result, bytes) else result

        wrapped: Callable[..., Any] = call
        return wrapped
