"""Django template tag libraries (``{% load consentkit %}``, with ``"consentkit"`` in INSTALLED_APPS)."""
