"""Any operating system: consentkit imports and records decisions without ``fcntl`` (as on Windows).

CI runs Linux only, so the non-``fcntl`` lock is tested by making ``fcntl`` unimportable in
subprocesses that record decisions concurrently into one file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import KEY
from .test_audit_stores import run_cli

ROOT = Path(__file__).resolve().parents[1]

WITHOUT_FCNTL = """
import asyncio, sys
sys.modules["fcntl"] = None  # `import fcntl` now raises ImportError, as on Windows
sys.path.insert(0, {root!r})
import consentkit
from consentkit.locking import lock_backend
assert lock_backend() in ("msvcrt", "lockfile"), lock_backend()
from tests.test_audit_stores import record_decisions
asyncio.run(record_decisions(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"""


def test_no_module_imports_fcntl_at_import_time() -> None:
    code = (
        "import sys; sys.modules['fcntl'] = None; import consentkit, consentkit.cli, consentkit.audit_store; "
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_concurrent_writers_without_fcntl_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    script = WITHOUT_FCNTL.format(root=str(ROOT))
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), "100", f"worker-{n}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    results = [w.communicate(timeout=180) for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0], results
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert [r["seq"] for r in records] == list(range(1, 301))
    assert not (tmp_path / "audit.jsonl.lock").exists()
    status, out = run_cli("audit", "verify", "--keys", KEY, path)
    assert status == 0 and "OK, 300 records" in out
