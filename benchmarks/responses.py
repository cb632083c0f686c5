"""What reading responses as a browser does costs: pages compressed by the app, UTF-16 and
ISO-2022-JP pages, sniffed pages; each a ratio against the same page from a plain UTF-8
``text/html`` app behind consentkit, and against the bare app, in interleaved rounds.

Usage: ``python benchmarks/responses.py [--rounds 15] [--requests 200]``. Prints a table; no
file is written. Same caveat as run.py: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from consentkit import ConsentMiddleware, parse_policy

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KEY = "benchmark-secret-key-0123456789abcdef"
POLICY = REPO / "examples" / "release_page" / "consent.yaml"


async def page() -> str:
    """The release page as the demo app renders it (about 20 KB), without consentkit."""
    from consentkit.cli import _example_dir, load_example_app

    app = load_example_app(_example_dir())
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "scheme": "http",
        "root_path": "",
    }
    await app(scope, receive, send)
    return b"".join(body).decode("utf-8")


def raw_app(headers: list[tuple[bytes, bytes]], body: bytes) -> Callable[..., Any]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def timed(app: Any, count: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        return None

    headers = [(b"host", b"bench"), (b"accept-language", b"en"), (b"accept-encoding", b"gzip")]
    start = time.perf_counter()
    for _ in range(count):
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "headers": headers,
            "scheme": "https",
            "root_path": "",
        }
        await app(scope, receive, send)
    return (time.perf_counter() - start) / count * 1e6


async def main(rounds: int, count: int) -> None:
    policy = parse_policy(POLICY.read_text(encoding="utf-8"))
    html = await page()
    utf8 = html.encode("utf-8")
    variants: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {
        "text/html; charset=utf-8 (reference)": ([(b"content-type", b"text/html; charset=utf-8")], utf8),
        "no Content-Type (sniffed)": ([], utf8),
        "text/plain, text/html": ([(b"content-type", b"text/plain, text/html; charset=utf-8")], utf8),
        "gzip from the app": (
            [(b"content-type", b"text/html; charset=utf-8"), (b"content-encoding", b"gzip")],
            gzip.compress(utf8, 6),
        ),
        "UTF-16 (re-labelled UTF-8)": (
            [(b"content-type", b"text/html; charset=utf-16")],
            html.encode("utf-16-le"),
        ),
        "ISO-2022-JP (decoded, encoded back)": (
            [(b"content-type", b"text/html; charset=iso-2022-jp")],
            html.encode("iso2022_jp", "xmlcharrefreplace"),
        ),
    }
    samples: dict[str, dict[str, list[float]]] = {name: {"bare": [], "ck": []} for name in variants}
    apps = {
        name: (raw_app(h, b), ConsentMiddleware(raw_app(h, b), policy, secret_keys=[KEY], audit_path=None))
        for name, (h, b) in variants.items()
    }
    for _ in range(rounds):
        for name, (bare, wrapped) in apps.items():
            samples[name]["bare"].append(await timed(bare, count))
            samples[name]["ck"].append(await timed(wrapped, count))
    reference = statistics.median(samples[next(iter(variants))]["ck"])
    print(
        f"{f'page ({len(utf8) // 1024} KB, first visit, memoised)':40}"
        "  bare us  consentkit us  vs bare  vs reference"
    )
    for name in variants:
        bare, ck = statistics.median(samples[name]["bare"]), statistics.median(samples[name]["ck"])
        print(f"{name:40}  {bare:7.1f}  {ck:13.1f}  {ck / bare:6.2f}x  {ck / reference:11.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.requests))
