"""``{% load consentkit %}``: ``{% consentkit_banner %}`` and ``{% if consent|allows:"analytics" %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from ..django import banner

register = template.Library()


def consentkit_banner(context: Any, lang: str | None = None, nonce: str | None = None) -> SafeString:
    """The banner, byte for byte as ConsentMiddleware would inject it; ``lang`` is the page's language,
    ``nonce`` its CSP nonce (default: django-csp's ``request.csp_nonce``)."""
    request = getattr(context, "request", None) or context.get("request")
    return banner(request, lang=lang, nonce=nonce)


def allows(consent: Any, category: str) -> bool:
    """``{% if consent|allows:"analytics" %}``: raises for a category the policy does not define."""
    return bool(consent.allows(category))


register.simple_tag(consentkit_banner, takes_context=True)
register.filter("allows", allows)
