"""What a first-time visitor sees, kept as a test artifact (and, on request, as the docs screenshot)."""

from __future__ import annotations

import os
import struct

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, REPO, VIEWPORT, Browsing

pytestmark = pytest.mark.browser

DOCS_SCREENSHOT = REPO / "docs" / "demo-screenshot.png"
MAX_DOCS_BYTES = 250 * 1024


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_first_visit_screenshot(browsing: Browsing) -> None:
    browsing.goto("/")
    browsing.settle()
    page = browsing.page
    expect(page.locator("#consentkit-banner")).to_be_visible()
    # Web fonts and images are in by "load"; wait for the fonts explicitly all the same.
    page.evaluate("document.fonts.ready.then(() => true)")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    artifact = ARTIFACTS / "first-visit.png"
    data = page.screenshot(path=str(artifact), type="png")
    assert png_size(data) == (VIEWPORT["width"], VIEWPORT["height"])
    assert artifact.stat().st_size > 0

    if os.environ.get("CONSENTKIT_UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=str(DOCS_SCREENSHOT), type="png")
        docs = DOCS_SCREENSHOT.read_bytes()
        assert png_size(docs) == (VIEWPORT["width"], VIEWPORT["height"])
        assert len(docs) < MAX_DOCS_BYTES, f"{DOCS_SCREENSHOT} is {len(docs)} bytes, over {MAX_DOCS_BYTES}"
