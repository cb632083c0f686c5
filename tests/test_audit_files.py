"""File stores only: rotation continues the chain, and no side file is written through a symlink."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from consentkit import parse_policy

from .conftest import KEY, POLICY_YAML
from .test_audit_stores import record_decisions, run_cli


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_a_rotated_file_continues_the_chain_and_verifies_with_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    asyncio.run(record_decisions(str(path), 5))
    old = tmp_path / "audit.jsonl.1"
    path.rename(old)  # what logrotate does (create mode); other processes keep writing to the path
    asyncio.run(record_decisions(str(path), 3))
    first = json.loads(lines(path)[0])
    assert first["seq"] == 6 and first["continues"] is True
    assert first["prev"] == json.loads(lines(old)[-1])["mac"]

    status, out = run_cli("audit", "verify", "--keys", KEY, old, path)
    assert status == 0, out
    assert f"{old} + {path}: OK, 8 records" in out
    status, out = run_cli("audit", "verify", "--keys", KEY, path)
    assert status == 0 and "note:" in out and "starts at record 6" in out
    # the join is checked: the old file losing its last record breaks it
    old.write_bytes(b"".join(lines(old)[:-1]))
    status, out = run_cli("audit", "verify", "--keys", KEY, old, path)
    assert status == 1 and f"{path}:1: deleted or reordered: expected record 5 here, found 6" in out


def test_cutting_the_head_of_a_file_is_not_taken_for_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    asyncio.run(record_decisions(str(path), 3))
    path.write_bytes(b"".join(lines(path)[1:]))
    status, out = run_cli("audit", "verify", "--keys", KEY, path)
    assert status == 1 and f"{path}:1: deleted: records before this one (record 2) are missing" in out


def test_two_hosts_files_are_two_histories(tmp_path: Path) -> None:
    a, b = tmp_path / "host-a.jsonl", tmp_path / "host-b.jsonl"
    asyncio.run(record_decisions(str(a), 2))
    asyncio.run(record_decisions(str(b), 3))
    status, out = run_cli("audit", "verify", "--keys", KEY, a, b)
    assert status == 0
    assert f"{a}: OK, 2 records" in out and f"{b}: OK, 3 records" in out
    assert out.count("head: ") == 2


@pytest.mark.parametrize("side", [".torn", ""])
def test_no_audit_file_is_written_through_a_symlink(tmp_path: Path, side: str) -> None:
    path = tmp_path / "audit.jsonl"
    asyncio.run(record_decisions(str(path), 1))
    target = tmp_path / "x.pth"
    target.write_text("")
    if side:
        with open(path, "ab") as fh:
            fh.write(b'import os; os.system("touch pwned")')  # a torn line, planted
        (tmp_path / ("audit.jsonl" + side)).symlink_to(target)
    else:
        path.rename(tmp_path / "real.jsonl")
        path.symlink_to(target)
    with pytest.raises(RuntimeError, match="decision 0: 503"):
        asyncio.run(record_decisions(str(path), 1))
    assert target.read_text() == ""


def test_the_policy_path_is_relative_to_the_policy_file(tmp_path: Path) -> None:
    policy_file = tmp_path / "consent.yaml"
    policy_file.write_text(POLICY_YAML + "audit:\n  url: sqlite:///records/audit.db\n")
    (tmp_path / "records").mkdir()
    from consentkit import load_policy

    target, origin = load_policy(policy_file).audit_target()
    assert (target, origin) == (f"sqlite:///{tmp_path}/records/audit.db", "audit.url")
    assert parse_policy(POLICY_YAML).audit_target()[1] in ("CONSENTKIT_AUDIT_URL", "default")
    assert os.environ.get("CONSENTKIT_AUDIT_URL")


def test_purging_while_writers_append_loses_nothing(tmp_path: Path) -> None:
    import multiprocessing

    from .test_audit_stores import _writer

    path = tmp_path / "audit.jsonl"
    asyncio.run(record_decisions(str(path), 1))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    workers = [context.Process(target=_writer, args=(n, str(path), 80, barrier)) for n in range(2)]
    for process in workers:
        process.start()
    barrier.wait()
    purges = 0
    while any(p.is_alive() for p in workers) or purges < 3:
        assert run_cli("audit", "purge", path, "--before", "2999-01-01")[0] == 0
        purges += 1
    for process in workers:
        process.join(60)
    assert [p.exitcode for p in workers] == [0, 0]
    records = [json.loads(line) for line in lines(path)]
    assert [r["seq"] for r in records] == list(range(1, 162))
    status, out = run_cli("audit", "verify", "--keys", KEY, path)
    assert status == 0 and "OK, 161 records" in out
