"""The Python twin of the native scan (``consentkit._scan``): the regex path of the rewriter.

``advance`` is how ``Rewriter._run`` moves through a chunk in the data state, as one call:
the candidate search over the lower-cased chunk, the ``data-consent`` search and the
``_SKIP`` scan of text and ordinary tags, combined exactly as ``_run`` combines them. The C
scan must return the same ``(position, kind)`` for every input; tests/test_native_scan.py
checks that. An optional :class:`TagFilter` turns ordinary start tags into stops when one of
their attribute values contains a needle (any case) or a stop byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Final

from .tokens import ATTR as _ATTR
from .tokens import ATTRS as _ATTRS
from .tokens import DATA_CONSENT as _DATA_CONSENT
from .tokens import TAG as _TAG

__all__ = [
    "DATA_CONSENT",
    "DECL",
    "END",
    "NAMES",
    "NAMES_FILTERED",
    "NONE",
    "TAG",
    "Candidates",
    "TagFilter",
    "advance",
    "read_tag",
]

END: Final = 0
TAG: Final = 1
DECL: Final = 2
# What else makes an ordinary tag a stop (``attention``).
NONE: Final = 0
DATA_CONSENT: Final = 1  # "data-consent" starts inside it (main's rewriter: a search of the chunk)
NAMES: Final = 2  # an attribute that may fetch or names a category (the #14 rewriter's _SKIP_BLOCKING)
# NAMES, but with a filter only data-consent and http-equiv stop by their names; the other names
# are left to the filter, which checks every value of a start tag.
NAMES_FILTERED: Final = 3
_ALWAYS_NAMES: Final = frozenset({b"data-consent", b"http-equiv"})
_FETCH_NAMES: Final = frozenset({b"style", b"background", b"ping", b"src"})
_DATA_WORDS: Final = (
    b"src", b"bg", b"background", b"poster", b"lazy", b"original", b"image", b"img", b"url", b"echo", b"href",
)  # fmt: skip

# Text and ordinary tags, skipped with the patterns the rewriter reads tags with (tokens.py).
_SKIP: Final = re.compile(
    rb"[^<]*+(?:(?:<(?=[^A-Za-z/!?])|</?[A-Za-z][^\t\n\f\r />]*+" + _ATTRS + rb">)[^<]*+)*+"
)


@lru_cache(maxsize=64)
def _candidate_re(
    names: tuple[bytes, ...], end_names: tuple[bytes, ...], all_but: bool = False
) -> re.Pattern[bytes]:
    starts = b"|".join(re.escape(n) for n in names)
    ends = b"|".join(re.escape(n) for n in end_names)
    if all_but:
        starts = rb"(?!(?:" + starts + rb")[\t\n\f\r />])[a-z][^\t\n\f\r />]*+"
    return re.compile(b"<(?:(" + starts + b")[\t\n\f\r />]|/(" + ends + rb")[\t\n\f\r />]|[!?]|/(?=[^a-z]))")


def _attention_level(raw_attrs: bytes) -> int:
    """2: an attribute names a category or a refresh; 1: one may fetch (_SKIP_BLOCKING's names); 0."""
    level = 0
    for m in _ATTR.finditer(raw_attrs):
        name = m.group(1).lower()
        if name in _ALWAYS_NAMES:
            return 2
        rest = name[5:] if name.startswith(b"data-") else None
        if name in _FETCH_NAMES or (rest is not None and any(w in rest for w in _DATA_WORDS)):
            level = 1
    return level


def _attr_items(raw: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (name, value) of each attribute with a value in a tag's attribute text (as
    tokens.parse_attrs reads them; values without their quotes)."""
    for m in _ATTR.finditer(raw):
        value = m.group(2)
        if value is not None:
            yield m.group(1), value[1:-1] if value[:1] in (b'"', b"'") else value


def _attr_values(raw: bytes) -> list[bytes]:
    """The attribute values of a tag's attribute text (as tokens.parse_attrs reads them)."""
    return [value for _, value in _attr_items(raw)]


# The #14 rewriter's patterns. In SVG/MathML content every tag is a candidate:
_ANY_TAG: Final = re.compile(
    rb"<(?:([a-z][^\t\n\f\r />]*+)[\t\n\f\r />]|/([a-z][^\t\n\f\r />]*+)[\t\n\f\r />]|[!?]|/(?=[^a-z]))"
)
# Attributes that may fetch (or name a category) on any element: with something to block,
# a tag holding one is not ordinary, and _SKIP_BLOCKING stops before it.
_ATTENTION_TAIL: Final = (
    rb"(?<=[bBdDhHpPsS])"
    rb"(?i:(?<=d)ata-consent|(?<=s)tyle|(?<=b)ackground|(?<=p)ing|(?<=s)rc|(?<=h)ttp-equiv)"
    rb"(?=[\t\n\f\r /=>])"
    rb"|(?<=[dD])"
    rb"(?i:ata-[^\t\n\f\r /=>]*?(?:src|bg|background|poster|lazy|original|image|img|url|echo|href))"
)
_ATTR_NAME_START: Final = rb"|[^\t\n\f\r />][^\t\n\f\r /=>]*+"
_SKIP_BLOCKING: Final = re.compile(
    rb"[^<]*+(?:(?:<(?=[^A-Za-z/!?])|</?[A-Za-z][^\t\n\f\r />]*+"
    + _ATTRS.replace(
        _ATTR_NAME_START, rb"|(?![bBdDhHpPsS](?:" + _ATTENTION_TAIL + rb"))" + _ATTR_NAME_START[1:], 1
    )
    + rb">)[^<]*+)*+"
)

_DELIMS: Final = frozenset(b"\t\n\f\r />")
_WS: Final = frozenset(b"\t\n\f\r ")


def _check_names(names: tuple[bytes, ...], what: str) -> None:
    if not names:
        raise ValueError(f"invalid {what}: empty set")
    for name in names:
        if not isinstance(name, bytes):
            raise TypeError(f"{what}: expected bytes, got {type(name).__name__}")
        if not name or not 0x61 <= name[0] <= 0x7A or name != name.lower() or any(c in _DELIMS for c in name):
            raise ValueError(f"invalid {what} {name!r} (names are non-empty, lower-case, start with a-z)")


class Candidates:
    """The start and end tag names the scan stops at (lower-case); with ``any_tag``, every tag;
    with ``all_starts_but``, every start tag but those in ``starts``. With ``islands``
    (candidates without islands of their own), inert inline SVGs are skipped whole (see
    :func:`svg_island`); with ``quiet_scripts``, first-party external scripts (see
    :func:`script_island`)."""

    __slots__ = ("islands", "pattern", "quiet_scripts")
    islands: Candidates | None
    pattern: re.Pattern[bytes]
    quiet_scripts: bool

    def __init__(  # noqa: PLR0917 - the same positional signature as the C type
        self,
        starts: Iterable[bytes],
        ends: Iterable[bytes],
        any_tag: bool = False,
        all_starts_but: bool = False,
        islands: Candidates | None = None,
        quiet_scripts: bool = False,
    ) -> None:
        if islands is not None:
            if not isinstance(islands, Candidates):
                raise TypeError("islands must be a consentkit._pyscan.Candidates or None")
            if islands.islands is not None or islands.quiet_scripts:
                raise ValueError("islands: its own candidates cannot have islands")
        if any_tag and all_starts_but:
            raise ValueError("any_tag and all_starts_but exclude each other")
        self.islands = islands
        self.quiet_scripts = bool(quiet_scripts)
        if any_tag:
            self.pattern = _ANY_TAG
            return
        start_names, end_names = tuple(starts), tuple(ends)
        _check_names(start_names, "start tag name")
        _check_names(end_names, "end tag name")
        self.pattern = _candidate_re(start_names, end_names, all_starts_but)


class TagFilter:
    """Start tags with an attribute value that contains a needle (any case) or a stop byte; the
    values of attributes named in ``exempt`` (any case) are not looked at."""

    __slots__ = ("exempt", "needles", "stop")

    def __init__(
        self, needles: Iterable[bytes], stop_bytes: bytes = b"", exempt: Iterable[bytes] = ()
    ) -> None:
        self.needles = tuple(needle.lower() for needle in needles)
        if any(not needle for needle in self.needles):
            raise ValueError("invalid needle (needles are non-empty bytes)")
        self.stop = bytes(stop_bytes)
        names = tuple(exempt)
        if names:
            _check_names(names, "exempt attribute name")
        self.exempt = frozenset(names)

    def hits(self, value: bytes) -> bool:
        """Whether one attribute value contains a needle or a stop byte."""
        if self.stop and len(value.translate(None, self.stop)) != len(value):
            return True
        lowered = value.lower()
        return any(needle in lowered for needle in self.needles)

    def stops(self, raw_attrs: bytes) -> bool:
        """Whether a start tag with these attributes (``_TAG``'s group 3) is a stop."""
        exempt = self.exempt
        return any(
            self.hits(value)
            for name, value in _attr_items(raw_attrs)
            if not exempt or name.lower() not in exempt
        )


# The last search of each kind in the last chunk: the rewriter calls advance once per stop, and
# searching the rest of the chunk again at every stop would make a chunk cost stops x its size.
_last_cand: tuple[bytes, re.Pattern[bytes], int, re.Match[bytes] | None] | None = None
_last_dc: tuple[bytes, int, int] | None = None


def _search(lbuf: bytes, i: int, pattern: re.Pattern[bytes]) -> re.Match[bytes] | None:
    """``pattern.search(lbuf, i)``, reusing the previous call's result when it still holds."""
    global _last_cand
    last = _last_cand
    if last is not None and last[0] is lbuf and last[1] is pattern and last[2] <= i:
        match = last[3]
        if match is None or match.start() >= i:
            return match
    match = pattern.search(lbuf, i)
    _last_cand = (lbuf, pattern, i, match)
    return match


def _find_data_consent(lbuf: bytes, i: int) -> int:
    """``lbuf.find(b"data-consent", i)``, reusing the previous call's result when it still holds."""
    global _last_dc
    last = _last_dc
    if last is not None and last[0] is lbuf and last[1] <= i and (last[2] < 0 or last[2] >= i):
        return last[2]
    found = lbuf.find(_DATA_CONSENT, i)
    _last_dc = (lbuf, i, found)
    return found


def read_tag(buf: bytes, k: int) -> tuple[int, int] | None:
    """The tag at ``k``: ``(end, name_end)``, or None when there is no complete tag there."""
    if not 0 <= k <= len(buf):
        raise ValueError("read_tag: position out of range")
    tag = _TAG.match(buf, k)
    return None if tag is None else (tag.end(), tag.end(2))


def advance(  # noqa: PLR0917 - the same positional signature as the C function
    buf: bytes, lbuf: bytes, i: int, cands: Candidates, attention: int, tag_filter: TagFilter | None
) -> tuple[int, int]:
    """From ``i``, skip text, stray ``<`` and complete ordinary tags; the first construct that matters.

    Returns ``(p, DECL)`` for ``<!``, ``<?`` or ``</`` + non-letter at p; ``(p, TAG)`` for a
    candidate tag, an ordinary tag containing a candidate, one that ``attention`` points at
    (``DATA_CONSENT``: "data-consent" starts inside it; ``NAMES``: an attribute that may fetch),
    a start tag with a filtered value, or an incomplete tag at the end of ``buf``; and
    ``(len(buf), END)`` when there is none. ``lbuf`` is ``buf.lower()``, or a lowered prefix of it.
    With ``cands.islands``, a candidate ``<svg>`` that :func:`svg_island` skips is no stop.
    """
    n = len(buf)
    if not 0 <= i <= n:
        raise ValueError("advance: position out of range")
    if attention not in (NONE, DATA_CONSENT, NAMES, NAMES_FILTERED):
        raise ValueError("advance: attention must be NONE, DATA_CONSENT, NAMES or NAMES_FILTERED")
    scripts = cands.quiet_scripts and attention == NAMES_FILTERED and tag_filter is not None
    while True:
        p, kind = _advance(buf, lbuf, i, cands, attention, tag_filter)
        if kind != TAG or (cands.islands is None and not scripts):
            return p, kind
        if len(lbuf) < n:
            lbuf = buf.lower()
        if cands.pattern.match(lbuf, p) is None:
            return p, kind  # a stop for another reason than being a candidate: no island
        end = 0 if cands.islands is None else svg_island(buf, lbuf, p, cands.islands, attention, tag_filter)
        if not end and scripts:
            assert tag_filter is not None
            end = script_island(buf, p, tag_filter)
        if not end:
            return p, kind
        i = end


def _svg_urlish(part: bytes) -> bool:
    lowered = part.lower()
    return (
        len(part.translate(None, b"/\\:&")) != len(part) or b"srcdoc" in lowered or _DATA_CONSENT in lowered
    )


def _attrs(buf: bytes, pos: int, stop: int) -> Iterator[tuple[int, int, int, int, bool, bool]]:
    """The attributes of a complete start tag from ``pos`` to its ``>`` at ``stop``, as the C
    scan's next_attr reads them: (name, name_end, value start, value end, quoted, slash before)."""
    while True:
        slash = False
        while pos < stop and (buf[pos] in _WS or buf[pos] == 0x2F):
            slash = slash or buf[pos] == 0x2F
            pos += 1
        if pos >= stop:
            if slash:
                yield stop, stop, stop, stop, False, True
            return
        name = pos
        pos += 1
        while pos < stop and buf[pos] not in _DELIMS and buf[pos] != 0x3D:
            pos += 1
        name_end = p = pos
        while p < stop and buf[p] in _WS:
            p += 1
        if p >= stop or buf[p] != 0x3D:  # no value
            yield name, name_end, name_end, name_end, False, slash
            pos = p
            continue
        p += 1
        while p < stop and buf[p] in _WS:
            p += 1
        if p < stop and buf[p] in (0x22, 0x27):
            close = buf.find(buf[p : p + 1], p + 1, stop)
            if close < 0:
                raise ValueError("unterminated value")  # not in a tag _TAG completed
            yield name, name_end, p + 1, close, True, slash
            pos = close + 1
            continue
        ve = p
        while ve < stop and buf[ve] not in _WS:
            ve += 1
        yield name, name_end, p, ve, False, slash
        pos = ve


def _svg_tag_inert(buf: bytes, k: int, end: int) -> bool:
    """The attributes of the complete ``<svg>`` tag ``buf[k:end]``, read as the C scan reads them."""
    raw = buf[k + 4 : end - 1]
    if not _svg_urlish(raw):
        return True  # nothing of the kind anywhere in it (the common icon): no need to read it
    try:
        for name, name_end, vs, ve, quoted, slash in _attrs(buf, k + 4, end - 1):
            if slash:
                return False
            if quoted and buf[name:name_end].lower() in (b"xmlns", b"xmlns:xlink"):
                continue
            if _svg_urlish(buf[name:name_end]) or _svg_urlish(buf[vs:ve]):
                return False
    except ValueError:
        return False  # when unsure, not inert (as the C scan)
    return True


def _island_tag(buf: bytes, k: int) -> re.Match[bytes] | None:
    """The complete tag at ``k`` when it holds no ``<`` after its first byte, else None."""
    tag = _TAG.match(buf, k)
    return None if tag is None or buf.find(b"<", k + 1, tag.end()) >= 0 else tag


def _island_tag_end(buf: bytes, k: int) -> int:
    """The end of :func:`_island_tag`'s tag, or 0."""
    tag = _island_tag(buf, k)
    return 0 if tag is None else tag.end()


_PLAIN_SCRIPT_TYPES: Final = frozenset({b"", b"module", b"text/javascript", b"application/javascript"})


def script_island(buf: bytes, k: int, tag_filter: TagFilter) -> int:
    """The end of the first-party external script element at ``k``, or 0 (see ck_script_island
    in ck_scan.h): no stop under NAMES_FILTERED and the filter, a non-empty ``src``, a plain
    type, no ``<`` inside its tags, and nothing but text before a complete ``</script>``."""
    n = len(buf)
    if k + 7 >= n or buf[k + 1 : k + 7].lower() != b"script" or buf[k + 7] not in _DELIMS:
        return 0
    tag = _island_tag(buf, k)
    if tag is None:
        return 0
    raw_attrs = tag.group(3)
    if _attention_level(raw_attrs) == 2 or tag_filter.stops(raw_attrs):
        return 0
    src = False
    try:
        for name, name_end, vs, ve, _quoted, _slash in _attrs(buf, k + 7, tag.end() - 1):
            lowered = buf[name:name_end].lower()
            if lowered == b"src":
                src = ve > vs
            elif lowered == b"type" and buf[vs:ve].strip(b"\t\n\f\r ").lower() not in _PLAIN_SCRIPT_TYPES:
                return 0
    except ValueError:
        return 0
    if not src:
        return 0
    j = buf.find(b"<", tag.end())
    if j < 0 or n - j < 9 or buf[j + 1 : j + 8].lower() != b"/script" or buf[j + 8] not in _DELIMS:
        return 0
    return _island_tag_end(buf, j)


def svg_island(  # noqa: PLR0917
    buf: bytes, lbuf: bytes, k: int, islands: Candidates, attention: int, tag_filter: TagFilter | None
) -> int:
    """The end of the inert inline SVG element at ``k``, or 0 (see ck_svg_island in ck_scan.h).
    ``lbuf`` is ``buf.lower()`` (or a lowered prefix of it).

    Inert: its start tag is complete, holds no ``<`` after its first byte, is not self-closing,
    and no attribute but a quoted ``xmlns``
    or ``xmlns:xlink`` has ``/``, ``\\``, ``:``, ``&``, ``srcdoc`` or ``data-consent`` in its name
    or value; and the scan of its content with ``islands`` first stops at its ``</svg>``.
    """
    n = len(buf)
    if k + 4 >= n or buf[k + 1 : k + 4].lower() != b"svg" or buf[k + 4] not in _DELIMS:
        return 0
    end = _island_tag_end(buf, k)
    if not end or not _svg_tag_inert(buf, k, end):
        return 0
    q, kind = _advance(buf, lbuf, end, islands, attention, tag_filter)
    if kind != TAG or q + 5 >= n or buf[q + 1 : q + 5].lower() != b"/svg" or buf[q + 5] not in _DELIMS:
        return 0
    return _island_tag_end(buf, q)


def _advance(  # noqa: PLR0917
    buf: bytes, lbuf: bytes, i: int, cands: Candidates, attention: int, tag_filter: TagFilter | None
) -> tuple[int, int]:
    n = len(buf)
    gated = attention == NAMES_FILTERED and tag_filter is not None
    if attention == NAMES_FILTERED and not gated:
        attention = NAMES
    skip = _SKIP_BLOCKING if attention == NAMES else _SKIP
    start = i
    cand = _search(lbuf, i, cands.pattern)
    if len(lbuf) < n and (cand is None or cand.start() + 1024 > len(lbuf)):
        lbuf = buf.lower()  # lbuf was a lowered prefix (the rewriter's head-only scan): all of it now
        cand = _search(lbuf, i, cands.pattern)
    p = cand.start() if cand is not None else n
    dc = _find_data_consent(lbuf, i) if attention == DATA_CONSENT else -1
    while True:
        target = dc if 0 <= dc < p else p
        # One byte past a "<" at target lets _SKIP see that a "<" just before it is text.
        limit = target + 1 if target < n and buf[target] == 0x3C else target
        skipped = skip.match(buf, i, limit)
        q = skipped.end() if skipped is not None else i
        if q < target:
            stop, kind = q, TAG
            break
        if target == dc and dc < p:  # "data-consent" in text
            i = q
            dc = lbuf.find(_DATA_CONSENT, q + 1)
            continue
        if cand is None:
            stop, kind = n, END
        else:
            stop, kind = p, DECL if cand.group(1) is None and cand.group(2) is None else TAG
        break
    if tag_filter is not None:
        j = start
        while True:
            k = buf.find(b"<", j, stop)
            if k < 0:
                break
            tag = _TAG.match(buf, k)
            if tag is None:  # a stray "<"
                j = k + 1
                continue
            if gated and _attention_level(tag.group(3)) == 2:
                return k, TAG
            if not tag.group(1) and tag_filter.stops(tag.group(3)):
                return k, TAG
            j = tag.end()
    return stop, kind
