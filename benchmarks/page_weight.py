"""Bytes a page carries: the demo's release page for a first visit and for a decided visitor.

Prints the page as sent (and gzip-compressed, as a compressing proxy would send it), and what
consentkit adds to it, plus consentkit's stylesheet (fetched once, then cached). Run it on two
checkouts to compare: ``python benchmarks/page_weight.py``.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import sys
import tempfile
from pathlib import Path

import httpx

from consentkit.cli import demo_app, load_example_app


async def measure() -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        app, _, _ = demo_app(audit=str(Path(tmp) / "audit.jsonl"))
        bare = load_example_app(Path(__file__).resolve().parents[1] / "examples" / "release_page")
        figures: dict[str, int] = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://t") as client:
            original = (await client.get("/")).content
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            first = (await client.get("/")).content
            link = re.search(rb'href="(/_consent/consentkit\.[0-9a-f]+\.css)"', first)
            css = (await client.get(link.group(1).decode())).content if link else b""
            await client.post(
                "/_consent", data={"action": "reject_all", "next": "/"}, headers={"origin": "http://t"}
            )
            await client.get("/")
            decided = (await client.get("/")).content

    # the demo's own per-request nonce differs between responses; compare like with like
    def norm(page: bytes) -> bytes:
        return re.sub(rb'nonce="[^"]*"', b'nonce=""', page)

    figures["app page"] = len(norm(original))
    figures["first visit page"] = len(norm(first))
    figures["first visit page, gzip"] = len(gzip.compress(norm(first), 6))
    figures["added on first visit"] = len(norm(first)) - len(norm(original))
    figures["decided visitor page"] = len(norm(decided))
    figures["added for a decided visitor"] = len(norm(decided)) - len(norm(original))
    figures["consentkit stylesheet (once, cached)"] = len(css)
    figures["consentkit stylesheet, gzip"] = len(gzip.compress(css, 6)) if css else 0
    return figures


def main() -> int:
    for name, value in asyncio.run(measure()).items():
        print(f"{name:40} {value:8d} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
