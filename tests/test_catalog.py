"""The built-in service catalog: its data, how policies use it, and every vendor's snippet blocked.

Each catalog entry has a fixture in tests/fixtures/snippets/ holding the embed code its vendor
publishes. A page carrying it must load nothing of the vendor before consent (checked by the
html5lib oracle) and must carry it unchanged after "Accept".
"""

from __future__ import annotations

import io
import re
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware, PolicyError, load_policy, parse_policy
from consentkit.catalog import DATASETS, catalog
from consentkit.cli import main
from consentkit.schema import CATALOG_SCHEMA, read_yaml

from .conftest import KEY, client_for, decide
from .oracle import leaks

SNIPPETS = Path(__file__).parent / "fixtures" / "snippets"
NAMES = sorted(catalog())

#: The services issue #15 names (the "usual donation platforms" are several).
REQUIRED = {
    *("google-analytics", "google-tag-manager", "google-ads", "meta-pixel", "linkedin-insight"),
    *("x-pixel", "tiktok-pixel", "microsoft-clarity", "microsoft-uet", "hotjar", "matomo-cloud"),
    *("plausible", "mixpanel", "segment", "hubspot", "intercom", "youtube", "vimeo", "google-maps"),
    *("google-fonts", "adobe-fonts", "spotify", "soundcloud", "datawrapper", "flourish", "x-embed"),
    *("instagram-embed", "facebook-embed", "disqus", "mailchimp", "typeform"),
    *("cloudflare-web-analytics", "recaptcha", "hcaptcha", "stripe", "paypal", "donorbox", "givebutter"),
}


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out)
    return status, out.getvalue()


# --- the data ------------------------------------------------------------------------------------


def test_the_catalog_has_the_services_sites_embed() -> None:
    assert len(NAMES) >= 40
    assert sorted(REQUIRED - set(NAMES)) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_is_complete_and_sourced(name: str) -> None:
    path = files("consentkit").joinpath("catalog", f"{name}.yaml")
    data, _ = read_yaml(path.read_text(encoding="utf-8"), f"{name}.yaml", CATALOG_SCHEMA)
    for source in data["sources"]:
        assert re.match(r"^https://[^\s]+$", source["url"]), source
    for text in (data["label"], data["description"]):
        assert isinstance(text, str) or {"en", "fr"} <= set(text), f"{name}: English and French texts"
    vendor = data["vendor"]
    assert vendor["name"] and re.fullmatch(r"[A-Z]{2}", vendor["country"])
    assert vendor["privacy_policy_url"].startswith("https://")
    assert data["hosts"], f"{name}: hosts are what blocking matches"
    for cookie in data["cookies"]:
        assert isinstance(cookie, dict) and {"name", "duration", "purpose", "party"} <= set(cookie), cookie
        assert {"en", "fr"} <= set(cookie["purpose"])


def test_the_datasets_used_and_their_licences_are_recorded() -> None:
    assert DATASETS["Open Cookie Database"]["licence"] == "Apache-2.0"
    cited = {s.url for entry in catalog().values() for s in entry.sources}
    assert {d["url"] for d in DATASETS.values()} <= cited


# --- policies that name catalog services ------------------------------------------------------


def test_five_lines_make_a_working_policy_for_ga4_meta_and_youtube() -> None:
    text = "version: 1\nservices:\n  google-analytics: {}\n  meta-pixel: {}\n  youtube: {}\n"
    assert len(text.splitlines()) == 5
    policy = parse_policy(text)
    assert policy.required_categories == ("necessary",)
    assert policy.optional_categories == ("analytics", "marketing", "media")
    assert policy.categories["marketing"].gpc == "deny"
    assert policy.categories["analytics"].consent_mode == ("analytics_storage",)
    assert "connect.facebook.net" in policy.categories["marketing"].services["meta-pixel"].hosts
    msgs = policy.messages("en")
    assert msgs.accept == "Accept" and msgs.decline == "Decline"
    assert msgs.category_labels["media"] == "Embedded content"


def test_an_unknown_service_is_an_error_with_did_you_mean_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "consent.yaml"
    path.write_text("version: 1\nservices:\n  google-analytics: {}\n  hotjr: {}\n", encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert f"{path}:4:3: services.hotjr: 'hotjr' is not in the service catalog" in message
    assert "did you mean 'hotjar'?" in message


def test_an_unknown_service_under_a_category_is_an_error_too() -> None:
    text = (
        "version: 1\ncategories:\n  analytics:\n    services:\n      gogle-analytics: {label: GA}\n"
        "texts:\n  en: {}\n"
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    assert "p.yaml:5:7: categories.analytics.services.gogle-analytics:" in str(info.value)
    assert "did you mean 'google-analytics'" in str(info.value)


def test_a_service_of_ones_own_needs_no_catalog() -> None:
    text = "version: 1\nservices:\n  counter: {category: analytics, cookies: [_count]}\n"
    policy = parse_policy(text)
    assert policy.categories["analytics"].services["counter"].cookies == ("_count",)


def test_policy_keys_extend_lists_and_override_the_rest() -> None:
    text = """\
version: 1
categories:
  stats:
    services:
      matomo-cloud:
        label: Our Matomo
        hosts: [stats.example.org]
        cookies:
          - _pk_id.*
          - {name: _pk_ses.*, duration: 1 hour}
          - {name: _own, duration: session, purpose: Ours}
texts:
  en: {}
"""
    service = parse_policy(text).categories["stats"].services["matomo-cloud"]
    assert service.label == "Our Matomo"
    assert service.hosts[0] == "stats.example.org" and "cdn.matomo.cloud" in service.hosts
    assert service.inline == ("_paq",)
    info = {c.name: c for c in service.cookie_info}
    assert info["_pk_id.*"].duration == "13 months"  # a plain name keeps the catalog's details
    assert info["_pk_ses.*"].duration == "1 hour"
    assert info["_pk_ses.*"].purpose["fr"].startswith("Contient")  # fields not given are kept
    assert info["_own"].purpose == {"*": "Ours"}
    assert "_pk_ref.*" in service.cookies
    assert service.vendor is not None and service.vendor.name == "InnoCraft Ltd"
    assert service.catalog == "matomo-cloud"


def test_third_party_cookies_are_declared_but_never_matched_against_the_sites_own() -> None:
    service = (
        parse_policy("version: 1\nservices:\n  stripe: {}\n").categories["functional"].services["stripe"]
    )
    assert "m" not in service.cookies  # m.stripe.com's "m": a site's own "m" cookie is not Stripe's
    assert "m" in {c.name for c in service.cookie_info}


def test_a_bad_duration_is_an_error() -> None:
    text = "version: 1\nservices:\n  hotjar:\n    cookies: [{name: _hjx, duration: a while}]\n"
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    assert "services.hotjar" in str(info.value) and "duration 'a while'" in str(info.value)


# --- the CLI ---------------------------------------------------------------------------------------


def test_services_lists_the_catalog() -> None:
    status, out = run("services")
    assert status == 0
    assert re.search(r"^hotjar +analytics +Hotjar \(Hotjar Ltd\)$", out, re.M)
    assert f"{len(NAMES)} services" in out


def test_services_show_prints_policy_yaml_that_gives_the_same_service() -> None:
    status, out = run("services", "show", "hotjar")
    assert status == 0
    assert "# source: https://" in out
    pasted = yaml.safe_load(out)
    assert set(pasted) == {"hotjar"}
    body = "\n".join("      " + line for line in out.splitlines())
    text = f"version: 1\ncategories:\n  analytics:\n    services:\n{body}\ntexts:\n  en: {{}}\n"
    from_yaml = parse_policy(text).categories["analytics"].services["hotjar"]
    named = parse_policy("version: 1\nservices:\n  hotjar: {}\n").categories["analytics"].services["hotjar"]
    assert from_yaml == named


def test_services_show_an_unknown_name_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run("services", "show", "youtub")
    assert status == 1
    assert "did you mean youtube" in capsys.readouterr().err


# --- every vendor's published snippet ---------------------------------------------------------------


def test_every_entry_has_a_snippet() -> None:
    assert sorted(p.stem for p in SNIPPETS.glob("*.html")) == NAMES


def _page(snippet: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Snippet</title></head>'
        f"<body><main><h1>News</h1><p>Text.</p>{snippet}</main></body></html>"
    )


@pytest.mark.anyio
@pytest.mark.parametrize("name", NAMES)
async def test_the_vendors_snippet_is_blocked_before_consent_and_allowed_after(
    name: str, tmp_path: Path
) -> None:
    snippet = (SNIPPETS / f"{name}.html").read_text(encoding="utf-8")
    policy = parse_policy(f"version: 1\nservices:\n  {name}: {{}}\n")
    category = catalog()[name].category
    page = _page(snippet)
    assert leaks(page, policy, [category]), f"the {name} snippet loads nothing the entry matches"

    async def endpoint(request: Request) -> Response:
        return HTMLResponse(page)

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    async with client_for(app) as client:
        before = (await client.get("/")).text
        assert leaks(before, policy, [category]) == []
        await decide(client, "accept_all")
        after = (await client.get("/")).text
    # Consent Mode's default goes before the first Google tag; the vendor's code is otherwise untouched.
    assert snippet in re.sub(r'<script src="/_consent/consent-mode\.js\?g=[01]+"></script>', "", after)
    assert leaks(after, policy, [category]) == leaks(page, policy, [category])
