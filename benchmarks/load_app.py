"""The app `benchmarks/load.py` serves with uvicorn --workers N: the release-page demo behind consentkit.

Configured through the environment so that every worker process builds the same app:
CONSENTKIT_LOAD_AUDIT (the audit file all workers append to) and CONSENTKIT_SECRET_KEYS.
Every simulated visitor comes from 127.0.0.1, so the per-address limit on recorded decisions
(``audit.rate_limit_per_minute``) is lifted: the run measures the server, not the limit.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from consentkit import ConsentMiddleware, load_policy
from consentkit.cli import DEMO_KEY, _example_dir, load_example_app


def create_app() -> Any:
    """The demo app with this run's audit file (uvicorn calls it once per worker)."""
    example = _example_dir()
    policy = load_policy(example / "consent.yaml")
    policy = policy.with_changes(audit=replace(policy.audit, rate_limit_per_minute=0))
    return ConsentMiddleware(
        load_example_app(example),
        policy=policy,
        secret_keys=[DEMO_KEY],
        audit_path=os.environ["CONSENTKIT_LOAD_AUDIT"],
    )
