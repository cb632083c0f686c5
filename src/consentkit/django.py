"""Django without glue: ``request.consent``, a context processor, template tags and a settings layout.

``ConsentMiddleware`` wraps Django's ASGI application (it blocks trackers and adds the banner);
this module gives views and templates the visitor's consent with Django's own mechanisms::

    # settings.py
    INSTALLED_APPS = [..., "consentkit"]                    # {% load consentkit %}
    MIDDLEWARE = [..., "consentkit.django.middleware"]      # request.consent
    TEMPLATES[0]["OPTIONS"]["context_processors"] += ["consentkit.django.context_processor"]
    CONSENTKIT_POLICY = BASE_DIR / "consent.yaml"

``request.consent`` is never missing and never raises: behind ``ConsentMiddleware`` it is the
consent the middleware read; otherwise (Django's test ``Client``/``AsyncClient``, ``runserver``)
it is read from the consent cookie with ``CONSENTKIT_POLICY`` and the secret keys
(``CONSENTKIT_SECRET_KEYS`` setting or environment variable), and is undecided without one.
Tests give a request a consent with :func:`consent_cookie` (``Client``) or :func:`make_consent`
(``RequestFactory``).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from functools import cache
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .consent import Consent, ConsentCodec, SecretKeyError, resolve_secret_keys
from .layout import SettingsLayout, SettingsPage
from .noconsent import NoConsent
from .policy import Policy, load_policy

__all__ = [
    "banner",
    "consent_cookie",
    "context_processor",
    "get_consent",
    "make_consent",
    "middleware",
    "settings_layout",
]

logger = logging.getLogger("consentkit")

_NO_CONSENT = NoConsent()


@cache
def _load_policy(path: str) -> Policy:
    return load_policy(path)


def _policy() -> Policy | None:
    """``CONSENTKIT_POLICY``: a policy file (read once) or a :class:`~consentkit.Policy`."""
    source = getattr(settings, "CONSENTKIT_POLICY", None)
    if source is None or isinstance(source, Policy):
        return source
    return _load_policy(os.fspath(source))


_codecs: dict[tuple[int, tuple[bytes, ...]], ConsentCodec] = {}


def _codec(policy: Policy, keys: tuple[bytes, ...]) -> ConsentCodec:
    codec = _codecs.get((id(policy), keys))
    if codec is None or codec.policy is not policy:
        codec = _codecs[(id(policy), keys)] = ConsentCodec(keys, policy)
    return codec


def _keys() -> tuple[bytes, ...] | None:
    configured = getattr(settings, "CONSENTKIT_SECRET_KEYS", None)
    if isinstance(configured, list):
        configured = tuple(configured)
    try:
        return resolve_secret_keys(configured)
    except SecretKeyError:
        return None


def _scope(request: HttpRequest) -> dict[str, Any]:
    scope = getattr(request, "scope", None)  # ASGIRequest
    return scope if isinstance(scope, dict) else {}


def get_consent(request: HttpRequest) -> Consent | NoConsent:
    """The visitor's consent for a Django request; never raises.

    Behind ``ConsentMiddleware``: the consent it read. Otherwise: read from the cookie with
    ``CONSENTKIT_POLICY`` (undecided without a valid cookie), or, with no policy configured,
    a stand-in that allows nothing.
    """
    given = getattr(request, "consent", None)
    if isinstance(given, Consent):
        return given
    state = _scope(request).get("state")
    consent = state.get("consent") if isinstance(state, dict) else None
    if isinstance(consent, Consent):
        return consent
    policy = _policy()
    if policy is None:
        return _NO_CONSENT
    undecided = Consent.undecided(policy)
    raw = request.COOKIES.get(policy.cookie.name)
    keys = _keys()
    if raw and keys:
        undecided = _codec(policy, keys).loads(raw)[0]
    denied = frozenset(n for n, c in policy.categories.items() if c.gpc == "deny")
    signal = request.headers.get("Sec-GPC", "").strip() == "1" and policy.signals.gpc
    signal = signal or (policy.signals.dnt == "deny" and request.headers.get("DNT", "").strip() == "1")
    return undecided.with_signal(denied) if signal and denied else undecided


def middleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], Any]:
    """Django middleware: sets ``request.consent`` (add ``"consentkit.django.middleware"`` to MIDDLEWARE)."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            request.consent = get_consent(request)
            response = get_response(request)
            assert not isinstance(response, HttpResponse)
            return await response

        return async_middleware

    def sync_middleware(request: HttpRequest) -> Any:
        request.consent = get_consent(request)
        return get_response(request)

    return sync_middleware


middleware.sync_capable = True  # type: ignore[attr-defined]  # what @sync_and_async_middleware sets
middleware.async_capable = True  # type: ignore[attr-defined]


def context_processor(request: HttpRequest) -> dict[str, Any]:
    """``consent`` in every template (add ``"consentkit.django.context_processor"``)."""
    return {"consent": get_consent(request)}


def banner(request: HttpRequest | None, *, lang: str | None = None, nonce: str | None = None) -> SafeString:
    """The banner ConsentMiddleware would inject into this page, byte for byte (empty once decided,
    or when the request did not come through the middleware). ``{% consentkit_banner %}`` calls it."""
    if request is None:
        return mark_safe("")
    scope = _scope(request)
    state = scope.get("state")
    mw = state.get("consentkit") if isinstance(state, dict) else None
    if mw is None:
        return mark_safe("")
    if nonce is None:
        found = getattr(request, "csp_nonce", None)  # django-csp
        nonce = str(found) if found else None
    return mark_safe(mw.render_banner(scope, lang=lang, nonce=nonce))  # noqa: S308 (escaped by consentkit)


def make_consent(
    allow: Iterable[str] = (), *, policy: Policy | None = None, subject_id: str = "test-subject-0001"
) -> Consent:
    """A decided consent granting ``allow`` (every other optional category refused), for tests:
    ``request = RequestFactory().get("/"); request.consent = make_consent(["analytics"])``."""
    chosen = policy or _policy()
    if chosen is None:
        raise RuntimeError("set CONSENTKIT_POLICY in Django's settings, or pass policy=")
    allowed = list(allow)
    for category in allowed:
        Consent.undecided(chosen).allows(category)  # raises for an unknown category
    return replace(Consent.undecided(chosen).decide("save", allowed), subject_id=subject_id)


def consent_cookie(
    allow: Iterable[str] = (), *, policy: Policy | None = None, secret_keys: Any = None
) -> dict[str, str]:
    """The consent cookie of a visitor who allowed ``allow``, for Django's test client::

    client.cookies.load(consent_cookie(["analytics"]))
    """
    chosen = policy or _policy()
    if chosen is None:
        raise RuntimeError("set CONSENTKIT_POLICY in Django's settings, or pass policy=")
    keys = resolve_secret_keys(secret_keys) if secret_keys is not None else _keys()
    if keys is None:
        raise SecretKeyError(
            "consent_cookie needs the secret keys: set CONSENTKIT_SECRET_KEYS (setting or environment)"
        )
    value = _codec(chosen, keys).dumps(make_consent(allow, policy=chosen))
    return {chosen.cookie.name: value}


def settings_layout(template_name: str) -> SettingsLayout:
    """A ``settings_layout`` hook rendering the settings page with a Django template.

    The template gets ``consentkit_settings`` (the settings markup), ``title`` and ``lang``, and
    the request (context processors run), for example::

        {% extends "base.html" %}
        {% block title %}{{ title }}{% endblock %}
        {% block content %}{{ consentkit_settings }}{% endblock %}
    """

    def render(page: SettingsPage) -> str:
        request = ASGIRequest(dict(page.scope), io.BytesIO())
        request.consent = get_consent(request)
        context = {
            "consentkit_settings": mark_safe(page.content),  # noqa: S308 (escaped by consentkit)
            "title": page.title,
            "lang": page.lang,
        }
        return str(render_to_string(template_name, context, request=request))

    return render
