"""The audit trail end to end: concurrent writers, tampering, failures, the logger, and the reports."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from consentkit import AuditLog, AuditSettings, Policy, parse_policy
from consentkit.audit import key_id
from consentkit.cli import main

from .conftest import KEY, OLD_KEY, POLICY_YAML, client_for, decide, make_app

ORIGIN = {"origin": "http://testserver"}
NOTICE = "ab" * 32
T0 = datetime(2025, 12, 1, 10, 0, tzinfo=UTC)
EVIL_UA = "<script>alert(1)</script>"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36"

# (file, minutes after T0, subject, event, method, analytics, marketing, language, path, user agent)
FIXTURE: list[tuple[str, int, str, str, str, bool, bool, str, str, str]] = [
    ("host-a", 0, "subject-alice", "given", "accept_all", True, True, "en", "/", FIREFOX),
    ("host-b", 5, "subject-bob", "refused", "reject_all", False, False, "fr", "/page", CHROME),
    ("host-b", 1440, "subject-alice", "updated", "save", True, False, "en", "/settings?x=1", FIREFOX),
    ("host-a", 1441, "subject-carol", "given", "save", True, False, "en", "/page", EVIL_UA),
    ("host-a", 2880, "subject-alice", "withdrawn", "withdraw", False, False, "en", "/", FIREFOX),
    ("host-b", 2882, "subject-dave", "opt_out_signal", "gpc", False, False, "en", "/page?utm=1", CHROME),
]


# --- helpers -------------------------------------------------------------------------------------


def run_cli(*argv: str | Path) -> tuple[int, str]:
    """``consentkit`` in-process: exit status and standard output."""
    out = StringIO()
    status = main([str(a) for a in argv], out=out)
    return status, out.getvalue()


def audit_log(path: Path | None, *keys: str, **options: Any) -> AuditLog:
    return AuditLog(path, [k.encode() for k in keys or (KEY,)], fsync=False, **options)


def append(log: AuditLog, minute: int, subject: str = "subject-x", **fields: Any) -> dict[str, Any]:
    """Build and append one record at T0 + ``minute``."""
    details: dict[str, Any] = {
        "subject_id": subject,
        "event": "given",
        "choices": {"necessary": True, "analytics": True, "marketing": False},
        "method": "save",
        "policy_version": "2025-12-01",
        "notice_hash": NOTICE,
        "language": "en",
        "path": "/",
        "user_agent": FIREFOX,
        "ip": "203.0.113.7",
    }
    details.update(fields)
    record = log.build(now=T0 + timedelta(minutes=minute), **details)
    return log.append(record)


def write_chain(path: Path, count: int, *keys: str) -> list[dict[str, Any]]:
    log = audit_log(path, *keys)
    return [append(log, i, f"subject-{i}") for i in range(count)]


def write_fixture(folder: Path) -> tuple[Path, Path, dict[str, dict[str, Any]]]:
    """Two hosts' files from FIXTURE; returns them and the records by (subject, event)."""
    paths = {name: folder / f"{name}.jsonl" for name in ("host-a", "host-b")}
    logs = {name: audit_log(path) for name, path in paths.items()}
    written = {}
    for host, minute, subject, event, method, analytics, marketing, lang, page, agent in FIXTURE:
        record = append(
            logs[host],
            minute,
            subject,
            event=event,
            method=method,
            choices={"necessary": True, "analytics": analytics, "marketing": marketing},
            language=lang,
            path=page,
            user_agent=agent,
            extra={"signals": ["gpc"]} if method == "gpc" else None,
        )
        written[f"{subject}/{event}"] = record
    return paths["host-a"], paths["host-b"], written


def lines_of(path: Path) -> list[bytes]:
    """The file's lines as ``verify`` reads them: split at newlines only, newline kept."""
    with open(path, "rb") as fh:
        return fh.readlines()


def assert_verifies(path: Path, records: int, keys: str = KEY) -> None:
    status, out = run_cli("audit", "verify", "--keys", keys, path)
    assert status == 0, out
    assert f"{path}: OK, {records} records" in out


# --- many writers --------------------------------------------------------------------------------


async def _post_decisions(worker: int, audit_path: Path, count: int) -> None:
    policy = parse_policy(POLICY_YAML)
    app = make_app(policy, audit=audit_log(audit_path, log=False))
    actions = [("accept_all", ()), ("reject_all", ()), ("save", ("analytics",))]

    async def one(n: int) -> None:
        async with client_for(app) as client:
            client.headers["user-agent"] = f"worker-{worker}"
            action, categories = actions[n % len(actions)]
            response = await decide(client, action, categories)
            if response.status_code != 303:
                raise RuntimeError(f"decision {n} of worker {worker}: {response.status_code} {response.text}")

    batch = 25
    for start in range(0, count, batch):
        await asyncio.gather(*(one(n) for n in range(start, min(count, start + batch))))


def _writer_process(worker: int, audit_path: str, count: int, barrier: Any) -> None:
    barrier.wait()  # all processes write at the same time
    asyncio.run(_post_decisions(worker, Path(audit_path), count))


def test_four_processes_write_one_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    workers = [context.Process(target=_writer_process, args=(n, str(path), 500, barrier)) for n in range(4)]
    for process in workers:
        process.start()
    try:
        for process in workers:
            process.join(120)
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]

    raw = lines_of(path)
    assert len(raw) == 2000
    assert all(line.endswith(b"}\n") for line in raw)
    records = [json.loads(line) for line in raw]
    assert {r["user_agent"] for r in records} == {f"worker-{n}" for n in range(4)}
    for n in range(4):
        assert sum(r["user_agent"] == f"worker-{n}" for r in records) == 500
    assert len({r["record_id"] for r in records}) == 2000
    # the real command, in its own process
    done = subprocess.run(
        [sys.executable, "-m", "consentkit.cli", "audit", "verify", "--keys", KEY, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{path}: OK, 2000 records" in done.stdout


def test_two_writers_keep_the_chain_after_one_moves_a_torn_line_aside(tmp_path: Path) -> None:
    # Writer A moves an interrupted line aside, then writer B (another process) appends a
    # line exactly as long as the torn one: A must not take the file size for its own.
    path = tmp_path / "audit.jsonl"
    first, second = audit_log(path), audit_log(path)
    append(first, 0)
    probe = second.build(
        subject_id="subject-b",
        event="given",
        choices={"necessary": True},
        method="accept_all",
        policy_version="1",
        notice_hash=NOTICE,
        language="en",
        path="/",
        user_agent="b",
        ip=None,
    )
    probe_length = len(json.dumps({**probe, "prev": "0" * 64, "mac": "0" * 64}, separators=(",", ":")))
    with open(path, "ab") as fh:
        fh.write(b"x" * (probe_length + 1))  # a record's length, newline included, but no newline
    append(first, 1)
    second.append(probe)
    append(first, 2)
    assert (tmp_path / "audit.jsonl.torn").exists()
    assert_verifies(path, 4)


# --- tampering -----------------------------------------------------------------------------------


def tamper_and_verify(path: Path, lines: list[bytes]) -> tuple[int, str]:
    path.write_bytes(b"".join(lines))
    return run_cli("audit", "verify", "--keys", KEY, path)


def test_an_untouched_file_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    records = write_chain(path, 6)
    status, out = run_cli("audit", "verify", "--keys", KEY, path)
    assert status == 0
    assert f"{path}: OK, 6 records, head {records[-1]['mac']}\n" in out
    assert out.endswith(f"head: 6:{records[-1]['mac']}\n")
    assert "signed records 1-6 (2025-12-01T10:00:00.000Z to 2025-12-01T10:05:00.000Z)" in out


def test_an_edited_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 6)
    lines = lines_of(path)
    lines[2] = lines[2].replace(b'"analytics":true', b'"analytics":false')
    status, out = tamper_and_verify(path, lines)
    assert status == 1
    assert f"{path}:3: edited: the MAC does not match the record" in out
    assert f"{path}: FAILED after 2 good records" in out


def test_a_deleted_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 6)
    lines = lines_of(path)
    del lines[2]
    status, out = tamper_and_verify(path, lines)
    assert status == 1
    assert f"{path}:3: deleted or reordered: expected record 3 here, found 4" in out


def test_a_deleted_first_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 3)
    status, out = tamper_and_verify(path, lines_of(path)[1:])
    assert status == 1
    assert f"{path}:1: deleted" in out


def test_reordered_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 6)
    lines = lines_of(path)
    lines[2], lines[3] = lines[3], lines[2]
    status, out = tamper_and_verify(path, lines)
    assert status == 1
    assert f"{path}:3: deleted or reordered: expected record 3 here, found 4" in out


def test_an_inserted_copy_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 4)
    lines = lines_of(path)
    lines.insert(3, lines[1])
    status, out = tamper_and_verify(path, lines)
    assert status == 1
    assert f"{path}:4: reordered or inserted: record 2 appears after record 3" in out


def test_a_truncated_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 6)
    lines = lines_of(path)
    lines[3] = lines[3][: len(lines[3]) // 2] + b"\n"
    status, out = tamper_and_verify(path, lines)
    assert status == 1
    assert f"{path}:4: truncated or not a consentkit record" in out


def test_a_torn_last_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 3)
    lines = lines_of(path)
    lines[-1] = lines[-1][:-1]  # only the newline is missing
    status, out = tamper_and_verify(path, lines)
    assert status == 1
    assert f"{path}:3: truncated: the last line is an incomplete record" in out
    assert f"{path}: FAILED after 2 good records" in out


def test_the_wrong_key_fails(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 2)
    status, out = run_cli("audit", "verify", "--keys", OLD_KEY, path)
    assert status == 1
    assert f"{path}:1: signed with key " in out and "which was not given" in out


def test_records_signed_with_an_old_key_verify_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 3, OLD_KEY)
    rotated = audit_log(path, OLD_KEY, KEY)  # the newest key signs from now on
    append(rotated, 10)
    append(rotated, 11)
    assert_verifies(path, 5, f"{OLD_KEY},{KEY}")
    status, out = run_cli("audit", "verify", "--keys", OLD_KEY, path)
    assert status == 1 and f"{path}:4: signed with key" in out
    status, out = run_cli("audit", "verify", "--keys", KEY, path)
    assert status == 1 and f"{path}:1: signed with key" in out
    status, out = run_cli("audit", "verify", "--keys", f"{OLD_KEY},{KEY}", path)
    old_id, new_id = key_id(OLD_KEY.encode()), key_id(KEY.encode())
    assert f"key {old_id} signed records 1-3" in out and f"key {new_id} signed records 4-5" in out


def test_verify_reads_keys_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 2)
    monkeypatch.setenv("CONSENTKIT_SECRET_KEYS", f"{OLD_KEY},{KEY}")
    assert run_cli("audit", "verify", path)[0] == 0


# --- through the app -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_unwritable_audit_file_refuses_the_decision_but_pages_still_work(
    policy: Policy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # the parent is a regular file: this fails for root too, whatever the permissions
    app = make_app(policy, audit_path=blocker / "audit.jsonl")
    async with client_for(app) as client:
        response = await decide(client, "accept_all")
        assert response.status_code == 503
        assert "set-cookie" not in response.headers
        assert response.headers["retry-after"] == "30"
        assert "could not be recorded" in response.text and "not applied" in response.text
        assert len(response.text) < 200

        as_json = await client.post("/_consent", json={"action": "reject_all"}, headers=ORIGIN)
        assert as_json.status_code == 503
        assert "set-cookie" not in as_json.headers
        assert "could not be recorded" in as_json.json()["error"]

        page = await client.get("/page")
        assert page.status_code == 200
        assert 'id="consentkit-banner"' in page.text
        assert not client.cookies
    assert "cannot write the audit record" in caplog.text


@pytest.mark.anyio
async def test_the_logger_gets_exactly_the_records_of_the_file(
    policy: Policy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="consentkit.audit")
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        await decide(client, "reject_all")
        await decide(client, "save", ("analytics",))
        await decide(client, "withdraw")
    logged = [r.getMessage() for r in caplog.records if r.name == "consentkit.audit"]
    messages = [m for m in logged if '"type":"checkpoint"' not in m]
    assert len(logged) > len(messages)  # a signed checkpoint follows the first write
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert messages == lines
    events = [json.loads(m)["event"] for m in messages]
    assert events == ["refused", "updated", "withdrawn"]


@pytest.mark.anyio
async def test_with_audit_url_log_the_logger_alone_records(
    policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="consentkit.audit")
    logger_only = policy.with_changes(audit=AuditSettings(url="log"))
    async with client_for(make_app(logger_only)) as client:
        response = await client.post("/_consent", json={"action": "reject_all"}, headers=ORIGIN)
    assert response.status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "consentkit.audit"]
    assert len(messages) == 1
    record = json.loads(messages[0])
    assert record["record_id"] == response.json()["record_id"]
    assert record["event"] == "refused" and record["method"] == "reject_all"
    assert record["choices"] == {"necessary": True, "analytics": False, "marketing": False}
    assert record["subject_id"] == response.json()["subject_id"]
    assert re.fullmatch(r"[0-9a-f]{64}", record["mac"])


@pytest.mark.anyio
async def test_logger_only_without_a_handler_refuses_rather_than_lose_the_record(policy: Policy) -> None:
    # What uvicorn does: the consentkit.audit logger is not configured, so nothing would keep it.
    logger_only = policy.with_changes(audit=AuditSettings(url="log"))
    audit_logger = logging.getLogger("consentkit.audit")
    saved = (audit_logger.handlers[:], audit_logger.propagate, audit_logger.level)
    audit_logger.handlers = [logging.NullHandler()]
    audit_logger.propagate = False
    try:
        async with client_for(make_app(logger_only)) as client:
            response = await decide(client, "accept_all")
    finally:
        audit_logger.handlers, audit_logger.propagate, audit_logger.level = saved
    assert response.status_code == 503
    assert "set-cookie" not in response.headers


@pytest.mark.anyio
async def test_untrusted_values_cannot_break_lines_or_forge_records(policy: Policy, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    forged = b'x\n{"event":"given","mac":"' + b"0" * 64 + b'"}\r\n\x85\xe2\x80\xa8"quoted"'
    headers = [(b"origin", b"http://testserver"), (b"user-agent", forged)]
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        form = {"action": "reject_all", "next": "/page?q=\"quoted\"&r='single'"}
        assert (await client.post("/_consent", data=form, headers=headers)).status_code == 303
        as_json = {"action": "accept_all", "next": '/p\n{"event":"given"}'}
        assert (await client.post("/_consent", json=as_json, headers=headers)).status_code == 200
    # a privacy-signal record, written while a page with quotes in its address is served
    async with client_for(make_app(policy, tmp_path=tmp_path)) as fresh:
        page = await fresh.get('/page?a="b"', headers=[(b"sec-gpc", b"1"), (b"user-agent", b'y\n{"a":"b"}')])
        assert page.status_code == 200
    # and straight through AuditLog, for values no request could carry
    direct = audit_log(path)
    append(direct, 1, path='/x"\n{"event":"given"}\n', user_agent='\n"\n\u2028', subject_id='a"\nb')
    raw = lines_of(path)
    assert len(raw) == 4
    records = [json.loads(line) for line in raw]
    assert [r["event"] for r in records] == ["refused", "updated", "opt_out_signal", "given"]
    assert records[0]["user_agent"] == forged.decode("latin-1")
    assert records[0]["path"] == "/page"  # recorded without its query string
    assert records[1]["path"] == "/"  # control characters in next are refused
    assert records[3]["path"] == '/x"\n{"event":"given"}\n'
    assert_verifies(path, 4)


@pytest.mark.anyio
async def test_a_torn_last_line_is_moved_aside_by_the_next_decision(policy: Policy, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with client_for(make_app(policy, tmp_path=tmp_path)) as client:
        await decide(client, "accept_all")
        await decide(client, "reject_all")
        whole = lines_of(path)[-1]
        half = whole[: len(whole) // 2]
        with open(path, "ab") as fh:  # a crash in the middle of a write
            fh.write(half)
        status, out = run_cli("audit", "verify", "--keys", KEY, path)
        assert status == 1
        assert f"{path}:3: truncated: the last line is an incomplete record" in out

        response = await decide(client, "save", ("analytics",))
        assert response.status_code == 303
    assert (tmp_path / "audit.jsonl.torn").read_bytes() == half + b"\n"
    assert len(lines_of(path)) == 3
    assert_verifies(path, 3)


# --- summary -------------------------------------------------------------------------------------


def test_summary_json_merges_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    with open(host_b, "ab") as fh:
        fh.write(b"not json at all\n")
        fh.write(b'{"event":"given","time":"yesterday"}\n')
        fh.write(b"\n")
    status, out = run_cli("audit", "summary", "--json", host_a, host_b)
    assert status == 0
    assert "2 unreadable lines skipped" in capsys.readouterr().err
    summary = json.loads(out)
    assert summary["files"] == [str(host_a), str(host_b)]
    assert summary["decisions"] == 6
    assert summary["skipped_lines"] == 2
    assert summary["first"] == "2025-12-01T10:00:00.000Z"
    assert summary["last"] == "2025-12-03T10:02:00.000Z"
    assert summary["events"] == {
        "given": 2,
        "refused": 1,
        "updated": 1,
        "withdrawn": 1,
        "opt_out_signal": 1,
    }
    assert summary["methods"] == {"save": 2, "accept_all": 1, "gpc": 1, "reject_all": 1, "withdraw": 1}
    assert summary["languages"] == {"en": 5, "fr": 1}
    assert summary["categories"] == {
        "analytics": {"granted": 3, "denied": 3, "acceptance_rate": 0.5, "decline_rate": 0.5},
        "marketing": {"granted": 1, "denied": 5, "acceptance_rate": 0.1667, "decline_rate": 0.8333},
        "necessary": {"granted": 6, "denied": 0, "acceptance_rate": 1.0, "decline_rate": 0.0},
    }
    assert summary["accepted_all"] == {"count": 1, "rate": 0.1667}
    assert summary["refused_all"] == {"count": 3, "rate": 0.5}  # bob, alice's withdrawal, dave
    zero = dict.fromkeys(("given", "refused", "updated", "withdrawn", "opt_out_signal"), 0)
    assert summary["days"] == [
        {"date": "2025-12-01", "decisions": 2, "events": {**zero, "given": 1, "refused": 1}},
        {"date": "2025-12-02", "decisions": 2, "events": {**zero, "given": 1, "updated": 1}},
        {"date": "2025-12-03", "decisions": 2, "events": {**zero, "withdrawn": 1, "opt_out_signal": 1}},
    ]
    assert summary["top_paths"] == [["/page", 3], ["/", 2], ["/settings", 1]]
    assert summary["top_user_agents"][0] == [FIREFOX, 3]


def test_summary_period_is_inclusive_utc_days(tmp_path: Path) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    status, out = run_cli(
        "audit", "summary", "--json", "--since", "2025-12-02", "--until", "2025-12-02", host_a, host_b
    )
    assert status == 0
    summary = json.loads(out)
    assert (summary["since"], summary["until"]) == ("2025-12-02", "2025-12-02")
    assert summary["decisions"] == 2
    assert [d["date"] for d in summary["days"]] == ["2025-12-02"]
    status, out = run_cli("audit", "summary", "--json", "--since", "2025-12-03", host_a, host_b)
    assert json.loads(out)["decisions"] == 2
    status, out = run_cli("audit", "summary", "--json", "--until", "2025-11-30", host_a, host_b)
    assert json.loads(out)["decisions"] == 0


def test_summary_tables(tmp_path: Path) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    status, out = run_cli("audit", "summary", host_a, host_b)
    assert status == 0
    lines = out.splitlines()
    assert "Decisions: 6 (2025-12-01T10:00:00.000Z .. 2025-12-03T10:02:00.000Z)" in lines
    assert "Accepted everything: 1 (16.7%); refused everything optional: 3 (50.0%)" in lines
    assert any(re.fullmatch(r"2025-12-01\s+2\s+1\s+1\s+0\s+0\s+0", line) for line in lines)
    assert any(re.fullmatch(r"analytics\s+3\s+3\s+50\.0%\s+50\.0%", line) for line in lines)
    assert any(re.fullmatch(r"fr\s+1\s+16\.7%", line) for line in lines)


@pytest.mark.parametrize("bad", ["2025-13-01", "12/01/2025", "2025-02-30", "yesterday"])
def test_bad_dates_are_a_usage_error(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    host_a, _, _ = write_fixture(tmp_path)
    with pytest.raises(SystemExit) as exited:
        run_cli("audit", "summary", "--since", bad, host_a)
    assert exited.value.code == 2
    assert f"invalid date {bad!r}" in capsys.readouterr().err


def test_since_after_until_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host_a, _, _ = write_fixture(tmp_path)
    status, _ = run_cli("audit", "summary", "--since", "2025-12-03", "--until", "2025-12-01", host_a)
    assert status == 2
    assert "--since 2025-12-03 is after --until 2025-12-01" in capsys.readouterr().err


def test_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run_cli("audit", "summary", tmp_path / "nope.jsonl")
    assert status == 1
    assert "nope.jsonl: no such file" in capsys.readouterr().err


# --- subject receipts ----------------------------------------------------------------------------


def test_subject_receipts_in_time_order_across_files(tmp_path: Path) -> None:
    host_a, host_b, written = write_fixture(tmp_path)
    status, out = run_cli("audit", "subject", host_a, host_b, "subject-alice")
    assert status == 0
    receipts = json.loads(out)
    expected = [written[f"subject-alice/{e}"] for e in ("given", "updated", "withdrawn")]
    assert [r["record_id"] for r in receipts] == [r["record_id"] for r in expected]
    for receipt, record in zip(receipts, expected, strict=True):
        assert {k: v for k, v in receipt.items() if k != "summary"} == record
    tail = f", notice sha256 {NOTICE}, policy 2025-12-01, language en"
    assert [r["summary"] for r in receipts] == [
        "2025-12-01 10:00 UTC: accepted all categories (analytics, marketing, necessary) via accept_all on /"
        + tail,
        "2025-12-02 10:00 UTC: changed their choices: granted analytics, necessary; refused marketing "
        "via save on /settings" + tail,
        "2025-12-03 10:00 UTC: withdrew consent to all optional categories (analytics, marketing) "
        "via withdraw on /" + tail,
    ]


def test_subject_receipt_wording_for_refusals_and_signals(tmp_path: Path) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    bob = json.loads(run_cli("audit", "subject", host_a, host_b, "subject-bob")[1])
    assert bob[0]["summary"] == (
        "2025-12-01 10:05 UTC: refused all optional categories (analytics, marketing) via reject_all "
        f"on /page, notice sha256 {NOTICE}, policy 2025-12-01, language fr"
    )
    dave = json.loads(run_cli("audit", "subject", host_b, "subject-dave")[1])
    assert dave[0]["signals"] == ["gpc"]
    assert dave[0]["summary"].startswith(
        "2025-12-03 10:02 UTC: opted out with a browser privacy signal: granted necessary; "
        "refused analytics, marketing via gpc (signal: gpc) on /page,"
    )


def test_records_found_twice_are_counted_once(tmp_path: Path) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    backup = tmp_path / "host-a.backup.jsonl"
    backup.write_bytes(host_a.read_bytes())
    receipts = json.loads(run_cli("audit", "subject", host_a, backup, "subject-carol")[1])
    assert len(receipts) == 1
    # the same file named twice is read once
    summary = json.loads(run_cli("audit", "summary", "--json", host_a, host_b, str(host_a))[1])
    assert summary["files"] == [str(host_a), str(host_b)]
    assert summary["decisions"] == 6


def test_an_unknown_subject_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    status, out = run_cli("audit", "subject", host_a, host_b, "subject-nobody")
    assert status == 1
    assert out == ""
    assert "no records of subject 'subject-nobody'" in capsys.readouterr().err


# --- HTML report ---------------------------------------------------------------------------------


class _Tags(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_report_is_self_contained_accessible_and_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENTKIT_SECRET_KEYS", raising=False)
    host_a, host_b, _ = write_fixture(tmp_path)
    target = tmp_path / "report.html"
    status, out = run_cli("audit", "report", host_a, host_b, "-o", target)
    assert status == 0
    assert "6 decisions from 2 source(s), not verified" in out
    page = target.read_text(encoding="utf-8")

    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert "<title>Consent audit report</title>" in page
    assert "<dt>Decisions</dt><dd>6</dd>" in page
    assert "<dt>Accepted everything</dt><dd>1 (16.7%)</dd>" in page
    assert "<dt>Refused everything optional</dt><dd>3 (50.0%)</dd>" in page
    assert page.count("not verified") == 2
    assert str(host_a) in page and str(host_b) in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page

    parser = _Tags()
    parser.feed(page)
    names = [tag for tag, _ in parser.tags]
    assert names.count("svg") == 2
    for tag, attrs in parser.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed")
        assert "src" not in attrs and "href" not in attrs
        assert not any(k.startswith("on") for k in attrs)  # no event handlers
        if tag == "svg":
            assert attrs.get("role") == "img" and attrs.get("aria-label")
    assert {"h1", "h2", "table", "caption", "th"} <= set(names)
    assert re.search(r"<svg[^>]*>\s*<title", page)
    # the numbers behind the charts are in tables too
    assert re.search(r'<th scope="row" class="text">analytics</th><td>3</td><td>3</td><td>50\.0%</td>', page)
    assert re.search(r'<th scope="row" class="text">2025-12-01</th><td>2</td><td>1</td><td>1</td>', page)


def test_html_report_shows_verification_with_keys(tmp_path: Path) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    target = tmp_path / "report.html"
    status, _ = run_cli("audit", "report", host_a, host_b, "-o", target, "--keys", KEY)
    assert status == 0
    page = target.read_text(encoding="utf-8")
    assert page.count('<span class="ok">OK</span>: 3 records') == 2
    assert "not verified" not in page

    lines = lines_of(host_b)
    lines[1] = lines[1].replace(b'"language":"en"', b'"language":"de"')
    host_b.write_bytes(b"".join(lines))
    status, _ = run_cli("audit", "report", host_a, host_b, "-o", target, "--keys", KEY)
    assert status == 1
    page = target.read_text(encoding="utf-8")
    assert f'<span class="failed">FAILED</span> after 1 good records: {host_b}:2: edited' in page


def test_html_report_period_and_empty_period(tmp_path: Path) -> None:
    host_a, host_b, _ = write_fixture(tmp_path)
    target = tmp_path / "report.html"
    status, _ = run_cli("audit", "report", host_a, host_b, "-o", target, "--since", "2025-12-03")
    assert status == 0
    assert "<dt>Decisions</dt><dd>2</dd>" in target.read_text(encoding="utf-8")
    status, _ = run_cli("audit", "report", host_a, "-o", target, "--until", "2025-01-01")
    assert status == 0
    page = target.read_text(encoding="utf-8")
    assert "<dt>Decisions</dt><dd>0</dd>" in page
    assert "No decisions were recorded in this period." in page
    assert "<svg" not in page
