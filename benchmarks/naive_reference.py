"""NAIVE REFERENCE, for benchmarks only: consent blocking written the way many apps write it by hand.

A ``BaseHTTPMiddleware`` that buffers the whole HTML body, decodes it, removes tracker tags
with regular expressions and appends a banner before ``</body>``. It reads no consent cookie:
it shows what a first visit costs when done this way. It is not consentkit and must never be
used: regexes over HTML miss scripts that a browser runs and mangle text that looks like a
tag, and buffering holds every page whole in memory. (``BaseHTTPMiddleware`` is banned in
``src/``; it lives here only to be measured against.)

It blocks what consentkit blocks on the release page, from the same policy: ``<script src>``
and ``<img src>``/``<iframe src>`` on the tracker hosts, and inline scripts that contain a
tracker marker. The banner is consentkit's own markup and CSS, rendered once, so both
middlewares add the same bytes.
"""

from __future__ import annotations

import re

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from consentkit.banner import Renderer
from consentkit.policy import Policy

__all__ = ["NaiveConsentMiddleware"]


class NaiveConsentMiddleware(BaseHTTPMiddleware):
    """Buffer, regex, append: the hand-written approach consentkit is compared with."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        super().__init__(app)
        hosts: list[str] = []
        self.markers: list[str] = []
        for category in policy.categories.values():
            if category.required:
                continue
            for service in category.services.values():
                for host in service.hosts:
                    wildcard = host.startswith("*.")
                    hosts.append(r"[^\"'/]*\." + re.escape(host[2:]) if wildcard else re.escape(host))
                    self.markers.append(host[2:] if wildcard else host)
                self.markers.extend(service.inline)
        host_re = "(?:" + "|".join(hosts) + ")"
        url = r"""["']?(?:https?:)?//""" + host_re + r"""[/"'?:\s>]"""
        self.script_src = re.compile(
            r"<script\b[^>]*\bsrc\s*=\s*" + url + r"[^>]*>.*?</script\s*>", re.I | re.S
        )
        self.embed_src = re.compile(r"<(?:img|iframe)\b[^>]*\bsrc\s*=\s*" + url + r"[^>]*>", re.I | re.S)
        self.inline_script = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)
        self.body_end = re.compile(r"</body\s*>", re.I)
        renderer = Renderer(policy, "/_consent")
        self.banner = renderer.stylesheet().decode("ascii") + renderer.banner(
            policy.default_language, next_url="/", encoding="utf-8"
        ).decode("utf-8")

    def _strip_inline(self, match: re.Match[str]) -> str:
        content = match.group(1)
        return "" if any(marker in content for marker in self.markers) else match.group(0)

    def rewrite(self, page: str) -> str:
        page = self.script_src.sub("", page)
        page = self.embed_src.sub("", page)
        page = self.inline_script.sub(self._strip_inline, page)
        return self.body_end.sub(lambda m: self.banner + m.group(0), page, count=1)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if not response.headers.get("content-type", "").startswith("text/html"):
            return response
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        page = b"".join(c if isinstance(c, bytes) else c.encode("utf-8") for c in chunks)
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        body = self.rewrite(page.decode("utf-8")).encode("utf-8")
        return Response(body, status_code=response.status_code, headers=headers)
