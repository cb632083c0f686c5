"""A per-client limit on recorded decisions, so one address posting in a loop cannot fill the disk."""

from __future__ import annotations

import time
from typing import Final

__all__ = ["RateLimiter"]

_MAX_CLIENTS: Final = 65_536


class RateLimiter:
    """A token bucket per client address: ``per_minute`` decisions a minute, bursts up to that many.

    Memory is bounded: past ``max_clients`` addresses, idle ones (full buckets) are forgotten,
    then the oldest. ``per_minute`` 0 disables the limit. One limiter per process: with N
    worker processes an address gets up to N times the limit.
    """

    def __init__(self, per_minute: int, *, max_clients: int = _MAX_CLIENTS) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str | None, now: float | None = None) -> bool:
        """Take one token for ``client``; False when its bucket is empty."""
        if not self.per_minute:
            return True
        key = client or ""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= self.max_clients:
            self._forget(now)
        self._buckets[key] = (tokens, now)  # re-inserted: the dict stays in least-recent order
        return allowed

    def _forget(self, now: float) -> None:
        full = [
            k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.per_minute
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:
            for key in list(self._buckets)[: self.max_clients // 2]:
                del self._buckets[key]
