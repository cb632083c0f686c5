"""Flask (WSGI) through a2wsgi: ``ConsentMiddleware(WSGIMiddleware(flask_app), ...)``.

a2wsgi puts the ASGI scope in the WSGI environ as ``environ["asgi.scope"]``, so a Flask view
reads the decision at ``request.environ["asgi.scope"]["state"]["consent"]``, and
``consentkit.jinja`` finds it there for templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("flask")
pytest.importorskip("a2wsgi")

from a2wsgi import WSGIMiddleware
from flask import Flask, jsonify, render_template_string, request
from flask.typing import ResponseReturnValue

from consentkit import Consent, ConsentMiddleware, Policy
from consentkit.jinja import install

from ..conftest import KEY, client_for, decide
from . import GTAG, check_contract

pytestmark = pytest.mark.anyio

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Flask</title>' + GTAG + "</head>"
    "<body><h1>Flask</h1><p>analytics={{ analytics }}</p>"
    '<p>template={{ consent.allows("analytics") }}</p></body></html>'
)


def current_consent() -> Consent | None:
    """The visitor's consent, as ConsentMiddleware put it in the ASGI scope a2wsgi passes along."""
    scope = request.environ.get("asgi.scope") or {}
    found = scope.get("state", {}).get("consent")
    return found if isinstance(found, Consent) else None


def make_flask() -> Flask:
    flask_app = Flask(__name__)
    install(flask_app.jinja_env)

    @flask_app.get("/")
    def home() -> ResponseReturnValue:
        consent = current_consent()
        analytics = consent is not None and consent.allows("analytics")
        return render_template_string(PAGE, analytics=analytics)

    @flask_app.get("/api/consent")
    def api() -> ResponseReturnValue:
        consent = current_consent()
        return jsonify(None if consent is None else consent.choices)

    return flask_app


def make_app(policy: Policy, audit_path: Path) -> Any:
    return ConsentMiddleware(WSGIMiddleware(make_flask()), policy, secret_keys=[KEY], audit_path=audit_path)


async def test_contract(policy: Policy, tmp_path: Path) -> None:
    await check_contract(make_app(policy, tmp_path / "audit.jsonl"), tmp_path / "audit.jsonl")


async def test_views_and_templates_read_the_decision(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path / "audit.jsonl")) as client:
        assert (await client.get("/api/consent")).json() == {
            "necessary": True,
            "analytics": False,
            "marketing": False,
        }
        assert "template=False" in (await client.get("/")).text
        await decide(client, "save", ("analytics",))
        assert (await client.get("/api/consent")).json()["analytics"] is True
        assert "template=True" in (await client.get("/")).text


async def test_cookies_the_flask_app_sets_for_denied_categories_are_dropped(
    policy: Policy, tmp_path: Path
) -> None:
    flask_app = make_flask()

    @flask_app.get("/track")
    def track() -> ResponseReturnValue:
        response = jsonify(ok=True)
        response.set_cookie("_ga", "GA1.1.1.1")
        response.set_cookie("session", "s")
        return response

    app = ConsentMiddleware(
        WSGIMiddleware(flask_app), policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl"
    )
    async with client_for(app) as client:
        before = (await client.get("/track")).headers.get_list("set-cookie")
        assert [c.split("=")[0] for c in before] == ["session"]
        await decide(client, "accept_all")
        after = (await client.get("/track")).headers.get_list("set-cookie")
    assert sorted(c.split("=")[0] for c in after) == ["_ga", "session"]


def test_without_the_middleware_the_view_sees_no_consent() -> None:
    with make_flask().test_client() as client:
        assert client.get("/api/consent").get_json() is None
        assert "template=False" in client.get("/").get_data(as_text=True)
