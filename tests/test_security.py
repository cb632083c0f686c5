"""Hostile input: forged cookies, cross-site posts, injected markup, oversized and slow bodies.

Each test stands for a threat in docs/threat-model.md.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import html5lib
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from starlette.routing import Route

from consentkit import CategoryText, ConsentMiddleware, Texts, parse_policy
from consentkit import endpoint as endpoint_module

from .conftest import KEY, POLICY_YAML, client_for, make_app, page_route

pytestmark = pytest.mark.anyio
POLICY = parse_policy(POLICY_YAML)
APP = make_app(POLICY)

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</style><script>alert(1)</script>",
    "javascript:alert(1)",
    "{{7*7}}",
    "&lt;script&gt;",
]

token_like = st.builds(
    lambda a, b, c: ".".join([a, b, c]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=120),
    st.text(alphabet="ABCDEFabcdef0123456789-_", max_size=10),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=50),
)
json_payloads = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
forged = st.builds(
    lambda payload, key: URLSafeTimedSerializer(key, salt="consentkit.consent.v1").dumps(payload),
    json_payloads,
    st.sampled_from(["attacker-key-0123456789abcdef", KEY[::-1]]),
)
unsigned = json_payloads.map(lambda p: base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("="))
random_text = st.text(alphabet=st.characters(codec="latin-1", exclude_characters=";\r\n\x00"), max_size=400)


# 10,000 under `make fuzz` (pytest --long); 2,500 in `make test`, which must stay quick.
HOSTILE_COOKIES = 10_000 if os.environ.get("CONSENTKIT_FUZZ_LONG") == "1" else 2_500


@settings(
    max_examples=HOSTILE_COOKIES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(value=st.one_of(random_text, token_like, forged, unsigned))
async def test_thousands_of_hostile_cookies_mean_no_decision(value: str) -> None:
    async with client_for(APP) as client:
        response = await client.get(
            "/_consent", headers=[(b"cookie", b"consentkit=" + value.encode("latin-1"))]
        )
    assert response.status_code == 200
    assert response.json()["decided"] is False


async def test_a_cookie_replayed_from_an_older_policy_version_is_no_decision(tmp_path: Path) -> None:
    old = URLSafeTimedSerializer(
        KEY,
        salt="consentkit.consent.v1",
        signer_kwargs={"key_derivation": "hmac", "digest_method": __import__("hashlib").sha256},
    ).dumps({"v": "2024-01-01", "s": "subject-0123456789", "c": {"analytics": 1, "marketing": 1}})
    async with client_for(make_app(POLICY, tmp_path=tmp_path)) as client:
        state = (await client.get("/_consent", headers={"cookie": f"consentkit={old}"})).json()
    assert state["decided"] is False and state["choices"]["marketing"] is False


@pytest.mark.parametrize("payload", XSS)
async def test_markup_in_every_policy_text_is_rendered_inert(payload: str, tmp_path: Path) -> None:
    escaped = payload.replace("{", "{{").replace("}", "}}")
    keys = ("title", "accept", "decline", "settings", "save", "privacy_policy", "always_on", "settings_link",
            "settings_title", "settings_intro", "saved", "gpc_honored", "skip_link", "back", "services",
            "necessary_label", "necessary_description", "no_choice_yet")  # fmt: skip
    texts = Texts(
        body=escaped + " {privacy_policy}",
        embed_blocked=escaped + " {service} {category}",
        embed_allow=escaped + " {category}",
        current_choice=escaped + " {date}",
        categories={name: CategoryText(payload, payload) for name in ("analytics", "marketing")},
        **dict.fromkeys(keys, escaped),
    )
    policy = POLICY.with_changes(texts={"en": texts}, privacy_policy_url="/privacy?x=%22%3E")
    html = (
        '<html><body><iframe src="https://www.youtube.com/embed/x" width=1 height=1></iframe></body></html>'
    )
    app = make_app(policy, [Route("/", page_route(html))], tmp_path=tmp_path)
    async with client_for(app) as client:
        pages = [
            (await client.get("/")).text,
            (await client.get("/_consent/settings")).text,
            (await client.get("/", headers={"sec-gpc": "1"})).text,
        ]
        await client.post("/_consent", data={"action": "reject_all"}, headers={"origin": "http://testserver"})
        pages.append((await client.get("/")).text)
    for page in pages:
        for raw in ("<script>alert", "<img src=x", "<svg onload", "</style><script"):
            assert raw not in page  # only ever as escaped text
        tree = html5lib.parse(page, namespaceHTMLElements=False)
        for element in tree.iter():
            assert not any(name.startswith("on") for name in element.attrib), element.attrib
            if element.tag == "script":
                assert "alert" not in (element.text or "")
            for name in ("href", "src", "action"):
                assert not (element.get(name) or "").lower().startswith("javascript:")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ('/?q="><script>alert(1)</script>', {}),
        ("/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E", {}),
        ("/", {"accept-language": '"><script>alert(1)</script>'}),
        ("/_consent/settings?next=%22%3E%3Cscript%3Ealert(1)%3C/script%3E", {}),
        ("/_consent/settings?next=javascript:alert(1)&lang=%3Cscript%3E", {}),
    ],
)
async def test_request_values_are_rendered_inert(path: str, headers: dict[str, str]) -> None:
    async with client_for(APP) as client:
        page = (await client.get(path, headers=headers)).text
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page


async def _call(
    app: Any, scope_extra: dict[str, Any], chunks: list[bytes], *, complete: bool = True
) -> tuple[int, list[dict[str, Any]], int]:
    """Call the ASGI app directly; returns (status, sent messages, how many body chunks it read).

    With ``complete=False`` the client stops sending after ``chunks`` without ending the body.
    """
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        if reads < len(chunks):
            reads += 1
            more = reads < len(chunks) or not complete
            return {"type": "http.request", "body": chunks[reads - 1], "more_body": more}
        await asyncio.sleep(3600)
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/_consent", "raw_path": b"/_consent", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver"),
                    (b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("203.0.113.9", 1234), "server": ("testserver", 80),
    }  # fmt: skip
    scope.update(scope_extra)
    await app(scope, receive, send)
    return sent[0]["status"], sent, reads


async def test_an_oversized_body_is_refused_without_reading_it() -> None:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"),
               (b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"1048576")]  # fmt: skip
    status, sent, reads = await _call(APP, {"headers": headers}, [b"x" * 65536] * 16)
    assert status == 413 and reads == 0
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_a_chunked_oversized_body_stops_being_read_at_the_limit() -> None:
    status, _, reads = await _call(APP, {}, [b"a" * 4096] * 64)
    assert status == 413 and reads == 5


async def test_a_slow_client_times_out_without_holding_up_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoint_module, "BODY_TIMEOUT", 0.5)

    async def slow_post() -> int:
        status, _, _ = await _call(APP, {}, [b"a"], complete=False)  # one byte, then silence
        return status

    async def pages() -> float:
        started = time.monotonic()
        async with client_for(APP) as client:
            for _ in range(20):
                assert (await client.get("/")).status_code == 200
        return time.monotonic() - started

    slow = asyncio.create_task(slow_post())
    await asyncio.sleep(0.05)
    served_in = await pages()
    assert not slow.done()  # the slow body is still trickling in while pages were served
    assert await slow == 408
    assert served_in < 0.5


async def test_only_our_own_prefix_is_ours() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})

    wrapped = ConsentMiddleware(app, POLICY, secret_keys=[KEY])
    async with client_for(wrapped) as client:
        for path in ("/_consentfoo", "/x/_consent", "/_Consent"):
            assert (await client.get(path)).text == "app"
    assert seen == ["/_consentfoo", "/x/_consent", "/_Consent"]


async def test_the_cookie_is_http_only_and_carries_no_readable_choices(tmp_path: Path) -> None:
    async with client_for(make_app(POLICY, tmp_path=tmp_path)) as client:
        response = await client.post(
            "/_consent", data={"action": "accept_all"}, headers={"origin": "http://testserver"}
        )
    header = next(c for c in response.headers.get_list("set-cookie") if c.startswith("consentkit="))
    assert "HttpOnly" in header
    assert len(header) < 400


async def test_app_exceptions_are_not_swallowed(tmp_path: Path) -> None:
    async def boom(request: Any) -> Any:
        raise RuntimeError("app failure")

    app = make_app(POLICY, [Route("/", boom)], tmp_path=tmp_path)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        with pytest.raises(RuntimeError, match="app failure"):
            await client.get("/")


async def test_a_client_disconnect_mid_stream_propagates_and_leaves_no_task(tmp_path: Path) -> None:
    from starlette.responses import StreamingResponse

    async def stream(request: Any) -> Any:
        async def body() -> Any:
            yield b"<html><body>"
            for _ in range(100):
                yield b"<p>" + b"x" * 1000 + b"</p>"
                await asyncio.sleep(0)
            yield b"</body></html>"

        return StreamingResponse(body(), media_type="text/html")

    app = make_app(POLICY, [Route("/", stream)], tmp_path=tmp_path)
    before = len(asyncio.all_tasks())
    sent = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal sent
        if message["type"] == "http.response.body":
            sent += 1
            if sent == 3:
                raise OSError("client went away")

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        raise AssertionError

    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver")], "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"},
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}  # fmt: skip
    with pytest.raises((OSError, BaseExceptionGroup)):
        await app(scope, receive, send)
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before
