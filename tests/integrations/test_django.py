"""Django: ``ConsentMiddleware(get_asgi_application(), ...)`` plus ``consentkit.django``.

Settings are configured in-process (this module is also the URLconf), the way
``docs/integrations/django.md`` lays them out in a project: ``"consentkit"`` in INSTALLED_APPS
(template tags), ``consentkit.django.middleware`` (``request.consent``) and
``consentkit.django.context_processor`` (``consent`` in templates).
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
from django.template.loader import render_to_string
from django.urls import path
from starlette.middleware.gzip import GZipMiddleware

from consentkit import Consent, ConsentMiddleware, Policy, parse_policy
from consentkit.django import consent_cookie, make_consent, settings_layout

from ..conftest import KEY, POLICY_YAML, client_for, decide
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


# --- what a project has: views and templates


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "page.html", {"filler": range(20)})


async def api(request: ASGIRequest) -> HttpResponse:
    current: Consent = request.scope["state"]["consent"]
    return JsonResponse({"analytics": current.allows("analytics"), "choices": current.choices})


def view(request: HttpRequest) -> HttpResponse:
    """A sync view reading ``request.consent`` (set by consentkit.django.middleware)."""
    consent = request.consent  # type: ignore[attr-defined]
    return JsonResponse(
        {"decided": consent.decided, "analytics": consent.allows("analytics"), "choices": consent.choices}
    )


async def async_view(request: HttpRequest) -> HttpResponse:
    consent = request.consent  # type: ignore[attr-defined]
    return JsonResponse({"decided": consent.decided, "analytics": consent.allows("analytics")})


def tagged(request: HttpRequest) -> HttpResponse:
    context = {"lang": request.GET.get("lang", "en")}
    if request.headers.get("x-test-mode") == "tag":
        # the tag's output alone, as text: the middleware leaves non-HTML alone
        return HttpResponse(render_to_string("banner_only.txt", context, request), content_type="text/plain")
    return render(request, "tagged.html", context)


urlpatterns = [
    path("", home),
    path("api/consent", api),
    path("view", view),
    path("async-view", async_view),
    path("tagged", tagged),
]

TAGGED_HTML = (
    '{% load consentkit %}<!DOCTYPE html><html lang="{{ lang }}"><head><title>t</title></head><body>'
    '<p id="a">{% if consent|allows:"analytics" %}analytics on{% else %}analytics off{% endif %}</p>'
    '<p id="d">{% if consent.decided %}decided{% else %}undecided{% endif %}</p></body></html>'
)
BANNER_ONLY = "{% load consentkit %}{% consentkit_banner lang=lang %}"
SETTINGS_HTML = (
    '{% extends "base.html" %}{% block content %}<header id="site">Site</header>'
    '{{ consentkit_settings }}<p id="t">{{ title }}</p>{% endblock %}'
)


@pytest.fixture(scope="module")
def django_app() -> Any:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-test-secret-key-not-for-production-0123456789",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=["consentkit"],
            MIDDLEWARE=["consentkit.django.middleware"],
            CONSENTKIT_POLICY=parse_policy(POLICY_YAML),
            CONSENTKIT_SECRET_KEYS=[KEY],
            TEMPLATES=[
                {
                    "BACKEND": "django.template.backends.django.DjangoTemplates",
                    "OPTIONS": {
                        "loaders": [
                            (
                                "django.template.loaders.locmem.Loader",
                                {
                                    "base.html": BASE_HTML,
                                    "page.html": PAGE_HTML,
                                    "tagged.html": TAGGED_HTML,
                                    "banner_only.txt": BANNER_ONLY,
                                    "settings.html": SETTINGS_HTML,
                                },
                            )
                        ],
                        "context_processors": ["consentkit.django.context_processor"],
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


# --- consentkit.django ---------------------------------------------------------------------------


def test_request_consent_without_the_asgi_wrapper_is_undecided_not_an_error(django_app: Any) -> None:
    from django.test import Client

    client = Client()
    data = client.get("/view").json()
    assert data == {
        "decided": False,
        "analytics": False,
        "choices": {"necessary": True, "analytics": False, "marketing": False},
    }
    page = client.get("/tagged").content.decode()
    assert "analytics off" in page and "undecided" in page
    assert client.get("/tagged", headers={"x-test-mode": "tag"}).content == b""  # no middleware, no banner


async def test_request_consent_with_the_async_test_client(django_app: Any) -> None:
    from django.test import AsyncClient

    client = AsyncClient()
    assert (await client.get("/async-view")).json() == {"decided": False, "analytics": False}
    client.cookies.load(consent_cookie(["analytics"]))
    assert (await client.get("/async-view")).json() == {"decided": True, "analytics": True}


def test_giving_a_test_request_a_consent(django_app: Any) -> None:
    """The documented ways: a consent cookie for Client, make_consent for RequestFactory."""
    from django.test import Client, RequestFactory

    client = Client()
    client.cookies.load(consent_cookie(["analytics"]))
    assert client.get("/view").json()["choices"] == {"necessary": True, "analytics": True, "marketing": False}
    assert "analytics on" in client.get("/tagged").content.decode()

    request = RequestFactory().get("/view")
    request.consent = make_consent(["marketing"])
    assert view(request).content == b'{"decided": true, "analytics": false, "choices": ' + (
        b'{"necessary": true, "analytics": false, "marketing": true}}'
    )
    with pytest.raises(ValueError, match="unknown consent category"):
        make_consent(["analytcs"])


def test_the_allows_filter_rejects_an_unknown_category(django_app: Any) -> None:
    from django.template import engines

    template = engines["django"].from_string(
        '{% load consentkit %}{% if consent|allows:"analytcs" %}x{% endif %}'
    )
    with pytest.raises(ValueError, match="analytcs"):
        template.render({"consent": make_consent([])})


async def test_through_the_wrapper_request_consent_is_the_middlewares(
    django_app: Any, policy: Policy, tmp_path: Path
) -> None:
    app = ConsentMiddleware(django_app, policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl")
    async with client_for(app) as client:
        assert (await client.get("/view")).json()["decided"] is False
        await decide(client, "save", ("analytics",))
        assert (await client.get("/view")).json()["analytics"] is True
        assert "analytics on" in (await client.get("/tagged")).text


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/tagged", {}),
        ("/tagged?lang=fr", {}),
        ("/tagged", {"sec-gpc": "1"}),
    ],
)
async def test_the_banner_tag_renders_exactly_what_the_middleware_injects(
    django_app: Any, policy: Policy, tmp_path: Path, url: str, headers: dict[str, str]
) -> None:
    import re

    app = ConsentMiddleware(django_app, policy, secret_keys=[KEY], audit_path=tmp_path / "audit.jsonl")
    async with client_for(app) as client:
        page = (await client.get(url, headers=headers)).text
        tag = (await client.get(url, headers={**headers, "x-test-mode": "tag"})).text
    injected = re.findall(r'<section id="consentkit-banner".*?</section>', page, re.S)
    assert len(injected) == 1
    assert tag == injected[0]
    assert tag.startswith('<section id="consentkit-banner"')


async def test_the_settings_page_in_a_django_layout(django_app: Any, policy: Policy, tmp_path: Path) -> None:
    app = ConsentMiddleware(
        django_app,
        policy,
        secret_keys=[KEY],
        audit_path=tmp_path / "audit.jsonl",
        settings_layout=settings_layout("settings.html"),
    )
    async with client_for(app) as client:
        text = (await client.get("/_consent/settings?lang=fr&next=/tagged")).text
    assert '<header id="site">Site</header>' in text and 'id="consentkit-settings"' in text
    assert "googletagmanager" not in text  # base.html's head block is empty here; blocking still runs
    assert '<p id="t">' in text and "Refuser" in text
