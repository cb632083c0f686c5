"""The app the multi-process audit tests serve with uvicorn: the test policy, recording to the
store named by CONSENTKIT_AUDIT_URL (the policy names none)."""

from __future__ import annotations

from consentkit import parse_policy

from .conftest import KEY, POLICY_YAML, make_app

app = make_app(parse_policy(POLICY_YAML), secret_keys=[KEY])
