"""What a browser would load or run from a page, per html5lib (a WHATWG-conformant parser).

Used as the independent oracle in blocking tests: parse the rewritten page as a browser
would (with and without scripting), and list every tracker it would still fetch or run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import Element

import ada_url
import html5lib

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


def _loads_host(text: str, host: str) -> bool:
    raw = text.encode("utf-8", "surrogatepass")
    loaders = [m.start() for m in _LOADERS.finditer(raw)]
    # the host written as a host name (or the end of a longer one), in any case
    named = re.compile(rb"(?<![a-z0-9-])" + re.escape(host.encode()) + rb"(?![a-z0-9-])", re.I)
    return any(
        start <= p <= start + LOADER_REACH
        for start in (m.start() for m in named.finditer(raw))
        for p in loaders
    )


_JS_TYPES = {"", "module", "text/javascript", "application/javascript", "application/ecmascript"}
_URL_ATTRS = ("src", "srcset", "href", "{http://www.w3.org/1999/xlink}href", "data", "poster", "imagesrcset")
_LOADING = {"iframe", "frame", "img", "image", "embed", "object", "source", "video", "audio", "script"}
_HINTS = {"preconnect", "dns-prefetch", "preload", "prefetch", "stylesheet", "modulepreload", "prerender"}


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
            srcdoc = element.get("srcdoc", "").lower() if tag == "iframe" else ""
            if srcdoc and any(h.lstrip("*.") in srcdoc for h in hosts):
                found.append(f"{where} srcdoc naming a tracker")
    return found
