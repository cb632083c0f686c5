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

#: Whether the C scan is active.
NATIVE: bool = _native is not None
#: ``"native"`` or ``"python"``.
IMPLEMENTATION: str = "native" if NATIVE else "python"

END: Final[int] = _pyscan.END
TAG: Final[int] = _pyscan.TAG
DECL: Final[int] = _pyscan.DECL
NONE: Final[int] = _pyscan.NONE
DATA_CONSENT: Final[int] = _pyscan.DATA_CONSENT
NAMES: Final[int] = _pyscan.NAMES
NAMES_FILTERED: Final[int] = _pyscan.NAMES_FILTERED

#: ``advance(buf, lbuf, i, cands, attention, tag_filter) -> (position, kind)``; see _pyscan.advance.
advance: Callable[[bytes, bytes, int, Any, int, Any], tuple[int, int]] = _impl.advance
#: ``read_tag(buf, k) -> (end, name_end) | None``: the complete tag at k, as the tokenizer reads it.
read_tag: Callable[[bytes, int], tuple[int, int] | None] = _impl.read_tag
#: Every tag is a candidate (before <body>, and for HTML inside SVG/MathML).
ANY_TAG: Any = _impl.Candidates((), (), any_tag=True)

_STARTED_WITH: Final = (IMPLEMENTATION, _why_not)


@lru_cache(maxsize=64)
def _candidates(impl: Any, starts: tuple[bytes, ...], ends: tuple[bytes, ...]) -> Any:
    return impl.Candidates(starts, ends)


def candidates(starts: tuple[bytes, ...], ends: tuple[bytes, ...]) -> Any:
    """The compiled candidate set for these start and end tag names (cached)."""
    return _candidates(_impl, starts, ends)


def available() -> tuple[str, ...]:
    """The implementations present in this installation: ``("native", "python")`` or ``("python",)``."""
    return ("native", "python") if _built is not None else ("python",)


def use(implementation: str) -> None:
    """Switch the scan of every Rewriter made from now on (differential tests and benchmarks)."""
    global _impl, NATIVE, IMPLEMENTATION, advance, read_tag, ANY_TAG, _why_not
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
    _impl = impl
    NATIVE = impl is not _pyscan
    IMPLEMENTATION = implementation
    advance = impl.advance
    read_tag = impl.read_tag
    ANY_TAG = impl.Candidates((), (), any_tag=True)


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
