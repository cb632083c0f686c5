"""What templates and views see where there is no consent to read: nothing allowed, nothing decided.

Used by :mod:`consentkit.jinja` and :mod:`consentkit.django` when a request did not come through
``ConsentMiddleware`` and no policy is configured to read the cookie with.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

__all__ = ["NoConsent"]

logger = logging.getLogger("consentkit")


class NoConsent:
    """What ``consent`` is in a template without a consent to read: nothing allowed, nothing decided."""

    warned = False
    decided = False
    has_choice = False
    subject_id = None
    choices: Mapping[str, bool] = {}

    def allows(self, category: str) -> bool:
        if not NoConsent.warned:
            NoConsent.warned = True
            logger.warning(
                "consentkit: a template asked consent.allows(%r) but the request has no consent "
                "(no ConsentMiddleware in front of the app, or no `request` in the template context); "
                "nothing is allowed",
                category,
            )
        return False

    def __repr__(self) -> str:
        return "<consentkit: no consent on this request>"
