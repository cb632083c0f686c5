"""Streaming HTML rewriter: blocks tags of denied categories and injects consentkit's markup.

It works on raw bytes, chunk by chunk, carrying only an incomplete construct (a tag, the
tail of a comment or of a raw-text element) across chunk boundaries, so memory stays
bounded whatever the document size, and the output is the same however the document is
split into chunks.

The ``Rewriter`` is the state machine; the layers under it each have one job. The scan
(``scanner``: C, or its Python twin) copies text and tags that need no look and stops at the
few that matter, by the stop sets of ``stops.py``; those tags are read with ``tokens.py``
(the HTML tokenizer's attribute quoting, exactly) and judged by ``tags.py`` (blocked whole,
or fetching attributes taken off; what each tag fetches is in ``fetches.py``). The rewriter
itself follows the tokenizer's raw-text states (``</body>`` inside a script or ``<textarea>``
is text), the tree builder's namespace rules for SVG and MathML (``namespaces.py``), holds
inline scripts and stylesheets to inspect them whole, and places consentkit's markup
(``inject.py``) where the body starts. An incomplete tag cut across chunks is followed by
``tagscan.py`` in linear time.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Final

from . import scanner
from .css import might_fetch
from .fetches import json_urls_rule, neutralize_css
from .inject import CommentsOnly, Injector, blocked_comment, inert_script_tag, inert_tag
from .namespaces import HTML, ForeignStack
from .rules import BlockPlan, Rule, google_tag_inline
from .stops import BLOCKING_CANDIDATES, HEAD_SKIP, scan_stops
from .tags import UNINSPECTED, decide_tag
from .tagscan import TagScanner
from .tokens import (
    COMMENT_END,
    DATA_CONSENT,
    FOREIGN_SCRIPT_TOKENS,
    FOREIGN_STYLE_TOKENS,
    HEAD_TAGS,
    JS_TYPES,
    RAWTEXT,
    SCRIPT_TOKENS,
    TAG,
    TAGS_AND_COMMENTS,
    TOKEN_ROOM,
    VOID,
    Attrs,
    attr,
    dimension,
    esc,
    parse_attrs,
    raw_end_pattern,
    self_closing,
)
from .urls import url_host

__all__ = ["BlockPlan", "Injector", "Rewriter", "Rule", "blocked_comment", "url_host"]

# SVG/MathML elements the rewriter handles itself (the rest only move the namespace stack).
_FOREIGN_SPECIAL: Final = frozenset({b"script", b"style", b"svg", b"math", b"noscript"})
_URLISH: Final = re.compile(rb"[/\\:&]|srcdoc|data-consent", re.I)
#: Hosts and inline markers that identify a Google tag (for the Consent Mode default).
GOOGLE_TAG_HOSTS: Final = frozenset(
    {
        "www.googletagmanager.com",
        "googletagmanager.com",
        "www.google-analytics.com",
        "ssl.google-analytics.com",
        "www.googleadservices.com",
        "googleads.g.doubleclick.net",
        "pagead2.googlesyndication.com",
    }
)

HOLD_SCRIPT_MAX: Final = 1 << 20  # inline scripts are inspected whole up to this size, else blocked
HOLD_NOSCRIPT_MAX: Final = 64 << 10  # a <noscript> with blocked content is replaced whole up to this size
#: Documents inside documents (SVG script content, <noscript>, srcdoc) are rewritten by nested
#: rewriters; past this depth the element is blocked uninspected rather than recursed into.
NESTING_MAX: Final = 8
# Where the page places the banner itself, and the start tag of a banner it rendered itself.
_MARKER: Final = re.compile(rb"<!--[\t\n\f\r ]*consentkit:banner[\t\n\f\r ]*-->", re.I)
_PAGE_BANNER: Final = b"consentkit-banner"
#: A tag cut across chunks is held whole up to this size (an inline ``data:`` image, say);
#: a longer one is dropped unread when something is blocked (fail closed), else passed through.
HOLD_TAG_MAX: Final = 16 << 20

# What is held: an inline script, a stylesheet, an import map or speculation rules (JSON).
_SCRIPT, _CSS, _JSON = range(3)

# Rewriter states
_DATA, _RAW, _COMMENT, _BOGUS, _HOLD, _NOSCRIPT, _PLAIN, _CDATA = range(8)


@dataclass(slots=True)
class _Held:
    """An element kept back until its end tag, to be inspected whole (see ``Rewriter._hold``)."""

    tag: bytes = b""
    attrs: Attrs = field(default_factory=list)
    kind: int = _SCRIPT
    check: bool = False  # inspect it for tracker code (else only for a Google tag)
    google: bool = False  # look for a Google tag (the Consent Mode default goes before it)
    markup: bool = False  # its content is SVG/MathML markup
    loose: bool = False  # a listed host anywhere in it blocks it
    namespace: int = HTML  # the element's
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    overflow: bool = False  # too large to inspect: blocked, the rest dropped


@dataclass
class _Frame:
    """An element being removed (``drop``) or wrapped in ``<template>`` (inert mode)."""

    name: bytes
    drop: bool
    depth: int = 0


class Rewriter:
    """Rewrites one HTML response: ``feed`` each chunk, then ``close``; both return bytes to send.

    ``plan`` says what to block (``None``: nothing). ``injector`` supplies the markup to add.
    With ``consent_mode`` the Consent Mode default is placed before the first Google tag.
    A ``nested`` rewriter reads content held by another at ``depth``, starting from ``foreign``
    (:meth:`ForeignStack.inside`: an SVG/MathML script's content is SVG/MathML markup).
    """

    def __init__(
        self,
        plan: BlockPlan | None,
        injector: Injector | None = None,
        *,
        consent_mode: bool = False,
        nested: bool = False,
        xml: bool = False,
        foreign: ForeignStack | None = None,
        depth: int = 0,
    ) -> None:
        self.plan = plan if plan is not None and plan.denied else None
        self.injector: Injector = injector if injector is not None else CommentsOnly()
        self.nested = nested
        #: An XHTML page (application/xhtml+xml): read with XML rules, no raw-text elements.
        self.xml = xml
        self.inject = injector is not None and not nested
        self.inert = self.plan is not None and self.plan.mode == "inert" and not nested
        self.gcm_pending = consent_mode and not nested
        #: The first category something was blocked for (``None``: nothing blocked).
        self.first_blocked: str | None = None
        self._pending = b""
        # an incomplete tag at the end of the input, scanned incrementally as chunks arrive
        self._tag_scan: TagScanner | None = None
        self._tag_parts: list[bytes] = []
        self._tag_size = 0
        self._tag_mode = 0  # 0 holding the tag; 1 dropping it unread; 2 passing it through
        self._state = _DATA
        self._out: list[bytes] = []
        self._body_end_done = False
        #: The banner waits for the page's marker (<!-- consentkit:banner -->) further on.
        self._banner_waits = False
        self._manual = False  # <meta name="consentkit-banner" content="manual">: wait for the marker
        self._ahead = b""
        self._pos = 0  # where in the buffer the scanner is (for look-ahead at the body's start)
        self._marker_at = -1  # the last marker in the buffer
        self._page_banner_at = -1  # the last "consentkit-banner" in the buffer
        self._body_start_done = False
        self._frames: list[_Frame] = []
        self._dropping = False
        self._foreign = foreign if foreign is not None else ForeignStack()
        self._depth = depth
        self._namespace = HTML  # of the element whose start tag is being handled
        self._escape = 0
        self._foreign_script = False
        self._nested_scripts = 0  # SVG/MathML script elements open inside a held one
        self._in_select = False
        self._lang_done = False
        self._sniff = b""
        self._tail = b""
        # Until the body starts, every tag and text is looked at: our additions go right where
        # the body begins (after <body>, or before the first content), where the parser's state
        # is known whatever the page does later (unclosed <select>, <a>, tables, <plaintext>).
        self._prebody = self.inject
        self._xml_head = False  # inside an XHTML <head> (XML has no raw text: its <title> is text)
        self._banner_meta = True  # the chunk at hand may name our banner (a <meta> to look at)
        # The URL filter (scanner.URL_FILTER) keeps most tags in the C scan; in the Python twin,
        # checking every tag's values costs more than the stops it saves: it stops by names.
        self._filtered = scanner.NATIVE
        self._cand = self._candidate_pattern()
        self._passthrough = self.plan is None and not self.gcm_pending and not nested and not self.inject
        self._to_passthrough = False
        # raw-text element being copied (or dropped) up to its end tag
        self._raw_name = b""
        self._raw_drop = False
        self._raw_after = b""
        # a held inline <script>
        self._held = _Held()
        # a <noscript> whose content goes through a nested rewriter
        self._ns_tag = b""
        self._ns_sub: Rewriter | None = None
        self._ns_parts: list[bytes] = []
        self._ns_size = 0
        self._ns_streaming = False

    # --- public API ---

    def feed(self, data: bytes) -> bytes:
        """Process one chunk; returns what can be sent now."""
        if self._passthrough:
            if not self._lang_done and self.inject:
                self._sniff_lang(data)
            return data
        if not data:
            return b""
        if self._tag_scan is not None:
            data = self._continue_tag(data)
            if not data:
                return self._take()
        self._run(data, final=False)
        self._check_partial_tag()
        return self._take()

    def close(self) -> bytes:
        """Finish the document: flush everything held and inject what is still due."""
        if self._passthrough:
            if self.inject and not self._lang_done:
                self._sniff_lang(b"", final=True)
            if self.inject and not self._body_end_done:
                self._body_end_done = True
                return self.injector.body_end()
            return b""
        if self._tag_scan is not None:
            self._tag_scan = None
            if self._tag_mode == 0:
                self._pending = b"".join(self._tag_parts)
            self._tag_parts = []
        self._run(b"", final=True)
        self._finish()
        return self._take()

    def _check_partial_tag(self) -> None:
        """After a chunk: if what is left is an incomplete tag, follow its end incrementally."""
        pending = self._pending
        if len(pending) < 256 or not TagScanner.starts_tag(pending):
            return  # short leftovers are cheap to scan again
        tag_scan = TagScanner()
        if tag_scan.feed(pending) >= 0:
            return  # complete: something else (a token at the chunk's edge) held it back
        self._tag_scan = tag_scan
        self._tag_parts = [pending]
        self._tag_size = len(pending)
        self._tag_mode = 0
        self._pending = b""

    def _continue_tag(self, data: bytes) -> bytes:
        """Feed a chunk to the incomplete tag; what follows the tag once it is complete, else b""."""
        tag_scan = self._tag_scan
        assert tag_scan is not None
        before = self._tag_size
        end = tag_scan.feed(data)
        cut = len(data) if end < 0 else end - before
        mode = self._tag_mode
        if mode == 0:
            self._tag_parts.append(data[:cut])
            self._tag_size += cut
            if end < 0 and self._tag_size > HOLD_TAG_MAX:
                if self.plan is not None or self.nested:
                    # Too long to hold for inspection: drop it unread (it cannot load anything).
                    self._tag_mode = mode = 1
                    self._mark_blocked(UNINSPECTED)
                else:
                    self._tag_mode = mode = 2
                    self._emit(b"".join(self._tag_parts))
                self._tag_parts = []
        else:
            self._tag_size += cut
            if mode == 2:
                self._emit(data[:cut])
        if end < 0:
            return b""
        self._tag_scan = None
        if mode == 0:
            data = b"".join(self._tag_parts) + data[cut:]
        else:
            data = data[cut:]
            if mode == 1:
                self._emit(self.injector.blocked(UNINSPECTED))
        self._tag_parts = []
        self._tag_size = 0
        return data

    # --- output plumbing ---

    def _take(self) -> bytes:
        if not self._out:
            return b""
        result = b"".join(self._out)
        self._out = []
        return result

    def _emit(self, data: bytes) -> None:
        if not data or self._dropping:
            return
        self._out.append(data)

    def _mark_blocked(self, category: str) -> None:
        if self.first_blocked is None:
            self.first_blocked = category

    def _foreign_changed(self, was: int) -> None:
        if was != self._foreign.mode:
            self._cand = self._candidate_pattern()

    def _set_in_select(self, value: bool) -> None:
        if value != self._in_select:
            self._in_select = value
            self._cand = self._candidate_pattern()

    def _set_frames(self) -> None:
        self._dropping = any(frame.drop for frame in self._frames)
        self._cand = self._candidate_pattern()

    def _candidate_pattern(self) -> Any:
        return scan_stops(
            prebody=self._prebody,
            xml=self.xml,
            blocking=self.plan is not None or self.nested,
            filtered=self._filtered,
            foreign=self._foreign,
            banner_meta=self._banner_meta,
            in_select=self._in_select,
            frames=tuple(frame.name for frame in self._frames),
        )

    def _sniff_lang(self, data: bytes, final: bool = False) -> None:
        self._sniff += data[: 4096 - len(self._sniff)]
        lowered = self._sniff.lower()
        pos = lowered.find(b"<html")
        if pos >= 0:
            m = TAG.match(self._sniff, pos)
            if m is not None:
                self._lang_done = True
                self._html_lang(parse_attrs(m.group(3)))
                return
        if final or len(self._sniff) >= 4096 or lowered.find(b"<body") >= 0:
            self._lang_done = True

    def _html_lang(self, attrs: Attrs) -> None:
        lang = attr(attrs, b"lang") or attr(attrs, b"xml:lang")
        if lang:
            self.injector.html_lang(lang.decode("latin-1").strip())

    # --- the scanner ---

    def _run(self, data: bytes, final: bool) -> None:
        buf = self._pending + data if self._pending else data
        n = len(buf)
        # The lowered copy serves the Python scan (the C one does not read it) and, before the
        # body, the look for a <meta> naming our banner: lower the head's first 8 KB, and the rest
        # only if the scan goes on there with the Python scan or before the body.
        partial = self._prebody and not self.nested and n > 8192
        lbuf = buf[:8192].lower() if partial else self._lowered(buf)
        self._ahead = buf
        i = 0
        if self._prebody or self._banner_waits:
            # The last of each in one pass (most pages name neither, or "consentkit" only).
            self._marker_at = self._page_banner_at = -1
            k = buf.find(b"consentkit")
            while k >= 0:
                if buf.startswith(b"consentkit:banner", k):
                    self._marker_at = k
                elif buf.startswith(_PAGE_BANNER, k):
                    self._page_banner_at = k
                k = buf.find(b"consentkit", k + 10)
            if self._prebody:
                # (in any case within the lowered prefix, in lower case past it)
                named = self._page_banner_at >= 0 or _PAGE_BANNER in lbuf
                if named != self._banner_meta:
                    self._banner_meta = named
                    self._cand = self._candidate_pattern()
            if self._banner_waits and self._page_banner_at >= 0 and self._page_banner(buf, 0):
                self._banner_waits = False  # the page renders its own banner
        while i < n or (final and self._state not in (_DATA, _PLAIN)):
            state = self._state
            if partial and (not (self._prebody or self._to_passthrough) or i + 1024 > len(lbuf)):
                partial = False
                lbuf = self._lowered(buf)
            if state == _DATA:
                if self._prebody and self.plan is None:
                    # Nothing to block: whitespace and the head's ordinary tags need no look.
                    head = HEAD_SKIP.match(buf, i)
                    if head is not None and head.end() > i:
                        j = head.end()
                        if buf.find(_PAGE_BANNER, i, j) >= 0:
                            j = buf.rfind(b"<", i, buf.find(_PAGE_BANNER, i, j))  # look at that tag
                        self._emit(buf[i:j])
                        i = j
                        if i >= n:
                            break
                self._pos = i
                if self._to_passthrough and not self._banner_waits and not self._frames:
                    self._passthrough = True
                    self._emit(buf[i:])
                    i = n
                    break
                if self.plan is None or self._dropping:
                    attention, tag_filter = scanner.NONE, None
                elif self._filtered:
                    attention, tag_filter = scanner.NAMES_FILTERED, scanner.URL_FILTER
                else:
                    attention, tag_filter = scanner.NAMES, None
                p, kind = scanner.advance(buf, lbuf, i, self._cand, attention, tag_filter)
                if partial and p + 1024 > len(lbuf):
                    partial = False  # the head goes on: lower all of it
                    lbuf = self._lowered(buf)
                self._text(buf[i:p])
                i = p
                if kind == scanner.END:
                    break
                if kind == scanner.DECL:
                    i, stop = self._markup_declaration(buf, p, final)
                    if stop:
                        break
                    continue
                read = scanner.read_tag(buf, p)
                if read is None:  # incomplete: keep it for the next chunk, or drop it at the end
                    if not final:
                        break
                    i = self._eof_in_tag(buf, p)
                    continue
                end, name_end = read
                raw = buf[p:end]
                if buf[p + 1] == 0x2F:  # "/"
                    self._end_tag(raw, buf[p + 2 : name_end].lower())
                else:
                    self._start_tag(raw, buf[p + 1 : name_end].lower(), buf[name_end : end - 1])
                i = end
            elif state == _COMMENT:
                m = COMMENT_END.search(buf, i)
                if m is None:
                    upto = n if final else max(i, n - 3)
                    self._emit(buf[i:upto])
                    i = upto
                    if final:
                        self._close_open_construct(b"-->")
                    break
                self._emit(buf[i : m.end()])
                i = m.end()
                self._state = _DATA
            elif state == _BOGUS:
                j = buf.find(b">", i)
                if j < 0:
                    self._emit(buf[i:])
                    i = n
                    if final:
                        self._close_open_construct(b">")
                    break
                self._emit(buf[i : j + 1])
                i = j + 1
                self._state = _DATA
            elif state == _PLAIN:
                self._emit(buf[i:])
                i = n
                break
            elif state == _CDATA:
                j = buf.find(b"]]>", i)
                if j < 0:
                    upto = n if final else max(i, n - 2)
                    self._emit(buf[i:upto])
                    i = upto
                    if final:
                        self._close_open_construct(b"]]>")
                    break
                self._emit(buf[i : j + 3])
                i = j + 3
                self._state = _DATA
            else:
                i, stop = self._rawtext(buf, i, final)
                if stop:
                    break
        self._pending = buf[i:] if i < n else b""

    def _lowered(self, buf: bytes) -> bytes:
        """``buf.lower()`` where it is read: by the Python scan, or before the body."""
        return buf.lower() if self._prebody or not scanner.NATIVE else buf

    def _text(self, data: bytes) -> None:
        """Text and ordinary tags (before the body, the head's quiet tags: see HEAD_QUIET)."""
        if self._prebody and data and not self._xml_head:
            quiet = data.lstrip(b"\t\n\f\r ")
            if quiet[:1] == b"<":
                head = HEAD_SKIP.match(data)
                quiet = data[head.end() :] if head is not None else data
            if quiet:  # the first character that is not whitespace or a quiet tag starts the body
                self._emit(data[: len(data) - len(quiet)])
                self._body_begins(after=b"")
                data = quiet
        self._emit(data)

    def _body_begins(self, after: bytes) -> None:
        """Our additions, where the body starts: ``after`` is the ``<body>`` tag, if there is one.

        Then output is held (bounded) to look for the page's placement marker or own banner.
        """
        self._prebody = False
        self._lang_done = True
        self._emit(after)
        if self.inject and not self._body_start_done and not self._dropping:
            self._body_start_done = True
            self._emit(self.injector.body_start())
            self._place_banner()
        self._cand = self._candidate_pattern()
        if self.plan is None and not self.gcm_pending and not self.nested:
            self._to_passthrough = True  # nothing else to look for once the banner is placed

    def _place_banner(self) -> None:
        """At the body's start: the banner goes here, at the page's marker further on, or nowhere
        (the page renders its own). What follows in the data at hand is looked at; a streamed
        page whose marker comes in a later chunk declares it with a ``<meta>`` (see policy.md)."""
        if self._body_end_done:
            return
        buf = self._ahead
        if self._page_banner_at > self._pos and self._page_banner(buf, self._pos):
            self._body_end_done = True  # rendered by the page (a template helper): not twice
        elif self._manual or (self._marker_at > self._pos and _MARKER.search(buf, self._pos) is not None):
            self._banner_waits = True
        else:
            self._body_end_done = True
            self._emit(self.injector.body_end())

    @staticmethod
    def _page_banner(buf: bytes, start: int) -> bool:
        """Whether a start tag with ``id="consentkit-banner"`` follows ``start`` in the buffer."""
        k = buf.find(_PAGE_BANNER, start)
        while k >= 0:
            lt = buf.rfind(b"<", start, k)
            tag = TAG.match(buf, lt) if lt >= 0 else None
            if tag is not None and tag.end() > k and not tag.group(1):
                ids = attr(parse_attrs(tag.group(3)), b"id")
                if ids is not None and ids.strip() == _PAGE_BANNER:
                    return True
            k = buf.find(_PAGE_BANNER, k + 1)
        return False

    def _close_open_construct(self, closer: bytes) -> None:
        """At the end of a truncated document, close a comment so our markup is not swallowed."""
        self._state = _DATA
        if self.inject:
            self._emit(closer)

    def _eof_in_tag(self, buf: bytes, p: int) -> int:
        """The document ends inside a tag. Browsers drop such a tag; so do we if it could be blocked."""
        rest = buf[p:]
        if self.plan is not None:
            m = re.match(rb"</?([A-Za-z][^\t\n\f\r />]*)", rest)
            name = m.group(1).lower() if m else b""
            if name in BLOCKING_CANDIDATES or DATA_CONSENT in rest.lower():
                self._mark_blocked("incomplete")
                return len(buf)
        self._tail += rest
        return len(buf)

    def _markup_declaration(self, buf: bytes, p: int, final: bool) -> tuple[int, bool]:
        """``<!--``, ``<!...>``, ``<?...>`` or ``</`` not followed by a letter."""
        n = len(buf)
        if not final and n - p < 6 and b"<!--".startswith(buf[p : p + 4]):
            return p, True
        if self._banner_waits and buf.startswith(b"<!--", p):
            marker = _MARKER.match(buf, p)
            if marker is not None:  # the page says where the banner goes
                self._banner_waits = False
                self._body_end_done = True
                self._emit(self.injector.body_end())
                return marker.end(), False
            if not final and n - p < 64 and buf.find(b"-->", p) < 0:
                return p, True  # too short to tell yet
        if buf.startswith(b"<!--", p):
            if buf.startswith(b">", p + 4):
                self._emit(buf[p : p + 5])
                return p + 5, False
            if buf.startswith(b"->", p + 4):
                self._emit(buf[p : p + 6])
                return p + 6, False
            self._emit(buf[p : p + 4])
            self._state = _COMMENT
            return p + 4, False
        if buf.startswith(b"</>", p):
            self._emit(b"</>")
            return p + 3, False
        if self._foreign.foreign_node or self.xml:
            # In SVG/MathML (and XHTML) a CDATA section is text up to "]]>"; elsewhere it is a bogus comment.
            if not final and n - p < 9 and b"<![CDATA[".startswith(buf[p : p + 9]):
                return p, True
            if buf.startswith(b"<![CDATA[", p):
                self._emit(buf[p : p + 9])
                self._state = _CDATA
                return p + 9, False
        self._state = _BOGUS
        return p, False

    # --- tags ---

    def _end_tag(self, raw: bytes, name: bytes) -> None:
        if self._foreign:
            was = self._foreign.mode
            self._foreign.end(name)
            self._foreign_changed(was)
        for index in range(len(self._frames) - 1, -1, -1):
            frame = self._frames[index]
            if frame.name != name:
                continue
            if frame.depth > 0:
                frame.depth -= 1
                self._emit(raw)
                return
            # Close this frame (and, as a browser would, any left open inside it).
            closing = self._frames[index:]
            del self._frames[index:]
            was_dropping = self._dropping
            self._set_frames()
            if not was_dropping:
                inner = b"".join(b"</template>" for f in reversed(closing[1:]) if not f.drop)
                self._emit(inner + raw + (b"" if frame.drop else b"</template>"))
            return
        if name == b"select":
            self._set_in_select(False)
            self._emit(raw)
        elif name == b"head":
            self._xml_head = False
            self._emit(raw)
        elif self._prebody and name in (b"body", b"html", b"br"):
            self._body_begins(after=b"")  # these end tags start the body, as content would
            self._emit(raw)
        else:
            self._emit(raw)

    def _start_tag(self, raw: bytes, name: bytes, raw_attrs: bytes) -> None:
        attrs = parse_attrs(raw_attrs)
        slash = self_closing(raw_attrs)  # only SVG/MathML honour it
        if self._foreign or name in (b"svg", b"math"):
            was = self._foreign.mode
            namespace, broke_out = self._foreign.start(name, attrs, slash)
            self._foreign_changed(was)
        else:
            namespace, broke_out = HTML, False
        foreign_element = namespace != HTML or self.xml  # XML rules: no raw text anywhere
        self._namespace = namespace
        closed_by_slash = slash and foreign_element
        for frame in self._frames:
            if frame.name == name and not closed_by_slash and name not in VOID:
                frame.depth += 1
        # A URL to another host needs "/", "\\", ":" or an entity ("&"): a tag without any
        # (most SVG paths, form fields) fetches nothing from a listed host.
        rule: Rule | None = None
        if self.plan is not None and not self._dropping and _URLISH.search(raw_attrs) is not None:
            rule, raw = self._decide(name, raw, raw_attrs, attrs, slash)
        elif (
            foreign_element
            and not broke_out
            and name not in _FOREIGN_SPECIAL
            and not self._frames
            and not self._prebody
        ):
            self._emit(raw)  # an SVG/MathML element that fetches nothing: the common case
            return
        if name == b"html":
            self._emit(raw)
            if not self._lang_done:
                self._lang_done = True
                self._html_lang(attrs)
            return
        if name == b"body":
            if self._prebody:
                self._body_begins(after=raw)
            else:
                self._emit(raw)
            return
        if self._prebody:
            if name == b"frameset":
                # A frameset page has no body: nothing of ours can show in it (its frames are
                # pages of their own, which get the banner). Add nothing rather than break it.
                self._prebody = False
                self._body_end_done = self._body_start_done = True
                self._cand = self._candidate_pattern()
            elif name not in HEAD_TAGS or namespace != HTML:
                self._body_begins(after=b"")
            elif name == b"head" and self.xml:
                self._xml_head = True
            elif name == b"meta" and (attr(attrs, b"name") or b"").strip().lower() == _PAGE_BANNER:
                self._manual = (attr(attrs, b"content") or b"").strip().lower() == b"manual"
        if rule is not None and broke_out:
            # The blocked tag also ended SVG/MathML content: an empty stand-in keeps that effect.
            self._emit(b'<span hidden=""></span>')
        if name in (b"svg", b"math") and foreign_element:
            if rule is None:
                self._emit(raw)
            else:
                self._block_element(name, raw, attrs, rule, void=slash)
            return
        if name == b"select":
            self._set_in_select(True)
        elif name in (b"textarea", b"input", b"keygen"):
            self._set_in_select(False)  # these close an open <select>
        # Inside <select>, parsers disagree on whether <style>, <title>... start raw text
        # (older ones ignore those tags): read their content as markup, the safe side.
        doubt = self._in_select or self._foreign.uncertain or self._foreign.end_p_seen
        foreign = foreign_element or (doubt and name != b"script")
        if name == b"script" and not foreign_element:
            self._script(raw, attrs, rule, doubt=doubt)
        elif name == b"script" and rule is None and not slash and self._checks_inline():
            # An SVG/MathML script runs too, but its content is markup: hold it, check it for
            # tracker code, and rewrite what it contains as markup.
            self._hold(raw, attrs, check=True, google=False, markup=True)
        elif name == b"noscript" and not foreign:
            self._noscript(raw, rule)
        elif (
            name == b"style"
            and rule is None
            and not closed_by_slash
            and self.plan is not None
            and not self._dropping
        ):
            # A stylesheet fetches too (@import, url()): hold it to take those URLs off.
            self._hold(raw, attrs, check=True, google=False, markup=foreign, kind=_CSS)
        elif name in RAWTEXT and not foreign:
            if rule is None:
                self._emit(raw)
                self._enter_raw(name)
            elif name == b"iframe":
                self._blocked_iframe(name, attrs, rule)
            else:
                self._block_raw(name, raw, rule)
        elif name == b"plaintext" and not foreign:
            if rule is None:
                self._emit(raw)
            else:  # everything after <plaintext> is its content: all of it is dropped
                self._mark_blocked(rule.category)
                self._emit(self.injector.blocked(rule.category))
                self._frames.append(_Frame(name, drop=True))
                self._set_frames()
            self._state = _PLAIN
        elif rule is None:
            self._emit(raw)
        else:
            self._block_element(name, raw, attrs, rule, void=name in VOID or closed_by_slash)

    def _nested_check(self, document: bytes) -> Rule | None:
        """What a rewrite of an embedded document (``srcdoc``, ``data:``) would block first."""
        if self._depth >= NESTING_MAX:
            return Rule(UNINSPECTED, UNINSPECTED)
        sub = Rewriter(self.plan, None, nested=True, depth=self._depth + 1)
        sub.feed(document)
        sub.close()
        return None if sub.first_blocked is None else Rule(sub.first_blocked, sub.first_blocked)

    def _decide(
        self, name: bytes, raw: bytes, raw_attrs: bytes, attrs: Attrs, slash: bool
    ) -> tuple[Rule | None, bytes]:
        """Whether the element is blocked whole, and its tag with fetching attributes taken off."""
        plan = self.plan
        assert plan is not None
        rule, new_raw, category = decide_tag(
            plan,
            name,
            raw,
            attrs,
            slash,
            namespace=self._namespace,
            inert=self.inert,
            nested=self._nested_check,
        )
        if rule is None and self._namespace != HTML:
            # An end tag naming an HTML element open below the <svg>/<math> (</div>, </span>)
            # leaves foreign content, and the scan does not follow HTML elements: what the tag
            # would load as HTML (a ping, say) is taken off too (when unsure, block).
            again = TAG.match(new_raw) if new_raw is not raw else None
            as_html = decide_tag(
                plan,
                name,
                new_raw,
                parse_attrs(again.group(3)) if again is not None else attrs,
                slash,
                namespace=HTML,
                inert=self.inert,
                nested=self._nested_check,
            )
            rule, new_raw, category = as_html[0], as_html[1], category or as_html[2]
        if category is not None:
            self._mark_blocked(category)
        return rule, new_raw

    # --- scripts ---

    def _script(self, raw: bytes, attrs: Attrs, rule: Rule | None, *, doubt: bool = False) -> None:
        script_type = (attr(attrs, b"type") or b"").decode("latin-1").strip().lower()
        executable = script_type in JS_TYPES
        src = attr(attrs, b"src")
        google = False
        if self.gcm_pending and executable and src:
            google = url_host(html.unescape(src.decode("latin-1"))) in GOOGLE_TAG_HOSTS
        if rule is not None:
            self._mark_blocked(rule.category)
            if self.inert:
                if google:
                    self._emit_consent_mode()
                self._emit(inert_script_tag(attrs, rule))
                self._enter_raw(b"script")
            else:
                self._emit(self.injector.blocked(rule.category))
                self._enter_raw(b"script", drop=True)
            return
        if google:
            self._emit_consent_mode()
        if script_type in ("importmap", "speculationrules") and self.plan is not None and not self._dropping:
            # Not code, but each URL in it is fetched (a module mapped to a tracker, a prefetch).
            self._hold(raw, attrs, check=True, google=False, markup=False, kind=_JSON)
            return
        inline = src is None and executable and not self._dropping
        check = inline and self._checks_inline()
        seek_google = inline and self.gcm_pending
        if doubt and self.plan is not None and not self._dropping:
            # Parsers disagree here (after </p> in SVG/MathML, say): an SVG/MathML script's
            # content is markup whose tags load. Read as HTML, but a listed host anywhere in it
            # blocks it (when unsure, block).
            self._hold(raw, attrs, check=True, google=seek_google, markup=False, loose=True)
            return
        if not (check or seek_google):
            self._emit(raw)
            self._enter_raw(b"script")
            return
        self._hold(raw, attrs, check=check, google=seek_google, markup=False)

    def _checks_inline(self) -> bool:
        return self.plan is not None and bool(self.plan.inline) and not self._dropping

    def _hold(
        self,
        raw: bytes,
        attrs: Attrs,
        *,
        check: bool,
        google: bool,
        markup: bool,
        kind: int = _SCRIPT,
        loose: bool = False,
    ) -> None:
        """Keep an inline script (or stylesheet, import map) back until its end tag, to inspect it.

        ``markup``: its content is markup (SVG/MathML); ``markup`` or ``loose``: a listed host
        anywhere in the content blocks it (else a script is judged by what it does).
        """
        self._state = _HOLD
        self._raw_name = b"style" if kind == _CSS else b"script"
        self._held = _Held(raw, attrs, kind, check, google, markup, loose, self._namespace)
        self._escape = 0
        self._foreign_script = markup
        self._nested_scripts = 0

    def _finish_hold(self, end_tag: bytes) -> None:
        content = b"".join(self._held.parts)
        self._held.parts = []
        self._state = _DATA
        if self._held.overflow:
            return  # too large to inspect: it was blocked, and the rest dropped
        if self._held.kind == _CSS:
            self._finish_style(content, end_tag)
            return
        plan = self.plan
        rule = None
        if plan is not None and self._held.check:
            loose = self._held.markup or self._held.loose
            rule = plan.inline_rule(content) if loose else plan.script_rule(content)
        if rule is None and plan is not None and self._held.kind == _JSON:
            rule = json_urls_rule(plan, content)
        google = self._held.google and google_tag_inline(content)
        if rule is not None:
            self._mark_blocked(rule.category)
            if self.inert:
                if google:
                    self._emit_consent_mode()
                self._emit(inert_script_tag(self._held.attrs, rule) + content + end_tag)
            else:
                self._emit(self.injector.blocked(rule.category))
            return
        if google:
            self._emit_consent_mode()
        if self._held.markup:
            sub = self._sub_rewriter()
            if sub is None:
                self._block_uninspected()
                return
            content = sub.feed(content) + sub.close()
            if sub.first_blocked is not None:
                self._mark_blocked(sub.first_blocked)
        self._emit(self._held.tag + content + end_tag)

    def _sub_rewriter(self) -> Rewriter | None:
        """A rewriter for held markup, in the held element's namespace (``None``: too deep)."""
        if self._depth >= NESTING_MAX:
            return None
        foreign = self._foreign.inside(self._held.namespace)
        return Rewriter(self.plan, None, nested=True, xml=self.xml, foreign=foreign, depth=self._depth + 1)

    def _block_uninspected(self) -> None:
        self._mark_blocked(UNINSPECTED)
        self._emit(self.injector.blocked(UNINSPECTED))

    def _finish_style(self, content: bytes, end_tag: bytes) -> None:
        """A held ``<style>``: URLs on blocked hosts made inert (kept whole for activation)."""
        plan = self.plan
        assert plan is not None
        if self._held.markup:
            # SVG/MathML (or <select>) <style>: its content is markup, its text the stylesheet.
            sub = self._sub_rewriter()
            if sub is None:
                self._block_uninspected()
                return
            rewritten = sub.feed(content) + sub.close()
            text = html.unescape(TAGS_AND_COMMENTS.sub(b"", content).decode("utf-8", "replace"))
            _, rule = neutralize_css(plan, text) if might_fetch(content) else (text, None)
            if rule is None and sub.first_blocked is not None:
                rule = Rule(sub.first_blocked, sub.first_blocked)
            if rule is None:
                self._emit(self._held.tag + rewritten + end_tag)
                return
            self._mark_blocked(rule.category)
            self._emit(self.injector.blocked(rule.category))
            return
        if not might_fetch(content):
            self._emit(self._held.tag + content + end_tag)
            return
        css, rule = neutralize_css(plan, content.decode("utf-8", "surrogateescape"))
        if rule is None:
            self._emit(self._held.tag + content + end_tag)
            return
        self._mark_blocked(rule.category)
        safe = css.encode("utf-8", "surrogateescape")
        if self.inert:
            # The original waits in a <template> that activation puts back in place.
            template = b'<template data-consentkit-category="' + esc(rule.category) + b'">'
            self._emit(
                self._held.tag
                + safe
                + end_tag
                + template
                + self._held.tag
                + content
                + end_tag
                + b"</template>"
            )
        else:
            self._emit(self.injector.blocked(rule.category) + self._held.tag + safe + end_tag)

    def _emit_consent_mode(self) -> None:
        if self.gcm_pending and not self._dropping:
            self.gcm_pending = False
            self._emit(self.injector.consent_mode())
            if self.plan is None:
                self._to_passthrough = True  # nothing else to look for

    # --- raw-text elements ---

    def _enter_raw(self, name: bytes, drop: bool = False, after: bytes = b"") -> None:
        self._state = _RAW
        self._raw_name = name
        self._escape = 0
        self._foreign_script = False
        self._raw_drop = drop
        self._raw_after = after

    def _script_end(self, buf: bytes, i: int, final: bool) -> tuple[int, int]:
        """Where a script's content ends: (the real ``</script``, or -1; how far it is known to be content).

        Follows the tokenizer's script states across chunks (``self._escape``: 0 data, 1 escaped,
        2 double escaped; in SVG/MathML 1 is a comment and 3 a CDATA section).
        """
        n = len(buf)
        limit = n if final else n - TOKEN_ROOM
        foreign = self._foreign_script
        pos = i
        while True:
            if self._escape == 3:  # CDATA, SVG/MathML only
                k = buf.find(b"]]>", pos)
                if k < 0 or k >= limit:
                    return -1, max(i, limit)
                self._escape = 0
                pos = k + 3
                continue
            if foreign and self._escape == 1:  # a comment, SVG/MathML only
                m = COMMENT_END.search(buf, pos)
                if m is None or m.start() >= limit:
                    return -1, max(i, limit)
                self._escape = 0
                pos = m.end()
                continue
            tokens = SCRIPT_TOKENS
            if foreign:
                tokens = FOREIGN_SCRIPT_TOKENS if self._raw_name == b"script" else FOREIGN_STYLE_TOKENS
            m = tokens.search(buf, pos)
            if m is None:
                return -1, max(i, limit)
            if m.start() >= limit:  # too close to the end of the chunk to be sure of it
                return -1, max(i, m.start())
            token = m.group().lower()
            if foreign and token == b"<script":
                self._nested_scripts += 1
                pos = m.end()
                continue
            if token in (b"</script", b"</style"):
                if foreign and self._nested_scripts > 0 and token == b"</script":
                    self._nested_scripts -= 1
                    pos = m.end()
                    continue
                if self._escape == 2:
                    self._escape = 1
                    pos = m.end()
                    continue
                return m.start(), m.start()
            if token == b"<script":
                if self._escape == 1:
                    self._escape = 2
            elif token == b"<![cdata[":
                self._escape = 3
            elif token == b"-->":
                self._escape = 0
            elif self._escape == 0:  # "<!--"
                self._escape = 1
                k = m.end()
                while k < n and buf[k] == 0x2D:
                    k += 1
                if k >= n and not final:
                    self._escape = 0  # cannot tell yet whether "<!-->" closes at once
                    return -1, max(i, m.start())
                if not foreign and k < n and buf[k] == 0x3E:  # "<!-->", "<!--->"
                    self._escape = 0
                    pos = k + 1
                    continue
            pos = m.end()

    def _rawtext(self, buf: bytes, i: int, final: bool) -> tuple[int, bool]:
        """Copy, hold or drop raw text up to its end tag (``</script``, ``</noscript`` ...)."""
        needle = b"</" + self._raw_name
        size = len(needle)
        n = len(buf)
        if self._raw_name == b"script" or self._foreign_script:
            j, known = self._script_end(buf, i, final)
            if j < 0:
                self._raw_content(buf[i:known])
                if final:
                    self._raw_end(b"", truncated=True)
                    return n, True
                return known, True
        else:
            m = raw_end_pattern(self._raw_name).search(buf, i)
            j = -1 if m is None else m.start()
            if j < 0 and n - size >= i and buf[n - size :].lower() == needle:
                j = n - size  # the end tag's name at the very end: what follows it is not known yet
        if j >= 0 and j + size < n:
            end = TAG.match(buf, j)
            self._raw_content(buf[i:j])
            if end is None:
                if not final:
                    return j, True
                self._raw_end(b"", truncated=True)
                self._tail += buf[j:]
                return n, True
            self._raw_end(end.group(0))
            return end.end(), False
        stop = n if final else max(i, n - size)
        if 0 <= j < stop:
            stop = j
        self._raw_content(buf[i:stop])
        if final:
            self._raw_end(b"", truncated=True)
            return n, True
        return stop, True

    def _raw_content(self, data: bytes) -> None:
        if not data:
            return
        state = self._state
        if state == _HOLD:
            if self._held.overflow:
                return
            self._held.parts.append(data)
            self._held.size += len(data)
            if self._held.size <= HOLD_SCRIPT_MAX:
                return
            if self._held.check:
                # Too large to inspect for tracker code: fail closed.
                self._held.overflow = True
                self._held.parts = []
                self._block_uninspected()
            else:
                # Only looking for a Google tag: stop looking, stream the rest.
                self._emit(self._held.tag + b"".join(self._held.parts))
                self._held.parts = []
                self._enter_raw(b"script")
        elif state == _NOSCRIPT:
            assert self._ns_sub is not None
            self._ns_add(self._ns_sub.feed(data))
        elif not self._raw_drop:
            self._emit(data)

    def _raw_end(self, end_raw: bytes, truncated: bool = False) -> None:
        state = self._state
        if truncated and self.inject and not self._raw_drop:
            # The document ends inside a raw-text element: close it so our markup stays outside.
            end_raw = b"</" + self._raw_name + b">"
        if state == _HOLD:
            self._finish_hold(end_raw)
        elif state == _NOSCRIPT:
            self._finish_noscript(end_raw)
        else:
            self._state = _DATA
            if not self._raw_drop:
                self._emit(end_raw)
            self._emit(self._raw_after)
            self._raw_drop = False
            self._raw_after = b""

    def _blocked_iframe(self, name: bytes, attrs: Attrs, rule: Rule) -> None:
        self._mark_blocked(rule.category)
        width = dimension(attr(attrs, b"width"))
        height = dimension(attr(attrs, b"height"))
        opening = self.injector.placeholder_open(rule, width, height)
        closing = self.injector.placeholder_close()
        if self.inert:
            self._emit(opening + inert_tag(name, attrs, rule, hidden=True))
            self._enter_raw(name, after=closing)
        else:
            self._emit(opening + closing)
            self._enter_raw(name, drop=True)

    def _block_raw(self, name: bytes, raw: bytes, rule: Rule) -> None:
        self._mark_blocked(rule.category)
        if self.inert:
            self._emit(b'<template data-consentkit-category="' + esc(rule.category) + b'">' + raw)
            self._enter_raw(name, after=b"</template>")
        else:
            self._emit(self.injector.blocked(rule.category))
            self._enter_raw(name, drop=True)

    # --- other elements ---

    def _block_element(self, name: bytes, raw: bytes, attrs: Attrs, rule: Rule, void: bool) -> None:
        self._mark_blocked(rule.category)
        if void:
            if self.inert:
                self._emit(inert_tag(name, attrs, rule))
            else:
                self._emit(self.injector.blocked(rule.category))
            return
        if self.inert:
            self._emit(b'<template data-consentkit-category="' + esc(rule.category) + b'">' + raw)
            self._frames.append(_Frame(name, drop=False))
        else:
            self._emit(self.injector.blocked(rule.category))
            self._frames.append(_Frame(name, drop=True))
        self._set_frames()

    # --- <noscript> ---

    def _noscript(self, raw: bytes, rule: Rule | None) -> None:
        if rule is not None:
            self._mark_blocked(rule.category)
            self._emit(self.injector.blocked(rule.category))
            self._enter_raw(b"noscript", drop=True)
            return
        if self.plan is None or self._dropping:
            self._emit(raw)
            self._enter_raw(b"noscript")
            return
        # With scripting on, browsers read <noscript> as raw text; without, as markup that
        # may hold tracking pixels. Its content goes through a nested rewriter.
        self._state = _NOSCRIPT
        self._raw_name = b"noscript"
        self._ns_tag = raw
        if self._depth >= NESTING_MAX:
            self._block_uninspected()
            self._enter_raw(b"noscript", drop=True)
            return
        self._ns_sub = Rewriter(self.plan, None, nested=True, depth=self._depth + 1)
        self._ns_parts = []
        self._ns_size = 0
        self._ns_streaming = False

    def _ns_add(self, data: bytes) -> None:
        if not data:
            return
        if self._ns_streaming:
            self._emit(data)
            return
        self._ns_parts.append(data)
        self._ns_size += len(data)
        if self._ns_size > HOLD_NOSCRIPT_MAX:
            self._ns_streaming = True
            self._emit(self._ns_tag + b"".join(self._ns_parts))
            self._ns_parts = []

    def _finish_noscript(self, end_raw: bytes) -> None:
        sub = self._ns_sub
        assert sub is not None
        self._ns_add(sub.close())
        self._state = _DATA
        self._ns_sub = None
        if sub.first_blocked is not None:
            self._mark_blocked(sub.first_blocked)
        # Only the tracker elements inside go (the nested rewrite left a comment for each): the
        # rest (a message, a stylesheet for visitors without JavaScript) stays.
        if self._ns_streaming:
            self._emit(end_raw)
        else:
            self._emit(self._ns_tag + b"".join(self._ns_parts) + end_raw)
        self._ns_parts = []

    # --- end of document ---

    def _finish(self) -> None:
        if self._frames:
            tail = b"".join(b"</template>" for f in reversed(self._frames) if not f.drop)
            self._frames = []
            self._set_frames()
            self._emit(tail)
        tail, self._tail = self._tail, b""
        if not self.inject:
            self._emit(tail)
            return
        if self._prebody:  # no content at all: the additions end the document
            self._body_begins(after=b"")
        if self._banner_waits or not self._body_end_done:  # no marker came after all
            self._body_end_done = True
            self._out.append(self.injector.body_end())
        self._out.append(tail)
