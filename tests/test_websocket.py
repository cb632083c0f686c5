"""WebSocket handshakes: the ``Set-Cookie`` of ``websocket.accept`` is filtered like any response's (#14 §3)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from consentkit import ConsentMiddleware, Policy

from .conftest import KEY

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


def _cookie_names(headers: list[tuple[bytes, bytes]] | None) -> set[str]:
    return {v.split(b"=", 1)[0].decode() for k, v in headers or [] if k.lower() == b"set-cookie"}


def test_websocket_accept_drops_cookies_of_denied_categories(policy: Policy, tmp_path: Path) -> None:
    with TestClient(_app(policy, tmp_path)) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "False:False"
        assert _cookie_names(ws.extra_headers) == {"session"}


def test_websocket_accept_keeps_cookies_the_visitor_allowed(policy: Policy, tmp_path: Path) -> None:
    with TestClient(_app(policy, tmp_path)) as client:
        response = client.post(
            "/_consent",
            data={"action": "save", "categories": ["analytics"]},
            headers={"origin": "http://testserver"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "True:False"
            assert _cookie_names(ws.extra_headers) == {"session", "_ga"}
