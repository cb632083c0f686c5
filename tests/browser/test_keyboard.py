"""The banner with the keyboard only: skip link, Tab/Shift+Tab, Enter, and Escape on the settings layer."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Browsing

pytestmark = pytest.mark.browser

MAX_TABS = 8


def tab_until(page: Page, target: Locator, key: str = "Tab") -> int:
    """Press ``key`` until ``target`` has focus; how many presses that took (fails after MAX_TABS)."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press(key)
        if target.evaluate("el => el === document.activeElement"):
            return presses
    focused = page.evaluate("document.activeElement && document.activeElement.outerHTML.slice(0, 120)")
    pytest.fail(f"{key} x{MAX_TABS} did not reach {target}; focus is on {focused}")


def enter_banner_with_the_skip_link(browsing: Browsing) -> None:
    """First Tab of the page lands on the (then visible) skip link; Enter moves on to the banner."""
    page = browsing.page
    skip = page.locator("a.ck-skip")
    expect(skip).not_to_be_in_viewport()  # hidden until focused
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to cookie consent")
    expect(skip).to_be_in_viewport(ratio=1)
    box = skip.bounding_box()
    assert box is not None and box["width"] > 40 and box["height"] >= 24, box
    page.keyboard.press("Enter")
    page.wait_for_url("**/#consentkit-banner")


def test_keyboard_reaches_both_choices_and_enter_declines(browsing: Browsing) -> None:
    page = browsing.page
    browsing.goto("/")
    enter_banner_with_the_skip_link(browsing)
    banner = page.locator("#consentkit-banner")
    accept = banner.get_by_role("button", name="Accept", exact=True)
    decline = banner.get_by_role("button", name="Decline", exact=True)

    assert tab_until(page, accept) <= 2  # at most the privacy-policy link in the text comes first
    outline = accept.evaluate("el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]")
    assert outline[0] != "none" and float(outline[1].removesuffix("px")) >= 2, outline  # focus is visible
    assert tab_until(page, decline) == 1
    assert tab_until(page, accept, "Shift+Tab") == 1
    assert tab_until(page, decline) == 1
    expect(decline).to_be_focused()

    browsing.submit(lambda: page.keyboard.press("Enter"))
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    records = browsing.server.audit_records()
    assert [(r["event"], r["method"]) for r in records] == [("refused", "reject_all")]


def test_escape_closes_the_settings_layer_without_deciding(browsing: Browsing) -> None:
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    enter_banner_with_the_skip_link(browsing)
    banner = page.locator("#consentkit-banner")
    details = banner.locator("details")
    summary = details.locator("summary")
    expect(summary).to_have_text("Manage choices")

    tab_until(page, summary)
    page.keyboard.press("Enter")
    expect(details).to_have_attribute("open", "")
    analytics = banner.get_by_role("checkbox", name="Analytics")
    expect(analytics).to_be_visible()
    assert tab_until(page, analytics) == 1  # into the layer: the first choice that can change

    page.keyboard.press("Escape")
    expect(details).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()
    expect(analytics).to_be_hidden()
    expect(banner).to_be_visible()
    assert browsing.server.audit_text() == ""
    assert not any(u.endswith("/_consent") for u in browsing.traffic.all_urls)
    assert {c["name"] for c in browsing.context.cookies()} == set()


# The focused element's markup when no part of it on screen lies outside the banner; else null.
ENTIRELY_HIDDEN = """() => {
    const el = document.activeElement;
    const banner = document.getElementById('consentkit-banner');
    if (!el || el === document.body || !banner || banner.contains(el)) return null;
    const b = banner.getBoundingClientRect();
    for (const r of el.getClientRects()) {
        const x1 = Math.max(r.left, 0), y1 = Math.max(r.top, 0);
        const x2 = Math.min(r.right, innerWidth), y2 = Math.min(r.bottom, innerHeight);
        if (x2 - x1 < 1 || y2 - y1 < 1) continue;
        if (!(x1 >= b.left && x2 <= b.right && y1 >= b.top && y2 <= b.bottom)) return null;
    }
    return el.outerHTML.slice(0, 90).replace(/\\s+/g, ' ');
}"""


def test_focus_is_never_entirely_hidden_behind_the_banner(browsing: Browsing) -> None:
    """Tab through the whole page with the banner up: each focused element stays at least partly visible."""
    page = browsing.page
    browsing.goto("/")
    accept = page.locator("#consentkit-banner").get_by_role("button", name="Accept", exact=True)
    hidden: list[str] = []
    for _ in range(200):
        page.keyboard.press("Tab")
        if accept.evaluate("el => el === document.activeElement"):
            break
        found = page.evaluate(ENTIRELY_HIDDEN)
        if found:
            hidden.append(found)
    else:
        pytest.fail("200 presses of Tab never reached the banner's Accept button")
    assert hidden == [], f"{len(hidden)} focused elements entirely hidden behind the banner:\n" + "\n".join(
        f"  {h}" for h in hidden
    )
