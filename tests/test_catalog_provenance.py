"""Issue #15: every catalog fact says where it comes from and whether anyone checked it there.

A source with a ``checked`` date was read and compared with the entry on that day, for the facts
it ``covers``; a reference nobody read carries a ``note`` instead. These tests hold the catalog
files to that rule and check that ``consentkit services`` tells a reader what is verified.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from importlib.resources import files

import pytest
import yaml

from consentkit.catalog import DATASETS, catalog
from consentkit.cli import main
from consentkit.schema import CATALOG_FACTS

NAMES = sorted(catalog())


def raw(name: str) -> dict[str, object]:
    text = files("consentkit").joinpath("catalog", f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_has_a_source_that_was_really_checked(name: str) -> None:
    entry = catalog()[name]
    checked = [s for s in entry.sources if s.verified]
    assert checked, f"{name}: no source marked checked"
    assert all(s.covers for s in checked), f"{name}: a checked source must say which facts it covers"
    # What a checked source vouches for is a fact the entry states.
    for source in checked:
        assert set(source.covers) <= set(entry.facts()), (name, source.url, source.covers)


@pytest.mark.parametrize("name", NAMES)
def test_every_source_is_either_checked_on_a_real_date_or_says_it_was_not(name: str) -> None:
    today = dt.date(2026, 12, 1)
    for source in raw(name)["sources"]:  # type: ignore[union-attr]
        assert isinstance(source, dict)
        assert re.fullmatch(r"https://\S+", source["url"]), source
        if "checked" in source:
            day = dt.date.fromisoformat(source["checked"])  # a real calendar date, ISO 8601
            assert dt.date(2020, 1, 1) <= day <= today, (name, source)
            assert set(source["covers"]) <= set(CATALOG_FACTS)
        else:
            assert source.get("note"), f"{name}: {source['url']} is neither checked nor marked as unread"
            assert "covers" not in source, f"{name}: an unread page cannot cover facts"


@pytest.mark.parametrize("name", NAMES)
def test_narrowed_sources_name_only_what_the_entry_holds(name: str) -> None:
    entry = catalog()[name]
    for source in entry.sources:
        narrowed = {
            "hosts": source.hosts,
            "inline": source.inline,
            "cookies": source.cookies,
            "vendor": source.vendor,
        }
        for fact, shown in narrowed.items():
            if shown is not None:
                assert fact in source.covers, (name, source.url, fact)
                items = [c["name"] if isinstance(c, dict) else c for c in entry.data.get(fact, ())]
                assert set(shown) <= set(items), (name, source.url, fact, shown)


def test_dataset_sources_name_a_recorded_snapshot_and_licence() -> None:
    ocd = DATASETS["Open Cookie Database"]
    assert ocd["licence"] == "Apache-2.0"
    assert re.fullmatch(r"[0-9a-f]{40}", str(ocd["commit"]))
    for entry in catalog().values():
        for source in entry.sources:
            if source.dataset is not None:
                assert source.dataset in DATASETS, (entry.name, source.dataset)
                assert source.url == DATASETS[source.dataset]["url"]
                assert source.verified and source.covers == ("cookies",)


def test_a_cookie_only_the_dataset_vouches_for_has_the_datasets_duration() -> None:
    """Where the snapshot was the only check, the declaration must not contradict it: a fact
    the source disagrees with was taken from it (and the note says so)."""
    notes = {e.name: " ".join(s.note for s in e.sources if s.dataset) for e in catalog().values()}
    assert "_uetvid 13 months -> 16 days" in notes["microsoft-uet"]
    uet = {c["name"]: c["duration"] for c in catalog()["microsoft-uet"].data["cookies"]}
    assert uet["_uetvid"] == "16 days"


def test_ga4_does_not_declare_the_universal_analytics_gid_cookie() -> None:
    # GA4's own cookie page, read for this catalog, lists _ga and _ga_<container-id> only.
    names = {c["name"] for c in catalog()["google-analytics"].data["cookies"]}
    assert names == {"_ga", "_ga_*"}


def test_the_list_shows_for_each_entry_what_is_verified() -> None:
    status, out = run("services")
    assert status == 0
    lines = out.splitlines()
    words = {"checked": "verified", "partly checked": "partly", "unverified": "unverified"}
    for name, entry in catalog().items():
        row = next(i for i, line in enumerate(lines) if line.startswith(f"{name} "))
        shown: dict[str, str] = {}
        for group in lines[row + 1].strip().split("; "):
            word, _, facts = group.partition(": ")
            shown.update(dict.fromkeys(facts.split(", "), words[word]))
        assert shown == entry.verification(), name
    youtube = next(i for i, line in enumerate(lines) if line.startswith("youtube "))
    assert lines[youtube + 1].strip().endswith("unverified: inline, vendor")


def test_show_prints_each_source_as_checked_or_not() -> None:
    status, out = run("services", "show", "google-analytics")
    assert status == 0
    comments = [line for line in out.splitlines() if line.startswith("# source: ")]
    assert len(comments) == len(catalog()["google-analytics"].sources)
    assert any(
        "Open Cookie Database" in c and "at 0ee5a17fe1cb" in c and "checked 2026-12-01" in c for c in comments
    )
    assert any("not yet verified" in c for c in comments)
    assert "# facts: hosts partly, inline verified, cookies verified, vendor unverified" in out
    assert "# hosts no checked source shows: www.google-analytics.com" in out
    # The comments stay comments: the rest is still a policy fragment.
    assert "google-analytics" in yaml.safe_load(out)
