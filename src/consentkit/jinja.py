"""Jinja2 templates that read the visitor's consent, with the same API as Python code.

:func:`install` makes ``consent`` resolve, in every template of an environment, to the
:class:`~consentkit.Consent` of the request being rendered (read from the template's ``request``
variable, which Starlette's and FastAPI's ``Jinja2Templates``, Litestar, Quart and Flask all
pass): from ``request.scope["state"]`` (ASGI apps) or ``request.environ["asgi.scope"]`` (a WSGI
app served through a2wsgi)::

    {% if consent.allows("analytics") %}<script src="/analytics.js"></script>{% endif %}
    {% if not consent.decided %}...{% endif %}     {# a property, as in Python #}
    {{ consent.choices }}                          {# {"necessary": true, "analytics": false} #}
    {{ consentkit_banner(lang="fr") }}             {# place the banner yourself #}
    {{ consentkit_cookie_declaration() }}          {# the cookie table, for the privacy page #}

``consent.allows()`` of a category the policy does not define raises ``ValueError``. Where there
is no consent to read (no ``request`` in the context, no ``ConsentMiddleware`` in front) nothing
is allowed, and a warning is logged once. A template variable named ``consent`` takes precedence.

jinja2 is an optional dependency: this is the only module of consentkit that imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.runtime import Context
from jinja2.utils import missing
from markupsafe import Markup
from starlette.requests import Request

from .consent import Consent
from .declaration import cookie_declaration_html, policy_from_scope
from .language import negotiate
from .layout import SettingsLayout, SettingsPage
from .noconsent import NoConsent

__all__ = ["NoConsent", "consent_from_context", "install", "settings_layout"]


def _scope_of(request: Any) -> Mapping[str, Any] | None:
    if request is None:
        return None
    scope = getattr(request, "scope", None)
    if not isinstance(scope, Mapping):
        environ = getattr(request, "environ", None)  # WSGI, served through a2wsgi
        scope = environ.get("asgi.scope") if isinstance(environ, Mapping) else None
    return scope if isinstance(scope, Mapping) else None


def _state(context: Context | Mapping[str, Any]) -> Mapping[str, Any]:
    scope = _scope_of(context.get("request"))
    state = scope.get("state") if scope is not None else None
    return state if isinstance(state, Mapping) else {}


def consent_from_context(context: Context | Mapping[str, Any]) -> Consent | None:
    """The consent of the request a template is rendered for, or ``None`` if there is none."""
    consent = _state(context).get("consent")
    return consent if isinstance(consent, Consent) else None


_NO_CONSENT = NoConsent()


class _ConsentContext(Context):
    """Resolves ``consent`` to the request's consent when the template has no such variable."""

    def resolve_or_missing(self, key: str) -> Any:
        value = super().resolve_or_missing(key)
        if key == "consent" and value is missing:
            return consent_from_context(self) or _NO_CONSENT
        return value


@jinja2.pass_context
def consentkit_banner(context: Context, lang: str | None = None, nonce: str | None = None) -> Markup:
    """The banner ConsentMiddleware would inject into this page, byte for byte, to place it yourself.

    ``lang`` is the page's language (the middleware reads it from ``<html lang>``; default: the
    visitor's ``Accept-Language``); ``nonce`` the page's CSP nonce (default: a ``csp_nonce``
    template variable, or ``request.state.csp_nonce``). Empty once the visitor has decided.
    """
    state = _state(context)
    middleware = state.get("consentkit")
    scope = _scope_of(context.get("request"))
    if middleware is None or scope is None:
        return Markup("")
    if nonce is None:
        found = context.get("csp_nonce") or state.get("csp_nonce")
        nonce = found if isinstance(found, str) else None
    return Markup(middleware.render_banner(scope, lang=lang, nonce=nonce))  # noqa: S704 (escaped markup)


@jinja2.pass_context
def consentkit_cookie_declaration(context: Context, lang: str | None = None) -> Markup:
    """The cookie declaration table, in ``lang`` or the request's language (empty without
    ConsentMiddleware in front of the app)."""
    scope = _scope_of(context.get("request"))
    policy = policy_from_scope(scope) if scope is not None else None
    if policy is None:
        return Markup("")
    if lang is None and scope is not None:
        header = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"")
        lang = negotiate(header.decode("latin-1"), policy.languages)
    return Markup(cookie_declaration_html(policy, lang))  # noqa: S704 - every text in it is escaped


def install(env: jinja2.Environment) -> None:
    """Make ``consent``, ``consentkit_banner()`` and ``consentkit_cookie_declaration()`` available
    in ``env``'s templates (for example ``Jinja2Templates(...).env``, ``app.jinja_env``)."""
    if not issubclass(env.context_class, _ConsentContext):
        env.context_class = type("ConsentContext", (_ConsentContext, env.context_class), {})
    env.globals["consentkit_banner"] = consentkit_banner
    env.globals["consentkit_cookie_declaration"] = consentkit_cookie_declaration


def settings_layout(env: jinja2.Environment, template: str) -> SettingsLayout:
    """A ``settings_layout`` hook rendering the settings page with ``template`` from ``env``.

    The template gets ``consentkit_settings`` (the settings markup, to place in your content
    block), ``title``, ``lang`` and ``request`` (a Starlette ``Request``), for example::

        {% extends "layout.html" %}
        {% block title %}{{ title }}{% endblock %}
        {% block content %}{{ consentkit_settings }}{% endblock %}
    """

    def render(page: SettingsPage) -> str:
        return env.get_template(template).render(
            consentkit_settings=Markup(page.content),  # noqa: S704 (escaped by consentkit)
            title=page.title,
            lang=page.lang,
            request=Request(dict(page.scope)),
        )

    return render
