"""Rewriter fuzzing: generated and mutated documents in random chunkings.

Properties, for every document: no exception; the output is the same however the document
is chunked; a browser (html5lib, scripting on and off) would load or run nothing of a denied
category; and a document with nothing to block comes out byte-identical. The default run
checks a few thousand documents; `make fuzz` (pytest --long) checks over 100,000.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentkit import parse_policy
from consentkit.rewrite import BlockPlan, Rewriter, Rule

from .conftest import POLICY_YAML
from .oracle import leaks

POLICY = parse_policy(POLICY_YAML)
DENIED = ("analytics", "marketing")
PLAN = BlockPlan.build(POLICY, DENIED)
LONG = os.environ.get("CONSENTKIT_FUZZ_LONG") == "1"
EXAMPLES = 60_000 if LONG else 1_500

ROOT = Path(__file__).parents[1]
SEEDS = [
    (ROOT / "tests" / "fixtures" / "trackers.html").read_bytes(),
    *(p.read_bytes() for p in sorted((ROOT / "examples" / "release_page" / "templates").glob("*.html"))),
]


class Marks:
    """An injector that adds recognisable markers, so tests can see where injections land."""

    def html_lang(self, lang: str) -> None:
        return None

    def body_start(self) -> bytes:
        return b"<i data-ck=start></i>"

    def body_end(self) -> bytes:
        return b"<i data-ck=end></i>"

    def consent_mode(self) -> bytes:
        return b""

    def blocked(self, category: str) -> bytes:
        return b"<!--ck-->"

    def placeholder_open(self, rule: Rule, width: str | None, height: str | None) -> bytes:
        return b"<div data-ck=placeholder>"

    def placeholder_close(self) -> bytes:
        return b"</div>"


class Nothing(Marks):
    def body_start(self) -> bytes:
        return b""

    def body_end(self) -> bytes:
        return b""


def rewrite(
    document: bytes, cuts: list[int], plan: BlockPlan | None = PLAN, injector: object = None
) -> bytes:
    rewriter = Rewriter(plan, injector if injector is not None else Marks())  # type: ignore[arg-type]
    out = []
    start = 0
    for cut in sorted({c % (len(document) + 1) for c in cuts}):
        out.append(rewriter.feed(document[start:cut]))
        start = cut
    out.append(rewriter.feed(document[start:]))
    out.append(rewriter.close())
    return b"".join(out)


# --- a grammar of real-world and hostile HTML --------------------------------------------------

TRACKER_URLS = [
    "https://www.googletagmanager.com/gtag/js?id=G-1",
    "//connect.facebook.net/en_US/fbevents.js",
    "https://www.facebook.com/tr?id=1&amp;ev=PageView",
    "HTTPS://WWW.GOOGLE-ANALYTICS.COM/analytics.js",
    "https://static.hotjar.com/c/hotjar-1.js",
    "https:\\\\www.youtube.com\\embed\\x",
    "https://www&#46;youtube.com/embed/y",
    "https://stats.example.org/matomo.php",
    "/local/script.js",
    "https://cdn.example.net/lib.js",
]
NAMES = [
    "div", "p", "a", "span", "script", "SCRIPT", "Script", "style", "textarea", "title", "xmp", "iframe", "img",
    "image", "noscript", "svg", "math", "mi", "object", "embed", "link", "source", "video", "template", "body",
    "html", "head", "table", "select", "plaintext", "noembed", "br", "input", "form",
    # issue #14: more elements that fetch, SVG/MathML integration points, breakouts
    "meta", "base", "a", "area", "td", "desc", "foreignObject", "mtext", "annotation-xml", "use", "feImage",
    "set", "picture", "b", "font", "frameset", "frame",
]  # fmt: skip
ATTR_NAMES = [
    "src",
    "SRC",
    "href",
    "srcset",
    "data",
    "rel",
    "type",
    "data-consent",
    "DATA-CONSENT",
    "class",
    "title",
    # issue #14: every attribute a browser (or a lazy loader) fetches from
    "data-src",
    "data-srcset",
    "data-bg",
    "data-lazy-src",
    "style",
    "background",
    "ping",
    "srcdoc",
    "xlink:href",
    "poster",
    "http-equiv",
    "content",
    "encoding",
    "to",
    "lowsrc",
]
TEXTS = [
    "hello",
    " ",
    "\n",
    "<",
    ">",
    "&",
    "'",
    '"',
    "a < b",
    "x>y",
    "fbq('init')",
    "gtag('config')",
    "_paq.push",
]

values = st.one_of(
    st.sampled_from(TRACKER_URLS),
    st.sampled_from(
        ["marketing", "analytics", "MARKETING", " marketing ", "necessary", "stylesheet preconnect"]
    ),
    st.sampled_from(["text/javascript", "module", "application/ld+json", "text/plain", "", "importmap"]),
    st.sampled_from(
        [
            "background:url(https://www.facebook.com/tr)",
            "background:u\\72l(//connect.facebook.net/x.png)",
            "color:red;background-image:image-set('https://static.hotjar.com/a.png' 1x)",
            "javascript:'<script src=//connect.facebook.net/x.js></script>'",
            "data:text/html,<img src=https://www.facebook.com/tr>",
            "0;url=https://www.facebook.com/x",
            "refresh",
            "text/html",
            "image",
        ]
    ),
    st.text(alphabet="<>\"'= /ab-&;#", max_size=8),
)


@st.composite
def attribute(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(ATTR_NAMES))
    value = draw(values)
    quote = draw(st.sampled_from(['"', "'", "", None]))
    if quote is None:
        return name
    if quote == "":
        value = value.replace(" ", "").replace(">", "") or "x"
    spaces = draw(st.sampled_from(["", " ", "\n"]))
    return f"{name}{spaces}={spaces}{quote}{value}{quote}"


@st.composite
def start_tag(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(NAMES))
    attrs = draw(st.lists(attribute(), max_size=4))
    separator = draw(st.sampled_from([" ", "\n", "\t", "/"]))
    closing = draw(st.sampled_from([">", "/>", " >", ""]))
    return "<" + name + "".join(separator + a for a in attrs) + closing


@st.composite
def svg_icon(draw: st.DrawFn) -> str:
    """An inline SVG icon as templates write them, now and then with something that fetches."""
    shapes = ["path", "g", "circle", "rect", "PATH", "title", "use", "image", "foreignObject", "p", "a"]
    parts = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        name = draw(st.sampled_from(shapes))
        kind = draw(st.sampled_from(["start", "end", "text", "self"]))
        attrs = "".join(" " + a for a in draw(st.lists(attribute(), max_size=2)))
        if kind == "text":
            parts.append(draw(st.sampled_from(["Share", " ", "a &amp; b", "x<y"])))
        elif kind == "end":
            parts.append(f"</{name}>")
        else:
            parts.append(f"<{name}{attrs}{'/' if kind == 'self' else ''}>")
    svg_attrs = draw(
        st.sampled_from(
            [
                "",
                ' viewBox="0 0 24 24" aria-hidden="true"',
                ' xmlns="http://www.w3.org/2000/svg" width=16',
                " class=icon",
            ]
        )
    )
    svg_attrs += "".join(" " + a for a in draw(st.lists(attribute(), max_size=1)))
    end = draw(st.sampled_from(["</svg>", "</SVG >", "", "</svg"]))
    return f"<svg{svg_attrs}>" + "".join(parts) + end


@st.composite
def own_script(draw: st.DrawFn) -> str:
    """A first-party external script as templates write them, now and then one that is not."""
    src = draw(st.sampled_from(["/static/share.js", "share.js", "", "//www.googletagmanager.com/gtm.js"]))
    attrs = draw(
        st.sampled_from(
            [
                "",
                " defer",
                ' type="module"',
                " TYPE=' text/JavaScript '",
                ' type="importmap"',
                " data-consent=x",
            ]
        )
    )
    content = draw(st.sampled_from(["", " ", "<!-- x -->", "if (a<b) c()", "</scrip", "<script>"]))
    end = draw(st.sampled_from(["</script>", "</SCRIPT >", "", "</script"]))
    return f'<script src="{src}"{attrs}>{content}{end}'


fragment = st.one_of(
    start_tag(),
    svg_icon(),
    own_script(),
    st.sampled_from(NAMES).map(lambda n: f"</{n}>"),
    st.sampled_from(TEXTS),
    st.text(max_size=6),
    st.sampled_from(
        [
            "<!--",
            "-->",
            "--!>",
            "<!-->",
            "<!---->",
            "<!-- x -->",
            "<![CDATA[",
            "]]>",
            "<!DOCTYPE html>",
            "<?x?>",
            "</ x>",
            "</>",
            "<script>",
            "</script>",
            "</script ",
            "</SCRIPT>",
            "<noscript>",
            "</noscript>",
            "<script>var s='</script>';</script>",
            "<script>fbq('track')</script>",
            "<svg><script>gtag()</script>",
            "<textarea><script src=//connect.facebook.net/x.js></script></textarea>",
            '<iframe srcdoc="<script src=https://www.googletagmanager.com/x></script>"></iframe>',
            '<img src="https://www.facebook.com/tr?id=1"/>',
            '<div data-consent="marketing"><b>x</b></div>',
            # issue #14
            "<style>@import url(https://www.googletagmanager.com/f.css);p{}</style>",
            "<style>a{background:url(//www.facebook.com/tr)}</style>",
            '<script type="importmap">{"imports":{"a":"https://connect.facebook.net/x.js"}}</script>',
            "<svg><desc><b>x</b></desc>",
            "<svg><foreignObject><div>x</div></foreignObject><title>Logo",
            "<math><mi><b>x</b></mi>",
            '<math><annotation-xml encoding="text/html">',
            "</p>",
            "</br>",
            '<img data-src="https://www.facebook.com/tr">',
            '<a href=/ ping="https://www.facebook.com/p">',
            '<svg><image href="https://www.facebook.com/i"/>',
            '<meta http-equiv="refresh" content="0;url=https://www.facebook.com/">',
        ]
    ),
)
documents = st.lists(fragment, max_size=40).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))
cuts = st.lists(st.integers(min_value=0, max_value=10_000), max_size=12)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real page, mutated: ranges deleted, duplicated or replaced, fragments spliced in."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        size = len(data)
        start = draw(st.integers(min_value=0, max_value=max(0, size - 1)))
        length = draw(st.integers(min_value=0, max_value=200))
        operation = draw(st.sampled_from(["delete", "duplicate", "insert", "flip", "upper"]))
        if operation == "delete":
            del data[start : start + length]
        elif operation == "duplicate":
            data[start:start] = data[start : start + length]
        elif operation == "insert":
            data[start:start] = draw(fragment).encode("utf-8", "surrogatepass")
        elif operation == "flip":
            data[start : start + 1] = draw(st.sampled_from([b"<", b">", b'"', b"'", b"=", b"/", b"-", b"!"]))
        else:
            data[start : start + length] = data[start : start + length].upper()
    return bytes(data)


def check(document: bytes, chunking: list[int]) -> None:
    whole = rewrite(document, [])
    assert rewrite(document, chunking) == whole, "the output depends on the chunking"
    found = leaks(whole, POLICY, DENIED)
    assert not found, f"leaked: {found[:3]}\ninput: {document[:600]!r}\noutput: {whole[:600]!r}"


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(document=documents, chunking=cuts)
def test_generated_documents(document: bytes, chunking: list[int]) -> None:
    check(document, chunking)


# Real pages are large (the oracle parses each twice): half as many, and 30,000 under `make fuzz`.
@settings(FUZZ, max_examples=EXAMPLES // 2)
@given(document=mutated(), chunking=cuts)
def test_mutated_real_pages(document: bytes, chunking: list[int]) -> None:
    check(document, chunking)


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(
    document=st.lists(
        st.one_of(st.sampled_from(["<p>", "</p>", "<div class=a>", "</div>", "<a href='/x'>", "</a>", "<!-- c -->",
                                   "<script>var a = 1 < 2;</script>", "<style>p{}</style>", "<textarea>x</textarea>",
                                   "<img src=/a.png>", "<br/>", "<title>t</title>", "<svg><path/></svg>"]),
                  st.text(alphabet="abc <>&'\"=\n", max_size=10)),
        max_size=40,
    ).map(lambda parts: "".join(parts).encode()),
    chunking=cuts,
)  # fmt: skip
def test_nothing_to_block_comes_out_byte_identical(document: bytes, chunking: list[int]) -> None:
    assert rewrite(document, chunking, injector=Nothing()) == document


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_real_pages_without_trackers_are_untouched(seed: int) -> None:
    """The pages themselves, for a visitor who accepted everything: byte-identical."""
    assert rewrite(SEEDS[seed], [7, 301, 4096], plan=None, injector=Nothing()) == SEEDS[seed]


@pytest.mark.parametrize(
    "document",
    [
        b"<svg><script>fbq('init', '1')</script></svg>",
        b"<math><mi><script src=https://connect.facebook.net/x.js></script></mi></math>",
        b"<table><script src=https://www.googletagmanager.com/x></script></table>",
        b"<select><script>gtag('config')</script></select>",
        b"<noscript><p><img src=https://www.facebook.com/tr?id=1></noscript>",
        b"<head><noscript><img src=https://www.facebook.com/tr?id=1></noscript></head>",
        b"<image src=https://www.facebook.com/tr>",
        b'<iframe srcdoc="&lt;script src=https://www.googletagmanager.com/x&gt;&lt;/script&gt;"></iframe>',
        b"<script src=https://www.googletagmanager.com/x",  # truncated
        b"<div data-consent=marketing><img src=/pixel.png>",  # never closed
        b"<scr" + b"ipt src=https://www.googletagmanager.com/x></script>",
        b"<script>var x = '<!--<script>'; fbq('track');</script>",
        b'<svg><desc><b>x</b></desc><picture data-src="https://www.googletagmanager.com/gtag/js?id=G-1">',
        b"<svg></p><textarea><script src=//connect.facebook.net/x.js></script></textarea>",
        b'<script src="marketing" lowsrc="https://www.googletagmanager.com/gtag/js?id=G-1">',
        b"<style/><div src=background:url(https://www.facebook.com/tr)>",
        # a "=" inside a quoted value is not an unquoted value: the "/" self-closes foreignObject
        b'<svg><foreignObject a="https://x.example/?id=G-1"/><path><title></svg>'
        b'<div data-src="https://www.googletagmanager.com/gtag/js?id=G-1">',
        # SVG scripts nest: the text after the inner one's </script> is the outer one's code
        b'<svg><script src="/a.js"><script><script src="/a.js"></script>fbq(\'init\')',
        b"<svg><script><script>x()</script>fbq('init')</script></svg>",
        # after </p> in SVG, parsers disagree on whether a script is HTML (content ignored with a
        # src) or SVG (its content is markup, or code that runs): a listed host in it blocks it
        b'<div><svg></p><script src="/static/share.js"><div><script src="//www.googletagmanager.com/gtm.js"></script>',
        b"<svg></p><script src=/a.js>loadScript('//www.googletagmanager.com/gtm.js')</script>",
        # an import map that is not JSON loads nothing, but a listed URL in it is blocked anyway
        b'<script src="/a.js" type="importmap"><div src=\'https://www.googletagmanager.com/gtag/js\'>',
        # an SVG script's content is SVG markup: a nested <script> there is an element, not raw
        # text, and a <div> after it breaks out of SVG into the page
        b'<svg><script src=/a.js><script><div data-consent="marketing"><img src=/p.png></div>',
        b"<math><script><script><p><img src=https://www.facebook.com/tr?id=1></p></script></math>",
        b"<svg><style><style><div data-consent=marketing>x</div></style></svg>",
        # an end tag naming an HTML element open below the <svg>/<math> leaves foreign content:
        # what follows is HTML (an <a ping> pings), though the scan does not follow HTML elements
        b'<div><SVG><svg></svg></div><a href=/ ping="https://www.facebook.com/p">',
        b'<span><math><mi></mi></span><area ping="https://www.facebook.com/p">',
        b'<div><svg><g></div><a ping="https://www.facebook.com/p">x</a></g></svg>',
        # nested documents deeper than a rewriter looks into are blocked, not recursed into
        b"<svg>" + b"<script>" * 40 + b"<div data-consent=marketing>x</div>",
        b"<noscript>" * 30 + b"<img src=https://www.facebook.com/tr?id=1>",
    ],
)
def test_known_tricky_cases(document: bytes) -> None:
    check(document, [1, 5, 9, 17, 33])


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.one_of(documents, mutated()), consent_mode=st.booleans())
def test_a_memoised_page_is_the_page_a_full_rewrite_gives(document: bytes, consent_mode: bool) -> None:
    """The page memo (record once, replay after) gives exactly the output of a full rewrite."""
    from consentkit.memo import PageMemo

    memo = PageMemo()
    expected = Rewriter(PLAN, Marks(), consent_mode=consent_mode)
    whole = expected.feed(document) + expected.close()
    seen: list[str | None] = []
    assert memo.rewrite(document, PLAN, Marks(), consent_mode=consent_mode, on_blocked=seen.append) is None
    for _ in range(2):  # seen before: the first call records, the second replays
        assert (
            memo.rewrite(document, PLAN, Marks(), consent_mode=consent_mode, on_blocked=seen.append) == whole
        )
    assert seen == [expected.first_blocked, expected.first_blocked]


# --- the native scan and its Python twin -------------------------------------------------------


def _with_scanner(
    implementation: str, document: bytes, chunking: list[int], plan: BlockPlan | None, xml: bool
):
    """Output, first blocked category and body-start calls of a rewrite with this scanner."""
    from consentkit import scanner

    before = scanner.IMPLEMENTATION
    scanner.use(implementation)
    try:
        starts: list[int] = []

        class Counting(Marks):
            def body_start(self) -> bytes:
                starts.append(1)
                return super().body_start()

        rewriter = Rewriter(plan, Counting(), xml=xml)
        out, start = [], 0
        for cut in sorted({c % (len(document) + 1) for c in chunking}):
            out.append(rewriter.feed(document[start:cut]))
            start = cut
        out.append(rewriter.feed(document[start:]))
        out.append(rewriter.close())
        return b"".join(out), rewriter.first_blocked, len(starts)
    finally:
        scanner.use(before)


def _need_native() -> None:
    from consentkit import scanner

    if "native" not in scanner.available():
        if os.environ.get("CI") == "true":
            raise AssertionError("the C extension must be built in CI (see docs/native.md)")
        pytest.skip("the C extension is not built here (no compiler at install time)")


# Each example rewrites twice (and real pages are large): a third of the count; 20,000 in `make fuzz`.
@settings(FUZZ, max_examples=EXAMPLES // 3)
@given(
    document=st.one_of(documents, mutated()),
    chunking=cuts,
    blocking=st.booleans(),
    xml=st.sampled_from([False, False, False, True]),
)
def test_the_native_scan_and_its_python_twin_rewrite_alike(
    document: bytes, chunking: list[int], blocking: bool, xml: bool
) -> None:
    """Byte-for-byte the same output, blocked category and injector calls, whichever scan runs."""
    _need_native()
    plan = PLAN if blocking else None
    native = _with_scanner("native", document, chunking, plan, xml)
    python = _with_scanner("python", document, chunking, plan, xml)
    assert native == python, f"input: {document[:600]!r}"


def test_a_long_head_with_nothing_to_block_is_scanned_alike() -> None:
    """The head-only scan lowers a prefix of the page: both scans must still see tags past it."""
    _need_native()
    head = b"<!DOCTYPE html><html><head>" + b"<meta name=x content=y>" * 700
    document = head + b"<title>t</title></head><body><p>x</p><!-- consentkit:banner --></body></html>"
    for plan in (None, PLAN):
        native = _with_scanner("native", document, [], plan, False)
        assert native == _with_scanner("python", document, [], plan, False)
        assert native[2] == 1


@settings(FUZZ, max_examples=EXAMPLES // 3)
@given(document=st.one_of(documents, mutated()), chunking=cuts, blocking=st.booleans())
def test_islands_copied_whole_rewrite_as_tag_by_tag(
    document: bytes, chunking: list[int], blocking: bool
) -> None:
    """Copying an inert inline SVG or a first-party external script whole in the scan gives the
    bytes and calls of following it tag by tag."""
    from consentkit import scanner, stops

    plan = PLAN if blocking else None
    whole = _with_scanner(scanner.IMPLEMENTATION, document, chunking, plan, False)
    stops.ISLANDS = False
    try:
        by_tag = _with_scanner(scanner.IMPLEMENTATION, document, chunking, plan, False)
    finally:
        stops.ISLANDS = True
    assert whole == by_tag, f"input: {document[:600]!r}"
