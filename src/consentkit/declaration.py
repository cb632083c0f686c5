"""The cookie declaration: every cookie the policy lets the site set, who sets it, why and for how long.

Generated from the policy (and the catalog behind it), so the privacy page cannot drift from
what is blocked. consentkit's own cookies are declared automatically. Served as
``GET /_consent/cookies`` (HTML or JSON), shown on the settings page, and available to
templates (:func:`cookie_declaration_html`; ``consentkit_cookie_declaration()`` in Jinja).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

from .policy import Policy, localized
from .translations import DECLARATION, is_rtl

__all__ = [
    "FLASH_SUFFIX",
    "DeclaredCookie",
    "cookie_declaration",
    "cookie_declaration_html",
    "cookie_declaration_json",
    "format_duration",
    "policy_from_scope",
]

#: consentkit's short-lived "choices saved" cookie is the consent cookie's name plus this.
FLASH_SUFFIX: Final = "_saved"
_FLASH_SECONDS: Final = 120

_DURATION: Final = re.compile(r"^([0-9]+) (second|minute|hour|day|week|month|year)s?$")

#: Words of the declaration per language: headings, units (singular, plural) and fixed texts.
_WORDS: Final[dict[str, dict[str, Any]]] = {
    "en": {
        "caption": "Cookies used on this site",
        "cookie": "Cookie",
        "provider": "Provider",
        "purpose": "Purpose",
        "duration": "Duration",
        "category": "Category",
        "service": "Service",
        "this_site": "This site",
        "first": "set on this site",
        "third": "set on the provider's site",
        "session": "Until the browser closes",
        "none": "This site sets no cookies.",
        "vendor_policy": "privacy policy of {provider}",
        "consent_purpose": "Remembers your cookie choice, signed so that it cannot be altered.",
        "flash_purpose": "Shows that your choice was saved, on the next page only.",
        "units": {
            "second": ("second", "seconds"),
            "minute": ("minute", "minutes"),
            "hour": ("hour", "hours"),
            "day": ("day", "days"),
            "week": ("week", "weeks"),
            "month": ("month", "months"),
            "year": ("year", "years"),
        },
    },
    "fr": {
        "caption": "Cookies utilisés sur ce site",
        "cookie": "Cookie",
        "provider": "Fournisseur",
        "purpose": "Finalité",
        "duration": "Durée",
        "category": "Catégorie",
        "service": "Service",
        "this_site": "Ce site",
        "first": "déposé sur ce site",
        "third": "déposé sur le site du fournisseur",
        "session": "Jusqu’à la fermeture du navigateur",
        "none": "Ce site ne dépose aucun cookie.",
        "vendor_policy": "politique de confidentialité de {provider}",
        "consent_purpose": (
            "Mémorise votre choix en matière de cookies, signé pour qu’il ne puisse être modifié."
        ),
        "flash_purpose": "Indique que votre choix a été enregistré, sur la page suivante uniquement.",
        "units": {
            "second": ("seconde", "secondes"),
            "minute": ("minute", "minutes"),
            "hour": ("heure", "heures"),
            "day": ("jour", "jours"),
            "week": ("semaine", "semaines"),
            "month": ("mois", "mois"),
            "year": ("an", "ans"),
        },
    },
}


_WORDS.update(DECLARATION)


def _language(policy: Policy, language: str | None) -> str:
    return language if language is not None and language in policy.texts else policy.default_language


def _words(language: str) -> dict[str, Any]:
    return _WORDS.get(language.split("-", 1)[0].lower(), _WORDS["en"])


def format_duration(duration: str | None, language: str) -> str:
    """``2 years`` in ``language`` (``2 ans``); ``session`` as words; empty when unknown."""
    if not duration:
        return ""
    words = _words(language)
    if duration == "session":
        return str(words["session"])
    found = _DURATION.match(duration)
    if found is None:
        return duration
    number = int(found.group(1))
    one, many = words["units"][found.group(2)]
    return f"{number} {one if number == 1 else many}"


@dataclass(frozen=True)
class DeclaredCookie:
    """One row of the declaration, in one language."""

    name: str
    provider: str
    purpose: str
    duration: str
    category: str
    #: The category's name in the policy (``analytics``), for grouping and styling.
    category_id: str
    service: str
    #: ``first`` (set on this site's domain), ``third`` (on the vendor's) or empty when unknown.
    party: str
    privacy_policy_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _own_cookies(policy: Policy, language: str) -> list[DeclaredCookie]:
    words = _words(language)
    required = policy.required_categories
    category_id = required[0] if required else "necessary"
    msgs = policy.messages(language)
    category = msgs.category_labels.get(category_id, msgs.necessary_label)
    days = policy.cookie.max_age_days
    provider = str(words["this_site"])

    def own(name: str, purpose: str, duration: str) -> DeclaredCookie:
        return DeclaredCookie(
            name=name,
            provider=provider,
            purpose=purpose,
            duration=format_duration(duration, language),
            category=category,
            category_id=category_id,
            service="consentkit",
            party="first",
            privacy_policy_url=msgs.privacy_policy_url,
        )

    return [
        own(policy.cookie.name, str(words["consent_purpose"]), f"{days} days"),
        own(
            policy.cookie.name + FLASH_SUFFIX, str(words["flash_purpose"]), f"{_FLASH_SECONDS // 60} minutes"
        ),
    ]


def cookie_declaration(policy: Policy, language: str | None = None) -> list[DeclaredCookie]:
    """Every declared cookie in ``language`` (the policy's default when not given): consentkit's
    own first, then each category's services in policy order."""
    lang = _language(policy, language)
    words = _words(lang)
    msgs = policy.messages(lang)
    rows = _own_cookies(policy, lang)
    for cat_name, category in policy.categories.items():
        for svc_name, service in category.services.items():
            label = service.label_in(lang, svc_name)
            vendor = service.vendor
            for info in service.cookie_info:
                # The vendor provides its cookies even when its script sets them on this site's domain.
                provider = vendor.name if vendor is not None else str(words["this_site"])
                rows.append(
                    DeclaredCookie(
                        name=info.name,
                        provider=provider,
                        purpose=localized(info.purpose, lang, policy.default_language) or "",
                        duration=format_duration(info.duration, lang),
                        category=msgs.category_labels[cat_name],
                        category_id=cat_name,
                        service=label,
                        party=info.party or "",
                        privacy_policy_url=vendor.privacy_policy_url if vendor is not None else None,
                    )
                )
    return rows


def cookie_declaration_json(policy: Policy, language: str | None = None) -> list[dict[str, Any]]:
    """The declaration as JSON-ready objects (``name``, ``provider``, ``purpose``, ``duration``,
    ``category``, ``category_id``, ``service``, ``party``, ``privacy_policy_url``)."""
    return [row.to_json() for row in cookie_declaration(policy, language)]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def cookie_declaration_html(policy: Policy, language: str | None = None, *, heading_level: int = 0) -> str:
    """The declaration as an HTML fragment: one table (with a caption), or a sentence when empty.

    ``heading_level`` (2 to 6) adds a heading above the table instead of relying on its caption.
    """
    lang = _language(policy, language)
    words = _words(lang)
    dir_attr = ' dir="rtl"' if is_rtl(lang) else ""
    rows = cookie_declaration(policy, lang)
    if not rows:
        return f'<p class="ck-decl" lang="{_e(lang)}"{dir_attr}>{_e(words["none"])}</p>'
    head = "".join(
        f'<th scope="col">{_e(words[key])}</th>'
        for key in ("cookie", "provider", "purpose", "duration", "category")
    )
    body = []
    for row in rows:
        provider = _e(row.provider)
        if row.party:
            provider += f" <small>({_e(words[row.party])})</small>"
        if row.privacy_policy_url and row.provider != words["this_site"]:
            label = str(words["vendor_policy"]).format(provider=row.provider)
            provider = (
                f'<a href="{_e(row.privacy_policy_url)}" rel="noopener" aria-label="{_e(label)}">'
                f"{_e(row.provider)}</a>" + provider[len(_e(row.provider)) :]
            )
        service = f"<br><small>{_e(row.service)}</small>" if row.service != row.provider else ""
        body.append(
            f'<tr data-category="{_e(row.category_id)}"><th scope="row"><code>{_e(row.name)}</code></th>'
            f"<td>{provider}{service}</td><td>{_e(row.purpose)}</td><td>{_e(row.duration)}</td>"
            f"<td>{_e(row.category)}</td></tr>"
        )
    heading = ""
    caption = f"<caption>{_e(words['caption'])}</caption>"
    if 2 <= heading_level <= 6:
        heading = f'<h{heading_level} id="ck-decl-title">{_e(words["caption"])}</h{heading_level}>'
        caption = ""
    labelled = ' aria-labelledby="ck-decl-title"' if heading else ""
    return (
        f'<div class="ck-decl" lang="{_e(lang)}"{dir_attr}>{heading}<div class="ck-decl-scroll">'
        f"<table{labelled}>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        "</table></div></div>"
    )


def policy_from_scope(scope: Mapping[str, Any]) -> Policy | None:
    """The policy ConsentMiddleware put in an ASGI scope's state, or ``None``."""
    state = scope.get("state")
    policy = state.get("consent_policy") if isinstance(state, Mapping) else None
    return policy if isinstance(policy, Policy) else None
