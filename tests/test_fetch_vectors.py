"""Every way markup makes a browser fetch (issue #14 §1, §1b): each vector loads a tracker in the
page as written (per the oracle: html5lib + tinycss2), and nothing after the rewrite, in both
blocking modes and however the page is cut into chunks."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest

from consentkit import parse_policy
from consentkit.rewrite import HOLD_TAG_MAX, BlockPlan, Rewriter

from .conftest import KEY, POLICY_YAML, client_for
from .oracle import css_urls, leaks
from .test_fuzz import DENIED, PLAN, POLICY, Marks, rewrite

pytestmark = pytest.mark.anyio

INERT = BlockPlan.build(parse_policy(POLICY_YAML + "blocking:\n  mode: inert\n"), DENIED)
PIXEL = "https://www.facebook.com/tr?id=1"
GTAG = "https://www.googletagmanager.com/gtag/js?id=G-1"

VECTORS = {
    # lazy loading: lazysizes and CMS plugins turn these into real loads
    "img data-src": f'<img data-src="{PIXEL}" class="lazyload" alt="">',
    "img data-srcset": f'<img data-srcset="{PIXEL} 1x, /a.png 2x" class="lazyload" alt="">',
    "img data-lazy-src": f'<img src="/blank.gif" data-lazy-src="{PIXEL}" alt="">',
    "iframe data-src": '<iframe data-src="https://www.youtube.com/embed/x" class="lazyload"></iframe>',
    "source data-srcset": f'<picture><source data-srcset="{PIXEL}"><img src="/a.png" alt=""></picture>',
    "video data-poster": f'<video data-poster="{PIXEL}"></video>',
    "div data-bg": f'<div class="lazyload" data-bg="{PIXEL}">Hero</div>',
    # CSS
    "style @import": '<style>@import url("https://www.googletagmanager.com/fonts.css"); p { color: red }</style>',
    "style @import string": "<style>@import 'https://www.googletagmanager.com/fonts.css';</style>",
    "style url()": f"<style>.hero {{ background: url({PIXEL}) }}</style>",
    "style @font-face": "<style>@font-face { font-family: X; src: url(//www.google-analytics.com/f.woff2) }</style>",
    "style escaped url": "<style>.a { background: \\75 rl(//www.facebook.com/tr) }</style>",
    "style image-set": f'<style>.a {{ background-image: image-set("{PIXEL}" 1x) }}</style>',
    "style= url()": f"<div style=\"background-image:url('{PIXEL}')\">x</div>",
    "style= entity-encoded": '<div style="background:url(&quot;https://www&#46;facebook.com/tr&quot;)">x</div>',
    "svg style": "<svg><style>@import url(//www.facebook.com/s.css);</style></svg>",
    # other fetching attributes
    "input type=image": f'<form><input type="image" src="{PIXEL}" alt="Go"></form>',
    "body background": f'<body background="{PIXEL}"><p>x</p></body>',
    "table background": f'<table background="{PIXEL}"><tr><td background="{PIXEL}">x</td></tr></table>',
    "svg image href": f'<svg><image href="{PIXEL}" width="1" height="1"/></svg>',
    "svg image xlink:href": f'<svg><image xlink:href="{PIXEL}"/></svg>',
    "svg feImage": f'<svg><filter id="f"><feImage href="{PIXEL}"/></filter></svg>',
    "svg use": '<svg><use href="https://www.facebook.com/sprite.svg#i"/></svg>',
    "svg set href": f'<svg><image><set attributeName="href" to="{PIXEL}"/></image></svg>',
    "a ping": f'<a href="/next" ping="{PIXEL}">Next</a>',
    "area ping": f'<map name="m"><area href="/x" ping="/local {PIXEL}" alt="x"></map>',
    "meta refresh": '<meta http-equiv="refresh" content="0; url=https://www.facebook.com/landing">',
    "importmap": '<script type="importmap">{"imports": {"ga": "https://www.googletagmanager.com/m.js"}}</script>',
    "speculationrules": '<script type="speculationrules">{"prefetch": [{"urls": ["https://www.facebook.com/p"]}]}'
    "</script>",
    "iframe javascript:": "<iframe src=\"javascript:'<script src=//connect.facebook.net/fbevents.js></script>'\">"
    "</iframe>",
    "iframe data:": "<iframe src=\"data:text/html,<img src='https://www.facebook.com/tr'>\"></iframe>",
    "iframe data: base64": '<iframe src="data:text/html;base64,PHNjcmlwdD5mYnEoJ2luaXQnKTwvc2NyaXB0Pg=="></iframe>',
    "object data": '<object data="https://www.youtube.com/v/x" type="application/x-shockwave-flash"></object>',
    "embed src": '<embed src="https://www.youtube.com/v/x">',
    "base href": '<head><base href="https://www.facebook.com/"></head><body><img src="tr?id=1" alt=""></body>',
    "link icon": '<link rel="icon" href="https://www.facebook.com/favicon.ico">',
    # the tree builder's rules (§1b)
    "svg desc then style": f"<svg><desc><b>x</b></desc><style><img src={PIXEL}></style></svg>",
    "svg foreignObject then title": "<svg><foreignObject><div>x</div></foreignObject><title>Logo</svg>"
    f'<script async src="{GTAG}"></script>',
    "svg title stays svg": f"<svg><title><b>t</b></title><style><img src={PIXEL}></style></svg>",
    "svg </p> pops to html": f"<p><svg><g></p><style>x</style><img src={PIXEL}>",
    "math mi html": f"<math><mi><b>x</b></mi><style><img src={PIXEL}></style></math>",
    "math annotation-xml html": '<math><annotation-xml encoding="text/html"><style>x</style></annotation-xml>'
    f"<style><img src={PIXEL}></style></math>",
    "svg end tag of an element not followed": f"<svg><g><desc></g><style><img src={PIXEL}></style></svg>",
    "foreignObject html style": f"<svg><foreignObject><style>a{{background:url({PIXEL})}}</style>"
    "</foreignObject></svg>",
}


@pytest.mark.parametrize("name", list(VECTORS))
def test_each_vector_loads_a_tracker_before_and_nothing_after(name: str) -> None:
    document = VECTORS[name].encode()
    assert leaks(document, POLICY, DENIED), f"{name}: the page as written should load a tracker"
    remove = rewrite(document, [])
    assert rewrite(document, [1, 5, 9, 17, 33, 64]) == remove, "the output depends on the chunking"
    assert leaks(remove, POLICY, DENIED) == []
    inert = rewrite(document, [], plan=INERT)
    assert rewrite(document, [2, 7, 19, 50], plan=INERT) == inert
    assert leaks(inert, POLICY, DENIED) == []


def test_a_fetching_attribute_goes_and_its_element_stays() -> None:
    """ping, background, a lazy background and a CSS URL go; the link, table and text stay."""
    page = (
        f'<a href="/next" ping="{PIXEL}">Next</a><table background="{PIXEL}"><tr><td>cell</td></tr></table>'
        f'<div data-bg="{PIXEL}" class="hero">Hero</div>'
        f'<p style="color:red;background:url({PIXEL})">Styled</p>'
    ).encode()
    out = rewrite(page, []).decode()
    assert '<a href="/next">Next</a>' in out
    assert "<td>cell</td>" in out
    assert '<div class="hero">Hero</div>' in out
    assert '<p style="color:red;background:url(about:invalid)">Styled</p>' in out


def test_a_stylesheet_keeps_its_rules_when_a_url_goes() -> None:
    page = b"<style>@import url(https://www.googletagmanager.com/f.css);\nbody { color: #123 }</style>"
    out = rewrite(page, []).decode()
    assert "body { color: #123 }" in out
    assert list(css_urls(out[out.index("<style>") + 7 : out.index("</style>")])) == ["about:invalid"]


def test_inert_mode_keeps_nothing_that_loads_until_activation() -> None:
    """A blocked iframe's srcdoc, a lazy data-src, a ping: set aside, restored by activate.js."""
    page = (
        '<iframe src="https://www.youtube.com/embed/x" srcdoc="<p>Preview</p>" width="560" height="315"></iframe>'
        f'<img data-src="{PIXEL}" alt=""><a href="/n" ping="{PIXEL}">n</a>'
    ).encode()
    out = rewrite(page, [], plan=INERT).decode()
    tree = html5lib.parse(out, namespaceHTMLElements=False)
    iframe = tree.find(".//iframe")
    assert iframe is not None
    assert iframe.get("srcdoc") is None and iframe.get("src") is None
    assert iframe.get("data-consentkit-attr-srcdoc") == "<p>Preview</p>"
    img = tree.find(".//img")
    assert img is not None and img.get("data-src") is None
    assert img.get("data-consentkit-attr-data-src") == PIXEL
    link = tree.find(".//a")
    assert link is not None and link.get("ping") is None and link.get("data-consentkit-attr-ping") == PIXEL
    assert link.get("data-consentkit-category") == "marketing"


def test_activation_restores_every_set_aside_attribute() -> None:
    script = (Path(__file__).parents[1] / "src" / "consentkit" / "static" / "activate.js").read_text()
    assert '"data-consentkit-attr-"' in script and "setAttributeNS" in script


def test_after_svg_the_rest_of_the_page_is_still_checked() -> None:
    """The corpus case: an SVG title is markup, not a raw-text element swallowing the page."""
    page = (
        "<svg><foreignObject><div>x</div></foreignObject><title>Logo</svg>"
        f'<p>Text</p><script async src="{GTAG}"></script><img src="{PIXEL}" alt="">'
    ).encode()
    out = rewrite(page, [5, 60])
    assert GTAG.encode() not in out and PIXEL.encode() not in out
    assert b"<p>Text</p>" in out


async def test_the_middleware_blocks_the_new_vectors(tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    from consentkit import ConsentMiddleware

    html = (
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        + "".join(VECTORS.values())
        + "</body></html>"
    )

    async def page(request: Request) -> Response:
        return HTMLResponse(html)

    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(ConsentMiddleware, policy=POLICY, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    async with client_for(app) as client:
        text = (await client.get("/")).text
    assert leaks(html, POLICY, DENIED)
    assert leaks(text, POLICY, DENIED) == []


def test_noscript_loses_only_its_tracker_elements() -> None:
    page = (
        f'<body><noscript><p class="nojs">Please enable JavaScript.</p><img src="{PIXEL}" alt="">'
        '<link rel="stylesheet" href="/nojs.css"></noscript><p>after</p>'
    ).encode()
    for plan in (PLAN, INERT):
        out = rewrite(page, [4, 30], plan=plan)
        assert leaks(out, POLICY, DENIED) == []
        tree = html5lib.parse(out, namespaceHTMLElements=False, scripting=False)
        noscript = next(e for e in tree.iter("noscript"))
        assert [e.tag for e in noscript if isinstance(e.tag, str)] == ["p", "link"]
        assert noscript[0].text == "Please enable JavaScript."


@pytest.mark.parametrize(
    "body",
    [
        # in XHTML, <textarea>/<title>/<style> hold markup, not raw text
        f'<textarea><img src="{PIXEL}"/></textarea>',
        f'<title>x</title><noembed><img src="{PIXEL}"/></noembed>',
        # a CDATA section in a script is text: the script ends at the real end tag
        "<script>//<![CDATA[\nvar a = '</script>';\nfbq('init', '1');\n//]]></script>",
    ],
)
async def test_xhtml_is_read_with_xml_rules(tmp_path: Path, body: str) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from consentkit import ConsentMiddleware

    page = (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
        f"<title>t</title></head><body><p>x</p>{body}</body></html>"
    )

    async def endpoint(request: Request) -> Response:
        return Response(page, media_type="application/xhtml+xml")

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(ConsentMiddleware, policy=POLICY, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    async with client_for(app) as client:
        text = (await client.get("/")).text
    assert "www.facebook.com" not in text and "fbq(" not in text
    assert "<p>x</p>" in text


def test_a_long_tag_across_many_chunks() -> None:
    """An 8 MB inline image in 4 KB chunks comes out whole (its tag is scanned incrementally, see
    benchmarks/chunked_tag.py for the linear cost), and what follows it is still checked."""
    image = b'<img alt="a > b" src="data:image/png;base64,' + b"QUJD" * (2 << 20) + b'">'
    page = b"<body><p>x</p>" + image + f'<img src="{PIXEL}" alt=""><p>end</p>'.encode()
    rewriter = Rewriter(PLAN, Marks())
    out = b"".join(rewriter.feed(page[i : i + 4096]) for i in range(0, len(page), 4096)) + rewriter.close()
    assert image in out and PIXEL.encode() not in out and out.endswith(b"<p>end</p>")


def test_what_an_endless_tag_holds_back_is_bounded() -> None:
    """A tag that never ends is held up to HOLD_TAG_MAX, then dropped unread (fail closed)."""
    import tracemalloc

    chunk = b"A" * (64 << 10)
    rewriter = Rewriter(PLAN, Marks())
    tracemalloc.start()
    try:
        rewriter.feed(b"<body><p>x</p><img src=" + chunk)
        for _ in range((HOLD_TAG_MAX + (24 << 20)) // len(chunk)):
            assert rewriter.feed(chunk) in (b"", b"<!--ck-->")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * HOLD_TAG_MAX
    assert rewriter.feed(b'"><p>after</p>').endswith(b"<p>after</p>")
    assert rewriter.first_blocked == "uninspected"
