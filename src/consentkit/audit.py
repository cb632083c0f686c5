"""The consent audit trail: one tamper-evident record per decision, written before the cookie.

Records are JSON lines. Each carries ``prev`` (the MAC of the record before it) and ``mac``
(HMAC-SHA256 over the record's canonical JSON, keyed from the newest secret key), so any
edit, deletion, insertion or reordering breaks the chain. Appends are safe across worker
processes: lock, read the last MAC, write one line in a single ``write``, ``fsync``, unlock.
Every record also goes to the ``consentkit.audit`` logger, one JSON object per message.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

__all__ = ["AuditError", "AuditLog", "VerifyReport", "mac_key", "verify_file"]

SCHEMA: Final = 1
GENESIS: Final = "0" * 64
EVENTS: Final = ("given", "refused", "updated", "withdrawn", "opt_out_signal")
_MAC_SUFFIX_LEN: Final = len(',"mac":"') + 64 + len('"}')
_MAC_SUFFIX: Final = re.compile(rb',"mac":"([0-9a-f]{64})"\}$')
_TAIL_BLOCK: Final = 64 * 1024

log = logging.getLogger("consentkit.audit")
_errors = logging.getLogger("consentkit")


class AuditError(RuntimeError):
    """A record could not be written; the decision must not take effect."""


def mac_key(secret: bytes) -> bytes:
    """The audit MAC key derived from one secret key (kept apart from cookie signing)."""
    return hmac.new(secret, b"consentkit.audit.v1", hashlib.sha256).digest()


def canonical(record: Mapping[str, Any]) -> bytes:
    """The exact bytes a record's MAC covers: sorted keys, no spaces, ASCII only."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign_line(record: Mapping[str, Any], key: bytes) -> tuple[bytes, str]:
    """The JSON line for ``record`` (without ``mac``) with its MAC appended, and the MAC."""
    body = canonical(record)
    mac = hmac.new(key, body, hashlib.sha256).hexdigest()
    return body[:-1] + b',"mac":"' + mac.encode("ascii") + b'"}\n', mac


def client_ip(raw: str | None, mode: Literal["omit", "truncate", "hash"], key: bytes) -> str | None:
    """The visitor's IP as the policy allows it to be kept: omitted, truncated (/24, /48) or hashed."""
    if raw is None or mode == "omit":
        return None
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if mode == "hash":
        return hmac.new(key, b"ip:" + address.packed, hashlib.sha256).hexdigest()[:32]
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@dataclass
class AuditLog:
    """Writes consent records to a JSON-lines file and/or the ``consentkit.audit`` logger."""

    path: Path | None
    keys: Sequence[bytes]
    fsync: bool = True
    log: bool = True
    ip_mode: Literal["omit", "truncate", "hash"] = "truncate"
    _tail_cache: tuple[int, int, int, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.path is None and not self.log:
            raise ValueError("the audit trail needs a sink: a file path, the logger, or both")
        self._key = mac_key(self.keys[-1])

    def build(
        self,
        *,
        subject_id: str,
        event: str,
        choices: Mapping[str, bool],
        method: str,
        policy_version: str,
        notice_hash: str,
        language: str,
        path: str,
        user_agent: str,
        ip: str | None,
        now: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A record (without ``prev``/``mac``) from the decision and request details."""
        record: dict[str, Any] = {
            "schema": SCHEMA,
            "record_id": str(uuid.uuid4()),
            "subject_id": subject_id,
            "time": (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "event": event,
            "choices": dict(choices),
            "method": method,
            "policy_version": policy_version,
            "notice_hash": notice_hash,
            "language": language,
            "path": path[:2048],
            "user_agent": user_agent[:512],
            "ip": client_ip(ip, self.ip_mode, self._key),
        }
        if extra:
            record.update(extra)
        return record

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Chain, write and (if configured) fsync one record; raises :class:`AuditError` on failure."""
        if self.path is None:
            record["prev"] = None
            line, record["mac"] = sign_line(record, self._key)
        else:
            try:
                line = self._append_file(record)
            except OSError as exc:
                _errors.error("consentkit: cannot write the audit record to %s: %s", self.path, exc)
                raise AuditError(f"cannot write the consent record ({exc.strerror or exc})") from exc
        if self.log:
            log.info(line.decode("ascii").rstrip("\n"))
        return record

    def _append_file(self, record: dict[str, Any]) -> bytes:
        assert self.path is not None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                stat = os.fstat(fd)
                # ``size`` is the file's length once an interrupted last line is moved aside.
                prev, size = self._last_mac(fd, stat.st_dev, stat.st_ino, stat.st_size)
                record["prev"] = prev
                line, mac = sign_line(record, self._key)
                written = os.write(fd, line)
                if written != len(line):  # a short write: undo it rather than leave a torn line
                    os.ftruncate(fd, size)
                    raise OSError(28, "short write (disk full?)")
                if self.fsync:
                    os.fsync(fd)
                record["mac"] = mac
                self._tail_cache = (stat.st_dev, stat.st_ino, size + len(line), mac)
                return line
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _last_mac(self, fd: int, dev: int, ino: int, size: int) -> tuple[str, int]:
        """The MAC of the last complete record, and the file size after moving an incomplete
        last line aside (if there was one)."""
        cached = self._tail_cache
        if cached is not None and cached[:3] == (dev, ino, size):
            return cached[3], size
        tail = b""
        end = size
        while end > 0:
            start = max(0, end - _TAIL_BLOCK)
            tail = os.pread(fd, end - start, start) + tail
            end = start
            last_nl = tail.rfind(b"\n")
            if last_nl >= 0 and (start == 0 or tail.rfind(b"\n", 0, last_nl) >= 0):
                break
        last_nl = tail.rfind(b"\n")
        torn = tail[last_nl + 1 :]
        if torn:
            size -= len(torn)
            self._seal_torn(fd, size, torn)
        if last_nl < 0:
            return GENESIS, size
        line = tail[tail.rfind(b"\n", 0, last_nl) + 1 : last_nl]
        m = _MAC_SUFFIX.search(line)
        if m is None:
            raise OSError(
                0, "the last line of the audit file is not a consentkit record; run `consentkit audit verify`"
            )
        return m.group(1).decode("ascii"), size

    def _seal_torn(self, fd: int, clean_size: int, torn: bytes) -> None:
        """Move an interrupted write (a last line without newline) aside, so the chain continues."""
        assert self.path is not None
        side = self.path.with_name(self.path.name + ".torn")
        with open(side, "ab") as keep:
            keep.write(torn + b"\n")
        os.ftruncate(fd, clean_size)
        _errors.warning(
            "consentkit: the audit file %s ended with an incomplete record (%d bytes, an interrupted "
            "write that was never acknowledged); moved it to %s",
            self.path,
            len(torn),
            side,
        )


# --- verification ------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """The result of checking one audit file."""

    path: str
    records: int = 0
    head: str = GENESIS
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as fh:
        yield from enumerate(fh, 1)


def _locate_mac(path: Path, mac: str, after: int) -> int | None:
    needle = b',"mac":"' + mac.encode("ascii") + b'"}'
    for number, line in _lines(path):
        if number > after and needle in line:
            return number
    return None


def verify_file(path: Path, keys: Sequence[bytes], progress: Any = None) -> VerifyReport:
    """Check every line of ``path``: complete, well-formed, MAC valid and chained to the one before."""
    report = VerifyReport(str(path))
    mac_keys = [mac_key(k) for k in reversed(keys)]
    seen: dict[str, int] = {GENESIS: 0}
    prev = GENESIS
    loads = json.loads
    new = hmac.new
    sha256 = hashlib.sha256
    compare = hmac.compare_digest
    for number, line in _lines(path):
        if progress is not None:
            progress(len(line))
        if not line.endswith(b"\n"):
            report.problems.append(
                (number, "truncated: the last line is an incomplete record (interrupted write)")
            )
            break
        m = _MAC_SUFFIX.search(line, max(0, len(line) - _MAC_SUFFIX_LEN - 1))
        if m is None:
            report.problems.append(
                (number, "truncated or not a consentkit record: no MAC at the end of the line")
            )
            break
        mac = m.group(1).decode("ascii")
        signed = line[: m.start()] + b"}"
        for index, key in enumerate(mac_keys):
            if compare(new(key, signed, sha256).hexdigest(), mac):
                if index:  # try the key that worked first next time
                    mac_keys.insert(0, mac_keys.pop(index))
                break
        else:
            report.problems.append(
                (number, "edited: the MAC does not match the record (or it was signed with a key not given)")
            )
            break
        try:
            record = loads(line)
        except ValueError:
            report.problems.append((number, "not valid JSON"))
            break
        got = record.get("prev") if isinstance(record, dict) else None
        if got != prev:
            report.problems.append((number, _chain_problem(path, number, got, seen)))
            break
        seen[mac] = number
        prev = mac
        report.records += 1
    report.head = prev
    return report


def _chain_problem(path: Path, number: int, got: object, seen: Mapping[str, int]) -> str:
    if not isinstance(got, str):
        return "chain broken: the record has no valid prev field"
    if got in seen:
        return (
            f"reordered or inserted: this record follows line {seen[got]}, "
            f"but line {number - 1} stands between them"
        )
    later = _locate_mac(path, got, number)
    if later is not None:
        return f"reordered: this record follows the one now at line {later}"
    return f"deleted: the record that preceded this one (after line {number - 1}) is missing"
