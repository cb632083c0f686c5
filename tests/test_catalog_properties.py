"""Properties of catalog merging and of the scanner's page reading, over generated input."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.catalog import catalog, merge_service
from consentkit.scan import crawl, host_matches

NAMES = sorted(catalog())
HOSTS = st.from_regex(r"[a-z]{1,8}\.(example|test)\.(com|org)", fullmatch=True)
COOKIES = st.from_regex(r"_[a-z]{1,6}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    hosts=st.lists(HOSTS, max_size=4, unique=True),
    cookies=st.lists(COOKIES, max_size=4, unique=True),
    durations=st.lists(st.sampled_from(["session", "1 day", "13 months"]), max_size=4),
)
def test_policy_lists_come_first_and_nothing_of_the_catalog_is_lost(
    name: str, hosts: list[str], cookies: list[str], durations: list[str]
) -> None:
    entry = catalog()[name].data
    own_cookies: list[object] = [
        {"name": c, "duration": d} if i < len(durations) else c
        for i, (c, d) in enumerate(zip(cookies, durations + [""] * len(cookies), strict=False))
    ]
    merged = merge_service(entry, {"hosts": hosts, "cookies": own_cookies})
    assert merged["hosts"][: len(hosts)] == hosts
    assert set(entry["hosts"]) <= set(merged["hosts"])
    merged_names = [c["name"] if isinstance(c, dict) else c for c in merged["cookies"]]
    assert merged_names[: len(cookies)] == cookies
    assert {c["name"] for c in entry["cookies"]} <= set(merged_names)
    assert len(merged_names) == len(set(merged_names))
    assert merged["vendor"] == entry["vendor"] and merged["inline"] == entry["inline"]
    assert catalog()[name].data is entry  # the catalog itself is never changed


@given(host=HOSTS, pattern=HOSTS)
def test_a_wildcard_matches_the_domain_and_its_subdomains_only(host: str, pattern: str) -> None:
    assert host_matches(host, host) and host_matches(host, "*." + host)
    assert host_matches("deep." + host, "*." + host) and not host_matches("deep." + host, host)
    assert host_matches(host, "*." + pattern) == (host == pattern or host.endswith("." + pattern))


TAGS = st.sampled_from(
    [
        '<script src="https://{h}/a.js"></script>',
        '<img srcset="https://{h}/a.png 1x, //{h}/b.png 2x" alt="">',
        '<iframe src="//{h}/embed" title="t"></iframe>',
        '<link rel="preconnect" href="https://{h}">',
        "<div style=\"background:url('https://{h}/bg.png')\">x</div>",
        "<script>var s='https://{h}/t.js';</script>",
        '<a href="https://{h}/page">a link is not a load</a>',
        "<p>{h} in plain text is not a load</p>",
    ]
)


@pytest.mark.anyio
@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.tuples(TAGS, HOSTS), max_size=8),
    junk=st.text(st.characters(blacklist_characters="<>&", blacklist_categories=("Cs",)), max_size=60),
)
async def test_the_scanner_records_exactly_the_hosts_tags_load(
    parts: list[tuple[str, str]], junk: str
) -> None:
    body = "".join(tag.format(h=host) for tag, host in parts)
    page = f"<!DOCTYPE html><html><head><title>t</title></head><body>{junk}{body}</body></html>"
    loads = {host for tag, host in parts if "a link" not in tag and "plain text" not in tag}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=page, headers={"content-type": "text/html"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = await crawl(client, "http://site.local/", max_pages=1)
    assert result.pages[0].hosts == loads


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
