"""Faults: a full disk under the audit file, and workers killed in the middle of appending."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from consentkit import parse_policy
from consentkit.audit import verify_file

from .conftest import KEY, POLICY_YAML, client_for, make_app

LONG = os.environ.get("CONSENTKIT_FUZZ_LONG") == "1"


@pytest.fixture
def file_size_limit() -> Iterator[object]:
    """Lets a test cap how large this process may grow files (RLIMIT_FSIZE), as a full disk would."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed

    def limit(size: int | None) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft if size is None else size, hard))

    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@pytest.mark.anyio
async def test_a_full_disk_refuses_decisions_and_keeps_serving_pages(
    tmp_path: Path, file_size_limit: object
) -> None:
    limit = file_size_limit
    policy = parse_policy(POLICY_YAML)
    audit = tmp_path / "audit.jsonl"
    origin = {"origin": "http://testserver"}
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        assert (
            await client.post("/_consent", data={"action": "accept_all"}, headers=origin)
        ).status_code == 303
        size = audit.stat().st_size
        client.cookies.clear()
        limit(size + 64)  # type: ignore[operator]  # room for a fragment of a record, not a whole one
        try:
            refused = await client.post("/_consent", data={"action": "reject_all"}, headers=origin)
            page = await client.get("/")
        finally:
            limit(None)  # type: ignore[operator]
        assert refused.status_code == 503
        assert "could not be recorded" in refused.text
        assert "set-cookie" not in refused.headers
        assert page.status_code == 200 and 'id="consentkit-banner"' in page.text
        assert audit.stat().st_size == size  # no fragment left behind
        again = await client.post("/_consent", data={"action": "reject_all"}, headers=origin)
        assert again.status_code == 303  # normal again once space returns
    report = verify_file(audit, [KEY.encode()])
    assert report.ok and report.records == 2


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from consentkit.audit import AuditLog
    log = AuditLog(Path(sys.argv[1]), [sys.argv[2].encode()], fsync=False, log=False)
    n = 0
    while True:
        record = log.build(subject_id="s" * 22, event="given", choices={"analytics": True}, method="accept_all",
                           policy_version="1", notice_hash="0" * 64, language="en", path="/" + "x" * (n % 300),
                           user_agent="worker", ip="192.0.2.1")
        log.append(record)
        n += 1
    """
)


def test_workers_killed_mid_append_leave_a_file_that_verifies(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rounds = 40 if LONG else 6
    rng = random.Random(1234)
    for _ in range(rounds):
        workers = [
            subprocess.Popen([sys.executable, str(script), str(audit), KEY], stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        size = audit.stat().st_size if audit.exists() else 0
        deadline = time.monotonic() + 30
        while (not audit.exists() or audit.stat().st_size <= size) and time.monotonic() < deadline:
            time.sleep(0.01)  # wait until the workers are appending
        time.sleep(rng.uniform(0.0, 0.2))
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
        for worker in workers:
            worker.wait()
        report = verify_file(audit, [KEY.encode()])
        if not report.ok:
            # the only acceptable damage is an incomplete last line, which the next append moves aside
            [(line, problem)] = report.problems
            assert problem.startswith("truncated: the last line") and line == report.records + 1
    report = verify_file(audit, [KEY.encode()])
    lines = audit.read_bytes().count(b"\n")
    assert report.ok or report.problems[0][1].startswith("truncated")
    assert report.records == lines
    assert lines > rounds  # the workers really were writing
