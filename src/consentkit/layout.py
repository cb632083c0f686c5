"""The settings page in the site's own layout: what a layout hook receives and returns.

``ConsentMiddleware(..., settings_layout=hook)``: ``GET /_consent/settings`` then calls
``hook(page)`` (in a worker thread) with a :class:`SettingsPage` and sends the HTML it returns,
with tracker blocking applied as on any page. ``consentkit.jinja.settings_layout`` and
``consentkit.django.settings_layout`` build hooks that render a template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SettingsLayout", "SettingsPage"]


@dataclass(frozen=True)
class SettingsPage:
    """The settings page's parts, for a layout to place."""

    #: The settings markup (a stylesheet link and ``<main id="consentkit-settings">``), already escaped.
    content: str
    #: The page title in ``lang`` (``texts.<lang>.settings_title``).
    title: str
    #: The page's language: put it in ``<html lang>``.
    lang: str
    #: The ASGI scope of the request, for layouts that need the request.
    scope: Mapping[str, Any]


#: A function from the settings page's parts to a whole HTML document.
SettingsLayout = Callable[[SettingsPage], str]
