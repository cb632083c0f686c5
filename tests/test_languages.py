"""The banner's language: the page's <html lang>, else Accept-Language, else the default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.routing import Route

from consentkit import Policy

from .conftest import client_for, decide, make_app, page_route

pytestmark = pytest.mark.anyio


async def banner_lang(policy: Policy, tmp_path: Path, html_lang: str | None, accept: str | None) -> str:
    attr = f' lang="{html_lang}"' if html_lang is not None else ""
    app = make_app(
        policy, [Route("/", page_route(f"<html{attr}><body><p>x</p></body></html>"))], tmp_path=tmp_path
    )
    async with client_for(app) as client:
        headers = {"accept-language": accept} if accept else {}
        text = (await client.get("/", headers=headers)).text
    start = text.index('<section id="consentkit-banner"')
    return text[start:].split('lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(
    ("html_lang", "accept", "expected"),
    [
        ("fr", "en", "fr"),  # the page's language wins
        ("fr-CA", None, "fr"),
        ("de", "fr-CH, fr;q=0.9, en;q=0.8", "fr"),  # no German texts: the visitor's preference
        (None, "de;q=1, en;q=0.5, fr;q=0.7", "fr"),  # q-values
        (None, "fr;q=0", "en"),  # q=0 means "not this one"
        (None, "*", "en"),
        (None, "garbage;;;", "en"),
        (None, None, "en"),
        ("", "fr", "fr"),
    ],
)
async def test_language_choice(
    policy: Policy, tmp_path: Path, html_lang: str | None, accept: str | None, expected: str
) -> None:
    assert await banner_lang(policy, tmp_path, html_lang, accept) == expected


async def test_the_french_page_gets_the_french_banner(policy: Policy, tmp_path: Path) -> None:
    app = make_app(
        policy, [Route("/fr", page_route('<html lang="fr"><body></body></html>'))], tmp_path=tmp_path
    )
    async with client_for(app) as client:
        text = (await client.get("/fr")).text
    assert '<h2 id="ck-title">Vos données</h2>' in text
    assert 'value="accept_all">Accepter</button>' in text
    assert "Gérer mes choix" in text and "Aller au choix des cookies" in text


@pytest.mark.parametrize("action", ["accept_all", "reject_all"])
async def test_after_a_choice_the_page_language_still_wins(
    policy: Policy, tmp_path: Path, action: str
) -> None:
    """The settings link and the "saved" note follow <html lang>, whatever is (or is not) blocked."""
    page = (
        '<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8"><title>t</title></head><body><p>x</p>'
    )
    app = make_app(policy, [Route("/fr", page_route(page + "</body></html>"))], tmp_path=tmp_path)
    async with client_for(app) as client:
        await decide(client, action, next_url="/fr")
        text = (await client.get("/fr", headers={"accept-language": "en"})).text
        again = (await client.get("/fr", headers={"accept-language": "en"})).text
    for body in (text, again):
        control = body.split('class="ck-manage"', 1)[1].split("</p>", 1)[0]
        assert ' lang="fr"' in control and "lang=fr" in control and "Paramètres des cookies" in control


async def test_the_language_shown_is_recorded(policy: Policy, tmp_path: Path) -> None:
    app = make_app(policy, tmp_path=tmp_path)
    async with client_for(app) as client:
        await client.post(
            "/_consent", data={"action": "reject_all", "lang": "fr"}, headers={"origin": "http://testserver"}
        )
        await client.post(
            "/_consent",
            data={"action": "accept_all"},
            headers={"origin": "http://testserver", "accept-language": "fr-BE"},
        )
        await client.post(
            "/_consent", data={"action": "accept_all", "lang": "xx"}, headers={"origin": "http://testserver"}
        )
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [r["language"] for r in lines] == ["fr", "fr", "en"]
    assert lines[0]["notice_hash"] != lines[2]["notice_hash"]  # each language's notice has its own hash


async def test_accept_language_injection_is_inert(policy: Policy, tmp_path: Path) -> None:
    app = make_app(policy, tmp_path=tmp_path)
    async with client_for(app) as client:
        response = await client.get("/", headers={"accept-language": '"><script>alert(1)</script>'})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
