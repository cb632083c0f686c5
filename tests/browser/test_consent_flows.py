"""The demo in a real Chromium: first visit, Decline, Accept, languages, no JavaScript, withdrawal, GPC."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, expect

from .conftest import (
    GTM_HOST,
    META_PIXEL_HOST,
    META_SCRIPT_HOST,
    VIEWPORT,
    Browsing,
    OpenBrowsing,
    is_collect_post,
)

pytestmark = pytest.mark.browser


def box_in_viewport(
    locator: Locator, width: int = VIEWPORT["width"], height: int = VIEWPORT["height"]
) -> dict:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    assert box["x"] >= 0 and box["y"] >= 0, f"{locator} starts outside the viewport: {box}"
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (
        f"{locator} ends outside the {width}x{height} viewport: {box}"
    )
    return box


def assert_on_top(browsing: Browsing, locator: Locator) -> None:
    """Nothing covers the control: the element at its centre is the control itself."""
    covered = locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                   return top === el || el.contains(top) ? null : (top ? top.outerHTML.slice(0, 120) : 'nothing'); }"""
    )
    assert covered is None, f"{locator} is covered by {covered}"


def last_event(browsing: Browsing) -> dict:
    records = browsing.server.audit_records()
    assert records, "no decision was recorded in the audit file"
    return records[-1]


def assert_audit_verifies(browsing: Browsing, records: int) -> None:
    result = browsing.server.verify_audit()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK, {records} records" in result.stdout, result.stdout


# --- 1. first visit ------------------------------------------------------------------------------


def test_first_visit_shows_an_even_choice_and_tracks_nothing(browsing: Browsing) -> None:
    browsing.goto("/")
    browsing.settle()
    page = browsing.page
    banner = page.locator("#consentkit-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("lang", "en")
    assert page.evaluate("window.scrollY") == 0

    accept = banner.get_by_role("button", name="Accept", exact=True)
    decline = banner.get_by_role("button", name="Decline", exact=True)
    expect(accept).to_be_visible()
    expect(decline).to_be_visible()
    accept_box = box_in_viewport(accept)
    decline_box = box_in_viewport(decline)
    assert abs(accept_box["width"] - decline_box["width"]) <= 1, (accept_box, decline_box)
    assert abs(accept_box["height"] - decline_box["height"]) <= 1, (accept_box, decline_box)
    assert_on_top(browsing, accept)
    assert_on_top(browsing, decline)

    browsing.assert_nothing_tracked()
    browsing.assert_no_page_errors()
    assert browsing.server.audit_records() == []


# --- 2. Decline ----------------------------------------------------------------------------------


def test_decline_reloads_without_banner_and_nothing_is_ever_tracked(browsing: Browsing) -> None:
    browsing.goto("/")
    browsing.decide("Decline")
    page = browsing.page
    assert page.url == browsing.server.url("/")
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    expect(page.locator("p.ck-manage a")).to_be_visible()

    page.reload(wait_until="load")
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    browsing.assert_nothing_tracked()

    assert len(browsing.server.audit_text().splitlines()) == 1
    records = browsing.server.audit_records()
    assert records[0]["event"] == "refused"
    assert records[0]["method"] == "reject_all"
    assert records[0]["choices"] == {"necessary": True, "analytics": False, "marketing": False}
    assert_audit_verifies(browsing, 1)


# --- 3. Accept -----------------------------------------------------------------------------------


def test_accept_loads_the_tags_with_consent_mode_first(browsing: Browsing) -> None:
    browsing.goto("/")
    page = browsing.page
    with page.expect_response(is_collect_post) as collected:
        browsing.decide("Accept")
    assert collected.value.status == 204
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)

    traffic = browsing.traffic
    assert traffic.to_host(GTM_HOST, "/gtag/js"), traffic.external
    assert traffic.to_host(META_SCRIPT_HOST, "/en_US/fbevents.js"), traffic.external
    assert browsing.server.hits() >= 1
    assert "_demo_analytics" in browsing.cookie_names()

    # The Consent Mode default is requested before gtag.js, sits before it in the document and had
    # reached the dataLayer when gtag.js ran.
    urls = traffic.all_urls
    consent_mode = next(i for i, u in enumerate(urls) if "/_consent/consent-mode.js" in u)
    gtag = next(i for i, u in enumerate(urls) if "googletagmanager.com/gtag/js" in u)
    assert consent_mode < gtag, urls
    assert page.evaluate(
        """() => { const cm = document.querySelector('script[src*="/_consent/consent-mode.js"]');
                   const gt = document.querySelector('script[src*="googletagmanager.com/gtag/js"]');
                   return !!(cm && gt && (cm.compareDocumentPosition(gt) & Node.DOCUMENT_POSITION_FOLLOWING)); }"""
    )
    assert page.evaluate("window.__ckGtagRan === true && window.__ckGtagSawConsentDefault === true")
    defaults = page.evaluate(
        """() => { const d = Array.from(window.dataLayer || []).find(a => a[0] === 'consent' && a[1] === 'default');
                   return d ? d[2] : null; }"""
    )
    assert defaults is not None
    assert defaults["analytics_storage"] == "granted" and defaults["ad_storage"] == "granted", defaults

    browsing.assert_no_page_errors()
    records = browsing.server.audit_records()
    assert [r["event"] for r in records] == ["given"]
    assert records[0]["choices"] == {"necessary": True, "analytics": True, "marketing": True}


# --- 4. languages --------------------------------------------------------------------------------


def test_a_decision_on_the_french_page_holds_in_english(open_browsing: OpenBrowsing) -> None:
    browsing = open_browsing()
    page = browsing.page
    browsing.goto("/fr")
    banner = page.locator("#consentkit-banner")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(banner).to_have_attribute("lang", "fr")
    expect(banner).to_contain_text("Human Rights Watch respecte votre vie privée")
    expect(banner.get_by_role("button", name="Accepter", exact=True)).to_be_visible()
    expect(banner.get_by_role("button", name="Refuser", exact=True)).to_be_visible()

    browsing.decide("Refuser")
    assert page.url == browsing.server.url("/fr")
    expect(banner).to_have_count(0)
    expect(page.locator("p.ck-manage a")).to_have_text("Paramètres des cookies")

    with page.expect_navigation(wait_until="load"):
        page.locator("nav.lang-switch").get_by_role("link", name="English").click()
    assert page.url == browsing.server.url("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    expect(page.locator("p.ck-manage a")).to_have_text("Cookie settings")
    browsing.settle()
    browsing.assert_nothing_tracked()
    assert [(r["event"], r["language"]) for r in browsing.server.audit_records()] == [("refused", "fr")]


def test_a_decision_on_the_english_page_holds_in_french(open_browsing: OpenBrowsing) -> None:
    browsing = open_browsing()
    page = browsing.page
    browsing.goto("/")
    expect(page.locator("#consentkit-banner")).to_have_attribute("lang", "en")
    browsing.decide("Decline")

    with page.expect_navigation(wait_until="load"):
        page.locator("nav.lang-switch").get_by_role("link", name="Français").click()
    assert page.url == browsing.server.url("/fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    expect(page.locator("p.ck-manage a")).to_have_text("Paramètres des cookies")
    browsing.settle()
    browsing.assert_nothing_tracked()
    assert [(r["event"], r["language"]) for r in browsing.server.audit_records()] == [("refused", "en")]


# --- 5. JavaScript disabled ----------------------------------------------------------------------


def test_without_javascript_decline_works_and_the_noscript_pixel_never_loads(
    open_browsing: OpenBrowsing,
) -> None:
    browsing = open_browsing(java_script_enabled=False)
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_be_visible()
    assert browsing.traffic.to_host(META_PIXEL_HOST, "/tr") == []
    browsing.assert_nothing_tracked()

    browsing.decide("Decline")
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    page.reload(wait_until="load")
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    assert browsing.traffic.to_host(META_PIXEL_HOST, "/tr") == []
    browsing.assert_nothing_tracked()
    assert [r["event"] for r in browsing.server.audit_records()] == ["refused"]


def test_without_javascript_accept_works_and_brings_the_noscript_pixel(open_browsing: OpenBrowsing) -> None:
    browsing = open_browsing(java_script_enabled=False)
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    assert browsing.traffic.to_host(META_PIXEL_HOST, "/tr") == []
    browsing.assert_nothing_tracked()

    with page.expect_request(lambda r: r.url.startswith(f"https://{META_PIXEL_HOST}/tr")):
        browsing.decide("Accept")
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    pixel = browsing.traffic.to_host(META_PIXEL_HOST, "/tr")
    assert [(p.method, p.resource_type) for p in pixel] == [("GET", "image")], pixel
    assert [r["event"] for r in browsing.server.audit_records()] == ["given"]


# --- 7. settings and withdrawal ------------------------------------------------------------------


def test_withdrawal_from_the_settings_page_removes_the_tracker_cookies(browsing: Browsing) -> None:
    page = browsing.page
    browsing.goto("/")
    with page.expect_response(is_collect_post):
        browsing.decide("Accept")
    browsing.settle()
    assert {"_demo_analytics", "_ga", "_ga_ABC123", "_fbp"} <= browsing.cookie_names()
    hits = browsing.server.hits()
    assert hits >= 1

    control = page.locator("p.ck-manage a")
    expect(control).to_be_visible()
    expect(control).to_have_text("Cookie settings")
    with page.expect_navigation(wait_until="load"):
        control.click()
    assert page.url.startswith(browsing.server.url("/_consent/settings"))
    settings = page.locator("#consentkit-settings")
    expect(settings.get_by_role("checkbox", name="Analytics", exact=True)).to_be_checked()

    browsing.traffic.clear()
    browsing.decide("Decline", within="#consentkit-settings")
    assert page.url == browsing.server.url("/")
    browsing.settle()
    expect(page.locator("#consentkit-banner")).to_have_count(0)
    expect(page.locator("p.ck-status")).to_have_text("Your choices have been saved.")

    assert browsing.tracker_cookies() == set(), browsing.context.cookies()
    assert browsing.traffic.trackers() == []
    assert browsing.server.hits() == hits
    browsing.assert_no_page_errors()  # the settings page's strict CSP included
    records = browsing.server.audit_records()
    assert [r["event"] for r in records] == ["given", "withdrawn"]
    assert records[-1]["choices"] == {"necessary": True, "analytics": False, "marketing": False}
    assert_audit_verifies(browsing, 2)


# --- 8. Global Privacy Control -------------------------------------------------------------------


def test_global_privacy_control_keeps_the_meta_pixel_out_even_after_accept(
    open_browsing: OpenBrowsing,
) -> None:
    browsing = open_browsing(extra_http_headers={"Sec-GPC": "1"})
    page = browsing.page
    browsing.goto("/")
    browsing.settle()
    banner = page.locator("#consentkit-banner")
    expect(banner.locator(".ck-gpc")).to_have_text("Opt-out request honored")
    browsing.assert_nothing_tracked()

    with page.expect_request(lambda r: "googletagmanager.com/gtag/js" in r.url):
        browsing.decide("Accept")
    browsing.settle()
    traffic = browsing.traffic
    assert traffic.to_host(GTM_HOST, "/gtag/js")
    assert traffic.to_host(META_SCRIPT_HOST) == [], traffic.external
    assert traffic.to_host(META_PIXEL_HOST) == [], traffic.external
    assert "_fbp" not in browsing.cookie_names()
    assert page.evaluate("window.fbq === undefined && window.__ckFbeventsRan === undefined")
    records = browsing.server.audit_records()
    assert records[-1]["choices"]["marketing"] is False
    assert records[-1]["choices"]["analytics"] is True
