"""``consentkit scan --browser``: run-time requests and cookies, recorded in Chromium with nothing leaving."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from consentkit.cli import main

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]


def test_scan_in_the_browser_adds_what_scripts_do_at_run_time(
    chromium_executable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CONSENTKIT_CHROMIUM", chromium_executable)
    static_out = io.StringIO()
    assert main(["scan", "tests.fixtures.scan_site:app", "--json"], static_out) == 1
    static = json.loads(static_out.getvalue())
    out = io.StringIO()
    status = main(["scan", "tests.fixtures.scan_site:app", "--json", "--browser"], out)
    assert status == 1
    report = json.loads(out.getvalue())
    runtime_host = "collector.runtime-unknown.example"
    # only a script running after Accept reaches these: the markup names neither
    assert runtime_host not in static["hosts"] and "_runtime_id" not in static["cookies"]
    about = next(url for url in report["pages"] if url.endswith("/about"))
    assert report["undeclared"]["hosts"][runtime_host] == [about]
    assert about in report["undeclared"]["cookies"]["_runtime_id"]
    assert "collector-runtime-unknown-example" in report["proposals"]
    # tags loaded in the browser are recorded too (answered by the local stub, never fetched)
    assert "static.hotjar.com" in report["hosts"]
