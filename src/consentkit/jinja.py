"""Jinja2 templates that read the visitor's consent: ``{% if consent.allows("analytics") %}``.

:func:`install` adds a ``consent`` global to an environment. Jinja knows nothing of requests,
so each helper reads the consent from the template's ``request`` variable, which Starlette's
and FastAPI's ``Jinja2Templates``, Litestar, Quart and Flask all pass to templates: from
``request.scope["state"]["consent"]`` (ASGI apps), or from ``request.environ["asgi.scope"]``
for a WSGI app served through a2wsgi. Where there is nothing to read (no ``request`` in the
context, or no ``ConsentMiddleware`` in front of the app) nothing is allowed.

The helpers are functions, called in the template::

    {% if consent.allows("analytics") %}<script src="/analytics.js"></script>{% endif %}
    {% if not consent.decided() %}...{% endif %}
    {{ consent.choices() }}              {# {"necessary": true, "analytics": false, ...} #}
    {% set c = consent.current() %}      {# the Consent itself, or None #}
    {{ consent.cookie_declaration() }}   {# the cookie declaration table, for the privacy page #}

Testing one without calling it (``{% if consent.decided %}``) raises ``TypeError`` instead of
being always true. A template variable named ``consent`` takes precedence over the global.

jinja2 is an optional dependency: this is the only module of consentkit that imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import jinja2
from jinja2.runtime import Context
from markupsafe import Markup

from .consent import Consent
from .declaration import cookie_declaration_html, policy_from_scope
from .language import negotiate

__all__ = ["ConsentHelpers", "consent_from_context", "install"]


def _scope(context: Context) -> Mapping[str, Any] | None:
    request = context.get("request")
    if request is None:
        return None
    scope = getattr(request, "scope", None)
    if not isinstance(scope, Mapping):
        environ = getattr(request, "environ", None)  # WSGI, served through a2wsgi
        scope = environ.get("asgi.scope") if isinstance(environ, Mapping) else None
    return scope if isinstance(scope, Mapping) else None


def consent_from_context(context: Context) -> Consent | None:
    """The consent of the request a template is rendered for, or ``None`` if there is none."""
    scope = _scope(context)
    if scope is None:
        return None
    state = scope.get("state")
    consent = state.get("consent") if isinstance(state, Mapping) else None
    return consent if isinstance(consent, Consent) else None


class _Helper:
    """One ``consent.<name>(...)`` function: receives the template context when called."""

    __slots__ = ("_func", "_name")

    def __init__(self, name: str, func: Callable[..., Any]) -> None:
        self._name = name
        self._func = func

    @jinja2.pass_context
    def __call__(self, context: Context, *args: Any) -> Any:
        return self._func(consent_from_context(context), *args)

    def __bool__(self) -> NoReturn:
        raise TypeError(f"consent.{self._name} is a function: call it, e.g. consent.{self._name}(...)")

    def __repr__(self) -> str:
        return f"<consentkit template helper consent.{self._name}>"


def _allows(consent: Consent | None, category: str, service: str | None = None) -> bool:
    return consent is not None and consent.allows(category, service)


def _decided(consent: Consent | None) -> bool:
    return consent is not None and consent.decided


def _choices(consent: Consent | None) -> dict[str, bool]:
    return consent.choices if consent is not None else {}


def _current(consent: Consent | None) -> Consent | None:
    return consent


@jinja2.pass_context
def _cookie_declaration(context: Context, lang: str | None = None) -> Markup:
    """The cookie declaration table, in ``lang`` or the request's language (empty without
    ConsentMiddleware in front of the app)."""
    scope = _scope(context)
    policy = policy_from_scope(scope) if scope is not None else None
    if policy is None:
        return Markup("")
    if lang is None and scope is not None:
        header = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"")
        lang = negotiate(header.decode("latin-1"), policy.languages)
    return Markup(cookie_declaration_html(policy, lang))  # noqa: S704 - every text in it is escaped


class ConsentHelpers:
    """The ``consent`` template global installed by :func:`install`."""

    __slots__ = ("allows", "choices", "cookie_declaration", "current", "decided")

    def __init__(self) -> None:
        #: ``consent.allows("analytics")``: whether the category may be used for this visitor;
        #: ``consent.allows("analytics", "hotjar")`` for one of its services.
        self.allows = _Helper("allows", _allows)
        #: ``consent.decided()``: whether the visitor has answered every optional category.
        self.decided = _Helper("decided", _decided)
        #: ``consent.choices()``: every category of the policy, true or false (``{}`` without consent).
        self.choices = _Helper("choices", _choices)
        #: ``consent.current()``: the :class:`~consentkit.Consent` itself, or ``None``.
        self.current = _Helper("current", _current)
        #: ``consent.cookie_declaration()``: the table of every cookie the policy declares.
        self.cookie_declaration = _cookie_declaration

    def __bool__(self) -> NoReturn:
        raise TypeError('test a category instead: consent.allows("analytics") or consent.decided()')

    def __repr__(self) -> str:
        return "<consentkit template helpers: consent.allows(), decided(), choices(), current()>"


def install(env: jinja2.Environment) -> None:
    """Add the ``consent`` global to ``env`` (for example ``Jinja2Templates(...).env``)."""
    env.globals["consent"] = ConsentHelpers()
