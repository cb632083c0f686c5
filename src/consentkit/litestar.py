"""Litestar in one line: ``Litestar(..., plugins=[ConsentPlugin(policy="consent.yaml")])``.

Litestar runs middleware only for requests a route matches, so a bare ``DefineMiddleware``
never sees ``POST /_consent``. The plugin adds both the middleware and a route that claims
consentkit's paths (the route's body never runs: the middleware answers first). One
:class:`~consentkit.ConsentMiddleware` is configured once and shared by every route (one policy,
one audit trail), although Litestar builds a middleware stack per route.

litestar is an optional dependency: this is the only module of consentkit that imports it.
"""

from __future__ import annotations

import copy
from typing import Any

from litestar import Response, route
from litestar.config.app import AppConfig
from litestar.enums import HttpMethod
from litestar.plugins import InitPluginProtocol

from .middleware import ConsentMiddleware

__all__ = ["ConsentPlugin"]


class ConsentPlugin(InitPluginProtocol):
    """Adds ConsentMiddleware to a Litestar app; takes ConsentMiddleware's arguments."""

    def __init__(self, policy: Any, **options: Any) -> None:
        #: The configured middleware; each route gets a shallow copy around its own handler.
        self.middleware = ConsentMiddleware(None, policy, **options)

    def _wrap(self, app: Any) -> ConsentMiddleware:
        wrapped = copy.copy(self.middleware)
        wrapped.app = app
        return wrapped

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        prefix = self.middleware.prefix

        @route(
            [prefix, prefix + "/{rest:path}", "/.well-known/gpc.json"],
            http_method=[HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST],
            include_in_schema=False,
        )
        async def consentkit_paths() -> Response[None]:
            """Claims consentkit's paths so that Litestar runs the middleware there; never reached."""
            return Response(None, status_code=404)  # pragma: no cover

        app_config.route_handlers = [*app_config.route_handlers, consentkit_paths]
        app_config.middleware = [self._wrap, *app_config.middleware]
        return app_config
