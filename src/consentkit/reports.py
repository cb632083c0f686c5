"""Audit files read back for people: a summary, one subject's consent receipts, an HTML report.

Pure functions over the JSON-lines records: nothing here prints or writes files. Reading is
lenient (lines that are not records are skipped and counted); integrity is
:func:`consentkit.audit.verify_file`'s job, not the summary's.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, Final

from .audit import EVENTS, VerifyReport
from .audit_store import open_store

__all__ = [
    "Reader",
    "Summary",
    "as_record",
    "describe",
    "format_summary",
    "parse_day",
    "receipts",
    "render_html",
    "summarize",
]

Record = dict[str, Any]
Progress = Callable[[int], None]

#: The record time format: UTC, milliseconds, ``Z`` (so that string order is time order).
_TIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_REQUIRED_STRINGS: Final = ("record_id", "method", "language")
#: Methods after which no optional category is granted.
_REFUSING_METHODS: Final = frozenset({"reject_all", "withdraw"})
TOP: Final = 10
#: Distinct pages or user agents counted one by one; the rest are counted as "(other)".
DISTINCT_LIMIT: Final = 20_000
OTHER: Final = "(other)"


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` date (UTC) from the command line; ValueError says what is wrong."""
    if not _DAY.fullmatch(text):
        raise ValueError(f"invalid date {text!r}: use YYYY-MM-DD (UTC)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid date {text!r}: no such day (use YYYY-MM-DD, UTC)") from None


def as_record(line: bytes) -> Record | None:
    """The record on one line, or None when the line is not a well-formed consent record."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    when = record.get("time")
    if not isinstance(when, str) or _TIME.fullmatch(when) is None:
        return None
    try:
        datetime.fromisoformat(when)
    except ValueError:
        return None
    if record.get("event") not in EVENTS:
        return None
    choices = record.get("choices")
    if not isinstance(choices, dict) or not all(isinstance(v, bool) for v in choices.values()):
        return None
    for name in _REQUIRED_STRINGS:
        if not isinstance(record.get(name), str):
            return None
    if record.get("subject_id") is None:  # purged: the personal fields are erased
        record["subject_id"] = ""
    elif not isinstance(record["subject_id"], str):
        return None
    return record


class Reader:
    """The records of several audit stores (files or database URLs), one after the other; counts
    the lines that are not records."""

    def __init__(self, paths: Sequence[Path | str], progress: Progress | None = None) -> None:
        self.paths = list(paths)
        self.progress = progress
        self.skipped = 0
        #: Unreadable lines per file.
        self.skipped_in: dict[str, int] = {}
        #: The file the last record came from.
        self.current = ""

    def __iter__(self) -> Iterator[Record]:
        progress = self.progress
        for path in self.paths:
            self.current = name = str(path)
            self.skipped_in.setdefault(name, 0)
            store = open_store(str(path))
            try:
                for line in store.lines():
                    if progress is not None:
                        progress(len(line))
                    if not line.strip():
                        continue
                    record = as_record(line)
                    if record is None:
                        self.skipped_in[name] += 1
                        self.skipped += 1
                        continue
                    yield record
            finally:
                store.close()


def _bounded(counter: Counter[str], key: str) -> None:
    """Count ``key``, folding new keys into OTHER once DISTINCT_LIMIT distinct ones are known."""
    if key in counter or len(counter) < DISTINCT_LIMIT:
        counter[key] += 1
    else:
        counter[OTHER] += 1


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Summary:
    """Decisions counted per day, event, method, language and category, with acceptance rates."""

    files: list[str]
    since: date | None = None
    until: date | None = None
    decisions: int = 0
    skipped: int = 0
    first: str | None = None
    last: str | None = None
    #: Per file: [records in the period, unreadable lines].
    file_counts: dict[str, list[int]] = field(default_factory=dict)
    days: dict[str, Counter[str]] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    granted: Counter[str] = field(default_factory=Counter)
    denied: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    user_agents: Counter[str] = field(default_factory=Counter)
    #: (granted, denied) category sets and how many decisions had them.
    patterns: Counter[tuple[frozenset[str], frozenset[str]]] = field(default_factory=Counter)
    #: The granted sets of decisions known to refuse every optional category.
    refusals: set[frozenset[str]] = field(default_factory=set)

    def add(self, record: Record) -> None:
        """Count one record."""
        when: str = record["time"]
        self.decisions += 1
        if self.first is None or when < self.first:
            self.first = when
        if self.last is None or when > self.last:
            self.last = when
        event: str = record["event"]
        method: str = record["method"]
        day = self.days.get(when[:10])
        if day is None:
            self.days[when[:10]] = day = Counter()
        day[event] += 1
        self.events[event] += 1
        self.methods[method] += 1
        self.languages[record["language"]] += 1
        granted: list[str] = []
        denied: list[str] = []
        for category, value in record["choices"].items():
            (granted if value else denied).append(category)
        self.granted.update(granted)
        self.denied.update(denied)
        granted_set = frozenset(granted)
        self.patterns[granted_set, frozenset(denied)] += 1
        if event == "refused" or method in _REFUSING_METHODS:
            self.refusals.add(granted_set)
        path = record.get("path")
        _bounded(self.paths, path.split("?", 1)[0] if isinstance(path, str) else "")
        agent = record.get("user_agent")
        _bounded(self.user_agents, agent if isinstance(agent, str) else "")

    @property
    def categories(self) -> list[str]:
        return sorted(set(self.granted) | set(self.denied))

    @property
    def accepted_all(self) -> int:
        """Decisions that granted every category."""
        return sum(n for (_, denied), n in self.patterns.items() if not denied)

    @property
    def refused_all(self) -> int:
        """Decisions that granted no more than a reject-all grants (the required categories only).

        The required categories are learnt from the records known to refuse everything
        optional (event ``refused``, method ``reject_all`` or ``withdraw``).
        """
        if not self.refusals:
            return 0
        required = frozenset.intersection(*self.refusals)
        return sum(n for (granted, denied), n in self.patterns.items() if denied and granted <= required)

    def category_rates(self) -> dict[str, dict[str, Any]]:
        result = {}
        for name in self.categories:
            granted, denied = self.granted[name], self.denied[name]
            result[name] = {
                "granted": granted,
                "denied": denied,
                "acceptance_rate": _rate(granted, granted + denied),
                "decline_rate": _rate(denied, granted + denied),
            }
        return result

    def to_json(self) -> dict[str, Any]:
        """The summary as one JSON document (``consentkit audit summary --json``)."""
        return {
            "files": self.files,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "decisions": self.decisions,
            "skipped_lines": self.skipped,
            "first": self.first,
            "last": self.last,
            "accepted_all": {"count": self.accepted_all, "rate": _rate(self.accepted_all, self.decisions)},
            "refused_all": {"count": self.refused_all, "rate": _rate(self.refused_all, self.decisions)},
            "categories": self.category_rates(),
            "events": {event: self.events[event] for event in EVENTS},
            "methods": dict(_ranked(self.methods)),
            "languages": dict(_ranked(self.languages)),
            "days": [
                {"date": day, "decisions": sum(counts.values()), "events": {e: counts[e] for e in EVENTS}}
                for day, counts in sorted(self.days.items())
            ],
            "top_paths": [list(pair) for pair in _ranked(self.paths)[:TOP]],
            "top_user_agents": [list(pair) for pair in _ranked(self.user_agents)[:TOP]],
        }


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    """Most frequent first, ties by name, so that output is deterministic."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def summarize(
    paths: Sequence[Path | str],
    *,
    since: date | None = None,
    until: date | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Read the files (merged, as from several hosts) and count the records in the period (UTC days)."""
    summary = Summary([str(p) for p in paths], since, until)
    low = since.isoformat() if since else None
    high = until.isoformat() if until else None
    reader = Reader(paths, progress)
    counts = summary.file_counts = {str(p): [0, 0] for p in paths}
    for record in reader:
        day = record["time"][:10]
        if (low is not None and day < low) or (high is not None and day > high):
            continue
        summary.add(record)
        counts[reader.current][0] += 1
    for name, skipped in reader.skipped_in.items():
        counts[name][1] = skipped
    summary.skipped = reader.skipped
    return summary


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(parts).rstrip())
    return lines


def format_summary(summary: Summary) -> str:
    """The summary as human-readable tables."""
    n = summary.decisions
    period = (
        f"{summary.since or 'start'} .. {summary.until or 'end'}" if summary.since or summary.until else ""
    )
    lines = [
        f"Files: {', '.join(summary.files)}",
        f"Decisions: {n}"
        + (f" ({summary.first} .. {summary.last})" if n else "")
        + (f", period {period} (UTC)" if period else ""),
    ]
    if summary.skipped:
        lines.append(f"Unreadable lines skipped: {summary.skipped}")
    if not n:
        return "\n".join(lines)
    lines.append(
        f"Accepted everything: {summary.accepted_all} ({_percent(_rate(summary.accepted_all, n))}); "
        f"refused everything optional: {summary.refused_all} ({_percent(_rate(summary.refused_all, n))})"
    )
    lines += ["", "Per day"]
    lines += _table(
        ["date", "total", *EVENTS],
        [[day, sum(c.values()), *(c[e] for e in EVENTS)] for day, c in sorted(summary.days.items())],
    )
    lines += ["", "Per category"]
    lines += _table(
        ["category", "granted", "denied", "acceptance", "decline"],
        [
            [name, r["granted"], r["denied"], _percent(r["acceptance_rate"]), _percent(r["decline_rate"])]
            for name, r in summary.category_rates().items()
        ],
    )
    for title, counter in (
        ("event", Counter({e: summary.events[e] for e in EVENTS})),
        ("method", summary.methods),
        ("language", summary.languages),
    ):
        lines += ["", f"By {title}"]
        rows = [[k, v, _percent(_rate(v, n))] for k, v in _ranked(counter)]
        lines += _table([title, "decisions", "share"], rows)
    return "\n".join(lines)


# --- subject receipts ----------------------------------------------------------------------------


def _names(categories: Sequence[str]) -> str:
    return ", ".join(categories) or "none"


def describe(record: Record) -> str:
    """One sentence a data subject can read: when, what was decided, how, where, on which notice."""
    when = record["time"]
    granted = sorted(c for c, v in record["choices"].items() if v)
    denied = sorted(c for c, v in record["choices"].items() if not v)
    event, method = record["event"], record["method"]
    if not denied:
        what = f"accepted all categories ({_names(granted)})"
    elif event == "refused" or method in _REFUSING_METHODS:
        verb = "withdrew consent to" if event == "withdrawn" else "refused"
        what = f"{verb} all optional categories ({_names(denied)})"
    else:
        lead = {
            "given": "gave consent",
            "updated": "changed their choices",
            "withdrawn": "withdrew consent",
            "opt_out_signal": "opted out with a browser privacy signal",
        }.get(event, event)
        what = f"{lead}: granted {_names(granted)}; refused {_names(denied)}"
    how = f"via {method}"
    signals = record.get("signals")
    if isinstance(signals, list) and signals:
        how += f" (signal: {', '.join(str(s) for s in signals)})"
    parts = [f"{when[:10]} {when[11:16]} UTC: {what} {how}"]
    if isinstance(record.get("path"), str) and record["path"]:
        parts[0] += f" on {record['path']}"
    if record.get("notice_hash"):
        parts.append(f"notice sha256 {record['notice_hash']}")
    if record.get("policy_version"):
        parts.append(f"policy {record['policy_version']}")
    parts.append(f"language {record['language']}")
    return ", ".join(parts)


def receipts(
    paths: Sequence[Path | str], subject_id: str, progress: Progress | None = None
) -> tuple[list[Record], int]:
    """Every record of one subject in time order, each with a ``summary`` sentence; and lines skipped.

    A record found twice (the same file given twice, or copies from several sinks) is listed once.
    """
    reader = Reader(paths, progress)
    found: dict[str, Record] = {}
    for record in reader:
        if record["subject_id"] == subject_id:
            found.setdefault(record["record_id"], record)
    ordered = sorted(found.values(), key=lambda r: str(r["time"]))
    return [{**record, "summary": describe(record)} for record in ordered], reader.skipped


# --- HTML report ---------------------------------------------------------------------------------

_COLOURS: Final = {
    "given": "#1b7a4a",
    "refused": "#b8420f",
    "updated": "#1f5fa8",
    "withdrawn": "#8a6300",
    "opt_out_signal": "#7b3f8c",
}
#: No request of any kind leaves the page, even if something slipped into it.
_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'"
_CSS: Final = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;
margin:0}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.75rem;margin:.5rem 0 1rem}h2{font-size:1.3rem;margin:2rem 0 .5rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #bbb;padding:.25rem .6rem;text-align:right;vertical-align:top}
th:first-child,td:first-child,.text{text-align:left}td.text,th.text{word-break:break-all;max-width:40rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
dl.totals{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dl.totals dt{font-weight:600}
dl.totals dd{margin:0}
.ok{color:#1b7a4a;font-weight:600}.failed{color:#b3261e;font-weight:600}.unverified{color:#555;font-weight:600}
svg{max-width:100%;height:auto;display:block}svg text{font:12px system-ui,sans-serif;fill:#1a1a1a}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.35em;vertical-align:-.1em;
border:1px solid #333}
details{margin:.5rem 0}summary{cursor:pointer}
@media print{details{display:block}}
""" + "".join(f".ev-{event}{{background:{colour}}}" for event, colour in _COLOURS.items())


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _axis_top(value: int) -> tuple[int, int]:
    """A round top for a y axis at least ``value``, and the step between its four gridlines."""
    rough = max(value, 1) / 4
    power = 10 ** max(0, math.floor(math.log10(rough))) if rough >= 1 else 1
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= rough)
    return step * math.ceil(max(value, 1) / step), step


def _timeline(summary: Summary) -> tuple[str, list[tuple[str, Counter[str]]]]:
    """Events per day from the first to the last decision, days without any included
    (per month when that spans more than a year)."""
    first = date.fromisoformat(min(summary.days))
    last = date.fromisoformat(max(summary.days))
    if (last - first).days < 366:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return "day", [(d.isoformat(), summary.days.get(d.isoformat(), Counter())) for d in days]
    months: dict[str, Counter[str]] = {}
    for year in range(first.year, last.year + 1):
        for month in range(1, 13):
            key = f"{year:04d}-{month:02d}"
            if f"{first:%Y-%m}" <= key <= f"{last:%Y-%m}":
                months[key] = Counter()
    for day, counts in summary.days.items():
        months[day[:7]].update(counts)
    return "month", list(months.items())


def _days_chart(summary: Summary) -> str:
    """Stacked bars over time, one colour per event, with a title and a description."""
    unit, buckets = _timeline(summary)
    top, step = _axis_top(max(sum(c.values()) for _, c in buckets))
    left, plot_w, right, plot_top, plot_h, bottom = 56, 840, 16, 12, 220, 44
    slot = plot_w / len(buckets)
    bar = min(slot * 0.8, 48)
    width = left + plot_w + right
    height = plot_top + plot_h + bottom
    parts = [
        f'<svg role="img" aria-labelledby="days-title days-desc" aria-label="Decisions per {unit}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="days-title">Decisions per {unit}, stacked by event</title>',
        f'<desc id="days-desc">{summary.decisions} decisions from {_e(buckets[0][0])} to '
        f"{_e(buckets[-1][0])}, highest {_e(unit)} {max(sum(c.values()) for _, c in buckets)}; "
        "the table below gives the numbers per day.</desc>",
    ]
    for tick in range(0, top + 1, step):
        y = plot_top + plot_h - plot_h * tick / top
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    label_every = max(1, math.ceil(64 / slot))
    for index, (key, counts) in enumerate(buckets):
        centre = left + (index + 0.5) * slot
        y = float(plot_top + plot_h)
        for event in EVENTS:
            count = counts[event]
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            parts.append(
                f'<rect x="{centre - bar / 2:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{h:.2f}" '
                f'fill="{_COLOURS[event]}"><title>{_e(key)}: {count} {_e(event)}</title></rect>'
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{centre:.1f}" y="{plot_top + plot_h + 16}" text-anchor="middle">{_e(key)}</text>'
            )
    parts.append(f'<text x="{left}" y="{height - 6}">{"Day" if unit == "day" else "Month"} (UTC)</text>')
    parts.append("</svg>")
    return "".join(parts)


def _categories_chart(summary: Summary) -> str:
    """One horizontal bar per category: the share of decisions that granted it."""
    rates = summary.category_rates()
    label_w, bar_w, row_h = 160, 480, 30
    height = row_h * len(rates) + 10
    width = label_w + bar_w + 70
    parts = [
        f'<svg role="img" aria-labelledby="cat-title" aria-label="Acceptance rate per category" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        '<title id="cat-title">Acceptance rate per category (share of decisions that granted it)</title>',
    ]
    for index, (name, r) in enumerate(rates.items()):
        y = 5 + index * row_h
        rate = r["acceptance_rate"] or 0.0
        label = name if len(name) <= 22 else name[:21] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end">{_e(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 10}" '
            'fill="#eee" stroke="#bbb"/>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * rate:.1f}" height="{row_h - 10}" '
            f'fill="#1f5fa8"><title>{_e(name)}: {_percent(rate)} granted</title></rect>'
        )
        parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 18}">{_percent(r["acceptance_rate"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A data table: the first column names the row, the others hold numbers."""
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in header)
    body = "".join(
        f'<tr><th scope="row" class="text">{_e(row[0])}</th>'
        + "".join(f"<td>{_e(c)}</td>" for c in row[1:])
        + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _verify_cell(report: VerifyReport | None) -> str:
    if report is None:
        return '<span class="unverified">not verified</span> (no secret keys given)'
    if report.ok:
        return f'<span class="ok">OK</span>: {report.records} records, chain head {_e(report.head)}'
    problems = "; ".join(f"{where}: {p}" for where, p in report.problems)
    return f'<span class="failed">FAILED</span> after {report.records} good records: {_e(problems)}'


def render_html(summary: Summary, verified: Sequence[VerifyReport] | None, *, generated: datetime) -> str:
    """A self-contained HTML page (inline CSS and SVG, no script, no external request) for ``summary``."""
    n = summary.decisions
    by_file = {r.path: r for r in verified} if verified is not None else {}
    period = (
        f"{summary.since or 'the start'} to {summary.until or 'the end'} (UTC days, inclusive)"
        if summary.since or summary.until
        else "everything in the files"
    )
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Consent audit report</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>Consent audit report</h1>",
        f"<p>Generated {_e(generated.strftime('%Y-%m-%d %H:%M UTC'))} by consentkit. "
        f"Period: {_e(period)}.</p>",
        '<h2 id="totals">Totals</h2><dl class="totals">',
        f"<dt>Decisions</dt><dd>{n}</dd>",
    ]
    if n:
        out += [
            f"<dt>First decision</dt><dd>{_e(summary.first)}</dd>",
            f"<dt>Last decision</dt><dd>{_e(summary.last)}</dd>",
            f"<dt>Accepted everything</dt><dd>{summary.accepted_all} "
            f"({_percent(_rate(summary.accepted_all, n))})</dd>",
            f"<dt>Refused everything optional</dt><dd>{summary.refused_all} "
            f"({_percent(_rate(summary.refused_all, n))})</dd>",
        ]
        out += [f"<dt>{_e(event)}</dt><dd>{summary.events[event]}</dd>" for event in EVENTS]
    out.append(f"<dt>Unreadable lines skipped</dt><dd>{summary.skipped}</dd></dl>")

    out.append('<h2 id="files">Files</h2>')
    out.append(
        "<table><caption>Files covered and their integrity</caption><thead><tr>"
        '<th scope="col">File</th><th scope="col">Records in period</th>'
        '<th scope="col">Unreadable lines</th><th scope="col" class="text">Verification</th></tr></thead>'
        "<tbody>"
    )
    for name in summary.files:
        records, skipped = summary.file_counts.get(name, [0, 0])
        cell = _verify_cell(by_file.get(name))
        out.append(
            f'<tr><th scope="row" class="text">{_e(name)}</th><td>{records}</td><td>{skipped}</td>'
            f'<td class="text">{cell}</td></tr>'
        )
    out.append("</tbody></table>")

    if not n:
        out.append("<p>No decisions were recorded in this period.</p></main></body></html>")
        return "\n".join(out)

    out.append('<h2 id="over-time">Decisions over time</h2>')
    out.append('<ul class="legend" aria-label="Legend">')
    out += [f'<li><span class="swatch ev-{_e(e)}"></span>{_e(e)}</li>' for e in EVENTS]
    out.append("</ul>")
    out.append(_days_chart(summary))
    day_rows = [[day, sum(c.values()), *(c[e] for e in EVENTS)] for day, c in sorted(summary.days.items())]
    out.append("<details><summary>Decisions per day as a table</summary>")
    out.append(_html_table("Decisions per day (UTC)", ["Date", "Total", *EVENTS], day_rows))
    out.append("</details>")

    out.append('<h2 id="categories">Acceptance per category</h2>')
    out.append(_categories_chart(summary))
    out.append(
        _html_table(
            "Decisions per category",
            ["Category", "Granted", "Denied", "Acceptance rate", "Decline rate"],
            [
                [name, r["granted"], r["denied"], _percent(r["acceptance_rate"]), _percent(r["decline_rate"])]
                for name, r in summary.category_rates().items()
            ],
        )
    )

    out.append('<h2 id="breakdowns">By language, method and event</h2>')
    for caption, first, counter in (
        ("Decisions by language", "Language", summary.languages),
        ("Decisions by method", "Method", summary.methods),
        ("Decisions by event", "Event", Counter({e: summary.events[e] for e in EVENTS})),
    ):
        rows = [[k, v, _percent(_rate(v, n))] for k, v in _ranked(counter)]
        out.append(_html_table(caption, [first, "Decisions", "Share"], rows))

    out.append('<h2 id="sources">Where decisions were made</h2>')
    out.append(
        _html_table(
            f"Top {TOP} pages (without query string)",
            ["Page", "Decisions"],
            [list(pair) for pair in _ranked(summary.paths)[:TOP]],
        )
    )
    out.append(
        _html_table(
            f"Top {TOP} user agents",
            ["User agent", "Decisions"],
            [list(pair) for pair in _ranked(summary.user_agents)[:TOP]],
        )
    )
    out.append("</main></body></html>")
    return "\n".join(out)
