"""Choosing the banner's language: the page's ``<html lang>``, then ``Accept-Language``, then the default."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["match_language", "negotiate"]

_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$")


@lru_cache(maxsize=512)
def match_language(tag: str, available: tuple[str, ...]) -> str | None:
    """The available language for a tag: exact (case-insensitive), else by primary subtag (fr-CA -> fr)."""
    tag = tag.strip().lower()
    if not tag:
        return None
    by_lower = {lang.lower(): lang for lang in available}
    if tag in by_lower:
        return by_lower[tag]
    primary = tag.split("-", 1)[0]
    if primary in by_lower:
        return by_lower[primary]
    for lower, lang in by_lower.items():
        if lower.split("-", 1)[0] == primary:
            return lang
    return None


@lru_cache(maxsize=512)
def negotiate(header: str, available: tuple[str, ...]) -> str | None:
    """The best available language for an ``Accept-Language`` header (q-values honoured)."""
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:512].split(",")[:32]):
        m = _RANGE.match(part)
        if m is None:
            continue
        try:
            quality = float(m.group(2)) if m.group(2) is not None else 1.0
        except ValueError:
            continue
        if 0 < quality <= 1:
            ranges.append((-quality, index, m.group(1)))
    for _, _, tag in sorted(ranges):
        if tag == "*":
            return available[0] if available else None
        found = match_language(tag, available)
        if found is not None:
            return found
    return None
