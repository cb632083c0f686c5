"""Quart: ``app.asgi_app = ConsentMiddleware(app.asgi_app, ...)``; views read ``request.scope["state"]["consent"]``."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("quart")

from quart import Quart, render_template_string, request

from consentkit import Consent, ConsentMiddleware, Policy
from consentkit.jinja import install

from ..conftest import KEY, client_for, decide
from . import GTAG, check_contract

pytestmark = pytest.mark.anyio

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Quart</title>' + GTAG + "</head>"
    "<body><h1>Quart</h1><p>analytics={{ analytics }}</p>"
    '<p>template={{ consent.allows("analytics") }}</p></body></html>'
)


def make_app(policy: Policy, audit_path: Path) -> Quart:
    app = Quart(__name__)
    install(app.jinja_env)

    @app.get("/")
    async def home() -> str:
        consent: Consent = request.scope["state"]["consent"]
        return await render_template_string(PAGE, analytics=consent.allows("analytics"))

    app.asgi_app = ConsentMiddleware(app.asgi_app, policy, secret_keys=[KEY], audit_path=audit_path)
    return app


async def test_contract(policy: Policy, tmp_path: Path) -> None:
    await check_contract(make_app(policy, tmp_path / "audit.jsonl"), tmp_path / "audit.jsonl")


async def test_templates_read_the_decision_too(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path / "audit.jsonl")) as client:
        assert "template=False" in (await client.get("/")).text
        await decide(client, "save", ("analytics",))
        assert "template=True" in (await client.get("/")).text
        await decide(client, "withdraw")
        assert "template=False" in (await client.get("/")).text
