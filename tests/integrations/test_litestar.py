"""Litestar: ``DefineMiddleware(ConsentMiddleware, ...)`` plus a route that claims consentkit's paths.

Litestar builds the middleware stack around each route handler and answers unknown paths
(404) and methods (405) before any middleware runs, so ``POST /_consent`` never reaches
ConsentMiddleware unless a route matches it. ``consentkit_paths`` is that route; the middleware
answers before its body would run. Wrapping the whole application works too (the second way
tested here) but leaves an ASGI callable that ``litestar run`` does not accept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("litestar")
pytest.importorskip("jinja2")

import jinja2
from litestar import Litestar, MediaType, Request, Response, get, route
from litestar.enums import HttpMethod
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from consentkit import ConsentMiddleware, Policy
from consentkit.jinja import install
from consentkit.litestar import ConsentPlugin

from ..conftest import KEY, client_for, decide
from . import BANNER, check_contract, html_page

pytestmark = pytest.mark.anyio

TEMPLATE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Litestar</title>'
    '{% if consent.allows("analytics") %}<script src="/static/analytics.js"></script>{% endif %}'
    "</head><body><p>template analytics={{ consent.allows('analytics') }}</p></body></html>"
)


@get("/", media_type=MediaType.HTML)
async def home(request: Request[Any, Any, Any]) -> str:
    return html_page("Litestar", request.state.consent.allows("analytics"))


@get("/templated")
async def templated() -> Template:
    return Template(template_name="page.html")


@route(
    ["/_consent", "/_consent/{rest:path}", "/.well-known/gpc.json"],
    http_method=[HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST],
    include_in_schema=False,
)
async def consentkit_paths() -> Response[None]:
    """Answered by ConsentMiddleware; this route only makes Litestar run the middleware here."""
    return Response(None, status_code=404)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": TEMPLATE}), autoescape=True)
    install(env)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def with_define_middleware(policy: Policy, audit_path: Path, claim_paths: bool = True) -> Any:
    handlers = [home, templated, consentkit_paths] if claim_paths else [home, templated]
    return Litestar(
        route_handlers=handlers,
        middleware=[
            DefineMiddleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=audit_path)
        ],
        template_config=template_config(),
        logging_config=None,  # tests must not reconfigure the process's logging
    )


def with_plugin(policy: Policy, audit_path: Path) -> Any:
    """The one line the guide asks for: no hand-written route."""
    return Litestar(
        route_handlers=[home, templated],
        plugins=[ConsentPlugin(policy=policy, secret_keys=[KEY], audit_path=audit_path)],
        template_config=template_config(),
        logging_config=None,
    )


def wrapped(policy: Policy, audit_path: Path) -> Any:
    app = Litestar(route_handlers=[home, templated], template_config=template_config(), logging_config=None)
    return ConsentMiddleware(app, policy, secret_keys=[KEY], audit_path=audit_path)


@pytest.mark.parametrize("build", [with_plugin, with_define_middleware, wrapped])
async def test_contract(build: Any, policy: Policy, tmp_path: Path) -> None:
    await check_contract(build(policy, tmp_path / "audit.jsonl"), tmp_path / "audit.jsonl")


@pytest.mark.parametrize("build", [with_plugin, with_define_middleware, wrapped])
async def test_the_endpoint_and_templates(build: Any, policy: Policy, tmp_path: Path) -> None:
    async with client_for(build(policy, tmp_path / "audit.jsonl")) as client:
        page = await client.get("/templated")
        assert page.text.count(BANNER) == 1
        assert "template analytics=False" in page.text and "analytics.js" not in page.text
        assert (await client.get("/_consent/settings")).status_code == 200
        assert (await client.get("/.well-known/gpc.json")).json()["gpc"] is True
        await decide(client, "accept_all", next_url="/templated")
        assert (await client.get("/_consent")).json()["choices"]["analytics"] is True
        page = await client.get("/templated")
    assert "template analytics=True" in page.text and "/static/analytics.js" in page.text


async def test_without_the_claiming_route_litestar_never_calls_the_middleware(
    policy: Policy, tmp_path: Path
) -> None:
    """Why the guide adds ``consentkit_paths``: if this starts passing through, simplify the guide."""
    app = with_define_middleware(policy, tmp_path / "audit.jsonl", claim_paths=False)
    async with client_for(app) as client:
        assert (await client.get("/")).text.count(BANNER) == 1  # matched routes do get the middleware
        assert (await decide(client, "accept_all")).status_code == 404
    assert not (tmp_path / "audit.jsonl").exists()


@pytest.mark.parametrize("action", ["accept_all", "reject_all"])
async def test_the_plugin_end_to_end(policy: Policy, tmp_path: Path, action: str) -> None:
    audit = tmp_path / "audit.jsonl"
    async with client_for(with_plugin(policy, audit)) as client:
        first = await client.get("/")
        assert first.text.count(BANNER) == 1
        answered = await decide(client, action, next_url="/templated")
        assert answered.status_code == 303 and answered.headers["location"] == "/templated"
        page = (await client.get("/templated")).text
        assert BANNER not in page
        on = action == "accept_all"
        assert f"template analytics={on}" in page
        assert ("/static/analytics.js" in page) is on
        assert (await client.get("/_consent")).json()["decided"] is True
        again = await decide(client, "withdraw" if on else "accept_all", next_url="/")
        assert again.status_code == 303
    lines = audit.read_text().splitlines()
    assert len(lines) == 2  # both decisions, in one audit trail
