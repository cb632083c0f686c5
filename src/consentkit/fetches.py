"""Which attributes of an element make a browser fetch something, and which of them are blocked.

The rule: every attribute a browser (or a lazy-loading script standing in for it) fetches
from is checked, not only ``src``. An element whose own resource is blocked goes whole
(``element_rule``); an attribute that only adds a fetch to an element the page needs
(``ping``, ``background``, ``style`` with ``url()``, a lazy ``data-bg`` on a ``<div>``) is
taken off that element alone (``attribute_actions``).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote_to_bytes

from .css import might_fetch, neutralize

if TYPE_CHECKING:
    from .rewrite import BlockPlan, Rule

__all__ = [
    "Attrs",
    "attribute_actions",
    "element_rule",
    "embedded_document_rule",
    "fetching_attribute",
    "json_urls_rule",
]

Attrs = list[tuple[bytes, bytes | None, bytes]]

HTML, SVG, MATHML = 0, 1, 2

# The element's own resource, per element (HTML namespace): blocking it blocks the element.
# (Every URL attribute of a loading element counts, even one its kind does not fetch from
# today, such as ``<script href>``: when unsure, block.)
_URLS: Final = (
    b"src", b"srcset", b"href", b"xlink:href", b"data", b"poster", b"imagesrcset", b"lowsrc", b"codebase"
)  # fmt: skip
_OWN: Final[dict[bytes, tuple[bytes, ...]]] = {
    b"script": _URLS,
    b"iframe": _URLS,
    b"frame": _URLS,
    b"img": _URLS,
    b"image": _URLS,
    b"embed": _URLS,
    b"object": _URLS,
    b"source": _URLS,
    b"track": _URLS,
    b"video": _URLS,
    b"audio": _URLS,
    b"input": (b"src",),
    b"portal": (b"src",),
    b"fencedframe": (b"src",),
    b"base": (b"href",),
}
_SRCSET: Final = frozenset({b"srcset", b"imagesrcset"})
# Elements whose lazy-loading data-* attributes stand for their own resource.
_MEDIA: Final = frozenset(
    {b"img", b"image", b"iframe", b"frame", b"video", b"audio", b"source", b"picture", b"embed", b"object",
     b"input", b"track", b"script", b"link"}
)  # fmt: skip
_LAZY_NAME: Final = re.compile(
    rb"^data-[a-z0-9_.:-]*(?:src|bg|background|poster|lazy|original|image|img|url|echo|href)"
)
# rel values that never fetch (links to other pages); any other rel on a <link> may.
_NAVIGATION_RELS: Final = frozenset(
    {"alternate", "author", "bookmark", "canonical", "external", "help", "license", "next", "prev", "me",
     "nofollow", "noopener", "noreferrer", "opener", "search", "tag", "shortlink", "pingback", "webmention",
     "privacy-policy", "terms-of-service"}
)  # fmt: skip
# SVG attributes whose value is a URL; on SVG every element but <a> may fetch from them
# (<image>, <feImage>, <use>, <script>, and <set>/<animate> that set an href).
_SVG_URL_ATTRS: Final = (b"href", b"xlink:href", b"src", b"to", b"from", b"values")
# SVG presentation attributes that take url() (paint servers, filters, masks, cursors).
_SVG_CSS_ATTRS: Final = frozenset(
    {b"fill", b"stroke", b"filter", b"clip-path", b"mask", b"marker-start", b"marker-mid", b"marker-end",
     b"cursor"}
)  # fmt: skip
_URL_IN_TEXT: Final = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?[/\\]{2}[^\s"'<>()`\\,;]+""", re.I)
_CONTROLS: Final = "".join(chr(c) for c in range(0x21))


def _value(attrs: Attrs, name: bytes) -> bytes | None:
    for key, value, _ in attrs:
        if key == name:
            return value if value is not None else b""
    return None


def _decode(value: bytes) -> str:
    return html.unescape(value.decode("utf-8", "replace"))


def fetching_attribute(name: bytes) -> bool:
    """Whether an attribute of this name may make a browser fetch (renamed in inert mode)."""
    return (
        name in (b"src", b"srcset", b"href", b"xlink:href", b"data", b"poster", b"imagesrcset", b"srcdoc",
                 b"lowsrc", b"codebase", b"background", b"ping", b"to", b"from", b"values")
        or (_LAZY_NAME.match(name) is not None and not name.startswith(b"data-consentkit-"))
    )  # fmt: skip


def _text_url_rule(plan: BlockPlan, text: str) -> Rule | None:
    """A URL on a listed host anywhere in ``text`` (a decoded ``javascript:`` or JSON body)."""
    for m in _URL_IN_TEXT.finditer(text):
        rule = plan.url_rule(_as_attr(m.group()))
        if rule is not None:
            return rule
    return None


def _as_attr(url: str) -> bytes:
    """``url`` as an attribute value ``url_rule`` decodes back to exactly ``url``."""
    return url.replace("&", "&amp;").encode("ascii", "xmlcharrefreplace")


#: Rewrites an embedded HTML document and says why it had to block something (or None).
NestedCheck = Callable[[bytes], "Rule | None"]


def embedded_document_rule(plan: BlockPlan, text: str, nested: NestedCheck) -> Rule | None:
    """Why a document given inline (``srcdoc``, a ``javascript:`` or ``data:`` URL) is blocked."""
    data = text.encode("utf-8", "replace")
    found = plan.inline_rule(data, data.lower())
    if found is not None:
        return found
    found = _text_url_rule(plan, text)
    if found is not None:
        return found
    return nested(data)  # the document is HTML: what would a rewrite of it block?


def _inline_url_document(plan: BlockPlan, value: bytes, nested: NestedCheck) -> Rule | None:
    """A ``javascript:`` or ``data:`` URL is a document of its own: check what it carries."""
    url = _decode(value).strip(_CONTROLS).replace("\t", "").replace("\n", "").replace("\r", "")
    scheme, colon, rest = url.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("javascript", "data"):
        return None
    if scheme == "javascript":
        body = unquote_to_bytes(rest).decode("utf-8", "replace")
    else:
        meta, _, payload = rest.partition(",")
        raw = unquote_to_bytes(payload)
        if meta.lower().rstrip().endswith(";base64"):
            try:
                raw = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw) + b"==")
            except ValueError:
                return None
        body = raw.decode("utf-8", "replace")
    return embedded_document_rule(plan, body, nested)


def _meta_refresh_url(content: str) -> str:
    """The URL of ``<meta http-equiv=refresh content="5; url=...">`` as browsers read it."""
    m = re.match(r"""\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.*)""", content, re.I | re.S)
    if m is None:
        return ""
    url = m.group(2)
    if m.group(1) and m.group(1) in url:
        url = url[: url.index(m.group(1))]
    return url.strip()


def element_rule(
    plan: BlockPlan, name: bytes, attrs: Attrs, namespace: int, nested: NestedCheck
) -> Rule | None:
    """Why the element is blocked as a whole (its own resource is on a listed host), or None."""
    if name == b"iframe":  # (an SVG/MathML "iframe" loads nothing, but when unsure, block)
        srcdoc = _value(attrs, b"srcdoc")
        if srcdoc:
            found = embedded_document_rule(plan, _decode(srcdoc), nested)
            if found is not None:
                return found
    if namespace != HTML and name in _OWN:
        # An SVG/MathML element named like an HTML one that loads: when unsure, block.
        for attr_name in _OWN[name]:
            value = _value(attrs, attr_name)
            if value:
                found = plan.url_rule(value, srcset=attr_name in _SRCSET)
                if found is not None:
                    return found
    if namespace == SVG:
        if name == b"a":
            return None
        for attr_name in _SVG_URL_ATTRS:
            value = _value(attrs, attr_name)
            if value:
                found = (
                    plan.url_rule(value)
                    if attr_name != b"values"
                    else _text_url_rule(plan, _decode(value).replace(";", " "))
                )
                if found is not None:
                    return found
        return None
    if namespace == MATHML:
        for attr_name in (b"src", b"href"):
            value = _value(attrs, attr_name)
            if value and name == b"mglyph":
                found = plan.url_rule(value)
                if found is not None:
                    return found
        return None
    own = _OWN.get(name)
    if own is not None:
        for attr_name in own:
            value = _value(attrs, attr_name)
            if value:
                found = plan.url_rule(value, srcset=attr_name in _SRCSET)
                if found is not None:
                    return found
                if name in (b"iframe", b"frame", b"embed", b"object") and attr_name in (b"src", b"data"):
                    found = _inline_url_document(plan, value, nested)
                    if found is not None:
                        return found
    elif name == b"link":
        rels = set(_decode(_value(attrs, b"rel") or b"").lower().split())
        if rels - _NAVIGATION_RELS:
            for attr_name in (b"href", b"imagesrcset"):
                value = _value(attrs, attr_name)
                if value:
                    found = plan.url_rule(value, srcset=attr_name == b"imagesrcset")
                    if found is not None:
                        return found
    elif name == b"meta" and (_value(attrs, b"http-equiv") or b"").strip().lower() == b"refresh":
        url = _meta_refresh_url(_decode(_value(attrs, b"content") or b""))
        if url:
            found = plan.url_rule(_as_attr(url))
            if found is not None:
                return found
    if name in _MEDIA:
        for attr_name, value, _ in attrs:
            if value and _LAZY_NAME.match(attr_name) and not attr_name.startswith(b"data-consentkit-"):
                found = plan.url_rule(value, srcset=b"set" in attr_name[5:])
                if found is not None:
                    return found
    return None


def neutralize_css(plan: BlockPlan, css: str) -> tuple[str, Rule | None]:
    """``css`` with every URL on a listed host made inert, and the first rule that applied."""
    first: list[Rule] = []

    def blocked(url: str) -> bool:
        rule = plan.url_rule(_as_attr(url))
        if rule is not None and not first:
            first.append(rule)
        return rule is not None

    text, _ = neutralize(css, blocked)
    return text, (first[0] if first else None)


def attribute_actions(
    plan: BlockPlan, name: bytes, attrs: Attrs, namespace: int
) -> list[tuple[int, Rule, bytes | None]]:
    """Attributes to take off an element that stays: (index, rule, neutralized value or None)."""
    actions: list[tuple[int, Rule, bytes | None]] = []
    for index, (attr_name, value, _) in enumerate(attrs):
        if not value:
            continue
        rule: Rule | None = None
        replacement: bytes | None = None
        if attr_name == b"style" or (namespace == SVG and attr_name in _SVG_CSS_ATTRS):
            if might_fetch(value):
                css = _decode(value)
                text, rule = neutralize_css(plan, css)
                if rule is not None:
                    replacement = html.escape(text, quote=True).encode("utf-8")
        elif attr_name == b"background" or (attr_name == b"ping" and namespace == HTML):
            if attr_name == b"ping":
                for url in _decode(value).split():
                    rule = plan.url_rule(_as_attr(url))
                    if rule is not None:
                        break
            else:
                rule = plan.url_rule(value)
        elif (
            (name not in _MEDIA or namespace != HTML)  # (SVG "picture" is no media element)
            and _LAZY_NAME.match(attr_name)
            and not attr_name.startswith(b"data-consentkit-")
        ):
            rule = plan.url_rule(value, srcset=b"set" in attr_name[5:])
        if rule is not None:
            actions.append((index, rule, replacement))
    return actions


def json_urls_rule(plan: BlockPlan, content: bytes) -> Rule | None:
    """An import map or speculation rules: every string in it that is a URL on a listed host.

    Content that is not JSON loads nothing in a browser, but a parser that recovers could read
    it otherwise: a listed URL anywhere in it blocks it (when unsure, block).
    """
    text = content.decode("utf-8", "replace")
    try:
        json.loads(text)
    except ValueError:
        return _text_url_rule(plan, text)
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', text, re.S):
        raw = m.group(1)
        try:
            value = json.loads('"' + raw + '"')
        except ValueError:
            value = raw
        if isinstance(value, str) and value:
            found = plan.url_rule(_as_attr(value))
            if found is None:
                found = _text_url_rule(plan, value)
            if found is not None:
                return found
    return None
