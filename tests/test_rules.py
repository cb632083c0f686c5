"""The matching layer on its own (consentkit.rules): host lookup, the one-pass needle search and
the script classifier, each checked against a naive reference on generated input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit import parse_policy
from consentkit.rewrite import BlockPlan, Rule
from consentkit.rules import HostTable, NeedleSet

from .conftest import POLICY_YAML
from .test_inline_scripts import LARGE

A = Rule("analytics", "a")
B = Rule("marketing", "b")


def naive_host_rule(patterns: list[tuple[str, Rule]], host: str) -> Rule | None:
    """The definition: an exact host, or a glob's domain or any subdomain of it."""
    for pattern, rule in patterns:
        if not pattern.startswith("*.") and host == pattern:
            return rule
    for pattern, rule in patterns:
        suffix = pattern[2:]
        if pattern.startswith("*.") and (host == suffix or host.endswith("." + suffix)):
            return rule
    return None


labels = st.sampled_from(["a", "b", "ab", "cdn", "www", "x-y", "com", "net"])
hostnames = st.lists(labels, min_size=1, max_size=4).map(".".join)
patterns = st.lists(
    st.tuples(st.booleans(), hostnames, st.sampled_from([A, B])).map(
        lambda t: ("*." + t[1] if t[0] else t[1], t[2])
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(table=patterns, host=hostnames)
def test_host_table_matches_the_definition(table: list[tuple[str, Rule]], host: str) -> None:
    hosts = HostTable()
    for pattern, rule in table:
        hosts.add(pattern, rule)
    expected = naive_host_rule(table, host)
    found = hosts.get(host)
    assert (found is None) == (expected is None)


def test_globs_take_the_domain_and_every_subdomain_but_no_lookalike() -> None:
    hosts = HostTable()
    hosts.add("*.hotjar.com", A)
    hosts.add("www.facebook.com", B)
    assert hosts.get("hotjar.com") == A
    assert hosts.get("static.a.hotjar.com") == A
    assert hosts.get("nothotjar.com") is None
    assert hosts.get("hotjar.com.evil.example") is None
    assert hosts.get("www.facebook.com") == B
    assert hosts.get("facebook.com") is None
    assert hosts.get("m.www.facebook.com") is None


def test_policy_hosts_are_canonicalised_like_page_urls() -> None:
    hosts = HostTable()
    hosts.add("Bücher.Example", A)
    hosts.add("*.ＴＲＡＣＫＥＲ。example", B)
    assert hosts.get("xn--bcher-kva.example") == A
    assert hosts.get("cdn.tracker.example") == B


# --- one pass for every needle ----------------------------------------------------------------

marker_text = st.text(alphabet="abAB(._", min_size=3, max_size=6)
host_text = st.lists(st.sampled_from(["a", "b", "ab", "x-y"]), min_size=1, max_size=2).map(
    lambda labels: ".".join([*labels, "com"])
)


def mentions(data: bytes, host: str) -> list[int]:
    """Where ``host`` is written as a whole host name (or as the end of a longer one), any case."""
    pattern = rb"(?<![A-Za-z0-9-])" + re.escape(host.encode()) + rb"(?![A-Za-z0-9-])"
    return [m.start() for m in re.finditer(pattern, data, re.I)]


@settings(max_examples=500, deadline=None)
@given(
    markers=st.lists(marker_text, max_size=6),
    hosts=st.lists(host_text, max_size=6),
    haystack=st.lists(
        st.one_of(
            marker_text, host_text, host_text.map(str.upper), st.sampled_from([".", "-", "x", " ", "/"])
        )
    ).map("".join),
)
def test_one_pass_finds_what_a_search_per_needle_finds(
    markers: list[str], hosts: list[str], haystack: str
) -> None:
    needles = NeedleSet(((m.encode(), A) for m in markers), ((h.encode(), B) for h in hosts))
    data = haystack.encode()
    marker_at = {i for m in markers for i in range(len(data)) if data.startswith(m.encode(), i)}
    host_at = {i for h in hosts for i in mentions(data, h)}
    found = list(needles.finditer(data))
    if not (marker_at or host_at):
        assert found == []
    else:
        assert found, "a needle was missed"
        assert all((at in marker_at) if is_marker else (at in host_at) for at, _, is_marker in found)
        if marker_at:  # a marker is reported before the scan ends
            assert any(is_marker for _, _, is_marker in found)


def test_the_large_policy_is_searched_in_one_pattern() -> None:
    plan = BlockPlan.build(LARGE, ("analytics", "marketing", "media"))
    assert len(plan.inline) > 190  # every host and marker ...
    assert plan.inline_rule(b"var x = 'https://CDN.Taboola.com/x';") is not None  # ... found in one search
    assert plan.inline_rule(b"var x = 1;") is None


def test_url_rule_reads_entities_and_utf8_before_the_url() -> None:
    plan = BlockPlan.build(parse_policy(POLICY_YAML), ("analytics", "marketing"))
    assert plan.url_rule("https://ｗｗｗ．facebook．com/tr".encode()) is not None
    assert plan.url_rule(b"https://www&#46;facebook.com/tr") is not None
    assert plan.url_rule(b"/a.png 1x, https://www.facebook.com/b.png 2x", srcset=True) is not None
    assert plan.url_rule(b"/a.png 1x, /b.png 2x", srcset=True) is None


@settings(max_examples=300, deadline=None)
@given(
    hosts=st.lists(host_text, min_size=1, max_size=4),
    haystack=st.lists(st.one_of(host_text, st.sampled_from([".", "-", "x", "Q", " ", "%2F"]))).map("".join),
)
def test_loose_search_finds_hosts_as_plain_text_does(hosts: list[str], haystack: str) -> None:
    """For markup (srcdoc, SVG scripts): a host counts wherever it is written, as in a text search."""
    needles = NeedleSet((), ((h.encode(), B) for h in hosts))
    data = haystack.encode()
    expected = any(
        re.search(re.escape(h.encode()) + rb"(?![A-Za-z0-9-])", data, re.I) is not None for h in hosts
    )
    assert (needles.search(data, loose=True) is not None) == expected


SCRIPTS = [
    # (script, removed?)
    ('window.S={"style":"background:url(https://pbs.twimg.com/a.jpg)","u":"https://twitter.com/x"};', False),
    ('window.S={"html":"<img src=https://pbs.twimg.com/a.jpg>","links":["https://twitter.com/x"]};', False),
    (
        'window.S=JSON.parse("{\\"u\\":\\"https://twitter.com/x\\"}");'
        + "\n" * 600
        + 'var s=document.createElement("script");',
        False,
    ),
    (
        'var s=document.createElement("script");s.src="/app.js";\nwindow.S={"u":"https://twitter.com/x"};',
        False,
    ),
    ('el.style.background = "url(https://pbs.twimg.com/px.gif)";', True),
    ('var r=/["]/g; s.src="https://connect.facebook.net/x.js";', True),
    ('var u = "https://static.hotjar.com/c/x.js";', False),  # no sink: nothing is fetched
    (
        "var u = 'https://static.hotjar.com/c/x.js'; var s = document.createElement('script'); s.src = u;",
        True,
    ),
    (
        'var cfg = {"src": "https://connect.facebook.net/sdk.js"};\nvar s = document.createElement("script");',
        True,
    ),
    ("navigator.sendBeacon(['https://bat.bing.com/action/0'][0]);", True),
]


@pytest.mark.parametrize(("script", "removed"), SCRIPTS)
def test_scripts_are_judged_by_what_they_do(script: str, removed: bool) -> None:
    plan = BlockPlan.build(LARGE, ("analytics", "marketing", "media"))
    assert (plan.script_rule(script.encode()) is not None) == removed
