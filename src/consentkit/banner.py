"""Server-rendered markup: the banner, the settings page, placeholders and small notes.

Every text comes from the policy and is HTML-escaped. Markup is rendered once per
(language, variant) and kept; a request only joins the cached pieces with its own
``next`` path and CSP nonce.
"""

from __future__ import annotations

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
from .policy import Messages, Policy
from .rewrite import Rule
from .schema import CONSENT_MODE_TYPES

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


def _button(action: str, text: str) -> str:
    return f'<button class="ck-btn" type="submit" name="action" value="{action}">{_e(text)}</button>'


def _hidden(next_value: str, lang: str) -> str:
    return (
        f'<input type="hidden" name="next" value="{next_value}">'
        f'<input type="hidden" name="lang" value="{_e(lang)}">'
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
        #: CSS for what decided visitors see (settings control, notes, placeholders).
        self.css_base = base
        #: CSS for the banner and the settings page, on top of the base.
        self.css = base + banner
        self._css_bytes = self.css.encode("ascii", "xmlcharrefreplace")
        self._css_base_bytes = base.encode("ascii", "xmlcharrefreplace")
        self._cache: dict[tuple[object, ...], _Template] = {}
        self.notice_hashes = {lang: self._notice_hash(lang) for lang in policy.texts}

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

    def style(self, nonce: str | None, *, banner: bool = True) -> bytes:
        """The ``<style>`` for what consentkit injects: all of it, or only the base for decided visitors."""
        css = self._css_bytes if banner else self._css_base_bytes
        return b"<style" + nonce_attr(nonce) + b">" + css + b"</style>"

    def _category_rows(self, msgs: Messages, checked: frozenset[str], *, services: bool) -> str:
        """One labelled checkbox per category; required ones shown checked and disabled."""
        rows = []
        for name, category in self.policy.categories.items():
            cid = f"ck-c-{_e(name)}"
            desc = msgs.category_descriptions[name]
            extra = f'<p class="ck-desc" id="{cid}-d">{_e(desc)}</p>' if desc else ""
            names = ", ".join(svc.label or key for key, svc in category.services.items()) if services else ""
            if names:
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

    # --- the banner ---

    def _banner_markup(self, lang: str, root_path: str, gpc_note: bool, checked: frozenset[str]) -> str:
        msgs = self.policy.messages(lang)
        action = self._action(root_path)
        hidden = _hidden(_NEXT, lang)
        gpc = f'<p class="ck-gpc" role="status">{_e(msgs.gpc_honored)}</p>' if gpc_note else ""
        url = msgs.privacy_policy_url
        policy_link = f'<a class="ck-policy" href="{_e(url)}">{_e(msgs.privacy_policy)}</a>' if url else ""
        script = _e(root_path + self.prefix) + "/banner.js"
        return (
            f'<section id="consentkit-banner" class="ck" aria-labelledby="ck-title" lang="{_e(lang)}"'
            f' data-saved="{_e(msgs.saved)}" data-nosnippet><div class="ck-in">'
            f'<form method="post" action="{action}">{hidden}'
            f'<h2 id="ck-title">{_e(msgs.title)}</h2><p id="ck-body">{self._body(msgs)}</p>{gpc}'
            f'<div class="ck-row">{_button("accept_all", msgs.accept)}{_button("reject_all", msgs.decline)}'
            f"{policy_link}</div></form>"
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
    ) -> bytes:
        """The banner for ``lang``; ``next_url`` is where the visitor returns after deciding."""
        checked_set = frozenset(checked)
        key = ("banner", lang, root_path, gpc_note, checked_set, encoding)
        template = self._cache.get(key) or self._template(
            key, self._banner_markup(lang, root_path, gpc_note, checked_set)
        )
        return template.render(escape_url(next_url), nonce_attr(nonce))

    def _notice_hash(self, lang: str) -> str:
        markup = self._banner_markup(lang, "", False, frozenset())
        markup = markup.replace(_NEXT, "").replace(_NONCE, "")
        return hashlib.sha256(markup.encode("utf-8")).hexdigest()

    def notice(self, lang: str) -> str:
        """The banner exactly as hashed into ``notice_hash`` (for audits)."""
        return self._banner_markup(lang, "", False, frozenset()).replace(_NEXT, "").replace(_NONCE, "")

    # --- small pieces ---

    def skip_link(self, lang: str, encoding: str = "ascii") -> bytes:
        msgs = self.policy.messages(lang)
        key = ("skip", lang, encoding)
        template = self._cache.get(key)
        if template is None:
            markup = (
                f'<a class="ck-skip" href="#consentkit-banner" lang="{_e(lang)}">{_e(msgs.skip_link)}</a>'
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
            href = _e(root_path + self.prefix) + "/settings?next=" + _NEXT
            markup = (
                f'<p class="ck-manage" lang="{_e(lang)}" data-nosnippet>'
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
            template = self._template(
                key, f'<p class="ck-status" role="status" lang="{_e(lang)}" data-nosnippet>{text}</p>'
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
            f' lang="{_e(lang)}" data-saved="{_e(msgs.saved)}">{sizer}'
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
                f'{_hidden(_NEXT, lang)}<input type="hidden" name="categories" value="{_e(cat)}">'
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

    def settings_page(
        self,
        lang: str,
        consent: Consent,
        *,
        next_url: str,
        root_path: str = "",
        nonce: str,
        saved: bool = False,
    ) -> bytes:
        """The full settings page (``GET /_consent/settings``): works without JavaScript."""
        msgs = self.policy.messages(lang)
        action = self._action(root_path)
        checked = frozenset(c for c in self.policy.optional_categories if consent.allows(c))
        cats = self._category_rows(msgs, checked, services=True)
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
        markup = (
            f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{_e(msgs.settings_title)}</title>'
            f'<style nonce="{_e(nonce)}">{self.css}</style></head><body>'
            f'<main id="consentkit-settings" class="ck-settings" aria-labelledby="ck-title">'
            f'<h1 id="ck-title">{_e(msgs.settings_title)}</h1>{notes}'
            f"<p>{_e(msgs.settings_intro)}</p><p>{current}</p><p>{self._body(msgs)}</p>"
            f'<form method="post" action="{action}">{_hidden(_e(next_url), lang)}'
            f"<fieldset><legend>{_e(msgs.settings)}</legend>{cats}</fieldset>"
            # Save comes first: it is the button Enter on a checkbox submits with.
            f'<div class="ck-row">{_button("save", msgs.save)}{_button("accept_all", msgs.accept)}'
            f"{_button(withdraw, msgs.decline)}</div></form>"
            f'<p><a href="{_e(next_url)}">{_e(msgs.back)}</a></p></main></body></html>'
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
