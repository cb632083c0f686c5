"""``make bench``'s headline: the realistic app (realistic_app.py) with and without consentkit.

Usage: ``python benchmarks/realistic.py [--rounds 5] [--seconds 3] [--scanners default|native,python]``.

(f) end to end: uvicorn (1 worker, on the first CPU) serving the bare app or the app behind
    ConsentMiddleware, and wrk (1 thread, 8 connections) on the other CPU; 5 rounds in which bare
    and consentkit alternate which goes first; consentkit/bare req/s ratios (median of the
    round-by-round pairs) and p99 latency, for first visits and accepted visitors on the
    CPU-bound page and on the page with 2 ms of I/O, and for JSON;
(g) in process: µs per request of the same CPU-bound page called as an ASGI app, bare and
    consentkit alternating, 15 rounds: what consentkit adds, per request and per KB of page.

``--scanners native,python`` adds a consentkit server run with ``CONSENTKIT_SCANNER=python``
(the pure-Python scanner) next to the default one; run with CONSENTKIT_SCANNER=python for (g) with it.
Results go to stdout and ``benchmarks/results/<date>-<host>-<commit>-realistic.{txt,json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final

import realistic_app
import run
from run import (
    BANNER_MARK,
    TRACKER_MARK,
    consent_cookie,
    fetch,
    free_port,
    http_get,
    make_scope,
    run_wrk,
    spread,
    table,
    time_requests,
    wait_until_serving,
    with_other_load,
    with_ratio,
)

import consentkit.scanner

HERE: Final = Path(__file__).resolve().parent
IN_PROCESS_ROUNDS: Final = 15
BATCH_SECONDS: Final = 0.06

# (key, label, path, visitor): visitor "first" (no cookie), "accepted" (accepted everything) or "" (JSON)
CASES: Final = (
    ("first_cpu", "first visit, CPU-bound page", realistic_app.CPU_PATH, "first"),
    ("first_io", "first visit, page with 2 ms of I/O", realistic_app.IO_PATH, "first"),
    ("accepted_cpu", "accepted visitor, CPU-bound page", realistic_app.CPU_PATH, "accepted"),
    ("accepted_io", "accepted visitor, page with 2 ms of I/O", realistic_app.IO_PATH, "accepted"),
    ("json", "JSON 1 KB, no cookie", realistic_app.JSON_PATH, ""),
)


def serve(kind: str, port: int) -> None:
    """(child process) Serve one variant with uvicorn, one worker, on the first CPU."""
    import uvicorn

    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as audit_dir:
        app = realistic_app.build("bare" if kind == "bare" else "consentkit", Path(audit_dir))
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def check(kind: str, visitor: str, status: int, body: bytes, again: bytes) -> None:
    """Refuse to time a response that is not what the case says it is."""
    if status != 200:
        raise RuntimeError(f"{kind} {visitor}: status {status}")
    if not visitor:
        return
    blocking = kind != "bare" and visitor == "first"
    if (TRACKER_MARK in body) == blocking or (BANNER_MARK in body) != blocking:
        raise RuntimeError(f"{kind} {visitor}: trackers or banner not as expected")
    if body == again:
        raise RuntimeError(f"{kind} {visitor}: two responses alike, but the page has a per-request token")


def order(kinds: Sequence[str], round_index: int) -> list[str]:
    return list(kinds) if round_index % 2 == 0 else list(reversed(kinds))


def figure_f(
    kinds: Sequence[str], accepted: str, rounds: int, seconds: int, log: Callable[[str], None]
) -> Any:
    ports = {kind: free_port() for kind in kinds}
    procs = {}
    for kind, port in ports.items():
        env = dict(os.environ)
        if kind == "consentkit-python":
            env["CONSENTKIT_SCANNER"] = "python"
        command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
        procs[kind] = subprocess.Popen(command, env=env)
    affinity = os.sched_getaffinity(0)
    samples: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        for kind, port in ports.items():
            wait_until_serving(f"http://127.0.0.1:{port}{realistic_app.JSON_PATH}", procs[kind])
        with tempfile.TemporaryDirectory() as scratch:
            lua = Path(scratch) / "report.lua"
            lua.write_text(run.WRK_LUA)
            for _key, _, path, visitor in CASES:
                cookie = accepted if visitor == "accepted" else None
                for kind in kinds:
                    url = f"http://127.0.0.1:{ports[kind]}{path}"
                    bodies = [http_get(url, cookie) for _ in range(20)]  # warm up
                    check(kind, visitor, bodies[-1][0], bodies[-1][1], bodies[-2][1])
            if len(affinity) > 1:  # the servers run on the first CPU, wrk (our child) on the others
                os.sched_setaffinity(0, affinity - {min(affinity)})
            for round_index in range(rounds):
                for key, _, path, visitor in CASES:
                    cookie = accepted if visitor == "accepted" else None
                    for kind in order(kinds, round_index):
                        url = f"http://127.0.0.1:{ports[kind]}{path}"
                        samples.setdefault((key, kind), []).append(run_wrk(url, cookie, lua, seconds))
                log(f"  (f) round {round_index + 1}/{rounds}")
    finally:
        os.sched_setaffinity(0, affinity)
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=10)
    rows: dict[str, Any] = {}
    for key, label, _, _ in CASES:
        bare = samples[key, "bare"]
        row: dict[str, Any] = {"label": label}
        for kind in kinds:
            runs = samples[key, kind]
            row[kind] = {
                "rps": with_ratio([r["rps"] for r in runs], [r["rps"] for r in bare]),
                "p99_ms": with_ratio([r["p99_us"] / 1000 for r in runs], [r["p99_us"] / 1000 for r in bare]),
                "runs": runs,
            }
        rows[key] = row
    return {
        "rounds": rounds,
        "seconds_per_run": seconds,
        "connections": run.B_CONNECTIONS,
        "server": f"uvicorn {version('uvicorn')} (1 worker, h11, asyncio), access log off",
        "load_generator": subprocess.run(["wrk", "--version"], check=False, capture_output=True, text=True)
        .stdout.splitlines()[0]
        .split(" Copyright")[0],
        "kinds": list(kinds),
        "cases": rows,
    }


def report_f(result: dict[str, Any]) -> list[str]:
    lines = [
        f"(f) The realistic app end to end: {result['server']} on CPU 0; {result['load_generator']} on the "
        f"other CPU, 1 thread, {result['connections']} connections, {result['seconds_per_run']} s per run, "
        f"median [min-max] of {result['rounds']} alternating rounds; ratios are medians of the "
        "round-by-round pairs.",
    ]
    others = [k for k in result["kinds"] if k != "bare"]
    header = ["case", "bare req/s"]
    for kind in others:
        header += [f"{kind} req/s", "ratio"]
    header += ["p99 ms bare", *(f"-> {kind}" for kind in others)]
    rows = []
    for row in result["cases"].values():
        cells = [row["label"], spread(row["bare"]["rps"], "{:.0f}")]
        for kind in others:
            cells += [spread(row[kind]["rps"], "{:.0f}"), f"{row[kind]['rps']['ratio']:.3f}x"]
        cells.append(f"{row['bare']['p99_ms']['median']:.2f}")
        cells += [f"{row[kind]['p99_ms']['median']:.2f}" for kind in others]
        rows.append(cells)
    return lines + table(header, rows)


async def figure_g(accepted: str, log: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as audit_dir:
        apps = {kind: realistic_app.build(kind, Path(audit_dir)) for kind in ("bare", "consentkit")}
        cases = {"first": None, "accepted": accepted}
        counts: dict[tuple[str, str], int] = {}
        sizes: dict[tuple[str, str], int] = {}
        for visitor, cookie in cases.items():
            for kind, app in apps.items():
                scope = make_scope(realistic_app.CPU_PATH, cookie)
                first, second = await fetch(app, scope), await fetch(app, scope)
                check(kind, visitor, first.status, first.body, second.body)
                sizes[visitor, kind] = len(first.body)
                per_request = await time_requests(app, scope, 100)
                counts[visitor, kind] = max(30, int(BATCH_SECONDS * 1e6 / per_request))
        samples: dict[tuple[str, str], list[float]] = {k: [] for k in counts}
        for round_index in range(IN_PROCESS_ROUNDS):
            for visitor, cookie in cases.items():
                scope = make_scope(realistic_app.CPU_PATH, cookie)
                for kind in order(list(apps), round_index):
                    timed = await time_requests(apps[kind], scope, counts[visitor, kind])
                    samples[visitor, kind].append(timed)
            log(f"  (g) round {round_index + 1}/{IN_PROCESS_ROUNDS}")
    rows: dict[str, Any] = {}
    for visitor in cases:
        kb = sizes[visitor, "bare"] / 1024
        s = with_ratio(samples[visitor, "consentkit"], samples[visitor, "bare"])
        rows[visitor] = {
            "bare": with_ratio(samples[visitor, "bare"], samples[visitor, "bare"]),
            "consentkit": s,
            "added_us": s["added"],
            "added_us_per_kb": s["added"] / kb,
            "bare_bytes": sizes[visitor, "bare"],
            "consentkit_bytes": sizes[visitor, "consentkit"],
        }
    return {"rounds": IN_PROCESS_ROUNDS, "scanner": consentkit.scanner.IMPLEMENTATION, "cases": rows}


def report_g(result: dict[str, Any]) -> list[str]:
    lines = [
        f"(g) The realistic app's CPU-bound page in process (ASGI calls, no HTTP), µs per request, "
        f"median [min-max] of {result['rounds']} alternating rounds "
        f"(consentkit.scanner: {result['scanner']}).",
    ]
    header = ["visitor", "page KB", "bare µs", "consentkit µs", "added µs", "added µs/KB", "ratio"]
    rows = [
        [
            visitor,
            f"{row['bare_bytes'] / 1024:.1f} -> {row['consentkit_bytes'] / 1024:.1f}",
            spread(row["bare"]),
            spread(row["consentkit"]),
            f"{row['added_us']:+.1f}",
            f"{row['added_us_per_kb']:.2f}",
            f"{row['consentkit']['ratio']:.2f}x",
        ]
        for visitor, row in result["cases"].items()
    ]
    return lines + table(header, rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--scanners", default="default", choices=("default", "native,python"))
    parser.add_argument("--only", default="fg")
    parser.add_argument("--serve", choices=("bare", "consentkit", "consentkit-python"), help="(internal)")
    parser.add_argument("--port", type=int, default=8000, help="(internal) with --serve")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return 0
    began = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f} s]{message}", file=sys.stderr, flush=True)

    kinds = ["bare", "consentkit"] + (["consentkit-python"] if args.scanners == "native,python" else [])
    facts = run.machine()
    facts["scanner"] = consentkit.scanner.describe()
    with tempfile.TemporaryDirectory() as audit_dir:
        app = realistic_app.build("consentkit", Path(audit_dir))
        accepted = asyncio.run(consent_cookie(app, "accept_all"))
    figures: dict[str, Any] = {}
    if "f" in args.only:
        if not run.shutil.which("wrk"):
            figures["f"] = {"skipped": "wrk is not installed (sudo apt-get install -y wrk)"}
        else:
            log(" (f) realistic app, uvicorn + wrk")
            figures["f"] = with_other_load(lambda: figure_f(kinds, accepted, args.rounds, args.seconds, log))
    if "g" in args.only:
        log(" (g) realistic app, in process")
        figures["g"] = with_other_load(lambda: asyncio.run(figure_g(accepted, log)))
    lines = [*run.report_machine(facts), facts["scanner"]]
    for key, report in (("f", report_f), ("g", report_g)):
        if key in figures:
            if "skipped" in figures[key]:
                lines += ["", f"({key}) SKIPPED: {figures[key]['skipped']}"]
                continue
            lines += ["", *report(figures[key]), run.other_load_note(figures[key]["other_load"])]
    duration = time.perf_counter() - began
    lines += ["", f"Run time: {duration:.0f} s"]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    run.RESULTS.mkdir(exist_ok=True)
    stem = run.RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-{facts['hostname']}-{facts['commit'][:7]}-realistic"
    document = {"machine": facts, "figures": figures, "duration_s": duration}
    stem.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
    stem.with_suffix(".txt").write_text(text)
    print(f"wrote {stem.with_suffix('.json').relative_to(run.REPO)} and {stem.with_suffix('.txt').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
