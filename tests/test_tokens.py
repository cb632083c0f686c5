"""The tokenizer rules the rewriter reads tags with (``consentkit.tokens``), against html5lib."""

from __future__ import annotations

import html5lib
from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.tokens import TAG, attr, parse_attrs, self_closing


def browser_attrs(tag: bytes) -> dict[str, str]:
    """The attributes html5lib (a browser's tokenizer) gives the element a start tag makes."""
    tree = html5lib.parse(b"<body>" + tag, namespaceHTMLElements=False)
    body = tree.find("body")
    assert body is not None and len(body), tag
    return dict(body[0].attrib)


def test_quotes_open_a_value_only_right_after_the_equals_sign() -> None:
    tag = b'<img alt=a"b title=\'x > y\' src="/p.png" data-x = "sp aced" hidden>'
    m = TAG.match(tag)
    assert m is not None and m.end() == len(tag)
    attrs = parse_attrs(m.group(3))
    assert [(name, value) for name, value, _ in attrs] == [
        (b"alt", b'a"b'),
        (b"title", b"x > y"),
        (b"src", b"/p.png"),
        (b"data-x", b"sp aced"),
        (b"hidden", None),
    ]
    assert attr(attrs, b"hidden") == b""
    assert attr(attrs, b"missing") is None


def test_an_unterminated_quoted_value_leaves_the_tag_incomplete() -> None:
    assert TAG.match(b'<a href="/x>more text') is None


def test_the_self_closing_slash_is_not_the_end_of_an_unquoted_value() -> None:
    assert self_closing(b' d="M0"/')
    assert self_closing(b"/")
    assert not self_closing(b" href=/a/")
    assert not self_closing(b" a")


names = st.text(alphabet="abcdxyz-", min_size=1, max_size=6)
values = st.text(alphabet="ab /=>'\"\t<", max_size=8)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(names, st.sampled_from(['"', "'", ""]), values),
        min_size=1,
        max_size=4,
        unique_by=lambda item: item[0],
    )
)
def test_attributes_are_read_as_a_browser_reads_them(parts: list[tuple[str, str, str]]) -> None:
    text = "".join(f" {name}={quote}{value}{quote}" for name, quote, value in parts)
    tag = f"<span{text}>".encode()
    m = TAG.match(tag)
    if m is None or m.end() != len(tag):
        return  # the tag ends elsewhere: covered by the fuzzers against html5lib
    ours: dict[str, str] = {}
    for name, value, _ in parse_attrs(m.group(3)):
        ours.setdefault(name.decode(), (value or b"").decode())  # a repeated name: the first counts
    assert ours == browser_attrs(tag), tag
