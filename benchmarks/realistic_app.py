"""The realistic app of ``make bench``: the release page rendered by Jinja2 on every request.

The example's own templates (``examples/release_page/templates``, whose ``{{ name }}``
placeholders are Jinja2 syntax) are compiled by Jinja2 and rendered per request with the
values the example computes, plus what a real CMS page has: a per-request CSRF token in
``<head>`` and in the newsletter form, and a "related releases" list rendered by loops (6
items, each with an image and 3 inline SVG share icons: benchmarks/templates/related.html).
Every response's bytes differ (the token), so no memo can serve it: consentkit rewrites
every page in full.

Routes: ``/cpu`` (CPU-bound: render and respond), ``/io`` (the same after 2 ms of simulated
I/O, ``asyncio.sleep(0.002)``, as a database query would take), ``/api/releases`` (1 KB
JSON). ``build("bare")`` is the app alone, ``build("consentkit")`` behind ConsentMiddleware
with the demo's policy.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
from pathlib import Path
from typing import Any, Final

import jinja2
from run import RELEASES
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware
from consentkit.cli import DEMO_KEY, _example_dir

HERE: Final = Path(__file__).resolve().parent
CPU_PATH: Final = "/cpu"
IO_PATH: Final = "/io"
JSON_PATH: Final = "/api/releases"
IO_SECONDS: Final = 0.002

NETWORKS: Final = [
    {"key": "mastodon", "label": "Share on Mastodon", "path": "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20z"},
    {"key": "bluesky", "label": "Share on Bluesky", "path": "M5 4c3 2 5 5 7 8 2-3 4-6 7-8v6c0 3-3 4-5 4z"},
    {"key": "email", "label": "Share by email", "path": "M3 5h18v14H3zm0 0 9 7 9-7"},
]
RELATED: Final = [
    {
        "href": f"/news/2026/11/{20 - n:02d}/release-{n}",
        "image": f"/static/img/report-{'rohingya' if n % 2 else 'chagossians'}.svg",
        "kind": "News Release" if n % 3 else "Report",
        "title": f"Related release number {n}: States Should Protect Civilians & Uphold Justice",
        "date": f"2026-11-{20 - n:02d}",
        "date_text": f"November {20 - n}, 2026",
    }
    for n in range(1, 7)
]


class JinjaSite:
    """The example's ``_Site``, with every template compiled and rendered by Jinja2."""

    def __init__(self, example: Any) -> None:
        templates = example.TEMPLATES_DIR
        self.site = example._Site(templates)
        loader = jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(HERE / "templates")), jinja2.FileSystemLoader(str(templates))]
        )
        # The example's values are HTML already (it escapes them); the loops escape their own.
        self.env = jinja2.Environment(loader=loader, autoescape=False, auto_reload=False)
        self.related = jinja2.Environment(loader=loader, autoescape=True).get_template("related.html")
        self.compiled: dict[str, jinja2.Template] = {}
        for name in ("layout", "release.en", "newsletter_form"):
            source = (templates / f"{name}.html").read_text(encoding="utf-8")
            if name == "layout":
                source = source.replace(
                    "<head>", '<head>\n<meta name="csrf-token" content="{{ csrf_token }}">', 1
                )
                source = source.replace("{{ content }}", "{{ content }}\n{{ related }}", 1)
            if name == "newsletter_form":
                hidden = '<input type="hidden" name="page"'
                token = '<input type="hidden" name="csrf" value="{{ csrf_token }}">\n'
                source = source.replace(hidden, token + hidden, 1)
            self.compiled[name] = self.env.from_string(source)
        self.token = ""
        self.site._fill = self._fill  # the example's rendering, through Jinja2

    def _fill(self, name: str, **values: str) -> str:
        extra = {"related": self._related()} if name == "layout" else {}
        return self.compiled[name].render(values, csrf_token=self.token, **extra)

    def _related(self) -> str:
        return self.related.render(heading="More from Human Rights Watch", related=RELATED, networks=NETWORKS)

    def render(self) -> str:
        self.token = secrets.token_hex(16)
        return str(self.site.render("release", "en"))


def routes(site: JinjaSite) -> list[Route]:
    async def cpu(request: Request) -> Response:
        return HTMLResponse(site.render())

    async def io(request: Request) -> Response:
        await asyncio.sleep(IO_SECONDS)
        return HTMLResponse(site.render())

    async def releases(request: Request) -> Response:
        return JSONResponse(RELEASES)

    return [Route(CPU_PATH, cpu), Route(IO_PATH, io), Route(JSON_PATH, releases)]


def build(kind: str, audit_dir: Path) -> Any:
    """The realistic app, bare or behind ConsentMiddleware (the demo's policy and key)."""
    example_dir = _example_dir()
    spec = importlib.util.spec_from_file_location("consentkit_release_page_example", example_dir / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = Starlette(routes=routes(JinjaSite(module)))
    if kind == "bare":
        return app
    return ConsentMiddleware(
        app,
        policy=example_dir / "consent.yaml",
        secret_keys=[DEMO_KEY],
        audit_path=audit_dir / "audit.jsonl",
    )
