"""One incomplete construct across many chunks: an inline ``data:`` image of 2, 4 and 8 MB fed
to the rewriter in 4 KB chunks. Linear cost means the time ratio 8 MB / 2 MB stays near 4
(it was about 16, quadratic, before the tag scanner; issue #14 §3).

Run: ``.venv/bin/python benchmarks/chunked_tag.py``
"""

from __future__ import annotations

import time

from consentkit import parse_policy
from consentkit.rewrite import BlockPlan, Rewriter

POLICY = parse_policy(
    """\
version: "1"
categories:
  necessary: {required: true}
  marketing:
    services:
      pixel: {hosts: [www.facebook.com]}
texts:
  en: {title: t, body: b, accept: a, decline: d, categories: {marketing: {label: m, description: d}}}
"""
)
PLAN = BlockPlan.build(POLICY, ["marketing"])


def run(megabytes: int, chunk: int = 4096) -> float:
    page = b'<body><img src="data:image/png;base64,' + b"A" * (megabytes << 20) + b'"><p>x</p>'
    best = float("inf")
    for _ in range(3):
        rewriter = Rewriter(PLAN, None)
        start = time.perf_counter()
        for i in range(0, len(page), chunk):
            rewriter.feed(page[i : i + chunk])
        rewriter.close()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    times = {mb: run(mb) for mb in (2, 4, 8)}
    for mb, seconds in times.items():
        print(f"{mb} MB tag in 4 KB chunks: {seconds * 1000:.0f} ms")
    print(f"ratio 8 MB / 2 MB: {times[8] / times[2]:.1f} (linear: 4, quadratic: 16)")


if __name__ == "__main__":
    main()
