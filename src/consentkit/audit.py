"""The consent audit trail: one tamper-evident record per decision, committed before the cookie.

Records form one chain: each carries ``seq`` (its position in the whole history), ``prev`` (the
MAC of the record before it), ``key_id`` and ``mac`` (HMAC-SHA256 over the record's canonical
JSON, keyed from the newest secret key). The MAC covers a salted hash of the personal fields
(subject id, IP, user agent) instead of the fields themselves, so ``consentkit audit purge`` can
erase them and the chain still verifies. Where records are kept is a store
(:mod:`consentkit.audit_store`: a JSON-lines file, SQLite or PostgreSQL); every record also goes
to the ``consentkit.audit`` logger, followed now and then by a signed checkpoint (an anchor for
``consentkit audit verify --checkpoints``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from .audit_verify import VerifyReport, verify_file, verify_sources

if TYPE_CHECKING:
    from .audit_store import Store

__all__ = [
    "AuditError",
    "AuditLog",
    "VerifyReport",
    "key_id",
    "mac_key",
    "verify_file",
    "verify_sources",
]

SCHEMA: Final = 2
GENESIS: Final = "0" * 64
EVENTS: Final = ("given", "refused", "updated", "withdrawn", "opt_out_signal")
#: Where a decision was made (ISO/IEC TS 27560 "collection method").
CHANNELS: Final = ("banner", "settings", "embed", "browser_signal", "api")
#: Per-category states: answered, not answered, or decided for the visitor by a browser signal.
STATES: Final = ("required", "granted", "refused", "signal_opt_out", "not_asked")
#: Record fields that identify a person: erased by ``purge``, covered by the MAC through ``personal_hash``.
PERSONAL: Final = ("subject_id", "ip", "user_agent", "salt")
MAX_PATH: Final = 512
MAX_USER_AGENT: Final = 256
MAX_SUBJECT: Final = 64
_BATCH: Final = 256

log = logging.getLogger("consentkit.audit")
_errors = logging.getLogger("consentkit")


class AuditError(RuntimeError):
    """A record could not be written; the decision must not take effect."""


def mac_key(secret: bytes) -> bytes:
    """The audit MAC key derived from one secret key (kept apart from cookie signing)."""
    return hmac.new(secret, b"consentkit.audit.v1", hashlib.sha256).digest()


def key_id(secret: bytes) -> str:
    """A public name for a secret key (16 hex digits): says which key signed, reveals nothing of it."""
    return hmac.new(secret, b"consentkit.key-id.v1", hashlib.sha256).hexdigest()[:16]


_ENCODER: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical(record: Mapping[str, Any]) -> bytes:
    """The exact bytes a record's MAC covers: sorted keys, no spaces, ASCII only."""
    return _ENCODER.encode(record).encode("ascii")


def personal_hash(record: Mapping[str, Any]) -> str:
    """The salted hash of a record's personal fields, which the MAC covers in their place."""
    return hashlib.sha256(canonical({name: record.get(name) for name in PERSONAL})).hexdigest()


def signed_part(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a schema-2 record's MAC covers: everything but the personal fields and the MAC."""
    return {k: v for k, v in record.items() if k not in PERSONAL and k != "mac"}


def sign_line(record: Mapping[str, Any], key: bytes) -> tuple[bytes, str]:
    """The JSON line for ``record`` (without ``mac``) with its MAC appended, and the MAC.

    Schema-2 records are signed over :func:`signed_part`; schema-1 records (older files) over
    the whole line.
    """
    body = canonical(record)
    covered = canonical(signed_part(record)) if record.get("schema", SCHEMA) >= 2 else body
    mac = hmac.new(key, covered, hashlib.sha256).hexdigest()
    return body[:-1] + b',"mac":"' + mac.encode("ascii") + b'"}\n', mac


def sign_checkpoint(seq: int, head: str, when: str, secret: bytes, **extra: Any) -> dict[str, Any]:
    """A signed anchor: the history had ``seq`` records ending in MAC ``head`` at ``when``."""
    body: dict[str, Any] = {
        "type": "checkpoint",
        "seq": seq,
        "head": head,
        "time": when,
        "key_id": key_id(secret),
        **extra,
    }
    body["mac"] = hmac.new(mac_key(secret), canonical(body), hashlib.sha256).hexdigest()
    return body


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


def category_states(consent: Any) -> dict[str, str]:
    """Each category's state for a :class:`~consentkit.consent.Consent` (see :data:`STATES`)."""
    states = dict.fromkeys(consent.required, "required")
    for category in consent.optional:
        if category in consent.explicit:
            states[category] = "granted" if consent.allows(category) else "refused"
        elif category in consent.signal_denied:
            states[category] = "signal_opt_out"
        else:
            states[category] = "not_asked"
    return states


def _now_text(now: datetime) -> str:
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _delivering(logger: logging.Logger) -> bool:
    """Whether INFO records of ``logger`` reach a handler that does something (not a NullHandler)."""
    if not logger.isEnabledFor(logging.INFO):
        return False
    current: logging.Logger | None = logger
    while current is not None:
        if any(not isinstance(h, logging.NullHandler) for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


@dataclass
class _Pending:
    record: dict[str, Any]
    done: Future[bytes]


@dataclass
class AuditLog:
    """Writes consent records to a store (file, SQLite or PostgreSQL) and the ``consentkit.audit`` logger.

    ``path`` is a JSON-lines file; ``url`` a store URL (``sqlite:///audit.db``,
    ``postgresql://user@host/db``, or a file path). With neither, records go to the logger only,
    and a record is refused when that logger has no handler (so nothing is lost silently).
    Appends from concurrent requests are committed together, one transaction per batch, by one
    writer thread per process; :meth:`append` returns once its record is durable.
    """

    path: Path | None = None
    keys: Sequence[bytes] = ()
    fsync: bool = True
    log: bool = True
    ip_mode: Literal["omit", "truncate", "hash"] = "truncate"
    url: str | None = None
    controller: Mapping[str, str] | None = None
    valid_days: int | None = None
    #: Seconds between signed checkpoints on the logger (0: after every batch).
    checkpoint_seconds: float = 300.0
    #: Decisions refused by the rate limit since start (counted, never stored).
    rejected: int = 0
    _store: Store | None = field(default=None, repr=False)
    _queue: queue.SimpleQueue[_Pending] | None = field(default=None, repr=False)
    _writer_pid: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _notices: dict[str, str] = field(default_factory=dict, repr=False)
    _last_checkpoint: float = field(default=float("-inf"), repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("the audit trail needs the secret keys (the newest one signs)")
        if self.path is None and self.url is None and not self.log:
            raise ValueError("the audit trail needs a sink: a store, the logger, or both")
        self._secret = self.keys[-1]
        self._key = mac_key(self._secret)
        self.key_id = key_id(self._secret)
        if self.url is not None or self.path is not None:
            from .audit_store import open_store  # noqa: PLC0415 - the store imports this module

            self._store = open_store(self.url if self.url is not None else os.fspath(self.path or ""))
            self._store.fsync = self.fsync

    @property
    def store(self) -> Store | None:
        return self._store

    @property
    def location(self) -> str:
        """Where records go, for start-up messages and ``consentkit check``."""
        return self._store.describe() if self._store is not None else "the consentkit.audit logger only"

    def add_notices(self, notices: Mapping[str, str]) -> None:
        """Texts by their ``notice_hash``: each is stored once, with the first record that cites it."""
        self._notices.update(notices)

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
        channel: str = "banner",
        state: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A record (without ``seq``/``prev``/``mac``) from the decision and request details.

        ``state`` (from :func:`category_states`) tells "not asked" from "refused"; ``choices``
        then keeps only the categories with a decision. Paths lose their query string.
        """
        when = now or datetime.now(UTC)
        if state is not None:
            choices = {c: s in ("required", "granted") for c, s in state.items() if s != "not_asked"}
        record: dict[str, Any] = {
            "schema": SCHEMA,
            "record_id": str(uuid.uuid4()),
            "time": _now_text(when),
            "event": event,
            "channel": channel,
            "choices": dict(choices),
            "state": dict(state)
            if state is not None
            else {c: "granted" if v else "refused" for c, v in choices.items()},
            "method": method,
            "policy_version": policy_version,
            "notice_hash": notice_hash,
            "language": language[:35],
            "path": path.split("?", 1)[0].split("#", 1)[0][:MAX_PATH],
            "key_id": self.key_id,
            "subject_id": subject_id[:MAX_SUBJECT],
            "user_agent": user_agent[:MAX_USER_AGENT],
            "ip": client_ip(ip, self.ip_mode, self._key),
            "salt": secrets.token_hex(16),
        }
        if self.valid_days is not None:
            record["valid_until"] = _now_text(when + timedelta(days=self.valid_days))
        if self.controller:
            record["controller"] = dict(self.controller)
        if extra:
            record.update(extra)
        record["personal_hash"] = personal_hash(record)
        return record

    def sign(self, record: dict[str, Any], seq: int, prev: str) -> tuple[bytes, str]:
        """Chain ``record`` after ``prev`` at position ``seq``; its JSON line and MAC."""
        record["seq"] = seq
        record["prev"] = prev
        line, mac = sign_line(record, self._key)
        record["mac"] = mac
        return line, mac

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Chain and durably store one record; raises :class:`AuditError` on failure.

        Thread-safe, and blocking: call it from a worker thread in async code.
        """
        if self._store is None:
            if not self.log or not _delivering(log):
                _errors.error(
                    "consentkit: no audit store is configured and the consentkit.audit logger has no "
                    "handler: set audit.url or audit.path in the policy (or configure the logger)"
                )
                raise AuditError("no audit store and no configured consentkit.audit logger")
            record["seq"] = None
            record["prev"] = None
            line, record["mac"] = sign_line(record, self._key)
            log.info(line.decode("ascii").rstrip("\n"))
            return record
        pending = _Pending(record, Future())
        self._writer().put(pending)
        try:
            pending.done.result()
        except AuditError:
            raise
        except Exception as exc:  # the store's own errors (OSError, database errors)
            raise AuditError(f"cannot write the consent record ({exc})") from exc
        return record

    def append_many(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append several records in one transaction (benchmarks, imports)."""
        batch = list(records)
        if self._store is None:
            return [self.append(r) for r in batch]
        self._commit(lambda: batch)
        return batch

    def checkpoint(self) -> dict[str, Any] | None:
        """Emit a signed checkpoint of the store's head to the logger now (and return it)."""
        if self._store is None:
            return None
        seq, head = self._store.head()
        return self._emit_checkpoint(seq, head)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    # --- the writer thread ---

    def _writer(self) -> queue.SimpleQueue[_Pending]:
        with self._lock:
            if self._queue is None or self._writer_pid != os.getpid():  # new, or inherited by fork
                self._queue = queue.SimpleQueue()
                self._writer_pid = os.getpid()
                thread = threading.Thread(
                    target=self._run, args=(self._queue,), name="consentkit-audit", daemon=True
                )
                thread.start()
            return self._queue

    def _run(self, pending: queue.SimpleQueue[_Pending]) -> None:
        while True:
            batch = [pending.get()]

            def take(batch: list[_Pending] = batch) -> list[dict[str, Any]]:
                # Called once the store's lock is held: everything queued while waiting for it
                # joins this transaction, so busy writers commit bigger batches, not more of them.
                while len(batch) < _BATCH:
                    try:
                        batch.append(pending.get_nowait())
                    except queue.Empty:
                        break
                return [item.record for item in batch]

            try:
                lines = self._commit(take)
            except BaseException as exc:  # every waiter learns why its record was not stored
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for item, line in zip(batch, lines, strict=True):
                item.done.set_result(line)

    def notices_for(self, records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """The notice texts the records cite (stored with them unless already there)."""
        return {h: self._notices[h] for h in {r.get("notice_hash") for r in records} if h in self._notices}

    def _commit(self, take: Callable[[], list[dict[str, Any]]]) -> list[bytes]:
        store = self._store
        assert store is not None
        try:
            lines, seq, head = store.append(take, self.sign, self.notices_for)
        except Exception as exc:
            _errors.error("consentkit: cannot write the audit record to %s: %s", store.describe(), exc)
            raise AuditError(f"cannot write the consent record ({exc})") from exc
        if self.log:
            for line in lines:
                log.info(line.decode("ascii").rstrip("\n"))
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds:
            self._emit_checkpoint(seq, head)
        return lines

    def _emit_checkpoint(self, seq: int, head: str) -> dict[str, Any]:
        self._last_checkpoint = time.monotonic()
        point = sign_checkpoint(seq, head, _now_text(datetime.now(UTC)), self._secret, rejected=self.rejected)
        log.info(json.dumps(point, sort_keys=True, separators=(",", ":")))
        return point
