"""Where audit records are kept: a JSON-lines file, or one SQL code path for SQLite and PostgreSQL.

Every store keeps one chain. An append takes the store's lock (``flock``/``msvcrt``/lock file
for a file; ``BEGIN IMMEDIATE`` for SQLite; ``SELECT ... FOR UPDATE`` on the one head row for
PostgreSQL), reads the head (last ``seq`` and MAC), signs the batch after it, writes it and the
new head, and commits; so any number of processes and hosts append to one ordered history.
Each distinct notice text is stored once, by hash. Reading streams, in ``seq`` order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import unquote, urlsplit

from .audit import GENESIS, PERSONAL, AuditError
from .locking import exclusive, open_nofollow, pread

__all__ = ["FileStore", "SqlStore", "Store", "is_url", "open_store", "shown"]

Signer = Callable[[dict[str, Any], int, str], tuple[bytes, str]]
#: Returns the records to append; called once the store's lock is held.
Take = Callable[[], Sequence[dict[str, Any]]]
#: The notice texts (by hash) some records cite.
Notices = Callable[[Sequence[dict[str, Any]]], Mapping[str, str]]
#: The version of the SQL schema below; a newer one in the database is refused.
SQL_SCHEMA_VERSION: Final = 1
_MAC_SUFFIX: Final = re.compile(rb',"mac":"([0-9a-f]{64})"\}$')
_SEQ: Final = re.compile(rb'"seq":(\d+)')
_TAIL_BLOCK: Final = 64 * 1024

_errors = logging.getLogger("consentkit")


class Store(Protocol):
    """What the audit log needs from a place to keep records."""

    fsync: bool

    def append(self, take: Take, sign: Signer, notices: Notices) -> tuple[list[bytes], int, str]:
        """Lock, chain, write and commit the records ``take()`` returns; their lines, and the new
        head (seq, MAC)."""
        ...

    def head(self) -> tuple[int, str]: ...

    def lines(self) -> Iterator[bytes]:
        """Every record's JSON line, in chain order (streamed)."""
        ...

    def notice(self, digest: str) -> str | None: ...

    def purge(self, rewrite: Callable[[dict[str, Any]], bool]) -> int:
        """Apply ``rewrite`` to every record (it returns whether it changed it); how many changed."""
        ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


def shown(source: str) -> str:
    """A store's name fit for output and logs: a URL's password is replaced by ``***``."""
    if not is_url(source):
        return source
    parts = urlsplit(source)
    if parts.password is None:
        return source
    return source.replace(":" + parts.password + "@", ":***@", 1)


def is_url(text: str) -> bool:
    """Whether a command-line argument names a database rather than a file."""
    return text.startswith(("sqlite:", "postgresql:", "postgres:"))


def open_store(target: str) -> Store:
    """The store for ``sqlite:///path``, ``postgresql://...``, ``file:///path`` or a plain path."""
    if target.startswith(("postgresql:", "postgres:")):
        return SqlStore(target)
    if target.startswith("sqlite:"):
        return SqlStore(target)
    if target.startswith("file:"):
        return FileStore(Path(unquote(urlsplit(target).path)))
    return FileStore(Path(target))


def erase_personal(line: bytes) -> tuple[bytes, dict[str, Any]] | None:
    """``line`` with the personal fields set to null (the MAC still holds); None if nothing to erase."""
    record = json.loads(line)
    if not isinstance(record, dict) or record.get("schema", 1) < 2:
        return None
    if all(record.get(name) is None for name in PERSONAL):
        return None
    for name in PERSONAL:
        record[name] = None
    mac = record.pop("mac")
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return body[:-1] + b',"mac":"' + mac.encode("ascii") + b'"}\n', record


# --- a JSON-lines file ---------------------------------------------------------------------------


class FileStore:
    """Records as JSON lines in one file; side files ``.head`` (the chain head, so a rotated file
    continues the chain), ``.notices`` (notice texts) and ``.torn`` (interrupted writes).
    No file is ever opened through a symbolic link."""

    def __init__(self, path: Path, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        self._tail: tuple[int, int, int, int, str] | None = None
        self._known_notices: set[str] = set()

    def describe(self) -> str:
        return str(self.path)

    def _side(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name + suffix)

    def append(self, take: Take, sign: Signer, notices: Notices) -> tuple[list[bytes], int, str]:
        while True:
            result = self._append_once(take, sign, notices)
            if result is not None:
                return result

    def _append_once(self, take: Take, sign: Signer, notices: Notices) -> tuple[list[bytes], int, str] | None:
        """One attempt; None when the file was replaced (rotated, purged) while waiting for the lock."""
        fd = open_nofollow(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        try:
            with exclusive(fd, self.path):
                stat = os.fstat(fd)
                try:
                    current = os.stat(self.path, follow_symlinks=False)
                except FileNotFoundError:
                    return None
                if (current.st_dev, current.st_ino) != (stat.st_dev, stat.st_ino):
                    return None  # appending now would write to a file no longer at the path
                seq, prev, size = self._last(fd, stat.st_dev, stat.st_ino, stat.st_size)
                records = take()
                if size == 0 and seq == 0:
                    seq, prev = self._continued()
                    if seq:  # says, under the MAC, that records before it are in an earlier file
                        records[0]["continues"] = True
                lines = []
                for record in records:
                    seq += 1
                    line, prev = sign(record, seq, prev)
                    lines.append(line)
                data = b"".join(lines)
                written = os.write(fd, data)
                if written != len(data):  # a short write: undo it rather than leave a torn line
                    os.ftruncate(fd, size)
                    raise OSError(28, "short write (disk full?)")
                if self.fsync:
                    os.fsync(fd)
                self._tail = (stat.st_dev, stat.st_ino, size + len(data), seq, prev)
                self._write_head(seq, prev)
                self._store_notices(notices(records))
                return lines, seq, prev
        finally:
            os.close(fd)

    def _write_head(self, seq: int, mac: str) -> None:
        fd = open_nofollow(self._side(".head"), os.O_WRONLY | os.O_CREAT)
        try:
            data = f"{seq} {mac}\n".encode("ascii")
            os.ftruncate(fd, 0)
            os.write(fd, data)
        finally:
            os.close(fd)

    def _continued(self) -> tuple[int, str]:
        """The head the previous file ended at, when this one is new (rotated or moved)."""
        side = self._side(".head")
        try:
            fd = open_nofollow(side, os.O_RDONLY)
        except FileNotFoundError:
            _errors.warning("consentkit: starting a new audit chain in %s (no earlier head found)", self.path)
            return 0, GENESIS
        try:
            text = os.read(fd, 200).decode("ascii", "replace").split()
        finally:
            os.close(fd)
        if len(text) == 2 and text[0].isdigit() and re.fullmatch(r"[0-9a-f]{64}", text[1]):
            _errors.warning(
                "consentkit: the audit file %s is new; its chain continues after record %s of the "
                "previous file (verify them together: consentkit audit verify OLD %s)",
                self.path,
                text[0],
                self.path,
            )
            return int(text[0]), text[1]
        return 0, GENESIS

    def _store_notices(self, notices: Mapping[str, str]) -> None:
        new = {h: t for h, t in notices.items() if h not in self._known_notices}
        if not new:
            return
        side = self._side(".notices")
        fd = open_nofollow(side, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        try:
            with open(os.dup(fd), "rb") as fh:
                for line in fh:
                    with contextlib.suppress(ValueError):
                        self._known_notices.add(json.loads(line)["hash"])
            missing = {h: t for h, t in new.items() if h not in self._known_notices}
            if missing:
                data = b"".join(
                    json.dumps({"hash": h, "text": t}, ensure_ascii=True).encode("ascii") + b"\n"
                    for h, t in missing.items()
                )
                os.write(fd, data)
                if self.fsync:
                    os.fsync(fd)
                self._known_notices.update(missing)
        finally:
            os.close(fd)

    def _last(self, fd: int, dev: int, ino: int, size: int, seal: bool = True) -> tuple[int, str, int]:
        """The last record's seq and MAC, and the file size once an incomplete last line
        (an interrupted write) is moved aside."""
        cached = self._tail
        if cached is not None and cached[:3] == (dev, ino, size):
            return cached[3], cached[4], size
        tail = b""
        end = size
        while end > 0:
            start = max(0, end - _TAIL_BLOCK)
            tail = pread(fd, end - start, start) + tail
            end = start
            last_nl = tail.rfind(b"\n")
            if last_nl >= 0 and (start == 0 or tail.rfind(b"\n", 0, last_nl) >= 0):
                break
        last_nl = tail.rfind(b"\n")
        torn = tail[last_nl + 1 :]
        if torn:
            size -= len(torn)
            if seal:
                self._seal_torn(fd, size, torn)
        if last_nl < 0:
            return 0, GENESIS, size
        line = tail[tail.rfind(b"\n", 0, last_nl) + 1 : last_nl]
        m = _MAC_SUFFIX.search(line)
        if m is None:
            raise OSError(
                0, "the last line of the audit file is not a consentkit record; run `consentkit audit verify`"
            )
        seq_match = _SEQ.search(line)
        seq = int(seq_match.group(1)) if seq_match else self._count_lines(fd, size)
        return seq, m.group(1).decode("ascii"), size

    @staticmethod
    def _count_lines(fd: int, size: int) -> int:
        """Records in a schema-1 file (no ``seq``): its lines."""
        count = 0
        offset = 0
        while offset < size:
            block = pread(fd, min(1 << 20, size - offset), offset)
            count += block.count(b"\n")
            offset += len(block)
        return count

    def _seal_torn(self, fd: int, clean_size: int, torn: bytes) -> None:
        """Move an interrupted write (a last line without newline) aside, so the chain continues."""
        side = self._side(".torn")
        keep = open_nofollow(side, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(keep, torn + b"\n")
        finally:
            os.close(keep)
        os.ftruncate(fd, clean_size)
        _errors.warning(
            "consentkit: the audit file %s ended with an incomplete record (%d bytes, an interrupted "
            "write that was never acknowledged); moved it to %s",
            self.path,
            len(torn),
            side,
        )

    def head(self) -> tuple[int, str]:
        try:
            fd = open_nofollow(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return 0, GENESIS
        try:
            stat = os.fstat(fd)
            seq, mac, _ = self._last(fd, -1, -1, stat.st_size, seal=False)
            return seq, mac
        finally:
            os.close(fd)

    def lines(self) -> Iterator[bytes]:
        fd = open_nofollow(self.path, os.O_RDONLY)
        with open(fd, "rb") as fh:
            yield from fh

    def notice(self, digest: str) -> str | None:
        try:
            fd = open_nofollow(self._side(".notices"), os.O_RDONLY)
        except FileNotFoundError:
            return None
        with open(fd, "rb") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and entry.get("hash") == digest:
                    return str(entry.get("text"))
        return None

    def purge(self, rewrite: Callable[[dict[str, Any]], bool]) -> int:
        fd = open_nofollow(self.path, os.O_RDWR)
        changed = 0
        try:
            with exclusive(fd, self.path):
                handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
                try:
                    with open(handle, "wb") as out, open(os.dup(fd), "rb") as src:
                        for line in src:
                            new = _rewritten(line, rewrite)
                            if new is not None:
                                changed += 1
                            out.write(line if new is None else new)
                        out.flush()
                        os.fsync(out.fileno())
                    os.chmod(temp, os.fstat(fd).st_mode & 0o777)
                    os.replace(temp, self.path)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temp)
                    raise
        finally:
            os.close(fd)
        self._tail = None
        return changed

    def close(self) -> None:
        pass


def _rewritten(line: bytes, rewrite: Callable[[dict[str, Any]], bool]) -> bytes | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not rewrite(record):
        return None
    erased = erase_personal(line)
    return erased[0] if erased is not None else None


# --- SQL: SQLite and PostgreSQL ------------------------------------------------------------------

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS consentkit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS consentkit_head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, mac TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS consentkit_records ("
    " seq BIGINT PRIMARY KEY, time TEXT NOT NULL, record_id TEXT NOT NULL,"
    " subject_id TEXT, line TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS consentkit_records_subject ON consentkit_records (subject_id)",
    "CREATE INDEX IF NOT EXISTS consentkit_records_time ON consentkit_records (time)",
    "CREATE TABLE IF NOT EXISTS consentkit_notices ("
    " hash TEXT PRIMARY KEY, text TEXT NOT NULL, stored TEXT NOT NULL)",
)


class SqlStore:
    """Records in SQL tables (see ``docs/audit.md`` for the schema): SQLite from the standard
    library, or PostgreSQL through psycopg 3 with a connection pool (``consentkit[postgres]``).

    The SQL is the same for both; only the placeholder style and how the head row is locked
    differ. The schema is created on first use (or by ``consentkit audit init URL``).
    """

    def __init__(self, url: str, fsync: bool = True, *, pool_size: int = 4) -> None:
        #: Idle PostgreSQL connections kept for reuse (at most ``pool_size``), per process.
        self.url = url
        self.fsync = fsync
        self.postgres = url.startswith(("postgresql:", "postgres:"))
        self.pool_size = pool_size
        self._idle: list[Any] = []
        self._pool_lock = threading.Lock()
        self._ready = False
        self._known_notices: set[str] = set()
        self._sqlite_path = "" if self.postgres else _sqlite_path(url)
        self._pid = os.getpid()

    def describe(self) -> str:
        if self.postgres:
            parts = urlsplit(self.url)
            host = parts.hostname or "localhost"
            return f"postgresql://{parts.username + '@' if parts.username else ''}{host}{parts.path}"
        return f"sqlite:///{self._sqlite_path}"

    # --- connections ---

    def _sql(self, statement: str) -> str:
        return statement if self.postgres else statement.replace("%s", "?")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        if self.postgres:
            conn = self._checkout()
            try:
                yield conn
            except BaseException:
                conn.close()  # in an unknown state: never handed out again
                raise
            self._checkin(conn)
            return
        conn = sqlite3.connect(self._sqlite_path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'OFF'}")
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _transaction(self, conn: Any) -> Iterator[Any]:
        """One write transaction holding the chain's lock (the head row)."""
        if self.postgres:
            with conn.transaction():
                cur = conn.cursor()
                yield cur
            return
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def _existing_version(self) -> int | None:
        """The schema version already in the database, or None when there is no schema yet
        (so a role without CREATE can use a database an administrator initialised)."""
        with self._connection() as conn:
            cur = conn.cursor()
            try:
                cur.execute(
                    self._sql("SELECT value FROM consentkit_meta WHERE name = %s"), ("schema_version",)
                )
            except Exception as exc:  # no such table (psycopg UndefinedTable, sqlite3 OperationalError)
                if type(exc).__name__ in ("UndefinedTable", "OperationalError"):
                    return None
                raise
            row = cur.fetchone()
        return None if row is None else int(row[0])

    def init(self) -> int:
        """Create the schema if missing; the schema version found. Refuses a newer one."""
        version = self._existing_version()
        if version is None:
            version = self._create()
        if version > SQL_SCHEMA_VERSION:
            raise AuditError(
                f"the audit database has schema version {version}, newer than this consentkit "
                f"understands ({SQL_SCHEMA_VERSION}): upgrade consentkit"
            )
        self._ready = True
        return version

    def _create(self) -> int:
        with self._connection() as conn, self._transaction(conn) as cur:
            if self.postgres:
                cur.execute("SELECT pg_advisory_xact_lock(727560)")  # one creator at a time
            for statement in _SCHEMA:
                cur.execute(statement)
            cur.execute(
                self._sql(
                    "INSERT INTO consentkit_head (id, seq, mac) VALUES (1, 0, %s) ON CONFLICT (id) DO NOTHING"
                ),
                (GENESIS,),
            )
            cur.execute(
                self._sql(
                    "INSERT INTO consentkit_meta (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING"
                ),
                ("schema_version", str(SQL_SCHEMA_VERSION)),
            )
            cur.execute(self._sql("SELECT value FROM consentkit_meta WHERE name = %s"), ("schema_version",))
            row = cur.fetchone()
        return int(row[0])

    def _ensure(self) -> None:
        if not self._ready:
            self.init()

    # --- writing ---

    def append(self, take: Take, sign: Signer, notices: Notices) -> tuple[list[bytes], int, str]:
        self._ensure()
        lock = " FOR UPDATE" if self.postgres else ""
        with self._connection() as conn:
            with self._transaction(conn) as cur:
                cur.execute("SELECT seq, mac FROM consentkit_head WHERE id = 1" + lock)  # noqa: S608
                seq, prev = cur.fetchone()
                records = take()
                lines = []
                rows = []
                for record in records:
                    seq += 1
                    line, prev = sign(record, seq, prev)
                    lines.append(line)
                    rows.append(
                        (
                            seq,
                            record["time"],
                            record["record_id"],
                            record.get("subject_id"),
                            line.decode("ascii"),
                        )
                    )
                cur.executemany(
                    self._sql(
                        "INSERT INTO consentkit_records (seq, time, record_id, subject_id, line) "
                        "VALUES (%s, %s, %s, %s, %s)"
                    ),
                    rows,
                )
                cur.execute(
                    self._sql("UPDATE consentkit_head SET seq = %s, mac = %s WHERE id = 1"), (seq, prev)
                )
                cited = notices(records)
                new = {h: t for h, t in cited.items() if h not in self._known_notices}
                if new:
                    stamp = datetime.now(UTC).isoformat(timespec="seconds")
                    cur.executemany(
                        self._sql(
                            "INSERT INTO consentkit_notices (hash, text, stored) VALUES (%s, %s, %s) "
                            "ON CONFLICT (hash) DO NOTHING"
                        ),
                        [(h, t, stamp) for h, t in new.items()],
                    )
            self._known_notices.update(cited)
        return lines, seq, prev

    def head(self) -> tuple[int, str]:
        self._ensure()
        with self._connection() as conn:
            cur = conn.cursor()
            cur.execute("SELECT seq, mac FROM consentkit_head WHERE id = 1")
            seq, mac = cur.fetchone()
        return int(seq), str(mac)

    # --- reading ---

    def lines(self) -> Iterator[bytes]:
        self._ensure()
        with self._connection() as conn:
            if self.postgres:
                with conn.transaction(), conn.cursor(name="consentkit_read") as cur:
                    cur.itersize = 5000
                    cur.execute("SELECT line FROM consentkit_records ORDER BY seq")
                    for (line,) in cur:
                        yield line.encode("ascii") + b"\n"
                return
            cur = conn.execute("SELECT line FROM consentkit_records ORDER BY seq")
            for (line,) in cur:
                yield line.encode("ascii") + b"\n"

    def notice(self, digest: str) -> str | None:
        self._ensure()
        with self._connection() as conn:
            cur = conn.cursor()
            cur.execute(self._sql("SELECT text FROM consentkit_notices WHERE hash = %s"), (digest,))
            row = cur.fetchone()
        return None if row is None else str(row[0])

    def purge(self, rewrite: Callable[[dict[str, Any]], bool]) -> int:
        self._ensure()
        changed = 0
        after = 0
        while True:  # in slices, so a large history is never held in memory
            with self._connection() as conn, self._transaction(conn) as cur:
                cur.execute(
                    self._sql(
                        "SELECT seq, line FROM consentkit_records WHERE seq > %s AND subject_id IS NOT NULL "
                        "ORDER BY seq LIMIT 5000"
                    ),
                    (after,),
                )
                rows = cur.fetchall()
                updates = []
                for seq, line in rows:
                    after = seq
                    new = _rewritten(line.encode("ascii"), rewrite)
                    if new is not None:
                        updates.append((new.decode("ascii").rstrip("\n"), seq))
                if updates:
                    cur.executemany(
                        self._sql(
                            "UPDATE consentkit_records SET line = %s, subject_id = NULL WHERE seq = %s"
                        ),
                        updates,
                    )
                changed += len(updates)
            if len(rows) < 5000:
                return changed

    # --- the connection pool (PostgreSQL) ---

    def _checkout(self) -> Any:
        """An idle connection of this process that still works, or a new one."""
        with self._pool_lock:
            if self._pid != os.getpid():  # inherited through fork: never share a socket
                self._idle = []
                self._pid = os.getpid()
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        return _pg_connect(self.url)

    def _checkin(self, conn: Any) -> None:
        with self._pool_lock:
            if not conn.closed and not conn.broken and len(self._idle) < self.pool_size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._pool_lock:
            idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for conn in idle:
                conn.close()


def _sqlite_path(url: str) -> str:
    """``sqlite:///relative.db`` and ``sqlite:////absolute.db``, as SQLAlchemy spells them."""
    rest = url[len("sqlite:") :]
    if not rest.startswith("//"):
        raise ValueError(f"a SQLite URL looks like sqlite:///audit.db, got {url!r}")
    path = unquote(rest[2:])
    if path.startswith("/"):
        path = path[1:]
    if not path or path == ":memory:":
        raise ValueError(f"the SQLite audit store needs a file, got {url!r}")
    return path


def _pg_connect(url: str) -> Any:
    try:
        import psycopg  # noqa: PLC0415 - the optional [postgres] extra
    except ImportError:
        raise AuditError(
            "a postgresql:// audit store needs psycopg 3: pip install 'consentkit[postgres]'"
        ) from None
    return psycopg.connect(url, autocommit=True, connect_timeout=5)
