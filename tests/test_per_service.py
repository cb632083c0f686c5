"""Per-service choices: allow a category's services one by one on the settings page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import html5lib
import httpx
import pytest

from consentkit import parse_policy

from .conftest import POLICY_YAML, client_for, make_app, page_route
from .oracle import leaks

pytestmark = pytest.mark.anyio

TRACKERS = (
    '<!DOCTYPE html><html lang="en"><head><title>P</title>'
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>'
    '<script src="https://static.hotjar.com/c/hotjar-1.js"></script></head>'
    '<body><iframe src="https://www.youtube.com/embed/x" title="v"></iframe></body></html>'
)


async def save(
    client: httpx.AsyncClient, categories: list[str], services: list[str], listed: list[str]
) -> httpx.Response:
    data = {"action": "save", "next": "/", "categories": categories, "services": services, "listed": listed}
    return await client.post("/_consent", data=data, headers={"origin": "http://testserver"})


def app_for(tmp_path: Path) -> Any:
    from starlette.routing import Route

    return make_app(parse_policy(POLICY_YAML), [Route("/", page_route(TRACKERS))], tmp_path=tmp_path)


async def test_the_settings_page_offers_each_service(tmp_path: Path) -> None:
    async with client_for(app_for(tmp_path)) as client:
        page = (await client.get("/_consent/settings")).text
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    boxes = {i.get("value"): i.get("checked") for i in tree.iter("input") if i.get("name") == "services"}
    assert set(boxes) == {
        "analytics:google-analytics",
        "analytics:hotjar",
        "analytics:matomo",
        "marketing:meta-pixel",
        "marketing:youtube",
    }
    assert all(state is not None for state in boxes.values())  # on until turned off
    legends = ["".join(legend.itertext()) for legend in tree.iter("legend")]
    assert "Services: Analytics" in legends


async def test_turning_one_service_off_blocks_it_and_keeps_the_others(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML)
    async with client_for(app_for(tmp_path)) as client:
        response = await save(
            client,
            ["analytics", "marketing"],
            ["analytics:google-analytics", "analytics:matomo", "marketing:meta-pixel", "marketing:youtube"],
            ["analytics", "marketing"],
        )
        assert response.status_code == 303
        page = (await client.get("/")).text
        current = (await client.get("/_consent")).json()
        settings = (await client.get("/_consent/settings")).text
    assert "www.googletagmanager.com/gtag/js" in page  # Google Analytics allowed
    assert "static.hotjar.com" not in page  # Hotjar turned off
    assert "www.youtube.com/embed" in page
    assert [r for r in leaks(page, policy, ["analytics"]) if "hotjar" in r] == []
    assert current["choices"]["analytics"] is True
    assert current["excluded_services"] == {"analytics": ["hotjar"]}
    assert 'value="analytics:hotjar">' in settings  # shown unchecked
    assert 'value="analytics:google-analytics" checked>' in settings


async def test_the_consent_object_answers_per_service(tmp_path: Path) -> None:
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def state(request: Request) -> Response:
        consent = request.state.consent
        return PlainTextResponse(
            f"{consent.allows('analytics')}:{consent.allows('analytics', service='hotjar')}:"
            f"{consent.allows('analytics', service='google-analytics')}"
        )

    app = make_app(parse_policy(POLICY_YAML), [Route("/", state)], tmp_path=tmp_path)
    async with client_for(app) as client:
        await save(client, ["analytics"], ["analytics:google-analytics"], ["analytics"])
        assert (await client.get("/")).text == "True:False:True"
        await client.post(
            "/_consent", data={"action": "accept_all", "next": "/"}, headers={"origin": "http://testserver"}
        )
        assert (await client.get("/")).text == "True:True:True"  # accept all turns every service on


async def test_the_audit_record_keeps_per_service_state(tmp_path: Path) -> None:
    async with client_for(app_for(tmp_path)) as client:
        await save(client, ["analytics"], ["analytics:google-analytics", "analytics:matomo"], ["analytics"])
    record = json.loads((tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert record["excluded_services"] == {"analytics": ["hotjar"]}
    assert record["choices"]["analytics"] is True


async def test_turning_every_service_off_refuses_the_category(tmp_path: Path) -> None:
    async with client_for(app_for(tmp_path)) as client:
        await save(client, ["analytics"], [], ["analytics"])
        current = (await client.get("/_consent")).json()
    assert current["choices"]["analytics"] is False


async def test_json_clients_choose_services_too(tmp_path: Path) -> None:
    async with client_for(app_for(tmp_path)) as client:
        response = await client.post(
            "/_consent",
            json={"action": "save", "categories": ["analytics"], "services": {"analytics": ["hotjar"]}},
            headers={"origin": "http://testserver"},
        )
        assert response.status_code == 200
        assert response.json()["excluded_services"] == {"analytics": ["google-analytics", "matomo"]}
        bad = await client.post(
            "/_consent",
            json={"action": "save", "categories": ["analytics"], "services": {"analytics": ["nope"]}},
            headers={"origin": "http://testserver"},
        )
        assert bad.status_code == 400 and "unknown service 'nope'" in bad.json()["error"]


async def test_a_forged_service_value_is_a_clear_400(tmp_path: Path) -> None:
    async with client_for(app_for(tmp_path)) as client:
        response = await save(client, ["analytics"], ["marketing:youtube"], ["analytics"])
    assert response.status_code == 400


async def test_a_tossed_cookie_cannot_turn_a_service_back_on(tmp_path: Path) -> None:
    """Beside a cookie that turned Hotjar off, another consent cookie (say, tossed by a sibling
    subdomain) that allows everything does not bring Hotjar back."""
    (tmp_path / "visitor").mkdir()
    (tmp_path / "attacker").mkdir()
    async with client_for(app_for(tmp_path / "visitor")) as client:
        response = await save(
            client,
            ["analytics", "marketing"],
            ["analytics:google-analytics", "analytics:matomo", "marketing:meta-pixel", "marketing:youtube"],
            ["analytics", "marketing"],
        )
        own = client.cookies["consentkit"]
        assert response.status_code == 303
    async with client_for(app_for(tmp_path / "attacker")) as client:
        await client.post("/_consent", data={"action": "accept_all"}, headers={"origin": "http://testserver"})
        tossed = client.cookies["consentkit"]
    async with client_for(app_for(tmp_path / "visitor")) as client:
        for cookie in (f"consentkit={tossed}; consentkit={own}", f"consentkit={own}; consentkit={tossed}"):
            page = (await client.get("/", headers={"cookie": cookie})).text
            current = (await client.get("/_consent", headers={"cookie": cookie})).json()
            assert "static.hotjar.com" not in page, cookie
            assert "www.googletagmanager.com/gtag/js" in page, cookie
            assert current["excluded_services"] == {"analytics": ["hotjar"]}, cookie
