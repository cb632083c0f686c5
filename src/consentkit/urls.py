"""The host a URL reaches, read as the WHATWG URL parser (and so every browser) reads it.

A tracker's URL can be written in many ways that a browser still resolves to the tracker:
control characters around it, tabs and newlines inside it, ``\\`` for ``/``, user info, a
port, percent-encoded or fullwidth letters, ideographic full stops, soft hyphens, a trailing
dot, IPv4 addresses written as one number or in hex. :func:`url_host` follows the parser's
steps for the parts that decide the host; the IDNA mapping (UTS #46) comes from ``idna``,
which carries the Unicode tables, rather than from tables of our own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final
from urllib.parse import unquote_to_bytes

import idna

__all__ = ["canonical_host", "url_host"]

# Special schemes (WHATWG URL): the ones whose URLs have a host that a page can fetch.
_FETCH_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_C0_OR_SPACE: Final = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE: Final = str.maketrans("", "", "\t\n\r")
_AUTHORITY_END: Final = re.compile(r"[/\\?#]")
_IPV4_PART: Final = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")
_URL_CACHE_MAX: Final = 2048  # longer values (data: URLs) are parsed every time


def url_host(value: str) -> str | None:
    """The host a URL points to, in the ASCII form a browser puts in the request, or ``None``.

    ``None`` means the URL reaches no other host: relative URLs and schemes without a
    network host (``data:``, ``javascript:``, ``blob:``, ``mailto:``...). A trailing dot is
    dropped (``example.com.`` is the same host to DNS).
    """
    if len(value) > _URL_CACHE_MAX:
        return _url_host(value)
    return _url_host_cached(value)


@lru_cache(maxsize=4096)
def _url_host_cached(value: str) -> str | None:
    return _url_host(value)


def _url_host(value: str) -> str | None:
    url = value.strip(_C0_OR_SPACE).translate(_TAB_OR_NEWLINE)
    m = _SCHEME.match(url)
    if m is not None:
        if m.group(1).lower() not in _FETCH_SCHEMES:
            return None
        # "https:host/x" is relative to an https page but reaches "host" from any other:
        # take the reading that can reach a tracker.
        rest = url[m.end() :].lstrip("/\\")
    elif url[:2].replace("\\", "/") == "//":  # scheme-relative: the page's own scheme is special
        rest = url.lstrip("/\\")
    else:
        return None
    end = _AUTHORITY_END.search(rest)
    authority = rest[: end.start()] if end is not None else rest
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):
        close = host_port.find("]")
        return host_port[: close + 1].lower() if close > 0 else None
    host = host_port.partition(":")[0]
    return canonical_host(host) if host else None


@lru_cache(maxsize=4096)
def canonical_host(host: str) -> str | None:
    """A host name as the URL parser stores it: percent-decoded, UTS #46 mapped, IDNA ASCII.

    Policy hosts go through the same function, so that a policy written with Unicode or
    upper-case names matches what pages write in any form.
    """
    text = unquote_to_bytes(host).decode("utf-8", "replace") if "%" in host else host
    if not text.isascii():
        try:
            text = idna.uts46_remap(text, std3_rules=False, transitional=False)
        except (idna.IDNAError, UnicodeError):
            return None  # the URL parser rejects the host: nothing is fetched
        text = ".".join(_to_ascii(label) for label in text.split("."))
    else:
        text = text.lower()
    text = text.rstrip(".")
    if not text:
        return None
    return _ipv4(text) or text


def _to_ascii(label: str) -> str:
    if label.isascii():
        return label
    return "xn--" + label.encode("punycode").decode("ascii")


def _ipv4(host: str) -> str | None:
    """The dotted-decimal form of a host that ends in a number (``0x7f.1``), else ``None``."""
    parts = host.split(".")
    if not _IPV4_PART.fullmatch(parts[-1]):
        return None
    if len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        if not _IPV4_PART.fullmatch(part):
            return None
        if part[:2] in ("0x", "0X"):
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if any(c in "89" for c in part):
                return None
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    address = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        address += n * 256 ** (3 - i)
    return ".".join(str((address >> shift) & 255) for shift in (24, 16, 8, 0))
