"""``consentkit scan``: crawl a site after Accept, report what its policy does not declare."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
import yaml

from consentkit import parse_policy
from consentkit.cli import main

REPO = Path(__file__).resolve().parents[1]
DEMO_POLICY = REPO / "examples" / "release_page" / "consent.yaml"
SITE = "tests.fixtures.scan_site:app"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out)
    return status, out.getvalue()


@pytest.fixture(autouse=True)
def _in_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # TARGET module paths are imported from the current folder


def test_the_fixture_site_reports_undeclared_hosts_and_cookies_per_page() -> None:
    status, out = run("scan", SITE, "--json")
    assert status == 1
    report = json.loads(out)
    pages = [url.removeprefix("http://localhost") for url in report["pages"]]
    # breadth-first, same-site only, query kept, fragment dropped, mailto and other sites ignored
    assert pages == ["/", "/video", "/shop?item=1", "/about", "/about/team"]
    per_page = {url.removeprefix("http://localhost"): found for url, found in report["per_page"].items()}
    assert per_page["/"]["hosts"] == ["fonts.googleapis.com", "static.hotjar.com"]
    assert per_page["/video"]["hosts"] == ["fonts.googleapis.com", "www.youtube.com"]
    assert per_page["/shop?item=1"] == {
        "hosts": ["cdn.imagehost-unknown.example", "fonts.googleapis.com", "pixel.adnetwork-unknown.example"],
        "cookies": ["_hjSessionUser_42", "cart_session"],
    }
    # declared: Google Analytics (a catalog name in the policy), _count, consentkit's own cookies
    assert "www.googletagmanager.com" in report["hosts"]
    assert "www.googletagmanager.com" not in report["undeclared"]["hosts"]
    assert {"_count", "consentkit", "consentkit_saved"} <= set(report["cookies"])
    assert set(report["undeclared"]["cookies"]) == {"_hjSessionUser_42", "cart_session"}


def test_the_proposal_uses_catalog_names_and_makes_the_site_clean(tmp_path: Path) -> None:
    status, out = run("scan", SITE, "--json")
    proposals = json.loads(out)["proposals"]
    assert {"hotjar", "youtube", "google-fonts"} <= set(proposals)
    assert proposals["hotjar"] == {}  # the cookie _hjSessionUser_42 is the catalog's Hotjar too
    assert proposals["site-cookies"] == {"category": "necessary", "cookies": ["cart_session"]}
    assert proposals["pixel-adnetwork-unknown-example"]["hosts"] == ["pixel.adnetwork-unknown.example"]

    # Pasting the proposal into the policy declares everything: scanning again is clean.
    policy = yaml.safe_load((REPO / "tests/fixtures/scan_site/consent.yaml").read_text(encoding="utf-8"))
    proposed = yaml.safe_load(json.loads(out)["proposal_yaml"])
    policy["services"].update(proposed["services"])
    fixed = tmp_path / "consent.yaml"
    fixed.write_text(yaml.safe_dump(policy), encoding="utf-8")
    parse_policy(fixed.read_text(encoding="utf-8"))
    status, out = run("scan", SITE, "--policy", str(fixed))
    assert status == 0, out
    assert "Everything found is declared in the policy." in out


def test_the_text_report_lists_pages_and_the_yaml_to_add() -> None:
    status, out = run("scan", SITE)
    assert status == 1
    assert "Scanned 5 page(s) of http://localhost (after Accept)" in out
    assert "http://localhost/shop?item=1\n  undeclared host:   cdn.imagehost-unknown.example" in out
    assert "  undeclared cookie: cart_session" in out
    assert "services:\n" in out and "  hotjar: {}  # Hotjar (analytics)" in out


def test_a_factory_target_is_called() -> None:
    status, out = run("scan", "tests.fixtures.scan_site:create", "--factory", "--json", "--max-pages", "1")
    assert status == 1 and len(json.loads(out)["pages"]) == 1


def test_max_pages_bounds_the_crawl() -> None:
    status, out = run("scan", SITE, "--json", "--max-pages", "2")
    assert [u.removeprefix("http://localhost") for u in json.loads(out)["pages"]] == ["/", "/video"]
    assert status == 1


def test_a_site_without_consentkit_needs_a_policy(capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run("scan", "tests.fixtures.scan_site:bare")
    assert status == 2
    assert "--policy" in capsys.readouterr().err
    status, out = run(
        "scan", "tests.fixtures.scan_site:bare", "--policy", "tests/fixtures/scan_site/consent.yaml", "--json"
    )
    assert status == 1
    assert "no consent banner found" not in out  # --json has no prose
    assert set(json.loads(out)["undeclared"]["cookies"]) == {"_hjSessionUser_42", "cart_session"}


def test_a_bad_target_is_a_clear_error() -> None:
    with pytest.raises(SystemExit, match=re.escape("cannot load tests.fixtures.nothing_here:app")):
        run("scan", "tests.fixtures.nothing_here:app")
    with pytest.raises(SystemExit, match="neither an http:// URL nor module:app"):
        run("scan", "scan_site")


# --- the demo with one service removed from its policy ------------------------------------------


def _demo_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, removed: str = "") -> str:
    text = DEMO_POLICY.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.split("#")[0].strip() != f"{removed}: {{}}"]
    if removed:
        assert len(lines) == len(text.splitlines()) - 1, f"{removed} is not a one-line catalog entry"
    (tmp_path / "demo_policy.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    module = f"demo_without_{removed.replace('-', '_') or 'nothing'}"
    (tmp_path / f"{module}.py").write_text(
        "from pathlib import Path\nfrom consentkit.cli import demo_app\n"
        "HERE = Path(__file__).parent\n"
        "app, _, _ = demo_app(str(HERE / 'demo_policy.yaml'), audit=str(HERE / 'audit.jsonl'))\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return module


@pytest.mark.parametrize("removed", ["meta-pixel", "google-analytics"])
def test_the_demo_with_one_service_removed_reports_exactly_that_service(
    removed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _demo_module(tmp_path, monkeypatch, removed)
    status, out = run("scan", f"{module}:app", "--json")
    assert status == 1
    report = json.loads(out)
    assert set(report["proposals"]) == {removed}
    assert len(report["pages"]) == 4  # the release and privacy pages, in English and French


def test_the_demo_as_shipped_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    status, out = run("scan", f"{_demo_module(tmp_path, monkeypatch)}:app")
    assert status == 0, out
    assert "Scanned 4 page(s)" in out


# --- a running server, by URL --------------------------------------------------------------------


@pytest.fixture
def served_site() -> Iterator[str]:
    sys.path.insert(0, str(REPO))
    from tests.fixtures.scan_site import app

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the fixture site did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_a_url_on_loopback_is_crawled_over_http(served_site: str) -> None:
    status, out = run("scan", served_site, "--policy", "tests/fixtures/scan_site/consent.yaml", "--json")
    assert status == 1
    report = json.loads(out)
    assert len(report["pages"]) == 5
    assert {"hotjar", "youtube", "google-fonts"} <= set(report["proposals"])
