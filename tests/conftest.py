"""Shared fixtures: a policy like the example's, and small Starlette apps behind the middleware."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware, Policy, parse_policy

KEY = "test-secret-key-0123456789abcdef"
OLD_KEY = "old-secret-key-0123456789abcdef!"

POLICY_YAML = """\
version: "2025-12-01"
default_language: en
privacy_policy_url: /privacy
cookie:
  name: consentkit
  max_age_days: 180
categories:
  necessary:
    required: true
    consent_mode: [security_storage, functionality_storage]
  analytics:
    consent_mode: [analytics_storage]
    services:
      google-analytics:
        label: Google Analytics
        hosts: [www.googletagmanager.com, www.google-analytics.com]
        inline: ["gtag(", "dataLayer"]
        cookies: [_ga, "_ga_*", _gid]
      hotjar:
        label: Hotjar
        hosts: ["*.hotjar.com"]
        inline: ["hj("]
        cookies: ["_hj*"]
      matomo:
        label: Matomo
        hosts: [cdn.matomo.cloud, stats.example.org]
        inline: ["_paq"]
        cookies: ["_pk_*"]
  marketing:
    gpc: deny
    consent_mode: [ad_storage, ad_user_data, ad_personalization]
    services:
      meta-pixel:
        label: Meta Pixel
        hosts: [connect.facebook.net, www.facebook.com]
        inline: ["fbq("]
        cookies: [_fbp]
      youtube:
        label: YouTube
        hosts: [www.youtube.com, www.youtube-nocookie.com]
texts:
  en:
    title: Your privacy
    body: "We use cookies for analytics and marketing. Read our {privacy_policy}."
    accept: Accept
    decline: Decline
    categories:
      analytics: {label: Analytics, description: "Counts visits to improve the site."}
      marketing: {label: Marketing, description: "Measures our campaigns."}
  fr:
    title: Vos données
    body: "Nous utilisons des cookies. Lisez notre {privacy_policy}."
    accept: Accepter
    decline: Refuser
    categories:
      analytics: {label: Mesure d’audience, description: "Compte les visites."}
      marketing: {label: Marketing, description: "Mesure nos campagnes."}
"""

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Page</title></head>'
    "<body><h1>Hello</h1><p>Content</p></body></html>"
)


@pytest.fixture
def policy() -> Policy:
    return parse_policy(POLICY_YAML)


def page_route(html: str = PAGE, **kwargs: Any) -> Callable[[Request], Response]:
    async def endpoint(request: Request) -> Response:
        consent = request.state.consent
        headers = {
            "x-consent": f"{consent.decided}:{consent.allows('analytics')}:{consent.allows('marketing')}"
        }
        headers.update(kwargs.get("headers", {}))
        options = {k: v for k, v in kwargs.items() if k != "headers"}
        return HTMLResponse(html, headers=headers, **options)

    return endpoint


def make_app(
    policy: Policy,
    routes: list[Route] | None = None,
    *,
    tmp_path: Path | None = None,
    **options: Any,
) -> Starlette:
    app = Starlette(routes=routes or [Route("/", page_route()), Route("/page", page_route())])
    options.setdefault("secret_keys", [KEY])
    if tmp_path is not None:
        options.setdefault("audit_path", tmp_path / "audit.jsonl")
    app.add_middleware(ConsentMiddleware, policy=policy, **options)
    return app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client_for(app: Any, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """An httpx client calling the ASGI app in-process (cookies kept, redirects not followed)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def client(policy: Policy, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app(policy, tmp_path=tmp_path)) as test_client:
        yield test_client


async def decide(
    client: httpx.AsyncClient, action: str, categories: tuple[str, ...] = (), next_url: str = "/"
) -> httpx.Response:
    """Post a decision through the plain HTML form, as a browser without JavaScript does."""
    data: dict[str, Any] = {"action": action, "next": next_url}
    if categories:
        data["categories"] = list(categories)
    origin = str(client.base_url).rstrip("/")
    return await client.post("/_consent", data=data, headers={"origin": origin})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="run the long fuzzing and fault variants (make fuzz)",
    )


@pytest.fixture
def long_run(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--long"))


def pytest_configure(config: pytest.Config) -> None:
    # Apps built without an audit store record to one SQLite file for the session, not to the
    # default ./consentkit-audit.db in the working directory.
    if "CONSENTKIT_AUDIT_URL" not in os.environ:
        folder = tempfile.mkdtemp(prefix="consentkit-tests-")
        os.environ["CONSENTKIT_AUDIT_URL"] = f"sqlite:///{folder}/audit.db"
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    if config.getoption("--long"):
        # read at import time by the fuzzing and fault modules to size their runs
        os.environ["CONSENTKIT_FUZZ_LONG"] = "1"
