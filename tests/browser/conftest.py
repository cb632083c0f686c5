"""Real-browser fixtures: Debian's Chromium through Playwright, the demo served by uvicorn, no traffic out.

Chromium is never downloaded (``playwright install`` cannot fetch browsers here): the tests use
the executable in ``CONSENTKIT_CHROMIUM``, else ``/usr/bin/chromium``. When it is missing they
skip, except under ``CI=true``, where they fail.

Nothing may leave the machine, Chromium's own background traffic included. Three layers see to it:

* every request from a page to a host other than 127.0.0.1/localhost is intercepted by
  ``context.route``, recorded (so a test can assert which tracker requests the page *made*) and
  answered locally;
* the host resolver maps every other name to NOTFOUND, so nothing is even looked up;
* the proxy is a closed port on 127.0.0.1, so anything that slips past both goes nowhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Response,
    Route,
    sync_playwright,
)

from consentkit.cli import DEMO_KEY, demo_app

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "artifacts" / "browser"
AXE_PATH = HERE / "node_modules" / "axe-core" / "axe.min.js"

DEFAULT_CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})

GTM_HOST = "www.googletagmanager.com"
GA_HOST = "www.google-analytics.com"
META_SCRIPT_HOST = "connect.facebook.net"
META_PIXEL_HOST = "www.facebook.com"
TRACKER_HOSTS = frozenset({GTM_HOST, GA_HOST, META_SCRIPT_HOST, META_PIXEL_HOST})
TRACKER_COOKIES = frozenset({"_ga", "_ga_ABC123", "_fbp", "fr", "_demo_analytics"})

# A 1x1 transparent GIF: what the stand-in tracker pixel answers with.
PIXEL_GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)

# Stand-ins for the two tracker scripts. An empty body would hide a leak: these do what the real
# tags do first (set their first-party cookies), so a blocked tag that ran anyway shows up in
# context.cookies(). The gtag stand-in also notes whether the Consent Mode default was already
# in the dataLayer when it ran (it must be: consent-mode.js has to come first).
GTAG_STAND_IN = (
    "window.__ckGtagRan=true;"
    "window.__ckGtagSawConsentDefault=(window.dataLayer||[]).some("
    "function(a){return a&&a[0]==='consent'&&a[1]==='default';});"
    "document.cookie='_ga=GA1.1.1234567890.1700000000; path=/; max-age=3600';"
    "document.cookie='_ga_ABC123=GS1.1.1700000000.1.0.1700000000.0.0.0; path=/; max-age=3600';"
)
FBEVENTS_STAND_IN = (
    "window.__ckFbeventsRan=true;document.cookie='_fbp=fb.1.1700000000.123456789; path=/; max-age=3600';"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def free_port() -> int:
    """A loopback port nobody listens on: bound, read and closed again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium_args(closed_port: int) -> list[str]:
    return [
        # No name resolves except the loopback ones: nothing is even looked up.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-domain-reliability",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        # Everything not on loopback goes to a proxy on a closed loopback port, i.e. nowhere.
        # The project brief asks for --proxy-bypass-list=<-loopback>, but that token REMOVES
        # Chromium's implicit loopback bypass, so the test server itself would go through the dead
        # proxy (net::ERR_PROXY_CONNECTION_FAILED). Listing the loopback hosts explicitly keeps
        # them direct while every other host stays behind the closed proxy.
        f"--proxy-server=http://127.0.0.1:{closed_port}",
        "--proxy-bypass-list=127.0.0.1;localhost",
    ]


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = os.environ.get("CONSENTKIT_CHROMIUM", "").strip() or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        reason = (
            f"no Chromium executable at {path} (set CONSENTKIT_CHROMIUM, or apt-get install chromium); "
            "`playwright install` cannot download browsers here"
        )
        if in_ci():
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    # Package scope: the Playwright driver (and its private event loop) is stopped before the rest
    # of the suite runs its own asyncio tests.
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def closed_proxy_port() -> int:
    return free_port()


@pytest.fixture(scope="package")
def browser(
    playwright_instance: Playwright, chromium_executable: str, closed_proxy_port: int
) -> Iterator[Browser]:
    launched = playwright_instance.chromium.launch(
        executable_path=chromium_executable, headless=True, args=chromium_args(closed_proxy_port)
    )
    yield launched
    launched.close()


# --- the demo server -----------------------------------------------------------------------------


@dataclass
class DemoServer:
    """The release-page demo behind ConsentMiddleware, served by uvicorn on a loopback port."""

    base_url: str
    audit_path: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def hits(self) -> int:
        """First-party analytics hits counted so far (GET /collect/stats, outside the browser)."""
        response = httpx.get(self.url("/collect/stats"), timeout=5)
        response.raise_for_status()
        return int(response.json()["hits"])

    def audit_text(self) -> str:
        return self.audit_path.read_text(encoding="utf-8") if self.audit_path.exists() else ""

    def audit_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_text().splitlines() if line.strip()]

    def verify_audit(self) -> subprocess.CompletedProcess[str]:
        """``consentkit audit verify --keys DEMO_KEY <file>``, run as the command it is."""
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "consentkit.cli",
                "audit",
                "verify",
                "--keys",
                DEMO_KEY,
                str(self.audit_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    """A fresh server per test.

    The demo keeps state per app: the audit file and the in-memory /collect counter. A fresh app
    per test makes "no hit", "one audit line" and "audit file unchanged" exact and independent of
    test order; starting uvicorn on a loopback socket takes a few milliseconds.
    """
    app, _, audit_path = demo_app(audit=str(tmp_path / "audit.jsonl"))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="consentkit-demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the demo server did not start (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the demo server did not start within 15 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield DemoServer(base_url=f"http://127.0.0.1:{port}", audit_path=audit_path)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "the demo server did not shut down"


# --- what the pages asked the outside world for ---------------------------------------------------


@dataclass(frozen=True)
class Intercepted:
    url: str
    method: str
    resource_type: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


@dataclass
class Traffic:
    """Every request the browser context made: all of them in order, and the intercepted ones."""

    external: list[Intercepted] = field(default_factory=list)
    all_urls: list[str] = field(default_factory=list)

    def to_host(self, host: str, path_contains: str = "") -> list[Intercepted]:
        return [r for r in self.external if r.host == host and path_contains in r.url]

    def trackers(self) -> list[Intercepted]:
        return [r for r in self.external if r.host in TRACKER_HOSTS]

    def clear(self) -> None:
        self.external.clear()
        self.all_urls.clear()


def serve_app(app: Any) -> tuple[str, Callable[[], None]]:
    """Start an ASGI app with uvicorn in a thread on a free loopback port: its URL, and how to stop it."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the test server did not start"

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)

    return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", stop


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def install_network_guard(context: BrowserContext, traffic: Traffic) -> None:
    """Intercept, record and answer locally every request to a non-loopback host."""

    def answer(route: Route) -> None:
        request = route.request
        traffic.external.append(Intercepted(request.url, request.method, request.resource_type))
        parts = urlsplit(request.url)
        if parts.hostname == GTM_HOST and parts.path.startswith("/gtag/js"):
            route.fulfill(status=200, content_type="text/javascript", body=GTAG_STAND_IN)
        elif parts.hostname == META_SCRIPT_HOST and parts.path.endswith("/fbevents.js"):
            route.fulfill(status=200, content_type="text/javascript", body=FBEVENTS_STAND_IN)
        elif request.resource_type == "script":
            route.fulfill(status=200, content_type="text/javascript", body="")
        elif request.resource_type == "image":
            route.fulfill(status=200, content_type="image/gif", body=PIXEL_GIF)
        else:
            route.fulfill(status=204, body="")

    context.route(lambda url: not is_loopback(url), answer)
    context.on("request", lambda request: traffic.all_urls.append(request.url))


@dataclass
class Browsing:
    """One fresh browser context (fresh cookies) on one fresh demo server, and what it requested."""

    context: BrowserContext
    page: Page
    server: DemoServer
    traffic: Traffic
    #: Uncaught exceptions and console errors of the page (CSP violations and failed loads included).
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(f"console.error: {message.text}") if message.type == "error" else None
            ),
        )

    def goto(self, path: str = "/") -> None:
        self.page.goto(self.server.url(path), wait_until="load")

    def settle(self) -> None:
        """Wait until the page has loaded and the network stayed quiet: nothing more will come."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_load_state("networkidle")

    def cookie_names(self) -> set[str]:
        return {c["name"] for c in self.context.cookies()}

    def tracker_cookies(self) -> set[str]:
        return self.cookie_names() & TRACKER_COOKIES

    def decide(self, button: str, *, within: str = "#consentkit-banner") -> None:
        """Press a decision button (by its visible name) in ``within``; wait for the form POST, its 303
        and the page it leads to."""
        self.submit(self.page.locator(within).get_by_role("button", name=button, exact=True).click)

    def submit(self, action: Callable[[], None]) -> None:
        """Do ``action`` (a click or a key press that posts a consent form) and wait as ``decide`` does."""
        with (
            self.page.expect_response(is_decision_post) as posted,
            self.page.expect_navigation(wait_until="load"),
        ):
            action()
        response = posted.value
        assert response.status == 303, f"POST /_consent answered {response.status}, not 303"
        assert not self.page.url.startswith(self.server.url("/_consent")), self.page.url

    def assert_nothing_tracked(self) -> None:
        """No tracker request, no tracker cookie, no first-party analytics hit (after ``settle``)."""
        assert self.traffic.trackers() == [], f"tracker requests: {self.traffic.trackers()}"
        assert self.tracker_cookies() == set(), f"tracker cookies: {self.tracker_cookies()}"
        assert self.server.hits() == 0, "the first-party analytics endpoint /collect was hit"

    def assert_no_page_errors(self) -> None:
        assert self.errors == [], "\n".join(self.errors)


def is_decision_post(response: Response) -> bool:
    return response.request.method == "POST" and urlsplit(response.url).path == "/_consent"


def is_collect_post(response: Response) -> bool:
    return response.request.method == "POST" and urlsplit(response.url).path == "/collect"


OpenBrowsing = Callable[..., Browsing]


@pytest.fixture
def open_browsing(browser: Browser, demo_server: DemoServer) -> Iterator[OpenBrowsing]:
    """Open fresh contexts on the test's server: ``open_browsing(java_script_enabled=False, ...)``."""
    contexts: list[BrowserContext] = []

    def open_context(**options: Any) -> Browsing:
        options.setdefault("viewport", VIEWPORT)
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        traffic = Traffic()
        install_network_guard(context, traffic)
        return Browsing(context, context.new_page(), demo_server, traffic)

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def browsing(open_browsing: OpenBrowsing) -> Browsing:
    """A fresh context (1280x800, English, JavaScript on) on a fresh demo server."""
    return open_browsing()


# --- axe-core ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe.min.js from the pinned package.json / package-lock.json, installed with `npm ci` if missing."""
    if AXE_PATH.is_file():
        return AXE_PATH
    npm = shutil.which("npm")
    problem = ""
    if npm is None:
        problem = "npm is not installed"
    else:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            problem = f"`npm ci` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        elif not AXE_PATH.is_file():
            problem = f"`npm ci` did not install {AXE_PATH}"
    if problem:
        reason = f"axe-core is not available for the accessibility tests: {problem}"
        if in_ci():
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    return AXE_PATH
