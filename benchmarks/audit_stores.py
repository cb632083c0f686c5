"""Audit-store write throughput: recorded decisions per second for each store, and the memory
``consentkit audit verify`` needs for a large history.

Usage: ``python benchmarks/audit_stores.py [--records N] [--writers 3] [--threads 16]
[--verify-records 1000000]``. Each store (a JSON-lines file, SQLite, and PostgreSQL: a throwaway
cluster started as the tests start it) gets ``--writers`` processes, each with ``--threads``
concurrent requests calling :meth:`AuditLog.append` (as the middleware does from its worker
threads), all appending to one history with durable commits (fsync / synchronous=FULL /
PostgreSQL's default synchronous_commit). The headline is three writer processes on one
PostgreSQL history (target: >= 1,000 recorded decisions/s). Every run is verified afterwards:
the count must be exact and the chain intact.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consentkit.audit import AuditLog  # noqa: E402
from consentkit.audit_store import open_store  # noqa: E402
from consentkit.audit_verify import verify_sources  # noqa: E402

KEY = b"benchmark-secret-key-0123456789abcdef"
TARGET = 1_000


def _record(log: AuditLog, n: int) -> dict[str, Any]:
    return log.build(
        subject_id=f"subject-{os.getpid()}-{n}",
        event="given",
        choices={"necessary": True, "analytics": n % 2 == 0, "marketing": False},
        method="save",
        policy_version="2025-12-01",
        notice_hash="3f" * 32,
        language="en",
        path="/articles/1",
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ip="203.0.113.7",
    )


def _writer(url: str, count: int, threads: int, start: Any, done: Any) -> None:
    log = AuditLog(url=url, keys=[KEY], log=False)
    per_thread = count // threads

    def work() -> None:
        for n in range(per_thread):
            log.append(_record(log, n))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start.wait()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.put(per_thread * threads)


def measure(url: str, records: int, writers: int, threads: int) -> tuple[float, int]:
    """Records/s for ``writers`` processes appending ``records`` in all; and the count verified."""
    open_store(url).head()  # create the schema outside the timing
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(writers + 1)
    done: Any = context.Queue()
    procs = [
        context.Process(target=_writer, args=(url, records // writers, threads, start, done))
        for _ in range(writers)
    ]
    for proc in procs:
        proc.start()
    start.wait()
    began = time.perf_counter()
    written = sum(done.get(timeout=600) for _ in procs)
    took = time.perf_counter() - began
    for proc in procs:
        proc.join()
    report = verify_sources([url], [KEY])
    if not report.ok or report.records != written:
        raise SystemExit(
            f"{url}: verify failed or lost records: {report.problems} {report.records}/{written}"
        )
    return written / took, report.records


def read_memory(records: int, folder: Path) -> list[str]:
    """Time and peak memory of ``consentkit audit verify``, ``summary`` and ``report`` over
    ``records`` records (a generated file), each in a fresh process."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import audit_verify

    path = folder / "big.jsonl"
    audit_verify.generate(path, records)
    size = path.stat().st_size / 1e6
    lines = []
    for argv in (
        ["audit", "verify", "--keys", KEY.decode(), str(path)],
        ["audit", "summary", "--json", str(path)],
        ["audit", "report", str(path), "-o", str(folder / "report.html")],
    ):
        code = (
            "import io, sys, time\nfrom consentkit.cli import main\nt = time.perf_counter()\n"
            f"status = main({argv!r}, out=io.StringIO())\n"
            "took = time.perf_counter() - t\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print('RESULT', status, took, int(hwm) // 1024, file=sys.stderr)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        result = [line for line in done.stderr.splitlines() if line.startswith("RESULT")]
        if not result:
            raise SystemExit(done.stderr)
        _, status, took, mb = result[0].split()
        verdict = "ok" if int(mb) < 200 and status == "0" else "OVER the 200 MB bound or FAILED"
        lines.append(
            f"{argv[1]:7} {records:,} records ({size:,.0f} MB file): exit {status}, {float(took):.1f} s "
            f"({records / float(took):,.0f} records/s), peak RSS {mb} MB ({verdict})"
        )
    return lines


def write_rates(args: argparse.Namespace, folder: Path, figures: dict[str, Any]) -> list[str]:
    """Records/s for each store; the PostgreSQL cluster is started for the run and removed."""
    from tests.audit_support import start_postgres

    lines = []
    server = start_postgres()
    try:
        stores = {
            "file (JSON lines, fsync)": str(folder / "audit.jsonl"),
            "SQLite (WAL, synchronous=FULL)": f"sqlite:///{folder / 'audit.db'}",
            "PostgreSQL (one history)": server.database(),
        }
        for name, url in stores.items():
            rate, count = measure(url, args.records, args.writers, args.threads)
            figures[name] = rate
            lines.append(f"  {name:34} {rate:8,.0f} records/s  ({count:,} verified)")
        light, _ = measure(server.database(), args.records // 2, args.writers, 8)
        figures["PostgreSQL, 8 concurrent appends per writer"] = light
        lines.append(f"  {'PostgreSQL, 8 concurrent per writer':34} {light:8,.0f} records/s")
        single, _ = measure(server.database(), args.records // 10, 1, 1)
        figures["PostgreSQL, one writer, one request at a time"] = single
        lines.append(f"  {'PostgreSQL, 1 writer, sequential':34} {single:8,.0f} records/s")
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
    headline = figures["PostgreSQL (one history)"]
    verdict = "ok" if headline >= TARGET else f"BELOW the {TARGET:,}/s target"
    lines.append(
        f"Headline: {args.writers} writer processes on one PostgreSQL history: {headline:,.0f} recorded "
        f"decisions/s ({verdict})"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=12_000, help="records per store (all writers)")
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=40,
        help="concurrent appends per writer process (the middleware appends from anyio's worker "
        "threads: 40 per process by default, the concurrency a loaded process reaches)",
    )
    parser.add_argument("--verify-records", type=int, default=1_000_000, help="0 to skip")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    figures: dict[str, Any] = {"writers": args.writers, "threads": args.threads, "records": args.records}
    lines = [
        f"Audit stores: {args.writers} writer processes x {args.threads} concurrent appends, "
        f"{args.records:,} records each run, durable commits, {os.cpu_count()} CPUs"
    ]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.records:
            lines += write_rates(args, folder, figures)
        if args.verify_records:
            lines += read_memory(args.verify_records, folder)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
