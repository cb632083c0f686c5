"""``ConsentMiddleware``: the pure ASGI middleware that ties policy, cookie, banner and blocking together.

``__init__`` holds configuration only. Each HTTP request gets a small :class:`_PageResponder`
that watches the app's response: it filters the app's ``Set-Cookie`` headers, and for HTML
streams the body through a :class:`~consentkit.rewrite.Rewriter` that removes blocked tags
and adds the banner. Everything else passes through byte for byte.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import anyio.to_thread

from .audit import AuditError, AuditLog
from .banner import Renderer
from .consent import Consent, ConsentCodec, resolve_secret_keys
from .cookies import (
    cookie_value,
    denied_cookie_patterns,
    is_denied_cookie,
    set_cookie_header,
    set_cookie_name,
)
from .endpoint import ConsentEndpoint
from .language import match_language, negotiate
from .memo import PageMemo
from .policy import Policy, load_policy
from .rewrite import BlockPlan, Rewriter, Rule, blocked_comment

__all__ = ["ConsentMiddleware"]

Scope = dict[str, Any]
Message = dict[str, Any]

logger = logging.getLogger("consentkit")

_HTML_TYPES: Final = (b"text/html", b"application/xhtml+xml")
_SKIP_STATUS: Final = frozenset({204, 206, 304})
_MAX_PLANS: Final = 256


class ConsentMiddleware:
    """Cookie consent for any ASGI app, enforced on the server.

    ``policy`` is a YAML file path or a :class:`~consentkit.Policy`. ``secret_keys`` (oldest
    first; the last one signs) default to ``CONSENTKIT_SECRET_KEYS``. ``audit_path``
    overrides the policy's ``audit.path``; pass ``audit`` to supply your own
    :class:`~consentkit.audit.AuditLog`. ``trusted_origins`` lists other origins
    (``https://www.example.org``) allowed to post decisions.
    """

    def __init__(
        self,
        app: Any,
        policy: str | PathLike[str] | Policy,
        *,
        secret_keys: Iterable[str | bytes] | str | bytes | None = None,
        prefix: str = "/_consent",
        audit_path: str | PathLike[str] | None = None,
        audit: AuditLog | None = None,
        trusted_origins: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
            raise ValueError(f"prefix must look like /_consent, got {prefix!r}")
        self.prefix = prefix
        self.keys = resolve_secret_keys(secret_keys)
        self.codec = ConsentCodec(self.keys, self.policy)
        self.renderer = Renderer(self.policy, prefix)
        if audit is None:
            path = os.fspath(audit_path) if audit_path is not None else self.policy.audit_path()
            audit = AuditLog(
                path=None if path is None else Path(path),
                keys=self.keys,
                fsync=self.policy.audit.fsync,
                log=self.policy.audit.log,
                ip_mode=self.policy.audit.ip,
            )
        self.audit = audit
        self.endpoint = ConsentEndpoint(self, trusted_origins)
        self.undecided = Consent.undecided(self.policy)
        self.gpc_categories = frozenset(n for n, c in self.policy.categories.items() if c.gpc == "deny")
        self.signals_on = self.policy.signals.gpc and bool(self.gpc_categories)
        self.dnt_on = self.policy.signals.dnt == "deny" and bool(self.gpc_categories)
        self.consent_mode = any(c.consent_mode for c in self.policy.categories.values())
        self.flash_cookie = self.policy.cookie.name + "_saved"
        self._flash_bytes = self.flash_cookie.encode("latin-1")
        self._cookie_bytes = self.policy.cookie.name.encode("latin-1")
        self._prefix_len = len(prefix)
        self._plans: dict[frozenset[str], BlockPlan] = {}
        self.warned_encoded = False
        self.memo = PageMemo()
        self._cookie_patterns: dict[frozenset[str], tuple[str, ...]] = {}
        self._vary = (
            b"Cookie"
            + (b", Sec-GPC" if self.signals_on else b"")
            + (b", Accept-Language" if len(self.policy.texts) > 1 else b"")
        )

    # --- shared helpers (also used by the endpoint) ---

    def plan_for(self, denied: frozenset[str]) -> BlockPlan:
        plan = self._plans.get(denied)
        if plan is None:
            plan = BlockPlan.build(self.policy, denied)
            if len(self._plans) < _MAX_PLANS:
                self._plans[denied] = plan
        return plan

    def cookie_patterns(self, denied: frozenset[str]) -> tuple[str, ...]:
        patterns = self._cookie_patterns.get(denied)
        if patterns is None:
            patterns = denied_cookie_patterns(self.policy, denied)
            self._cookie_patterns[denied] = patterns
        return patterns

    def scan_headers(self, scope: Scope) -> tuple[bytes | None, bool]:
        """The request's Cookie header (joined if repeated) and whether it sends an honoured signal."""
        cookie: bytes | None = None
        signal = False
        for key, value in scope["headers"]:
            if key == b"cookie":
                cookie = value if cookie is None else cookie + b"; " + value
            elif key == b"sec-gpc":
                signal = signal or (self.signals_on and value.strip() == b"1")
            elif key == b"dnt":
                signal = signal or (self.dnt_on and value.strip() == b"1")
        return cookie, signal

    def read_consent(self, cookie_header: bytes | None, gpc: bool) -> tuple[Consent, str | None]:
        """The request's consent (signal applied) and a subject id worth keeping."""
        if cookie_header is None:
            consent, subject = self.undecided, None
        else:
            raw = cookie_value(cookie_header, self._cookie_bytes)
            consent, subject = self.codec.loads(raw) if raw is not None else (self.undecided, None)
        if gpc:
            consent = consent.with_signal(self.gpc_categories)
        return consent, subject

    def consent_cookie(self, consent: Consent, scheme: str) -> bytes:
        cookie = self.policy.cookie
        return set_cookie_header(
            cookie.name,
            self.codec.dumps(consent),
            max_age=cookie.max_age_days * 86400,
            same_site=cookie.same_site,
            secure=cookie.secure is True or (cookie.secure == "auto" and scheme in ("https", "wss")),
            http_only=cookie.http_only,
            domain=cookie.domain,
        )

    def flash_header(self, scheme: str, expire: bool = False) -> bytes:
        cookie = self.policy.cookie
        return set_cookie_header(
            self.flash_cookie,
            "" if expire else "1",
            max_age=0 if expire else 120,
            same_site="lax",
            secure=scheme in ("https", "wss"),
            http_only=True,
            domain=cookie.domain,
        )

    def language(self, accept_language: str | None, html_lang: str | None = None) -> str:
        texts = tuple(self.policy.texts)
        if html_lang:
            found = match_language(html_lang, texts)
            if found is not None:
                return found
        if accept_language:
            found = negotiate(accept_language, texts)
            if found is not None:
                return found
        return self.policy.default_language

    async def record(self, record: dict[str, Any]) -> None:
        """Append an audit record without blocking the event loop; raises AuditError."""
        await anyio.to_thread.run_sync(self.audit.append, record)

    # --- ASGI ---

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path.startswith(self.prefix) and (len(path) == self._prefix_len or path[self._prefix_len] == "/"):
            await self.endpoint(scope, receive, send)
            return
        if path == "/.well-known/gpc.json" and self.policy.signals.gpc:
            await self.endpoint.gpc_json(scope, receive, send)
            return
        cookie, signal = self.scan_headers(scope)
        consent, _ = self.read_consent(cookie, signal)
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["consent"] = consent
        responder = _PageResponder(self, scope, consent, cookie, send)
        await self.app(scope, receive, responder.send)


class _PageResponder:
    """Per-request state: watches one response and rewrites it if it is HTML."""

    __slots__ = (
        "consent",
        "cookie",
        "injector",
        "mw",
        "plan",
        "rewriter",
        "scope",
        "send_next",
        "start",
        "transform",
        "xml",
    )

    def __init__(
        self, mw: ConsentMiddleware, scope: Scope, consent: Consent, cookie: bytes | None, send: Any
    ):
        self.mw = mw
        self.scope = scope
        self.consent = consent
        self.cookie = cookie
        self.send_next = send
        self.start: Message | None = None
        self.rewriter: Rewriter | None = None
        self.injector: _PageInjector | None = None
        self.plan: BlockPlan | None = None
        self.transform = False
        self.xml = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            await self._start(message)
        elif kind == "http.response.body" and self.transform:
            await self._body(message.get("body", b""), message.get("more_body", False))
        elif kind == "http.response.pathsend" and self.transform:
            await self._pathsend(message["path"])
        else:
            await self.send_next(message)

    async def _start(self, message: Message) -> None:
        headers: list[tuple[bytes, bytes]] = message.get("headers", [])
        consent = self.consent
        patterns = self.mw.cookie_patterns(consent.denied) if consent.denied else ()
        content_type = b""
        encoded = False
        has_set_cookie = False
        for key, value in headers:
            lowered = key.lower()
            if lowered == b"content-type":
                content_type = value
            elif lowered == b"content-encoding":
                encoded = value.strip().lower() not in (b"", b"identity")
            elif lowered == b"set-cookie":
                has_set_cookie = True
        if has_set_cookie and patterns:
            headers = [
                (k, v)
                for k, v in headers
                if k.lower() != b"set-cookie" or not is_denied_cookie(patterns, set_cookie_name(v))
            ]
            message["headers"] = headers
        status = message["status"]
        media = content_type.split(b";", 1)[0].strip().lower()
        if encoded and media in _HTML_TYPES and not self.mw.warned_encoded:
            self.mw.warned_encoded = True
            logger.warning(
                "consentkit: an HTML response reached ConsentMiddleware already compressed (%s), so it was "
                "neither checked for trackers nor given a banner. Add compression outside ConsentMiddleware.",
                self.scope.get("path"),
            )
        if (
            media not in _HTML_TYPES
            or encoded
            or status < 200
            or status in _SKIP_STATUS
            or self.scope["method"] == "HEAD"
            or _unsupported_charset(content_type)
        ):
            await self.send_next(message)
            return
        self.transform = True
        self.xml = media == b"application/xhtml+xml"  # XML rules: no raw-text elements
        self.start = message
        injector = _PageInjector(self, content_type)
        message["headers"] = headers = [h for h in headers if h[0].lower() != b"content-length"]
        _add_vary(headers, self.mw._vary)
        headers.extend(await injector.start_headers())
        self.injector = injector
        self.plan = self.mw.plan_for(consent.denied) if consent.denied else None

    async def _body(self, body: bytes, more: bool) -> None:
        injector = self.injector
        assert injector is not None
        start = self.start
        out: bytes | None = None
        if start is not None and not more:
            # The whole page at once (the usual case): rewritten once per distinct page and reused.
            out = self.mw.memo.rewrite(
                body,
                self.plan,
                injector,
                consent_mode=self.mw.consent_mode,
                on_blocked=injector.blocked_in_page,
                xml=self.xml,
            )
        if out is None:
            rewriter = self.rewriter
            if rewriter is None:
                self.rewriter = rewriter = Rewriter(
                    self.plan, injector, consent_mode=self.mw.consent_mode, xml=self.xml
                )
                injector.rewriter = rewriter
            out = rewriter.feed(body)
            if not more:
                out += rewriter.close()
        if start is not None:
            self.start = None
            if not more:
                start["headers"].append((b"content-length", str(len(out)).encode("ascii")))
            await self.send_next(start)
        if out or not more:
            await self.send_next({"type": "http.response.body", "body": out, "more_body": more})

    async def _pathsend(self, path: str) -> None:
        """An HTML file sent by path (the ASGI pathsend extension): read it to rewrite it."""

        def read_chunks() -> list[bytes]:
            with open(path, "rb") as fh:
                return list(iter(lambda: fh.read(65536), b""))

        chunks = await anyio.to_thread.run_sync(read_chunks)
        for chunk in chunks:
            await self._body(chunk, True)
        await self._body(b"", False)


def _unsupported_charset(content_type: bytes) -> bool:
    """UTF-16 and UTF-32 pages are not ASCII-compatible; they pass through unchanged."""
    lowered = content_type.lower()
    return b"charset=utf-16" in lowered or b"charset=utf-32" in lowered or b'charset="utf-16' in lowered


def _add_vary(headers: list[tuple[bytes, bytes]], names: bytes) -> None:
    for index, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            existing = [v.strip().lower() for v in value.split(b",")]
            if b"*" in existing:
                return
            missing = [n.strip() for n in names.split(b",") if n.strip().lower() not in existing]
            if missing:
                headers[index] = (key, value + b", " + b", ".join(missing))
            return
    headers.append((b"vary", names))


class _PageInjector:
    """Supplies the markup the rewriter injects into one page, in the page's language."""

    def __init__(self, responder: _PageResponder, content_type: bytes) -> None:
        self.responder = responder
        self.mw = mw = responder.mw
        scope = responder.scope
        self.consent = responder.consent
        self.root_path: str = scope.get("root_path", "")
        self.scheme: str = scope.get("scheme", "http")
        self.encoding = (
            "utf-8" if b"utf-8" in content_type.lower() or b"utf8" in content_type.lower() else "ascii"
        )
        self.accept_language: str | None = None
        self.csp_nonce: str | None = None
        headers = scope["headers"]
        for key, value in headers:
            if key == b"accept-language":
                self.accept_language = value.decode("latin-1")
        self.lang = mw.language(self.accept_language)
        self.next_url = current_url(scope)
        self.style_done = False
        self.show_banner = not self.consent.decided
        self.flash = False
        self.gpc_active = bool(self.consent.signal_denied)
        #: The streaming rewriter, or (for a memoised whole page) what it blocked first.
        self.rewriter: Rewriter | None = None
        self.first_blocked: str | None = None

    def blocked_in_page(self, category: str | None) -> None:
        self.first_blocked = category

    async def start_headers(self) -> list[tuple[bytes, bytes]]:
        """Headers the page needs: CSP nonce lookup, flash expiry, first-seen privacy signal."""
        responder = self.responder
        mw = self.mw
        start = responder.start
        assert start is not None
        for key, value in start["headers"]:
            if key.lower() == b"content-security-policy":
                self.csp_nonce = _csp_nonce(value)
        extra: list[tuple[bytes, bytes]] = []
        cookie = responder.cookie
        if cookie is not None and cookie_value(cookie, mw._flash_bytes) is not None:
            self.flash = True
            extra.append((b"set-cookie", mw.flash_header(self.scheme, expire=True)))
        consent = self.consent
        if consent.signal_unrecorded:
            applied = consent.with_signal_applied()
            record = mw.audit.build(
                subject_id=applied.subject_id or "",
                event="opt_out_signal",
                choices=applied.choices,
                method="gpc",
                policy_version=mw.policy.version,
                notice_hash=mw.renderer.notice_hashes[self.lang],
                language=self.lang,
                path=self.next_url,
                user_agent=_header(responder.scope, b"user-agent"),
                ip=_client_ip(responder.scope),
                extra={"signals": ["gpc"]},
            )
            try:
                await mw.record(record)
            except AuditError:
                pass  # logged by the audit log; the signal is honoured on this page regardless
            else:
                extra.append((b"set-cookie", mw.consent_cookie(applied, self.scheme)))
        return extra

    # --- Injector protocol ---

    def html_lang(self, lang: str) -> None:
        self.lang = self.mw.language(self.accept_language, lang)

    def _style(self) -> bytes:
        if self.style_done:
            return b""
        self.style_done = True
        return self.mw.renderer.style(self.csp_nonce, banner=self.show_banner)

    def body_start(self) -> bytes:
        renderer = self.mw.renderer
        # the forms embed placeholders submit (a <form> where an iframe was would end a <p>)
        denied = [c for c in self.consent.denied if self.mw.policy.categories[c].services]
        forms = (
            renderer.placeholder_forms(
                self.lang, denied, next_url=self.next_url, root_path=self.root_path, encoding=self.encoding
            )
            if denied
            else b""
        )
        if not self.show_banner:
            return forms
        return self._style() + renderer.skip_link(self.lang, self.encoding) + forms

    def body_end(self) -> bytes:
        renderer = self.mw.renderer
        parts: list[bytes] = []
        consent = self.consent
        if self.show_banner:
            parts.append(
                renderer.banner(
                    self.lang,
                    next_url=self.next_url,
                    root_path=self.root_path,
                    nonce=self.csp_nonce,
                    gpc_note=self.gpc_active,
                    checked=[c for c, v in consent.explicit.items() if v],
                    encoding=self.encoding,
                )
            )
        else:
            if self.flash:
                parts.append(renderer.status(self.lang, "saved", self.encoding))
            if self.gpc_active:
                parts.append(renderer.status(self.lang, "gpc_honored", self.encoding))
            if self.mw.policy.banner.settings_control:
                parts.append(
                    renderer.settings_control(self.lang, self.next_url, self.root_path, self.encoding)
                )
        # Placed where the body starts, before most of what may be blocked is seen: in inert
        # mode the activation script comes whenever something may be.
        if self.mw.policy.blocking.mode == "inert" and (self.show_banner or consent.denied):
            parts.append(renderer.activate_script(self.root_path, self.csp_nonce))
        if not parts:
            return b""
        return self._style() + b"".join(parts)

    def consent_mode(self) -> bytes:
        return self.mw.renderer.consent_mode(self.consent, self.root_path, self.csp_nonce)

    def blocked(self, category: str) -> bytes:
        return blocked_comment(category)

    def placeholder_open(self, rule: Rule, width: str | None, height: str | None) -> bytes:
        return self._style() + self.mw.renderer.placeholder_open(
            self.lang,
            rule,
            width,
            height,
            next_url=self.next_url,
            root_path=self.root_path,
            encoding=self.encoding,
        )

    def placeholder_close(self) -> bytes:
        return self.mw.renderer.placeholder_close()


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _client_ip(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def current_url(scope: Scope) -> str:
    """The path and query the visitor asked for, to come back to after deciding."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope.get("path", "/"), safe="/%")
    query = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


def _csp_nonce(value: bytes) -> str | None:
    """The nonce in a Content-Security-Policy, if the policy uses one for scripts."""
    text = value.decode("latin-1")
    start = text.find("'nonce-")
    if start < 0:
        return None
    end = text.find("'", start + 7)
    nonce = text[start + 7 : end] if end > 0 else ""
    return nonce if nonce and all(c.isalnum() or c in "+/=-_" for c in nonce) else None
