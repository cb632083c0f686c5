"""Template helpers render the banner byte for byte as the middleware injects it; the settings layout hook.

``{{ consentkit_banner() }}`` (Jinja) places the banner where a template wants it. What it renders
must be exactly what ConsentMiddleware would inject into the same page for the same request:
same language, same ``next``, same CSP nonce, same pre-ticked choices.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from consentkit import ConsentMiddleware, Policy
from consentkit.jinja import install, settings_layout

from .conftest import KEY, client_for, decide

pytestmark = pytest.mark.anyio

SECTION = re.compile(r'<section id="consentkit-banner".*?</section>', re.S)

PAGE = '<!DOCTYPE html><html lang="{lang}"><head><title>t</title></head><body><p>article</p></body></html>'
HELPER = "{{ consentkit_banner(lang=lang) }}"


def make_app(policy: Policy, tmp_path: Path, **options: Any) -> Starlette:
    env = jinja2.Environment(loader=jinja2.DictLoader({"helper.txt": HELPER}), autoescape=True)
    install(env)

    async def article(request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        csp = request.headers.get("x-test-csp")
        headers = {"content-security-policy": csp} if csp else {}
        if request.headers.get("x-test-mode") == "helper":
            nonce = re.search(r"'nonce-([^']+)'", csp).group(1) if csp else None  # type: ignore[union-attr]
            text = env.get_template("helper.txt").render(request=request, lang=lang, csp_nonce=nonce)
            return PlainTextResponse(text)  # not HTML: the middleware leaves it alone
        return HTMLResponse(PAGE.format(lang=lang), headers=headers)

    app = Starlette(routes=[Route("/news/{slug}", article)])
    app.add_middleware(
        ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl", **options
    )
    return app


async def helper_and_injected(client: Any, url: str, headers: dict[str, str]) -> tuple[str, str]:
    helper = (await client.get(url, headers={**headers, "x-test-mode": "helper"})).text
    page = (await client.get(url, headers=headers)).text
    found = SECTION.findall(page)
    assert len(found) == 1, page
    return helper, found[0]


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/news/one", {}),
        ("/news/one?lang=fr", {"accept-language": "en"}),
        ("/news/deux?lang=fr&ref=a%20b", {"accept-language": "fr"}),
        ("/news/one", {"x-test-csp": "script-src 'nonce-Abc123' 'strict-dynamic'; style-src 'self'"}),
        ("/news/one", {"sec-gpc": "1"}),
    ],
    ids=["plain", "french-page", "query-string", "csp-nonce", "gpc"],
)
async def test_the_jinja_helper_renders_exactly_what_the_middleware_injects(
    policy: Policy, tmp_path: Path, url: str, headers: dict[str, str]
) -> None:
    async with client_for(make_app(policy, tmp_path)) as client:
        helper, injected = await helper_and_injected(client, url, headers)
    assert helper == injected
    if "nonce" in str(headers):
        assert 'nonce="Abc123"' in helper
    if "lang=fr" in url:
        assert 'lang="fr"' in helper and "Refuser" in helper


async def test_the_helper_under_a_root_path_and_with_a_partial_choice(policy: Policy, tmp_path: Path) -> None:
    inner = make_app(policy, tmp_path)
    outer = Starlette(routes=[Mount("/site", app=inner)])
    async with client_for(outer) as client:
        # a choice under an older policy leaves the banner up with nothing ticked; an embed grant
        # ticks one category while the visitor is still undecided about the other
        response = await client.post(
            "/site/_consent",
            data={"action": "embed", "categories": "analytics", "next": "/site/news/one"},
            headers={"origin": "http://testserver"},
        )
        assert response.status_code == 303
        helper, injected = await helper_and_injected(client, "/site/news/one", {})
    assert helper == injected
    assert 'action="/site/_consent"' in helper
    assert 'value="analytics" checked' in helper


async def test_the_helper_renders_nothing_once_decided(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path)) as client:
        await decide(client, "reject_all")
        helper = (await client.get("/news/one", headers={"x-test-mode": "helper"})).text
    assert helper == ""


def test_without_the_middleware_the_helper_renders_nothing() -> None:
    env = jinja2.Environment(autoescape=True)
    install(env)
    assert env.from_string("[{{ consentkit_banner() }}]").render() == "[]"


# --- the settings page in the site's layout ------------------------------------------------------

LAYOUT = (
    '<!DOCTYPE html><html lang="{{ lang }}"><head><title>{% block title %}{% endblock %} | Example</title>'
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script></head>'
    '<body><header id="site-header">Example News</header>{% block content %}{% endblock %}'
    '<footer id="site-footer">© Example</footer></body></html>'
)
SETTINGS = (
    '{% extends "layout.html" %}{% block title %}{{ title }}{% endblock %}'
    "{% block content %}{{ consentkit_settings }}"
    "<p id=\"analytics\">{{ consent.allows('analytics') }}</p>{% endblock %}"
)


def layout_env(**extra: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"layout.html": LAYOUT, "consent_settings.html": SETTINGS, **extra}),
        autoescape=True,
    )
    install(env)
    return env


async def test_the_settings_page_in_the_sites_layout(policy: Policy, tmp_path: Path) -> None:
    app = make_app(policy, tmp_path, settings_layout=settings_layout(layout_env(), "consent_settings.html"))
    async with client_for(app) as client:
        page = await client.get("/_consent/settings?next=/news/one&lang=fr")
        assert page.status_code == 200
        text = page.text
        assert text.startswith('<!DOCTYPE html><html lang="fr">')
        assert "<title>Paramètres des cookies | Example</title>" in text or "| Example</title>" in text
        assert '<header id="site-header">' in text and '<footer id="site-footer">' in text
        assert 'id="consentkit-settings"' in text and "Refuser" in text
        assert "googletagmanager" not in text  # blocking applies to the layout too
        assert '<p id="analytics">False</p>' in text  # templates see the visitor's consent
        await decide(client, "accept_all", next_url="/_consent/settings")
        text = (await client.get("/_consent/settings")).text
    assert "googletagmanager" in text and '<p id="analytics">True</p>' in text
    assert 'role="status"' in text


async def test_a_failing_layout_falls_back_to_the_plain_page(
    policy: Policy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = layout_env(
        **{
            "broken.html": "{% extends 'layout.html' %}{% block content %}{{ 1 / 0 }}{% endblock %}",
            "forgetful.html": "{% extends 'layout.html' %}{% block content %}no settings{% endblock %}",
        }
    )
    for template, logged in (("broken.html", "hook failed"), ("forgetful.html", "left out page.content")):
        app = make_app(policy, tmp_path, settings_layout=settings_layout(env, template))
        async with client_for(app) as client:
            page = await client.get("/_consent/settings")
        assert page.status_code == 200 and 'id="consentkit-settings"' in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert logged in caplog.text
