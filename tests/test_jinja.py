"""consentkit.jinja: ``consent`` in templates (the same API as Python), behind the middleware with Starlette's Jinja2Templates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jinja2")

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from consentkit import Consent, ConsentMiddleware, Policy
from consentkit.jinja import install

from .conftest import KEY, client_for, decide

pytestmark = pytest.mark.anyio

PAGE = """\
<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Jinja</title>
{% if consent.allows("analytics") %}<script src="/static/first-party-analytics.js"></script>{% endif %}
</head><body>
<p id="analytics">analytics={{ consent.allows("analytics") }}</p>
<p id="marketing">marketing={{ consent.allows("marketing") }}</p>
<p id="necessary">necessary={{ consent.allows("necessary") }}</p>
<p id="decided">decided={{ consent.decided }}</p>
<p id="choices">{% for name, on in consent.choices.items() %}{{ name }}:{{ on }};{% endfor %}</p>
<p id="current">{% if consent.subject_id is none %}no subject{% else %}subject={{ consent.subject_id }}{% endif %}</p>
</body></html>
"""


def make_templates(**templates: str) -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": PAGE, **templates}), autoescape=True)
    install(env)
    return Jinja2Templates(env=env)


def make_app(policy: Policy | None, tmp_path: Path, templates: Jinja2Templates | None = None) -> Starlette:
    templates = templates or make_templates()

    async def page(request: Request) -> Response:
        return templates.TemplateResponse(request, request.path_params["name"])

    app = Starlette(routes=[Route("/{name}", page)])
    if policy is not None:
        app.add_middleware(
            ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl"
        )
    return app


def line(text: str, element_id: str) -> str:
    start = text.index(f'<p id="{element_id}">') + len(f'<p id="{element_id}">')
    return text[start : text.index("</p>", start)]


async def test_templates_follow_the_visitors_decision(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path)) as client:
        before = (await client.get("/page.html")).text
        assert line(before, "analytics") == "analytics=False"
        assert line(before, "necessary") == "necessary=True"
        assert line(before, "decided") == "decided=False"
        assert line(before, "current") == "no subject"  # undecided: no pseudonym yet
        assert "first-party-analytics.js" not in before
        assert before.count('id="consentkit-banner"') == 1

        await decide(client, "accept_all", next_url="/page.html")
        accepted = (await client.get("/page.html")).text
        assert line(accepted, "analytics") == "analytics=True"
        assert line(accepted, "marketing") == "marketing=True"
        assert line(accepted, "decided") == "decided=True"
        assert '<script src="/static/first-party-analytics.js"></script>' in accepted
        subject_id = (await client.get("/_consent")).json()["subject_id"]
        assert line(accepted, "current") == f"subject={subject_id}"

        await decide(client, "save", ("marketing",), next_url="/page.html")
        saved = (await client.get("/page.html")).text
        assert line(saved, "analytics") == "analytics=False"
        assert line(saved, "marketing") == "marketing=True"
        assert line(saved, "choices") == "necessary:True;analytics:False;marketing:True;"
        assert "first-party-analytics.js" not in saved


async def test_a_privacy_signal_is_seen_by_templates(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path)) as client:
        await decide(client, "accept_all", next_url="/page.html")
        text = (await client.get("/page.html", headers={"sec-gpc": "1"})).text
    assert line(text, "analytics") == "analytics=True"
    assert line(text, "marketing") == "marketing=False"  # marketing has gpc: deny


async def test_without_the_middleware_nothing_is_allowed(tmp_path: Path) -> None:
    async with client_for(make_app(None, tmp_path)) as client:
        text = (await client.get("/page.html")).text
    assert line(text, "analytics") == "analytics=False"
    assert line(text, "necessary") == "necessary=False"
    assert line(text, "decided") == "decided=False"
    assert line(text, "choices") == ""
    assert line(text, "current") == "no subject"


def test_without_a_request_in_the_context_nothing_is_allowed() -> None:
    env = jinja2.Environment(autoescape=True)
    install(env)
    template = env.from_string(
        '{{ consent.allows("analytics") }} {{ consent.decided }} {{ consent.choices }}'
    )
    assert template.render() == "False False {}"
    assert template.render(request=object()) == "False False {}"


def test_a_consent_variable_passed_by_the_view_takes_precedence(policy: Policy) -> None:
    env = jinja2.Environment(autoescape=True)
    install(env)
    granted = Consent.undecided(policy).decide("accept_all")
    assert env.from_string('{{ consent.allows("analytics") }}').render(consent=granted) == "True"


async def test_decided_is_a_property_as_in_python(policy: Policy, tmp_path: Path) -> None:
    source = "{% if consent.decided %}decided{% else %}undecided{% endif %}"
    app = make_app(policy, tmp_path, make_templates(**{"d.html": source}))
    async with client_for(app) as client:
        assert (await client.get("/d.html")).text.startswith("undecided")
        await decide(client, "reject_all", next_url="/d.html")
        assert (await client.get("/d.html")).text.startswith("decided")


async def test_an_unknown_category_raises_instead_of_answering_false(policy: Policy, tmp_path: Path) -> None:
    """A typo (``analytcs``) would otherwise hide a tag forever, or show it never, silently."""
    app = make_app(policy, tmp_path, make_templates(**{"bad.html": '{{ consent.allows("analytcs") }}'}))
    async with client_for(app) as client:
        with pytest.raises(ValueError, match="unknown consent category 'analytcs'"):
            await client.get("/bad.html")
    with pytest.raises(ValueError, match="analytics"):
        Consent.undecided(policy).allows("analytcs")


def test_importing_consentkit_does_not_import_jinja2() -> None:
    code = (
        "import sys, consentkit, consentkit.middleware, consentkit.django, consentkit.templatetags.consentkit;"
        "sys.exit('jinja2' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True)
    assert result.returncode == 0, (
        "jinja2 must stay an optional dependency (import it only in consentkit.jinja)"
    )


class ScopedRequest:
    """Any request object with an ASGI ``scope`` (Litestar's, Quart's and Django's ASGIRequest have one)."""

    def __init__(self, consent: Consent) -> None:
        self.scope = {"type": "http", "state": {"consent": consent}}


class EnvironRequest:
    """A WSGI request (Flask's) whose environ carries a2wsgi's ``asgi.scope``."""

    def __init__(self, consent: Consent) -> None:
        self.environ = {"asgi.scope": {"type": "http", "state": {"consent": consent}}}


@pytest.mark.parametrize("request_type", [ScopedRequest, EnvironRequest])
async def test_sandboxed_and_async_environments_and_other_request_types(
    policy: Policy, request_type: type[ScopedRequest] | type[EnvironRequest]
) -> None:
    request = request_type(Consent.undecided(policy).decide("save", ["analytics"]))
    source = '{{ consent.allows("analytics") }}/{{ consent.allows("marketing") }}'
    sandboxed = SandboxedEnvironment(autoescape=True)
    install(sandboxed)
    assert sandboxed.from_string(source).render(request=request) == "True/False"
    asynchronous = jinja2.Environment(enable_async=True, autoescape=True)
    install(asynchronous)
    assert await asynchronous.from_string(source).render_async(request=request) == "True/False"


async def test_choices_match_what_the_consent_endpoint_reports(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path)) as client:
        assert (await decide(client, "reject_all", next_url="/page.html")).status_code == 303
        current = (await client.get("/_consent")).json()
        text = (await client.get("/page.html")).text
    assert line(text, "choices") == "".join(f"{name}:{on};" for name, on in current["choices"].items())
