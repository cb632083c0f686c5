"""``Link`` response headers (RFC 8288): drop the links that would make a browser contact a blocked host.

``Link: <https://www.googletagmanager.com>; rel=preconnect`` makes Chromium open a connection
(and ``rel=preload`` fetch a script) before the page is parsed, so the rewriter never sees it.
A header may hold several comma-separated links, with commas inside ``<...>`` and quoted
parameters; a response may carry several headers. Each link is judged on its own: it is
dropped when its target (or an ``imagesrcset`` candidate) is on a host the visitor has not
allowed and one of its relations may fetch; the others are kept as they were written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Protocol

__all__ = ["filter_link_headers", "filter_links", "split_links"]

#: Relations that never make a browser contact the target by themselves. Anything else
#: (preload, modulepreload, prefetch, preconnect, dns-prefetch, prerender, stylesheet, icon,
#: next, compression-dictionary and relations nobody has specified yet) counts as fetching.
NON_FETCHING_RELS: Final = frozenset(
    {
        "alternate",
        "author",
        "bookmark",
        "canonical",
        "copyright",
        "describedby",
        "edit",
        "external",
        "help",
        "license",
        "me",
        "nofollow",
        "noopener",
        "noreferrer",
        "opener",
        "privacy-policy",
        "shortlink",
        "tag",
        "terms-of-service",
        "webmention",
    }
)


class _Plan(Protocol):  # pragma: no cover - typing only
    def url_rule(self, value: bytes) -> object | None: ...


def split_links(value: bytes) -> list[bytes]:
    """The link-values of one header value: split on commas outside ``<...>`` and quoted strings."""
    parts: list[bytes] = []
    start = 0
    in_angle = in_quote = escaped = False
    for index, byte in enumerate(value):
        if in_quote:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_quote = False
        elif in_angle:
            if byte == 0x3E:  # >
                in_angle = False
        elif byte == 0x3C:  # <
            in_angle = True
        elif byte == 0x22:
            in_quote = True
        elif byte == 0x2C:  # ,
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return [p.strip(b" \t") for p in parts if p.strip(b" \t")]


def _params(rest: bytes) -> dict[bytes, bytes] | None:
    """``; name=value`` parameters after the target (first occurrence wins); None if malformed."""
    params: dict[bytes, bytes] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in b" \t":
            i += 1
        if i >= n:
            break
        if rest[i] != 0x3B:  # ;
            return None
        i += 1
        while i < n and rest[i] in b" \t":
            i += 1
        start = i
        while i < n and rest[i] not in b"=; \t":
            i += 1
        name = rest[start:i].lower()
        while i < n and rest[i] in b" \t":
            i += 1
        value = b""
        if i < n and rest[i] == 0x3D:  # =
            i += 1
            while i < n and rest[i] in b" \t":
                i += 1
            if i < n and rest[i] == 0x22:
                i += 1
                chunk = bytearray()
                while i < n and rest[i] != 0x22:
                    if rest[i] == 0x5C and i + 1 < n:
                        i += 1
                    chunk.append(rest[i])
                    i += 1
                if i >= n:
                    return None  # unterminated quoted string
                i += 1
                value = bytes(chunk)
            else:
                start = i
                while i < n and rest[i] not in b"; \t":
                    i += 1
                value = rest[start:i]
        if name:
            params.setdefault(name, value)
    return params


def _fetches(rel: bytes | None) -> bool:
    if rel is None:
        return False
    names = rel.decode("latin-1").lower().split()
    return any(name not in NON_FETCHING_RELS for name in names)


def _blocked(link: bytes, plan: _Plan) -> bool:
    """Whether one link-value would contact a host ``plan`` blocks."""
    if not link.startswith(b"<"):
        return False  # not a link a browser acts on (it needs a <target>)
    end = link.find(b">")
    if end < 0:
        return False
    target = link[1:end].strip()
    params = _params(link[end + 1 :])
    srcset = b""
    if params is not None:
        if not _fetches(params.get(b"rel")):
            return False
        srcset = params.get(b"imagesrcset", b"")
    # A link whose parameters cannot be read is judged by its target alone: when unsure, block.
    if plan.url_rule(target) is not None:
        return True
    for candidate in srcset.split(b","):
        url = candidate.strip().split(None, 1)[0] if candidate.strip() else b""
        if url and plan.url_rule(url) is not None:
            return True
    return False


def filter_links(value: bytes, plan: _Plan) -> bytes | None:
    """One ``Link`` header value without the blocked links; None when nothing is left."""
    links = split_links(value)
    kept = [link for link in links if not _blocked(link, plan)]
    if len(kept) == len(links):
        return value
    return b", ".join(kept) if kept else None


def filter_link_headers(
    headers: Iterable[tuple[bytes, bytes]], plan: _Plan
) -> list[tuple[bytes, bytes]] | None:
    """``headers`` with blocked links removed from every ``Link``; None when nothing changed."""
    out: list[tuple[bytes, bytes]] = []
    changed = False
    for key, value in headers:
        if key.lower() == b"link":
            filtered = filter_links(value, plan)
            if filtered is not value:
                changed = True
                if filtered is None:
                    continue
                out.append((key, filtered))
                continue
        out.append((key, value))
    return out if changed else None
