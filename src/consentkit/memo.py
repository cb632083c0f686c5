"""Memoised rewrites of whole pages: the same bytes for the same consent state are scanned once.

Most HTML is sent identically to many visitors (articles, landing pages, cached templates).
The first time a page body is seen for a set of denied categories, the rewriter runs with a
recording injector: what it would inject is left as numbered slots, and the calls are kept.
Later requests with the same bytes only replay those calls on their own injector (their
banner, ``next`` path, CSP nonce, language) and join the pieces: exactly the output a full
rewrite would give, at the cost of hashing and comparing the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from .inject import Injector
from .rewrite import BlockPlan, Rewriter, Rule

__all__ = ["PageMemo"]

_SLOT: Final = b"\x00\x01ck%d\x01\x00"
_SLOT_RE: Final = re.compile(rb"\x00\x01ck(\d+)\x01\x00")
_MARK: Final = b"\x00\x01ck"


class _Recorder:
    """Stands in for a page's injector on the first rewrite: records each call, leaves a slot."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []

    def _slot(self, name: str, *args: Any) -> bytes:
        self.events.append((name, args))
        return _SLOT % (len(self.events) - 1)

    def html_lang(self, lang: str) -> None:
        self.events.append(("html_lang", (lang,)))

    def body_start(self) -> bytes:
        return self._slot("body_start")

    def body_end(self) -> bytes:
        return self._slot("body_end")

    def consent_mode(self) -> bytes:
        return self._slot("consent_mode")

    def blocked(self, category: str) -> bytes:
        return self._slot("blocked", category)

    def placeholder_open(self, rule: Rule, width: str | None, height: str | None) -> bytes:
        return self._slot("placeholder_open", rule, width, height)

    def placeholder_close(self) -> bytes:
        return self._slot("placeholder_close")


@dataclass(frozen=True)
class _Entry:
    body: bytes
    parts: tuple[bytes | int, ...]
    events: tuple[tuple[str, tuple[Any, ...]], ...]
    first_blocked: str | None
    size: int


def _replay(entry: _Entry, injector: Injector) -> bytes:
    outputs: list[bytes] = []
    for name, args in entry.events:
        result = getattr(injector, name)(*args)
        outputs.append(result if result is not None else b"")
    return b"".join(part if isinstance(part, bytes) else outputs[part] for part in entry.parts)


class PageMemo:
    """A bounded cache of recorded rewrites, keyed by page bytes and what is blocked."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 32 << 20, max_page: int = 1 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_page = max_page
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self._bytes = 0
        #: Pages seen once: recorded only when seen again, so pages that differ on every request
        #: (tokens, timestamps) neither pay for recording nor fill the memo.
        self._seen: dict[tuple[Any, ...], None] = {}

    def rewrite(
        self,
        body: bytes,
        plan: BlockPlan | None,
        injector: Injector,
        *,
        consent_mode: bool,
        on_blocked: Callable[[str | None], None],
        xml: bool = False,
    ) -> bytes | None:
        """The rewritten page; ``on_blocked`` learns what was blocked before anything is injected.

        ``None`` for a page not worth keeping (seen for the first time, too large, or holding
        our slot marker): rewrite it the ordinary way.
        """
        if len(body) > self.max_page:
            return None
        plan_key = (plan.denied, plan.mode) if plan is not None and plan.denied else None
        key = (hash(body), len(body), plan_key, consent_mode, xml)
        entry = self._entries.get(key)
        if entry is None or entry.body != body:
            if key not in self._seen:
                self._seen[key] = None
                if len(self._seen) > 4 * self.max_entries:
                    del self._seen[next(iter(self._seen))]
                return None
            if _MARK in body:  # the page itself holds our slot marker: do not memoise it
                return None
            entry = self._record(body, plan, consent_mode, xml)
            self._store(key, entry)
        else:  # most recently used last
            del self._entries[key]
            self._entries[key] = entry
        on_blocked(entry.first_blocked)
        return _replay(entry, injector)

    def _record(self, body: bytes, plan: BlockPlan | None, consent_mode: bool, xml: bool) -> _Entry:
        recorder = _Recorder()
        rewriter = Rewriter(plan, recorder, consent_mode=consent_mode, xml=xml)
        output = rewriter.feed(body) + rewriter.close()
        pieces = _SLOT_RE.split(output)
        parts: list[bytes | int] = []
        for index, piece in enumerate(pieces):
            if index % 2:
                parts.append(int(piece))
            elif piece:
                parts.append(piece)
        return _Entry(
            body, tuple(parts), tuple(recorder.events), rewriter.first_blocked, len(body) + len(output)
        )

    def _store(self, key: tuple[Any, ...], entry: _Entry) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[key] = entry
        self._bytes += entry.size
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            oldest = next(iter(self._entries))
            self._bytes -= self._entries.pop(oldest).size
