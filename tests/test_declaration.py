"""The cookie declaration: generated from the policy, served at /_consent/cookies, on the settings
page, in templates and on the demo's privacy page, in every language of the policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import html5lib
import httpx
import jinja2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from consentkit import ConsentMiddleware, cookie_declaration, parse_policy
from consentkit.cli import demo_app
from consentkit.jinja import install

from .conftest import KEY, POLICY_YAML, client_for, make_app

pytestmark = pytest.mark.anyio

REQUIRED_FIELDS = {"name", "provider", "purpose", "duration", "category"}


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app, _, _ = demo_app(audit=str(tmp_path / "audit.jsonl"))
    async with client_for(app) as client:
        yield client


def table_rows(fragment: str) -> list[list[str]]:
    """The declaration table's body rows as a browser parses them: the text of each cell."""
    tree = html5lib.parse(fragment, namespaceHTMLElements=False)
    table = tree.find(".//div[@class='ck-decl']//table")
    assert table is not None, "no declaration table"
    return [[" ".join("".join(c.itertext()).split()) for c in tr] for tr in table.find("tbody")]


async def test_json_lists_every_cookie_with_provider_purpose_duration_category(
    demo: httpx.AsyncClient,
) -> None:
    response = await demo.get("/_consent/cookies", headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rows = {row["name"]: row for row in response.json()}
    for row in rows.values():
        assert set(row) >= REQUIRED_FIELDS
    # what the demo's hand-written table used to forget
    assert {"_ga_*", "fr", "consentkit_saved", "consentkit", "_fbp", "_demo_analytics"} <= set(rows)
    assert rows["consentkit"]["duration"] == "180 days"
    assert rows["consentkit"]["provider"] == "This site"
    assert rows["_ga"]["provider"] == "Google Ireland Limited"
    assert rows["_ga"]["category"] == "Analytics" and rows["_fbp"]["category"] == "Marketing"
    assert rows["fr"]["party"] == "third" and rows["fr"]["duration"] == "90 days"
    assert rows["_demo_analytics"]["duration"] == "1 year"
    assert rows["_demo_analytics"]["service"] == "Our own visit counter"
    assert all(row["purpose"] for row in rows.values())


async def test_in_french_everything_is_french(demo: httpx.AsyncClient) -> None:
    response = await demo.get("/_consent/cookies?lang=fr", headers={"accept": "application/json"})
    rows = {row["name"]: row for row in response.json()}
    assert rows["consentkit"]["duration"] == "180 jours"
    assert rows["consentkit"]["provider"] == "Ce site"
    assert rows["_ga"]["duration"] == "2 ans"
    assert rows["_ga"]["purpose"].startswith("Distingue les visiteurs")
    assert rows["_ga"]["category"] == "Mesure d’audience"
    assert rows["_demo_analytics"]["service"] == "Notre propre compteur de visites"
    by_header = await demo.get("/_consent/cookies", headers={"accept-language": "fr-CA,fr;q=0.9"})
    assert by_header.headers["content-language"] == "fr"
    assert "Fournisseur" in by_header.text


async def test_html_fragment_is_a_table_a_browser_reads(demo: httpx.AsyncClient) -> None:
    response = await demo.get("/_consent/cookies")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<html" not in response.text  # a fragment to include in a page
    rows = table_rows(response.text)
    names = [row[0] for row in rows]
    assert names[:2] == ["consentkit", "consentkit_saved"]
    assert "_ga_*" in names and "fr" in names
    ga = rows[names.index("_ga")]
    assert ga[1].startswith("Google Ireland Limited") and ga[3] == "2 years" and ga[4] == "Analytics"
    refused = await demo.post("/_consent/cookies", data={})
    assert refused.status_code == 405


async def test_the_settings_page_shows_the_declaration(demo: httpx.AsyncClient) -> None:
    page = (await demo.get("/_consent/settings?lang=fr")).text
    rows = table_rows(page)
    assert any(row[0] == "_fbp" and "Meta Platforms Ireland Limited" in row[1] for row in rows)
    assert 'lang="fr"' in page and "Cookies utilisés sur ce site" in page


async def test_the_demo_privacy_page_uses_the_generated_declaration(demo: httpx.AsyncClient) -> None:
    for path, duration in (("/privacy", "180 days"), ("/fr/privacy", "180 jours")):
        page = (await demo.get(path)).text
        assert 'class="policy-table"' not in page  # the hand-written table is gone
        rows = table_rows(page)
        assert ["consentkit", duration] == [rows[0][0], rows[0][3]]
        assert {"_ga_*", "fr", "consentkit_saved"} <= {row[0] for row in rows}


async def test_vendor_names_on_the_first_layer_and_one_privacy_link(demo: httpx.AsyncClient) -> None:
    page = (await demo.get("/")).text
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    banner = tree.find(".//section[@id='consentkit-banner']")
    assert banner is not None
    first_layer = banner.find(".//form")
    assert first_layer is not None
    vendors = ["".join(li.itertext()) for li in first_layer.iter("li")]
    assert vendors == [
        "Analytics: Google Ireland Limited, Our own visit counter",
        "Marketing: Meta Platforms Ireland Limited",
    ]
    links = [a for a in banner.iter("a") if a.get("href") == "/privacy"]
    assert len(links) == 1  # the body links it: no second "Privacy policy" beside the buttons


async def test_the_privacy_link_is_shown_beside_the_buttons_when_the_body_has_none(tmp_path: Path) -> None:
    policy = parse_policy(POLICY_YAML.replace(" Read our {privacy_policy}.", ""))
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        page = (await client.get("/")).text
    assert page.count('href="/privacy"') == 1 and 'class="ck-policy"' in page


def test_cookie_mappings_in_the_policy_are_declared() -> None:
    policy = parse_policy(
        POLICY_YAML.replace(
            "cookies: [_fbp]",
            "cookies: [_fbp, {name: _camp, duration: 30 days, purpose: {en: Campaign, fr: Campagne}}]",
        )
    )
    rows = {row.name: row for row in cookie_declaration(policy, "fr")}
    assert rows["_camp"].duration == "30 jours" and rows["_camp"].purpose == "Campagne"
    assert rows["_fbp"].duration == "4 mois"  # meta-pixel is in the catalog: it fills a plain name in
    assert rows["_fbp"].category == "Marketing"
    assert rows["_hj*"].provider == "Hotjar Ltd"
    assert rows["_pk_*"].provider == "Ce site"  # "matomo" is not a catalog name: no vendor


async def test_the_jinja_helper_renders_the_declaration(tmp_path: Path) -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"p.html": "<main>{{ consentkit_cookie_declaration() }}</main>"}),
        autoescape=True,
    )
    install(env)
    templates = Jinja2Templates(env=env)

    async def page(request: Request) -> Response:
        return templates.TemplateResponse(request, "p.html")

    policy = parse_policy(POLICY_YAML)
    bare = Starlette(routes=[Route("/", page)])
    async with client_for(bare) as client:
        assert (await client.get("/")).text == "<main></main>"  # no middleware, nothing to declare
    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    async with client_for(app) as client:
        english = (await client.get("/")).text
        french = (await client.get("/", headers={"accept-language": "fr"})).text
    assert "_ga_*" in [row[0] for row in table_rows(english)]
    assert "Fournisseur" in french and "&lt;" not in english


def test_the_declaration_is_plain_data_for_other_frameworks() -> None:
    rows: list[dict[str, Any]] = [row.to_json() for row in cookie_declaration(parse_policy(POLICY_YAML))]
    assert all(set(row) >= REQUIRED_FIELDS for row in rows)
