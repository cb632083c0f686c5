"""The consent policy: categories, services, texts and settings, validated once at start-up.

Load one from YAML with :func:`load_policy`, or build :class:`Policy` directly in Python.
Either way every fault is reported at once as a :class:`PolicyError` naming the key at fault
(and, for files, the line and column).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import os
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from os import PathLike, fspath
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from .catalog import CATALOG_KEY, expand_services
from .schema import CONSENT_MODE_TYPES, THEME_KEYS, Mark, PolicyError, Problem, read_yaml
from .texts import (
    BUILTIN,
    BUILTIN_CATEGORIES,
    BUILTIN_CORE,
    OPTIONAL_TEXTS,
    REQUIRED_PLACEHOLDERS,
    REQUIRED_TEXTS,
)

__all__ = [
    "AuditSettings",
    "BannerSettings",
    "Blocking",
    "Category",
    "CategoryText",
    "Controller",
    "CookieInfo",
    "CookieSettings",
    "Messages",
    "Policy",
    "PolicyError",
    "Service",
    "Signals",
    "Texts",
    "Vendor",
    "load_policy",
    "localized",
]

MAX_AGE_LIMIT_DAYS = 395  # 13 months: the longest consent lifetime European regulators accept

_HOST_RE = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_COOKIE_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_COOKIE_GLOB_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z?\[\]]+$")
_DURATION_RE = re.compile(r"^(session|[1-9][0-9]{0,3} (second|minute|hour|day|week|month|year)s?)$")
_DOMAIN_RE = re.compile(r"^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
# Theme values go into a CSS custom property: colours and simple functions only, nothing that can
# close the declaration or the style element.
_CSS_VALUE_RE = re.compile(r"^[#A-Za-z0-9(),.%\s/-]{1,64}$")


def _tuple(values: Iterable[str] | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def _frozen_map(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


def _texts(value: str | Mapping[str, str] | None) -> Mapping[str, str]:
    """A text given once (for every language, key ``*``) or per language."""
    if value is None:
        return MappingProxyType({})
    if isinstance(value, str):
        return MappingProxyType({"*": value})
    return MappingProxyType(dict(value))


def localized(texts: Mapping[str, str], language: str, default: str = "en") -> str | None:
    """The text for ``language``: exact, then its base language, the one for every language,
    the ``default`` language's, English, or any; ``None`` when there is none."""
    if not texts:
        return None
    base = language.split("-", 1)[0]
    for key in (language, base, "*", default, default.split("-", 1)[0], "en"):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()))


@dataclass(frozen=True)
class CookieInfo:
    """What the cookie declaration says about one cookie a service sets."""

    name: str
    #: ``session`` or a number and unit: ``2 years``, ``13 months``, ``30 minutes``.
    duration: str | None = None
    #: Why it is set: one text for every language, or per language.
    purpose: Mapping[str, str] = field(default_factory=dict)
    #: ``first`` when set on the site's own domain, ``third`` when set by the vendor's domain.
    party: Literal["first", "third"] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "purpose", _texts(self.purpose))


@dataclass(frozen=True)
class Vendor:
    """Who runs a service: legal name, country (ISO 3166 code) and privacy policy."""

    name: str
    country: str | None = None
    privacy_policy_url: str | None = None


@dataclass(frozen=True)
class Service:
    """A third party (or first-party tool) whose tags and cookies belong to one category.

    ``cookies`` lists names and globs (what blocking matches); ``cookie_info`` has one entry
    per cookie with what the declaration shows (filled in for plain names).
    """

    hosts: tuple[str, ...] = ()
    inline: tuple[str, ...] = ()
    cookies: tuple[str, ...] = ()
    label: str | None = None
    #: The label per language (``label`` is the one used where no language applies).
    labels: Mapping[str, str] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    cookie_info: tuple[CookieInfo, ...] = ()
    vendor: Vendor | None = None
    consent_mode: tuple[str, ...] = ()
    #: The catalog entry the service was taken from, if any.
    catalog: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hosts", tuple(h.lower() for h in _tuple(self.hosts)))
        object.__setattr__(self, "inline", _tuple(self.inline))
        # Third-party cookies live on the vendor's domain: declared, but never matched against
        # (or expired from) the site's own cookies, where the same name may mean something else.
        info = {c.name: c for c in self.cookie_info}
        names = list(_tuple(self.cookies))
        names += [n for n, c in info.items() if n not in names and c.party != "third"]
        declared = [info.get(n) or CookieInfo(n) for n in names]
        declared += [c for n, c in info.items() if n not in names]
        object.__setattr__(self, "cookies", tuple(names))
        object.__setattr__(self, "cookie_info", tuple(declared))
        object.__setattr__(self, "labels", _texts(self.labels))
        if self.label is None and self.labels:
            object.__setattr__(self, "label", localized(self.labels, "en"))
        object.__setattr__(self, "description", _texts(self.description))
        object.__setattr__(self, "consent_mode", _tuple(self.consent_mode))

    def label_in(self, language: str, name: str) -> str:
        """The service's label in ``language`` (``name`` when it has none)."""
        return localized(self.labels, language) or self.label or name


@dataclass(frozen=True)
class Category:
    """A purpose visitors consent to (or, when ``required``, one that is always on)."""

    required: bool = False
    services: Mapping[str, Service] = field(default_factory=dict)
    gpc: Literal["deny", "ignore"] = "ignore"
    consent_mode: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "services", _frozen_map(self.services))
        object.__setattr__(self, "consent_mode", _tuple(self.consent_mode))


@dataclass(frozen=True)
class CategoryText:
    """How one category is named and explained in one language."""

    label: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Texts:
    """The banner's texts in one language, as written in the policy (``None``: not given)."""

    title: str | None = None
    body: str | None = None
    accept: str | None = None
    decline: str | None = None
    settings: str | None = None
    save: str | None = None
    privacy_policy: str | None = None
    categories: Mapping[str, CategoryText] = field(default_factory=dict)
    privacy_policy_url: str | None = None
    necessary_label: str | None = None
    necessary_description: str | None = None
    always_on: str | None = None
    settings_link: str | None = None
    settings_title: str | None = None
    settings_intro: str | None = None
    current_choice: str | None = None
    no_choice_yet: str | None = None
    saved: str | None = None
    gpc_honored: str | None = None
    skip_link: str | None = None
    embed_blocked: str | None = None
    embed_allow: str | None = None
    back: str | None = None
    services: str | None = None
    changed: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", _frozen_map(self.categories))


@dataclass(frozen=True)
class Messages:
    """Every text of the banner in one language, with fallbacks already applied."""

    language: str
    title: str
    body: str
    accept: str
    decline: str
    settings: str
    save: str
    privacy_policy: str
    privacy_policy_url: str | None
    necessary_label: str
    necessary_description: str
    always_on: str
    settings_link: str
    settings_title: str
    settings_intro: str
    current_choice: str
    no_choice_yet: str
    saved: str
    gpc_honored: str
    skip_link: str
    embed_blocked: str
    embed_allow: str
    back: str
    services: str
    changed: str
    category_labels: Mapping[str, str]
    category_descriptions: Mapping[str, str]
    #: Keys this language did not give and took from another language (for ``consentkit check``).
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class CookieSettings:
    """Attributes of the consent cookie."""

    name: str = "consentkit"
    max_age_days: int = 180
    same_site: Literal["lax", "strict", "none"] = "lax"
    secure: Literal["auto"] | bool = "auto"
    domain: str | None = None
    http_only: bool = True


@dataclass(frozen=True)
class Blocking:
    """How tags of denied categories are neutralised: removed, or kept inert until consent."""

    mode: Literal["remove", "inert"] = "remove"


@dataclass(frozen=True)
class AuditSettings:
    """Where consent decisions are recorded, how much of the visitor's IP is kept, for how long,
    and how many decisions one address may record per minute."""

    url: str | None = None
    path: str | None = None
    ip: Literal["omit", "truncate", "hash"] = "truncate"
    fsync: bool = True
    log: bool = True
    retention_days: int | None = None
    rate_limit_per_minute: int = 600
    checkpoint_minutes: int = 5


#: The audit store used when the policy names none (and CONSENTKIT_AUDIT_URL is unset).
DEFAULT_AUDIT_FILE = "consentkit-audit.db"


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the processing (GDPR Art. 4(7)): named in every audit record."""

    name: str
    contact: str


@dataclass(frozen=True)
class Signals:
    """Which browser privacy signals are honoured."""

    gpc: bool = True
    dnt: Literal["ignore", "deny"] = "ignore"
    gpc_last_update: str | None = None


@dataclass(frozen=True)
class BannerSettings:
    """Presentation options: the persistent settings control, colour theme and paths left alone."""

    settings_control: bool = True
    theme: Mapping[str, str] = field(default_factory=dict)
    #: Path globs (``/admin/*``) whose pages get nothing added; blocking still applies.
    exclude_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "theme", _frozen_map(self.theme))
        object.__setattr__(self, "exclude_paths", _tuple(self.exclude_paths))


@dataclass(frozen=True)
class Policy:
    """A complete, validated consent policy.

    Construction validates everything; an invalid policy raises :class:`PolicyError`.
    """

    version: str
    categories: Mapping[str, Category]
    texts: Mapping[str, Texts]
    default_language: str = "en"
    privacy_policy_url: str | None = None
    cookie: CookieSettings = field(default_factory=CookieSettings)
    blocking: Blocking = field(default_factory=Blocking)
    audit: AuditSettings = field(default_factory=AuditSettings)
    controller: Controller | None = None
    signals: Signals = field(default_factory=Signals)
    banner: BannerSettings = field(default_factory=BannerSettings)
    #: The file the policy was read from, if any (paths in it are relative to its folder).
    source: str | None = field(default=None, compare=False)
    _messages: Mapping[str, Messages] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", str(self.version))
        object.__setattr__(self, "categories", _frozen_map(self.categories))
        object.__setattr__(self, "texts", _frozen_map(self.texts))
        problems = list(_check(self))
        if problems:
            raise PolicyError(problems)
        resolved = {lang: _resolve_messages(self, lang) for lang in self.texts}
        object.__setattr__(self, "_messages", MappingProxyType(resolved))

    # --- queries used across the package ---

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the banner can be shown in, default first."""
        rest = [lang for lang in self.texts if lang != self.default_language]
        return (self.default_language, *rest)

    def messages(self, language: str) -> Messages:
        """All texts for ``language`` (the default language if the policy lacks it)."""
        return self._messages.get(language) or self._messages[self.default_language]

    @property
    def optional_categories(self) -> tuple[str, ...]:
        """Categories a visitor decides on (every category that is not ``required``)."""
        return tuple(name for name, cat in self.categories.items() if not cat.required)

    @property
    def required_categories(self) -> tuple[str, ...]:
        return tuple(name for name, cat in self.categories.items() if cat.required)

    def category_of_cookie(self, name: str) -> str | None:
        """The category whose services declare cookie ``name`` (exact name or glob), if any."""
        for cat_name, cat in self.categories.items():
            for service in cat.services.values():
                for pattern in service.cookies:
                    if pattern == name or fnmatch.fnmatchcase(name, pattern):
                        return cat_name
        return None

    def audit_path(self) -> Path | None:
        """The audit file, resolved against the policy file's folder."""
        if self.audit.path is None:
            return None
        path = Path(self.audit.path).expanduser()
        if not path.is_absolute() and self.source is not None:
            path = Path(self.source).parent / path
        return path

    def audit_target(self) -> tuple[str | None, str]:
        """Where decisions are recorded, and which setting says so.

        ``audit.url``, else ``audit.path``, else the ``CONSENTKIT_AUDIT_URL`` environment
        variable, else a SQLite file ``consentkit-audit.db`` next to the policy file (or in the
        working directory). ``audit.url: log`` means the ``consentkit.audit`` logger only (None).
        Relative SQLite paths are relative to the policy file's folder.
        """
        base = Path(self.source).parent if self.source is not None else Path.cwd()
        url = self.audit.url
        if url == "log":
            return None, "audit.url"
        if url is not None:
            if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
                url = "sqlite:///" + str((base / url[len("sqlite:///") :]).absolute())
            return url, "audit.url"
        path = self.audit_path()
        if path is not None:
            return str(path), "audit.path"
        env = os.environ.get("CONSENTKIT_AUDIT_URL", "").strip()
        if env:
            return env, "CONSENTKIT_AUDIT_URL"
        return "sqlite:///" + str((base / DEFAULT_AUDIT_FILE).absolute()), "default"

    def gpc_last_update(self) -> str | None:
        """``lastUpdate`` for ``/.well-known/gpc.json``: configured, else the version if it is a date."""
        candidate = self.signals.gpc_last_update or self.version
        try:
            return _dt.date.fromisoformat(candidate[:10]).isoformat()
        except ValueError:
            return None

    def with_changes(self, **changes: Any) -> Policy:
        """A copy with some top-level fields replaced (validated again)."""
        return replace(self, **changes)


# --- validation -------------------------------------------------------------------------------


def _placeholders(template: str) -> set[str] | None:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return None


def _check_template(path: str, template: str, allowed: frozenset[str]) -> Iterable[Problem]:
    found = _placeholders(template)
    if found is None:
        yield Problem(path, "unbalanced braces: write {{ and }} for literal braces")
        return
    unknown = sorted(found - allowed)
    if unknown:
        hint = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
        yield Problem(path, f"unknown placeholder {{{unknown[0]}}} (allowed here: {hint})")


def _check_url(path: str, url: str) -> Iterable[Problem]:
    if not re.match(r"^(https?://[^\s<>\"']+|/[^\s<>\"']*)$", url):
        yield Problem(path, "must be a site path starting with / or an http(s) URL")


def _check(policy: Policy) -> Iterable[Problem]:
    if not policy.version.strip():
        yield Problem("version", "must not be empty")
    cookie = policy.cookie
    if not _COOKIE_NAME_RE.match(cookie.name):
        yield Problem("cookie.name", f"{cookie.name!r} is not a valid cookie name")
    if not 1 <= cookie.max_age_days <= MAX_AGE_LIMIT_DAYS:
        yield Problem(
            "cookie.max_age_days",
            f"must be between 1 and {MAX_AGE_LIMIT_DAYS} (13 months), got {cookie.max_age_days}",
        )
    if cookie.same_site == "none" and cookie.secure is False:
        yield Problem("cookie.same_site", "same_site: none needs secure: true or auto (browsers reject it)")
    if cookie.domain is not None and not _DOMAIN_RE.match(cookie.domain):
        yield Problem("cookie.domain", f"{cookie.domain!r} is not a domain name")
    if policy.privacy_policy_url is not None:
        yield from _check_url("privacy_policy_url", policy.privacy_policy_url)

    if not policy.categories:
        yield Problem("categories", "define at least one category")
    for cat_name, cat in policy.categories.items():
        base = f"categories.{cat_name}"
        if not re.match(r"^[a-z][a-z0-9_-]*$", cat_name):
            yield Problem(base, "category names are lower-case letters, digits, - and _")
        if cat.required and cat.gpc == "deny":
            yield Problem(f"{base}.gpc", "a required category cannot be denied by a privacy signal")
        for mode in cat.consent_mode:
            if mode not in CONSENT_MODE_TYPES:
                yield Problem(f"{base}.consent_mode", f"unknown Consent Mode type {mode!r}")
        for svc_name, svc in cat.services.items():
            sbase = f"{base}.services.{svc_name}"
            for i, host in enumerate(svc.hosts):
                if not _HOST_RE.match(host):
                    yield Problem(
                        f"{sbase}.hosts[{i}]", f"{host!r} is not a host name (example.com or *.example.com)"
                    )
            for i, marker in enumerate(svc.inline):
                if len(marker.strip()) < 3:
                    yield Problem(f"{sbase}.inline[{i}]", "inline markers need at least 3 characters")
                elif not marker.isascii():
                    yield Problem(f"{sbase}.inline[{i}]", "inline markers must be ASCII")
            for i, cookie_name in enumerate(svc.cookies):
                if not _COOKIE_GLOB_RE.match(cookie_name):
                    yield Problem(f"{sbase}.cookies[{i}]", f"{cookie_name!r} is not a cookie name or glob")
                elif cookie_name == policy.cookie.name:
                    yield Problem(f"{sbase}.cookies[{i}]", "this is consentkit's own cookie")
            for i, info in enumerate(svc.cookie_info):
                if info.duration is not None and not _DURATION_RE.match(info.duration):
                    yield Problem(
                        f"{sbase}.cookies[{i}]",
                        f"duration {info.duration!r}: write session, or a number and a unit "
                        "(seconds, minutes, hours, days, weeks, months, years), e.g. 13 months",
                    )
            if svc.vendor is not None and svc.vendor.privacy_policy_url is not None:
                yield from _check_url(f"{sbase}.vendor.privacy_policy_url", svc.vendor.privacy_policy_url)

    if not policy.texts:
        yield Problem("texts", "give the banner texts for at least the default language")
    elif policy.default_language not in policy.texts:
        yield Problem(
            "default_language",
            f"{policy.default_language!r} has no texts (texts are given for {', '.join(policy.texts)})",
        )
    for lang, texts in policy.texts.items():
        base = f"texts.{lang}"
        core = _builtin_core(texts, lang)
        for key in REQUIRED_TEXTS:
            value = getattr(texts, key)
            if value is None and key in core:
                continue
            if value is None or not value.strip():
                yield Problem(f"{base}.{key}", "required text is missing")
            else:
                yield from _check_template(f"{base}.{key}", value, REQUIRED_PLACEHOLDERS[key])
        for key, allowed in OPTIONAL_TEXTS.items():
            value = getattr(texts, key)
            if value is not None:
                yield from _check_template(f"{base}.{key}", value, allowed)
        body = texts.body or ""
        url = texts.privacy_policy_url or policy.privacy_policy_url
        if "{privacy_policy}" in body and url is None:
            yield Problem(f"{base}.body", "uses {privacy_policy} but no privacy_policy_url is set")
        if texts.privacy_policy_url is not None:
            yield from _check_url(f"{base}.privacy_policy_url", texts.privacy_policy_url)
        for cat_name in texts.categories:
            if cat_name not in policy.categories:
                known = ", ".join(policy.categories) or "none"
                yield Problem(
                    f"{base}.categories.{cat_name}",
                    f"category {cat_name!r} is not defined under categories (defined: {known})",
                )

    for i, glob in enumerate(policy.banner.exclude_paths):
        if not glob.startswith("/"):
            yield Problem(f"banner.exclude_paths[{i}]", f"{glob!r} is not a path glob: start it with /")
    for key, value in policy.banner.theme.items():
        if key not in THEME_KEYS:
            yield Problem(f"banner.theme.{key}", f"unknown theme colour (known: {', '.join(THEME_KEYS)})")
        elif not _CSS_VALUE_RE.match(value):
            yield Problem(f"banner.theme.{key}", f"{value!r} is not a plain CSS colour value")

    audit = policy.audit
    if not audit.log and audit.url == "log":
        yield Problem("audit.url", "records would go nowhere: `log` needs audit.log: true")
    if audit.url is not None and audit.path is not None:
        yield Problem("audit.path", "set audit.url or audit.path, not both")
    if (
        audit.url is not None
        and audit.url != "log"
        and not audit.url.startswith(("sqlite:///", "postgresql://", "postgres://", "file:"))
    ):
        yield Problem(
            "audit.url",
            f"expected sqlite:///FILE, postgresql://USER@HOST/DB, file:FILE or log, got {audit.url!r}",
        )
    if audit.retention_days is not None and audit.retention_days < 1:
        yield Problem("audit.retention_days", "must be at least 1 day")
    if audit.rate_limit_per_minute < 0:
        yield Problem("audit.rate_limit_per_minute", "must be 0 (no limit) or more")
    if audit.checkpoint_minutes < 0:
        yield Problem("audit.checkpoint_minutes", "must be 0 (after every write) or more")


def _builtin_core(texts: Texts, lang: str) -> dict[str, str]:
    """The built-in core texts, used only for a language that gives none of them itself
    (giving some but not all is more likely a mistake than a wish to mix)."""
    if any(getattr(texts, key) is not None for key in REQUIRED_TEXTS):
        return {}
    return BUILTIN_CORE.get(lang.split("-", 1)[0].lower(), {})


def _resolve_messages(policy: Policy, lang: str) -> Messages:
    own = policy.texts[lang]
    default = policy.texts[policy.default_language]
    builtin_own = BUILTIN.get(lang.split("-", maxsplit=1)[0].lower(), {})
    builtin_default = BUILTIN.get(policy.default_language.split("-")[0].lower(), {})
    fallbacks: list[str] = []
    values: dict[str, str] = {}
    core = _builtin_core(own, lang)
    for key in REQUIRED_TEXTS:
        values[key] = getattr(own, key) or core.get(key, "")
    for key in OPTIONAL_TEXTS:
        value = getattr(own, key)
        if value is None:
            value = builtin_own.get(key)
        if value is None:
            value = getattr(default, key) or builtin_default.get(key) or BUILTIN["en"][key]
            fallbacks.append(key)
        values[key] = value
    labels: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    builtin_cats = BUILTIN_CATEGORIES.get(lang.split("-", 1)[0].lower(), {})
    for cat_name, cat in policy.categories.items():
        own_text = own.categories.get(cat_name, CategoryText())
        default_text = default.categories.get(cat_name, CategoryText())
        builtin_text = builtin_cats.get(cat_name)
        if builtin_text is not None and default_text == CategoryText():
            # Built-in texts only for a category the policy describes in no language.
            own_text = CategoryText(
                own_text.label if own_text.label is not None else builtin_text[0],
                own_text.description if own_text.description is not None else builtin_text[1],
            )
        label = own_text.label
        if label is None:
            if cat.required:
                label = values["necessary_label"]
            elif default_text.label is not None:
                label = default_text.label
                fallbacks.append(f"categories.{cat_name}.label")
            else:
                label = cat_name.replace("_", " ").replace("-", " ").capitalize()
                fallbacks.append(f"categories.{cat_name}.label")
        description = own_text.description
        if description is None:
            if cat.required:
                description = values["necessary_description"]
            elif default_text.description is not None:
                description = default_text.description
                fallbacks.append(f"categories.{cat_name}.description")
            else:
                description = ""
        labels[cat_name] = label
        descriptions[cat_name] = description
    return Messages(
        language=lang,
        privacy_policy_url=own.privacy_policy_url or policy.privacy_policy_url,
        category_labels=MappingProxyType(labels),
        category_descriptions=MappingProxyType(descriptions),
        fallbacks=tuple(fallbacks),
        **values,
    )


# --- loading from YAML ------------------------------------------------------------------------


def _service(raw: Mapping[str, Any]) -> Service:
    """A :class:`Service` from policy (or catalog) data."""
    cookies = [CookieInfo(c) if isinstance(c, str) else CookieInfo(**dict(c)) for c in raw.get("cookies", ())]
    label = raw.get("label")
    vendor = raw.get("vendor")
    return Service(
        hosts=tuple(raw.get("hosts", ())),
        inline=tuple(raw.get("inline", ())),
        cookie_info=tuple(cookies),
        label=label if isinstance(label, str) else None,
        labels=label if isinstance(label, Mapping) else {},
        description=raw.get("description"),  # type: ignore[arg-type]  # normalised in __post_init__
        vendor=Vendor(**vendor) if vendor and "name" in vendor else None,
        consent_mode=tuple(raw.get("consent_mode", ())),
        catalog=raw.get(CATALOG_KEY),
    )


def _from_data(data: Mapping[str, Any], source: str | None) -> Policy:
    def sub(cls: type[Any], values: Mapping[str, Any] | None) -> Any:
        return cls(**(values or {}))

    data, problems = expand_services(data)
    if problems:
        raise PolicyError(problems)
    if "categories" not in data:
        raise PolicyError([Problem("categories", "define categories, or list services from the catalog")])
    categories = {
        name: Category(
            required=cat.get("required", False),
            gpc=cat.get("gpc", "ignore"),
            consent_mode=tuple(cat.get("consent_mode", ())),
            services={name: _service(svc) for name, svc in (cat.get("services") or {}).items()},
        )
        for name, cat in data["categories"].items()
    }
    texts = {}
    raw_texts = data.get("texts") or {data.get("default_language", "en"): {}}
    for lang, raw in raw_texts.items():
        values = dict(raw)
        values["categories"] = {c: CategoryText(**t) for c, t in (values.get("categories") or {}).items()}
        texts[lang] = Texts(**values)
    top = {f.name for f in fields(Policy)} - {"categories", "texts", "source", "_messages"}
    kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in top}
    for key, cls in (
        ("cookie", CookieSettings),
        ("blocking", Blocking),
        ("audit", AuditSettings),
        ("controller", Controller),
        ("signals", Signals),
        ("banner", BannerSettings),
    ):
        if key in data:
            kwargs[key] = sub(cls, data[key])
    return Policy(categories=categories, texts=texts, source=source, **kwargs)


def _locate(problems: Iterable[Problem], marks: Mapping[str, Mark], file: str) -> list[Problem]:
    located = []
    for problem in problems:
        path = problem.path
        mark = marks.get(path)
        while mark is None and path:
            if path.endswith("]"):
                path = path[: path.rindex("[")]
            else:
                path = path.rsplit(".", 1)[0] if "." in path else ""
            mark = marks.get(path)
        located.append(Problem(problem.path, problem.message, file, mark))
    return located


def load_policy(source: str | PathLike[str]) -> Policy:
    """Read and validate a YAML policy file; raises :class:`PolicyError` naming file, line and key."""
    file = fspath(source)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            [Problem("", f"cannot read the policy file: {exc.strerror or exc}", file)]
        ) from None
    except UnicodeDecodeError as exc:
        raise PolicyError([Problem("", f"the policy file is not UTF-8: {exc.reason}", file)]) from None
    return parse_policy(text, file)


def parse_policy(text: str, file: str = "<policy>") -> Policy:
    """Validate a policy given as YAML text (``file`` names it in errors)."""
    data, marks = read_yaml(text, file)
    try:
        return _from_data(data, file if file != "<policy>" else None)
    except PolicyError as exc:
        raise PolicyError(_locate(exc.problems, marks, file)) from None
