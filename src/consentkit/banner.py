"""Server-rendered markup: the banner, the settings page, placeholders and small notes.

Every text comes from the policy and is HTML-escaped. Markup is rendered once per
(language, variant) and kept; a request only joins the cached pieces with its own
``next`` path and CSP nonce.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import re
import string
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import Final
from urllib.parse import quote

from .consent import Consent
from .declaration import cookie_declaration_html
from .policy import Messages, Policy
from .rewrite import Rule
from .schema import CONSENT_MODE_TYPES
from .translations import is_rtl

__all__ = ["Renderer", "static_asset"]

_NEXT: Final = "\x00N\x00"
_NONCE: Final = "\x00C\x00"
_SLOTS: Final = re.compile("(\x00[NC]\x00)")


@cache
def static_asset(name: str) -> bytes:
    """A file shipped in ``consentkit/static`` (CSS and the small scripts)."""
    data = files("consentkit").joinpath("static", name).read_bytes()
    if name.endswith(".css"):
        text = re.sub(r"/\*.*?\*/", "", data.decode("utf-8"), flags=re.S)
        text = re.sub(r"\s*\n\s*", "", text)
        data = text.encode("utf-8")
    return data


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Escape ``template`` and put already-escaped ``values`` in its ``{placeholders}``."""
    out = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        out.append(_e(literal))
        if name is not None:
            value = values.get(name, "")
            if name == "privacy_policy" and spec:
                value = values.get("privacy_policy:" + spec, value)
            out.append(value)
    return "".join(out)


class _Template:
    """Markup with ``next`` and ``nonce`` slots, pre-split so a request only joins bytes."""

    def __init__(self, markup: str, encoding: str) -> None:
        self.parts = [p.encode(encoding, "xmlcharrefreplace") for p in _SLOTS.split(markup)]

    def render(self, next_url: bytes, nonce: bytes) -> bytes:
        parts = self.parts
        if len(parts) == 1:
            return parts[0]
        out = []
        for part in parts:
            if part == b"\x00N\x00":
                out.append(next_url)
            elif part == b"\x00C\x00":
                out.append(nonce)
            else:
                out.append(part)
        return b"".join(out)


def nonce_attr(nonce: str | None) -> bytes:
    return b' nonce="' + _e(nonce).encode("ascii", "xmlcharrefreplace") + b'"' if nonce else b""


def allow_form_id(category: str) -> str:
    """The id of the hidden form that grants ``category`` from an embed placeholder."""
    return "ck-allow-" + category


def escape_url(url: str) -> bytes:
    return _e(url).encode("ascii", "xmlcharrefreplace")


def _dir(lang: str) -> str:
    """``dir="rtl"`` for a right-to-left language (the layout mirrors with it), else nothing."""
    return ' dir="rtl"' if is_rtl(lang) else ""


def _button(action: str, text: str) -> str:
    return f'<button class="ck-btn" type="submit" name="action" value="{action}">{_e(text)}</button>'


def _hidden(next_value: str, lang: str, version: str) -> str:
    """The hidden fields of every decision form; ``version`` is the policy the visitor was shown."""
    return (
        f'<input type="hidden" name="next" value="{next_value}">'
        f'<input type="hidden" name="lang" value="{_e(lang)}">'
        f'<input type="hidden" name="version" value="{_e(version)}">'
    )


class Renderer:
    """Renders consentkit's markup for one policy, caching every piece it can."""

    def __init__(self, policy: Policy, prefix: str) -> None:
        self.policy = policy
        self.prefix = prefix
        theme = "".join(
            f"--ck-{key.replace('_', '-')}:{value};" for key, value in policy.banner.theme.items()
        )
        base = static_asset("consentkit.css").decode("utf-8")
        banner = static_asset("banner.css").decode("utf-8")
        if theme:
            base += ".ck-embed,.ck-manage,.ck-status{" + theme + "}"
            banner += "#consentkit-banner,.ck-settings,.ck-skip{" + theme + "}"
        #: All of consentkit's CSS (banner, settings page, notes, placeholders), served as one
        #: same-origin stylesheet so that pages carry a link instead of a ``<style>`` block and a
        #: ``style-src 'self'`` policy needs no nonce.
        self.css = base + banner
        self.css_bytes = self.css.encode("ascii", "xmlcharrefreplace")
        digest = hashlib.sha256(self.css_bytes).hexdigest()[:16]
        #: The stylesheet's file name under the prefix: content-hashed, so it can be cached forever.
        self.stylesheet_name = f"consentkit.{digest}.css"
        self.css_gzip = gzip.compress(self.css_bytes, compresslevel=9, mtime=0)
        self._cache: dict[tuple[object, ...], _Template] = {}
        self.notice_hashes = {lang: self._notice_hash(lang) for lang in policy.texts}
        self._notice_cache: dict[tuple[str, str, str], str] = {}

    # --- helpers ---

    def _template(self, key: tuple[object, ...], build: str) -> _Template:
        template = self._cache.get(key)
        if template is None:
            encoding = "utf-8" if key[-1] == "utf-8" else "ascii"
            template = _Template(build, encoding)
            if len(self._cache) < 512:
                self._cache[key] = template
        return template

    def _action(self, root_path: str) -> str:
        return _e(root_path + self.prefix)

    def _body(self, msgs: Messages) -> str:
        values: dict[str, str] = {}
        url = msgs.privacy_policy_url
        if url:
            values["privacy_policy"] = f'<a href="{_e(url)}">{_e(msgs.privacy_policy)}</a>'
            for _, name, spec, _ in string.Formatter().parse(msgs.body):
                if name == "privacy_policy" and spec:
                    values["privacy_policy:" + spec] = f'<a href="{_e(url)}">{_e(spec)}</a>'
        return _fill(msgs.body, values)

    def stylesheet_url(self, root_path: str = "") -> str:
        return f"{root_path}{self.prefix}/{self.stylesheet_name}"

    def stylesheet(self, root_path: str = "", nonce: str | None = None) -> bytes:
        """The ``<link rel="stylesheet">`` for what consentkit injects (allowed in ``<body>``)."""
        return (
            b'<link rel="stylesheet" href="'
            + escape_url(self.stylesheet_url(root_path))
            + b'"'
            + nonce_attr(nonce)
            + b">"
        )

    def _service_choices(self, msgs: Messages, name: str, excluded: frozenset[str]) -> str:
        """The services of an optional category, each with its own checkbox (on unless turned off)."""
        category = self.policy.categories[name]
        boxes = []
        for key, svc in category.services.items():
            sid = f"ck-s-{_e(name)}-{_e(key)}"
            state = "" if key in excluded else " checked"
            label = _e(svc.label_in(msgs.language, key))
            boxes.append(
                f'<div class="ck-svc"><input type="checkbox" id="{sid}" name="services"'
                f' value="{_e(name)}:{_e(key)}"{state}><label for="{sid}">{label}</label></div>'
            )
        legend = f"{_e(msgs.services)}: {_e(msgs.category_labels[name])}"
        return (
            f'<fieldset class="ck-services"><legend>{legend}</legend>'
            f'<input type="hidden" name="listed" value="{_e(name)}">{"".join(boxes)}</fieldset>'
        )

    def _category_rows(
        self,
        msgs: Messages,
        checked: frozenset[str],
        *,
        services: bool,
        excluded: Mapping[str, frozenset[str]] | None = None,
    ) -> str:
        """One labelled checkbox per category; required ones shown checked and disabled. With
        ``services``, each optional category's services get their own checkboxes (per-service choice)."""
        rows = []
        for name, category in self.policy.categories.items():
            cid = f"ck-c-{_e(name)}"
            desc = msgs.category_descriptions[name]
            extra = f'<p class="ck-desc" id="{cid}-d">{_e(desc)}</p>' if desc else ""
            names = (
                ", ".join(svc.label_in(msgs.language, key) for key, svc in category.services.items())
                if services
                else ""
            )
            if names and not category.required:
                extra += self._service_choices(msgs, name, (excluded or {}).get(name, frozenset()))
            elif names:
                extra += f'<p class="ck-services">{_e(msgs.services)}: {_e(names)}</p>'
            described = f' aria-describedby="{cid}-d"' if desc else ""
            label = _e(msgs.category_labels[name])
            if category.required:
                control = f'<input type="checkbox" id="{cid}" checked disabled{described}>'
                label = f"{label} ({_e(msgs.always_on)})"
            else:
                state = " checked" if name in checked else ""
                control = (
                    f'<input type="checkbox" id="{cid}" name="categories" value="{_e(name)}"'
                    f"{state}{described}>"
                )
            rows.append(f'<div class="ck-cat">{control}<label for="{cid}">{label}</label>{extra}</div>')
        return "".join(rows)

    def _vendors(self, msgs: Messages) -> str:
        """Who is behind each optional category, on the first layer: vendor names (a service of
        the site's own by its label), one short line per category."""
        lines = []
        for name in self.policy.optional_categories:
            who: list[str] = []
            for key, svc in self.policy.categories[name].services.items():
                vendor = svc.vendor.name if svc.vendor is not None else svc.label_in(msgs.language, key)
                if vendor not in who:
                    who.append(vendor)
            if who:
                label = _e(msgs.category_labels[name])
                lines.append(f"<li><span>{label}:</span> {_e(', '.join(who))}</li>")
        return f'<ul class="ck-vendors">{"".join(lines)}</ul>' if lines else ""

    # --- the banner ---

    def _banner_markup(
        self,
        lang: str,
        root_path: str,
        gpc_note: bool,
        checked: frozenset[str],
        changed: tuple[str, ...] = (),
    ) -> str:
        msgs = self.policy.messages(lang)
        action = self._action(root_path)
        hidden = _hidden(_NEXT, lang, self.policy.version)
        gpc = f'<p class="ck-gpc" role="status">{_e(msgs.gpc_honored)}</p>' if gpc_note else ""
        if changed:
            labels = ", ".join(msgs.category_labels.get(c, c) for c in changed)
            gpc += f'<p class="ck-changed">{_fill(msgs.changed, {"categories": _e(labels)})}</p>'
        url = msgs.privacy_policy_url
        # The body may link the privacy policy itself: then the link is not repeated beside the buttons.
        linked = "{privacy_policy" in msgs.body
        policy_link = ""
        if url and not linked:
            policy_link = f'<a class="ck-policy" href="{_e(url)}">{_e(msgs.privacy_policy)}</a>'
        script = _e(root_path + self.prefix) + "/banner.js"
        return (
            f'<section id="consentkit-banner" class="ck" aria-labelledby="ck-title"'
            f' lang="{_e(lang)}"{_dir(lang)}'
            f' data-saved="{_e(msgs.saved)}" data-nosnippet><div class="ck-in">'
            f'<form method="post" action="{action}">{hidden}'
            f'<h2 id="ck-title">{_e(msgs.title)}</h2><p id="ck-body">{self._body(msgs)}</p>'
            f"{gpc}"
            # Accept and Decline share one grid: the same size at every width and in every language.
            f'<div class="ck-row"><div class="ck-choices">{_button("accept_all", msgs.accept)}'
            f"{_button('reject_all', msgs.decline)}</div>"
            # Who is behind each category comes after the choices, which must stay on screen at 320 px.
            f"{policy_link}</div>{self._vendors(msgs)}</form>"
            f"<details><summary>{_e(msgs.settings)}</summary>"
            f'<form method="post" action="{action}">{hidden}'
            f"<fieldset><legend>{_e(msgs.settings)}</legend>"
            f"{self._category_rows(msgs, checked, services=False)}</fieldset>"
            f"{_button('save', msgs.save)}</form></details></div>"
            f'<script src="{script}" defer{_NONCE}></script></section>'
        )

    def banner(
        self,
        lang: str,
        *,
        next_url: str,
        root_path: str = "",
        nonce: str | None = None,
        gpc_note: bool = False,
        checked: Iterable[str] = (),
        encoding: str = "ascii",
        changed: tuple[str, ...] = (),
    ) -> bytes:
        """The banner for ``lang``; ``next_url`` is where the visitor returns after deciding.

        ``changed`` names categories asked about again because what is behind them changed.
        """
        checked_set = frozenset(checked)
        key = ("banner", lang, root_path, gpc_note, checked_set, changed, encoding)
        template = self._cache.get(key) or self._template(
            key, self._banner_markup(lang, root_path, gpc_note, checked_set, changed)
        )
        return template.render(escape_url(next_url), nonce_attr(nonce))

    def _notice_hash(self, lang: str) -> str:
        markup = self._banner_markup(lang, "", False, frozenset())
        markup = markup.replace(_NEXT, "").replace(_NONCE, "")
        return hashlib.sha256(markup.encode("utf-8")).hexdigest()

    def notice(self, lang: str) -> str:
        """The banner exactly as hashed into ``notice_hash`` (for audits)."""
        return self._banner_markup(lang, "", False, frozenset()).replace(_NEXT, "").replace(_NONCE, "")

    def channel_notice(self, channel: str, lang: str) -> str:
        """The words a visitor was shown on ``channel`` (the audit record's ``channel``), as hashed
        into its ``notice_hash``: the banner (also for ``api``), its Global Privacy Control variant
        (``browser_signal``), the settings page, or every embed placeholder (``embed``)."""
        if channel == "browser_signal":
            markup = self._banner_markup(lang, "", True, frozenset())
        elif channel == "settings":
            markup = self.settings_content(lang, Consent.undecided(self.policy), next_url="")
        elif channel == "embed":
            markup = "\n".join(
                (
                    self.placeholder_open(lang, Rule(name, svc.label or key), None, None, next_url="")
                    + self.placeholder_close()
                ).decode("ascii")
                for name in self.policy.optional_categories
                for key, svc in self.policy.categories[name].services.items()
            )
        else:
            return self.notice(lang)
        return markup.replace(_NEXT, "").replace(_NONCE, "")

    def channel_notice_hash(self, channel: str, lang: str) -> str:
        """``notice_hash`` for a decision made on ``channel`` in ``lang`` (cached)."""
        key = ("notice-hash", channel, lang)
        cached = self._notice_cache.get(key)
        if cached is None:
            cached = hashlib.sha256(self.channel_notice(channel, lang).encode("utf-8")).hexdigest()
            self._notice_cache[key] = cached
        return cached

    def all_notices(self) -> dict[str, str]:
        """Every notice text this renderer can show, by hash (stored once each in the audit store)."""
        notices = {}
        for lang in self.policy.texts:
            for channel in ("banner", "browser_signal", "settings", "embed"):
                notices[self.channel_notice_hash(channel, lang)] = self.channel_notice(channel, lang)
        return notices

    # --- small pieces ---

    def skip_link(self, lang: str, encoding: str = "ascii") -> bytes:
        msgs = self.policy.messages(lang)
        key = ("skip", lang, encoding)
        template = self._cache.get(key)
        if template is None:
            markup = (
                f'<a class="ck-skip" href="#consentkit-banner" lang="{_e(lang)}"{_dir(lang)}>'
                f"{_e(msgs.skip_link)}</a>"
            )
            template = self._template(key, markup)
        return template.render(b"", b"")

    def settings_control(
        self, lang: str, next_url: str, root_path: str = "", encoding: str = "ascii"
    ) -> bytes:
        """The persistent link to the settings page carried by every page once a choice exists."""
        msgs = self.policy.messages(lang)
        key = ("manage", lang, root_path, encoding)
        template = self._cache.get(key)
        if template is None:
            href = _e(root_path + self.prefix) + "/settings?next=" + _NEXT + "&amp;lang=" + _e(quote(lang))
            markup = (
                f'<p class="ck-manage" lang="{_e(lang)}"{_dir(lang)} data-nosnippet>'
                f'<a href="{href}">{_e(msgs.settings_link)}</a></p>'
            )
            template = self._template(key, markup)
        return template.render(escape_url(quote(next_url, safe="/")), b"")

    def status(self, lang: str, message: str, encoding: str = "ascii") -> bytes:
        """A polite status note (``role=status``): choices saved, opt-out signal honoured."""
        msgs = self.policy.messages(lang)
        key = ("status", lang, message, encoding)
        template = self._cache.get(key)
        if template is None:
            text = _e(getattr(msgs, message))
            kind = " ck-saved" if message == "saved" else ""
            template = self._template(
                key,
                f'<p class="ck-status{kind}" role="status" lang="{_e(lang)}"{_dir(lang)} data-nosnippet>'
                f"{text}</p>",
            )
        return template.render(b"", b"")

    def placeholder_open(
        self,
        lang: str,
        rule: Rule,
        width: str | None,
        height: str | None,
        *,
        next_url: str,
        root_path: str = "",
        encoding: str = "ascii",
    ) -> bytes:
        """A box standing in for a blocked embed, with a button that grants its category.

        Phrasing content only (spans, an SVG sizer, an ``<input>`` button whose form is among
        ``placeholder_forms``), so it fits wherever the iframe was (in a ``<p>``, ``<a>`` or
        ``<button>``) without reshaping the page, and no ``style=`` (strict CSP): the embed's
        size comes from the sizer's width/height attributes.
        """
        msgs = self.policy.messages(lang)
        label = msgs.category_labels.get(rule.category, rule.category)
        text = _fill(msgs.embed_blocked, {"service": _e(rule.service), "category": _e(label)})
        button = _fill(msgs.embed_allow, {"category": _e(label)})
        sizer = ""
        if width and height and width.endswith("px") and height.endswith("px"):
            w, h = width[:-2], height[:-2]
            sizer = (
                f'<svg class="ck-embed-size" viewBox="0 0 {w} {h}" width="{w}" height="{h}"'
                ' aria-hidden="true" focusable="false"></svg>'
            )
        markup = (
            f'<span class="ck-embed" data-consentkit-placeholder="{_e(rule.category)}"'
            f' lang="{_e(lang)}"{_dir(lang)} data-saved="{_e(msgs.saved)}">{sizer}'
            f'<span class="ck-embed-in"><span class="ck-embed-text">{text}</span>'
            f'<input class="ck-btn" type="submit" form="{_e(allow_form_id(rule.category))}" value="{button}">'
            "</span>"
        )
        return _Template(markup, encoding).render(b"", b"")

    @staticmethod
    def placeholder_close() -> bytes:
        return b"</span>"

    def placeholder_forms(
        self,
        lang: str,
        categories: Iterable[str],
        *,
        next_url: str,
        root_path: str = "",
        encoding: str = "ascii",
    ) -> bytes:
        """The hidden forms placeholders' buttons submit (one per category, placed where the
        body starts: a ``<form>`` where the iframe was would end an open ``<p>``)."""
        cats = tuple(sorted(categories))
        key = ("allow", lang, root_path, cats, encoding)
        template = self._cache.get(key)
        if template is None:
            msgs = self.policy.messages(lang)
            markup = "".join(
                f'<form id="{_e(allow_form_id(cat))}" class="ck-allow" method="post"'
                f' action="{self._action(root_path)}" hidden="" data-consentkit-allow=""'
                f' data-saved="{_e(msgs.saved)}">'
                f"{_hidden(_NEXT, lang, self.policy.version)}"
                f'<input type="hidden" name="categories" value="{_e(cat)}">'
                '<input type="hidden" name="action" value="embed"></form>'
                for cat in cats
            )
            template = self._template(key, markup)
        return template.render(escape_url(next_url), b"")

    def consent_mode(self, consent: Consent, root_path: str, nonce: str | None) -> bytes:
        """The script tag that sets Google Consent Mode defaults from the visitor's choices."""
        granted = consent_mode_granted(self.policy, consent)
        bits = "".join("1" if t in granted else "0" for t in CONSENT_MODE_TYPES)
        src = f"{root_path}{self.prefix}/consent-mode.js?g={bits}"
        return b'<script src="' + escape_url(src) + b'"' + nonce_attr(nonce) + b"></script>"

    def activate_script(self, root_path: str, nonce: str | None) -> bytes:
        src = f"{root_path}{self.prefix}/activate.js"
        return b'<script src="' + escape_url(src) + b'" defer' + nonce_attr(nonce) + b"></script>"

    def settings_content(
        self,
        lang: str,
        consent: Consent,
        *,
        next_url: str,
        root_path: str = "",
        saved: bool = False,
    ) -> str:
        """The settings page's own part (``<main id="consentkit-settings">``), to stand alone or
        to be wrapped in the site's layout; it starts with the stylesheet link."""
        msgs = self.policy.messages(lang)
        action = self._action(root_path)
        checked = frozenset(c for c in self.policy.optional_categories if consent.allows(c))
        cats = self._category_rows(msgs, checked, services=True, excluded=consent.excluded)
        if consent.has_choice and consent.decided_at is not None:
            current = _fill(msgs.current_choice, {"date": _e(consent.decided_at.strftime("%Y-%m-%d"))})
        else:
            current = _e(msgs.no_choice_yet)
        notes = ""
        if saved:
            notes += f'<p class="ck-status" role="status">{_e(msgs.saved)}</p>'
        if consent.signal_denied:
            notes += f'<p class="ck-gpc">{_e(msgs.gpc_honored)}</p>'
        withdraw = "withdraw" if consent.granted else "reject_all"
        return (
            f'<link rel="stylesheet" href="{_e(self.stylesheet_url(root_path))}">'
            f'<main id="consentkit-settings" class="ck-settings" aria-labelledby="ck-title"'
            f' lang="{_e(lang)}"{_dir(lang)}>'
            f'<h1 id="ck-title">{_e(msgs.settings_title)}</h1>{notes}'
            f"<p>{_e(msgs.settings_intro)}</p><p>{current}</p><p>{self._body(msgs)}</p>"
            f'<form method="post" action="{action}">{_hidden(_e(next_url), lang, self.policy.version)}'
            '<input type="hidden" name="channel" value="settings">'
            f"<fieldset><legend>{_e(msgs.settings)}</legend>{cats}</fieldset>"
            # Save comes first: it is the button Enter on a checkbox submits with.
            f'<div class="ck-row">{_button("save", msgs.save)}{_button("accept_all", msgs.accept)}'
            f"{_button(withdraw, msgs.decline)}</div></form>"
            f"{cookie_declaration_html(self.policy, lang, heading_level=2)}"
            f'<p><a href="{_e(next_url)}">{_e(msgs.back)}</a></p></main>'
        )

    def settings_page(
        self,
        lang: str,
        consent: Consent,
        *,
        next_url: str,
        root_path: str = "",
        saved: bool = False,
    ) -> bytes:
        """The full settings page (``GET /_consent/settings``): works without JavaScript."""
        msgs = self.policy.messages(lang)
        content = self.settings_content(lang, consent, next_url=next_url, root_path=root_path, saved=saved)
        markup = (
            f'<!DOCTYPE html><html lang="{_e(lang)}"{_dir(lang)}><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{_e(msgs.settings_title)}</title>'
            f"</head><body>{content}</body></html>"
        )
        return markup.encode("utf-8")


def consent_mode_granted(policy: Policy, consent: Consent) -> frozenset[str]:
    """Consent Mode types granted: those listed by a category the visitor allows."""
    granted: set[str] = set()
    for name, category in policy.categories.items():
        if consent.allows(name):
            granted.update(category.consent_mode)
    return frozenset(granted)


def consent_mode_script(bits: str) -> bytes:
    """The body of ``consent-mode.js`` for a ``g=`` parameter of seven 0/1 digits."""
    states = ",".join(
        f"{name}:'{'granted' if bit == '1' else 'denied'}'"
        for name, bit in zip(CONSENT_MODE_TYPES, bits, strict=True)
    )
    return (
        "window.dataLayer=window.dataLayer||[];"
        "window.gtag=window.gtag||function(){dataLayer.push(arguments);};"
        f"gtag('consent','default',{{{states}}});"
    ).encode("ascii")
