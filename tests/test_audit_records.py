"""What each record holds (aligned with ISO/IEC TS 27560), and the bounds on what one client can store."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from consentkit import AuditSettings, Policy
from consentkit.audit import key_id
from consentkit.policy import Controller

from .conftest import KEY, client_for, decide, make_app

ORIGIN = {"origin": "http://testserver"}


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def with_file(policy: Policy, path: Path, **settings: object) -> Policy:
    return policy.with_changes(
        audit=AuditSettings(path=str(path), **settings),  # type: ignore[arg-type]
        controller=Controller("Example Ltd", "privacy@example.org"),
    )


@pytest.mark.anyio
async def test_a_record_names_key_controller_channel_validity_and_each_category_state(
    policy: Policy, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    async with client_for(make_app(with_file(policy, path))) as client:
        await client.get("/")  # the banner is shown
        assert (
            await decide(client, "save", ("analytics",), next_url="/page?token=secret&email=a@b")
        ).status_code == 303
    [record] = records(path)
    assert record["key_id"] == key_id(KEY.encode()) and KEY not in json.dumps(record)
    assert record["controller"] == {"name": "Example Ltd", "contact": "privacy@example.org"}
    assert record["channel"] == "banner"
    assert record["state"] == {"necessary": "required", "analytics": "granted", "marketing": "refused"}
    assert record["path"] == "/page"  # no query string: it may carry tokens and addresses
    made = datetime.fromisoformat(str(record["time"]))
    assert datetime.fromisoformat(str(record["valid_until"])) - made == timedelta(days=180)
    assert re.fullmatch(r"[0-9a-f]{64}", str(record["notice_hash"]))


@pytest.mark.anyio
async def test_channels_api_settings_and_embed(policy: Policy, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with client_for(make_app(with_file(policy, path))) as client:
        assert (
            await client.post("/_consent", json={"action": "reject_all"}, headers=ORIGIN)
        ).status_code == 200
        settings_page = await client.get("/_consent/settings")
        assert 'name="channel" value="settings"' in settings_page.text
        form = {"action": "save", "categories": "analytics", "channel": "settings", "next": "/"}
        assert (await client.post("/_consent", data=form, headers=ORIGIN)).status_code == 303
        embed = {"action": "embed", "categories": "marketing", "next": "/", "channel": "forged"}
        assert (await client.post("/_consent", data=embed, headers=ORIGIN)).status_code == 303
    channels = [r["channel"] for r in records(path)]
    assert channels == ["api", "settings", "embed"]
    hashes = [r["notice_hash"] for r in records(path)]
    assert len(set(hashes)) == 3  # each channel shows its own words


@pytest.mark.anyio
async def test_stored_fields_are_capped(policy: Policy, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    huge = "A" * 20_000
    async with client_for(make_app(with_file(policy, path))) as client:
        response = await client.post(
            "/_consent",
            data={"action": "accept_all", "next": "/" + "p" * 1500},
            headers={**ORIGIN, "user-agent": huge},
        )
        assert response.status_code == 303
    [record] = records(path)
    assert len(str(record["user_agent"])) == 256
    assert len(str(record["path"])) <= 512
    assert path.stat().st_size < 3000


@pytest.mark.anyio
async def test_one_address_is_rate_limited_and_rejections_are_counted_not_stored(
    policy: Policy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.jsonl"
    caplog.set_level(logging.INFO, logger="consentkit.audit")
    app = make_app(with_file(policy, path, rate_limit_per_minute=5, checkpoint_minutes=0))
    async with client_for(app) as client:
        statuses = [(await decide(client, "accept_all")).status_code for _ in range(8)]
    assert statuses == [303] * 5 + [429] * 3
    assert len(records(path)) == 5
    async with client_for(app) as client:
        refused = await decide(client, "accept_all")
        assert refused.status_code == 429 and "set-cookie" not in refused.headers
        assert refused.headers["retry-after"] == "60"
        # pages are not limited
        assert (await client.get("/")).status_code == 200
    # the count of rejected attempts reaches the signed checkpoints
    middleware = app.middleware_stack
    while not hasattr(middleware, "audit"):
        middleware = middleware.app
    assert middleware.audit.rejected == 4
    point = middleware.audit.checkpoint()
    assert point is not None and point["rejected"] == 4 and point["seq"] == 5


@pytest.mark.anyio
async def test_the_default_limit_lets_600_decisions_a_minute_through_one_address(
    policy: Policy, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    app = make_app(with_file(policy, path, fsync=False))
    async with client_for(app) as client:
        statuses = [(await decide(client, "reject_all")).status_code for _ in range(800)]
    assert statuses[:600] == [303] * 600
    assert 429 in statuses[600:]  # (the bucket refills at 10 a second while the loop runs)
