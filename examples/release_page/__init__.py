"""consentkit demo site: a human-rights news release page (see app.py)."""
