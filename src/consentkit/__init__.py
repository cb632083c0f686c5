"""consentkit: server-side cookie consent for ASGI apps.

Add :class:`ConsentMiddleware` with a YAML policy: every HTML page gets a banner that works
without JavaScript, tracker tags of denied categories never reach the browser, the choice
lives in a signed cookie, and every decision is recorded in a tamper-evident audit trail.
"""

from __future__ import annotations

from typing import Any

from .audit import AuditError, AuditLog
from .consent import Consent, SecretKeyError
from .middleware import ConsentMiddleware
from .policy import (
    AuditSettings,
    BannerSettings,
    Blocking,
    Category,
    CategoryText,
    CookieSettings,
    Policy,
    PolicyError,
    Service,
    Signals,
    Texts,
    load_policy,
    parse_policy,
)

__all__ = [
    "AuditError",
    "AuditLog",
    "AuditSettings",
    "BannerSettings",
    "Blocking",
    "Category",
    "CategoryText",
    "Consent",
    "ConsentMiddleware",
    "CookieSettings",
    "Policy",
    "PolicyError",
    "SecretKeyError",
    "Service",
    "Signals",
    "Texts",
    "get_consent",
    "load_policy",
    "parse_policy",
]

__version__ = "0.1.0"


def get_consent(request: Any) -> Consent:
    """The visitor's consent for a Starlette/FastAPI request (usable as a FastAPI dependency).

    Raises ``RuntimeError`` if ``ConsentMiddleware`` is not installed in front of the app.
    """
    consent = request.scope.get("state", {}).get("consent")
    if not isinstance(consent, Consent):
        raise RuntimeError("no consent on this request: add ConsentMiddleware to the application")
    return consent
