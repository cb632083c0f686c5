"""A short load run (the full one is `make load`): several workers, no errors, no missing records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOAD = Path(__file__).parents[1] / "benchmarks" / "load.py"


def test_a_short_multi_worker_load_run_loses_nothing() -> None:
    result = subprocess.run(
        [sys.executable, str(LOAD), "--requests", "600", "--concurrency", "24", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "errors: 0" in result.stdout
    assert ", missing: 0" in result.stdout
    assert "consentkit audit verify: OK" in result.stdout
