"""The tree builder's namespace rules for SVG and MathML, as far as they decide how markup reads.

Inside ``<svg>``/``<math>`` there are no raw-text elements: ``<style>``, ``<title>``... hold
markup. Whether a tag is read by HTML or by foreign rules depends on the stack of open
elements: breakout tags (``<b>``, ``<img>``, ``<p>`` ...) pop back to the nearest HTML
element or integration point; inside an integration point (SVG ``foreignObject``, ``desc``,
``title``; MathML ``mi``, ``mo``, ``mn``, ``ms``, ``mtext``; ``annotation-xml`` with an HTML
encoding) start tags follow HTML rules again and an ordinary tag does not leave SVG; ``</p>``
and ``</br>`` pop foreign elements. ``ForeignStack`` keeps the part of the stack that starts
at the outermost ``<svg>``/``<math>`` and applies those rules to each tag.
"""

from __future__ import annotations

from typing import Final

__all__ = ["HTML", "MATHML", "SVG", "ForeignStack"]

HTML, SVG, MATHML = 0, 1, 2

BREAKOUT: Final = frozenset(
    {b"b", b"big", b"blockquote", b"body", b"br", b"center", b"code", b"dd", b"div", b"dl", b"dt", b"em",
     b"embed", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head", b"hr", b"i", b"img", b"li", b"listing",
     b"menu", b"meta", b"nobr", b"ol", b"p", b"pre", b"ruby", b"s", b"small", b"span", b"strong", b"strike",
     b"sub", b"sup", b"table", b"tt", b"u", b"ul", b"var"}
)  # fmt: skip
_SVG_HTML_POINTS: Final = frozenset({b"foreignobject", b"desc", b"title"})
_MATHML_TEXT_POINTS: Final = frozenset({b"mi", b"mo", b"mn", b"ms", b"mtext"})
_HTML_ENCODINGS: Final = frozenset({b"text/html", b"application/xhtml+xml"})
_VOID: Final = frozenset(
    {b"area", b"base", b"basefont", b"bgsound", b"br", b"col", b"embed", b"hr", b"img", b"image", b"input",
     b"keygen", b"link", b"meta", b"param", b"source", b"track", b"wbr", b"frame"}
)  # fmt: skip
# HTML start tags that close an open <p> (in button scope) before they are inserted.
_CLOSES_P: Final = frozenset(
    {b"address", b"article", b"aside", b"blockquote", b"center", b"details", b"dialog", b"dir", b"div", b"dl",
     b"fieldset", b"figcaption", b"figure", b"footer", b"header", b"hgroup", b"main", b"menu", b"nav", b"ol",
     b"p", b"search", b"section", b"summary", b"ul", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"pre",
     b"listing", b"form", b"hr", b"xmp", b"table", b"li", b"dd", b"dt", b"plaintext"}
)  # fmt: skip
# Elements whose content the rewriter reads up to their own end tag.
_RAW: Final = frozenset(
    {b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript",
     b"plaintext"}
)  # fmt: skip
_SCOPE: Final = frozenset({b"button", b"table", b"td", b"th", b"caption", b"template", b"marquee", b"object"})
_HEADINGS: Final = frozenset({b"h1", b"h2", b"h3", b"h4", b"h5", b"h6"})
_SPECIAL: Final = frozenset(
    {b"address", b"applet", b"area", b"article", b"aside", b"base", b"basefont", b"bgsound", b"blockquote",
     b"body", b"br", b"button", b"caption", b"center", b"col", b"colgroup", b"dd", b"details", b"dir", b"div",
     b"dl", b"dt", b"embed", b"fieldset", b"figcaption", b"figure", b"footer", b"form", b"frame", b"frameset",
     b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head", b"header", b"hgroup", b"hr", b"html", b"iframe",
     b"img", b"input", b"keygen", b"li", b"link", b"listing", b"main", b"marquee", b"menu", b"meta", b"nav",
     b"noembed", b"noframes", b"noscript", b"object", b"ol", b"p", b"param", b"plaintext", b"pre", b"script",
     b"search", b"section", b"select", b"source", b"style", b"summary", b"table", b"tbody", b"td",
     b"template", b"textarea", b"tfoot", b"th", b"thead", b"title", b"tr", b"track", b"ul", b"wbr", b"xmp"}
)  # fmt: skip

Node = tuple[bytes, int, bool]  # (lower-cased name, namespace, is an integration point)


class ForeignStack:
    """Open elements from the outermost ``<svg>``/``<math>`` inwards (empty: plain HTML)."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        #: An end tag matched no element we follow: it may have closed one we do not (an SVG
        #: element left untracked, an HTML element below the <svg>). Until the stack empties,
        #: raw-text elements are read as markup too (the side that can only block more).
        self.uncertain = False
        #: ``</p>``/``</br>`` in SVG/MathML: browsers now pop the foreign elements, older parsers
        #: (and html5lib) keep them. Raw-text elements are read as markup for the rest of the page.
        self.end_p_seen = False

    def __bool__(self) -> bool:
        return bool(self.nodes)

    def inside(self, namespace: int) -> ForeignStack:
        """A stack for content read as the children of an element in ``namespace`` opened here
        (a held SVG/MathML script's markup). What made this stack unsure of the parse holds there
        too."""
        stack = ForeignStack()
        if namespace != HTML:
            stack.start(b"math" if namespace == MATHML else b"svg", [], False)
            stack.uncertain = self.uncertain
        stack.end_p_seen = self.end_p_seen
        return stack

    @property
    def mode(self) -> int:
        """0: plain HTML; 1: SVG/MathML content; 2: an integration point or HTML inside it is
        open, where every tag may move the current node between HTML and foreign rules."""
        if not self.nodes:
            return 0
        return 2 if any(ns == HTML or point for _, ns, point in self.nodes) else 1

    @property
    def foreign_node(self) -> bool:
        """Whether the current node is an SVG/MathML element (CDATA sections are read then)."""
        return bool(self.nodes) and self.nodes[-1][1] != HTML

    def _html_rules_for(self, name: bytes) -> bool:
        """Whether a start tag is read by HTML rules at the current node."""
        if not self.nodes:
            return True
        node, ns, point = self.nodes[-1]
        if ns == HTML or point:
            return not (ns == MATHML and node in _MATHML_TEXT_POINTS and name in (b"mglyph", b"malignmark"))
        return ns == MATHML and node == b"annotation-xml" and name == b"svg"

    def _pop_to_html(self) -> None:
        """Pop until the current node is HTML, an integration point, or nothing is left."""
        while self.nodes and self.nodes[-1][1] != HTML and not self.nodes[-1][2]:
            self.nodes.pop()
        if not self.nodes:
            self.uncertain = False

    def start(
        self, name: bytes, attrs: list[tuple[bytes, bytes | None, bytes]], self_closing: bool
    ) -> tuple[int, bool]:
        """A start tag: (the namespace of the element it makes, whether it left foreign content)."""
        broke_out = False
        if not self._html_rules_for(name):
            breakout = name in BREAKOUT or (
                name == b"font" and any(a[0] in (b"color", b"face", b"size") for a in attrs)
            )
            if not breakout:
                ns = self.nodes[-1][1]
                if not self_closing:
                    point = (ns == SVG and name in _SVG_HTML_POINTS) or (
                        ns == MATHML
                        and (
                            name in _MATHML_TEXT_POINTS
                            or (name == b"annotation-xml" and _encoding(attrs) in _HTML_ENCODINGS)
                        )
                    )
                    self.nodes.append((name, ns, point))
                return ns, False
            self._pop_to_html()
            broke_out = True
        # HTML rules
        if name in (b"svg", b"math"):
            ns = SVG if name == b"svg" else MATHML
            if not self_closing:
                self.nodes.append((name, ns, False))
            return ns, broke_out
        if self.nodes:
            self._html_start(name)
        return HTML, broke_out

    def _html_start(self, name: bytes) -> None:
        """An HTML element opened inside an integration point (implied end tags applied)."""
        if name in _CLOSES_P:
            if name == b"li":
                self._close_in_scope({b"li"}, stop_at={b"ul", b"ol"})
            elif name in (b"dd", b"dt"):
                self._close_in_scope({b"dd", b"dt"}, stop_at=set())
            self._close_in_scope({b"p"}, stop_at=set())
            if name in _HEADINGS and self.nodes[-1][0] in _HEADINGS and self.nodes[-1][1] == HTML:
                self.nodes.pop()
        elif name == b"option" and self.nodes[-1][:2] == (b"option", HTML):
            self.nodes.pop()
        if name not in _VOID and name not in _RAW:
            self.nodes.append((name, HTML, False))

    def _close_in_scope(self, names: set[bytes], stop_at: set[bytes]) -> None:
        for index in range(len(self.nodes) - 1, -1, -1):
            node, ns, point = self.nodes[index]
            if ns == HTML and node in names:
                del self.nodes[index:]
                return
            if ns != HTML or point or node in stop_at or node in _SCOPE:
                return

    def end(self, name: bytes) -> None:
        """An end tag, by foreign or HTML rules depending on the current node."""
        if not self.nodes:
            return
        if self.nodes[-1][1] != HTML:
            if name in (b"p", b"br"):
                self.end_p_seen = True
                self._pop_to_html()
                if self.nodes:
                    self._html_end(name)
                return
            for index in range(len(self.nodes) - 1, -1, -1):
                node = self.nodes[index][0]
                if node == name:
                    del self.nodes[index:]
                    if not self.nodes:
                        self.uncertain = False
                    return
                if index == 0 or self.nodes[index - 1][1] == HTML:
                    if index == 0:
                        self.uncertain = True  # an element we do not follow may have closed
                        return
                    self._html_end(name)
                    return
            return
        self._html_end(name)

    def _html_end(self, name: bytes) -> None:
        """The "any other end tag" rule of "in body", on our part of the stack."""
        for index in range(len(self.nodes) - 1, -1, -1):
            node, ns, point = self.nodes[index]
            if ns == HTML and node == name:
                del self.nodes[index:]
                if not self.nodes:
                    self.uncertain = False
                return
            if point or (ns == HTML and node in _SPECIAL):
                return  # a special element: the end tag is ignored
        self.uncertain = True
        # Not found among our nodes: it closes an HTML element below the <svg>, if there is one.
        # The caller decides (it cannot know that element exists).


def _encoding(attrs: list[tuple[bytes, bytes | None, bytes]]) -> bytes:
    for key, value, _ in attrs:
        if key == b"encoding":
            return (value or b"").strip().lower()
    return b""
