"""Changing one's mind: the settings control and page, withdrawal, and its audit trail."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from consentkit import parse_policy

from .conftest import POLICY_YAML, client_for, decide, make_app

pytestmark = pytest.mark.anyio
ORIGIN = {"origin": "http://testserver"}


def events(tmp_path: Path) -> list[tuple[str, str]]:
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    return [(r["event"], r["method"]) for r in map(json.loads, lines)]


async def test_withdrawal_takes_no_more_clicks_than_accepting(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    # one click to accept
    await decide(client, "accept_all", next_url="/page")
    page = (await client.get("/page")).text
    # click 1: the persistent control on every page
    link = re.search(r'<p class="ck-manage"[^>]*><a href="([^"]+)">Cookie settings</a>', page)
    assert link is not None
    settings = await client.get(link.group(1).replace("&amp;", "&"))
    assert settings.status_code == 200
    # click 2: the settings page's decline button, a plain form
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', settings.text, re.S)
    assert form is not None
    assert 'name="action" value="withdraw">Decline</button>' in form.group(2)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    response = await client.post(form.group(1), data={**fields, "action": "withdraw"}, headers=ORIGIN)
    assert response.status_code == 303 and response.headers["location"] == "/page"
    assert any(c.startswith("_ga=; Path=/; Max-Age=0") for c in response.headers.get_list("set-cookie"))
    assert (await client.get("/page")).headers["x-consent"] == "True:False:False"
    assert events(tmp_path) == [("given", "accept_all"), ("withdrawn", "withdraw")]


async def test_changes_are_audited_as_updates(client: httpx.AsyncClient, tmp_path: Path) -> None:
    await decide(client, "reject_all")
    await decide(client, "save", ("analytics",))
    await decide(client, "save", ("marketing",))
    await decide(client, "save", ())
    assert events(tmp_path) == [
        ("refused", "reject_all"),
        ("updated", "save"),
        ("updated", "save"),
        ("withdrawn", "save"),
    ]


async def test_settings_page_after_saving_confirms_politely(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_consent",
        data={"action": "save", "categories": ["analytics"], "next": "/_consent/settings"},
        headers=ORIGIN,
    )
    assert response.headers["location"] == "/_consent/settings"
    text = (await client.get("/_consent/settings")).text
    assert '<p class="ck-status" role="status">Your choices have been saved.</p>' in text
    assert 'role="status"' not in (await client.get("/_consent/settings")).text


async def test_the_control_can_be_turned_off(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML + "banner:\n  settings_control: false\n")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        await decide(client, "reject_all")
        await client.get("/")
        page = (await client.get("/")).text
        assert "Cookie settings" not in page and "<style" not in page
        assert (await client.get("/_consent/settings")).status_code == 200  # sites link it themselves


async def test_a_new_policy_version_asks_again(tmp_path: Path) -> None:
    first = parse_policy(POLICY_YAML)
    async with client_for(make_app(first, tmp_path=tmp_path)) as client:
        await decide(client, "reject_all")
        cookie = client.cookies["consentkit"]
    second = parse_policy(POLICY_YAML.replace('"2025-12-01"', '"2026-06-01"'))
    async with client_for(make_app(second, tmp_path=tmp_path)) as client:
        page = await client.get("/", headers={"cookie": f"consentkit={cookie}"})
    assert 'id="consentkit-banner"' in page.text
    assert page.headers["x-consent"] == "False:False:False"
