"""Which tokenizer scan is active: the C extension where it was built, else its Python twin.

``consentkit._scan`` is compiled at install time where a C compiler exists; without one the
installation still succeeds and ``consentkit._pyscan`` (the rewriter's own regex path) does the
same job, more slowly. ``CONSENTKIT_SCANNER=python`` selects the twin on purpose (benchmarks,
tests). Both give the same results: see docs/native.md.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, Final

from . import _pyscan

__all__ = [
    "ANY_TAG",
    "DATA_CONSENT",
    "DECL",
    "END",
    "IMPLEMENTATION",
    "NAMES",
    "NAMES_FILTERED",
    "NATIVE",
    "NONE",
    "TAG",
    "URL_FILTER",
    "URL_INERT_NAMES",
    "URL_NEEDLES",
    "URL_STOP_BYTES",
    "advance",
    "announce",
    "available",
    "candidates",
    "describe",
    "read_tag",
    "tag_filter",
    "use",
]

logger = logging.getLogger("consentkit")

_built: Any
_why_not = ""
try:
    from . import _scan as _built
except ImportError as exc:  # not built: no compiler at install time, or CONSENTKIT_NO_EXTENSION=1
    _built = None
    if importlib.util.find_spec(f"{__package__}._scan") is None:
        _why_not = (
            "the C extension is not installed: consentkit._scan was not built "
            "(no C compiler at install time, or CONSENTKIT_NO_EXTENSION=1)"
        )
    else:  # built, but it does not load (another Python's build, a missing symbol)
        _why_not = f"the C extension is not installed: {exc}"

_native: Any = _built
if os.environ.get("CONSENTKIT_SCANNER", "").lower() == "python" and _built is not None:
    _native = None
    _why_not = "CONSENTKIT_SCANNER=python"

_impl: Any = _native if _native is not None else _pyscan

#: Whether the C scan is active (this and the objects below are set by _set_impl).
NATIVE: bool
#: ``"native"`` or ``"python"``.
IMPLEMENTATION: str

END: Final[int] = _pyscan.END
TAG: Final[int] = _pyscan.TAG
DECL: Final[int] = _pyscan.DECL
NONE: Final[int] = _pyscan.NONE
DATA_CONSENT: Final[int] = _pyscan.DATA_CONSENT
NAMES: Final[int] = _pyscan.NAMES
NAMES_FILTERED: Final[int] = _pyscan.NAMES_FILTERED

#: ``advance(buf, lbuf, i, cands, attention, tag_filter) -> (position, kind)``; see _pyscan.advance.
advance: Callable[[bytes, bytes, int, Any, int, Any], tuple[int, int]]
#: ``read_tag(buf, k) -> (end, name_end) | None``: the complete tag at k, as the tokenizer reads it.
read_tag: Callable[[bytes, int], tuple[int, int] | None]
#: Every tag is a candidate (HTML inside SVG/MathML, and XHTML before <body>).
ANY_TAG: Any
#: What a URL needs to reach another host (see urls.url_host): a scheme (":"), "//", a backslash,
#: an entity ("&"), or a tab or newline the URL parser removes ("/\t/host"). An attribute value
#: without any of them is relative to the page (or to its <base>, which is itself checked).
URL_NEEDLES: Final = (b"//",)
URL_STOP_BYTES: Final = b":\\&\t\n\r"
#: Attributes whose values no browser fetches from, on any element of HTML, SVG or MathML (text,
#: identifiers, tokens, dimensions, path data, namespace names): the filter passes over them, so
#: ``alt="Photo: ..."``, ``class="md:flex"`` or ``<meta property="og:image" content="https://...">``
#: make no stop. (A refresh is ``http-equiv``, which stops by its name; ``value`` is not here:
#: an ``<object>``'s ``<param>`` fetches from it.)
URL_INERT_NAMES: Final = (
    b"id", b"class", b"name", b"lang", b"dir", b"title", b"alt", b"role", b"property", b"content",
    b"datetime", b"type", b"rel", b"hreflang", b"charset", b"media", b"sizes", b"width", b"height",
    b"loading", b"decoding", b"fetchpriority", b"crossorigin", b"referrerpolicy", b"integrity", b"nonce",
    b"itemprop", b"itemtype", b"itemscope", b"itemid", b"tabindex", b"for", b"placeholder", b"autocomplete",
    b"translate", b"aria-label", b"aria-labelledby", b"aria-describedby", b"aria-hidden", b"aria-current",
    b"aria-expanded", b"aria-controls", b"aria-live", b"xmlns", b"xmlns:xlink", b"xml:lang", b"viewbox",
    b"d", b"points",
)  # fmt: skip
#: The filter for the rewriter's body scan: start tags whose values could reach another host.
URL_FILTER: Any


def _set_impl(impl: Any) -> None:
    """Make ``impl`` (``_scan`` or ``_pyscan``) the scan, with the objects built from it."""
    global _impl, NATIVE, IMPLEMENTATION, advance, read_tag, ANY_TAG, URL_FILTER
    _impl = impl
    NATIVE = impl is not _pyscan
    IMPLEMENTATION = "native" if NATIVE else "python"
    advance = impl.advance
    read_tag = impl.read_tag
    ANY_TAG = impl.Candidates((), (), any_tag=True)
    URL_FILTER = impl.TagFilter(URL_NEEDLES, URL_STOP_BYTES, URL_INERT_NAMES)


_set_impl(_impl)

_STARTED_WITH: Final = (IMPLEMENTATION, _why_not)


Names = tuple[bytes, ...]


@lru_cache(maxsize=64)
def _candidates(  # noqa: PLR0917
    impl: Any,
    starts: Names,
    ends: Names,
    all_starts_but: bool,
    islands: tuple[Names, Names] | None,
    quiet_scripts: bool,
) -> Any:
    inner = None if islands is None else _candidates(impl, islands[0], islands[1], False, None, False)
    return impl.Candidates(
        starts, ends, all_starts_but=all_starts_but, islands=inner, quiet_scripts=quiet_scripts
    )


def candidates(
    starts: Names,
    ends: Names,
    *,
    all_starts_but: bool = False,
    islands: tuple[Names, Names] | None = None,
    quiet_scripts: bool = False,
) -> Any:
    """The compiled candidate set for these start and end tag names (cached).

    ``all_starts_but``: every start tag but those in ``starts``. ``islands``: the (starts, ends)
    inside an inline SVG; with them, an inert ``<svg>...</svg>`` is skipped whole.
    ``quiet_scripts``: with ``NAMES_FILTERED`` and a filter, a first-party external script
    (``<script src=/own.js></script>``) is skipped whole.
    """
    return _candidates(_impl, starts, ends, all_starts_but, islands, quiet_scripts)


def available() -> tuple[str, ...]:
    """The implementations present in this installation: ``("native", "python")`` or ``("python",)``."""
    return ("native", "python") if _built is not None else ("python",)


def use(implementation: str) -> None:
    """Switch the scan of every Rewriter made from now on (differential tests and benchmarks)."""
    global _why_not
    impl: Any
    if implementation == "native":
        if _built is None:
            raise RuntimeError(f"the native scanner is not available: {_why_not}")
        impl = _built
    elif implementation == "python":
        impl = _pyscan
        _why_not = "selected with consentkit.scanner.use"
    else:
        raise ValueError(f"unknown scanner {implementation!r}: 'native' or 'python'")
    if implementation == _STARTED_WITH[0]:
        _why_not = _STARTED_WITH[1]  # back to what this process started with, for the same reason
    _set_impl(impl)


def tag_filter(needles: Iterable[bytes], stop_bytes: bytes = b"", exempt: Iterable[bytes] = ()) -> Any:
    """A filter making start tags stops when an attribute value contains a needle or stop byte
    (the values of attributes named in ``exempt`` are not looked at)."""
    return _impl.TagFilter(tuple(needles), stop_bytes, tuple(exempt))


def describe() -> str:
    """One line for ``consentkit --version`` and the start-up log."""
    if NATIVE:
        return "scanner: native (C extension consentkit._scan)"
    return f"scanner: pure Python ({_why_not})"


_announced = False


def announce() -> None:
    """Log which scanner is active, once per process (for ConsentMiddleware's start-up)."""
    global _announced
    if _announced:
        return
    _announced = True
    if NATIVE or _why_not == "CONSENTKIT_SCANNER=python":
        logger.info("consentkit %s", describe())
    else:
        logger.warning("consentkit %s: HTML rewriting is slower; see docs/native.md", describe())
