"""Audit-store fixtures: a throwaway PostgreSQL cluster the tests start themselves, and one
store URL per kind (file, SQLite, PostgreSQL) so every store passes the same tests.

PostgreSQL comes from Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``). The
cluster is made with ``initdb`` in a temporary folder, as an unprivileged user when the tests
run as root, listens on a free loopback port with its socket in that folder, and is removed
afterwards. Without PostgreSQL the tests that need it skip locally, and fail under CI=true.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

KINDS = ("file", "sqlite", "postgresql")


def postgres_bin() -> Path | None:
    """The folder holding initdb/pg_ctl: the newest Debian cluster version, else the PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def need_postgres(reason: str = "PostgreSQL (initdb) is not installed") -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the PostgreSQL tests (.ci/run installs postgresql)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running throwaway cluster; :meth:`database` makes a fresh database and returns its URL."""

    folder: Path
    port: int
    bin: Path
    user: str | None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self) -> str:
        import psycopg

        name = "ck_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")


def start_postgres() -> PostgresServer:
    """initdb + pg_ctl start in a new temporary folder; raises RuntimeError with the server's log."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        need_postgres()
        raise AssertionError("unreachable")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        need_postgres("psycopg is not installed (pip install -e '.[test]')")
    user = "nobody" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="consentkit-pg-"))
    if user is not None:
        shutil.chown(folder, user)
    server = PostgresServer(folder, free_port(), bin_dir, user)
    init = server.run(
        "initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"
    )
    if init.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr}")
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder} -c max_connections=200"
    start = server.run(
        "pg_ctl", "-D", str(folder / "data"), "-o", options, "-l", str(folder / "log"), "-w", "start"
    )
    if start.returncode:
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {start.stderr}\n{log}")
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


def store_url_for(kind: str, folder: Path, request: pytest.FixtureRequest) -> str:
    if kind == "file":
        return str(folder / "audit.jsonl")
    if kind == "sqlite":
        return f"sqlite:///{folder / 'audit.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.database()


# --- raw access, to play the attacker ----------------------------------------------------------


def raw_lines(url: str) -> list[bytes]:
    """Every stored record line, in chain order, bypassing consentkit."""
    if url.startswith("sqlite:"):
        import sqlite3

        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            return [
                r[0].encode() + b"\n"
                for r in conn.execute("SELECT line FROM consentkit_records ORDER BY seq")
            ]
    if url.startswith("postgresql:"):
        import psycopg

        with psycopg.connect(url) as conn:
            return [
                r[0].encode() + b"\n"
                for r in conn.execute("SELECT line FROM consentkit_records ORDER BY seq")
            ]
    return Path(url).read_bytes().splitlines(keepends=True)


def replace_lines(url: str, lines: list[bytes]) -> None:
    """Make the store hold exactly ``lines`` (head row included), as an attacker with write access could."""
    import json

    def rows() -> list[tuple[int, str, str, str]]:
        out = []
        for position, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                seq = int(record["seq"])
            except (ValueError, KeyError, TypeError):
                record, seq = {}, 10_000 + position
            out.append(
                (
                    seq,
                    str(record.get("time", "")),
                    str(record.get("record_id", "")),
                    line.decode().rstrip("\n"),
                )
            )
        return out

    def head() -> tuple[int, str]:
        if not lines:
            return 0, "0" * 64
        last = json.loads(lines[-1])
        return int(last["seq"]), str(last["mac"])

    if url.startswith("sqlite:"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///") :])
        with conn:
            conn.execute("DELETE FROM consentkit_records")
            conn.executemany(
                "INSERT INTO consentkit_records (seq, time, record_id, line) VALUES (?, ?, ?, ?)", rows()
            )
            conn.execute("UPDATE consentkit_head SET seq = ?, mac = ? WHERE id = 1", head())
        conn.close()
        return
    if url.startswith("postgresql:"):
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM consentkit_records")
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO consentkit_records (seq, time, record_id, line) VALUES (%s, %s, %s, %s)",
                    rows(),
                )
            conn.execute("UPDATE consentkit_head SET seq = %s, mac = %s WHERE id = 1", head())
        return
    Path(url).write_bytes(b"".join(lines))
    Path(url + ".head").unlink(missing_ok=True)
