"""The native scan (consentkit._scan) against its Python twin (consentkit._pyscan).

The twin is the rewriter's own regex path for the data state; the C scan must return the same
(position, kind) for every buffer and start position: over the fuzzer's generated and mutated
documents in random chunkings, over small raw byte strings at every start, with every
candidate set the rewriter uses (HTML and SVG/MathML, blocking or structure only, open frames
with odd names), with and without the data-consent search and the attribute filter.
Without the extension these tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentkit import _pyscan
from consentkit.scanner import URL_INERT_NAMES, URL_NEEDLES, URL_STOP_BYTES
from consentkit.stops import (
    BLOCKING_CANDIDATES,
    FILTERED_CANDIDATES,
    FOREIGN_CANDIDATES,
    FOREIGN_ENDS,
    HEAD_QUIET,
    STRUCTURE_CANDIDATES,
)
from consentkit.tokens import TAG

from .test_fuzz import EXAMPLES, PLAN, cuts, documents, mutated

try:
    from consentkit import _scan
except ImportError as exc:  # pragma: no cover - depends on the build
    if os.environ.get("CI") == "true":
        raise AssertionError(f"the C extension must be built in CI: {exc}") from exc
    pytest.skip(f"consentkit._scan is not built ({exc})", allow_module_level=True)

BASE_ENDS = (b"body", b"svg", b"math", b"select")
FOREIGN_14 = (
    b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript",
    b"plaintext", b"html", b"body", b"svg", b"math", b"select", b"font", b"foreignobject", b"desc", b"mi",
    b"mo", b"mn", b"ms", b"mtext", b"annotation-xml", b"image", b"use", b"feimage", b"set", b"animate",
    b"animatemotion", b"animatetransform", b"mpath", b"textpath", b"pattern", b"lineargradient",
    b"radialgradient", b"filter", b"tref", b"cursor", b"font-face-uri", b"mglyph", b"a", b"b", b"big",
    b"blockquote", b"br", b"center", b"code", b"dd", b"div", b"dl", b"dt", b"em", b"embed", b"h1",
)  # fmt: skip
NAME_SETS = [
    (BLOCKING_CANDIDATES, BASE_ENDS),
    (STRUCTURE_CANDIDATES, BASE_ENDS),
    (FILTERED_CANDIDATES, BASE_ENDS),  # the rewriter's with the URL filter
    # open frames add their element's name (any bytes a tag name may hold) to both sets
    ((*BLOCKING_CANDIDATES, b"div", b"my-widget"), (*BASE_ENDS, b"div", b"my-widget")),
    ((*BLOCKING_CANDIDATES, b"a<b", b"x\xc3\xa9"), (*BASE_ENDS, b"a<b", b"x\xc3\xa9", b"p")),
    # the #14 rewriter's foreign-content set (its ends are the same names plus p and br)
    (FOREIGN_14, (*FOREIGN_14, b"p", b"br")),
    None,  # every tag (the #14 rewriter's _ANY_TAG)
    # before the body: every start tag but the head's quiet ones (a frame's name is taken out)
    ("all_starts_but", HEAD_QUIET, (b"body", b"html", b"br", b"select")),
    ("all_starts_but", (b"head", b"meta"), (b"body", b"html", b"br", b"select", b"my-widget")),
    # in the body: inert inline SVGs and first-party scripts skipped whole
    ("islands", FILTERED_CANDIDATES, BASE_ENDS),
    ("islands", STRUCTURE_CANDIDATES, BASE_ENDS),
]
ANY_TAG_SET = NAME_SETS.index(None)
HOSTS = PLAN.hosts.names()
FILTERS = [
    None,
    ([h.encode() for h in HOSTS], b"&%\t\n\r" + bytes(range(0x80, 0x100))),
    ([h.encode() for h in HOSTS], b""),
    ([b"A", b"ab", b"Data", b"=", b"script"], b"'"),
    ([b"www.googletagmanager.com"], b":", (b"class", b"alt", b"xmlns:xlink")),
    (list(URL_NEEDLES), URL_STOP_BYTES, URL_INERT_NAMES),  # the rewriter's
]


SETTINGS = settings(
    max_examples=EXAMPLES // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Pair:
    """The same configuration, built once in each implementation."""

    def __init__(self, names: int, attention: int, tag_filter: int) -> None:
        entry = NAME_SETS[names]
        if entry is None:
            self.c = _scan.Candidates((), (), any_tag=True)
            self.py = _pyscan.Candidates((), (), any_tag=True)
        elif len(entry) == 2:
            self.c = _scan.Candidates(*entry)
            self.py = _pyscan.Candidates(*entry)
        elif entry[0] == "all_starts_but":
            self.c = _scan.Candidates(entry[1], entry[2], all_starts_but=True)
            self.py = _pyscan.Candidates(entry[1], entry[2], all_starts_but=True)
        else:
            inner = (FOREIGN_CANDIDATES, FOREIGN_ENDS)
            self.c = _scan.Candidates(
                entry[1], entry[2], islands=_scan.Candidates(*inner), quiet_scripts=True
            )
            self.py = _pyscan.Candidates(
                entry[1], entry[2], islands=_pyscan.Candidates(*inner), quiet_scripts=True
            )
        self.attention = attention
        spec = FILTERS[tag_filter]
        self.cf = None if spec is None else _scan.TagFilter(*spec)
        self.pyf = None if spec is None else _pyscan.TagFilter(*spec)

    def advance(self, buf: bytes, i: int) -> tuple[int, int]:
        lbuf = buf.lower()
        native = _scan.advance(buf, lbuf, i, self.c, self.attention, self.cf)
        python = _pyscan.advance(buf, lbuf, i, self.py, self.attention, self.pyf)
        assert native == python, f"at {i}: C {native} != Python {python} in {buf[max(0, i - 40) : i + 200]!r}"
        return native


configs = st.builds(
    Pair,
    names=st.integers(0, len(NAME_SETS) - 1),
    attention=st.sampled_from([_scan.NONE, _scan.DATA_CONSENT, _scan.NAMES, _scan.NAMES_FILTERED]),
    tag_filter=st.integers(0, len(FILTERS) - 1),
)


# The rewriter's body configuration with the C scan: filtered candidates, NAMES_FILTERED and the
# URL filter, without and with islands.
def rewriter_body(islands: bool) -> Pair:
    entry = ("islands", FILTERED_CANDIDATES, BASE_ENDS) if islands else (FILTERED_CANDIDATES, BASE_ENDS)
    return Pair(NAME_SETS.index(entry), _scan.NAMES_FILTERED, len(FILTERS) - 1)


def walk(pair: Pair, buf: bytes) -> int:
    """Advance through one buffer as the rewriter does; where the unread rest starts."""
    i = 0
    while True:
        p, kind = pair.advance(buf, i)
        if kind == _scan.END:
            return p
        if kind == _scan.DECL:
            i = p + 2
            continue
        tag = TAG.match(buf, p)
        if tag is None:  # incomplete: kept for the next chunk
            return p
        i = tag.end()


def every_stop(pair: Pair, buf: bytes) -> None:
    """Resume one byte after every stop, so that scans also start inside tags and values."""
    i = 0
    while i <= len(buf):
        p, kind = pair.advance(buf, i)
        if kind == _scan.END:
            return
        i = p + 1


def check_document(pair: Pair, document: bytes, chunking: list[int]) -> None:
    start = 0
    for cut in [*sorted({c % (len(document) + 1) for c in chunking}), len(document)]:
        if cut < start:
            continue
        buf = document[start:cut]
        start += walk(pair, buf)
        every_stop(pair, buf)


@SETTINGS
@given(pair=configs, document=documents, chunking=cuts)
def test_generated_documents(pair: Pair, document: bytes, chunking: list[int]) -> None:
    check_document(pair, document, chunking)


@SETTINGS
@given(pair=configs, document=mutated(), chunking=cuts)
def test_mutated_real_pages(pair: Pair, document: bytes, chunking: list[int]) -> None:
    check_document(pair, document, chunking)


@SETTINGS
@given(
    pair=configs,
    buf=st.lists(
        st.sampled_from(
            [b"<", b">", b"/", b"!", b"?", b"=", b'"', b"'", b" ", b"\t", b"\n", b"a", b"B", b"-",
             b"script", b"SVG", b"body", b"data-consent", b"<data-consent", b"DATA-Consent", b"googletagmanager.com",
             b"&", b"\xc3\xa9", b"div", b"a<b", b"my-widget", b"img", b"p", b"src", b"STYLE", b"ping=",
             b"http-equiv", b"data-lazy-src", b"data-x-URL", b"data-", b"background", b"annotation-xml",
             b"<svg", b"</svg>", b" xmlns='http://www.w3.org/2000/svg'", b"XMLNS:xlink=", b"<path d='M1'/>",
             b"<meta", b"<head>", b"<title>", b"//", b":"]
        ),
        max_size=30,
    ).map(b"".join),
)  # fmt: skip
def test_raw_bytes_from_every_position(pair: Pair, buf: bytes) -> None:
    for i in range(len(buf) + 1):
        pair.advance(buf, i)


@pytest.mark.parametrize("index", range(len(FILTERS) - 1))
@given(value=st.binary(max_size=40) | st.sampled_from([b"https://WWW.GoogleTagManager.com/x", b"x&amp;y"]))
def test_filter_hits_agree(index: int, value: bytes) -> None:
    spec = FILTERS[index + 1]
    assert spec is not None
    assert _scan.TagFilter(*spec).hits(value) == _pyscan.TagFilter(*spec).hits(value)


def test_the_filter_stops_only_at_start_tags_whose_values_match() -> None:
    pair = Pair(0, attention=_scan.NONE, tag_filter=1)
    assert pair.advance(b"<a href='https://WWW.GOOGLETAGMANAGER.COM/x'>", 0) == (0, _scan.TAG)
    assert pair.advance(b"<frame src=//stats.example.org/x>", 0) == (0, _scan.TAG)
    assert pair.advance(b"<a href=/x?a=1&amp;b=2>", 0) == (0, _scan.TAG)  # "&": a possible reference
    assert pair.advance(b"<a href=https://example.org/>x</a>", 0) == (34, _scan.END)
    assert pair.advance(b"googletagmanager.com <a x>", 0) == (26, _scan.END)  # text is not a value
    assert pair.advance(b"</a href=googletagmanager.com>", 0) == (30, _scan.END)  # nor are end tags
    assert pair.advance(b"<a googletagmanager.com>", 0) == (24, _scan.END)  # a name, not a value


@pytest.mark.parametrize(
    ("buf", "stop"),
    [
        (b"<p class='md:flex' ALT='Photo: x' title=a:b aria-label='c: d'>", False),
        (b"<meta property=og:image content='https://www.googletagmanager.com/x.png'>", False),
        (b"<time datetime='2026-12-01T08:00'>", False),
        (b"<p title=x data-x='a:b'>", True),  # not exempt: looked at
        (b"<param name=movie value='//stats.example.org/x.swf'>", True),
        (b"<img alt=x src=https://cdn.example/a.png>", True),
        (b"<img alt=x src=/a.png srcset='/a.png 1x, /b.png 2x'>", False),  # relative: the page's host
        (b"<img src='/\t/x'>", True),  # a tab is removed from URLs: "//x"
        (b"<img src='/\\x'>", True),
        (b"<img src='/x?a&amp;b'>", True),
        (b"<link rel=preconnect href='//www.googletagmanager.com'>", True),
    ],
)
def test_the_url_filter_passes_over_attributes_that_fetch_nothing(buf: bytes, stop: bool) -> None:
    pair = rewriter_body(islands=False)
    assert pair.advance(buf, 0) == ((0, _scan.TAG) if stop else (len(buf), _scan.END))


@pytest.mark.parametrize(
    ("buf", "expected"),
    [
        (b"text <p class='<script>'>", (5, 1)),  # a candidate inside a value makes the tag a stop
        (b"<p>x</p><!-- c -->", (8, 2)),
        (b"<p>x</p><?php", (8, 2)),
        (b"a</ b", (1, 2)),
        (b"a </", (2, 1)),  # incomplete
        (b"a <", (2, 1)),
        (b"a < b <= c", (10, 0)),  # stray "<" is text
        (b"<p title='x>y'>", (15, 0)),
        (b"<p title='x>y", (0, 1)),  # unterminated quote: incomplete
        (b"<SCRIPT>", (0, 1)),
        (b"<data-consent>", (0, 1)),  # the name counts too: the search runs over the whole chunk
        (b"<p>data-consent</p>", (19, 0)),  # in text it does not
        (b"<scripts>", (9, 0)),
        (b"</BODY >", (0, 1)),
        (b"<p a=\"1\"b='2'c=3 d>", (19, 0)),
    ],
)
def test_known_positions(buf: bytes, expected: tuple[int, int]) -> None:
    assert Pair(0, attention=_scan.DATA_CONSENT, tag_filter=0).advance(buf, 0) == expected


@pytest.mark.parametrize(
    ("starts", "ends"),
    [((), (b"body",)), ((b"",), (b"body",)), ((b"Script",), (b"body",)), ((b"a b",), (b"body",)),
     ((b"1a",), (b"body",)), ((b"a",), (b"a/b",))],
)  # fmt: skip
def test_invalid_names_are_refused_by_both(starts: tuple[bytes, ...], ends: tuple[bytes, ...]) -> None:
    with pytest.raises(ValueError, match="invalid"):
        _scan.Candidates(starts, ends)
    with pytest.raises(ValueError, match="invalid"):
        _pyscan.Candidates(starts, ends)


def test_bad_arguments_are_errors_not_crashes() -> None:
    cands = _scan.Candidates(BLOCKING_CANDIDATES, BASE_ENDS)
    with pytest.raises(ValueError, match="out of range"):
        _scan.advance(b"abc", b"abc", 4, cands, False, None)
    with pytest.raises(ValueError, match="out of range"):
        _scan.advance(b"abc", b"abc", -1, cands, False, None)
    with pytest.raises(TypeError):
        _scan.advance("abc", "abc", 0, cands, False, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _scan.advance(b"abc", b"abc", 0, object(), False, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid"):
        _scan.TagFilter([b""])
    for module in (_scan, _pyscan):
        with pytest.raises(ValueError, match="invalid exempt"):
            module.TagFilter([b"x"], b"", (b"Class",))


@pytest.mark.parametrize(
    ("buf", "expected"),
    [
        (b"<p class=a>x</p>", (16, 0)),
        (b"<p SRC=/a.png>", (0, 1)),  # an attribute that may fetch
        (b"<p data-lazy-src=/a.png>", (0, 1)),
        (b"<p data-src=/a.png>", (0, 1)),
        (b"<p data-BG>", (0, 1)),
        (b"<p src>", (0, 1)),  # a name right before the end of the buffer
        (b"<a Ping=/count>", (0, 1)),
        (b"<td background=/bg.png>", (0, 1)),
        (b"<p data-x-Echo=1>", (0, 1)),
        (b"<p data-Consent=marketing>", (0, 1)),
        (b"<meta http-equiv=refresh content=0>", (0, 1)),
        (b"<p srcset=x>", (12, 0)),  # not the exact name
        (b"<p data-id=x title='src=x'>", (27, 0)),  # a value, not a name
        (b"</p style=x>", (0, 1)),  # end tags too
    ],
)
def test_attention_names(buf: bytes, expected: tuple[int, int]) -> None:
    assert Pair(1, attention=_scan.NAMES, tag_filter=0).advance(buf, 0) == expected


def test_every_tag_is_a_candidate_with_any_tag() -> None:
    pair = Pair(ANY_TAG_SET, attention=_scan.NONE, tag_filter=0)
    assert pair.advance(b"text <b>", 0) == (5, _scan.TAG)
    assert pair.advance(b"text </b>", 0) == (5, _scan.TAG)
    assert pair.advance(b"a < b <b", 0) == (6, _scan.TAG)  # incomplete at the end


def test_the_twin_keeps_the_rewriters_patterns() -> None:
    """The rewriter reads tags with the patterns the twin skips them with (the C scan is held to
    the twin by the differential tests), and both read attribute values alike."""
    from consentkit import rewrite, tokens

    assert (_pyscan._TAG, _pyscan._ATTR, _pyscan._ATTRS) == (tokens.TAG, tokens.ATTR, tokens.ATTRS)
    for gone in ("_SKIP", "_SKIP_BLOCKING", "_ANY_TAG", "_candidate_re"):
        assert not hasattr(rewrite, gone), f"rewrite.{gone}: the data state belongs to consentkit.scanner"
    raw = b""" a=1 b='2' c="3" d e = f /g=h i="""
    assert _pyscan._attr_values(raw) == [v for _, v, _ in tokens.parse_attrs_uncached(raw) if v is not None]


@pytest.mark.parametrize(
    ("buf", "expected"),
    [
        (b"<p style='color: red' data-src=/a.png>", (38, 0)),  # names that may fetch: left to the filter
        (b"<p style='background: url(//www.googletagmanager.com/x)'>", (0, 1)),  # the filter hits
        (b"<p Data-Consent=marketing>", (0, 1)),  # a category stops by its name
        (b"<meta http-equiv=refresh content='0;url=/x'>", (0, 1)),
        (b"</p data-consent=x>", (0, 1)),
        (b"</p style=x>", (12, 0)),
    ],
)
def test_attention_names_left_to_the_filter(buf: bytes, expected: tuple[int, int]) -> None:
    assert Pair(1, attention=_scan.NAMES_FILTERED, tag_filter=1).advance(buf, 0) == expected
    # without a filter, NAMES_FILTERED is NAMES
    assert Pair(1, attention=_scan.NAMES_FILTERED, tag_filter=0).advance(buf, 0) == (
        Pair(1, attention=_scan.NAMES, tag_filter=0).advance(buf, 0)
    )


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.one_of(documents, mutated()), extra=st.lists(st.integers(min_value=0), max_size=8))
def test_read_tag_agrees_at_every_tag_and_anywhere(document: bytes, extra: list[int]) -> None:
    """The C tag reader gives the rewriter's TAG reading: end and name end, or None."""
    positions = {k for k, byte in enumerate(document) if byte == 0x3C}
    positions |= {e % (len(document) + 1) for e in extra}
    for k in sorted(positions):
        assert _scan.read_tag(document, k) == _pyscan.read_tag(document, k), (k, document[k : k + 80])


@pytest.mark.parametrize(
    "buf",
    [b"<", b"</", b"<a", b"</a", b"<a b='", b"<a b=", b"<a b", b"<1>", b"</ >", b"<a\x00b>", b"<a b=c/>"],
)
def test_read_tag_at_every_position_of_odd_inputs(buf: bytes) -> None:
    for k in range(len(buf) + 1):
        assert _scan.read_tag(buf, k) == _pyscan.read_tag(buf, k)
    with pytest.raises(ValueError, match="out of range"):
        _scan.read_tag(buf, len(buf) + 1)
    with pytest.raises(ValueError, match="out of range"):
        _pyscan.read_tag(buf, -1)


SVG_NS = b' xmlns="http://www.w3.org/2000/svg"'
ICON = (
    b"<svg"
    + SVG_NS
    + b' viewBox="0 0 24 24" aria-hidden="true"><path d="M1 2h3z"/><g><circle r="2"/></g></svg>'
)


@pytest.mark.parametrize(
    ("buf", "island"),
    [
        (ICON, True),
        (ICON.upper().replace(b"HTTP", b"http"), True),  # any case
        (b"<svg xmlns:xlink='http://www.w3.org/1999/xlink' width=24></svg >", True),
        (b"<svg></svg>", True),
        (b"<svg/>", False),  # self-closing: nothing to copy up to a </svg>
        (b"<svg / width=2></svg>", False),
        (b"<svg xmlns=http://www.w3.org/2000/svg></svg>", False),  # unquoted: read as any value
        (b"<svg style='fill:red'></svg>", False),
        (b"<svg data-consent=marketing></svg>", False),
        (b"<svg aria-label='a/b'></svg>", False),
        (b"<svg xmlns:evil='http://x'></svg>", False),  # only the two namespace declarations
        (b"<svg><use href='#icon'/></svg>", False),  # an element that fetches: looked at
        (b"<svg><title>x</title></svg>", False),
        (b"<svg><foreignObject><p>x</p></foreignObject></svg>", False),
        (b"<svg><path d='M1'/>", False),  # not closed in the buffer
        (b"<svg><path d='M1'/></svg", False),  # incomplete end tag
        (b"<svg><path style='fill:url(//tracker.example/a.svg#x)'/></svg>", False),  # the filter hits
        (b"<svg xmlns:xlink='<!-- x'></svg>", False),  # a "<" in its tag: scanned tag by tag
        (b"<svg></svg title='<x'>", False),
        # a name longer than "xmlns" with NUL bytes: compared without reading past the literal
        (b"<svg xmlns" + b"\x00" * 16 + b"='a'></svg>", True),
        (b"<svg xmlns" + b"\x00" * 16 + b"='a:b'></svg>", False),
    ],
)
def test_inert_inline_svgs_are_skipped_whole(buf: bytes, island: bool) -> None:
    pair = rewriter_body(islands=True)
    plain = rewriter_body(islands=False)
    page = b"<p>a</p>" + buf + b"<p>b</p>"
    assert plain.advance(page, 0) == (8, _scan.TAG)
    assert pair.advance(page, 0) == ((len(page), _scan.END) if island else (8, _scan.TAG))


def test_before_the_body_the_quiet_head_tags_are_skipped() -> None:
    pair = Pair(NAME_SETS.index(("all_starts_but", HEAD_QUIET, (b"body", b"html", b"br", b"select"))), 0, 0)
    head = b"<head><meta charset=utf-8><LINK rel=stylesheet href=/a.css></head>"
    assert pair.advance(head + b"<title>", 0) == (len(head), _scan.TAG)
    assert pair.advance(head + b"</body>", 0) == (len(head), _scan.TAG)
    assert pair.advance(head + b"<p>", 0) == (len(head), _scan.TAG)
    assert pair.advance(head + b"<metal>", 0) == (len(head), _scan.TAG)  # only the names given
    assert pair.advance(head + b"</title>", 0) == (len(head) + 8, _scan.END)


def test_candidate_options_are_checked_by_both() -> None:
    for module in (_scan, _pyscan):
        inner = module.Candidates(FOREIGN_CANDIDATES, FOREIGN_ENDS)
        outer = module.Candidates(FILTERED_CANDIDATES, BASE_ENDS, islands=inner)
        with pytest.raises(ValueError, match="own candidates"):
            module.Candidates(FILTERED_CANDIDATES, BASE_ENDS, islands=outer)
        with pytest.raises(ValueError, match="exclude each other"):
            module.Candidates((b"meta",), BASE_ENDS, any_tag=True, all_starts_but=True)
        with pytest.raises(TypeError):
            module.Candidates(FILTERED_CANDIDATES, BASE_ENDS, islands=object())


@pytest.mark.parametrize(
    ("buf", "island"),
    [
        (b'<script src="/static/share.js" defer></script>', True),
        (b"<SCRIPT SRC=share.js TYPE=' Module '>\n</SCRIPT >", True),
        (b'<script src="/a.js" integrity="sha384-a//b" nonce="x:y"></script>', True),  # inert names
        (b"<script></script>", False),  # inline code: looked at
        (b'<script src=""></script>', False),
        (b'<script src="//www.googletagmanager.com/gtm.js"></script>', False),  # the filter hits
        (b'<script src="/a.js" type="importmap"></script>', False),
        (b'<script src="/a.js" data-consent="analytics"></script>', False),
        (b'<script src="/a.js"><!-- </script>', False),  # the escaped states: left to the rewriter
        (b'<script src="/a.js">if (a<b) c()</script>', False),  # any "<" in it
        (b'<script src="/a.js" title="<x"></script>', False),
        (b'<script src="/a.js"></script', False),  # incomplete
        (b'<script src="/a.js" type' + b"\x00" * 24 + b"=x></script>", True),  # not "type"
        (b'<script src="/a.js" type="module' + b"\x00" * 24 + b'"></script>', False),
    ],
)
def test_first_party_scripts_are_skipped_whole(buf: bytes, island: bool) -> None:
    pair = rewriter_body(islands=True)
    page = b"<p>a</p>" + buf + b"<p>b</p>"
    assert pair.advance(page, 0) == ((len(page), _scan.END) if island else (8, _scan.TAG))
