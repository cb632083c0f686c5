"""Django: ``ConsentMiddleware(get_asgi_application(), ...)``; templates read the decision via a context processor.

Settings are configured in-process (this module is also the URLconf and holds the context
processor), the way ``docs/integrations/django.md`` lays them out in a project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("django")

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from starlette.middleware.gzip import GZipMiddleware

from consentkit import Consent, ConsentMiddleware, Policy

from ..conftest import KEY, client_for, decide
from . import BANNER, GTAG, check_contract

pytestmark = pytest.mark.anyio

BASE_HTML = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Django</title>'
    "{% block head %}{% endblock %}</head><body>{% block content %}{% endblock %}</body></html>"
)
PAGE_HTML = (
    '{% extends "base.html" %}{% block head %}' + GTAG + "{% endblock %}"
    "{% block content %}<h1>Django</h1>"
    "<p>{% if consent.choices.analytics %}analytics=True{% else %}analytics=False{% endif %}</p>"
    "{% if not consent.decided %}<p>undecided</p>{% endif %}"
    "{% for i in filler %}<p>Some text long enough to be worth compressing.</p>{% endfor %}"
    "{% endblock %}"
)


# --- what a project has: a context processor and views ----------------------------------------


def consent(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``consent`` in every template (``None`` when the middleware is not in front)."""
    scope = getattr(request, "scope", None) or {}
    return {"consent": scope.get("state", {}).get("consent")}


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "page.html", {"filler": range(20)})


async def api(request: ASGIRequest) -> HttpResponse:
    current: Consent = request.scope["state"]["consent"]
    return JsonResponse({"analytics": current.allows("analytics"), "choices": current.choices})


urlpatterns = [path("", home), path("api/consent", api)]


@pytest.fixture(scope="module")
def django_app() -> Any:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-test-secret-key-not-for-production-0123456789",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            TEMPLATES=[
                {
                    "BACKEND": "django.template.backends.django.DjangoTemplates",
                    "OPTIONS": {
                        "loaders": [
                            (
                                "django.template.loaders.locmem.Loader",
                                {"base.html": BASE_HTML, "page.html": PAGE_HTML},
                            )
                        ],
                        "context_processors": [f"{__name__}.consent"],
                    },
                }
            ],
        )
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


async def test_contract(django_app: Any, policy: Policy, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    await check_contract(ConsentMiddleware(django_app, policy, secret_keys=[KEY], audit_path=audit), audit)


async def test_views_and_templates_read_the_same_decision(
    django_app: Any, policy: Policy, tmp_path: Path
) -> None:
    app = ConsentMiddleware(django_app, policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl")
    async with client_for(app) as client:
        assert "<p>undecided</p>" in (await client.get("/")).text
        await decide(client, "save", ("analytics",))
        page = (await client.get("/")).text
        assert "analytics=True" in page and "<p>undecided</p>" not in page
        data = (await client.get("/api/consent")).json()
    assert data == {"analytics": True, "choices": {"necessary": True, "analytics": True, "marketing": False}}


async def test_without_the_middleware_templates_see_no_consent(django_app: Any) -> None:
    async with client_for(django_app) as client:
        page = (await client.get("/")).text
    assert "analytics=False" in page
    assert "consentkit-banner" not in page


async def test_compression_wrapped_around_consentkit(django_app: Any, policy: Policy, tmp_path: Path) -> None:
    """Django's own GZipMiddleware would compress before consentkit sees the page (no banner, no blocking)."""
    app = GZipMiddleware(
        ConsentMiddleware(django_app, policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    )
    async with client_for(app) as client:
        response = await client.get("/", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.count(BANNER) == 1
    assert "googletagmanager" not in response.text
