"""Audit-trail read speed: ``verify_file`` and the summary over a generated 1,000,000-record file.

Usage: ``python benchmarks/audit_verify.py [--records N] [--keep DIR] [--profile]``.
The file is signed exactly as :class:`consentkit.AuditLog` signs it (``sign_line`` and the
same key derivation), so ``consentkit audit verify`` accepts it. The target is >= 100,000
records/s for verification.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from consentkit.audit import GENESIS, AuditLog, verify_file
from consentkit.reports import summarize

KEY = b"benchmark-secret-key-0123456789abcdef"
TARGET = 100_000
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
)
DECISIONS = (
    ("given", "accept_all", {"necessary": True, "analytics": True, "marketing": True}),
    ("refused", "reject_all", {"necessary": True, "analytics": False, "marketing": False}),
    ("given", "save", {"necessary": True, "analytics": True, "marketing": False}),
    ("updated", "save", {"necessary": True, "analytics": False, "marketing": True}),
    ("withdrawn", "withdraw", {"necessary": True, "analytics": False, "marketing": False}),
)


def generate(path: Path, count: int, seed: int = 1) -> None:
    """Write ``count`` chained, signed records: what a busy site's audit file looks like."""
    rng = random.Random(seed)
    log = AuditLog(keys=[KEY], log=True, controller={"name": "Example Ltd", "contact": "privacy@example.org"})
    log.valid_days = 180
    start = datetime(2025, 1, 1, tzinfo=UTC)
    prev = GENESIS
    notice = "3f" * 32
    chunk: list[bytes] = []
    with open(path, "wb") as fh:
        for i in range(count):
            event, method, choices = DECISIONS[rng.randrange(len(DECISIONS))]
            record = log.build(
                subject_id=f"{rng.getrandbits(96):024x}",
                event=event,
                choices=choices,
                method=method,
                policy_version="2025-12-01",
                notice_hash=notice,
                language="en" if rng.random() < 0.7 else "fr",
                path=f"/articles/{rng.randrange(5000)}",
                user_agent=USER_AGENTS[rng.randrange(len(USER_AGENTS))],
                ip=f"203.0.{rng.randrange(256)}.7",
                now=start + timedelta(milliseconds=i * 31_000),
            )
            line, prev = log.sign(record, i + 1, prev)
            chunk.append(line)
            if len(chunk) >= 10_000:
                fh.write(b"".join(chunk))
                chunk.clear()
        fh.write(b"".join(chunk))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the file in this folder and keep it")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of verify_file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "audit.jsonl"
        began = time.perf_counter()
        generate(path, args.records)
        took = time.perf_counter() - began
        size = path.stat().st_size
        print(f"generated {args.records:,} records ({size / 1e6:.0f} MB) in {took:.1f} s")

        began = time.perf_counter()
        report = verify_file(path, [KEY])
        took = time.perf_counter() - began
        rate = report.records / took
        verdict = "ok" if rate >= TARGET else f"BELOW the {TARGET:,}/s target"
        print(f"verify:  {report.records:,} records in {took:.2f} s = {rate:,.0f} records/s ({verdict})")
        if not report.ok:
            print(f"verify FAILED: {report.problems}", file=sys.stderr)
            return 1

        began = time.perf_counter()
        summary = summarize([path])
        took = time.perf_counter() - began
        rate = summary.decisions / took
        print(f"summary: {summary.decisions:,} records in {took:.2f} s = {rate:,.0f} records/s")

        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(verify_file, path, [KEY])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
