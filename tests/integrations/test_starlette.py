"""Starlette: ``app.add_middleware(ConsentMiddleware, ...)``; views read ``request.state.consent``."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware, Policy, get_consent

from ..conftest import KEY, client_for, decide
from . import BANNER, check_contract, html_page

pytestmark = pytest.mark.anyio


async def home(request: Request) -> Response:
    consent = request.state.consent
    return HTMLResponse(html_page("Starlette", consent.allows("analytics")))


async def api(request: Request) -> Response:
    consent = get_consent(request)
    return JSONResponse({"decided": consent.decided, "choices": consent.choices})


def make_app(policy: Policy, audit_path: Path | None) -> Starlette:
    app = Starlette(routes=[Route("/", home), Route("/api/consent", api)])
    if audit_path is not None:
        app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=audit_path)
    return app


async def test_contract(policy: Policy, tmp_path: Path) -> None:
    await check_contract(make_app(policy, tmp_path / "audit.jsonl"), tmp_path / "audit.jsonl")


async def test_get_consent_reads_the_same_decision(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path / "audit.jsonl")) as client:
        before = (await client.get("/api/consent")).json()
        assert before == {
            "decided": False,
            "choices": {"necessary": True, "analytics": False, "marketing": False},
        }
        await decide(client, "save", ("analytics",))
        after = (await client.get("/api/consent")).json()
    assert after == {"decided": True, "choices": {"necessary": True, "analytics": True, "marketing": False}}


async def test_get_consent_without_the_middleware_says_how_to_fix_it(policy: Policy) -> None:
    async with client_for(make_app(policy, None)) as client:
        with pytest.raises(RuntimeError, match="add ConsentMiddleware"):
            await client.get("/api/consent")


async def test_gzip_added_after_consentkit_compresses_the_rewritten_page(
    policy: Policy, tmp_path: Path
) -> None:
    """The order docs/integrations/starlette.md prescribes: GZipMiddleware added last (outermost)."""

    async def long_page(request: Request) -> Response:
        return HTMLResponse(
            html_page("Starlette", False).replace("</body>", "<p>filler</p>" * 200 + "</body>")
        )

    app = Starlette(routes=[Route("/", long_page)])
    app.add_middleware(
        ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl"
    )
    app.add_middleware(GZipMiddleware)
    async with client_for(app) as client:
        response = await client.get("/", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.count(BANNER) == 1  # httpx decompressed it
    assert "googletagmanager" not in response.text
