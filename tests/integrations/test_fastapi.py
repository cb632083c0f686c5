"""FastAPI: ``add_middleware`` and the ``Depends(get_consent)`` dependency; server-side analytics gated on consent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import httpx
import pytest

pytest.importorskip("fastapi")

from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from consentkit import Consent, ConsentMiddleware, Policy, get_consent

from ..conftest import KEY, client_for, decide
from . import check_contract, html_page

pytestmark = pytest.mark.anyio

ConsentDep = Annotated[Consent, Depends(get_consent)]

# --- the server-side analytics example of docs/deployment.md ----------------------------------

MEASUREMENT_ID = "G-TEST"
API_SECRET = "test-api-secret"


async def analytics_http() -> httpx.AsyncClient:
    """The client that talks to Google; tests replace it with one that sends nothing."""
    return httpx.AsyncClient(timeout=5)


async def send_hit(http: httpx.AsyncClient, client_id: str, name: str, params: dict[str, str]) -> None:
    async with http:
        await http.post(
            "https://www.google-analytics.com/mp/collect",
            params={"measurement_id": MEASUREMENT_ID, "api_secret": API_SECRET},
            json={"client_id": client_id, "events": [{"name": name, "params": params}]},
        )


def ga_client_id(request: Request) -> str | None:
    """The GA client id from the ``_ga`` cookie (``GA1.1.<id>.<time>``) the browser tag set."""
    parts = request.cookies.get("_ga", "").split(".")
    return ".".join(parts[2:4]) if len(parts) >= 4 else None


def make_app(policy: Policy, audit_path: Path) -> FastAPI:
    app = FastAPI()
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=audit_path)

    @app.get("/", response_class=HTMLResponse)
    async def home(consent: Consent = Depends(get_consent)) -> str:  # noqa: B008 - the classic FastAPI form
        return html_page("FastAPI", consent.allows("analytics"))

    @app.get("/api/consent")
    def api(consent: ConsentDep) -> dict[str, bool]:  # a sync route: the dependency works the same
        return consent.choices

    @app.post("/signup")
    async def signup(
        request: Request,
        background: BackgroundTasks,
        consent: ConsentDep,
        http: Annotated[httpx.AsyncClient, Depends(analytics_http)],
    ) -> dict[str, bool]:
        client_id = ga_client_id(request)
        if consent.allows("analytics") and client_id is not None:
            background.add_task(send_hit, http, client_id, "sign_up", {"method": "form"})
            return {"tracked": True}
        return {"tracked": False}

    return app


async def test_contract(policy: Policy, tmp_path: Path) -> None:
    await check_contract(make_app(policy, tmp_path / "audit.jsonl"), tmp_path / "audit.jsonl")


async def test_the_dependency_is_not_a_query_parameter(policy: Policy, tmp_path: Path) -> None:
    """``get_consent`` takes Starlette's HTTPConnection, so FastAPI injects it (no 422, no schema entry)."""
    async with client_for(make_app(policy, tmp_path / "audit.jsonl")) as client:
        response = await client.get("/api/consent")
        assert response.status_code == 200, response.text
        assert response.json() == {"necessary": True, "analytics": False, "marketing": False}
        await decide(client, "save", ("marketing",))
        assert (await client.get("/api/consent")).json() == {
            "necessary": True,
            "analytics": False,
            "marketing": True,
        }
        schema = (await client.get("/openapi.json")).json()
    assert "parameters" not in schema["paths"]["/api/consent"]["get"]


async def test_server_side_hits_are_sent_only_with_consent(policy: Policy, tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    app = make_app(policy, tmp_path / "audit.jsonl")
    app.dependency_overrides[analytics_http] = lambda: httpx.AsyncClient(
        transport=httpx.MockTransport(handler)
    )
    async with client_for(app) as client:
        client.cookies.set("_ga", "GA1.1.1234567890.1700000000")
        assert (await client.post("/signup")).json() == {"tracked": False}
        await decide(client, "reject_all")
        assert (await client.post("/signup")).json() == {"tracked": False}
        assert sent == []

        await decide(client, "accept_all")
        assert (await client.post("/signup")).json() == {"tracked": True}
        assert (await client.post("/signup", headers={"sec-gpc": "1"})).json() == {"tracked": True}
        await decide(client, "withdraw")
        assert (await client.post("/signup")).json() == {"tracked": False}

    assert len(sent) == 2
    hit = sent[0]
    assert hit.url.host == "www.google-analytics.com" and hit.url.path == "/mp/collect"
    assert hit.url.params["measurement_id"] == MEASUREMENT_ID
    assert json.loads(hit.content) == {
        "client_id": "1234567890.1700000000",
        "events": [{"name": "sign_up", "params": {"method": "form"}}],
    }
