"""consentkit: server-side cookie consent for ASGI apps.

Add :class:`ConsentMiddleware` with a YAML policy: every HTML page gets a banner that works
without JavaScript, tracker tags of denied categories never reach the browser, the choice
lives in a signed cookie, and every decision is recorded in a tamper-evident audit trail.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import HTTPConnection

from .audit import AuditError, AuditLog
from .consent import Consent, SecretKeyError
from .declaration import DeclaredCookie, cookie_declaration, cookie_declaration_html, cookie_declaration_json
from .middleware import ConsentMiddleware
from .policy import (
    AuditSettings,
    BannerSettings,
    Blocking,
    Category,
    CategoryText,
    CookieInfo,
    CookieSettings,
    Policy,
    PolicyError,
    Service,
    Signals,
    Texts,
    Vendor,
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
    "CookieInfo",
    "CookieSettings",
    "DeclaredCookie",
    "Policy",
    "PolicyError",
    "SecretKeyError",
    "Service",
    "Signals",
    "Texts",
    "Vendor",
    "consent_from_scope",
    "cookie_declaration",
    "cookie_declaration_html",
    "cookie_declaration_json",
    "get_consent",
    "load_policy",
    "parse_policy",
]

__version__ = "0.1.0"

# A library logs; the application decides where it goes (and nothing is printed before it does).
logging.getLogger("consentkit").addHandler(logging.NullHandler())


def get_consent(request: HTTPConnection) -> Consent:
    """The visitor's consent for a Starlette/FastAPI HTTP request.

    Works as a FastAPI dependency (``consent: Consent = Depends(get_consent)``): the parameter
    is typed as Starlette's ``HTTPConnection`` (the base of ``Request``) so that FastAPI
    injects the connection instead of reading a query parameter called ``request``.
    Raises ``RuntimeError`` if ``ConsentMiddleware`` is not in front of the app, and for
    websockets, which the middleware passes through without a consent.
    """
    consent = consent_from_scope(request.scope)
    if consent is None:
        raise RuntimeError("no consent on this request: add ConsentMiddleware to the application")
    return consent


def consent_from_scope(scope: Any) -> Consent | None:
    """The consent ConsentMiddleware put in an ASGI scope (any framework), or ``None``."""
    state = scope.get("state") if hasattr(scope, "get") else None
    consent = state.get("consent") if isinstance(state, dict) else None
    return consent if isinstance(consent, Consent) else None
