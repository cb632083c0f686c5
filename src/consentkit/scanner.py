"""Which tokenizer scan is active: the C extension where it was built, else its Python twin.

``consentkit._scan`` is compiled at install time where a C compiler exists; without one the
installation still succeeds and ``consentkit._pyscan`` (the rewriter's own regex path) does the
same job, more slowly. ``CONSENTKIT_SCANNER=python`` selects the twin on purpose (benchmarks,
tests). Both give the same results: see docs/native.md.
"""

from __future__ import annotations

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
    "advance",
    "announce",
    "candidates",
    "describe",
    "tag_filter",
]

logger = logging.getLogger("consentkit")

_native: Any
_why_not = ""
try:
    from . import _scan as _native
except ImportError as exc:  # not built: no compiler at install time, or CONSENTKIT_NO_EXTENSION=1
    _native = None
    _why_not = f"the C extension is not installed: {exc}"

if os.environ.get("CONSENTKIT_SCANNER", "").lower() == "python" and _native is not None:
    _native = None
    _why_not = "CONSENTKIT_SCANNER=python"

_impl: Any = _native if _native is not None else _pyscan

#: Whether the C scan is active.
NATIVE: Final[bool] = _native is not None
#: ``"native"`` or ``"python"``.
IMPLEMENTATION: Final[str] = "native" if NATIVE else "python"

END: Final[int] = _impl.END
TAG: Final[int] = _impl.TAG
DECL: Final[int] = _impl.DECL
NONE: Final[int] = _impl.NONE
DATA_CONSENT: Final[int] = _impl.DATA_CONSENT
NAMES: Final[int] = _impl.NAMES
NAMES_FILTERED: Final[int] = _impl.NAMES_FILTERED

#: ``advance(buf, lbuf, i, cands, attention, tag_filter) -> (position, kind)``; see _pyscan.advance.
advance: Final[Callable[[bytes, bytes, int, Any, int, Any], tuple[int, int]]] = _impl.advance
#: Every tag is a candidate (the #14 rewriter's _ANY_TAG: before <body>, HTML inside SVG/MathML).
ANY_TAG: Final[Any] = _impl.Candidates((), (), any_tag=True)


@lru_cache(maxsize=64)
def candidates(starts: tuple[bytes, ...], ends: tuple[bytes, ...]) -> Any:
    """The compiled candidate set for these start and end tag names (cached, like _candidate_re)."""
    return _impl.Candidates(starts, ends)


def tag_filter(needles: Iterable[bytes], stop_bytes: bytes = b"") -> Any:
    """A filter making start tags stops when an attribute value contains a needle or stop byte."""
    return _impl.TagFilter(tuple(needles), stop_bytes)


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
