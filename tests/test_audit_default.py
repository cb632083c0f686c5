"""Issue #12 item 4: with no audit store in the policy, decisions are recorded durably anyway.

The decision: a SQLite file ``consentkit-audit.db`` next to the policy file (or in the working
directory for a policy built in Python), unless ``CONSENTKIT_AUDIT_URL`` names a store; its path
is logged at start-up. When it cannot be created there, the middleware refuses to start with a
message that says how to fix it, and ``consentkit check`` fails the same way.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from io import StringIO
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from consentkit import ConsentMiddleware, load_policy
from consentkit.audit_setup import AuditStoreError
from consentkit.cli import main

from .conftest import KEY, POLICY_YAML

README_POLICY = POLICY_YAML  # no audit section, as in the README's quick start


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENTKIT_AUDIT_URL", raising=False)


def check(policy_file: Path) -> tuple[int, str]:
    out = StringIO()
    return main(["check", str(policy_file)], out=out), out.getvalue()


@pytest.mark.usefixtures("no_env")
@pytest.mark.anyio
async def test_without_a_store_decisions_go_to_a_sqlite_file_next_to_the_policy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy_file = tmp_path / "consent.yaml"
    policy_file.write_text(README_POLICY)
    caplog.set_level(logging.INFO, logger="consentkit")
    app = ConsentMiddleware(Starlette(), policy=policy_file, secret_keys=[KEY])
    database = tmp_path / "consentkit-audit.db"
    assert f"recording consent decisions to sqlite:///{database}" in caplog.text
    assert any(
        r.levelno == logging.WARNING and "no audit store configured" in r.getMessage() for r in caplog.records
    )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/_consent", data={"action": "accept_all"}, headers={"origin": "http://testserver"}
        )
    assert response.status_code == 303
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT line FROM consentkit_records").fetchall()
    assert len(rows) == 1 and json.loads(rows[0][0])["event"] == "given"

    status, out = check(policy_file)
    assert status == 0
    assert f"audit: sqlite:///{database} (default;" in out
    assert (
        f"warning: no audit store is configured (audit.url): decisions are recorded to sqlite:///{database}"
        in out
    )


@pytest.mark.usefixtures("no_env")
def test_when_the_default_store_cannot_be_created_the_app_refuses_to_start(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    policy_file = tmp_path / "consent.yaml"
    policy_file.write_text(README_POLICY)
    policy = load_policy(policy_file).with_changes(source=str(blocker / "consent.yaml"))
    with pytest.raises(AuditStoreError, match=r"Set audit\.url in the policy to a writable place"):
        ConsentMiddleware(Starlette(), policy=policy, secret_keys=[KEY])


def test_the_environment_names_the_store_when_the_policy_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/from-env.db"
    monkeypatch.setenv("CONSENTKIT_AUDIT_URL", url)
    policy_file = tmp_path / "consent.yaml"
    policy_file.write_text(README_POLICY)
    status, out = check(policy_file)
    assert status == 0 and f"audit: {url} (CONSENTKIT_AUDIT_URL;" in out
    # a store in the policy wins over the environment
    policy_file.write_text(README_POLICY + "audit:\n  path: audit.jsonl\n")
    status, out = check(policy_file)
    assert f"audit: {tmp_path / 'audit.jsonl'} (audit.path;" in out
