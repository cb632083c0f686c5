"""The audit commands' keys (never only on the command line), database URLs and errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from .conftest import KEY, OLD_KEY
from .test_audit_stores import record_decisions, run_cli


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    asyncio.run(record_decisions(str(path), 3))
    return path


def test_verify_without_keys_says_how_to_give_them(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENTKIT_SECRET_KEYS", raising=False)
    with pytest.raises(SystemExit) as stop:
        run_cli("audit", "verify", store)
    message = str(stop.value)
    assert "consentkit audit verify: no secret keys" in message
    assert "--keys-file FILE" in message and "CONSENTKIT_SECRET_KEYS" in message and "ps" in message
    assert "ConsentMiddleware" not in message  # not the middleware's message


def test_keys_from_a_file_or_the_environment(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENTKIT_SECRET_KEYS", raising=False)
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# oldest first\n{OLD_KEY}\n{KEY}\n")
    keys.chmod(0o600)
    status, out = run_cli("audit", "verify", "--keys-file", keys, store)
    assert status == 0 and "OK, 3 records" in out
    monkeypatch.setenv("CONSENTKIT_SECRET_KEYS", f"{OLD_KEY},{KEY}")
    assert run_cli("audit", "verify", store)[0] == 0
    status, out = run_cli("audit", "report", store, "-o", tmp_path / "r.html", "--keys-file", keys)
    assert status == 0 and "verified" in out and "not verified" not in out


def test_bad_heads_and_unknown_hashes_are_usage_errors(store: Path) -> None:
    assert run_cli("audit", "verify", "--keys", KEY, "--expect-head", "nonsense", store)[0] == 2
    assert run_cli("audit", "notice", store, "not-a-hash")[0] == 2
    assert run_cli("audit", "purge", store)[0] == 2
    assert run_cli("audit", "init", store)[0] == 2  # init takes a database URL


def test_init_creates_and_reports_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    status, out = run_cli("audit", "init", url)
    assert status == 0 and "audit schema version 1 ready" in out
    assert run_cli("audit", "init", url)[0] == 0  # again: nothing to do
    status, out = run_cli("audit", "verify", "--keys", KEY, url)
    assert status == 0 and "OK, 0 records" in out


def test_a_password_in_a_url_is_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://user:s3cret-pass@127.0.0.1:1/db"
    status, out = run_cli("audit", "verify", "--keys", KEY, url)
    assert status == 1
    printed = out + capsys.readouterr().err
    assert "s3cret-pass" not in printed and "user:***@" in printed


def test_subject_ids_never_start_with_a_dash() -> None:
    """Operators paste them into `consentkit audit subject`, where "-..." would read as an option."""
    from consentkit.consent import new_subject_id

    ids = {new_subject_id() for _ in range(3000)}
    assert len(ids) == 3000
    assert not any(subject.startswith("-") for subject in ids)


def test_an_older_subject_id_starting_with_a_dash_is_found_after_double_dash(tmp_path: Path) -> None:
    from consentkit.audit import AuditLog

    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, [KEY.encode()], fsync=False, log=False)
    for subject in ("-Zq3", "other"):
        log.append(
            log.build(subject_id=subject, event="given", choices={"analytics": True}, method="accept_all",
                      policy_version="1", notice_hash="0" * 64, language="en", path="/",
                      user_agent="test", ip="192.0.2.1")
        )  # fmt: skip
    status, out = run_cli("audit", "subject", path, "--", "-Zq3")
    assert status == 0
    assert [receipt["subject_id"] for receipt in json.loads(out)] == ["-Zq3"]
    status, out = run_cli("audit", "purge", "--subject=-Zq3", path)
    assert status == 0, out
    assert run_cli("audit", "subject", path, "--", "-Zq3")[0] == 1  # erased
    assert run_cli("audit", "subject", path, "other")[0] == 0
