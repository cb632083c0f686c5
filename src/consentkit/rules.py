"""What a policy blocks, and how an element, a URL or an inline script is matched against it.

Matching costs the same whatever the size of the policy: a URL's host is looked up label by
label in two hash tables (exact hosts and ``*.`` globs), and an inline script is searched in
one regex pass for every marker and host of the policy together (:class:`NeedleSet`: markers
found from their rarest byte, hosts from the end of a listed domain, then the same label walk).

Inline scripts are judged by what they do (docs/policy.md, "Inline scripts"): a script is a
tracker's when it contains one of the tracker's inline markers, or when it names a tracker's
host where that name can reach code that fetches a URL. A host that is only mentioned in the
page's own data (``window.__STATE__ = {"url": "https://twitter.com/x"}``) loads nothing.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from .policy import Policy
from .urls import canonical_host, url_host

__all__ = ["BlockPlan", "HostTable", "NeedleSet", "Rule", "google_tag_inline", "script_loads"]


@dataclass(frozen=True)
class Rule:
    """Why an element is blocked: its category and service (named in placeholders)."""

    category: str
    service: str


class HostTable:
    """Hosts and ``*.domain`` globs, looked up in time proportional to the host's labels."""

    __slots__ = ("_exact", "_suffix")

    def __init__(self) -> None:
        self._exact: dict[str, Rule] = {}
        self._suffix: dict[str, Rule] = {}

    def add(self, pattern: str, rule: Rule) -> None:
        """Add ``example.com`` (that host) or ``*.example.com`` (it and every subdomain)."""
        glob = pattern.startswith("*.")
        host = canonical_host(pattern[2:] if glob else pattern)
        if host is not None:
            (self._suffix if glob else self._exact).setdefault(host, rule)

    def __bool__(self) -> bool:
        return bool(self._exact or self._suffix)

    def names(self) -> list[str]:
        """Every host and ``*.`` domain in the table, as text (for filters that look for them)."""
        return sorted({*self._exact, *self._suffix})

    def get(self, host: str) -> Rule | None:
        """The rule for a canonical host name (as :func:`consentkit.urls.url_host` returns it)."""
        rule = self._exact.get(host)
        if rule is not None or not self._suffix:
            return rule
        name = host
        while True:
            rule = self._suffix.get(name)
            if rule is not None:
                return rule
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1 :]


# --- one pass over a script for every needle ---------------------------------------------------


# Bytes from the rarest to the most common in JSON data, which makes up the largest scripts (code
# is dense with "(" but inline code is short). Each marker is found from its
# rarest byte (the regex engine skips in C to the few bytes that start some alternative, then
# checks the rest of the marker around it), which keeps a pass fast with many markers.
_RARITY: Final = (
    b"$_;()QZJXKVWYUOIHGFBDMNLRSTCPAE@!#%^&*~|\\<>?qzjxkvwybgfmphducl[]{}=+-:/,'\"0123456789nsroiate. \t\n"
)
_HOST_BYTE: Final = re.compile(rb"[A-Za-z0-9.\-]*")
_ESCAPED_SLASH: Final = re.compile(rb"(?:%2f|\\u002f|\\x2f|%3d|%40)", re.I)
_MAX_HOST: Final = 253


def _rank(byte: int) -> int:
    i = _RARITY.find(bytes([byte]))
    return i if i >= 0 else len(_RARITY)


def _marker_alternative(marker: bytes) -> tuple[int, bytes]:
    """(offset of the rarest byte, regex from that byte on that matches only the marker)."""
    i = min(range(len(marker)), key=lambda k: (_rank(marker[k]), k))
    behind = b"(?<=" + re.escape(marker[: i + 1]) + b")" if i else b""
    return i, behind + re.escape(marker[i + 1 :])


def _behind(strings: Iterable[bytes], depth: int) -> bytes:
    """Lookbehinds that hold where the text so far ends with one of ``strings``.

    The strings already agree on their last ``depth`` bytes (matched just before). They are
    told apart one byte further back at a time (a trie read backwards), so the regex engine
    checks a few bytes per position whatever the number of strings.
    """
    groups: dict[bytes, list[bytes]] = {}
    for text in strings:
        if len(text) <= depth:
            return b""  # one of them is complete: nothing more to check
        groups.setdefault(text[-depth - 1 :], []).append(text)
    alternatives = []
    for tail, members in sorted(groups.items()):
        if len(members) == 1:
            alternatives.append(b"(?<=" + re.escape(members[0]) + b")")
        else:
            alternatives.append(b"(?<=" + re.escape(tail) + b")" + _behind(members, depth + 1))
    return alternatives[0] if len(alternatives) == 1 else b"(?:" + b"|".join(alternatives) + b")"


def _tld_pattern(names: Iterable[str]) -> bytes:
    """Each top-level label, then (looked at behind it) the listed names' last two labels.

    The pass stops only where a listed domain ends (``facebook.com``), not at every ``.com``:
    the regex engine checks the few candidates in C; Python then walks the labels.
    """
    tails: dict[str, set[str]] = {}
    for name in names:
        labels = name.split(".")
        tails.setdefault(labels[-1], set()).add(".".join(labels[-2:]) if len(labels) > 1 else "")
    alternatives = []
    for tld in sorted(tails, key=len, reverse=True):
        ends = [tail.encode() for tail in sorted(tails[tld])]
        behind = b"" if b"" in ends else _behind(ends, len(tld))
        alternatives.append(re.escape(tld.encode()) + behind)
    return b"|".join(alternatives)


class NeedleSet:
    """Inline markers (exact) and host names (any case), found together in one pass.

    Markers are literal code (``fbq(``). A host is mentioned where a host name written in the
    script ends with it at a label boundary (``static.hotjar.com`` mentions ``hotjar.com``;
    ``nothotjar.com`` does not): the pass stops at each ``.tld`` of a listed host and the name
    before it is looked up label by label, whatever the number of hosts.
    """

    __slots__ = ("_by_anchor", "_by_tail", "_hosts", "_markers_only", "_pattern")

    def __init__(self, markers: Iterable[tuple[bytes, Rule]], hosts: Iterable[tuple[bytes, Rule]]) -> None:
        self._by_anchor: dict[int, list[tuple[int, bytes, Rule]]] = {}
        self._hosts: dict[str, Rule] = {}
        alternatives: dict[bytes, list[bytes]] = {}
        seen: set[bytes] = set()
        for marker, rule in markers:
            if marker in seen or not marker:
                continue
            seen.add(marker)
            offset, rest = _marker_alternative(marker)
            anchor = marker[offset : offset + 1]
            alternatives.setdefault(anchor, []).append(rest)
            self._by_anchor.setdefault(anchor[0], []).append((offset, marker, rule))
        for host, rule in hosts:
            name = host.decode("ascii", "replace").lower().strip(".")
            if name:
                self._hosts.setdefault(name, rule)
        self._by_tail: dict[str, list[str]] = {}
        for name in self._hosts:
            self._by_tail.setdefault(".".join(name.split(".")[-2:]), []).append(name)
        branches = [
            re.escape(anchor) + (b"(?:" + b"|".join(rests) + b")" if len(rests) > 1 else rests[0])
            for anchor, rests in alternatives.items()
        ]
        self._markers_only = re.compile(b"|".join(branches)) if branches else None
        if self._hosts:
            branches.append(rb"\.(?P<tld>(?i:" + _tld_pattern(self._hosts) + rb"))(?![A-Za-z0-9\-])")
        self._pattern = re.compile(b"|".join(branches)) if branches else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def finditer(self, content: bytes, loose: bool = False) -> Iterator[tuple[int, Rule, bool]]:
        """(offset, rule, is_marker) for each marker or listed host found, left to right.

        ``loose`` also takes a listed host written at the end of a longer label
        (``xwww.facebook.com``), as plain text search would: for markup, the strict side.
        """
        if self._pattern is None:
            return
        for m in self._pattern.finditer(content):
            if self._hosts and m.group("tld") is not None:
                found = self._host_before(content, m.start(), m.end(), loose)
                if found is not None:
                    yield found[0], found[1], False
                continue
            yield self._marker_at(content, m.start())

    def scan(self, content: bytes) -> tuple[Rule | None, bool]:
        """The first marker's rule, and whether a listed domain may be written in ``content``.

        Past the first place a listed domain may end, only markers are looked for (a data
        script naming trackers hundreds of times is not stopped at each); the hosts
        themselves are found again (:meth:`hosts`) only when the caller needs them.
        """
        if self._pattern is None:
            return None, False
        m = self._pattern.search(content)
        if m is None:
            return None, False
        if not (self._hosts and m.group("tld") is not None):
            return self._marker_at(content, m.start())[1], False
        rest = self._markers_only.search(content, m.end()) if self._markers_only is not None else None
        return (None if rest is None else self._marker_at(content, rest.start())[1]), True

    def hosts(self, content: bytes) -> list[tuple[int, Rule]]:
        """(offset, rule) of each listed host written in ``content`` (host-name boundaries)."""
        return [(at, rule) for at, rule, is_marker in self.finditer(content) if not is_marker]

    def _marker_at(self, content: bytes, at: int) -> tuple[int, Rule, bool]:
        for offset, marker, rule in self._by_anchor[content[at]]:
            if content.startswith(marker, at - offset):
                return at - offset, rule, True
        raise AssertionError("the pattern matched no marker")  # pragma: no cover

    def _host_before(
        self, content: bytes, dot: int, end: int, loose: bool = False
    ) -> tuple[int, Rule] | None:
        """The listed host that the host name ending at ``end`` ends with, and where it starts."""
        low = max(0, dot - _MAX_HOST)
        run = _HOST_BYTE.match(content[low:dot][::-1])
        start = dot - (run.end() if run is not None else 0)
        # a URL given as a percent- or JS-escaped parameter: "%2F%2Fwww.facebook.com"
        escaped = _ESCAPED_SLASH.search(content, max(0, start - 6), start + 4)
        if escaped is not None and escaped.end() > start:
            start = escaped.end()
        name = content[start:end].decode("ascii").lower().lstrip(".")
        written = name
        while True:
            rule = self._hosts.get(name)
            if rule is not None:
                return end - len(name), rule
            dot_at = name.find(".")
            if dot_at < 0:
                break
            name = name[dot_at + 1 :]
        if loose:  # rare (markup): the few listed domains that end the name as plain text
            for tail, names in self._by_tail.items():
                if written.endswith(tail):
                    for listed in names:
                        if written.endswith(listed):
                            return end - len(listed), self._hosts[listed]
        return None

    def search(self, content: bytes, loose: bool = False) -> tuple[int, Rule, bool] | None:
        """The first needle in ``content``, as :meth:`finditer` reports it."""
        return next(self.finditer(content, loose), None)


# What makes the browser fetch a URL that a script built: elements created or written into
# the page, URL properties and attributes, requests, workers, navigation, module imports.
_SINK_CALLS: Final = (
    *(b"createElement", b"createElementNS", b"setAttribute", b"setAttributeNS", b"Image", b"Audio", b"fetch"),
    *(b"sendBeacon", b"XMLHttpRequest", b"ActiveXObject", b"EventSource", b"WebSocket", b"import", b"Worker"),
    *(b"importScripts", b"serviceWorker.register", b".write", b".writeln", b"insertAdjacentHTML", b"getJSON"),
    *(b"insertAdjacentElement", b"createContextualFragment", b"insertBefore", b"appendChild", b"getScript"),
    *(b"replaceChild", b"replaceWith", b".append", b".prepend", b".after", b".before", b".open", b".ajax"),
    *(b"location.assign", b"location.replace", b".load", b"url"),
)  # fmt: skip
_SINK_PROPERTIES: Final = (
    *(b".src", b".href", b".srcset", b".srcdoc", b".data", b".action", b".formAction", b".poster"),
    *(b".background", b".codebase", b"location", b"innerHTML", b"outerHTML", b"cssText"),
)  # fmt: skip


_SPACES: Final = (b"", b" ", b"  ", b"\n", b"\t", b"\r\n")  # between a sink's name and its "(" or "="


def _sinks_pattern() -> bytes:
    """Calls and assignments found from their "(" or "=" (rare in data), checked behind it."""

    calls = [name + space + b"(" for name in _SINK_CALLS for space in _SPACES]
    properties = [name + space + b"=" for name in _SINK_PROPERTIES for space in _SPACES]
    return rb"\(" + _behind(calls, 1) + rb"|=(?![=>])" + _behind(properties, 1) + rb"|@import"


_SINKS: Final = re.compile(_sinks_pattern())
# Module imports ("import 'url'", "import x from 'url'"), looked for only in scripts that say "import".
_STATIC_IMPORT: Final = re.compile(
    rb"(?<![\w$.\"'`])import\s*(?:[\"'`]|[\w${*][^;\"'`]{0,200}?\bfrom\s*[\"'`])"
)
#: A host mentioned in data (an object property value, an array element, JSON text) is a load
#: only when such a sink follows it this closely (a URL taken from a config object next door).
DATA_REACH: Final = 512

# The few tokens that decide whether a string is code or data: strings, comments, regular
# expression literals (after an operator), brackets. Everything in between is skipped in C.
_JS_TOKENS: Final = re.compile(
    rb"\"(?:[^\"\\\n]|\\.)*+\"?|'(?:[^'\\\n]|\\.)*+'?|`(?:[^`\\]|\\.)*+`?"
    rb"|//[^\n]*+|/\*(?:[^*]|\*(?!/))*+(?:\*/)?"
    rb"|(?:(?<=[(,=:\[!&|?{};])|(?<=[(,=:\[!&|?{};][ \t\n]))"
    rb"/(?![/*])(?:[^/\\\n\[]|\\.|\[(?:[^\]\\\n]|\\.)*+\])++/"
    rb"|[\[\]{}()]",
    re.S,
)
_JSON_PARSE: Final = re.compile(rb"JSON\s*\.\s*parse\s*\(\s*$")
_OPEN: Final = frozenset(b"[{(")
_LITERALS: Final = frozenset(b"[{")
_CLOSE: Final = frozenset(b"]})")
_QUOTES: Final = frozenset(b"\"'`")
_SPACE: Final = b" \t\n\r\f"

# A Google tag's hosts in any case, found from their "." (a fast literal search in C).
_GOOGLE_TAG_HOSTS: Final = re.compile(rb"\.(?i:com(?:(?<=googletagmanager\.com)|(?<=google-analytics\.com)))")


def google_tag_inline(content: bytes) -> bool:
    """Whether an inline script is (or loads) a Google tag, for the Consent Mode default.

    ``gtag(`` and ``dataLayer`` as JavaScript spells them, the tag's hosts in any case; a few
    C searches over the script, no lower-cased copy.
    """
    return b"gtag(" in content or b"dataLayer" in content or _GOOGLE_TAG_HOSTS.search(content) is not None


def _call_argument(stack: Sequence[tuple[int, bytes]]) -> bool:
    """Whether the object/array literal nest at the top of ``stack`` is passed to a call."""
    k = len(stack) - 1
    while k > 0 and stack[k - 1][0] in _LITERALS:
        k -= 1
    return k > 0 and stack[k - 1][0] == ord("(") and stack[k][1] in (b"(", b",")


def _in_data(content: bytes, positions: Sequence[int]) -> list[bool]:
    """For each of the sorted ``positions``: whether it lies in data, not in code.

    Data is a string literal that is an object property's value (``"key": "..."`` inside
    ``{}``) or an array element, in literals not passed straight to a call (``f({...})`` is
    code), the JSON text given to ``JSON.parse``, and any comment. One
    forward pass over strings, comments, regular expressions and brackets, up to the last
    position; only the strings that hold a position are looked at closely.
    """
    result = [False] * len(positions)
    if not positions:
        return result
    stack: list[tuple[int, bytes]] = []  # open brackets, each with the byte before it
    i = 0
    last = positions[-1]
    for m in _JS_TOKENS.finditer(content):
        start, end = m.span()
        while i < len(positions) and positions[i] < start:
            i += 1  # in code between tokens
        if i == len(positions) or start > last:
            break
        first = content[start]
        if end == start + 1 and first in _OPEN:
            stack.append((first, content[max(0, start - 16) : start].rstrip(_SPACE)[-1:]))
            continue
        if end == start + 1 and first in _CLOSE:
            if stack:
                stack.pop()
            continue
        if positions[i] >= end:
            continue  # nothing of interest inside this token
        if first in _QUOTES:
            before = content[max(0, start - 64) : start].rstrip(_SPACE)
            previous = before[-1:]
            inner = stack[-1][0] if stack else None
            if (previous == b":" and inner == ord("{")) or (previous in (b"[", b",") and inner == ord("[")):
                data = not _call_argument(stack)
            else:
                data = previous == b"(" and _JSON_PARSE.search(before) is not None
        else:
            data = content[start + 1 : start + 2] in (b"/", b"*")  # a comment; a regex is code
        while i < len(positions) and positions[i] < end:
            result[i] = data and positions[i] > start
            i += 1
    return result


def _sink_offsets(content: bytes) -> list[int]:
    """Where the script calls or assigns something that fetches (see :data:`_SINKS`)."""
    anchors = content.count(b"(") + content.count(b"=") + content.count(b"@")
    if anchors * 64 < len(content):
        # Data, mostly: visit the few "(" and "=" (a C search each) rather than every byte.
        sinks = []
        for anchor in (b"(", b"=", b"@"):
            at = content.find(anchor)
            while at >= 0:
                if _SINKS.match(content, at) is not None:
                    sinks.append(at)
                at = content.find(anchor, at + 1)
        sinks.sort()
    else:
        sinks = [m.start() for m in _SINKS.finditer(content)]
    if b"import" in content:
        sinks = sorted(sinks + [m.start() for m in _STATIC_IMPORT.finditer(content)])
    return sinks


def script_loads(content: bytes, mentions: Sequence[int], sinks: Sequence[int] | None = None) -> int | None:
    """The first of the host ``mentions`` (offsets) that the script can fetch, or ``None``.

    Only sinks in code count (a ``url(`` or ``fetch(`` inside a data string is text). A
    mention in code (a string assigned, passed to a function, concatenated...) is a load when
    the script has such a sink anywhere; a mention in data only when one follows it within
    :data:`DATA_REACH` bytes. ``sinks`` are the script's sink offsets if already found.
    """
    if sinks is None:
        sinks = _sink_offsets(content)
    if not sinks:
        return None
    positions = sorted({*mentions, *sinks})
    where = dict(zip(positions, _in_data(content, positions), strict=True))
    code_sinks = [at for at in sinks if not where[at]]
    if not code_sinks:
        return None
    for position in sorted(mentions):
        if not where[position]:
            return position  # in code, or in a string used as code
        lo = bisect_left(code_sinks, position)
        if lo < len(code_sinks) and code_sinks[lo] <= position + DATA_REACH:
            return position
    return None


@dataclass
class BlockPlan:
    """What to block for one set of denied categories; built once per combination and reused."""

    denied: frozenset[str]
    mode: str = "remove"
    hosts: HostTable = field(default_factory=HostTable)
    #: (needle, case-insensitive, rule): every marker, and every host as an inline needle.
    inline: list[tuple[bytes, bool, Rule]] = field(default_factory=list)
    needles: NeedleSet = field(default_factory=lambda: NeedleSet((), ()))

    @classmethod
    def build(cls, policy: Policy, denied: Iterable[str]) -> BlockPlan:
        denied_set = frozenset(denied)
        plan = cls(denied_set, policy.blocking.mode)
        for cat_name, cat in policy.categories.items():
            if cat_name not in denied_set:
                continue
            for svc_name, svc in cat.services.items():
                rule = Rule(cat_name, svc.label or svc_name)
                for host in svc.hosts:
                    plan.hosts.add(host, rule)
                    bare = host[2:] if host.startswith("*.") else host
                    plan.inline.append((bare.lower().encode(), True, rule))
                for marker in svc.inline:
                    plan.inline.append((marker.encode(), False, rule))
        plan.needles = NeedleSet(
            ((n, r) for n, folded, r in plan.inline if not folded),
            ((n, r) for n, folded, r in plan.inline if folded),
        )
        return plan

    def host_rule(self, host: str) -> Rule | None:
        """The rule for a host name (as :func:`url_host` returns it), if it is blocked."""
        return self.hosts.get(host)

    def url_rule(self, value: bytes, srcset: bool = False) -> Rule | None:
        """The rule for a URL attribute's raw value (entities not yet decoded), if it is blocked."""
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        text = html.unescape(text) if "&" in text else text
        urls = [part.strip().split(" ")[0] for part in text.split(",")] if srcset else [text]
        for url in urls:
            host = url_host(url)
            if host is not None:
                rule = self.hosts.get(host)
                if rule is not None:
                    return rule
        return None

    def inline_rule(self, content: bytes, lowered: bytes | None = None) -> Rule | None:
        """The rule for content that names a tracker anywhere: markup, ``srcdoc``, SVG scripts.

        A marker, or a listed host written anywhere (also at the end of a longer name, as a
        plain text search finds it). ``lowered`` is accepted for older callers and ignored:
        hosts are matched without case.
        """
        found = self.needles.search(content, loose=True)
        return None if found is None else found[1]

    def script_rule(self, content: bytes) -> Rule | None:
        """The rule for an HTML inline script, judged by what it does (see the module doc)."""
        marker, named = self.needles.scan(content)
        if marker is not None:
            return marker
        if not named:
            return None
        sinks = _sink_offsets(content)
        if not sinks:
            return None  # a script that fetches nothing loads nothing, whatever it names
        found = self.needles.hosts(content)
        if not found:
            return None
        loaded = script_loads(content, [position for position, _ in found], sinks)
        return None if loaded is None else next(rule for position, rule in found if position == loaded)
