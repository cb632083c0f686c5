"""Global Privacy Control and Do Not Track: honoured without a click, recorded once, overridable."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from consentkit import parse_policy

from .conftest import POLICY_YAML, client_for, make_app

pytestmark = pytest.mark.anyio

GPC = {"sec-gpc": "1"}
ORIGIN = {"origin": "http://testserver"}


def records(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_gpc_opts_out_of_marketing_without_a_click(client: httpx.AsyncClient, tmp_path: Path) -> None:
    page = await client.get("/", headers=GPC)
    assert page.headers["x-consent"] == "False:False:False"  # analytics still to be asked
    assert '<p class="ck-gpc" role="status">Opt-out request honored</p>' in page.text
    assert 'id="consentkit-banner"' in page.text
    assert "sec-gpc" in page.headers["vary"].lower()
    [record] = records(tmp_path)
    assert record["event"] == "opt_out_signal" and record["method"] == "gpc"
    # analytics was never asked: not recorded as refused
    assert record["choices"] == {"necessary": True, "marketing": False}
    assert record["state"] == {
        "necessary": "required",
        "analytics": "not_asked",
        "marketing": "signal_opt_out",
    }
    assert record["signals"] == ["gpc"]
    # one record per subject: the cookie remembers the signal was recorded
    await client.get("/", headers=GPC)
    await client.get("/page", headers=GPC)
    assert len(records(tmp_path)) == 1
    state = (await client.get("/_consent", headers=GPC)).json()
    assert state["signal_denied"] == ["marketing"] and state["pending"] == ["analytics"]
    assert state["subject_id"] == record["subject_id"]


@pytest.mark.parametrize("value", ["0", "true", "yes", "11", ""])
async def test_only_exactly_1_counts(client: httpx.AsyncClient, value: str, tmp_path: Path) -> None:
    page = await client.get("/", headers={"sec-gpc": value})
    assert "Opt-out request honored" not in page.text
    assert records(tmp_path) == []


async def test_accept_all_does_not_override_the_signal(client: httpx.AsyncClient, tmp_path: Path) -> None:
    await client.get("/", headers=GPC)
    await client.post("/_consent", data={"action": "accept_all"}, headers={**GPC, **ORIGIN})
    page = await client.get("/", headers=GPC)
    assert page.headers["x-consent"] == "True:True:False"
    assert "Opt-out request honored" in page.text  # nothing left to ask: a status note
    assert 'id="consentkit-banner"' not in page.text
    decision = records(tmp_path)[-1]
    assert decision["method"] == "accept_all" and decision["signals"] == ["gpc"]
    assert decision["choices"] == {"necessary": True, "analytics": True, "marketing": False}


async def test_a_later_explicit_choice_is_respected_and_recorded(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await client.get("/", headers=GPC)
    await client.post(
        "/_consent", data={"action": "save", "categories": ["marketing"]}, headers={**GPC, **ORIGIN}
    )
    assert (await client.get("/", headers=GPC)).headers["x-consent"] == "True:False:True"
    assert records(tmp_path)[-1]["choices"] == {"necessary": True, "analytics": False, "marketing": True}


async def test_the_signal_overrides_an_earlier_grant_once(client: httpx.AsyncClient, tmp_path: Path) -> None:
    await client.post("/_consent", data={"action": "accept_all"}, headers=ORIGIN)
    assert (await client.get("/")).headers["x-consent"] == "True:True:True"
    page = await client.get("/", headers=GPC)  # the browser now says: do not sell or share
    assert page.headers["x-consent"] == "True:True:False"
    opt_out = records(tmp_path)[-1]
    assert opt_out["event"] == "opt_out_signal"
    assert opt_out["choices"] == {"necessary": True, "analytics": True, "marketing": False}
    # without the signal the opt-out stays: it was applied to the stored choice
    assert (await client.get("/")).headers["x-consent"] == "True:True:False"


async def test_gpc_can_be_turned_off(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML + "signals:\n  gpc: false\n")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        page = await client.get("/", headers=GPC)
        assert "Opt-out request honored" not in page.text
        assert (await client.get("/.well-known/gpc.json")).status_code == 404
    assert records(tmp_path) == []


@pytest.mark.parametrize(("mode", "honoured"), [("deny", True), ("ignore", False)])
async def test_do_not_track_when_the_policy_says_so(tmp_path: Path, mode: str, honoured: bool) -> None:
    policy = parse_policy(POLICY_YAML + f"signals:\n  dnt: {mode}\n")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        page = await client.get("/", headers={"dnt": "1"})
    assert ("Opt-out request honored" in page.text) is honoured
    assert len(records(tmp_path)) == (1 if honoured else 0)


async def test_when_the_signal_covers_everything_nothing_is_asked(tmp_path: Path) -> None:
    policy = parse_policy(
        POLICY_YAML.replace("  analytics:\n    consent_mode", "  analytics:\n    gpc: deny\n    consent_mode")
    )
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        page = await client.get("/", headers=GPC)
    assert 'id="consentkit-banner"' not in page.text
    assert (
        '<p class="ck-status" role="status" lang="en" data-nosnippet>Opt-out request honored</p>' in page.text
    )
    assert "Cookie settings" in page.text


async def test_gpc_json_is_served_only_when_gpc_is_on(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/gpc.json")
    assert response.json()["gpc"] is True
    assert (await client.post("/.well-known/gpc.json")).status_code == 405
