"""Decisions that can be faked (issue #14 §4): origin scheme, hostile ``next``, stale banners, cookie tossing."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentkit import Policy, parse_policy

from .conftest import KEY, POLICY_YAML, client_for, make_app

pytestmark = pytest.mark.anyio

ORIGIN = {"origin": "http://testserver"}


def _audit_lines(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- Origin: scheme, host and port ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("https://example.org", "http://example.org"),
        ("https://example.org", "http://example.org:443"),
        ("https://example.org:8443", "http://example.org:8443"),
        ("http://example.org", "https://example.org"),
        ("https://example.org", "wss://example.org"),
    ],
)
async def test_an_origin_with_another_scheme_is_refused(
    policy: Policy, tmp_path: Path, base_url: str, origin: str
) -> None:
    async with client_for(make_app(policy, tmp_path=tmp_path), base_url=base_url) as client:
        response = await client.post("/_consent", data={"action": "accept_all"}, headers={"origin": origin})
        referer = await client.post(
            "/_consent", data={"action": "accept_all"}, headers={"referer": origin + "/page"}
        )
    assert response.status_code == 403
    assert referer.status_code == 403
    assert _audit_lines(tmp_path) == []


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("https://example.org", "https://example.org"),
        ("https://example.org", "https://EXAMPLE.org:443"),
        ("https://example.org:8443", "https://example.org:8443"),
        ("http://example.org", "http://example.org"),
    ],
)
async def test_the_same_origin_is_accepted(
    policy: Policy, tmp_path: Path, base_url: str, origin: str
) -> None:
    async with client_for(make_app(policy, tmp_path=tmp_path), base_url=base_url) as client:
        response = await client.post("/_consent", data={"action": "accept_all"}, headers={"origin": origin})
    assert response.status_code == 303


# --- next: a same-site redirect or 400, never 500 ---------------------------------------------------


HOSTILE_NEXT = [
    "http://[::1",
    "http://[::1]:80/x",
    "https://[",
    "//[::1",
    "http://testserver:99999/",
    "http://testserver:port/",
    "http://[v1.x]/",
    "\ud800",
    "/caf\udcff",
    "http://testserver/\ud800",
]


def _assert_same_site(response: httpx.Response) -> None:
    assert response.status_code in (303, 400), response.text
    if response.status_code == 303:
        location = response.headers["location"]
        assert location.startswith("/") and not location.startswith("//"), location
        resolved = urlsplit(urljoin("http://testserver/x/y", location))
        assert (resolved.scheme, resolved.netloc) == ("http", "testserver"), location


@pytest.mark.parametrize("next_url", HOSTILE_NEXT)
async def test_unparseable_next_is_a_redirect_home_not_a_500(
    client: httpx.AsyncClient, next_url: str
) -> None:
    form = await client.post(
        "/_consent",
        content=b"action=reject_all&next=" + next_url.encode("utf-8", "surrogatepass").replace(b"[", b"%5B"),
        headers={"content-type": "application/x-www-form-urlencoded", **ORIGIN},
    )
    _assert_same_site(form)
    body = json.dumps({"action": "reject_all", "next": next_url}).encode("ascii")
    as_json = await client.post(
        "/_consent", content=body, headers={"content-type": "application/json", **ORIGIN}
    )
    assert as_json.status_code in (200, 400), as_json.text
    settings_page = await client.get(
        "/_consent/settings", params={"next": next_url.encode("utf-8", "replace")}
    )
    assert settings_page.status_code in (200, 400)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    next_url=st.one_of(
        st.text(),
        st.text(alphabet="/\\:[]@?#%.htps1x:", max_size=30),
        st.builds(
            lambda scheme, rest: scheme + rest,
            st.sampled_from(["http://", "https://", "//", "http:", "javascript:", "http://testserver"]),
            st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
        ),
    )
)
def test_any_next_gets_a_same_site_redirect_or_400(policy: Policy, next_url: str) -> None:
    import anyio

    app = make_app(policy, secret_keys=[KEY], audit_path=None)

    async def run() -> None:
        async with client_for(app) as client:
            body = json.dumps({"action": "reject_all", "next": next_url})
            form = await client.post(
                "/_consent",
                data={"action": "reject_all", "next": next_url.encode("utf-8", "surrogatepass")},
                headers=ORIGIN,
            )
            _assert_same_site(form)
            as_json = await client.post(
                "/_consent", content=body, headers={"content-type": "application/json", **ORIGIN}
            )
            assert as_json.status_code in (200, 400), as_json.text
            page = await client.get(
                "/_consent/settings", params={"next": next_url.encode("utf-8", "surrogatepass")}
            )
            assert page.status_code in (200, 400), page.text

    anyio.run(run)


# --- stale banners: a decision answers the policy version it was shown --------------------------------

POLICY_V2_YAML = (
    POLICY_YAML.replace('version: "2025-12-01"', 'version: "2026-02-01"')
    .replace(
        "texts:\n",
        "  personalisation:\n    services:\n      optimizely:\n        hosts: [cdn.optimizely.com]\ntexts:\n",
        1,
    )
    .replace(
        '      marketing: {label: Marketing, description: "Measures our campaigns."}\n',
        '      marketing: {label: Marketing, description: "Measures our campaigns."}\n'
        '      personalisation: {label: Personalisation, description: "Tailors pages."}\n',
    )
    .replace(
        '      marketing: {label: Marketing, description: "Mesure nos campagnes."}\n',
        '      marketing: {label: Marketing, description: "Mesure nos campagnes."}\n'
        '      personalisation: {label: Personnalisation, description: "Adapte les pages."}\n',
    )
)


async def _post_form(client: httpx.AsyncClient, fields: list[tuple[str, str]]) -> httpx.Response:
    return await client.post(
        "/_consent",
        content=urlencode(fields).encode("ascii"),
        headers={"content-type": "application/x-www-form-urlencoded", **ORIGIN},
    )


def _forms(page: str) -> list[list[tuple[str, str]]]:
    """Each consentkit form on ``page`` as the fields a browser submits (first submit button)."""
    import html5lib

    document = html5lib.parse(page, namespaceHTMLElements=False)
    forms = []
    for form in document.iter("form"):
        if not (form.get("action") or "").endswith("/_consent"):
            continue
        fields = [
            (i.get("name", ""), i.get("value", ""))
            for i in form.iter("input")
            if i.get("type") == "hidden" or i.get("checked") is not None
        ]
        button = next(form.iter("button"))
        fields.append((button.get("name", ""), button.get("value", "")))
        forms.append(fields)
    return forms


async def test_a_banner_shown_under_an_older_version_grants_nothing_new(tmp_path: Path) -> None:
    old, new = parse_policy(POLICY_YAML), parse_policy(POLICY_V2_YAML)
    assert "personalisation" in new.optional_categories
    async with client_for(make_app(old, tmp_path=tmp_path / "v1")) as client:
        page = (await client.get("/page")).text
    forms = _forms(page)
    assert forms, "the v1 banner has decision forms"
    assert all(("version", old.version) in fields for fields in forms)
    async with client_for(make_app(new, tmp_path=tmp_path)) as client:
        accept = next(f for f in forms if ("action", "accept_all") in f)
        response = await _post_form(client, accept)
        assert response.status_code == 303
        assert not any("consentkit=" in c for c in response.headers.get_list("set-cookie"))
        assert _audit_lines(tmp_path) == []
        again = await client.get(response.headers["location"])
        assert 'id="consentkit-banner"' in again.text, "the visitor is asked again"
        current = _forms(again.text)
        assert all(("version", new.version) in fields for fields in current)
        accept = next(f for f in current if ("action", "accept_all") in f)
        assert (await _post_form(client, accept)).status_code == 303
    [record] = _audit_lines(tmp_path)
    assert record["policy_version"] == new.version
    assert record["choices"] == {
        "necessary": True,
        "analytics": True,
        "marketing": True,
        "personalisation": True,
    }


async def test_every_decision_form_carries_the_version(client: httpx.AsyncClient, policy: Policy) -> None:
    pages = [
        (await client.get("/page")).text,
        (await client.get("/_consent/settings")).text,
    ]
    for page in pages:
        for fields in _forms(page):
            assert ("version", policy.version) in fields, fields
