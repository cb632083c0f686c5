"""WebSocket handshakes: the ``Set-Cookie`` of ``websocket.accept`` is filtered like any response's (#14 §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from consentkit import ConsentMiddleware, Policy

from .conftest import KEY, client_for, decide

pytestmark = pytest.mark.anyio

TRACKER_COOKIES = [
    (b"set-cookie", b"_ga=GA1.1.123.456; Path=/; Max-Age=3600"),
    (b"Set-Cookie", b"_fbp=fb.1.2.3; Path=/"),
    (b"set-cookie", b"session=abc; Path=/; HttpOnly"),
]


def _app(policy: Policy, tmp_path: Path) -> Starlette:
    async def socket(websocket: WebSocket) -> None:
        consent = websocket.state.consent
        await websocket.accept(headers=TRACKER_COOKIES)
        await websocket.send_text(f"{consent.allows('analytics')}:{consent.allows('marketing')}")
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws", socket)])
    app.add_middleware(ConsentMiddleware, policy=policy, secret_keys=[KEY], audit_path=tmp_path / "a.jsonl")
    return app


async def _handshake(app: Any, cookie: str | None = None) -> tuple[set[str], str]:
    """Open /ws as a browser would: the cookies the accept sets, and the first text frame."""
    headers = [(b"host", b"testserver"), (b"sec-websocket-version", b"13")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": headers,
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "subprotocols": [],
    }
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    [accept] = [m for m in sent if m["type"] == "websocket.accept"]
    names = {v.split(b"=", 1)[0].decode() for k, v in accept.get("headers", []) if k.lower() == b"set-cookie"}
    text = next(m["text"] for m in sent if m["type"] == "websocket.send")
    return names, text


async def test_websocket_accept_drops_cookies_of_denied_categories(policy: Policy, tmp_path: Path) -> None:
    assert await _handshake(_app(policy, tmp_path)) == ({"session"}, "False:False")


async def test_websocket_accept_keeps_cookies_the_visitor_allowed(policy: Policy, tmp_path: Path) -> None:
    app = _app(policy, tmp_path)
    async with client_for(app) as client:
        assert (await decide(client, "save", ("analytics",))).status_code == 303
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    assert await _handshake(app, cookie) == ({"session", "_ga"}, "True:False")
