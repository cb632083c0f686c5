"""A fingerprint of what visitors agreed to: each optional category's services, hosts and cookies.

The consent cookie keeps the fingerprint of every category the visitor was shown. When what is
behind a category changes (a service, host, inline marker or cookie added or removed, the
privacy-signal rule changed), that category is asked about again, even if ``version`` was not
changed; wording changes alone do not re-ask (``notice_hash`` in the audit trail covers them).
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

from .policy import Policy

__all__ = ["category_fingerprints", "policy_fingerprint"]

#: Hex digits kept per category: enough to notice a change, small in the cookie.
DIGITS: Final = 8


def category_fingerprints(policy: Policy) -> dict[str, str]:
    """``{category: fingerprint}`` for every optional category, in policy order."""
    prints = {}
    for name in policy.optional_categories:
        category = policy.categories[name]
        shown = {
            "gpc": category.gpc,
            "services": {
                svc_name: {
                    "hosts": sorted(service.hosts),
                    "inline": sorted(service.inline),
                    "cookies": sorted(c.name for c in service.cookie_info),
                }
                for svc_name, service in sorted(category.services.items())
            },
        }
        digest = hashlib.sha256(json.dumps(shown, sort_keys=True).encode("utf-8")).hexdigest()
        prints[name] = digest[:DIGITS]
    return prints


def policy_fingerprint(policy: Policy) -> str:
    """One fingerprint for the whole policy (what ``consentkit check`` shows)."""
    parts = ",".join(f"{name}={value}" for name, value in category_fingerprints(policy).items())
    return hashlib.sha256(parts.encode("utf-8")).hexdigest()[:16]
