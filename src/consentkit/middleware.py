"""``ConsentMiddleware``: the pure ASGI middleware that ties policy, cookie, banner and blocking together.

``__init__`` holds configuration only. Each HTTP request gets a small :class:`_PageResponder`
that watches the app's response: it filters the app's ``Set-Cookie`` headers, and for HTML
streams the body through a :class:`~consentkit.rewrite.Rewriter` that removes blocked tags
and adds the banner. Everything else passes through byte for byte.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from os import PathLike
from typing import Any, Final, cast
from urllib.parse import quote

import anyio.to_thread

from . import scanner
from .audit import AuditError, AuditLog, category_states
from .audit_setup import build_audit_log
from .banner import Renderer
from .charsets import Encoding, Transcoder, document_encoding, lookup
from .compression import CorruptBody, Decompressor, Recompressor, parse_codings, supported_codings
from .consent import Consent, ConsentCodec, resolve_secret_keys
from .cookies import (
    cookie_value,
    cookie_values,
    denied_cookie_patterns,
    host_prefixed,
    is_denied_cookie,
    set_cookie_header,
    set_cookie_name,
)
from .endpoint import ConsentEndpoint
from .inject import Injector, blocked_comment
from .language import match_language, negotiate
from .layout import SettingsLayout
from .links import filter_link_headers, filter_links
from .memo import PageMemo
from .policy import Policy, load_policy
from .ratelimit import RateLimiter
from .rewrite import BlockPlan, Rewriter, Rule
from .sniff import (
    RESOURCE_HEADER,
    MimeType,
    extract_mime_type,
    needs_sniffing,
    nosniff,
    sniff_unknown,
    xhtml_root,
)
from .xhtml import XhtmlInjector

__all__ = ["ConsentMiddleware"]

Scope = dict[str, Any]
Message = dict[str, Any]

logger = logging.getLogger("consentkit")

_SKIP_STATUS: Final = frozenset({204, 206, 304})
_MAX_HELD: Final = 1 << 20  # compressed bytes held while a page's first bytes are awaited
_MAX_PLANS: Final = 256
#: A full document: a doctype, or an ``<html>``, ``<head>`` or ``<body>`` start tag.
_DOCUMENT: Final = re.compile(rb"<(?:!doctype|html|head|body)[\s/>]", re.IGNORECASE)


class ConsentMiddleware:
    """Cookie consent for any ASGI app, enforced on the server.

    ``policy`` is a YAML file path or a :class:`~consentkit.Policy`. ``secret_keys`` (oldest
    first; the last one signs) default to ``CONSENTKIT_SECRET_KEYS``. ``audit_path`` (a
    file or a store URL) overrides the policy's ``audit.url``/``audit.path``; pass ``audit``
    to supply your own :class:`~consentkit.audit.AuditLog`. ``trusted_origins`` lists other origins
    (``https://www.example.org``) allowed to post decisions. ``settings_layout`` wraps the
    settings page in the site's layout (see :mod:`consentkit.layout`).
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
        settings_layout: SettingsLayout | None = None,
    ) -> None:
        self.app = app
        self.settings_layout = settings_layout
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        scanner.announce()  # one line per process: which HTML scan runs (native or pure Python)
        if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
            raise ValueError(f"prefix must look like /_consent, got {prefix!r}")
        self.prefix = prefix
        self.keys = resolve_secret_keys(secret_keys)
        self.codec = ConsentCodec(self.keys, self.policy)
        self.renderer = Renderer(self.policy, prefix)
        if audit is None:
            audit = build_audit_log(self.policy, self.keys, audit_path)
        audit.add_notices(self.renderer.all_notices())
        self.audit = audit
        self.rate_limiter = RateLimiter(self.policy.audit.rate_limit_per_minute)
        self.endpoint = ConsentEndpoint(self, trusted_origins)
        self.undecided = Consent.undecided(self.policy)
        self.gpc_categories = frozenset(n for n, c in self.policy.categories.items() if c.gpc == "deny")
        self.signals_on = self.policy.signals.gpc and bool(self.gpc_categories)
        self.dnt_on = self.policy.signals.dnt == "deny" and bool(self.gpc_categories)
        self.consent_mode = any(c.consent_mode for c in self.policy.categories.values())
        self.flash_cookie = self.policy.cookie.name + "_saved"
        self._flash_bytes = self.flash_cookie.encode("latin-1")
        self._cookie_bytes = self.policy.cookie.name.encode("latin-1")
        self._cookie_names: dict[str, bytes] = {}
        self._prefix_len = len(prefix)
        self._plans: dict[frozenset[str], BlockPlan] = {}
        self.memo = PageMemo()
        self._cookie_patterns: dict[frozenset[str], tuple[str, ...]] = {}
        self._vary = (
            b"Cookie"
            + (b", Sec-GPC" if self.signals_on else b"")
            + (b", Accept-Language" if len(self.policy.texts) > 1 else b"")
            # what consentkit adds depends on whether the request is a navigation or a fragment
            + b", HX-Request, HX-Boosted, Turbo-Frame, Sec-Fetch-Dest"
        )
        self._excluded = _glob_pattern(self.policy.banner.exclude_paths)

    # --- shared helpers (also used by the endpoint) ---

    def plan_for(self, denied: frozenset[str]) -> BlockPlan:
        plan = self._plans.get(denied)
        if plan is None:
            plan = BlockPlan.build(self.policy, denied)
            if len(self._plans) < _MAX_PLANS:
                self._plans[denied] = plan
        return plan

    def blocking_for(self, consent: Consent) -> tuple[BlockPlan | None, tuple[str, ...]]:
        """The block plan and the cookie patterns for a visitor: denied categories, plus the
        services turned off one by one (``None`` and ``()`` when nothing is blocked)."""
        excluded = consent.excluded_services
        if not excluded:
            if not consent.denied:
                return None, ()
            return self.plan_for(consent.denied), self.cookie_patterns(consent.denied)
        tokens = frozenset(f"{c}:-{s}" for c, names in excluded.items() for s in names)
        key = consent.denied | tokens
        plan = self._plans.get(key)
        patterns = self._cookie_patterns.get(key)
        if plan is None or patterns is None:
            categories = dict(self.policy.categories)
            for name, names in excluded.items():
                services = {k: v for k, v in categories[name].services.items() if k in names}
                categories[name] = replace(categories[name], services=services)
            partial = frozenset(excluded)
            full = self.policy.with_changes(categories=categories)
            plan = BlockPlan.build(full, consent.denied | partial)
            # Only whole categories count as denied (data-consent="<category>" elements); the
            # tokens make plans for different services distinct wherever plans are keyed.
            plan.denied = consent.denied | tokens
            patterns = denied_cookie_patterns(full, consent.denied | partial)
            if len(self._plans) < _MAX_PLANS:
                self._plans[key] = plan
                self._cookie_patterns[key] = patterns
        return plan, patterns

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

    def read_consent(
        self, cookie_header: bytes | None, gpc: bool, scheme: str = "http"
    ) -> tuple[Consent, str | None]:
        """The request's consent (signal applied) and a subject id worth keeping.

        On HTTPS the cookie is ``__Host-``-prefixed (see :meth:`cookie_name`): a cookie under the
        plain name there can only restrict, never grant. Several consent cookies in one request
        (cookie tossing) give the most restrictive of them and no subject id unless they agree.
        """
        consent, subject = self.undecided, None
        if cookie_header is not None:
            name = self._cookie_names.get(scheme)
            if name is None:
                name = self._cookie_names[scheme] = self.cookie_name(scheme).encode("latin-1")
            values = cookie_values(cookie_header, name)
            if values and name != self._cookie_bytes:
                values += cookie_values(cookie_header, self._cookie_bytes)
            if len(values) == 1:
                consent, subject = self.codec.loads(values[0])
            elif values:
                consent, subject = self.codec.loads_all(values)
        if gpc:
            consent = consent.with_signal(self.gpc_categories)
        return consent, subject

    def cookie_secure(self, scheme: str) -> bool:
        secure = self.policy.cookie.secure
        return secure is True or (secure == "auto" and scheme in ("https", "wss"))

    def cookie_name(self, scheme: str) -> str:
        """The consent cookie's name for a request over ``scheme`` (``__Host-consentkit`` on HTTPS)."""
        cookie = self.policy.cookie
        return host_prefixed(cookie.name, secure=self.cookie_secure(scheme), domain=cookie.domain)

    def consent_cookie(self, consent: Consent, scheme: str) -> bytes:
        cookie = self.policy.cookie
        return set_cookie_header(
            self.cookie_name(scheme),
            self.codec.dumps(consent),
            max_age=cookie.max_age_days * 86400,
            same_site=cookie.same_site,
            secure=self.cookie_secure(scheme),
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

    def render_banner(self, scope: Scope, *, lang: str | None = None, nonce: str | None = None) -> str:
        """The banner this middleware injects into a page for ``scope``'s request, for a template to
        place itself (``consentkit.jinja``, ``{% consentkit_banner %}``): byte for byte the same
        markup, given the page's language and CSP nonce. Empty once the visitor has decided."""
        consent = consent_in(scope) or self.undecided
        if consent.decided:
            return ""
        accept = _header(scope, b"accept-language") or None
        return self.renderer.banner(
            self.language(accept, lang),
            next_url=current_url(scope),
            root_path=scope.get("root_path", ""),
            nonce=nonce,
            gpc_note=bool(consent.signal_denied),
            checked=[c for c, v in consent.explicit.items() if v],
            encoding="utf-8",
            changed=consent.changed,
        ).decode("utf-8")

    async def record(self, record: dict[str, Any]) -> None:
        """Append an audit record without blocking the event loop; raises AuditError."""
        await anyio.to_thread.run_sync(self.audit.append, record)

    # --- ASGI ---

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
            else:
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
        consent, _ = self.read_consent(cookie, signal, scope.get("scheme", "http"))
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["consent"] = consent
        state["consentkit"] = self  # for the template helpers (consentkit.jinja, consentkit.django)
        state["consent_policy"] = self.policy  # for the cookie declaration in templates
        responder = _PageResponder(self, scope, consent, cookie, send)
        await self.app(scope, receive, responder.send)

    async def _websocket(self, scope: Scope, receive: Any, send: Any) -> None:
        """A WebSocket handshake: its ``Set-Cookie`` headers are filtered like any response's."""
        cookie, signal = self.scan_headers(scope)
        consent, _ = self.read_consent(cookie, signal, scope.get("scheme", "http"))
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["consent"] = consent
        if not consent.denied:
            await self.app(scope, receive, send)
            return
        _, patterns = self.blocking_for(consent)

        async def filtered_send(message: Message) -> None:
            if message["type"] in ("websocket.accept", "websocket.http.response.start") and patterns:
                headers = message.get("headers")
                if headers:
                    message["headers"] = _drop_denied_cookies(headers, patterns)
            await send(message)

        await self.app(scope, receive, filtered_send)


def _drop_denied_cookies(
    headers: Iterable[tuple[bytes, bytes]], patterns: tuple[str, ...]
) -> list[tuple[bytes, bytes]]:
    """``headers`` without the ``Set-Cookie`` of cookies the visitor has not consented to."""
    return [
        (k, v)
        for k, v in headers
        if k.lower() != b"set-cookie" or not is_denied_cookie(patterns, set_cookie_name(v))
    ]


class _PageResponder:
    """Per-request state: watches one response and rewrites it if a browser would render it as HTML.

    What a browser renders as HTML is decided as the browser decides it (:mod:`.sniff`): the
    last valid ``Content-Type``, else the body's first bytes unless ``nosniff``. A compressed
    body is decompressed and compressed again (:mod:`.compression`); a page in an encoding that
    is not ASCII-compatible is decoded for the rewriter and encoded again (:mod:`.charsets`).
    """

    __slots__ = (
        "consent",
        "content_type",
        "cookie",
        "decompressor",
        "done",
        "head",
        "held",
        "injector",
        "markup",
        "mime",
        "mw",
        "need",
        "plan",
        "raw_more",
        "recompressor",
        "rewriter",
        "scope",
        "send_next",
        "sent_start",
        "sniff_scriptable",
        "start",
        "transcoder",
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
        #: What the rewriter asks for markup: the injector, or for XHTML pages its XML-safe wrapper.
        self.markup: Injector | None = None
        self.plan: BlockPlan | None = None
        self.transform = False
        self.done = False
        self.sent_start = False
        self.mime: MimeType | None = None
        self.content_type = b""
        self.sniff_scriptable = False
        #: Decoded body bytes held until the page's type and encoding are known (None: known).
        self.head: bytearray | None = None
        self.need = 0
        #: The app's own body messages held meanwhile, to pass on untouched if it is not HTML.
        self.held: list[bytes] = []
        self.decompressor: Decompressor | None = None
        self.recompressor: Recompressor | None = None
        #: Whether the app's current body message is followed by more (compressed bodies).
        self.raw_more = True
        self.transcoder: Transcoder | None = None
        #: Read the page with XML rules (XHTML: no raw-text elements).
        self.xml = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            await self._start(message)
        elif kind == "http.response.body" and self.transform:
            await self._body(message.get("body", b""), message.get("more_body", False))
        elif kind == "http.response.pathsend" and self.transform:
            await self._pathsend(message["path"])
        elif kind == "http.response.early_hint" and (plan := self.mw.blocking_for(self.consent)[0]):
            # Hypercorn's 103 Early Hints extension: {"links": [b"</a.css>; rel=preload", ...]}
            links = [f for f in (filter_links(v, plan) for v in message.get("links", [])) if f is not None]
            if links:
                await self.send_next({**message, "links": links})
        elif self.done:
            return  # the response was refused or cut: nothing more of it goes out
        else:
            await self.send_next(message)

    async def _start(self, message: Message) -> None:
        headers: list[tuple[bytes, bytes]] = message.get("headers", [])
        consent = self.consent
        self.plan, patterns = self.mw.blocking_for(consent)
        content_types: list[bytes] = []
        encodings: list[bytes] = []
        options: list[bytes] = []
        has_set_cookie = has_link = False
        for key, value in headers:
            lowered = key.lower()
            if lowered == b"content-type":
                content_types.append(value)
            elif lowered == b"content-encoding":
                encodings.append(value)
            elif lowered == b"set-cookie":
                has_set_cookie = True
            elif lowered == b"link":
                has_link = True
            elif lowered == b"x-content-type-options":
                options.append(value)
        if has_set_cookie and patterns:
            headers = _drop_denied_cookies(headers, patterns)
            message["headers"] = headers
        if has_link and self.plan is not None:
            linked = filter_link_headers(headers, self.plan)
            if linked is not None:
                message["headers"] = headers = linked
        status = message["status"]
        if status < 200 or status in _SKIP_STATUS or self.scope["method"] == "HEAD":
            await self.send_next(message)
            return
        mime = _mime_type(content_types)
        sniffing = needs_sniffing(mime)
        self.sniff_scriptable = sniffing and not nosniff(options)
        if not (
            self.sniff_scriptable or (mime is not None and (mime.is_html or mime.is_xhtml or mime.is_xml))
        ):
            await self.send_next(message)
            return
        codings = parse_codings(encodings) if encodings else []
        if codings:
            unsupported = [c for c in codings if c not in supported_codings()]
            if unsupported:
                if sniffing:
                    await self.send_next(message)  # cannot even tell whether it is HTML
                    return
                self.start = message
                await self._refuse(f"its Content-Encoding {', '.join(unsupported)} cannot be decoded here")
                return
            self.decompressor = Decompressor(codings)
            self.recompressor = Recompressor(codings)
        self.mime = mime
        self.transform = True
        self.start = message
        self.head = bytearray()
        # The sniffer reads the first 1445 bytes; the <meta charset> prescan the first 1024; a BOM 3.
        charset = mime.charset if mime is not None else None
        xml = mime is not None and mime.is_xml
        self.need = RESOURCE_HEADER if sniffing or xml else 3 if charset and lookup(charset) else 1024

    async def _begin(self, head: bytes) -> bool:
        """The page's type and encoding are known from its first bytes: set up the rewrite, or
        return False when a browser would not render it as HTML after all."""
        mime = self.mime
        start = self.start
        assert start is not None
        sniffed = mime is None or needs_sniffing(mime)
        if sniffed:
            if sniff_unknown(head, scriptable=self.sniff_scriptable) != "text/html":
                return False
            mime = MimeType("text/html")
        assert mime is not None
        xml = mime.is_xhtml or mime.is_xml
        encoding, source = document_encoding(mime.charset, head, xml=xml)
        if encoding is not None and encoding.renders_nothing:
            return False  # a browser shows one U+FFFD: nothing in it can load
        if mime.is_xml:
            readable = (
                head if encoding is None or encoding.codec is None else Transcoder(encoding).decode(head)
            )
            if not xhtml_root(readable):
                return False  # an XML document a browser shows as data, not as a page
        headers: list[tuple[bytes, bytes]] = start["headers"]
        label: str | None = None
        if encoding is not None and encoding.codec is not None:
            self.transcoder = Transcoder(encoding)
            label = "utf-8" if encoding.relabel_utf8 else encoding.name
            if source == "header" and not encoding.relabel_utf8:
                label = None  # already stated where the browser looks first
        elif encoding is not None and source == "meta" and not xml:
            # What the <meta> says, stated in the header: consentkit's additions cannot push it
            # out of the 1024 bytes a browser looks at.
            label = encoding.name
        content_type = mime.essence.encode("latin-1")
        if label is not None or sniffed or _ambiguous(headers):
            charset = label or mime.charset
            value = content_type + (b"; charset=" + charset.encode("latin-1") if charset else b"")
            headers = [h for h in headers if h[0].lower() != b"content-type"]
            headers.append((b"content-type", value))
        inner = b"text/html; charset=utf-8" if self.transcoder is not None else _inner_type(mime, encoding)
        self.content_type = inner
        injector = _PageInjector(self, inner)
        start["headers"] = headers = [h for h in headers if h[0].lower() != b"content-length"]
        _add_vary(headers, self.mw._vary)
        headers.extend(await injector.start_headers())
        self.injector = injector
        self.markup = cast(Injector, XhtmlInjector(injector)) if xml else injector
        self.xml = xml
        return True

    async def _body(self, body: bytes, more: bool) -> None:
        if self.done:
            return
        decompressor = self.decompressor
        self.raw_more = more
        try:
            if decompressor is None:
                await self._decoded(body, more, whole=self.start is not None and not more)
                return
            if self.head is not None:
                self.held.append(body)
            if self.start is not None and not more:
                # Usually the whole compressed page in one message: rewrite it as one page if small.
                pieces: list[bytes] = []
                size = 0
                stream = decompressor.feed(body)
                for piece in stream:
                    pieces.append(piece)
                    size += len(piece)
                    if size > self.mw.memo.max_page:
                        break
                else:
                    pieces.extend(decompressor.finish())
                    await self._decoded(b"".join(pieces), False, whole=True)
                    return
                # A large page: check it whole before anything is sent, so a bomb gets a clean 502.
                Decompressor(decompressor.codings).check(body)
                for piece in pieces:
                    await self._decoded(piece, True)
                for piece in stream:  # the same stream, where it stopped
                    await self._decoded(piece, True)
                for piece in decompressor.finish():
                    await self._decoded(piece, True)
                await self._decoded(b"", False)
                return
            for piece in decompressor.feed(body):
                await self._decoded(piece, True)
            if not more:
                for piece in decompressor.finish():
                    await self._decoded(piece, True)
                await self._decoded(b"", False)
            elif self.head is not None and sum(map(len, self.held)) > _MAX_HELD:
                # Compressed bytes that decompress to (almost) nothing: decide on what there is,
                # or refuse if what there is cannot tell whether a browser would render HTML.
                if needs_sniffing(self.mime):
                    await self._refuse("its first bytes did not arrive within 1 MB of compressed data")
                else:
                    self.need = 0
                    await self._decoded(b"", True)
        except CorruptBody as error:
            await self._refuse(str(error))

    async def _decoded(self, data: bytes, more: bool, whole: bool = False) -> None:
        """Decompressed page bytes: held until the type and encoding are known, then rewritten."""
        if not self.transform:
            return  # passed through as it was after all
        head = self.head
        if head is not None:
            if self.decompressor is None:
                self.held.append(data)
            if head or (more and len(data) < self.need):  # else decide on the first chunk as it is
                head += data
                if more and len(head) < self.need:
                    return
                data = bytes(head)
            self.head = None
            whole = whole or not more
            if not await self._begin(data):
                await self._pass_through(more)
                return
            self.held = []
        transcoder = self.transcoder
        if transcoder is not None:
            data = transcoder.decode(data, not more)
        assert self.injector is not None
        self.injector.see(data)
        out: bytes | None = None
        injector, markup = self.injector, self.markup
        assert injector is not None
        assert markup is not None
        if whole:
            # The whole page at once (the usual case): rewritten once per distinct page and reused.
            out = self.mw.memo.rewrite(
                data,
                self.plan,
                markup,
                consent_mode=self.mw.consent_mode,
                on_blocked=injector.blocked_in_page,
                xml=self.xml,
            )
        if out is None:
            rewriter = self.rewriter
            if rewriter is None:
                self.rewriter = rewriter = Rewriter(
                    self.plan, markup, consent_mode=self.mw.consent_mode, xml=self.xml
                )
                injector.rewriter = rewriter
            out = rewriter.feed(data)
            if not more:
                out += rewriter.close()
        if transcoder is not None:
            out = transcoder.encode(out, not more)
        await self._send(out, more)

    async def _send(self, out: bytes, more: bool) -> None:
        recompressor = self.recompressor
        if recompressor is not None and (out or not more):
            out = recompressor.compress(out, not more)
        start = self.start
        if start is not None:
            self.start = None
            self.sent_start = True
            if not more:
                start["headers"].append((b"content-length", str(len(out)).encode("ascii")))
            await self.send_next(start)
        if out or not more:
            await self.send_next({"type": "http.response.body", "body": out, "more_body": more})

    async def _pass_through(self, more: bool) -> None:
        """Not HTML after all: the app's response goes out exactly as the app sent it."""
        if self.decompressor is not None:
            more = self.raw_more  # what was held is the app's own (compressed) messages
        start = self.start
        assert start is not None
        self.start = None
        self.transform = False
        held, self.held = self.held, []
        await self.send_next(start)
        for index, chunk in enumerate(held):
            final = index == len(held) - 1
            await self.send_next(
                {"type": "http.response.body", "body": chunk, "more_body": more or not final}
            )
        if not held:
            await self.send_next({"type": "http.response.body", "body": b"", "more_body": more})

    async def _refuse(self, reason: str) -> None:
        """A body consentkit cannot read (corrupt, a decompression bomb, an unknown coding) never
        reaches the visitor unchecked: 502 if nothing was sent yet, else the body ends here."""
        self.done = True
        self.transform = False
        logger.error("consentkit: refused the HTML response for %s: %s", self.scope.get("path"), reason)
        if self.start is not None:
            self.start = None
            body = b"502 Bad Gateway: the page could not be checked for trackers.\n"
            await self.send_next(
                {
                    "type": "http.response.start",
                    "status": 502,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode("ascii")),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await self.send_next({"type": "http.response.body", "body": body, "more_body": False})
        else:
            await self.send_next({"type": "http.response.body", "body": b"", "more_body": False})

    async def _pathsend(self, path: str) -> None:
        """An HTML file sent by path (the ASGI pathsend extension): read it to rewrite it."""

        def read_chunks() -> list[bytes]:
            with open(path, "rb") as fh:
                return list(iter(lambda: fh.read(65536), b""))

        chunks = await anyio.to_thread.run_sync(read_chunks)
        for chunk in chunks:
            await self._body(chunk, True)
        await self._body(b"", False)


_MIME_CACHE: dict[bytes, MimeType | None] = {}


def _mime_type(values: list[bytes]) -> MimeType | None:
    """The Content-Type a browser reads; single values (nearly every response) parsed once."""
    if len(values) != 1:
        return extract_mime_type(values)
    value = values[0]
    try:
        return _MIME_CACHE[value]
    except KeyError:
        mime = extract_mime_type(values)
        if len(_MIME_CACHE) < 512:
            _MIME_CACHE[value] = mime
        return mime


def _ambiguous(headers: list[tuple[bytes, bytes]]) -> bool:
    """Several Content-Type headers, or one listing several types: state the one that counts."""
    values = [v for k, v in headers if k.lower() == b"content-type"]
    return len(values) != 1 or b"," in values[0]


def _inner_type(mime: MimeType, encoding: Encoding | None) -> bytes:
    """The Content-Type the injector sees: UTF-8 when the page is UTF-8, whatever said so."""
    if encoding is not None and encoding.name == "utf-8":
        return mime.essence.encode("latin-1") + b"; charset=utf-8"
    return mime.essence.encode("latin-1")


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
    """Supplies the markup the rewriter injects into one page, in the page's language.

    Blocking applies to every HTML response; what consentkit *adds* (stylesheet, banner,
    scripts, settings link, notes, Consent Mode default) goes only into documents a visitor
    navigates to: never into htmx/Turbo/fetch fragments or excluded paths (see :func:`additions`).
    """

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
        self.style_nonce: str | None = None
        headers = scope["headers"]
        for key, value in headers:
            if key == b"accept-language":
                self.accept_language = value.decode("latin-1")
        self.lang = mw.language(self.accept_language)
        self.next_url = current_url(scope)
        #: True: add; False: never add; None: add if the body turns out to be a full document.
        self.adds: bool | None = additions(scope, mw)
        self._tail = b""
        self.style_done = False
        self.show_banner = not self.consent.decided
        self.flash = False
        self.flash_done = False
        self.gpc_active = bool(self.consent.signal_denied)
        #: The streaming rewriter, or (for a memoised whole page) what it blocked first.
        self.rewriter: Rewriter | None = None
        self.first_blocked: str | None = None

    def see(self, chunk: bytes) -> None:
        """Look at body bytes before they are rewritten: settles whether this is a full document."""
        if self.adds is None and chunk:
            data = self._tail + chunk
            if _DOCUMENT.search(data):
                self.adds = True
            else:
                self._tail = data[-9:]

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
                script, style = csp_nonces(value)
                self.csp_nonce = script or self.csp_nonce
                self.style_nonce = style or self.style_nonce
        extra: list[tuple[bytes, bytes]] = []
        cookie = responder.cookie
        if (
            self.adds is not False
            and cookie is not None
            and cookie_value(cookie, mw._flash_bytes) is not None
        ):
            self.flash = True
            extra.append((b"set-cookie", mw.flash_header(self.scheme, expire=True)))
        consent = self.consent
        if consent.signal_unrecorded:
            applied = consent.with_signal_applied()
            record = mw.audit.build(
                subject_id=applied.subject_id or "",
                event="opt_out_signal",
                choices=applied.choices,
                state=category_states(applied),
                channel="browser_signal",
                method="gpc",
                policy_version=mw.policy.version,
                notice_hash=mw.renderer.channel_notice_hash("browser_signal", self.lang),
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
        return self.mw.renderer.stylesheet(self.root_path, self.style_nonce)

    def body_start(self) -> bytes:
        if not self.adds:
            # A fragment's placeholders submit the forms of the page it is inserted into.
            return b""
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
        if self.show_banner:
            return self._style() + renderer.skip_link(self.lang, self.encoding) + forms
        if self.flash and not self.flash_done:
            # first in the page, where a sighted visitor returning from a decision sees it
            self.flash_done = True
            return self._style() + renderer.status(self.lang, "saved", self.encoding) + forms
        return forms

    def banner(self) -> bytes:
        """The banner exactly as injected (``consentkit.jinja`` and the Django tag render the same)."""
        return self.mw.renderer.banner(
            self.lang,
            next_url=self.next_url,
            root_path=self.root_path,
            nonce=self.csp_nonce,
            gpc_note=self.gpc_active,
            checked=[c for c, v in self.consent.explicit.items() if v],
            encoding=self.encoding,
            changed=self.consent.changed,
        )

    def body_end(self) -> bytes:
        if not self.adds:
            return b""
        renderer = self.mw.renderer
        parts: list[bytes] = []
        if self.show_banner:
            parts.append(self.banner())
        else:
            if self.flash and not self.flash_done:
                self.flash_done = True
                parts.append(renderer.status(self.lang, "saved", self.encoding))
            if self.gpc_active:
                parts.append(renderer.status(self.lang, "gpc_honored", self.encoding))
            if self.mw.policy.banner.settings_control:
                parts.append(
                    renderer.settings_control(self.lang, self.next_url, self.root_path, self.encoding)
                )
        # Placed where the body starts, before most of what may be blocked is seen: in inert
        # mode the activation script comes whenever something may be.
        if self.mw.policy.blocking.mode == "inert" and (self.show_banner or self.responder.plan is not None):
            parts.append(renderer.activate_script(self.root_path, self.csp_nonce))
        if not parts:
            return b""
        return self._style() + b"".join(parts)

    def consent_mode(self) -> bytes:
        if not self.adds:
            return b""
        return self.mw.renderer.consent_mode(self.consent, self.root_path, self.csp_nonce)

    def blocked(self, category: str) -> bytes:
        return blocked_comment(category)

    def placeholder_open(self, rule: Rule, width: str | None, height: str | None) -> bytes:
        style = self._style() if self.adds else b""
        return style + self.mw.renderer.placeholder_open(
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


_FRAGMENT_HEADERS: Final = frozenset(
    {
        *(b"hx-request", b"hx-boosted", b"hx-history-restore-request", b"turbo-frame", b"x-up-target"),
        *(b"sec-fetch-dest", b"x-turbo-request-id"),
    }
)


def additions(scope: Scope, mw: ConsentMiddleware) -> bool | None:
    """Whether a response to this request gets consentkit's additions (None: if it is a full document).

    Fragments never do: htmx requests (``HX-Request: true``) other than boosted navigations,
    Turbo frames, Unpoly fragment updates and ``fetch()``/XHR (``Sec-Fetch-Dest: empty``); nor do
    the policy's ``banner.exclude_paths``. A navigation (``Sec-Fetch-Dest: document``) and a
    boosted htmx navigation, which replaces the whole body, always do; a Turbo Drive visit does
    when the response is a full document.
    """
    if mw._excluded is not None:
        path: str = scope.get("path", "/")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        if mw._excluded.match(path):
            return False
    seen: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        if key in _FRAGMENT_HEADERS:
            seen.setdefault(key, bytes(value).strip().lower())
    if not seen:
        return None
    if seen.get(b"hx-boosted") == b"true":
        return True
    if seen.get(b"hx-history-restore-request") == b"true":
        return None  # htmx reloads a page missing from its history cache and swaps its body in
    if seen.get(b"hx-request") == b"true" or b"turbo-frame" in seen or b"x-up-target" in seen:
        return False
    if b"x-turbo-request-id" in seen:
        # a Turbo Drive visit: like a boosted htmx navigation, it replaces the body with the
        # response's, so a full page gets the banner (a fragment still does not)
        return None
    dest = seen.get(b"sec-fetch-dest")
    if dest == b"empty":
        return False
    if dest == b"document":
        return True
    return None


def _glob_pattern(globs: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for path globs (``*`` any run of characters, ``?`` one, ``[...]`` a class)."""
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def consent_in(scope: Any) -> Consent | None:
    """The consent ConsentMiddleware put in an ASGI scope, or ``None``."""
    state = scope.get("state") if hasattr(scope, "get") else None
    consent = state.get("consent") if isinstance(state, dict) else None
    return consent if isinstance(consent, Consent) else None


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


def csp_nonces(value: bytes) -> tuple[str | None, str | None]:
    """The nonces a Content-Security-Policy gives scripts and styles (``None``: it uses none).

    Each comes from the most specific directive in effect: ``script-src-elem``, else
    ``script-src``, else ``default-src`` (and the same for styles).
    """
    directives: dict[str, str] = {}
    for part in value.decode("latin-1").split(";"):
        name, _, rest = part.strip().partition(" ")
        directives.setdefault(name.lower(), rest)

    def nonce(*names: str) -> str | None:
        for name in names:
            if name in directives:
                for token in directives[name].split():
                    if token.startswith("'nonce-") and token.endswith("'") and len(token) > 8:
                        found = token[7:-1]
                        if all(c.isalnum() or c in "+/=-_" for c in found):
                            return found
                return None
        return None

    return (
        nonce("script-src-elem", "script-src", "default-src"),
        nonce("style-src-elem", "style-src", "default-src"),
    )
