"""Asked again when what visitors agreed to changes, even without a new ``version``."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from consentkit import parse_policy
from consentkit.cli import main
from consentkit.fingerprint import category_fingerprints, policy_fingerprint

from .conftest import POLICY_YAML, client_for, decide, make_app

pytestmark = pytest.mark.anyio

#: The same policy with one more Hotjar cookie: what is behind "analytics" changed.
MORE_COOKIES = POLICY_YAML.replace('cookies: ["_hj*"]', 'cookies: ["_hj*", _hotjar_extra]')
#: The same policy with other words only.
REWORDED = POLICY_YAML.replace("title: Your privacy", "title: Your privacy matters")


def test_only_what_is_behind_a_category_changes_its_fingerprint() -> None:
    base = category_fingerprints(parse_policy(POLICY_YAML))
    assert set(base) == {"analytics", "marketing"} and all(
        re.fullmatch(r"[0-9a-f]{8}", v) for v in base.values()
    )
    changed = category_fingerprints(parse_policy(MORE_COOKIES))
    assert changed["analytics"] != base["analytics"] and changed["marketing"] == base["marketing"]
    assert category_fingerprints(parse_policy(REWORDED)) == base
    assert policy_fingerprint(parse_policy(MORE_COOKIES)) != policy_fingerprint(parse_policy(POLICY_YAML))


async def test_a_changed_category_is_asked_again_with_a_note(tmp_path: Path) -> None:
    async with client_for(make_app(parse_policy(POLICY_YAML), tmp_path=tmp_path)) as before:
        await decide(before, "accept_all")
        cookies = before.cookies
    later = client_for(make_app(parse_policy(MORE_COOKIES), tmp_path=tmp_path))
    later.cookies = cookies
    async with later:
        page = await later.get("/")
        current = (await later.get("/_consent", headers={"accept-language": "fr"})).json()
    # decided:analytics:marketing: analytics is asked again, the marketing answer stands
    assert page.headers["x-consent"] == "False:False:True"
    assert 'id="consentkit-banner"' in page.text
    assert (
        '<p class="ck-changed">Since your last choice, what is behind these has changed: Analytics.</p>'
        in page.text
    )
    assert current["changed"] == ["analytics"] and current["pending"] == ["analytics"]


async def test_new_words_alone_do_not_ask_again(tmp_path: Path) -> None:
    async with client_for(make_app(parse_policy(POLICY_YAML), tmp_path=tmp_path)) as before:
        await decide(before, "accept_all")
        cookies = before.cookies
    later = client_for(make_app(parse_policy(REWORDED), tmp_path=tmp_path))
    later.cookies = cookies
    async with later:
        page = await later.get("/")
    assert page.headers["x-consent"] == "True:True:True"
    assert 'id="consentkit-banner"' not in page.text


async def test_deciding_again_records_the_new_fingerprint(tmp_path: Path) -> None:
    async with client_for(make_app(parse_policy(MORE_COOKIES), tmp_path=tmp_path)) as client:
        await decide(client, "accept_all")
        page = await client.get("/")
    assert page.headers["x-consent"] == "True:True:True" and "ck-changed" not in page.text


def test_check_shows_the_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY_YAML, encoding="utf-8")
    out = io.StringIO()
    assert main(["check", str(path)], out) == 0
    prints = category_fingerprints(parse_policy(POLICY_YAML))
    expected = (
        f"Fingerprint: {policy_fingerprint(parse_policy(POLICY_YAML))} (analytics {prints['analytics']}"
    )
    assert expected in out.getvalue()


async def test_the_cookie_stays_small_with_ten_categories_of_ten_services(tmp_path: Path) -> None:
    categories = "".join(
        f"  category{c}:\n    services:\n"
        + "".join(
            f"      service{c}-{s}: {{hosts: [s{s}.c{c}.example.net], cookies: [_c{c}s{s}]}}\n"
            for s in range(10)
        )
        for c in range(10)
    )
    policy = parse_policy(f"version: 1\ncategories:\n  necessary: {{required: true}}\n{categories}")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        response = await decide(client, "accept_all")
    value = next(h for h in response.headers.get_list("set-cookie") if h.startswith("consentkit="))
    size = len(value.split(";", 1)[0])
    assert size < 1024, f"the consent cookie is {size} bytes"
