"""A prototype of the rewriter switched to consentkit.scanner, to check and measure the switch.

Benchmark-only, to be deleted when the rewriter itself calls ``scanner.advance`` (after the
#14 rewriter lands; docs/native.md shows the change). ``ScannerRewriter`` is today's
``Rewriter`` with the data state of ``_run`` replaced by one ``scanner.advance`` call per stop
and ``_candidate_pattern`` returning ``scanner.candidates``; everything else is inherited.

``python benchmarks/switch_prototype.py --check N`` rewrites N fuzzer documents (generated and
mutated, random chunkings) with both rewriters and requires byte-identical output and the same
first blocked category; ``--measure`` times the realistic app's CPU-bound page in process with
the regex rewriter and with the prototype (``install()`` patches it into consentkit).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consentkit import memo, middleware, rewrite, scanner
from consentkit.rewrite import (
    _BLOCKING_CANDIDATES,
    _BOGUS,
    _BREAKOUT,
    _CDATA,
    _COMMENT,
    _COMMENT_END,
    _DATA,
    _FOREIGN_BLOCKING_CANDIDATES,
    _FOREIGN_STRUCTURE_CANDIDATES,
    _PLAIN,
    _STRUCTURE_CANDIDATES,
    _TAG,
    BlockPlan,
    Rewriter,
)

# With --filter: elements that are stops only for their URLs leave the candidate set, and the
# attribute filter stops at any start tag whose values may reach a denied host instead.
URL_ONLY = frozenset({b"img", b"image", b"embed", b"source", b"video", b"audio", b"object", b"link"})
STOP_BYTES = b"&%\t\n\r" + bytes(range(0x80, 0x100))
USE_FILTER = False
_filters: dict[int, tuple[BlockPlan, Any]] = {}


def plan_filter(plan: BlockPlan) -> Any:
    """The attribute filter for a plan: its hosts (suffix globs without "*.") as needles."""
    cached = _filters.get(id(plan))
    if cached is None or cached[0] is not plan:
        hosts = set(plan.hosts.names())
        cached = (plan, scanner.tag_filter(sorted(h.encode() for h in hosts), STOP_BYTES))
        _filters[id(plan)] = cached
    return cached[1]


class ScannerRewriter(Rewriter):
    """Today's rewriter with its data-state scan done by consentkit.scanner."""

    def _candidate_pattern(self) -> Any:  # type: ignore[override]
        """Rewriter._candidate_pattern's name sets, compiled for consentkit.scanner."""
        blocking = self.plan is not None or self.nested
        if self._foreign:
            names = _FOREIGN_BLOCKING_CANDIDATES if blocking else _FOREIGN_STRUCTURE_CANDIDATES
        else:
            names = _BLOCKING_CANDIDATES if blocking else _STRUCTURE_CANDIDATES
        ends: tuple[bytes, ...] = (b"body", b"svg", b"math", b"select")
        for frame in self._frames:
            if frame.name not in names:
                names = (*names, frame.name)
            if frame.name not in ends:
                ends = (*ends, frame.name)
        if USE_FILTER and self.plan is not None:
            keep = {f.name for f in self._frames}
            if self._foreign:
                keep |= set(_BREAKOUT)
            names = tuple(n for n in names if n not in URL_ONLY or n in keep)
        return scanner.candidates(names, ends)

    def _run(self, data: bytes, final: bool) -> None:
        buf = self._pending + data if self._pending else data
        lbuf = buf.lower()
        n = len(buf)
        i = 0
        while i < n or (final and self._state not in (_DATA, _PLAIN)):
            state = self._state
            if state == _DATA:
                if self._to_passthrough and self._held is None and not self._frames:
                    self._passthrough = True
                    self._emit(buf[i:])
                    i = n
                    break
                # --- the switch: one call instead of the candidate, data-consent and _SKIP scans
                blocking = self.plan is not None and not self._dropping
                attention = scanner.DATA_CONSENT if blocking else scanner.NONE
                use_filter = USE_FILTER and blocking and self.plan is not None
                tag_filter = plan_filter(self.plan) if use_filter and self.plan is not None else None
                p, kind = scanner.advance(buf, lbuf, i, self._cand, attention, tag_filter)
                self._emit(buf[i:p])
                i = p
                if kind == scanner.END:
                    break
                if kind == scanner.DECL:
                    i, stop = self._markup_declaration(buf, p, final)
                    if stop:
                        break
                    continue
                tag = _TAG.match(buf, p)
                if tag is None:
                    if not final:
                        break
                    i = self._eof_in_tag(buf, p)
                    continue
                self._tag(tag)
                i = tag.end()
                # --- end of the switch
            elif state == _COMMENT:
                m = _COMMENT_END.search(buf, i)
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
                i, stop = self._rawtext(buf, lbuf, i, final)
                if stop:
                    break
        self._pending = buf[i:] if i < n else b""


def install() -> None:
    """Make consentkit use the prototype everywhere (middleware, memo, nested rewriters)."""
    for module in (rewrite, memo, middleware):
        module.Rewriter = ScannerRewriter  # type: ignore[misc]


def check(count: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from tests.test_fuzz import PLAN, Marks, cuts, documents, mutated

    checked = 0

    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(document=st.one_of(documents, mutated()), chunking=cuts, blocking=st.booleans())
    def same(document: bytes, chunking: list[int], blocking: bool) -> None:
        nonlocal checked
        outputs = []
        for cls in (Rewriter, ScannerRewriter):
            rewriter = cls(PLAN if blocking else None, Marks())
            out, start = [], 0
            for cut in sorted({c % (len(document) + 1) for c in chunking}):
                out.append(rewriter.feed(document[start:cut]))
                start = cut
            out.append(rewriter.feed(document[start:]))
            out.append(rewriter.close())
            outputs.append((b"".join(out), rewriter.first_blocked))
        assert outputs[0] == outputs[1], document[:500]
        checked += 1

    same()
    print(f"{checked} documents: the prototype's output is byte-identical to the regex rewriter's")


def measure() -> None:
    import realistic_app
    import run

    async def per_request(app: Any, rounds: int = 15) -> list[float]:
        scope = run.make_scope(realistic_app.CPU_PATH)
        await run.time_requests(app, scope, 50)
        return [await run.time_requests(app, scope, 60) for _ in range(rounds)]

    with tempfile.TemporaryDirectory() as audit_dir:
        bare = realistic_app.build("bare", Path(audit_dir))
        regex = realistic_app.build("consentkit", Path(audit_dir))
        page = asyncio.run(run.fetch(bare, run.make_scope(realistic_app.CPU_PATH))).body
        install()
        switched = realistic_app.build("consentkit", Path(audit_dir))
        samples: dict[str, list[float]] = {"bare": [], "regex": [], "switched": []}
        apps = {"bare": bare, "regex": regex, "switched": switched}
        for round_index in range(15):
            names = list(apps) if round_index % 2 == 0 else list(reversed(apps))
            for name in names:
                samples[name] += asyncio.run(per_request(apps[name], rounds=1))
    kb = len(page) / 1024
    print(scan_walk(page))
    for name in ("regex", "switched"):
        s = run.with_ratio(samples[name], samples["bare"])
        print(
            f"{name:9} ({scanner.IMPLEMENTATION} scanner): {s['median']:.0f} µs vs bare "
            f"{run.summary(samples['bare'])['median']:.0f} µs: added {s['added']:+.0f} µs, "
            f"{s['added'] / kb:.2f} µs/KB on {kb:.1f} KB, ratio {s['ratio']:.2f}x"
        )


def scan_walk(page: bytes) -> str:
    """The scan alone: walk a page stop to stop as the rewriter does, C and Python twin, best of 7."""
    import time

    from consentkit import _pyscan

    try:
        from consentkit import _scan
    except ImportError:
        return "(the C extension is not built: no scan-only figure)"
    lpage = page.lower()
    results = {}
    for name, impl in (("C", _scan), ("Python", _pyscan)):
        cands = impl.Candidates(_BLOCKING_CANDIDATES, (b"body", b"svg", b"math", b"select"))
        best, stops = float("inf"), 0
        for _ in range(7):
            began = time.perf_counter()
            for _ in range(20):
                i, stops = 0, 0
                while True:
                    p, kind = impl.advance(page, lpage, i, cands, True, None)
                    if kind == impl.END:
                        break
                    stops += 1
                    tag = _TAG.match(page, p) if kind == impl.TAG else None
                    i = tag.end() if tag is not None else p + 2
            best = min(best, (time.perf_counter() - began) / 20 * 1e6)
        results[name] = best
    kb = len(page) / 1024
    c, py = results["C"], results["Python"]
    return (
        f"scan only, {kb:.1f} KB page, {stops} stops: C {c:.0f} µs ({c / kb:.2f} µs/KB), "
        f"Python twin {py:.0f} µs ({py / kb:.2f} µs/KB)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", type=int, default=0, metavar="N")
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--filter", action="store_true", help="URL-only elements via the attribute filter")
    args = parser.parse_args(argv)
    global USE_FILTER
    USE_FILTER = args.filter
    if args.check:
        check(args.check)
    if args.measure:
        measure()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
