"""``consentkit audit verify``: check one history, streamed, across rotated files or a database.

Checks every record's MAC (by the key its ``key_id`` names), the hash of its personal fields,
and the chain (``seq`` and ``prev``) from one record to the next and from one file to the next.
Anchors kept elsewhere (a ``head: N:MAC`` line from an earlier run, or the signed checkpoints
the writer logs) make a cut tail, a rollback to an older copy and an emptied store detectable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NoReturn

__all__ = [
    "Anchor",
    "KeySpan",
    "VerifyReport",
    "load_checkpoints",
    "parse_head",
    "verify_file",
    "verify_sources",
]

GENESIS: Final = "0" * 64
_MAC_SUFFIX: Final = re.compile(rb',"mac":"([0-9a-f]{64})"\}$')
_HEAD: Final = re.compile(r"(\d+):([0-9a-f]{64})")


@dataclass
class KeySpan:
    """A run of consecutive records signed by one key."""

    key_id: str
    first_seq: int
    last_seq: int
    first_time: str
    last_time: str


@dataclass(frozen=True)
class Anchor:
    """A point the history must pass through: record ``seq`` has MAC ``head``."""

    seq: int
    head: str
    source: str


@dataclass
class VerifyReport:
    """The result of checking one history (one or more sources read as one chain)."""

    path: str
    records: int = 0
    head: str = GENESIS
    seq: int = 0
    first_seq: int = 0
    #: (where, what): ``FILE:LINE`` or ``URL#seq``, and the problem found there.
    problems: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    keys: list[KeySpan] = field(default_factory=list)
    anchors_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def head_token(self) -> str:
        """``N:MAC``: the record count and last MAC, to keep elsewhere and pass to ``--expect-head``."""
        return f"{self.seq}:{self.head}"


def parse_head(text: str, source: str = "--expect-head") -> Anchor:
    """An anchor from a ``N:MAC`` head token; ValueError when it is not one."""
    m = _HEAD.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{source}: a head looks like 1234:<64 hex digits>, got {text!r}")
    return Anchor(int(m.group(1)), m.group(2), source)


def load_checkpoints(path: Path, keys: Sequence[bytes]) -> tuple[list[Anchor], list[str]]:
    """The signed checkpoints in a log file (other lines are skipped); and the bad ones, described."""
    from .audit import canonical, key_id, mac_key  # noqa: PLC0415 - audit imports this module

    by_id = {key_id(k): mac_key(k) for k in keys}
    anchors: list[Anchor] = []
    bad: list[str] = []
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            start = line.find(b'{"')
            if start < 0 or b'"checkpoint"' not in line:
                continue
            try:
                point = json.loads(line[start:])
            except ValueError:
                continue
            if not isinstance(point, dict) or point.get("type") != "checkpoint":
                continue
            mac = point.pop("mac", None)
            key = by_id.get(str(point.get("key_id")))
            where = f"{path}:{number}"
            if key is None:
                bad.append(f"{where}: checkpoint signed with key {point.get('key_id')}, which was not given")
                continue
            expected = hmac.new(key, canonical(point), hashlib.sha256).hexdigest()
            if not isinstance(mac, str) or not hmac.compare_digest(expected, mac):
                bad.append(f"{where}: checkpoint with an invalid MAC (forged or edited)")
                continue
            anchors.append(Anchor(int(point["seq"]), str(point["head"]), where))
    return anchors, bad


class _Stop(Exception):
    pass


def verify_sources(
    sources: Sequence[str],
    keys: Sequence[bytes],
    *,
    anchors: Iterable[Anchor] = (),
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Check ``sources`` (files or store URLs, oldest first) as one history."""
    from .audit import PERSONAL, canonical, key_id, mac_key, personal_hash  # noqa: PLC0415
    from .audit_store import open_store, shown  # noqa: PLC0415

    report = VerifyReport(", ".join(shown(s) for s in sources))
    by_id = {key_id(k): mac_key(k) for k in keys}
    legacy_keys = [mac_key(k) for k in reversed(keys)]
    pending: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        pending.setdefault(anchor.seq, []).append(anchor)
    loads = json.loads
    new = hmac.new
    sha256 = hashlib.sha256
    compare = hmac.compare_digest
    expected_prev = GENESIS
    last_seq = 0
    started = False
    span: KeySpan | None = None

    def fail(where: str, message: str) -> NoReturn:
        report.problems.append((where, message))
        raise _Stop

    try:
        for source in sources:
            store = open_store(source)
            try:
                for number, line in enumerate(store.lines(), 1):
                    where = f"{shown(source)}:{number}"
                    if progress is not None:
                        progress(len(line))
                    if not line.endswith(b"\n"):
                        fail(where, "truncated: the last line is an incomplete record (interrupted write)")
                    try:
                        record = loads(line)
                    except ValueError:
                        fail(where, "truncated or not a consentkit record: not valid JSON")
                    if not isinstance(record, dict) or not isinstance(record.get("mac"), str):
                        fail(where, "truncated or not a consentkit record: no MAC at the end of the line")
                    mac: str = record["mac"]
                    schema = record.get("schema", 1)
                    if isinstance(schema, int) and schema >= 2:
                        kid = str(record.get("key_id"))
                        key = by_id.get(kid)
                        if key is None:
                            fail(
                                where,
                                f"signed with key {kid}, which was not given (or the key_id was edited)",
                            )
                        personal = {name: record.pop(name, None) for name in PERSONAL}
                        del record["mac"]
                        if not compare(new(key, canonical(record), sha256).hexdigest(), mac):
                            fail(where, "edited: the MAC does not match the record")
                        record.update(personal)
                        if record.get("salt") is not None:
                            if personal_hash(personal) != record.get("personal_hash"):
                                fail(
                                    where, "edited: the personal fields do not match the hash the MAC covers"
                                )
                        elif any(record.get(n) is not None for n in PERSONAL):
                            fail(where, "edited: personal fields were written into a purged record")
                        seq = record.get("seq")
                        if not isinstance(seq, int):
                            fail(where, "chain broken: the record has no valid seq field")
                    else:
                        m = _MAC_SUFFIX.search(line.rstrip(b"\n"))
                        if m is None:
                            fail(where, "truncated or not a consentkit record: no MAC at the end of the line")
                        signed = line.rstrip(b"\n")[: m.start()] + b"}"
                        for index, legacy in enumerate(legacy_keys):
                            if compare(new(legacy, signed, sha256).hexdigest(), mac):
                                if index:
                                    legacy_keys.insert(0, legacy_keys.pop(index))
                                break
                        else:
                            fail(
                                where,
                                "edited: the MAC does not match the record (or a key was not given)",
                            )
                        kid = "(schema 1)"
                        seq = last_seq + 1
                    prev = record.get("prev")
                    if not started:
                        started = True
                        report.first_seq = seq
                        if seq == 1 and prev == GENESIS:
                            pass
                        elif seq > 1 and record.get("continues") is True:
                            report.notes.append(
                                f"{where}: the history given starts at record {seq}: it continues an earlier "
                                "file (rotation); give that file first to check the join"
                            )
                        else:
                            fail(where, f"deleted: records before this one (record {seq}) are missing")
                    elif prev != expected_prev or seq != last_seq + 1:
                        if seq > last_seq + 1:
                            fail(
                                where,
                                f"deleted or reordered: expected record {last_seq + 1} here, found {seq}",
                            )
                        if seq <= last_seq:
                            fail(
                                where, f"reordered or inserted: record {seq} appears after record {last_seq}"
                            )
                        fail(where, "chain broken: prev is not the MAC of the record before (replaced)")
                    for anchor in pending.pop(seq, ()):
                        report.anchors_checked += 1
                        if not compare(anchor.head, mac):
                            fail(
                                where,
                                f"rolled back or rewritten: record {seq} differs from {anchor.source}",
                            )
                    when = str(record.get("time", ""))
                    if span is None or span.key_id != kid:
                        span = KeySpan(kid, seq, seq, when, when)
                        report.keys.append(span)
                    else:
                        span.last_seq = seq
                        span.last_time = when
                    expected_prev = mac
                    last_seq = seq
                    report.records += 1
            finally:
                store.close()
    except _Stop:
        pass
    except Exception as exc:  # a file or database that cannot be read: reported, not raised
        if not store_failure(exc):
            raise
        report.problems.append((shown(source), f"cannot read: {getattr(exc, 'strerror', None) or exc}"))
    report.head = expected_prev
    report.seq = last_seq
    if report.ok:
        for seq, waiting in sorted(pending.items()):
            for anchor in waiting:
                if seq > last_seq:
                    report.problems.append(
                        (
                            report.path,
                            f"cut tail, rollback or emptied store: the history ends at record {last_seq}, "
                            f"but {anchor.source} anchors record {seq}",
                        )
                    )
                else:
                    report.notes.append(
                        f"{anchor.source} anchors record {seq}, before the records given: not checked"
                    )
    return report


def store_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a store that cannot be read (not a bug in consentkit)."""
    import sqlite3  # noqa: PLC0415

    from .audit import AuditError  # noqa: PLC0415

    return isinstance(exc, OSError | AuditError | sqlite3.Error) or type(exc).__module__.startswith("psycopg")


def verify_file(path: Path, keys: Sequence[bytes], progress: Any = None) -> VerifyReport:
    """Check one audit file (or store URL) on its own."""
    return verify_sources([str(path)], keys, progress=progress)
