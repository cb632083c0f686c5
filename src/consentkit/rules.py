"""What a policy blocks, and how an element, a URL or an inline script is matched against it.

Matching costs the same whatever the size of the policy: a host is looked up label by label
in two hash tables (exact hosts and ``*.`` globs), and an inline script is searched once for
every marker and host of the policy together (one compiled alternation, factored as a trie).

Inline scripts are judged by what they do (docs/policy.md, "Inline scripts"): a script is a
tracker's when it contains one of the tracker's inline markers, or when it names a tracker's
host where that name can reach code that fetches a URL. A host that is only mentioned in the
page's own data (``window.__STATE__ = {"url": "https://twitter.com/x"}``) loads nothing.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
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


_Trie = dict[bytes, "_Trie"]
_END: Final = b""


def _needle_pattern(needles: Iterable[tuple[bytes, bool]]) -> bytes:
    """One regular expression matching any needle, factored as a trie (one branch per byte).

    Each needle is (text, case-insensitive). A trie keeps the regex engine's work at each
    position proportional to the length of the longest needle, not to their number.
    """
    trie: _Trie = {}
    for text, folded in needles:
        node = trie
        for byte in text:
            char = bytes([byte])
            atom = b"[" + char.lower() + char.upper() + b"]" if folded and char.isalpha() else re.escape(char)
            node = node.setdefault(atom, {})
        node[_END] = {}
    return _emit(trie)


def _emit(node: _Trie) -> bytes:
    branches = [atom + _emit(child) for atom, child in node.items() if atom != _END]
    if not branches:
        return b""
    if _END in node:  # a needle ends here and longer ones go on: try the longer ones first
        return b"(?:" + b"|".join(branches) + b")?"
    return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"


class NeedleSet:
    """Inline markers (exact) and host names (any case), all found in one pass over a script."""

    __slots__ = ("_hosts", "_markers", "_pattern")

    def __init__(self, markers: Iterable[tuple[bytes, Rule]], hosts: Iterable[tuple[bytes, Rule]]) -> None:
        self._markers: dict[bytes, Rule] = {}
        self._hosts: dict[bytes, Rule] = {}
        for needle, rule in markers:
            self._markers.setdefault(needle, rule)
        for needle, rule in hosts:
            self._hosts.setdefault(needle.lower(), rule)
        needles = [(n, False) for n in self._markers] + [(n, True) for n in self._hosts]
        self._pattern = re.compile(_needle_pattern(needles)) if needles else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def finditer(self, content: bytes) -> Iterator[tuple[int, Rule, bool]]:
        """(offset, rule, is_marker) for each needle found, left to right, without overlaps."""
        if self._pattern is None:
            return
        for m in self._pattern.finditer(content):
            found = m.group()
            marker = self._markers.get(found)
            if marker is not None:
                yield m.start(), marker, True
            else:
                yield m.start(), self._hosts[found.lower()], False

    def search(self, content: bytes) -> tuple[int, Rule, bool] | None:
        """The first needle in ``content``, as :meth:`finditer` reports it."""
        return next(self.finditer(content), None)


# What makes the browser fetch a URL that a script built: elements created or written into
# the page, URL properties and attributes, requests, workers, navigation, module imports.
_SINKS: Final = re.compile(
    rb"createElement(?:NS)?\s*\("
    rb"|\.\s*(?:src|href|srcset|srcdoc|data|action|formAction|poster|background|codebase|location)\s*=(?!=)"
    rb"|setAttribute(?:NS)?\s*\(|\bnew\s+(?:Image|Audio)\b"
    rb"|\bfetch\s*\(|sendBeacon|XMLHttpRequest|ActiveXObject|EventSource|WebSocket"
    rb"|\bimport\s*\(|(?<![\w$.\"'])import\s*(?:[\"'`]|[\w${*][^;\"'`]{0,200}?\bfrom\s*[\"'`])"
    rb"|importScripts|\bWorker\s*\(|serviceWorker"
    rb"|\.\s*write(?:ln)?\s*\(|innerHTML|outerHTML|insertAdjacent(?:HTML|Element)|createContextualFragment"
    rb"|insertBefore|appendChild|replaceChild|replaceWith|\.\s*(?:append|prepend|after|before)\s*\("
    rb"|\.\s*open\s*\(|\blocation\s*=(?!=)|\.\s*(?:assign|replace)\s*\("
    rb"|getScript|getJSON|\.\s*ajax\s*\(|\$\s*\.\s*(?:get|post)\s*\(|\.\s*load\s*\("
    rb"|\burl\s*\(|@import|cssText"
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
_CLOSE: Final = frozenset(b"]})")
_QUOTES: Final = frozenset(b"\"'`")
_SPACE: Final = b" \t\n\r\f"

#: Markers that identify a Google tag in an inline script (for the Consent Mode default).
_GOOGLE_TAG_INLINE: Final = re.compile(rb"gtag\(|googletagmanager\.com|google-analytics\.com|datalayer", re.I)


def google_tag_inline(content: bytes) -> bool:
    """Whether an inline script is (or loads) a Google tag: one search, no lower-cased copy."""
    return _GOOGLE_TAG_INLINE.search(content) is not None


def _data_strings(content: bytes, until: int) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_data) for each string literal or comment that starts before ``until``.

    A string is data when it is an object property's value (``"key": "..."`` inside ``{}``),
    an array element, or the JSON text given to ``JSON.parse``; a comment runs nothing.
    """
    stack: list[int] = []
    for m in _JS_TOKENS.finditer(content, 0, len(content)):
        start = m.start()
        if start > until:
            return
        first = content[start]
        if first in _OPEN and m.end() == start + 1:
            stack.append(first)
        elif first in _CLOSE and m.end() == start + 1:
            if stack:
                stack.pop()
        elif first in _QUOTES:
            before = content[max(0, start - 64) : start].rstrip(_SPACE)
            previous = before[-1:]
            inner = stack[-1] if stack else None
            data = (
                (previous == b":" and inner == ord("{"))
                or (previous in (b"[", b",") and inner == ord("["))
                or (previous == b"(" and _JSON_PARSE.search(before) is not None)
            )
            yield start, m.end(), data
        elif first == ord("/") and content[start + 1 : start + 2] in (b"/", b"*"):
            yield start, m.end(), True


def script_loads(content: bytes, mentions: Sequence[int]) -> int | None:
    """The first of the host ``mentions`` (offsets) that the script can fetch, or ``None``.

    A mention in code (a string assigned, passed to a function, concatenated...) is a load when
    the script has any sink at all; a mention in data only when a sink follows it within
    :data:`DATA_REACH` bytes. Scripts without a sink load nothing.
    """
    sinks = [m.start() for m in _SINKS.finditer(content)]
    if not sinks:
        return None
    for position in mentions:
        lo = bisect_left(sinks, position)
        if lo < len(sinks) and sinks[lo] <= position + DATA_REACH:
            return position
    spans = list(_data_strings(content, mentions[-1]))
    starts = [s for s, _, _ in spans]
    for position in mentions:
        i = bisect_right(starts, position) - 1
        if i < 0 or not (spans[i][0] < position < spans[i][1] and spans[i][2]):
            return position  # in code, or in a string used as code
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

        ``lowered`` is accepted for older callers and ignored: hosts are matched without case.
        """
        found = self.needles.search(content)
        return None if found is None else found[1]

    def script_rule(self, content: bytes) -> Rule | None:
        """The rule for an HTML inline script, judged by what it does (see the module doc)."""
        mentions: list[int] = []
        rules: list[Rule] = []
        for position, rule, is_marker in self.needles.finditer(content):
            if is_marker:
                return rule
            mentions.append(position)
            rules.append(rule)
        if not mentions:
            return None
        loaded = script_loads(content, mentions)
        return None if loaded is None else rules[mentions.index(loaded)]
