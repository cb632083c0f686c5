"""Check the switch to consentkit.scanner on the #14 rewriter (branch ``rewriter``), as documented.

Benchmark-only, for the integration: ``python benchmarks/switch_14.py SRC N`` where SRC is a
``src/`` directory holding the #14 rewriter (``git archive rewriter src | tar -x -C /tmp/x``)
and this branch's ``_pyscan.py``, ``scanner.py`` and built ``_scan*.so`` copied into its
``consentkit/``. It writes ``consentkit/rewrite_native.py``: that rewriter with the edit
docs/native.md describes (``_candidate_pattern`` returning scanner objects, the data state of
``_run`` one ``scanner.advance`` call per stop), and requires byte-identical output and the
same first blocked category on N fuzzer documents in random chunkings. With ``--filtered`` the
rewriter passes ``NAMES_FILTERED`` and a filter of the plan's hosts and inline markers, so that
tags with style=, src=... stay in C unless a value may reach a listed host.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SNIPPET = """\
                attention = scanner.NAMES if self.plan is not None and not self._dropping else scanner.NONE
                p, kind = scanner.advance(buf, lbuf, i, self._cand, attention, None)
                self._text(buf[i:p])
                i = p
                if kind == scanner.END:
                    break
                if kind == scanner.DECL:
                    i, stop = self._markup_declaration(buf, lbuf, p, final)
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
"""


FILTERED = """\
                blocking = self.plan is not None and not self._dropping
                attention = scanner.NAMES_FILTERED if blocking else scanner.NONE
                tag_filter = _plan_filter(self.plan) if attention else None
                p, kind = scanner.advance(buf, lbuf, i, self._cand, attention, tag_filter)
"""
PLAN_FILTER = """

_PLAN_FILTERS: dict[int, tuple[Any, Any]] = {}
_STOP_BYTES: Final = b"&%\\t\\n\\r" + bytes(range(0x80, 0x100))


def _plan_filter(plan: Any) -> Any:
    \"\"\"The attribute filter of a plan: its hosts and inline markers as needles (cached).\"\"\"
    cached = _PLAN_FILTERS.get(id(plan))
    if cached is None or cached[0] is not plan:
        needles = set(plan.hosts.names())
        needles = {n.encode() for n in needles} | {marker for marker, _, _ in plan.inline}
        cached = (plan, scanner.tag_filter(sorted(needles), _STOP_BYTES))
        _PLAN_FILTERS[id(plan)] = cached
    return cached[1]
"""


def transform(source: str, filtered: bool = False) -> str:
    def once(old: str, new: str, text: str) -> str:
        assert text.count(old) == 1, f"expected once: {old[:60]!r} ({text.count(old)})"
        return text.replace(old, new)

    source = once("from .tagscan import", "from . import scanner\nfrom .tagscan import", source)
    source = source.replace("            return _ANY_TAG", "            return scanner.ANY_TAG")
    source = once("return _candidate_re(names, ends)\n", "return scanner.candidates(names, ends)\n", source)
    source = source.replace(
        "def _candidate_pattern(self) -> re.Pattern[bytes]:", "def _candidate_pattern(self) -> Any:"
    )
    start = source.index("                if cand_pattern is not self._cand or")
    end = source.index("            elif state == _COMMENT:", start)
    snippet = SNIPPET
    if filtered:
        lines = SNIPPET.splitlines(keepends=True)
        snippet = FILTERED + "".join(lines[2:])
    source = source[:start] + snippet + source[end:]
    if filtered:
        source += PLAN_FILTER
    source = once("        cand: re.Match[bytes] | None = None\n", "", source)
    source = once("        cand_pattern: re.Pattern[bytes] | None = None\n", "", source)
    typing = re.search(r"from typing import ([^\n]*)", source)
    if typing is not None and "Any" not in typing.group(1):
        source = source.replace("from typing import ", "from typing import Any, ", 1)
    return source


def main() -> int:
    src, count = Path(sys.argv[1]), int(sys.argv[2])
    filtered = "--filtered" in sys.argv[3:]
    package = src / "consentkit"
    (package / "rewrite_native.py").write_text(transform((package / "rewrite.py").read_text(), filtered))
    sys.path.insert(0, str(src))
    sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # this checkout's tests/
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from tests.test_fuzz import PLAN, Marks, cuts, documents, mutated

    from consentkit import rewrite, rewrite_native, scanner

    checked = 0

    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(document=st.one_of(documents, mutated()), chunking=cuts, blocking=st.booleans())
    def same(document: bytes, chunking: list[int], blocking: bool) -> None:
        nonlocal checked
        outputs = []
        for module in (rewrite, rewrite_native):
            rewriter = module.Rewriter(PLAN if blocking else None, Marks())
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
    print(f"{checked} documents ({scanner.describe()}): the #14 rewriter switched to consentkit.scanner")
    print("gives byte-identical output")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
