"""Accessibility in a real browser: axe-core (WCAG 2.2 AA tags), reflow at 320 px, target sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Browsing, OpenBrowsing

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
MIN_TARGET = 24  # WCAG 2.2 SC 2.5.8 Target Size (Minimum), CSS pixels

# Pages get axe-core through page.add_script_tag, an inline script: bypass_csp lets it run on the
# settings page, whose Content-Security-Policy (rightly) allows no inline script.
AXE_CONTEXT = {"bypass_csp": True}


def run_axe(page: Page, axe_script: Path, context: str | None) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate(
        """([context, tags]) => axe.run(context === null ? document : context,
                                        {runOnly: {type: 'tag', values: tags}})""",
        [context, WCAG_TAGS],
    )
    assert result["testEngine"]["name"] == "axe-core"
    assert result["passes"], "axe-core checked nothing: wrong context?"
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """axe-core violations, readable in a pytest failure."""
    lines = [f"{len(violations)} axe-core violation(s):"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} [{', '.join(violation['tags'])}]"
        )
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"      {line}" for line in summary.splitlines())
    return "\n".join(lines)


def open_settings_layer(page: Page) -> None:
    details = page.locator("#consentkit-banner details")
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    expect(details.locator("fieldset")).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/fr"], ids=["en", "fr"])
@pytest.mark.parametrize("layer", ["first", "settings"])
def test_axe_finds_no_violation_in_the_banner(
    open_browsing: OpenBrowsing, axe_script: Path, path: str, layer: str
) -> None:
    browsing = open_browsing(**AXE_CONTEXT)
    browsing.goto(path)
    page = browsing.page
    expect(page.locator("#consentkit-banner")).to_be_visible()
    if layer == "settings":
        open_settings_layer(page)
    violations = run_axe(page, axe_script, "#consentkit-banner")
    assert violations == [], describe(violations)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_axe_finds_no_violation_on_the_settings_page(
    open_browsing: OpenBrowsing, axe_script: Path, lang: str
) -> None:
    browsing = open_browsing(**AXE_CONTEXT)
    browsing.goto(f"/_consent/settings?lang={lang}")
    page = browsing.page
    expect(page.locator("#consentkit-settings")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    violations = run_axe(page, axe_script, None)
    assert violations == [], describe(violations)


@pytest.mark.parametrize("path", ["/", "/fr"], ids=["en", "fr"])
def test_the_banner_reflows_at_320_css_pixels(open_browsing: OpenBrowsing, path: str) -> None:
    """WCAG 1.4.10: no horizontal scrolling at 320 px, and both choices fully on screen."""
    width, height = 320, 640
    browsing = open_browsing(viewport={"width": width, "height": height})
    browsing.goto(path)
    page = browsing.page
    banner = page.locator("#consentkit-banner")
    expect(banner).to_be_visible()

    def overflow() -> dict[str, Any]:
        return page.evaluate(
            """() => { const b = document.getElementById('consentkit-banner');
                       const r = b.getBoundingClientRect();
                       return {page: document.documentElement.scrollWidth,
                               banner: b.scrollWidth, bannerClient: b.clientWidth, bannerRight: r.right}; }"""
        )

    first = overflow()
    assert first["page"] <= width, f"horizontal scrolling at {width}px: {first}"
    assert first["banner"] <= first["bannerClient"] and first["bannerRight"] <= width, first
    for name in ("Accept", "Decline") if path == "/" else ("Accepter", "Refuser"):
        button = banner.get_by_role("button", name=name, exact=True)
        expect(button).to_be_in_viewport(ratio=1)
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (name, box)

    open_settings_layer(page)
    second = overflow()
    assert second["page"] <= width, f"horizontal scrolling with the settings layer open: {second}"
    assert second["banner"] <= second["bannerClient"] and second["bannerRight"] <= width, second


def test_every_banner_target_is_at_least_24_by_24(browsing: Browsing) -> None:
    """WCAG 2.5.8, with its one exception handled explicitly: a link inline in a sentence."""
    browsing.goto("/")
    page = browsing.page
    open_settings_layer(page)  # so that the checkboxes are rendered and measurable
    targets = page.evaluate(
        """() => Array.from(document.querySelectorAll(
                 '#consentkit-banner a[href], #consentkit-banner button, #consentkit-banner summary, ' +
                 '#consentkit-banner input[type=checkbox]'))
             .map(el => { const r = el.getBoundingClientRect();
                          return {html: el.outerHTML.slice(0, 100), tag: el.tagName.toLowerCase(),
                                  width: r.width, height: r.height,
                                  display: getComputedStyle(el).display,
                                  inSentence: el.parentElement.id === 'ck-body'}; })"""
    )
    kinds = sorted({t["tag"] for t in targets})
    assert kinds == ["a", "button", "input", "summary"], targets

    inline = [t for t in targets if t["inSentence"]]
    # The privacy-policy link in the banner text is the one target allowed to be small: it is a
    # link inline in a sentence (the "Inline" exception of SC 2.5.8), and it is inline indeed.
    assert len(inline) == 1 and inline[0]["tag"] == "a" and inline[0]["display"] == "inline", inline

    small = [
        t for t in targets if not t["inSentence"] and (t["width"] < MIN_TARGET or t["height"] < MIN_TARGET)
    ]
    assert small == [], "targets smaller than 24x24 px:\n" + "\n".join(
        f"  {t['width']:.1f}x{t['height']:.1f} {t['html']}" for t in small
    )


def test_the_axe_check_catches_a_broken_banner(open_browsing: OpenBrowsing, axe_script: Path) -> None:
    """The harness itself: a nameless, low-contrast button in the banner must be reported."""
    browsing = open_browsing(**AXE_CONTEXT)  # the demo's CSP refuses axe's inline script tag
    browsing.goto("/")
    page = browsing.page
    page.locator("#consentkit-banner button[value=accept_all]").evaluate(
        "el => { el.textContent = ''; el.style.color = '#ccc'; el.style.background = '#fff'; }"
    )
    page.locator("#consentkit-banner button[value=reject_all]").evaluate(
        "el => { el.style.color = '#ccc'; el.style.background = '#fff'; }"
    )
    violations = run_axe(page, axe_script, "#consentkit-banner")
    assert {v["id"] for v in violations} >= {"button-name", "color-contrast"}, describe(violations)
    assert "button-name" in describe(violations) and 'value="accept_all"' in describe(violations)
