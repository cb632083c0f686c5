"""One start tag's fate when something is blocked (``consentkit.tags.decide_tag``).

The decision layer on its own: the element blocked whole, the tag rewritten without what
fetches from a blocked host, or kept; the same answer from the cache as from a fresh look.
"""

from __future__ import annotations

import html5lib
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from consentkit import parse_policy
from consentkit.namespaces import HTML, SVG
from consentkit.rules import BlockPlan, Rule
from consentkit.tags import decide_tag
from consentkit.tokens import TAG, parse_attrs, self_closing

from .conftest import POLICY_YAML

PLAN = BlockPlan.build(parse_policy(POLICY_YAML), ("analytics", "marketing"))
PIXEL = "https://www.facebook.com/tr?id=1"


def decide(
    tag: bytes, *, inert: bool = False, namespace: int = HTML, plan: BlockPlan = PLAN
) -> tuple[Rule | None, bytes, str | None]:
    m = TAG.match(tag)
    assert m is not None and m.end() == len(tag)
    return decide_tag(
        plan,
        m.group(2).lower(),
        tag,
        parse_attrs(m.group(3)),
        self_closing(m.group(3)),
        namespace=namespace,
        inert=inert,
        nested=lambda document: Rule("marketing", "Meta Pixel") if PIXEL.encode() in document else None,
    )


@pytest.mark.parametrize(
    ("tag", "category"),
    [
        (b'<script src="https://www.googletagmanager.com/gtag/js?id=G-1" async>', "analytics"),
        (f'<img src="/a.png" srcset="{PIXEL} 2x">'.encode(), "marketing"),
        (b'<link rel=preconnect href="https://www.google-analytics.com">', "analytics"),
        (f'<video poster="{PIXEL}" src="/v.mp4">'.encode(), "marketing"),
        (b"<p data-consent=marketing>", "marketing"),
        (b"<P DATA-CONSENT=' Marketing '>", "marketing"),
        (f'<iframe srcdoc="&lt;img src={PIXEL}&gt;">'.encode(), "marketing"),  # what the document loads
    ],
)
def test_an_element_that_fetches_from_a_blocked_host_is_blocked_whole(tag: bytes, category: str) -> None:
    rule, written, _ = decide(tag)
    assert rule is not None and rule.category == category
    assert written == tag


@pytest.mark.parametrize(
    "tag",
    [
        b"<p data-consent=necessary>",
        b'<a href="https://www.facebook.com/page">',  # a link fetches nothing until followed
        b'<img src="/static/logo.png" alt="Logo: https://www.facebook.com/tr">',
        b'<script src="/static/app.js">',
    ],
)
def test_an_element_that_loads_nothing_blocked_is_kept_as_it_was(tag: bytes) -> None:
    assert decide(tag) == (None, tag, None)


def test_a_fetching_attribute_is_taken_off_and_the_element_stays() -> None:
    tag = f'<div class=hero style="background:url({PIXEL})">'.encode()
    rule, written, category = decide(tag)
    assert rule is None and category == "marketing"
    assert b"facebook.com" not in written
    tree = html5lib.parse(written, namespaceHTMLElements=False)
    div = tree.find(".//div")
    assert div is not None and div.get("class") == "hero"


def test_in_inert_mode_what_is_taken_off_is_kept_aside_for_activation() -> None:
    tag = f'<div style="background:url({PIXEL})">'.encode()
    rule, written, category = decide(tag, inert=True)
    assert rule is None and category == "marketing"
    tree = html5lib.parse(written, namespaceHTMLElements=False)
    div = tree.find(".//div")
    assert div is not None
    assert div.get("data-consentkit-attr-style") == f"background:url({PIXEL})"
    assert div.get("data-consentkit-category") == "marketing"
    assert "facebook.com" not in (div.get("style") or "")


def test_svg_elements_are_judged_in_their_namespace() -> None:
    image = f'<image href="{PIXEL}"/>'.encode()
    rule, _, _ = decide(image, namespace=SVG)
    assert rule is not None and rule.category == "marketing"


def test_nothing_denied_blocks_nothing() -> None:
    plan = BlockPlan.build(parse_policy(POLICY_YAML), ("marketing",))
    tag = b'<script src="https://www.googletagmanager.com/gtag/js?id=G-1">'
    assert decide(tag, plan=plan) == (None, tag, None)


def test_a_cached_decision_is_the_decision_for_that_plan_and_context() -> None:
    tag = b'<script src="https://www.googletagmanager.com/gtag/js?id=G-1">'
    first = decide(tag)
    assert decide(tag) == first
    analytics_only = BlockPlan.build(parse_policy(POLICY_YAML), ("marketing",))
    assert decide(tag, plan=analytics_only)[0] is None  # another plan: its own decision
    assert decide(tag, inert=True)[0] == first[0]


def browser_element(tag: bytes) -> tuple[str, dict[str, str]]:
    body = html5lib.parse(b"<body>" + tag, namespaceHTMLElements=False).find("body")
    assert body is not None and len(body) == 1, tag
    return body[0].tag, dict(body[0].attrib)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ab-\"'<=", min_size=1, max_size=4), st.text(alphabet="ab \"'&;", max_size=5)
        ),
        max_size=3,
    ),
    st.integers(min_value=0, max_value=3),
)
def test_a_rewritten_tag_is_the_same_element_without_what_fetches(
    others: list[tuple[str, str]], position: int
) -> None:
    """Odd names and values around the fetching attribute: the rewritten tag reads back, in a
    browser, as the same element with the same other attributes, or the element is blocked whole."""
    attrs = [f' {name}="{value.replace(chr(34), "&quot;")}"' for name, value in others]
    attrs.insert(min(position, len(attrs)), f' style="background:url({PIXEL})"')
    tag = ("<div" + "".join(attrs) + ">").encode()
    m = TAG.match(tag)
    assume(m is not None and m.end() == len(tag))
    rule, written, category = decide(tag)
    assert category == "marketing" or rule is not None
    if rule is not None:
        return  # blocked whole: nothing of it reaches the page
    assert b"facebook.com" not in written
    name, before = browser_element(tag)
    assert browser_element(written) == (name, {**before, "style": "background:url(about:invalid)"})
