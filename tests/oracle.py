"""What a browser would load or run from a page, per html5lib (a WHATWG-conformant parser).

Used as the independent oracle in blocking tests: parse the rewritten page as a browser
would (with and without scripting), and list every tracker it would still fetch or run.
"""

from __future__ import annotations

import base64
import bisect
import functools
import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote_to_bytes
from xml.etree.ElementTree import Element

import ada_url
import html5lib
import tinycss2

from consentkit import Policy

# An inline script that names a tracker's host loads it when it hands that name to a browser API
# that fetches: such a call within this many bytes after the name is taken as a load (the
# rewriter's own rule, docs/policy.md, reaches further; a host mentioned only in data loads nothing).
LOADER_REACH = 256
_LOADERS = re.compile(
    rb"createElement|\.src\s*=|\.href\s*=|setAttribute|new Image|fetch\(|sendBeacon|XMLHttpRequest"
    rb"|import\(|document\.write|insertBefore|appendChild|innerHTML"
)


def url_host(url: str) -> str | None:
    """The host a browser would fetch ``url`` from on an https page, per ada (a WHATWG URL parser)."""
    try:
        parsed = ada_url.URL(url, base="https://site.example/")
    except ValueError:
        return None
    host = parsed.hostname.rstrip(".")
    if parsed.protocol not in ("http:", "https:", "ws:", "wss:", "ftp:") or host == "site.example":
        return None
    return host or None


@functools.lru_cache(maxsize=8)
def _lowered_and_loaders(raw: bytes) -> tuple[bytes, list[int]]:
    return raw.lower(), [m.start() for m in _LOADERS.finditer(raw)]


_HOST_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-")


def _loads_host(text: str, host: str) -> bool:
    raw = text.encode("utf-8", "surrogatepass")
    lowered, loaders = _lowered_and_loaders(raw)
    # the host written as a host name (or the end of a longer one), in any case
    needle = host.encode().lower()
    start = lowered.find(needle)
    while start >= 0:
        end = start + len(needle)
        named = (start == 0 or lowered[start - 1] not in _HOST_CHARS) and (
            end == len(lowered) or lowered[end] not in _HOST_CHARS
        )
        k = bisect.bisect_left(loaders, start)  # the first loader at or after the host
        if named and k < len(loaders) and loaders[k] <= start + LOADER_REACH:
            return True
        start = lowered.find(needle, start + 1)
    return False


_JS_TYPES = {"", "module", "text/javascript", "application/javascript", "application/ecmascript"}
_URL_ATTRS = ("src", "srcset", "href", "{http://www.w3.org/1999/xlink}href", "data", "poster", "imagesrcset")
_LOADING = {"iframe", "frame", "img", "image", "embed", "object", "source", "video", "audio", "script"}
_HINTS = {"preconnect", "dns-prefetch", "preload", "prefetch", "stylesheet", "modulepreload", "prerender"}
# rel values that only link to another page; any other <link> may fetch (icon, manifest ...).
_NAVIGATION = {"alternate", "author", "bookmark", "canonical", "external", "help", "license", "next", "prev",
               "me", "nofollow", "noopener", "noreferrer", "opener", "search", "tag", "shortlink"}  # fmt: skip
# What lazy-loading scripts (lazysizes, lozad, WordPress plugins) turn into a real load.
_LAZY = re.compile(r"^data-(?!consentkit-)[\w.:-]*(?:src|bg|background|poster|lazy|original|image|img|url)")
_XLINK = "{http://www.w3.org/1999/xlink}href"
_SVG = "{http://www.w3.org/2000/svg}"
_SVG_FETCHING = {"image", "use", "feimage", "script", "set", "animate", "animatemotion", "animatetransform",
                 "mpath", "textpath", "pattern", "lineargradient", "radialgradient", "filter", "tref", "cursor",
                 "font-face-uri"}  # fmt: skip
_URL_IN_TEXT = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?[/\\]{2}[^\s"'<>()`\\,;]+""", re.I)


def css_urls(css: str) -> Iterator[str]:
    """Every URL a stylesheet or declaration list fetches, per tinycss2's CSS tokenizer."""
    yield from _css_token_urls(tinycss2.parse_component_value_list(css, skip_comments=True), None)


def _css_token_urls(tokens: Iterable[object], function: str | None) -> Iterator[str]:
    importing = False  # after "@import", until the next token that is not whitespace
    for token in tokens:
        kind = getattr(token, "type", "")
        if kind == "url":
            yield str(getattr(token, "value", ""))
        elif kind == "string":
            if importing or function in ("url", "src") or (function or "").endswith("image-set"):
                yield str(getattr(token, "value", ""))
        elif kind == "function":
            yield from _css_token_urls(getattr(token, "arguments", []), str(getattr(token, "lower_name", "")))
        elif kind in ("() block", "[] block", "{} block"):
            yield from _css_token_urls(getattr(token, "content", []), None)
        if kind == "at-keyword":
            importing = str(getattr(token, "lower_value", "")) == "import"
        elif kind not in ("whitespace", "comment"):
            importing = False


def _text_urls(text: str) -> Iterator[str]:
    yield from (m.group() for m in _URL_IN_TEXT.finditer(text))


def _inline_document(url: str) -> str:
    """The document a ``javascript:`` or ``data:`` URL holds (empty for any other URL)."""
    url = url.strip("\x00\t\n\f\r ").replace("\t", "").replace("\n", "").replace("\r", "")
    scheme, _, rest = url.partition(":")
    if scheme.lower() == "javascript":
        return unquote_to_bytes(rest).decode("utf-8", "replace")
    if scheme.lower() == "data":
        meta, _, payload = rest.partition(",")
        raw = unquote_to_bytes(payload)
        if meta.lower().rstrip().endswith(";base64"):
            raw = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw) + b"==")
        return raw.decode("utf-8", "replace")
    return ""


def _json_strings(text: str) -> Iterator[str]:
    try:
        data = json.loads(text)
    except ValueError:
        yield text
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _fetches(element: Element, tag: str, foreign: bool, scripting: bool) -> Iterator[tuple[str, str]]:
    """(what, URL) for the fetches beyond an element's src: lazy, CSS, ping, SVG, meta, base..."""
    ns = element.tag[: element.tag.index("}") + 1] if foreign and isinstance(element.tag, str) else ""
    for attr, value in element.attrib.items():
        if not value or not isinstance(attr, str):
            continue
        if _LAZY.match(attr):  # a lazy-loading script makes it a real load, on any element
            for url in value.split(",") if "set" in attr else [value]:
                yield f"lazy {attr}", url.strip().split(" ")[0]
        elif attr == "style" or (ns == _SVG and attr in ("fill", "stroke", "filter", "clip-path", "mask")):
            for url in css_urls(value):
                yield f"{attr}= CSS", url
        elif attr == "background" and not foreign:
            yield "background", value
        elif attr == "ping" and tag in ("a", "area") and not foreign:
            for url in value.split():
                yield "ping", url
    if tag == "style":
        for url in css_urls("".join(element.itertext())):
            yield "<style>", url
    # SVG elements that fetch what their href names (external <use>, <image>, filters, paint servers)
    if ns == _SVG and tag in _SVG_FETCHING:
        for attr in ("href", _XLINK):
            if element.get(attr):
                yield f"SVG {attr}", element.get(attr, "")
        if tag in ("set", "animate"):
            for attr in ("to", "from", "values"):
                for url in (element.get(attr) or "").split(";"):
                    yield f"SVG {tag} {attr}", url.strip()
    if foreign:
        return
    if tag == "input" and element.get("src"):
        yield "input src", element.get("src", "")
    if tag == "base" and element.get("href"):
        yield "base href", element.get("href", "")
    if tag == "meta" and (element.get("http-equiv") or "").strip().lower() == "refresh":
        m = re.match(
            r"""\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?['"]?([^'"]*)""", element.get("content") or "", re.I
        )
        if m:
            yield "meta refresh", m.group(1).strip()
    if tag == "link" and set((element.get("rel") or "").lower().split()) - _NAVIGATION:
        yield "link", element.get("href") or ""
    if (
        tag == "script"
        and scripting
        and (element.get("type") or "").strip().lower()
        in (
            "importmap",
            "speculationrules",
        )
    ):
        for text in _json_strings("".join(element.itertext())):
            yield "import map", text
            for url in _text_urls(text):
                yield "import map", url
    if tag in ("iframe", "frame", "embed", "object"):
        for attr in ("src", "data"):
            document = _inline_document(element.get(attr) or "")
            if document:
                yield f"{attr}= document", document


def _local(tag: object) -> str:
    name = tag if isinstance(tag, str) else ""
    return name.rsplit("}", 1)[-1].lower()


def denied_rules(policy: Policy, denied: Iterable[str]) -> tuple[set[str], list[str], set[str]]:
    """(hosts, inline markers, categories) a page must not load or run for these denied categories."""
    hosts: set[str] = set()
    markers: list[str] = []
    categories = set(denied)
    for name in categories:
        for service in policy.categories[name].services.values():
            hosts.update(service.hosts)
            markers.extend(service.inline)
    return hosts, markers, categories


def _host_denied(host: str | None, hosts: set[str]) -> bool:
    if host is None:
        return False
    for pattern in hosts:
        suffix = pattern[2:] if pattern.startswith("*.") else None
        if host == pattern or (suffix and (host == suffix or host.endswith("." + suffix))):
            return True
    return False


def _urls(element: Element) -> Iterator[str]:
    for attr, value in element.attrib.items():
        if value and isinstance(attr, str) and _LAZY.match(attr):
            yield from (part.strip().split(" ")[0] for part in value.split(",")) if "set" in attr else [value]
    for attr in ("lowsrc", "codebase"):
        if element.get(attr):
            yield element.get(attr, "")
    for attr in _URL_ATTRS:
        value = element.get(attr)
        if not value:
            continue
        if attr.endswith("srcset"):
            yield from (part.strip().split(" ")[0] for part in value.split(","))
        else:
            yield value


def _walk(element: Element, inside_template: bool = False) -> Iterator[tuple[Element, bool]]:
    yield element, inside_template
    for child in element:
        yield from _walk(child, inside_template or _local(element.tag) == "template")


def leaks(page: str | bytes, policy: Policy, denied: Iterable[str]) -> list[str]:
    """Every way the page would still load or run something of a denied category."""
    hosts, markers, categories = denied_rules(policy, denied)
    found: list[str] = []
    for scripting in (True, False):
        tree = html5lib.parse(page, namespaceHTMLElements=False, scripting=scripting)
        for element, in_template in _walk(tree):
            if in_template:
                continue  # template contents are inert until activated
            tag = _local(element.tag)
            foreign = isinstance(element.tag, str) and element.tag.startswith("{")
            where = f"<{tag}> (scripting={'on' if scripting else 'off'})"
            category = (element.get("data-consent") or "").strip().lower()
            if category in categories and tag not in ("html", "head", "body"):
                found.append(f"{where} marked data-consent={category}")
            script_type = (element.get("type") or "").strip().lower()
            # without scripting, no script is fetched or run
            runs = tag != "script" or (scripting and script_type in _JS_TYPES)
            # SVG/MathML elements do not load like HTML ones, except SVG <script> and <image>.
            loads = tag in _LOADING if not foreign else tag in ("script", "image")
            if loads and runs:
                for url in _urls(element):
                    if _host_denied(url_host(url), hosts):
                        found.append(f"{where} loads {url}")
            if tag == "link" and not foreign and _HINTS & set((element.get("rel") or "").lower().split()):
                href = element.get("href") or ""
                if _host_denied(url_host(href), hosts):
                    found.append(f"{where} rel={element.get('rel')} to {href}")
            if tag == "script" and runs and "src" not in element.attrib:  # src="" runs nothing either
                text = "".join(element.itertext())
                for marker in markers:
                    if marker in text:
                        found.append(f"{where} inline code with {marker!r}")
                for host in hosts:
                    if _loads_host(text, host.lstrip("*.")):
                        found.append(f"{where} inline code loading {host}")
            for what, url in _fetches(element, tag, foreign, scripting):
                if what.endswith("document"):
                    lowered = url.lower()
                    if any(h.lstrip("*.") in lowered for h in hosts) or any(m in url for m in markers):
                        found.append(f"{where} {what} naming a tracker")
                elif _host_denied(url_host(url), hosts):
                    found.append(f"{where} {what} loads {url}")
            srcdoc = element.get("srcdoc", "").lower() if tag == "iframe" else ""
            if srcdoc and any(h.lstrip("*.") in srcdoc for h in hosts):
                found.append(f"{where} srcdoc naming a tracker")
    return found
