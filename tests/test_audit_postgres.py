"""One PostgreSQL history for many servers: several uvicorn worker processes and several separate
servers record decisions at the same time; afterwards the history verifies and the count is exact."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .audit_support import PostgresServer, free_port, postgres, raw_lines  # noqa: F401 - fixture
from .conftest import KEY
from .test_audit_stores import run_cli

ROOT = Path(__file__).resolve().parents[1]
PER_SERVER = 150


def serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CONSENTKIT_AUDIT_URL": url}
    command = [sys.executable, "-m", "uvicorn", "tests.audit_app:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"server on {port} exited: {server.stderr.read().decode() if server.stderr else ''}"
            )
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def post_decisions(port: int, count: int) -> list[int]:
    base = f"http://127.0.0.1:{port}"
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for n in range(count):
            client.cookies.clear()
            action = ("accept_all", "reject_all", "save")[n % 3]
            response = client.post(
                "/_consent",
                data={"action": action, "next": "/"},
                headers={"origin": base, "user-agent": f"port-{port}"},
            )
            statuses.append(response.status_code)
    return statuses


def test_uvicorn_workers_and_separate_servers_write_one_history(postgres: PostgresServer) -> None:  # noqa: F811
    url = postgres.database()
    layout = [2, 2, 1]  # one server with two workers... three separate servers in all
    ports = [free_port() for _ in layout]
    servers = [serve(url, port, workers) for port, workers in zip(ports, layout, strict=True)]
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_until_up(port, server)
        clients_per_server = 4
        with ThreadPoolExecutor(len(ports) * clients_per_server) as pool:
            jobs = [
                pool.submit(post_decisions, port, PER_SERVER // clients_per_server)
                for port in ports
                for _ in range(clients_per_server)
            ]
            statuses = [s for job in jobs for s in job.result()]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
    total = len(ports) * (PER_SERVER // clients_per_server) * clients_per_server
    assert statuses == [303] * total
    records = [json.loads(line) for line in raw_lines(url)]
    assert [r["seq"] for r in records] == list(range(1, total + 1))
    assert len({r["record_id"] for r in records}) == total
    for port in ports:
        assert sum(r["user_agent"] == f"port-{port}" for r in records) == total // len(ports)
    status, out = run_cli("audit", "verify", "--keys", KEY, url)
    assert status == 0, out
    assert f"OK, {total} records" in out


def test_an_application_role_without_create_records_after_audit_init(postgres: PostgresServer) -> None:  # noqa: F811
    import psycopg

    admin_url = postgres.database()
    assert run_cli("audit", "init", admin_url)[0] == 0
    database = admin_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE ck_app LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(
            "GRANT SELECT, INSERT, UPDATE ON consentkit_meta, consentkit_head, consentkit_records, consentkit_notices TO ck_app"
        )
    app_url = f"postgresql://ck_app@127.0.0.1:{postgres.port}/{database}"
    from .test_audit_stores import record_decisions

    asyncio.run(record_decisions(app_url, 5))
    status, out = run_cli("audit", "verify", "--keys", KEY, app_url)
    assert status == 0 and "OK, 5 records" in out
    with (
        psycopg.connect(app_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CREATE TABLE nope (x int)")
