"""Cookie headers: reading the request's cookies, writing ours, expiring and filtering the app's."""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from .policy import Policy

__all__ = [
    "cookie_value",
    "cookie_values",
    "expire_headers",
    "host_prefixed",
    "parse_cookie_header",
    "set_cookie_header",
    "set_cookie_name",
]

_EXPIRED: Final = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"


def parse_cookie_header(header: str) -> dict[str, str]:
    """All cookies in a ``Cookie`` header (first value wins), tolerant of malformed parts."""
    result: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        result.setdefault(name, value)
    return result


def cookie_value(header: bytes, name: bytes) -> str | None:
    """The value of cookie ``name`` in a raw ``Cookie`` header, without parsing the others."""
    start = 0
    size = len(name)
    while True:
        pos = header.find(name, start)
        if pos < 0:
            return None
        before = header[:pos].rstrip(b" \t")
        after = header[pos + size : pos + size + 1]
        if (not before or before.endswith(b";")) and after == b"=":
            end = header.find(b";", pos)
            raw = header[pos + size + 1 : end if end >= 0 else len(header)].strip()
            if len(raw) >= 2 and raw[:1] == raw[-1:] == b'"':
                raw = raw[1:-1]
            try:
                return raw.decode("ascii")
            except UnicodeDecodeError:
                return None
        start = pos + 1


def cookie_values(header: bytes, name: bytes) -> list[str]:
    """Every value of cookie ``name`` in a raw ``Cookie`` header, in order.

    A browser sends one cookie per (name, domain, path): a sibling subdomain can add a second
    ``consentkit`` cookie (``Domain=`` the parent, a deeper ``Path``) next to the visitor's own.
    """
    values: list[str] = []
    start = 0
    size = len(name)
    while True:
        pos = header.find(name, start)
        if pos < 0:
            return values
        start = pos + 1
        before = header[:pos].rstrip(b" \t")
        if (before and not before.endswith(b";")) or header[pos + size : pos + size + 1] != b"=":
            continue
        end = header.find(b";", pos)
        raw = header[pos + size + 1 : end if end >= 0 else len(header)].strip()
        if len(raw) >= 2 and raw[:1] == raw[-1:] == b'"':
            raw = raw[1:-1]
        try:
            values.append(raw.decode("ascii"))
        except UnicodeDecodeError:
            values.append("")  # present but unreadable: it still counts (as no decision)


def host_prefixed(name: str, *, secure: bool, domain: str | None) -> str:
    """The consent cookie's name on the wire: ``__Host-`` + name when the cookie is Secure, host-only
    and ``Path=/``, so no sibling subdomain and no plain-HTTP page can set or shadow it."""
    if secure and not domain and not name.startswith(("__Host-", "__Secure-")):
        return "__Host-" + name
    return name


def set_cookie_header(
    name: str,
    value: str,
    *,
    max_age: int,
    same_site: str,
    secure: bool,
    http_only: bool,
    domain: str | None,
    path: str = "/",
) -> bytes:
    """A ``Set-Cookie`` header value (bytes, ready for an ASGI header list)."""
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}", f"SameSite={same_site.capitalize()}"]
    if domain:
        parts.append(f"Domain={domain}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    return "; ".join(parts).encode("latin-1")


def set_cookie_name(header: bytes) -> str:
    """The cookie name in a ``Set-Cookie`` header value."""
    return header.split(b"=", 1)[0].strip().decode("latin-1")


def host_domains(host: str) -> list[str | None]:
    """Domains a cookie for ``host`` may have been set on: host-only, then each parent domain.

    Browsers reject a ``Domain`` that is a public suffix, so offering them all is harmless
    and reaches cookies that trackers set on the registrable domain (``_ga`` does).
    """
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return [None]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ipaddress.ip_address(host)
        return [None]
    except ValueError:
        pass
    labels = host.split(".")
    domains: list[str | None] = [None]
    for i in range(len(labels) - 1):
        domains.append(".".join(labels[i:]))
    return domains


@lru_cache(maxsize=1024)
def _matches(patterns: tuple[str, ...], name: str) -> bool:
    return any(p == name or fnmatch.fnmatchcase(name, p) for p in patterns)


def denied_cookie_patterns(policy: Policy, denied: Iterable[str]) -> tuple[str, ...]:
    """Cookie names and globs declared by the services of the ``denied`` categories."""
    patterns: list[str] = []
    for category in denied:
        cat = policy.categories.get(category)
        if cat is None:
            continue
        for service in cat.services.values():
            patterns.extend(service.cookies)
    return tuple(dict.fromkeys(patterns))


def is_denied_cookie(patterns: tuple[str, ...], name: str) -> bool:
    return bool(patterns) and _matches(patterns, name)


def expire_headers(
    patterns: tuple[str, ...], present: Iterable[str], host: str, extra_domain: str | None = None
) -> list[bytes]:
    """``Set-Cookie`` headers that delete every cookie of the denied services.

    Exact names are always expired; glob patterns (``_ga_*``) expire the matching cookies the
    browser sent. Each is expired host-only and on every parent domain of ``host``.
    """
    names = [p for p in patterns if not any(c in p for c in "*?[")]
    globs = tuple(p for p in patterns if any(c in p for c in "*?["))
    for name in present:
        if name not in names and globs and _matches(globs, name):
            names.append(name)
    domains = host_domains(host)
    if extra_domain and extra_domain.lstrip(".") not in domains:
        domains.append(extra_domain.lstrip("."))
    headers = []
    for name in names:
        for domain in domains:
            suffix = f"; Domain={domain}" if domain else ""
            headers.append(f"{name}=; Path=/; {_EXPIRED}{suffix}".encode("latin-1"))
    return headers
