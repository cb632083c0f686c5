"""The signed consent cookie: tampering, expiry, versions, keys and garbage never cause a 500."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from consentkit import ConsentMiddleware, Policy, SecretKeyError, parse_policy

from .conftest import KEY, OLD_KEY, POLICY_YAML, client_for, make_app

pytestmark = pytest.mark.anyio

BANNER = 'id="consentkit-banner"'


async def decided_cookie(
    client: httpx.AsyncClient, action: str = "reject_all", cookie: str | None = None
) -> str:
    """Decide (optionally starting from ``cookie``) and return the new consent cookie's value."""
    client.cookies.clear()
    headers = {"origin": "http://testserver"}
    if cookie is not None:
        headers["cookie"] = f"consentkit={cookie}"
    response = await client.post("/_consent", data={"action": action, "next": "/"}, headers=headers)
    assert response.status_code == 303
    client.cookies.clear()
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("consentkit="):
            return header.split(";")[0].split("=", 1)[1]
    raise AssertionError("no consent cookie set")


def flip(value: str, index: int) -> str:
    return value[:index] + ("A" if value[index] != "A" else "B") + value[index + 1 :]


def flip_payload(value: str) -> str:
    """Change one character of the payload (itsdangerous starts compressed payloads with '.')."""
    parts = value.split(".")
    index = 1 if parts[0] == "" else 0
    payload = parts[index]
    middle = len(payload) // 2
    parts[index] = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1 :]
    return ".".join(parts)


async def subject_of(client: httpx.AsyncClient, cookie: str) -> str | None:
    client.cookies.clear()
    return (await client.get("/_consent", headers={"cookie": f"consentkit={cookie}"})).json()["subject_id"]


async def shows_banner(client: httpx.AsyncClient, cookie: str) -> bool:
    client.cookies.clear()
    response = await client.get("/", headers={"cookie": f"consentkit={cookie}"})
    assert response.status_code == 200
    return BANNER in response.text


async def test_a_good_cookie_hides_the_banner(client: httpx.AsyncClient) -> None:
    assert not await shows_banner(client, await decided_cookie(client))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: flip(v, len(v) - 10),  # signature changed (not its last, padding-bit character)
        flip_payload,  # payload changed
        lambda v: v.split(".")[0],  # signature stripped
        lambda v: "garbage",
        lambda v: "",
        lambda v: "a.b.c",
        lambda v: "!!!.@@@.###",
        lambda v: v + "." + v,
        lambda v: "x" * 5000,  # oversized
    ],
    ids=["signature", "payload", "unsigned", "garbage", "empty", "dots", "symbols", "doubled", "oversized"],
)
async def test_tampered_or_garbage_cookies_mean_no_decision(
    client: httpx.AsyncClient, mangle: object
) -> None:
    cookie = await decided_cookie(client)
    assert await shows_banner(client, mangle(cookie))  # type: ignore[operator]


async def test_a_cookie_signed_with_another_key_or_salt_is_refused(client: httpx.AsyncClient) -> None:
    forged = URLSafeTimedSerializer("another-key-entirely-0123456789", salt="consentkit.consent.v1").dumps(
        {"v": "2025-12-01", "s": "subject-id-123", "c": {"analytics": 1, "marketing": 1}}
    )
    assert await shows_banner(client, forged)
    other_salt = URLSafeTimedSerializer(KEY, salt="cookie-session").dumps(
        {"v": "2025-12-01", "s": "subject-id-123", "c": {"analytics": 1, "marketing": 1}}
    )
    assert await shows_banner(client, other_salt)


async def test_expired_consent_is_asked_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = await decided_cookie(client)
    assert not await shows_banner(client, cookie)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 179 * 86400)
    assert not await shows_banner(client, cookie)
    monkeypatch.setattr(time, "time", lambda: real() + 181 * 86400)
    assert await shows_banner(client, cookie)


async def test_a_new_policy_version_asks_again_but_keeps_the_pseudonym(
    policy: Policy, tmp_path: Path
) -> None:
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        cookie = await decided_cookie(client)
        subject = await subject_of(client, cookie)
    assert subject
    newer = parse_policy(POLICY_YAML.replace('version: "2025-12-01"', 'version: "2026-03-01"'))
    async with client_for(make_app(newer, tmp_path=tmp_path)) as client:
        assert await shows_banner(client, cookie)
        assert await subject_of(client, cookie) is None  # no decision for this version
        renewed = await decided_cookie(client, "accept_all", cookie=cookie)
        assert await subject_of(client, renewed) == subject


async def test_key_rotation_old_key_verifies_new_key_signs(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path=tmp_path, secret_keys=[OLD_KEY])) as client:
        old_cookie = await decided_cookie(client)
    rotated = make_app(policy, tmp_path=tmp_path, secret_keys=[OLD_KEY, KEY])
    async with client_for(rotated) as client:
        assert not await shows_banner(client, old_cookie)  # still honoured
        new_cookie = await decided_cookie(client, "accept_all", cookie=old_cookie)
    async with client_for(make_app(policy, tmp_path=tmp_path, secret_keys=[KEY])) as client:
        assert not await shows_banner(client, new_cookie)  # signed with the newest key
        assert await shows_banner(client, old_cookie)  # old key retired


def test_no_secret_key_fails_at_start_up(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENTKIT_SECRET_KEYS", raising=False)
    with pytest.raises(SecretKeyError, match="CONSENTKIT_SECRET_KEYS"):
        ConsentMiddleware(lambda *a: None, policy)
    with pytest.raises(SecretKeyError, match="at least 16"):
        ConsentMiddleware(lambda *a: None, policy, secret_keys=["short"])


async def test_keys_from_the_environment_oldest_first(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_for(make_app(policy, tmp_path=tmp_path, secret_keys=[OLD_KEY])) as client:
        old_cookie = await decided_cookie(client)
    monkeypatch.setenv("CONSENTKIT_SECRET_KEYS", f" {OLD_KEY} , {KEY} ")
    async with client_for(make_app(policy, tmp_path=tmp_path, secret_keys=None)) as client:
        assert not await shows_banner(client, old_cookie)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet=st.characters(codec="latin-1", exclude_characters=";\r\n\x00"), max_size=300))
async def test_random_cookie_values_never_break_a_request(policy: Policy, value: str) -> None:
    async with client_for(make_app(policy)) as client:
        raw = value.encode("latin-1")
        response = await client.get("/", headers=[(b"cookie", b"consentkit=" + raw + b"; other=1")])
        assert response.status_code == 200
        assert BANNER in response.text
        state = await client.get("/_consent", headers=[(b"cookie", b"consentkit=" + raw)])
        assert state.status_code == 200 and state.json()["decided"] is False
