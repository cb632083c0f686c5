"""The consent endpoint under the middleware's prefix (default ``/_consent``).

``POST /_consent`` records a decision (form or JSON) and sets the cookie; ``GET /_consent``
returns the current consent as JSON; ``GET /_consent/settings`` is the settings page; a few
small scripts are served from here so that a ``script-src 'self'`` policy keeps working.
Every refusal is a short 4xx with a reason, never a traceback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

import anyio

from .audit import AuditError, category_states
from .banner import consent_mode_granted, consent_mode_script, static_asset
from .consent import Consent, audit_event
from .cookies import expire_headers, parse_cookie_header
from .declaration import cookie_declaration_html, cookie_declaration_json
from .layout import SettingsPage
from .policy import Policy
from .rewrite import Rewriter
from .schema import CONSENT_MODE_TYPES

if TYPE_CHECKING:
    from .middleware import ConsentMiddleware

__all__ = ["ConsentEndpoint", "safe_next"]

MAX_BODY: Final = 16 * 1024
BODY_TIMEOUT: Final = 10.0
ACTIONS: Final = ("accept_all", "reject_all", "save", "withdraw", "embed")
_GCM_BITS: Final = re.compile(rf"^[01]{{{len(CONSENT_MODE_TYPES)}}}$")
_SCRIPTS: Final = {"/banner.js": "banner.js", "/activate.js": "activate.js"}

logger = logging.getLogger("consentkit")

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]


class _Refusal(Exception):
    """A request the endpoint will not act on: status and a short reason for the client."""

    def __init__(self, status: int, reason: str, headers: Headers | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or []


def safe_next(value: str | None, host: str, root_path: str = "") -> str:
    """A same-site path to redirect to; anything that could leave the site becomes the site root.

    Accepts ``/path?query`` (and an absolute URL on this very host, reduced to its path).
    Rejects scheme-relative ``//host``, backslashes, control characters, over-long values and
    anything a URL parser cannot read (``http://[::1``): it never raises.
    """
    fallback = (root_path or "") + "/"
    if not value or len(value) > 2048:
        return fallback
    if any(ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in value) or "\\" in value:
        return fallback
    try:
        parts = urlsplit(value)
        if parts.scheme or parts.netloc:
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
                return fallback
            value = parts.path or "/"
            if parts.query:
                value += "?" + parts.query
            if parts.fragment:
                value += "#" + parts.fragment
    except ValueError:
        return fallback
    if not value.startswith("/") or value.startswith("//"):
        return fallback
    return quote(value, safe="/?&=%:@!$'()*+,;~-._#")


class ConsentEndpoint:
    """Serves everything under the prefix; shares configuration with the middleware."""

    def __init__(self, mw: ConsentMiddleware, trusted_origins: Sequence[str]) -> None:
        self.mw = mw
        self.trusted = {_origin_key(o) for o in trusted_origins}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        mw = self.mw
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        sub = path[len(mw.prefix) :]
        method = scope["method"]
        try:
            if sub in ("", "/"):
                if method == "POST":
                    await self.decide(scope, receive, send)
                elif method in ("GET", "HEAD"):
                    await self.current(scope, send)
                else:
                    raise _Refusal(405, "use POST to decide, GET to read", [(b"allow", b"GET, HEAD, POST")])
            elif sub == "/settings":
                _only_get(method)
                await self.settings(scope, send)
            elif sub.startswith("/consentkit.") and sub.endswith(".css"):
                _only_get(method)
                await self.stylesheet(scope, send, sub[1:])
            elif sub == "/cookies":
                _only_get(method)
                await self.cookies(scope, send)
            elif sub in _SCRIPTS:
                _only_get(method)
                await _respond(
                    send,
                    200,
                    static_asset(_SCRIPTS[sub]),
                    b"text/javascript; charset=utf-8",
                    [(b"cache-control", b"public, max-age=86400")],
                    head=method == "HEAD",
                )
            elif sub == "/consent-mode.js":
                _only_get(method)
                bits = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("g", [""])[0]
                if not _GCM_BITS.match(bits):
                    raise _Refusal(400, f"g must be {len(CONSENT_MODE_TYPES)} digits 0 or 1")
                await _respond(
                    send,
                    200,
                    consent_mode_script(bits),
                    b"text/javascript; charset=utf-8",
                    [(b"cache-control", b"public, max-age=31536000, immutable")],
                    head=method == "HEAD",
                )
            else:
                raise _Refusal(404, "not found")
        except _Refusal as refusal:
            await _refuse(scope, send, refusal)

    async def gpc_json(self, scope: Scope, receive: Any, send: Any) -> None:
        """``/.well-known/gpc.json``: tells the world this site honours Global Privacy Control."""
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _refuse(scope, send, _Refusal(405, "use GET", [(b"allow", b"GET, HEAD")]))
            return
        document: dict[str, Any] = {"gpc": True}
        last = self.mw.policy.gpc_last_update()
        if last:
            document["lastUpdate"] = last
        await _respond(
            send,
            200,
            json.dumps(document).encode("ascii"),
            b"application/json",
            [(b"cache-control", b"public, max-age=86400"), (b"access-control-allow-origin", b"*")],
            head=method == "HEAD",
        )

    # --- GET ---

    async def current(self, scope: Scope, send: Any) -> None:
        consent, _ = self._request_consent(scope)
        body = json.dumps(self._consent_json(consent)).encode("utf-8")
        await _respond(
            send,
            200,
            body,
            b"application/json",
            [(b"cache-control", b"no-store"), (b"vary", b"Cookie")],
            head=scope["method"] == "HEAD",
        )

    async def stylesheet(self, scope: Scope, send: Any, name: str) -> None:
        """consentkit's CSS at a content-hashed URL: cached for a year. An older hash (a page
        rendered before a deploy) gets the current CSS, cached briefly."""
        renderer = self.mw.renderer
        current = name == renderer.stylesheet_name
        cache = b"public, max-age=31536000, immutable" if current else b"public, max-age=300"
        extra: Headers = [(b"cache-control", cache), (b"vary", b"Accept-Encoding")]
        body = renderer.css_bytes
        if _accepts_gzip(_headers(scope).get("accept-encoding", "")):
            body = renderer.css_gzip
            extra.append((b"content-encoding", b"gzip"))
        await _respond(send, 200, body, b"text/css; charset=utf-8", extra, head=scope["method"] == "HEAD")

    async def settings(self, scope: Scope, send: Any) -> None:
        mw = self.mw
        headers = _headers(scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        lang = query.get("lang", "")
        if lang not in mw.policy.texts:
            lang = mw.language(headers.get("accept-language"))
        consent, _ = self._request_consent(scope)
        root = scope.get("root_path", "")
        next_url = safe_next(query.get("next"), headers.get("host", ""), root)
        cookies = parse_cookie_header(headers.get("cookie", ""))
        saved = mw.flash_cookie in cookies
        extra: Headers = [(b"cache-control", b"no-store"), (b"referrer-policy", b"same-origin")]
        page = await self._in_layout(scope, lang, consent, next_url=next_url, root=root, saved=saved)
        if page is None:
            page = mw.renderer.settings_page(lang, consent, next_url=next_url, root_path=root, saved=saved)
            extra.append(
                (
                    b"content-security-policy",
                    b"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
                    b"form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
                )
            )
        if saved:
            extra.append((b"set-cookie", mw.flash_header(scope.get("scheme", "http"), expire=True)))
        await _respond(send, 200, page, b"text/html; charset=utf-8", extra, head=scope["method"] == "HEAD")

    async def _in_layout(
        self, scope: Scope, lang: str, consent: Consent, *, next_url: str, root: str, saved: bool
    ) -> bytes | None:
        """The settings page in the site's layout (``settings_layout``), blocking applied, or None."""
        mw = self.mw
        layout = mw.settings_layout
        if layout is None:
            return None
        content = mw.renderer.settings_content(lang, consent, next_url=next_url, root_path=root, saved=saved)
        state = scope.setdefault("state", {})
        state["consent"], state["consentkit"] = consent, mw  # the layout's templates read them
        page = SettingsPage(content, mw.policy.messages(lang).settings_title, lang, scope)
        try:
            html = await anyio.to_thread.run_sync(layout, page)
        except Exception:
            logger.exception("consentkit: the settings_layout hook failed; serving the plain settings page")
            return None
        data = html.encode("utf-8") if isinstance(html, str) else bytes(html)
        if b'id="consentkit-settings"' not in data:
            logger.error("consentkit: the settings_layout hook left out page.content; serving the plain page")
            return None
        plan = mw.plan_for(consent.denied) if consent.denied else None
        rewriter = Rewriter(plan)  # blocking only: nothing is added to the settings page
        return rewriter.feed(data) + rewriter.close()

    async def cookies(self, scope: Scope, send: Any) -> None:
        """The cookie declaration: an HTML fragment, or JSON for ``Accept: application/json``."""
        headers = _headers(scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        policy = self.mw.policy
        lang = query.get("lang", "")
        if lang not in policy.texts:
            lang = self.mw.language(headers.get("accept-language"))
        extra: Headers = [
            (b"cache-control", b"public, max-age=300"),
            (b"vary", b"Accept, Accept-Language"),
            (b"content-language", lang.encode("ascii", "replace")),
        ]
        head = scope["method"] == "HEAD"
        if "application/json" in headers.get("accept", ""):
            body = json.dumps(cookie_declaration_json(policy, lang), ensure_ascii=False).encode("utf-8")
            await _respond(send, 200, body, b"application/json", extra, head=head)
        else:
            fragment = cookie_declaration_html(policy, lang).encode("utf-8")
            await _respond(send, 200, fragment, b"text/html; charset=utf-8", extra, head=head)

    # --- POST ---

    async def decide(self, scope: Scope, receive: Any, send: Any) -> None:
        mw = self.mw
        headers = _headers(scope)
        self._check_origin(scope, headers)
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media == "text/plain":
            # A simple cross-site request type: a site's own banner never sends it.
            raise _Refusal(403, "text/plain bodies are refused; send a form or application/json")
        if media not in ("application/x-www-form-urlencoded", "application/json"):
            raise _Refusal(415, "send application/x-www-form-urlencoded or application/json")
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise _Refusal(400, "invalid Content-Length")
            if int(declared) > MAX_BODY:
                raise _Refusal(413, f"the body is larger than {MAX_BODY} bytes", [(b"connection", b"close")])
        body = await _read_body(receive)
        is_json = media == "application/json"
        fields = _parse_json(body) if is_json else _parse_form(body)
        action = fields["action"]
        if action not in ACTIONS:
            raise _Refusal(400, f"action must be one of {', '.join(ACTIONS)}")
        categories = fields["categories"]
        unknown = [c for c in categories if c not in mw.policy.categories]
        if unknown:
            raise _Refusal(400, f"unknown category {unknown[0]!r}")
        host = headers.get("host", "")
        root = scope.get("root_path", "")
        next_url = safe_next(fields.get("next"), host, root)
        version = fields.get("version")
        if version is not None and version != mw.policy.version:
            # The page was rendered for an older policy: show the current banner instead.
            if is_json:
                raise _Refusal(409, "the consent policy changed; reload the page")
            await _respond(send, 303, b"", b"text/plain", [(b"location", next_url.encode("latin-1"))])
            return
        lang = str(fields.get("lang", ""))
        if lang not in mw.policy.texts:
            lang = mw.language(headers.get("accept-language"))
        before, subject = self._request_consent(scope)
        if before.subject_id is None and subject is not None:
            before = replace(before, subject_id=subject)
        chosen = [c for c in categories if c in mw.policy.optional_categories]
        excluded = _excluded_services(mw.policy, fields.get("services"), chosen) if action == "save" else {}
        # A category whose every service was turned off is refused as a whole.
        every = {c: frozenset(mw.policy.categories[c].services) for c in excluded}
        chosen = [c for c in chosen if not (excluded.get(c) and excluded[c] == every[c])]
        after = before.decide(action, chosen, excluded=excluded)
        if not mw.rate_limiter.allow((scope.get("client") or (None,))[0]):
            mw.audit.rejected += 1  # counted (reported in checkpoints), never stored
            raise _Refusal(429, "too many decisions from this address; try again in a minute", _RETRY_MINUTE)
        channel = "api" if is_json else "banner"
        if action == "embed" or fields.get("channel") == "settings":
            channel = "embed" if action == "embed" else "settings"
        record = mw.audit.build(
            subject_id=after.subject_id or "",
            event=audit_event(before, after),
            choices=after.choices,
            state=category_states(after),
            channel=channel,
            method=action,
            policy_version=mw.policy.version,
            notice_hash=mw.renderer.channel_notice_hash(channel, lang),
            language=lang,
            path=next_url,
            user_agent=headers.get("user-agent", ""),
            ip=(scope.get("client") or (None,))[0],
            extra=_record_extra(after),
        )
        try:
            await mw.record(record)
        except AuditError:
            raise _Refusal(
                503,
                "your choice could not be recorded right now, so it was not applied; please try again later",
                [(b"retry-after", b"30")],
            ) from None
        scheme = scope.get("scheme", "http")
        out: Headers = [(b"set-cookie", mw.consent_cookie(after, scheme)), (b"cache-control", b"no-store")]
        present = parse_cookie_header(headers.get("cookie", ""))
        patterns = mw.blocking_for(after)[1]  # denied categories and services turned off
        if patterns:
            out.extend(
                (b"set-cookie", h) for h in expire_headers(patterns, present, host, mw.policy.cookie.domain)
            )
        plain = mw.policy.cookie.name
        if mw.cookie_name(scheme) != plain and plain in present:
            # An unprefixed consent cookie (ours from before, or tossed): removed where we can reach it.
            out.extend((b"set-cookie", h) for h in expire_headers((plain,), present, host))
        if is_json:
            document = self._consent_json(after)
            document["record_id"] = record["record_id"]
            await _respond(send, 200, json.dumps(document).encode("utf-8"), b"application/json", out)
        else:
            out.append((b"set-cookie", mw.flash_header(scheme)))
            out.append((b"location", next_url.encode("latin-1")))
            await _respond(send, 303, b"", b"text/plain; charset=utf-8", out)

    # --- helpers ---

    def _request_consent(self, scope: Scope) -> tuple[Consent, str | None]:
        return self.mw.read_consent(*self.mw.scan_headers(scope), scope.get("scheme", "http"))

    def _consent_json(self, consent: Consent) -> dict[str, Any]:
        document = consent.to_json()
        granted = consent_mode_granted(self.mw.policy, consent)
        document["consent_mode"] = {t: ("granted" if t in granted else "denied") for t in CONSENT_MODE_TYPES}
        return document

    def _check_origin(self, scope: Scope, headers: dict[str, str]) -> None:
        """Refuse decisions posted from another site (CSRF): Origin, else Referer, must be ours.

        A request with neither header is allowed: browsers always send ``Origin`` on a
        cross-site POST, so such a request comes from a non-browser client, which cannot
        act with a visitor's cookies anyway.
        """
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            raise _Refusal(403, "cross-site requests cannot record consent")
        host = headers.get("host", "")
        scheme = scope.get("scheme", "http")
        origin = headers.get("origin")
        if origin is not None:
            if origin.strip().lower() == "null" or not self._ours(origin, host, scheme):
                raise _Refusal(403, "this request comes from another site")
            return
        referer = headers.get("referer")
        if referer is not None and not self._ours(referer, host, scheme):
            raise _Refusal(403, "this request comes from another site")

    def _ours(self, url: str, host: str, scheme: str) -> bool:
        """Whether ``url`` (an Origin or Referer) is this site: same scheme and host, and same
        port (the Host header's, else the scheme's default). ``http://site`` posting to
        ``https://site`` is another origin: a page an attacker on the network can write."""
        key = _origin_key(url)
        if key in self.trusted:
            return True
        own = _origin_key(f"{scheme}://{host}")
        if not key[1] or key[1] != own[1] or key[0] != own[0]:
            return False
        return key[2] == own[2]


def _default(scheme: str) -> str:
    return "443" if scheme == "https" else "80"


def _origin_key(origin: str) -> tuple[str, str, str]:
    """(scheme, host, port) of an origin or URL; empty host when it is not one."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = str(parts.port) if parts.port is not None else _default(parts.scheme)
    except ValueError:
        return ("", "", "")
    return (parts.scheme, parts.hostname or "", port)


def _headers(scope: Scope) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        if name == "cookie" and name in result:
            result[name] += "; " + text
        else:
            result.setdefault(name, text)
    return result


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _only_get(method: str) -> None:
    if method not in ("GET", "HEAD"):
        raise _Refusal(405, "use GET", [(b"allow", b"GET, HEAD")])


async def _read_body(receive: Any) -> bytes:
    """The request body, refusing more than MAX_BODY bytes or a client too slow to send it."""
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(BODY_TIMEOUT):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Refusal(400, "the client went away")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY:
                    raise _Refusal(
                        413, f"the body is larger than {MAX_BODY} bytes", [(b"connection", b"close")]
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise _Refusal(408, "the request body took too long to arrive", [(b"connection", b"close")]) from None
    return b"".join(chunks)


_RETRY_MINUTE: Final = [(b"retry-after", b"60")]


def _parse_form(body: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=64
        )
    except (UnicodeDecodeError, ValueError):
        raise _Refusal(400, "malformed form body") from None
    fields: dict[str, Any] = {"categories": []}
    listed: list[str] = []
    chosen_services: list[str] = []
    for name, value in pairs:
        if name == "categories":
            fields["categories"].append(value)
        elif name == "listed":  # a category whose services the form offered one by one
            listed.append(value)
        elif name == "services":
            chosen_services.append(value)
        elif name in ("action", "next", "lang", "version", "channel"):
            fields.setdefault(name, value)
    if "action" not in fields:
        raise _Refusal(400, "missing action")
    if listed:
        services: dict[str, list[str]] = {c: [] for c in listed}
        for value in chosen_services:
            category, sep, service = value.partition(":")
            if not sep or category not in services:
                raise _Refusal(400, f"services must be category:service of a listed category, got {value!r}")
            services[category].append(service)
        fields["services"] = services
    return fields


def _excluded_services(
    policy: Policy, allowed: dict[str, list[str]] | None, chosen: list[str]
) -> dict[str, frozenset[str]]:
    """Per category, the services turned off: those of it not in ``allowed`` (categories absent
    from ``allowed`` keep all their services)."""
    excluded: dict[str, frozenset[str]] = {}
    for category, names in (allowed or {}).items():
        if category not in policy.optional_categories:
            raise _Refusal(400, f"unknown category {category!r}")
        known = frozenset(policy.categories[category].services)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise _Refusal(400, f"unknown service {unknown[0]!r} in category {category!r}")
        if category in chosen:
            excluded[category] = known - frozenset(names)
    return excluded


def _record_extra(consent: Consent) -> dict[str, Any] | None:
    """Audit fields beyond the categories: the privacy signal, and per-service state."""
    extra: dict[str, Any] = {}
    if consent.signal_denied:
        extra["signals"] = ["gpc"]
    if consent.excluded_services:
        extra["excluded_services"] = {c: sorted(s) for c, s in consent.excluded_services.items()}
    return extra or None


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _Refusal(400, "malformed JSON body") from None
    if not isinstance(data, dict):
        raise _Refusal(400, "the JSON body must be an object")
    action = data.get("action")
    if not isinstance(action, str):
        raise _Refusal(400, "missing action")
    raw = data.get("categories", [])
    if isinstance(raw, dict):
        if not all(isinstance(v, bool) for v in raw.values()):
            raise _Refusal(400, "categories must map names to true or false")
        categories = [str(k) for k, v in raw.items() if v]
    elif isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        categories = list(raw)
    else:
        raise _Refusal(400, "categories must be a list of names or an object of booleans")
    fields: dict[str, Any] = {"action": action, "categories": categories}
    services = data.get("services")
    if services is not None:
        if not isinstance(services, dict) or not all(
            isinstance(v, list) and all(isinstance(n, str) for n in v) for v in services.values()
        ):
            raise _Refusal(400, "services must map category names to lists of the service names allowed")
        fields["services"] = {str(k): list(v) for k, v in services.items()}
    for name in ("next", "lang", "version", "channel"):
        value = data.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise _Refusal(400, f"{name} must be a string")
            fields[name] = value
    return fields


async def _respond(
    send: Any,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: Headers | None = None,
    *,
    head: bool = False,
) -> None:
    out: Headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode("ascii"))]
    out.extend(headers or [])
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _refuse(scope: Scope, send: Any, refusal: _Refusal) -> None:
    wants_json = any(
        (k == b"accept" and b"application/json" in v) or (k == b"content-type" and b"json" in v)
        for k, v in scope["headers"]
    )
    if wants_json:
        body = json.dumps({"error": refusal.reason, "status": refusal.status}).encode("utf-8")
        media = b"application/json"
    else:
        body = f"{refusal.status} {refusal.reason}\n".encode()
        media = b"text/plain; charset=utf-8"
    await _respond(send, refusal.status, body, media, [(b"cache-control", b"no-store"), *refusal.headers])
