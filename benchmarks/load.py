"""Load run: uvicorn with several workers, many mixed requests at high concurrency.

Pages with and without a consent cookie, consent decisions through the form, static files and
the consent state. Passes only with 0 errors, exactly one audit record for every decision
answered 303, and an audit file that `consentkit audit verify` accepts.

    python benchmarks/load.py                 # 20,000 requests, concurrency 64, 2 workers
    python benchmarks/load.py --requests 2000 # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from consentkit.audit import verify_file
from consentkit.cli import DEMO_KEY

HERE = Path(__file__).resolve().parent


@dataclass
class Tally:
    """What the load generator saw."""

    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    decisions_303: int = 0
    latencies: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_until_up(base: str, deadline: float) -> None:
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(base + "/collect/stats")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def one(client: httpx.AsyncClient, kind: str, cookies: dict[str, str], tally: Tally) -> None:
    started = time.perf_counter()
    try:
        if kind == "first-visit":
            response = await client.get("/", headers={"accept-language": "fr-CA,fr;q=0.9"})
            expected = 200
        elif kind == "declined":
            response = await client.get("/fr", cookies={"consentkit": cookies["declined"]})
            expected = 200
        elif kind == "accepted":
            response = await client.get("/privacy", cookies={"consentkit": cookies["accepted"]})
            expected = 200
        elif kind == "decide":
            action = random.choice(["accept_all", "reject_all", "save"])
            data = {
                "action": action,
                "next": "/",
                "categories": random.sample(["analytics", "marketing"], k=1),
            }
            response = await client.post("/_consent", data=data, headers={"origin": str(client.base_url)})
            expected = 303
        elif kind == "state":
            response = await client.get("/_consent", cookies={"consentkit": cookies["accepted"]})
            expected = 200
        else:
            response = await client.get("/static/site.css")
            expected = 200
    except httpx.HTTPError as exc:
        tally.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
        return
    tally.latencies.append(time.perf_counter() - started)
    tally.statuses[f"{kind} {response.status_code}"] += 1
    if response.status_code != expected:
        tally.errors.append(f"{kind}: HTTP {response.status_code}")
    elif kind == "decide":
        tally.decisions_303 += 1


async def generate(base: str, requests: int, concurrency: int) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30, follow_redirects=False) as client:
        cookies = {}
        for action, name in (("reject_all", "declined"), ("accept_all", "accepted")):
            response = await client.post("/_consent", data={"action": action}, headers={"origin": base})
            assert response.status_code == 303
            tally.decisions_303 += 1
            cookies[name] = response.cookies["consentkit"]
            client.cookies.clear()
        kinds = random.choices(
            ["first-visit", "declined", "accepted", "decide", "state", "static"],
            weights=[35, 20, 20, 15, 5, 5],
            k=requests,
        )
        queue: asyncio.Queue[str] = asyncio.Queue()
        for kind in kinds:
            queue.put_nowait(kind)

        async def worker() -> None:
            while not queue.empty():
                await one(client, queue.get_nowait(), cookies, tally)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tally


def run(requests: int, concurrency: int, workers: int, seed: int) -> int:
    random.seed(seed)
    with tempfile.TemporaryDirectory() as scratch:
        audit = Path(scratch) / "audit.jsonl"
        port = free_port()
        env = {**os.environ, "CONSENTKIT_LOAD_AUDIT": str(audit), "CONSENTKIT_SECRET_KEYS": DEMO_KEY}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "load_app:create_app", "--app-dir", str(HERE),
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
             "--no-access-log",
             # longer than any pause of a pooled client connection: otherwise the server may close an
             # idle keep-alive connection just as the client sends on it (a client-side race, not an error)
             "--timeout-keep-alive", "75"],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(wait_until_up(base, time.monotonic() + 60))
            started = time.perf_counter()
            tally = asyncio.run(generate(base, requests, concurrency))
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
        records = audit.read_bytes().count(b"\n") if audit.exists() else 0
        report = verify_file(audit, [DEMO_KEY.encode()])
    latencies = sorted(tally.latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    print(f"{requests} requests, concurrency {concurrency}, {workers} workers: {elapsed:.1f} s, "
          f"{requests / elapsed:.0f} requests/s, p99 {p99:.1f} ms")  # fmt: skip
    for key, count in sorted(tally.statuses.items()):
        print(f"  {key}: {count}")
    print(f"errors: {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"  {error}")
    missing = tally.decisions_303 - records
    print(f"decisions answered 303: {tally.decisions_303}, audit records: {records}, missing: {missing}")
    print(f"consentkit audit verify: {'OK' if report.ok else report.problems[0]}")
    return 0 if not tally.errors and missing == 0 and report.ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return run(args.requests, args.concurrency, args.workers, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
