"""The consentkit command: check, notice, keygen and the demo."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from consentkit.cli import demo_app, main

from .conftest import POLICY_YAML, client_for

EXAMPLE_POLICY = Path(__file__).parents[1] / "examples" / "release_page" / "consent.yaml"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_check_summarises_a_valid_policy() -> None:
    status, out = run("check", str(EXAMPLE_POLICY))
    assert status == 0
    assert "version 2025-12-01, languages en, fr" in out
    assert "marketing (denied by Global Privacy Control; Consent Mode: ad_storage" in out
    assert "hosts:   connect.facebook.net, www.facebook.com" in out
    assert "cookies: _ga, _ga_*" in out
    assert out.rstrip().endswith("warnings)") or out.rstrip().endswith("warning)")


def test_check_warns_like_a_privacy_officer(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        POLICY_YAML.replace("max_age_days: 180", "max_age_days: 390").replace(
            '      marketing: {label: Marketing, description: "Mesure nos campagnes."}\n', ""
        )
    )
    status, out = run("check", str(policy))
    assert status == 0
    assert "warning: cookie.max_age_days is 390" in out
    assert "warning: texts.fr.categories.marketing.label is missing: falls back to another language" in out
    assert "; audit: sqlite:///" in out  # no store in the policy: the SQLite default (see test_audit_default)


def test_check_fails_with_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY_YAML.replace("max_age_days: 180", "max_age_days: 400"))
    status, _ = run("check", str(policy))
    assert status == 1
    err = capsys.readouterr().err
    assert f"{policy}:6:" in err and "cookie.max_age_days: must be between 1 and 395" in err


def test_notice_prints_the_hash_and_markup() -> None:
    status, out = run("notice", str(EXAMPLE_POLICY), "--lang", "fr")
    assert status == 0
    first, markup = out.split("\n", 1)
    assert first.startswith("fr notice_hash ") and len(first.split()[-1]) == 64
    assert "Human Rights Watch respecte votre vie privée" in markup


def test_keygen_prints_a_usable_key() -> None:
    status, out = run("keygen")
    assert status == 0 and len(out.strip()) >= 40


def test_demo_help_explains_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "consentkit.cli", "demo", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--host", "--port", "--policy", "--audit", "development key"):
        assert option in result.stdout


@pytest.mark.anyio
async def test_the_demo_serves_the_release_page_with_the_seed_banner(tmp_path: Path) -> None:
    app, policy_path, audit_path = demo_app(audit=str(tmp_path / "demo-audit.jsonl"))
    assert policy_path == EXAMPLE_POLICY
    async with client_for(app) as client:
        page = (await client.get("/")).text
        assert "International Criminal Court: Justice at Risk" in page
        assert page.count('<section id="consentkit-banner"') == 1
        assert "Human Rights Watch values your privacy, and we care about how your personal data" in page
        for tracker in (
            "googletagmanager.com",
            "connect.facebook.net",
            "facebook.com/tr",
            "/static/analytics.js",
        ):
            assert tracker not in page
        french = (await client.get("/fr")).text
        assert "Human Rights Watch respecte votre vie privée" in french
        response = await client.post(
            "/_consent", data={"action": "accept_all", "next": "/"}, headers={"origin": "http://testserver"}
        )
        assert response.status_code == 303
        accepted = (await client.get("/")).text
        assert "googletagmanager.com/gtag/js" in accepted and "/static/analytics.js" in accepted
        assert (await client.get("/collect/stats")).json()["hits"] == 0
    assert audit_path.read_text().count("\n") == 1
