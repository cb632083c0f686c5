"""The same tests for every audit store: a JSON-lines file, SQLite and a real PostgreSQL server.

Concurrent writers in several processes, tampering detected (with an anchor where only an anchor
can tell), purge keeping the chain verifiable, notices stored once and printed back, and a 503
without a cookie when the store cannot be written.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import multiprocessing
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from consentkit import AuditSettings, Policy, parse_policy
from consentkit.banner import Renderer
from consentkit.cli import main

from .audit_support import KINDS, postgres, raw_lines, replace_lines, store_url_for  # noqa: F401 - fixture
from .conftest import KEY, POLICY_YAML, client_for, decide, make_app


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One audit store of each kind: a JSON-lines file, a SQLite database, a PostgreSQL database."""
    return store_url_for(str(request.param), tmp_path, request)


ORIGIN = {"origin": "http://testserver"}


def run_cli(*argv: str | Path) -> tuple[int, str]:
    out = StringIO()
    status = main([str(a) for a in argv], out=out)
    return status, out.getvalue()


def on_store(policy: Policy, url: str, **settings: Any) -> Policy:
    """The policy recording to ``url`` (``audit.url``), or to a file (``audit.path``)."""
    where = {"url": url} if "://" in url else {"path": url}
    return policy.with_changes(audit=AuditSettings(**where, **settings))


async def record_decisions(url: str, count: int, agent: str = "test") -> None:
    app = make_app(on_store(parse_policy(POLICY_YAML), url))
    actions = [("accept_all", ()), ("reject_all", ()), ("save", ("analytics",))]

    async def one(n: int) -> None:
        async with client_for(app) as client:
            client.headers["user-agent"] = agent
            action, categories = actions[n % len(actions)]
            response = await decide(client, action, categories)
            if response.status_code != 303:
                raise RuntimeError(f"decision {n}: {response.status_code} {response.text}")

    for start in range(0, count, 20):
        await asyncio.gather(*(one(n) for n in range(start, min(count, start + 20))))


def _writer(worker: int, url: str, count: int, barrier: Any) -> None:
    barrier.wait()
    asyncio.run(record_decisions(url, count, f"worker-{worker}"))


def verify(url: str, *extra: str) -> tuple[int, str]:
    return run_cli("audit", "verify", "--keys", KEY, url, *extra)


def head_of(out: str) -> str:
    return re.findall(r"^head: (\S+)$", out, re.MULTILINE)[-1]


# --- many writers --------------------------------------------------------------------------------


def test_concurrent_processes_append_one_history(store_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    workers = [context.Process(target=_writer, args=(n, store_url, 120, barrier)) for n in range(3)]
    for process in workers:
        process.start()
    try:
        for process in workers:
            process.join(180)
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
    assert [p.exitcode for p in workers] == [0, 0, 0]
    records = [json.loads(line) for line in raw_lines(store_url)]
    assert [r["seq"] for r in records] == list(range(1, 361))
    assert len({r["record_id"] for r in records}) == 360
    for n in range(3):
        assert sum(r["user_agent"] == f"worker-{n}" for r in records) == 120
    done = subprocess.run(
        [sys.executable, "-m", "consentkit.cli", "audit", "verify", "--keys", KEY, store_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK, 360 records" in done.stdout
    assert done.stdout.endswith(f"head: 360:{records[-1]['mac']}\n")


# --- tampering -----------------------------------------------------------------------------------


def written(url: str, count: int) -> list[bytes]:
    asyncio.run(record_decisions(url, count))
    return raw_lines(url)


def test_an_untouched_store_verifies_and_names_its_key(store_url: str) -> None:
    lines = written(store_url, 4)
    status, out = verify(store_url)
    assert status == 0, out
    last = json.loads(lines[-1])
    assert f"key {last['key_id']} signed records 1-4" in out
    assert out.endswith(f"head: 4:{last['mac']}\n")


def test_an_edited_record_is_detected(store_url: str) -> None:
    lines = written(store_url, 5)
    lines[2] = lines[2].replace(b'"event":"', b'"event":"x', 1)
    replace_lines(store_url, lines)
    status, out = verify(store_url)
    assert status == 1
    assert ":3: edited: the MAC does not match the record" in out


def test_an_edited_personal_field_is_detected(store_url: str) -> None:
    lines = written(store_url, 3)
    lines[1] = lines[1].replace(b'"user_agent":"test"', b'"user_agent":"other"')
    replace_lines(store_url, lines)
    status, out = verify(store_url)
    assert status == 1
    assert ":2: edited: the personal fields do not match the hash the MAC covers" in out


def test_a_deleted_record_is_detected(store_url: str) -> None:
    lines = written(store_url, 5)
    del lines[2]
    replace_lines(store_url, lines)
    status, out = verify(store_url)
    assert status == 1
    assert ":3: deleted or reordered: expected record 3 here, found 4" in out


def test_a_cut_tail_passes_alone_but_fails_against_the_head(store_url: str) -> None:
    lines = written(store_url, 6)
    status, out = verify(store_url)
    anchor = head_of(out)
    replace_lines(store_url, lines[:4])
    status, out = verify(store_url)
    assert status == 0  # without an anchor, a shorter history is indistinguishable from an older one
    status, out = verify(store_url, "--expect-head", anchor)
    assert status == 1
    assert "cut tail, rollback or emptied store: the history ends at record 4" in out


def test_a_rollback_is_detected_against_the_head(store_url: str) -> None:
    lines = written(store_url, 4)
    anchor = head_of(verify(store_url)[1])
    replace_lines(store_url, lines[:2])  # an older copy put back...
    asyncio.run(record_decisions(store_url, 3))  # ...and the site keeps writing after it
    status, out = verify(store_url)
    assert status == 0
    status, out = verify(store_url, "--expect-head", anchor)
    assert status == 1
    assert ":4: rolled back or rewritten: record 4 differs from --expect-head" in out


def test_an_emptied_store_is_detected_against_the_head(store_url: str) -> None:
    written(store_url, 3)
    anchor = head_of(verify(store_url)[1])
    replace_lines(store_url, [])
    status, out = verify(store_url)
    assert status == 0 and out.endswith("head: 0:" + "0" * 64 + "\n")
    status, out = verify(store_url, "--expect-head", anchor)
    assert status == 1
    assert "the history ends at record 0" in out


def test_logged_checkpoints_are_anchors(
    store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="consentkit.audit")
    app_policy = on_store(parse_policy(POLICY_YAML), store_url, checkpoint_minutes=0)

    async def run() -> None:
        async with client_for(make_app(app_policy)) as client:
            for _ in range(5):
                assert (await decide(client, "accept_all")).status_code == 303

    asyncio.run(run())
    log = tmp_path / "app.log"
    log.write_text(
        "".join(
            f"2026-01-01 INFO {r.name}: {r.getMessage()}\n"
            for r in caplog.records
            if r.name == "consentkit.audit"
        )
    )
    status, out = verify(store_url, "--checkpoints", str(log))
    assert status == 0, out
    assert "5 signed checkpoints" in out and "5 anchor(s) matched" in out
    replace_lines(store_url, raw_lines(store_url)[:3])
    status, out = verify(store_url, "--checkpoints", str(log))
    assert status == 1 and "the history ends at record 3" in out
    # a forged checkpoint does not count
    forged = log.read_text().replace('"seq":5', '"seq":9')
    log.write_text(forged)
    status, out = verify(store_url, "--checkpoints", str(log))
    assert "checkpoint with an invalid MAC" in out and status == 1


def test_records_of_an_unknown_key_are_reported(store_url: str) -> None:
    written(store_url, 2)
    status, out = run_cli("audit", "verify", "--keys", "another-secret-key-0123456789abc", store_url)
    assert status == 1 and "which was not given" in out


# --- purge ---------------------------------------------------------------------------------------


def test_purge_erases_personal_data_and_the_history_still_verifies(store_url: str) -> None:
    lines = written(store_url, 4)
    subject = json.loads(lines[1])["subject_id"]
    status, out = run_cli("audit", "purge", store_url, "--subject", subject)
    assert status == 0 and "personal data erased from 1 record(s)" in out
    records = [json.loads(line) for line in raw_lines(store_url)]
    assert [r["subject_id"] is None for r in records] == [False, True, False, False]
    assert records[1]["ip"] is None and records[1]["user_agent"] is None and records[1]["salt"] is None
    assert records[1]["personal_hash"] == json.loads(lines[1])["personal_hash"]
    assert verify(store_url)[0] == 0
    assert run_cli("audit", "subject", store_url, subject)[0] == 1
    status, out = run_cli("audit", "purge", store_url, "--before", "2999-01-01")
    assert "erased from 3 record(s)" in out
    assert all(json.loads(line)["subject_id"] is None for line in raw_lines(store_url))
    status, out = verify(store_url)
    assert status == 0 and "OK, 4 records" in out
    # writing personal data back into a purged record is tampering
    lines = raw_lines(store_url)
    lines[0] = lines[0].replace(b'"subject_id":null', b'"subject_id":"someone"')
    replace_lines(store_url, lines)
    assert "personal fields were written into a purged record" in verify(store_url)[1]


def test_purge_by_the_policy_retention(store_url: str, tmp_path: Path) -> None:
    written(store_url, 2)
    policy_file = tmp_path / "consent.yaml"
    policy_file.write_text(POLICY_YAML + "audit:\n  retention_days: 30\n")
    status, out = run_cli("audit", "purge", store_url, "--policy", policy_file)
    assert status == 0 and "erased from 0 record(s)" in out  # every record is younger than 30 days


# --- notices -------------------------------------------------------------------------------------


def test_each_notice_is_stored_once_and_printed_back(store_url: str) -> None:
    policy = on_store(parse_policy(POLICY_YAML), store_url)
    renderer = Renderer(policy, "/_consent")

    async def run() -> None:
        app = make_app(policy)
        async with client_for(app) as client:
            for _ in range(3):
                assert (await decide(client, "accept_all")).status_code == 303
            settings = {"action": "save", "channel": "settings", "next": "/"}
            assert (await client.post("/_consent", data=settings, headers=ORIGIN)).status_code == 303
            embed = {"action": "embed", "categories": "marketing", "next": "/"}
            assert (await client.post("/_consent", data=embed, headers=ORIGIN)).status_code == 303
        async with client_for(app) as fresh:
            assert (await fresh.get("/", headers={"sec-gpc": "1"})).status_code == 200

    asyncio.run(run())
    records = [json.loads(line) for line in raw_lines(store_url)]
    assert [r["channel"] for r in records] == ["banner"] * 3 + ["settings", "embed", "browser_signal"]
    for record in records:
        assert record["notice_hash"] == renderer.channel_notice_hash(record["channel"], "en")
        status, text = run_cli("audit", "notice", store_url, record["notice_hash"])
        assert status == 0
        assert hashlib.sha256(text.removesuffix("\n").encode()).hexdigest() == record["notice_hash"]
    banner_text = run_cli("audit", "notice", store_url, records[0]["notice_hash"])[1]
    assert "Your privacy" in banner_text and "Accept" in banner_text
    gpc_text = run_cli("audit", "notice", store_url, records[-1]["notice_hash"])[1]
    assert html.escape(policy.messages("en").gpc_honored) in gpc_text
    assert html.escape(policy.messages("en").gpc_honored) not in banner_text
    assert "YouTube" in run_cli("audit", "notice", store_url, records[4]["notice_hash"])[1]
    assert run_cli("audit", "notice", store_url, "0" * 64)[0] == 1
    assert stored_notices(store_url) == len({r["notice_hash"] for r in records}) == 4  # each once


def stored_notices(url: str) -> int:
    if url.startswith("sqlite:"):
        import sqlite3

        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            return int(conn.execute("SELECT count(*) FROM consentkit_notices").fetchone()[0])
    if url.startswith("postgresql:"):
        import psycopg

        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM consentkit_notices").fetchone()
            assert row is not None
            return int(row[0])
    hashes = [json.loads(line)["hash"] for line in Path(url + ".notices").read_text().splitlines()]
    assert len(hashes) == len(set(hashes))
    return len(hashes)


# --- the reports read every store ----------------------------------------------------------------


def test_summary_subject_and_report_read_the_store(store_url: str, tmp_path: Path) -> None:
    lines = written(store_url, 6)
    status, out = run_cli("audit", "summary", "--json", store_url)
    assert status == 0
    assert json.loads(out)["decisions"] == 6
    subject = json.loads(lines[0])["subject_id"]
    status, out = run_cli("audit", "subject", store_url, subject)
    assert status == 0 and json.loads(out)[0]["subject_id"] == subject
    status, out = run_cli("audit", "report", store_url, "-o", tmp_path / "r.html", "--keys", KEY)
    assert status == 0 and "6 decisions from 1 source(s), verified" in out


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "sqlite", "postgresql"])
@pytest.mark.anyio
async def test_an_unwritable_store_means_503_and_no_cookie(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    if kind == "file":
        url = str(blocker / "audit.jsonl")
    elif kind == "sqlite":
        url = f"sqlite:///{blocker}/audit.db"
    else:
        request.getfixturevalue("postgres")  # skips (or fails in CI) without PostgreSQL
        from .audit_support import free_port

        url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    app = make_app(on_store(parse_policy(POLICY_YAML), url))
    async with client_for(app) as client:
        response = await decide(client, "accept_all")
        assert response.status_code == 503
        assert "set-cookie" not in response.headers
        page = await client.get("/")
        assert page.status_code == 200 and 'id="consentkit-banner"' in page.text
