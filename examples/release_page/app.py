"""Demo site for consentkit: a human-rights news release in English and French that carries tracker tags.

The app has no consent logic of its own: the caller wraps it in ``ConsentMiddleware``. It is
loaded by path (``create_app`` is the only public name) and finds its templates and static
files next to this file. The first-party analytics endpoint only counts hits in memory, so
``GET /collect/stats`` shows, offline, whether anything was collected.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from consentkit import Policy, cookie_declaration_html

__all__ = ["create_app"]

HERE: Final = Path(__file__).resolve().parent
TEMPLATES_DIR: Final = HERE / "templates"
STATIC_DIR: Final = HERE / "static"

Lang = Literal["en", "fr"]
PageName = Literal["release", "privacy"]

LANGS: Final[tuple[Lang, ...]] = ("en", "fr")
PAGES: Final[tuple[PageName, ...]] = ("release", "privacy")

#: Request bodies larger than this are refused (413): the forms and the beacon are tiny.
MAX_BODY: Final = 4096
#: Distinct paths counted by /collect; further paths are counted under ``OTHER_PATHS``.
MAX_PATHS: Final = 200
MAX_PATH_LENGTH: Final = 200
OTHER_PATHS: Final = "(other)"

_PLACEHOLDER: Final = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")
_EMAIL_RE: Final = re.compile(r"[^@\s<>\"']{1,64}@[^@\s<>\"']{1,255}\.[^@\s<>\"'.]{2,63}")


class _Template:
    """An HTML template with ``{{ name }}`` placeholders; values go in as given, so escape them first."""

    def __init__(self, name: str, text: str) -> None:
        """Parse ``text``; a ``{{`` that does not open a placeholder is an error."""
        if "{{" in _PLACEHOLDER.sub("", text):
            raise ValueError(f"template {name!r}: malformed {{{{ placeholder }}}}")
        self.name = name
        self.text = text
        self.names = frozenset(_PLACEHOLDER.findall(text))

    def substitute(self, values: Mapping[str, str]) -> str:
        """The template with every placeholder replaced; a missing value is an error."""
        missing = self.names - values.keys()
        if missing:
            raise KeyError(f"template {self.name!r}: no value for {', '.join(sorted(missing))}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.text)


class _PageText(NamedTuple):
    """The per-page strings of the document head."""

    title: str
    description: str


_PAGE_TEXT: Final[Mapping[tuple[PageName, Lang], _PageText]] = {
    ("release", "en"): _PageText(
        "International Criminal Court: Justice at Risk | Human Rights Watch",
        "Member States Should Use Annual Meeting to Defend Court",
    ),
    ("release", "fr"): _PageText(
        "Cour pénale internationale\u00a0: la justice en danger | Human Rights Watch",
        "Les États membres devraient profiter de leur réunion annuelle pour défendre la Cour",
    ),
    ("privacy", "en"): _PageText(
        "Privacy Policy | Human Rights Watch",
        "How this site uses cookies and similar technologies, and how to change your choice.",
    ),
    ("privacy", "fr"): _PageText(
        "Politique de confidentialité | Human Rights Watch",
        "Comment ce site utilise les cookies et technologies similaires, et comment modifier votre choix.",
    ),
}

#: Text of the parts every page shares (header, promo, newsletter, footer), per language.
_CHROME: Final[Mapping[Lang, Mapping[str, str]]] = {
    "en": {
        "skip": "Skip to main content",
        "home": "home",
        "language": "Language",
        "available_in": "Available In",
        "donate": "DONATE NOW",
        "promo_title": "Protecting Rights, Saving Lives",
        "promo_text": (
            "Human Rights Watch defends the rights of people in close to 100 countries worldwide, "
            "spotlighting abuses and bringing perpetrators to justice"
        ),
        "newsletter_title": "Get Updates On Rights Issues Worldwide",
        "email_label": "Email address",
        "email_placeholder": "Enter an email address",
        "sign_up": "Sign Up",
        "email_invalid": "Please enter a valid email address.",
        "privacy_notice": "Privacy notice",
        "privacy_notice_text": "how we use your email address",
        "demo_notice": (
            "Demonstration site: it mirrors a public Human Rights Watch news release to show consentkit, "
            "a cookie-consent library. It is not affiliated with or endorsed by Human Rights Watch."
        ),
        "thanks_title": "Thank you for signing up!",
        "thanks_text": "This is a demo site: {email} was not stored and you will not receive any email.",
        "notice_thanks": "Thank you for signing up for updates.",
        "connect": "Connect With Us",
        "on": "Human Rights Watch on",
        "footer_nav": "Footer",
        "contact": "Contact Us",
        "corrections": "Corrections",
        "privacy": "Privacy Policy",
        "permissions": "Permissions",
        "site_map": "Site Map",
        "child_safeguarding": "Child Safeguarding",
        "text_version": "Text Version",
    },
    "fr": {
        "skip": "Aller au contenu principal",
        "home": "accueil",
        "language": "Langue",
        "available_in": "Disponible en",
        "donate": "FAIRE UN DON",
        "promo_title": "Protéger les droits, sauver des vies",
        "promo_text": (
            "Human Rights Watch défend les droits des personnes dans près de 100\u00a0pays à travers le "
            "monde, en dénonçant les abus et en traduisant leurs auteurs en justice"
        ),
        "newsletter_title": "Recevez nos actualités sur les droits humains dans le monde",
        "email_label": "Adresse e-mail",
        "email_placeholder": "Saisissez une adresse e-mail",
        "sign_up": "S’inscrire",
        "email_invalid": "Veuillez saisir une adresse e-mail valide.",
        "privacy_notice": "Avis de confidentialité",
        "privacy_notice_text": "comment nous utilisons votre adresse e-mail",
        "demo_notice": (
            "Site de démonstration\u00a0: il reproduit un communiqué public de Human Rights Watch pour "
            "présenter consentkit, une bibliothèque de consentement aux cookies. Il n’est ni affilié à "
            "Human Rights Watch ni approuvé par elle."
        ),
        "thanks_title": "Merci pour votre inscription\u00a0!",
        "thanks_text": (
            "Ceci est un site de démonstration\u00a0: {email} n’a pas été enregistrée et vous ne recevrez "
            "aucun e-mail."
        ),
        "notice_thanks": "Merci pour votre inscription à nos actualités.",
        "connect": "Suivez-nous",
        "on": "Human Rights Watch sur",
        "footer_nav": "Pied de page",
        "contact": "Nous contacter",
        "corrections": "Corrections",
        "privacy": "Politique de confidentialité",
        "permissions": "Autorisations",
        "site_map": "Plan du site",
        "child_safeguarding": "Protection de l’enfance",
        "text_version": "Version texte",
    },
}


def _path(page: PageName, lang: Lang) -> str:
    """The URL path of ``page`` in ``lang``."""
    prefix = "" if lang == "en" else "/fr"
    if page == "release":
        return prefix or "/"
    return f"{prefix}/privacy"


class _Newsletter(NamedTuple):
    """What the newsletter box shows: the form (maybe with an error) or a thank-you."""

    email: str = ""
    error: bool = False
    thanks: bool = False


class _Site:
    """The page templates, loaded once, and the rendering of full pages."""

    def __init__(self, templates_dir: Path) -> None:
        """Load every template under ``templates_dir``."""
        files = sorted(templates_dir.glob("*.html"))
        self._templates = {p.stem: _Template(p.stem, p.read_text(encoding="utf-8")) for p in files}

    def _fill(self, name: str, **values: str) -> str:
        """Substitute ``values`` (already HTML) into template ``name``; a missing value is an error."""
        return self._templates[name].substitute(values)

    def _newsletter(self, page: PageName, lang: Lang, state: _Newsletter) -> str:
        """The newsletter box."""
        t = _CHROME[lang]
        if state.thanks:
            return self._fill(
                "newsletter_thanks",
                title=html.escape(t["newsletter_title"]),
                thanks_title=html.escape(t["thanks_title"]),
                thanks_text=html.escape(t["thanks_text"]).replace(
                    "{email}", f"<strong>{html.escape(state.email)}</strong>"
                ),
            )
        error = ""
        if state.error:
            message = html.escape(t["email_invalid"])
            error = f'<p class="newsletter__error" id="newsletter-error">{message}</p>'
        return self._fill(
            "newsletter_form",
            title=html.escape(t["newsletter_title"]),
            email_label=html.escape(t["email_label"]),
            placeholder=html.escape(t["email_placeholder"]),
            sign_up=html.escape(t["sign_up"]),
            email=html.escape(state.email),
            invalid=' aria-invalid="true"' if state.error else "",
            describedby="newsletter-error newsletter-privacy-note"
            if state.error
            else "newsletter-privacy-note",
            error=error,
            lang=lang,
            page=page,
            privacy_notice=html.escape(t["privacy_notice"]),
            privacy_notice_text=html.escape(t["privacy_notice_text"]),
            privacy_href=_path("privacy", lang) + "#newsletter-privacy",
        )

    def render(
        self,
        page: PageName,
        lang: Lang,
        newsletter: _Newsletter | None = None,
        declaration: str = "",
        *,
        nonce: str = "",
    ) -> str:
        """The full HTML document of ``page`` in ``lang``: ``declaration`` is the cookie table (HTML),
        ``nonce`` goes on its inline scripts (CSP)."""
        state = newsletter or _Newsletter()
        t = _CHROME[lang]
        text = _PAGE_TEXT[page, lang]
        home = _path("release", lang)
        notice = ""
        if state.thanks:
            notice = f'<p class="notice" role="status">{html.escape(t["notice_thanks"])}</p>'
        chrome = {f"t_{key}": html.escape(value) for key, value in t.items()}
        return self._fill(
            "layout",
            **chrome,
            lang=lang,
            page=page,
            title=html.escape(text.title),
            og_title=html.escape(text.title.rsplit(" | ", 1)[0]),
            og_type="article" if page == "release" else "website",
            og_locale="en_US" if lang == "en" else "fr_FR",
            description=html.escape(text.description),
            home_href=home,
            donate_href="#donate" if page == "release" else f"{home}#donate",
            privacy_href=_path("privacy", lang),
            href_en=_path(page, "en"),
            href_fr=_path(page, "fr"),
            current_en=' aria-current="true"' if lang == "en" else "",
            current_fr=' aria-current="true"' if lang == "fr" else "",
            notice=notice,
            nonce=html.escape(nonce),
            content=self._fill(f"{page}.{lang}", cookie_declaration=declaration),
            newsletter=self._newsletter(page, lang, state),
        )


def _nonce(request: Request) -> str:
    """The CSP nonce SecurityHeaders made for this request."""
    return str(getattr(request.state, "csp_nonce", ""))


async def _read_body(request: Request) -> bytes | None:
    """The request body, or ``None`` if it is larger than ``MAX_BODY``."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _declaration(request: Request, lang: Lang) -> str:
    """The cookie table consentkit generates from the policy in front of this app ("" without one)."""
    policy = request.scope.get("state", {}).get("consent_policy")
    if not isinstance(policy, Policy):
        return ""
    return cookie_declaration_html(policy, lang)


def _page(page: PageName, lang: Lang) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that renders ``page`` in ``lang``."""

    async def endpoint(request: Request) -> Response:
        """Render the page."""
        site: _Site = request.app.state.site
        return HTMLResponse(
            site.render(page, lang, declaration=_declaration(request, lang), nonce=_nonce(request))
        )

    endpoint.__name__ = f"{page}_{lang}"
    return endpoint


async def newsletter(request: Request) -> Response:
    """Pretend to sign up for the newsletter: re-render the page with a thank-you, storing nothing."""
    body = await _read_body(request)
    if body is None:
        return Response("Request body too large", status_code=413, media_type="text/plain")
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    lang_field = fields.get("lang", ["en"])[0]
    page_field = fields.get("page", ["release"])[0]
    lang: Lang = "fr" if lang_field == "fr" else "en"
    page: PageName = "privacy" if page_field == "privacy" else "release"
    email = fields.get("email", [""])[0].strip()[:320]
    site: _Site = request.app.state.site
    headers = {"Cache-Control": "no-store"}
    if not _EMAIL_RE.fullmatch(email):
        state = _Newsletter(email=email, error=True)
        return HTMLResponse(
            site.render(page, lang, state, _declaration(request, lang), nonce=_nonce(request)),
            status_code=400,
            headers=headers,
        )
    thanks = _Newsletter(email=email, thanks=True)
    return HTMLResponse(
        site.render(page, lang, thanks, _declaration(request, lang), nonce=_nonce(request)), headers=headers
    )


async def collect(request: Request) -> Response:
    """Count one first-party analytics hit for the JSON body's ``path``; nothing else is kept."""
    body = await _read_body(request)
    if body is None:
        return Response(status_code=413)
    try:
        data = json.loads(body)
    except ValueError:
        return Response(status_code=400)
    path = data.get("path") if isinstance(data, dict) else None
    if not isinstance(path, str) or not path.startswith("/"):
        return Response(status_code=400)
    path = path[:MAX_PATH_LENGTH]
    hits: Counter[str] = request.app.state.hits
    if path not in hits and len(hits) >= MAX_PATHS:
        path = OTHER_PATHS
    hits[path] += 1
    return Response(status_code=204)


async def collect_stats(request: Request) -> Response:
    """The hits counted so far: ``{"hits": total, "paths": {path: count}}``."""
    hits: Counter[str] = request.app.state.hits
    return JSONResponse(
        {"hits": hits.total(), "paths": dict(sorted(hits.items()))}, headers={"Cache-Control": "no-store"}
    )


#: The demo's Content-Security-Policy: strict (no inline code without the page's nonce, no inline
#: style at all), with the two third parties its tags load once a visitor allows them.
CSP: Final = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}' https://www.googletagmanager.com https://connect.facebook.net; "
    "style-src 'self'; "
    "img-src 'self' https://www.facebook.com https://*.google-analytics.com https://*.googletagmanager.com; "
    "connect-src 'self' https://*.google-analytics.com https://*.analytics.google.com "
    "https://*.googletagmanager.com https://www.facebook.com; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (
        b"permissions-policy",
        b"camera=(), microphone=(), geolocation=(), interest-cohort=(), browsing-topics=()",
    ),
)


class SecurityHeaders:
    """Pure ASGI middleware: a fresh CSP nonce per request (``request.state.csp_nonce``), the
    Content-Security-Policy using it, and the usual security headers (HSTS over https only)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", CSP.format(nonce=nonce).encode("ascii")))
                headers.extend(SECURITY_HEADERS)
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app() -> Starlette:
    """The demo site, without any middleware: the caller adds ``ConsentMiddleware``."""
    routes: list[BaseRoute] = [Route(_path(p, lang), _page(p, lang)) for p in PAGES for lang in LANGS]
    routes += [
        Route("/newsletter", newsletter, methods=["POST"]),
        Route("/collect", collect, methods=["POST"]),
        Route("/collect/stats", collect_stats),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.site = _Site(TEMPLATES_DIR)
    app.state.hits = Counter()
    return app
