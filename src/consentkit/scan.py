"""``consentkit scan``: crawl a site after "Accept" and find the hosts and cookies its policy misses.

The crawl is breadth-first over same-site links. On every page it records the third-party hosts
that tags would load (scripts, iframes, images, media, ``<link>`` hints and stylesheets, CSS
``url()`` and ``@import``, URLs in inline scripts) and every cookie set with ``Set-Cookie``.
:func:`browser_pass` adds what scripts do at run time in Chromium, where every request that
would leave the machine is answered by a local stub. :func:`match` compares all of it with the
policy and proposes catalog services for what is undeclared.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from .catalog import CatalogEntry, catalog
from .declaration import FLASH_SUFFIX
from .policy import Policy
from .rewrite import url_host

__all__ = ["CrawlResult", "PageFindings", "ScanReport", "browser_pass", "crawl", "host_matches", "match"]

#: Elements whose URL attributes the browser fetches on its own.
_LOADING: Final = {
    "script": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
}
_LINK_RELS: Final = {
    "stylesheet",
    "preconnect",
    "dns-prefetch",
    "preload",
    "prefetch",
    "modulepreload",
    "icon",
}
_CSS_URL: Final = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)
_SCRIPT_URL: Final = re.compile(
    r"""(?:https?:)?//([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,})""", re.I
)
_ACCEPT_ACTION: Final = "accept_all"


def host_matches(host: str, pattern: str) -> bool:
    """Whether ``host`` is ``pattern`` (``*.example.com`` also matches example.com and subdomains)."""
    if pattern.startswith("*."):
        suffix = pattern[2:]
        return host == suffix or host.endswith("." + suffix)
    return host == pattern


class _PageParser(HTMLParser):
    """The URLs a page loads, the links it offers, its inline code and the consent banner's form."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.links: list[str] = []
        self.stylesheets: list[str] = []
        self.inline: list[str] = []
        self.css: list[str] = []
        self.accept_form: dict[str, str] | None = None
        self._in: str | None = None
        self._text: list[str] = []
        self._banner_depth = 0
        self._form: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "section" and values.get("id") == "consentkit-banner":
            self._banner_depth = 1
        if "style" in values:
            self.css.append(values["style"])
        for attr in _LOADING.get(tag, ()):
            value = values.get(attr, "")
            if attr.endswith("srcset"):
                self.loads.extend(part.strip().split(" ")[0] for part in value.split(",") if part.strip())
            elif value:
                self.loads.append(value)
        if tag == "link" and values.get("href"):
            rels = set(values.get("rel", "").lower().split())
            if rels & _LINK_RELS:
                self.loads.append(values["href"])
                if "stylesheet" in rels:
                    self.stylesheets.append(values["href"])
        if tag in ("a", "area") and values.get("href"):
            self.links.append(values["href"])
        if tag in ("script", "style") and "src" not in values:
            self._in = tag
            self._text = []
        if self._banner_depth and tag == "form" and self.accept_form is None:
            self._form = {"action": values.get("action", "")}
        if (
            self._form is not None
            and tag == "input"
            and values.get("type") == "hidden"
            and values.get("name")
        ):
            self._form[values["name"]] = values.get("value", "")
        if (
            self._form is not None
            and tag == "button"
            and values.get("name") == "action"
            and values.get("value") == _ACCEPT_ACTION
        ):
            self.accept_form = self._form

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            (self.inline if tag == "script" else self.css).append("".join(self._text))
            self._in = None
        if tag == "form":
            self._form = None
        if tag == "section" and self._banner_depth:
            self._banner_depth = 0

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._text.append(data)


@dataclass
class PageFindings:
    """What one page (and what it set) showed."""

    url: str
    hosts: set[str] = field(default_factory=set)
    cookies: set[str] = field(default_factory=set)
    inline: list[str] = field(default_factory=list)


@dataclass
class CrawlResult:
    """Every page crawled, in breadth-first order."""

    site: str
    pages: list[PageFindings] = field(default_factory=list)
    accepted: bool = False

    def page(self, url: str) -> PageFindings:
        for found in self.pages:
            if found.url == url:
                return found
        found = PageFindings(url)
        self.pages.append(found)
        return found


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _normalise(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def _cookie_names(response: httpx.Response) -> set[str]:
    names = set()
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0].strip()
        value = header.split("=", 1)[1].split(";", 1)[0] if "=" in header else ""
        expired = "max-age=0" in header.lower().replace(" ", "") or not value
        if name and not expired:
            names.add(name)
    return names


def _third_party(urls: Iterable[str], base: str, site_host: str) -> set[str]:
    hosts = set()
    for url in urls:
        host = url_host(urljoin(base, url.strip()))
        if host and host != site_host and not url.strip().lower().startswith(("data:", "blob:")):
            hosts.add(host)
    return hosts


async def crawl(
    client: httpx.AsyncClient,
    start: str,
    *,
    max_pages: int = 20,
    prefix: str = "/_consent",
    progress: Callable[[int, int, str], None] | None = None,
) -> CrawlResult:
    """Crawl same-site links breadth-first from ``start``, accepting consent on the first page."""
    site_origin = _origin(start)
    site_host = urlsplit(start).hostname or ""
    result = CrawlResult(site=f"{site_origin[0]}://{site_origin[1]}")
    queue = [_normalise(start)]
    seen = set(queue)
    fetched_css: dict[str, str] = {}  # same-site stylesheets by URL, fetched once
    carried: set[str] = set()  # cookies set while accepting, shown on the page that was accepted
    while queue and len(result.pages) < max_pages:
        url = queue.pop(0)
        if progress is not None:
            progress(len(result.pages), max_pages, urlsplit(url).path)
        try:
            response = await client.get(url)
        except httpx.HTTPError:
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        page = result.page(url)
        page.cookies |= _cookie_names(response)
        parser = _PageParser()
        parser.feed(response.text)
        parser.close()
        if not result.accepted and parser.accept_form is not None:
            # Scan what visitors who click "Accept" get: every tag of the policy allowed.
            form = dict(parser.accept_form)
            action = urljoin(url, form.pop("action") or prefix)
            origin = f"{site_origin[0]}://{site_origin[1]}"
            decided = await client.post(
                action,
                data={**form, "action": _ACCEPT_ACTION, "next": urlsplit(url).path},
                headers={"origin": origin},
            )
            carried = page.cookies | _cookie_names(decided)
            result.accepted = decided.status_code in (200, 303)
            result.pages.remove(page)
            queue.insert(0, url)
            continue
        page.cookies |= carried
        carried = set()
        page.inline.extend(parser.inline)
        page.hosts |= _third_party(parser.loads, url, site_host)
        for code in parser.inline:
            page.hosts |= {h.lower() for h in _SCRIPT_URL.findall(code) if h.lower() != site_host}
        css = list(parser.css)
        for sheet in parser.stylesheets:
            sheet_url = urljoin(url, sheet)
            if _origin(sheet_url) != site_origin:
                continue
            if sheet_url not in fetched_css:
                fetched_css[sheet_url] = ""
                try:
                    sheet_response = await client.get(sheet_url)
                    page.cookies |= _cookie_names(sheet_response)
                    fetched_css[sheet_url] = sheet_response.text
                except httpx.HTTPError:
                    pass
            css.append(fetched_css[sheet_url])
        for text in css:
            page.hosts |= _third_party(_CSS_URL.findall(text), url, site_host)
        for link in parser.links:
            target = _normalise(urljoin(url, link))
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or _origin(target) != site_origin:
                continue
            if parts.path.startswith(prefix + "/") or parts.path == prefix or target in seen:
                continue
            seen.add(target)
            queue.append(target)
    if progress is not None:
        progress(len(result.pages), len(result.pages), "")
    return result


def browser_pass(
    result: CrawlResult, executable: str, *, accept_label: str | None = None, timeout_ms: int = 15000
) -> None:
    """Visit the crawled pages in Chromium after "Accept", adding the hosts scripts request and the
    cookies they set at run time. Nothing leaves the machine: every request to a host that is not
    loopback is recorded and answered by a local stub, no name is resolved, and the proxy is a
    closed port."""
    import socket  # noqa: PLC0415 - only for the browser pass

    from playwright.sync_api import Route, sync_playwright  # noqa: PLC0415 - an optional dependency

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    args = [
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-domain-reliability",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--proxy-server=http://127.0.0.1:{closed_port}",
        "--proxy-bypass-list=127.0.0.1;localhost",
    ]
    site_host = urlsplit(result.site).hostname or ""
    current: list[PageFindings] = []

    def stub(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost", site_host):
            route.continue_()
            return
        if current:
            current[0].hosts.add(host)
        route.fulfill(status=204, body=b"")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            context = browser.new_context(service_workers="block")
            context.route("**/*", stub)
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            for index, found in enumerate(result.pages):
                current[:] = [found]
                page.goto(found.url, wait_until="load")
                if index == 0:
                    button = page.locator("#consentkit-banner button[value='accept_all']")
                    if button.count():
                        with page.expect_navigation(wait_until="load"):
                            button.first.click()
                page.wait_for_timeout(300)
                found.cookies |= {str(cookie.get("name", "")) for cookie in context.cookies()}
        finally:
            browser.close()


@dataclass
class ScanReport:
    """What the crawl found, what the policy does not declare, and the YAML that would."""

    site: str
    pages: list[str]
    hosts: dict[str, list[str]]
    cookies: dict[str, list[str]]
    undeclared_hosts: dict[str, list[str]]
    undeclared_cookies: dict[str, list[str]]
    proposals: dict[str, dict[str, Any]]
    notes: dict[str, str]

    @property
    def clean(self) -> bool:
        return not self.undeclared_hosts and not self.undeclared_cookies

    def per_page(self) -> dict[str, dict[str, list[str]]]:
        """Undeclared hosts and cookies, page by page."""
        pages: dict[str, dict[str, list[str]]] = {}
        for kind, found in (("hosts", self.undeclared_hosts), ("cookies", self.undeclared_cookies)):
            for value, where in found.items():
                for url in where:
                    pages.setdefault(url, {"hosts": [], "cookies": []})[kind].append(value)
        return {url: pages[url] for url in self.pages if url in pages}

    def proposal_yaml(self) -> str:
        """The top-level ``services`` to add to the policy (catalog names where known)."""
        if not self.proposals:
            return ""
        lines = ["services:"]
        for name, body in self.proposals.items():
            note = f"  # {self.notes[name]}" if name in self.notes else ""
            if not body:
                lines.append(f"  {name}: {{}}{note}")
                continue
            lines.append(f"  {name}:{note}")
            for key, value in body.items():
                shown = (
                    "[" + ", ".join(_yaml_item(v) for v in value) + "]" if isinstance(value, list) else value
                )
                lines.append(f"    {key}: {shown}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "pages": self.pages,
            "hosts": self.hosts,
            "cookies": self.cookies,
            "undeclared": {"hosts": self.undeclared_hosts, "cookies": self.undeclared_cookies},
            "per_page": self.per_page(),
            "proposals": self.proposals,
            "proposal_yaml": self.proposal_yaml(),
        }


def _yaml_item(value: str) -> str:
    return f'"{value}"' if re.search(r"[*?\[\]{}:#,&!|>'\"%@`]", value) else value


def _declared_host(policy: Policy, host: str) -> str | None:
    for cat_name, category in policy.categories.items():
        for svc_name, service in category.services.items():
            if any(host_matches(host, pattern) for pattern in service.hosts):
                return f"{cat_name}.{svc_name}"
    return None


def _declared_cookie(policy: Policy, name: str) -> str | None:
    if name in (policy.cookie.name, policy.cookie.name + FLASH_SUFFIX):
        return "consentkit"
    for cat_name, category in policy.categories.items():
        for svc_name, service in category.services.items():
            for info in service.cookie_info:
                if info.name == name or fnmatch.fnmatchcase(name, info.name):
                    return f"{cat_name}.{svc_name}"
    return None


def _best(candidates: list[CatalogEntry], code: str) -> list[CatalogEntry]:
    """Candidates ranked by how many of their inline markers the site's inline code contains."""
    scored = sorted(candidates, key=lambda e: (-sum(m in code for m in e.data.get("inline", ())), e.name))
    return scored


def match(
    result: CrawlResult, policy: Policy, entries: Mapping[str, CatalogEntry] | None = None
) -> ScanReport:
    """Compare what the crawl found with the policy; propose catalog services for the rest."""
    known = catalog() if entries is None else entries
    hosts: dict[str, list[str]] = {}
    cookies: dict[str, list[str]] = {}
    for page in result.pages:
        for host in sorted(page.hosts):
            hosts.setdefault(host, []).append(page.url)
        for name in sorted(page.cookies):
            cookies.setdefault(name, []).append(page.url)
    undeclared_hosts = {h: pages for h, pages in sorted(hosts.items()) if _declared_host(policy, h) is None}
    undeclared_cookies = {
        c: pages for c, pages in sorted(cookies.items()) if _declared_cookie(policy, c) is None
    }
    code = "\n".join(text for page in result.pages for text in page.inline)
    in_policy = {name for category in policy.categories.values() for name in category.services}
    proposals: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    covered: dict[str, str] = {}

    def propose(entry: CatalogEntry, alternatives: list[CatalogEntry]) -> str:
        if entry.name not in proposals:
            proposals[entry.name] = {}
            others = [e.name for e in alternatives if e.name != entry.name]
            notes[entry.name] = f"{entry.label} ({entry.category})" + (
                f"; or {', '.join(others)}" if others else ""
            )
        return entry.name

    for host in undeclared_hosts:
        candidates = [
            e
            for e in known.values()
            if e.name not in in_policy and any(host_matches(host, p) for p in e.data.get("hosts", ()))
        ]
        if candidates:
            ranked = _best(candidates, code)
            chosen = next((e for e in ranked if e.name in proposals), ranked[0])
            covered[host] = propose(chosen, ranked)
        else:
            name = re.sub(r"[^a-z0-9]+", "-", host).strip("-")
            proposals[name] = {"category": "analytics", "hosts": [host]}
            notes[name] = "not in the catalog: check the category (functional, analytics, marketing, media)"
    for cookie in undeclared_cookies:
        candidates = [
            e
            for e in known.values()
            if e.name not in in_policy
            and any(fnmatch.fnmatchcase(cookie, _cookie(c)) for c in e.data.get("cookies", ()))
        ]
        if candidates:
            chosen = next((e for e in candidates if e.name in proposals), _best(candidates, code)[0])
            propose(chosen, candidates)
            continue
        own = proposals.setdefault("site-cookies", {"category": "necessary", "cookies": []})
        own["cookies"].append(cookie)
        notes["site-cookies"] = (
            "not in the catalog: set the category, or move them to the service that sets them"
        )
    return ScanReport(
        site=result.site,
        pages=[page.url for page in result.pages],
        hosts=hosts,
        cookies=cookies,
        undeclared_hosts=undeclared_hosts,
        undeclared_cookies=undeclared_cookies,
        proposals=proposals,
        notes=notes,
    )


def _cookie(item: Any) -> str:
    return str(item["name"]) if isinstance(item, Mapping) else str(item)
