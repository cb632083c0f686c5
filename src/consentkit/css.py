"""The URLs a stylesheet fetches, found as the CSS tokenizer reads them.

``url(...)`` (quoted or not), the string arguments of ``src()`` and ``image-set()``, and the
string after ``@import``, with CSS escapes decoded (``\\75 rl(`` is ``url(``) and comments
skipped: Google Fonts' ``@import url(https://fonts.googleapis.com/...)`` and ``@font-face``
sources are fetches like any other. Used for ``<style>`` content and ``style=`` attributes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

__all__ = ["CssUrl", "css_urls", "might_fetch", "neutralize"]

_ESCAPE: Final = re.compile(r"\\(?:([0-9A-Fa-f]{1,6})[ \t\n\r\f]?|(\n)|(.))", re.S)
_ESCAPED: Final = r"\\(?:[0-9A-Fa-f]{1,6}[ \t\n\r\f]?|[^\n\r\f])"
_IDENT: Final = re.compile(
    r"-?-?(?:[A-Za-z_\u0080-\U0010FFFF]|"
    + _ESCAPED
    + r")(?:[A-Za-z0-9_\-\u0080-\U0010FFFF]|"
    + _ESCAPED
    + ")*"
)
# What the scanner stops at: comments, strings, parentheses, at-keywords, escapes, functions.
_INTEREST: Final = re.compile(r"/\*|[\"'@();{}\\]|[\w-]+\(")
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_SPACE: Final = re.compile(r"[ \t\n\r\f]*")
_URL_FUNCTIONS: Final = frozenset({"url", "src"})
#: What a blocked URL is replaced with: a URL that never reaches the network.
INERT_URL: Final = "about:invalid"
# Cheap test before scanning: a stylesheet that fetches nothing has none of these.
_MIGHT_FETCH: Final = re.compile(rb"url|src|image-set|@import|\\", re.I)


@dataclass(frozen=True)
class CssUrl:
    """One URL in a stylesheet: its text span (the whole ``url(...)`` or string) and its value."""

    start: int
    end: int
    url: str
    kind: str  # "url" for url(...), "string" for a quoted string


def might_fetch(css: bytes) -> bool:
    """A quick, conservative test: ``False`` only if ``css`` surely fetches nothing."""
    return _MIGHT_FETCH.search(css) is not None


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            code = int(m.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        if m.group(2) is not None:
            return ""
        return m.group(3)

    return _ESCAPE.sub(one, text)


def _string(css: str, pos: int) -> tuple[str, int]:
    """The string token starting at ``css[pos]`` (a quote): (its value, the offset after it)."""
    quote = css[pos]
    i = pos + 1
    n = len(css)
    parts: list[str] = []
    while i < n:
        c = css[i]
        if c == quote:
            return _unescape("".join(parts)), i + 1
        if c in "\n\r\f":  # a bad string: ends at the newline
            return _unescape("".join(parts)), i
        if c == "\\" and i + 1 < n:
            parts.append(css[i : i + 2])
            i += 2
            continue
        parts.append(c)
        i += 1
    return _unescape("".join(parts)), n


def _unquoted_url(css: str, pos: int) -> tuple[str, int]:
    """The rest of an unquoted ``url(`` token from ``pos``: (its value, the offset after ``)``)."""
    i = pos
    n = len(css)
    while i < n:
        c = css[i]
        if c == ")":
            return _unescape(css[pos:i]).strip(" \t\n\r\f"), i + 1
        if c == "\\" and i + 1 < n:
            i += 2
            continue
        i += 1
    return _unescape(css[pos:]).strip(" \t\n\r\f"), n


def css_urls(css: str) -> Iterator[CssUrl]:
    """Every URL the stylesheet (or declaration list) ``css`` may fetch, in order."""
    n = len(css)
    pos = 0
    functions: list[str] = []  # the enclosing functions, innermost last
    import_pending = False
    while pos < n:
        m = _INTEREST.search(css, pos)
        if m is None:
            return
        start = m.start()
        c = css[start]
        pos = m.end()
        if c == "(":
            functions.append("")
        elif c == ")":
            if functions:
                functions.pop()
        elif c in ";{}":
            import_pending = False
        elif c == "/":
            end = css.find("*/", start + 2)
            pos = n if end < 0 else end + 2
        elif c in "\"'":
            value, pos = _string(css, start)
            inside = functions[-1] if functions else ""
            if import_pending or inside in _URL_FUNCTIONS or inside.endswith("image-set"):
                yield CssUrl(start, pos, value, "string")
        elif c == "@":
            ident = _IDENT.match(css, start + 1)
            if ident is not None:
                import_pending = _unescape(ident.group()).lower() == "import"
                pos = ident.end()
        else:  # a function name, or an escape in an identifier that may be one
            if c == "\\":
                while start > 0 and (css[start - 1] in _NAME_CHARS or ord(css[start - 1]) >= 0x80):
                    start -= 1
            ident = _IDENT.match(css, start)
            if ident is None:
                pos = max(pos, start + 1)
                continue
            pos = ident.end()
            if pos >= n or css[pos] != "(":
                continue
            name = _unescape(ident.group()).lower()
            pos += 1
            if name == "url":
                after = _SPACE.match(css, pos).end()  # type: ignore[union-attr]
                if after < n and css[after] in "\"'":
                    functions.append("url")  # url("...") is a function with a string
                    pos = after
                else:
                    value, pos = _unquoted_url(css, after)
                    yield CssUrl(start, pos, value, "url")
            else:
                functions.append(name)


def neutralize(css: str, blocked: Callable[[str], bool]) -> tuple[str, bool]:
    """``css`` with every URL for which ``blocked(url)`` is true replaced by an inert one.

    Returns the new text and whether anything was replaced.
    """
    out: list[str] = []
    last = 0
    changed = False
    for found in css_urls(css):
        if not blocked(found.url):
            continue
        changed = True
        out.append(css[last : found.start])
        out.append(f"url({INERT_URL})" if found.kind == "url" else f'"{INERT_URL}"')
        last = found.end
    if not changed:
        return css, False
    out.append(css[last:])
    return "".join(out), True
