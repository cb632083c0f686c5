"""Framework integrations: each framework's app behind ConsentMiddleware passes the same contract.

Every test module builds a small app the way ``docs/integrations/<framework>.md`` tells readers
to, serving ``/`` as an HTML page that carries a Google tag and prints ``analytics=True`` or
``analytics=False`` as the app itself reads the decision. :func:`check_contract` then drives it
like a browser without JavaScript: banner, decline, accept, with the audit file checked at
every step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from consentkit.audit import verify_file

from ..conftest import KEY, client_for, decide

GTAG = '<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
BANNER = 'id="consentkit-banner"'

_DECISION = re.compile(r"analytics=(True|False)")


def html_page(framework: str, analytics: bool) -> str:
    """The page each app serves, filled in by the app from the decision it reads."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{framework}</title>{GTAG}</head>'
        f"<body><h1>{framework}</h1><p>analytics={analytics}</p></body></html>"
    )


def decision(text: str) -> bool:
    """``analytics=...`` as the app printed it (exactly once on the page)."""
    found: list[str] = _DECISION.findall(text)
    assert len(found) == 1, f"expected one analytics=True/False in the page, found {found}: {text[:300]}"
    return found[0] == "True"


def audit_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def check_contract(app: Any, audit_path: Path, page: str = "/") -> None:
    """Banner once, tracker removed, decisions recorded and visible to the app."""
    async with client_for(app) as client:
        first = await client.get(page)
        assert first.status_code == 200, first.text
        assert first.headers["content-type"].startswith("text/html")
        assert first.text.count(BANNER) == 1
        assert "googletagmanager" not in first.text
        assert "<!-- consentkit: blocked analytics -->" in first.text
        assert decision(first.text) is False
        assert "cookie" in first.headers["vary"].lower()
        assert audit_records(audit_path) == []

        declined = await decide(client, "reject_all", next_url=page)
        assert declined.status_code == 303, declined.text
        assert declined.headers["location"] == page
        records = audit_records(audit_path)
        assert [(r["event"], r["choices"]["analytics"]) for r in records] == [("refused", False)]
        second = await client.get(page)
        assert second.status_code == 200
        assert BANNER not in second.text
        assert "googletagmanager" not in second.text
        assert decision(second.text) is False

        accepted = await decide(client, "accept_all", next_url=page)
        assert accepted.status_code == 303, accepted.text
        records = audit_records(audit_path)
        assert [(r["event"], r["choices"]["analytics"]) for r in records] == [
            ("refused", False),
            ("updated", True),
        ]
        third = await client.get(page)
        assert third.status_code == 200
        assert BANNER not in third.text
        assert decision(third.text) is True
        assert GTAG in third.text  # allowed now: the app's tag reaches the browser unchanged

    report = verify_file(audit_path, [KEY.encode()])
    assert report.ok and report.records == 2, report.problems
