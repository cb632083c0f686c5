"""The app `benchmarks/load.py` serves with uvicorn --workers N: the release-page demo behind consentkit.

Configured through the environment so that every worker process builds the same app:
CONSENTKIT_LOAD_AUDIT (the audit file all workers append to) and CONSENTKIT_SECRET_KEYS.
"""

from __future__ import annotations

import os
from typing import Any

from consentkit.cli import demo_app


def create_app() -> Any:
    """The demo app with this run's audit file (uvicorn calls it once per worker)."""
    app, _, _ = demo_app(audit=os.environ["CONSENTKIT_LOAD_AUDIT"])
    return app
