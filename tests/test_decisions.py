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
        button = next(form.iter("button"), None)  # placeholders' forms carry their action hidden
        if button is not None:
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


# --- cookie tossing: __Host- prefix, several consent cookies ------------------------------------------


async def _signed_cookie(
    policy: Policy, tmp_path: Path, action: str, base_url: str = "http://testserver"
) -> str:
    """A validly signed consent cookie value, as anyone (an attacker too) gets by deciding on the site."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    async with client_for(make_app(policy, tmp_path=tmp_path), base_url=base_url) as client:
        response = await client.post(
            "/_consent", data={"action": action}, headers={"origin": base_url.rstrip("/")}
        )
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name in ("consentkit", "__Host-consentkit"):
            return rest.split(";", 1)[0]
    raise AssertionError(response.headers)


def _consent_set_cookie(response: httpx.Response) -> str:
    [header] = [
        h
        for h in response.headers.get_list("set-cookie")
        if "consentkit=" in h.split(";")[0] and "=;" not in h
    ]
    return header


async def test_on_https_the_cookie_is_host_prefixed(policy: Policy, tmp_path: Path) -> None:
    async with client_for(make_app(policy, tmp_path=tmp_path), base_url="https://example.org") as client:
        response = await client.post(
            "/_consent", data={"action": "reject_all"}, headers={"origin": "https://example.org"}
        )
        header = _consent_set_cookie(response)
        assert header.startswith("__Host-consentkit=")
        assert "; Secure" in header and "; Path=/" in header and "Domain=" not in header
        page = await client.get("/page")
        assert 'id="consentkit-banner"' not in page.text, "the prefixed cookie is read back"
        assert page.headers["x-consent"] == "True:False:False"


async def test_on_plain_http_there_is_no_prefix(policy: Policy, tmp_path: Path) -> None:
    """Browsers refuse __Host- cookies without Secure, which plain HTTP cannot set (development)."""
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        response = await client.post("/_consent", data={"action": "reject_all"}, headers=ORIGIN)
    header = _consent_set_cookie(response)
    assert header.startswith("consentkit=") and "Secure" not in header


async def test_a_cookie_with_a_domain_cannot_be_host_prefixed(tmp_path: Path) -> None:
    policy = parse_policy(
        POLICY_YAML.replace("  max_age_days: 180\n", "  max_age_days: 180\n  domain: example.org\n")
    )
    async with client_for(make_app(policy, tmp_path=tmp_path), base_url="https://www.example.org") as client:
        response = await client.post(
            "/_consent", data={"action": "reject_all"}, headers={"origin": "https://www.example.org"}
        )
    header = _consent_set_cookie(response)
    assert header.startswith("consentkit=") and "Domain=example.org" in header


async def test_a_tossed_cookie_cannot_override_a_refusal(policy: Policy, tmp_path: Path) -> None:
    """A sibling subdomain sets consentkit=<its own accept-all> with Domain=parent and a deeper Path:
    the browser sends it first, next to the visitor's own refusal."""
    accepted = await _signed_cookie(policy, tmp_path / "attacker", "accept_all")
    refused = await _signed_cookie(policy, tmp_path / "visitor", "reject_all")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        for cookie in (
            f"consentkit={accepted}; consentkit={refused}",
            f"consentkit={refused}; consentkit={accepted}",
        ):
            page = await client.get("/page", headers={"cookie": cookie})
            assert page.headers["x-consent"] == "True:False:False", cookie
            current = (await client.get("/_consent", headers={"cookie": cookie})).json()
            assert current["choices"] == {"necessary": True, "analytics": False, "marketing": False}
            assert current["subject_id"] is None, "no subject id from an ambiguous set"


async def test_disagreeing_cookies_grant_only_what_all_grant(policy: Policy, tmp_path: Path) -> None:
    accepted = await _signed_cookie(policy, tmp_path / "a", "accept_all")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        response = await client.post(
            "/_consent", data={"action": "save", "categories": ["analytics"]}, headers=ORIGIN
        )
        analytics_only = _consent_set_cookie(response).split(";", 1)[0].split("=", 1)[1]
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        cookie = f"consentkit={accepted}; consentkit={analytics_only}"
        page = await client.get("/page", headers={"cookie": cookie})
        assert page.headers["x-consent"] == "True:True:False"
        garbage = await client.get("/page", headers={"cookie": f"consentkit={accepted}; consentkit=forged"})
        assert garbage.headers["x-consent"] == "False:False:False"


async def test_on_https_an_unprefixed_cookie_grants_nothing(policy: Policy, tmp_path: Path) -> None:
    """Anyone on a sibling subdomain (or a plain-HTTP page) can set the unprefixed name."""
    tossed = await _signed_cookie(policy, tmp_path / "attacker", "accept_all")
    refused = await _signed_cookie(policy, tmp_path / "visitor", "reject_all", "https://example.org")
    accepted = await _signed_cookie(policy, tmp_path / "visitor2", "accept_all", "https://example.org")
    async with client_for(make_app(policy, tmp_path=tmp_path), base_url="https://example.org") as client:
        alone = await client.get("/page", headers={"cookie": f"consentkit={tossed}"})
        assert alone.headers["x-consent"] == "False:False:False"
        assert 'id="consentkit-banner"' in alone.text
        beside = await client.get(
            "/page", headers={"cookie": f"consentkit={tossed}; __Host-consentkit={refused}"}
        )
        assert beside.headers["x-consent"] == "True:False:False"
        own = await client.get("/page", headers={"cookie": f"__Host-consentkit={accepted}"})
        assert own.headers["x-consent"] == "True:True:True"
        # Deciding replaces the prefixed cookie and expires the unprefixed one where it can.
        response = await client.post(
            "/_consent",
            data={"action": "reject_all"},
            headers={"origin": "https://example.org", "cookie": f"consentkit={tossed}"},
        )
        expired = [h for h in response.headers.get_list("set-cookie") if h.startswith("consentkit=;")]
        assert expired and all("Max-Age=0" in h for h in expired)
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        tossed_subject = (await client.get("/_consent", headers={"cookie": f"consentkit={tossed}"})).json()[
            "subject_id"
        ]
    [record] = _audit_lines(tmp_path)
    assert tossed_subject and record["subject_id"] != tossed_subject, "the tossed subject id was not taken"
