"""Per-service choices in Chromium, without JavaScript: the demo's analytics minus Google Analytics."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import GTM_HOST, OpenBrowsing

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_turning_google_analytics_off_keeps_the_sites_own_counter(
    open_browsing: OpenBrowsing, javascript: bool
) -> None:
    browsing = open_browsing(java_script_enabled=javascript)
    page = browsing.page
    browsing.goto("/_consent/settings?lang=en&next=/")
    settings = page.locator("#consentkit-settings")
    settings.get_by_role("checkbox", name="Analytics", exact=True).check()
    google = settings.get_by_role("checkbox", name="Google Analytics", exact=True)
    counter = settings.get_by_role("checkbox", name="Our own visit counter", exact=True)
    expect(google).to_be_checked()
    expect(counter).to_be_checked()
    google.uncheck()
    browsing.decide("Save choices", within="#consentkit-settings")
    browsing.settle()

    # The page after saving: Google's tag is gone, the first-party counter's script is there.
    assert browsing.traffic.to_host(GTM_HOST) == []
    assert GTM_HOST not in page.content()
    assert page.locator('script[src="/static/analytics.js"]').count() == 1
    record = browsing.server.audit_records()[-1]
    assert record["choices"]["analytics"] is True
    assert record["excluded_services"] == {"analytics": ["google-analytics"]}

    browsing.goto("/_consent/settings?lang=en")
    expect(settings.get_by_role("checkbox", name="Google Analytics", exact=True)).not_to_be_checked()
    expect(settings.get_by_role("checkbox", name="Our own visit counter", exact=True)).to_be_checked()
