"""The consent endpoint: form and JSON decisions, CSRF, redirects, limits and errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from consentkit import Policy

from .conftest import client_for, decide, make_app

pytestmark = pytest.mark.anyio

ORIGIN = {"origin": "http://testserver"}


async def test_form_decline_sets_a_signed_cookie_and_redirects(client: httpx.AsyncClient) -> None:
    response = await decide(client, "reject_all", next_url="/page?a=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/page?a=1"
    cookies = response.headers.get_list("set-cookie")
    consent_cookie = next(c for c in cookies if c.startswith("consentkit="))
    attributes = [a.strip() for a in consent_cookie.split(";")]
    assert "Path=/" in attributes and "HttpOnly" in attributes and "SameSite=Lax" in attributes
    assert f"Max-Age={180 * 86400}" in attributes
    assert "Secure" not in attributes  # plain http
    assert response.headers["cache-control"] == "no-store"
    # declining expires the trackers' cookies
    assert any(c.startswith("_ga=; Path=/; Max-Age=0") for c in cookies)
    assert any(c.startswith("_fbp=; Path=/; Max-Age=0") for c in cookies)


async def test_secure_on_https(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path=tmp_path), base_url="https://example.org") as client:
        response = await client.post(
            "/_consent", data={"action": "accept_all"}, headers={"origin": "https://example.org"}
        )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


async def test_json_decisions_answer_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_consent",
        json={"action": "save", "categories": {"analytics": True, "marketing": False}},
        headers=ORIGIN,
    )
    assert response.status_code == 200
    document = response.json()
    assert document["choices"] == {"necessary": True, "analytics": True, "marketing": False}
    assert document["decided"] is True and document["method"] == "save"
    assert document["consent_mode"]["analytics_storage"] == "granted"
    assert document["consent_mode"]["ad_storage"] == "denied"
    current = (await client.get("/_consent")).json()
    assert current["choices"] == document["choices"]
    assert current["subject_id"] == document["subject_id"]


async def test_get_without_cookie_is_undecided(client: httpx.AsyncClient) -> None:
    document = (await client.get("/_consent")).json()
    assert document["decided"] is False
    assert document["choices"] == {"necessary": True, "analytics": False, "marketing": False}
    assert document["subject_id"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/page"},
        {"origin": "http://testserver.evil.example"},
        {"origin": "http://testserver:8080"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},
    ],
)
async def test_cross_site_posts_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str], tmp_path: Path
) -> None:
    response = await client.post("/_consent", data={"action": "accept_all"}, headers=headers)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert not (tmp_path / "audit.jsonl").exists()


async def test_same_site_referer_and_no_origin_at_all_are_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_consent", data={"action": "accept_all"}, headers={"referer": "http://testserver/x"}
    )
    assert response.status_code == 303
    response = await client.post("/_consent", data={"action": "accept_all"})
    assert response.status_code == 303


async def test_trusted_origins(policy: Policy, tmp_path: Path) -> None:
    app = make_app(policy, tmp_path=tmp_path, trusted_origins=["https://www.example.org"])
    async with client_for(app) as client:
        ok = await client.post(
            "/_consent", data={"action": "accept_all"}, headers={"origin": "https://www.example.org"}
        )
        assert ok.status_code == 303


async def test_text_plain_json_is_refused_as_cross_site(client: httpx.AsyncClient, tmp_path: Path) -> None:
    response = await client.post(
        "/_consent",
        content=json.dumps({"action": "accept_all"}),
        headers={"content-type": "text/plain", **ORIGIN},
    )
    assert response.status_code == 403
    assert not (tmp_path / "audit.jsonl").exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"action=maybe", "application/x-www-form-urlencoded", 400, "action must be one of"),
        (b"next=/", "application/x-www-form-urlencoded", 400, "missing action"),
        (b"action=save&categories=social", "application/x-www-form-urlencoded", 400, "unknown category"),
        (b"action=save&categories=\xff", "application/x-www-form-urlencoded", 400, "malformed form"),
        (b"{not json", "application/json", 400, "malformed JSON"),
        (b"[1, 2]", "application/json", 400, "must be an object"),
        (b'{"action": "save", "categories": "analytics"}', "application/json", 400, "categories must be"),
        (b'{"action": "save", "next": 5}', "application/json", 400, "next must be a string"),
        (b"<xml/>", "application/xml", 415, "send application/x-www-form-urlencoded"),
        (b"a", "multipart/form-data; boundary=x", 415, "send application"),
    ],
)
async def test_malformed_bodies_get_a_clear_4xx(
    client: httpx.AsyncClient, body: bytes, content_type: str, status: int, reason: str
) -> None:
    response = await client.post("/_consent", content=body, headers={"content-type": content_type, **ORIGIN})
    assert response.status_code == status
    assert reason in response.text
    assert "set-cookie" not in response.headers


async def test_bodies_over_16_kb_are_refused(client: httpx.AsyncClient) -> None:
    big = b"action=accept_all&next=/" + b"x" * 17000
    response = await client.post(
        "/_consent", content=big, headers={"content-type": "application/x-www-form-urlencoded", **ORIGIN}
    )
    assert response.status_code == 413

    async def chunks() -> object:
        for _ in range(20):
            yield b"x" * 1000

    response = await client.post(
        "/_consent", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded", **ORIGIN}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/page?x=1#top", "/page?x=1#top"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https:evil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
        ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),
        ("/\r\nSet-Cookie:x=1", "/"),
        ("javascript:alert(1)", "/"),
        ("http://testserver/account?tab=2", "/account?tab=2"),
        ("https://evil.example/", "/"),
        ("/" + "a" * 5000, "/"),
        ("/caf\u00e9 page", "/caf%C3%A9%20page"),
        ("", "/"),
    ],
)
async def test_next_always_stays_on_the_site(client: httpx.AsyncClient, next_url: str, expected: str) -> None:
    response = await client.post(
        "/_consent",
        content=f"action=reject_all&next={__import__('urllib.parse').parse.quote(next_url)}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded", **ORIGIN},
    )
    assert response.status_code == 303
    assert response.headers["location"] == expected
    assert "\n" not in response.headers["location"] and "\r" not in response.headers["location"]


async def test_a_banner_from_an_older_policy_version_decides_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_consent", data={"action": "accept_all", "next": "/page", "version": "2024-01-01"}, headers=ORIGIN
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/page"
    assert "set-cookie" not in response.headers
    conflict = await client.post("/_consent", json={"action": "accept_all", "version": "old"}, headers=ORIGIN)
    assert conflict.status_code == 409


async def test_methods_and_unknown_paths(client: httpx.AsyncClient) -> None:
    assert (await client.put("/_consent", headers=ORIGIN)).status_code == 405
    assert (await client.post("/_consent/settings", headers=ORIGIN)).status_code == 405
    assert (await client.get("/_consent/nope")).status_code == 404
    assert (await client.get("/_consentx")).text == "Not Found"  # not under the prefix: the app's own 404
    js = await client.get("/_consent/banner.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")


async def test_settings_page_works_without_javascript(client: httpx.AsyncClient) -> None:
    page = await client.get("/_consent/settings?next=/page")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    text = page.text
    assert '<form method="post" action="/_consent">' in text
    assert 'value="/page"' in text and "You have not made a choice yet." in text
    await decide(client, "save", ("analytics",))
    text = (await client.get("/_consent/settings?next=//evil.example")).text
    assert 'name="categories" value="analytics" checked' in text
    assert 'name="categories" value="marketing" aria' in text
    assert 'href="/"' in text  # the back link never leaves the site
    assert "Your current choice was made on" in text
    french = await client.get("/_consent/settings", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in french.text


async def test_gpc_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"gpc": True, "lastUpdate": "2025-12-01"}


async def test_consent_mode_script(client: httpx.AsyncClient) -> None:
    script = await client.get("/_consent/consent-mode.js?g=0001001")
    assert script.status_code == 200
    assert "analytics_storage:'granted'" in script.text and "ad_storage:'denied'" in script.text
    assert (await client.get("/_consent/consent-mode.js?g=2")).status_code == 400
