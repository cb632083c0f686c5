"""What the rewriter writes into a page: the ``Injector`` its caller supplies (banner,
placeholders, Consent Mode), and the stand-ins for blocked elements."""

from __future__ import annotations

from typing import Protocol

from .css import might_fetch
from .fetches import fetching_attribute
from .rules import Rule
from .tokens import Attrs, canonical, esc


class Injector(Protocol):
    """What the rewriter asks of its caller while streaming (banner, placeholders, ...)."""

    def html_lang(self, lang: str) -> None: ...
    def body_start(self) -> bytes: ...
    def body_end(self) -> bytes: ...
    def consent_mode(self) -> bytes: ...
    def blocked(self, category: str) -> bytes: ...
    def placeholder_open(self, rule: Rule, width: str | None, height: str | None) -> bytes: ...
    def placeholder_close(self) -> bytes: ...


def blocked_comment(category: str) -> bytes:
    """The comment left where a blocked element was: it names only the category."""
    return b"<!-- consentkit: blocked " + category.encode("ascii", "replace") + b" -->"


class CommentsOnly:
    """The injector used inside ``<noscript>``: blocked elements become comments, nothing else."""

    def html_lang(self, lang: str) -> None:
        return None

    def body_start(self) -> bytes:
        return b""

    def body_end(self) -> bytes:
        return b""

    def consent_mode(self) -> bytes:
        return b""

    def blocked(self, category: str) -> bytes:
        return blocked_comment(category)

    def placeholder_open(self, rule: Rule, width: str | None, height: str | None) -> bytes:
        return blocked_comment(rule.category)

    def placeholder_close(self) -> bytes:
        return b""


def inert_script_tag(attrs: Attrs, rule: Rule) -> bytes:
    """A blocked script kept in place, disabled (inert mode): ``type="text/plain"``, its type kept aside."""
    parts = [b'<script type="text/plain" data-consentkit-category="', esc(rule.category), b'"']
    for name, value, text in attrs:
        if name == b"type":
            if value:
                parts.append(b' data-consentkit-type="' + esc(value.decode("latin-1")) + b'"')
        elif not name.startswith(b"data-consentkit-"):
            parts.append(b" " + text)
    parts.append(b">")
    return b"".join(parts)


def inert_tag(name: bytes, attrs: Attrs, rule: Rule, hidden: bool = False) -> bytes:
    """A blocked element kept in place (inert mode), its fetching attributes renamed aside."""
    parts = [b"<", name, b' data-consentkit-category="', esc(rule.category), b'"']
    if hidden:
        parts.append(b' hidden=""')
    for attr_name, value, _text in attrs:
        if attr_name.startswith(b"data-consentkit-"):
            continue
        if (
            fetching_attribute(attr_name)
            or (attr_name == b"style" and value and might_fetch(value))
            or (name == b"meta" and attr_name == b"content")
        ):
            parts.append(canonical(b"data-consentkit-attr-" + attr_name, value))
        else:
            parts.append(canonical(attr_name, value))
    parts.append(b">")
    return b"".join(parts)
