"""The release-page demo as a stranger meets it: honest about what it is, a complete privacy notice,
a privacy link at the newsletter field, and a strict CSP with the usual security headers."""

from __future__ import annotations

import re
from pathlib import Path

import html5lib
import pytest

from consentkit.cli import demo_app

from .conftest import client_for, decide

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(tmp_path: Path) -> object:
    return demo_app(audit=str(tmp_path / "audit.jsonl"))[0]


@pytest.mark.parametrize("path", ["/", "/fr", "/privacy", "/fr/privacy"])
async def test_every_page_says_it_is_a_demonstration_not_affiliated(app: object, path: str) -> None:
    async with client_for(app) as client:
        text = (await client.get(path)).text
    note = re.search(r'<p class="demo-notice" role="note">(.*?)</p>', text, re.S)
    assert note is not None
    words = note.group(1)
    if path.startswith("/fr"):
        assert "démonstration" in words and "Human Rights Watch" in words and "ni affilié" in words
    else:
        assert "Demonstration" in words and "mirrors a public Human Rights Watch news release" in words
        assert "not affiliated with" in words


@pytest.mark.parametrize("path", ["/privacy", "/fr/privacy"])
async def test_the_privacy_page_names_controller_basis_and_retention_per_purpose(
    app: object, path: str
) -> None:
    async with client_for(app) as client:
        text = (await client.get(path)).text
    section = text[text.index('id="controller"') : text.index("</dl>", text.index('id="controller"'))]
    assert "consentkit" in section
    purposes = re.findall(r"<div><dt>(.*?)</dt><dd>(.*?)</dd></div>", section, re.S)
    assert len(purposes) >= 5
    for purpose, details in purposes:
        assert re.search(r"Legal basis|Base légale", details), purpose
        assert re.search(r"Retention|Durée de conservation", details), purpose
        assert re.search(r"Art\.|art\.", details), purpose
    assert 'id="newsletter-privacy"' in text


@pytest.mark.parametrize(("path", "target"), [("/", "/privacy"), ("/fr", "/fr/privacy")])
async def test_the_newsletter_field_has_a_privacy_notice_link_next_to_it(
    app: object, path: str, target: str
) -> None:
    async with client_for(app) as client:
        text = (await client.get(path)).text
    form = text[
        text.index('<form class="newsletter__form"') : text.index("</form>", text.index("newsletter__form"))
    ]
    field = re.search(r'<input class="newsletter__input"[^>]*aria-describedby="([^"]+)"', form)
    assert field is not None and "newsletter-privacy-note" in field.group(1).split()
    note = re.search(r'<p class="newsletter__privacy" id="newsletter-privacy-note"><a href="([^"]+)">', form)
    assert note is not None and note.group(1) == f"{target}#newsletter-privacy"


async def test_a_strict_csp_and_security_headers(app: object) -> None:
    async with client_for(app) as client:
        response = await client.get("/")
        await decide(client, "accept_all")
        accepted = await client.get("/")
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "camera=()" in headers["permissions-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert nonce != re.search(r"'nonce-([^']+)'", accepted.headers["content-security-policy"]).group(1)  # type: ignore[union-attr]
    # everything inline carries the page's nonce; nothing carries an inline style
    for text, policy in ((response.text, csp), (accepted.text, accepted.headers["content-security-policy"])):
        page_nonce = re.search(r"'nonce-([^']+)'", policy).group(1)  # type: ignore[union-attr]
        document = html5lib.parse(text, namespaceHTMLElements=False)
        for element in document.iter():
            assert "style" not in element.attrib, element.tag
            assert element.tag != "style"
            if element.tag == "script" and not element.attrib.get("src"):
                assert element.attrib.get("nonce") == page_nonce
            if element.tag == "script" and "/_consent/" in element.attrib.get("src", ""):
                assert element.attrib.get("nonce") == page_nonce
    assert "gtag('config'" in accepted.text  # the inline tag is there once allowed, with its nonce
