"""Figure (f) of run.py: what matching costs as the policy grows (issue #16 §1b).

The same pages behind the example's two-service policy and behind a realistic large policy
(tests/fixtures/policy-large.yaml: 162 tracker and embed hosts, 38 inline markers), first
visits (everything denied), in process, interleaved rounds, each figure against the bare app.
Two pages, both with a per-request token so that every request is rewritten in full: the
release page (/dynamic of figure (a)) and a ~110 KB news page shaped like the front pages of
the issue's survey (vendor loaders, an app-state script, ~150 images, ~300 links, embeds,
inline SVG icons).
"""

from __future__ import annotations

import asyncio
import gc
import random
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from consentkit import ConsentMiddleware
from consentkit.cli import DEMO_KEY, load_example_app

HERE: Final = Path(__file__).resolve().parent
REPO: Final = HERE.parent
SMALL_POLICY: Final = REPO / "examples" / "release_page" / "consent.yaml"
LARGE_POLICY: Final = REPO / "tests" / "fixtures" / "policy-large.yaml"
F_ROUNDS: Final = 11
F_BATCH_SECONDS: Final = 0.08
PAGES: Final = {"/dynamic": "release page, dynamic", "/news": "news page, dynamic"}
POLICIES: Final = {"small": "2 services, 5 hosts", "large": "162 hosts, 38 markers"}

_LOADERS: Final = """<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-XXXXXXX');</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX"></script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}
gtag('js', new Date()); gtag('config', 'G-XXXXXXXXXX');</script>
<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;
n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script','https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '000000000000000'); fbq('track', 'PageView');</script>
<script>(function() { var _sf_async_config = window._sf_async_config = (window._sf_async_config || {});
_sf_async_config.uid = 12345; function loadChartbeat() { var e = document.createElement('script');
var n = document.getElementsByTagName('script')[0]; e.async = true;
e.src = '//static.chartbeat.com/js/chartbeat.js'; n.parentNode.insertBefore(e, n); }
loadChartbeat(); })();</script>
<script async src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>
<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1"></script>"""
_ICON: Final = (
    '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2L2 7l10 5 10-5-10-5z'
    'M2 17l10 5 10-5M2 12l10 5 10-5"/></svg>'
)
_WORDS: Final = [
    *("government", "court", "rights", "report", "police", "protest", "election", "minister"),
    *("journalists", "detained", "investigation", "release", "families", "lawyers", "witnesses"),
    *("freedom", "censorship", "evidence", "council"),
]


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def news_page() -> bytes:
    """A ~110 KB front page: trackers in <head>, app state, teasers with images, embeds, icons."""
    rng = random.Random(7)
    state = ",".join(
        f'"Article:{n}":{{"headline":"{_words(rng, 8)}","url":"https://news.example/a/{n}",'
        f'"share":"https://twitter.com/intent/tweet?url=https%3A%2F%2Fnews.example%2Fa%2F{n}",'
        f'"author":{{"twitter":"https://twitter.com/reporter{n % 30}"}}}}'
        for n in range(160)
    )
    head = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>News Example</title>',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        *(f'<link rel="preload" href="/static/font-{i}.woff2" as="font" crossorigin>' for i in range(4)),
        '<link rel="stylesheet" href="/static/site.css">',
        '<link rel="preconnect" href="https://www.google-analytics.com">',
        _LOADERS,
        f"<script>window.__APOLLO_STATE__={{{state}}};</script>",
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsMediaOrganization",'
        '"sameAs":["https://twitter.com/newsexample","https://www.facebook.com/newsexample"]}</script>',
        "<script>var root = document.documentElement; root.className = root.className.replace('no-js','js');"
        "window.SITE = {edition: 'uk', paywall: false};</script>",
        '<script src="/static/app.js" defer></script></head><body>',
    ]
    body = ["<header><nav><ul>"]
    body += [f'<li><a href="/section/{i}">{_words(rng, 1)}</a>{_ICON}</li>' for i in range(40)]
    body.append("</ul></nav></header><main>")
    for n in range(95):
        img = (
            f'<img src="https://cdn.news.example/img/{n}.jpg" '
            f'srcset="https://cdn.news.example/img/{n}-480.jpg 480w, '
            f'https://cdn.news.example/img/{n}-960.jpg 960w" '
            f'sizes="(max-width: 600px) 480px, 960px" '
            f'alt="{_words(rng, 4)}" loading="lazy" width="480" height="270">'
        )
        if n % 12 == 5:
            img = f'<img src="https://pbs.twimg.com/media/x{n}.jpg" alt="" width="480" height="270">'
        body.append(
            f'<article class="teaser"><a href="/a/{n}">{img}<h2>{_words(rng, 8)}</h2></a>'
            f'<p>{_words(rng, 28)}</p><a class="more" href="/a/{n}#comments">Comments</a>'
            f"{_ICON if n % 4 == 0 else ''}"
            "</article>"
        )
        if n % 30 == 10:
            body.append(
                '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" '
                'title="YouTube video player" allowfullscreen></iframe>'
            )
        if n % 40 == 20:
            body.append(
                '<blockquote class="twitter-tweet"><p>Statement</p><a href="https://twitter.com/x/status/1">'
                'March 1</a></blockquote><script async src="https://platform.twitter.com/widgets.js"></script>'
            )
    body.append("</main><footer>")
    body += [f'<a href="/page/{i}">{_words(rng, 2)}</a>' for i in range(60)]
    body.append(
        '<a href="https://twitter.com/newsexample">X</a><a href="https://www.facebook.com/newsexample">Facebook</a>'
        '<noscript><img src="https://www.facebook.com/tr?id=1&ev=PageView&noscript=1" height="1" width="1">'
        "</noscript>"
        "</footer></body></html>"
    )
    return "\n".join(head + body).encode()


async def cpu_time_requests(app: Any, scope: dict[str, Any], count: int) -> float:
    """Mean CPU microseconds of this process per request (the machine may be shared: CPU time
    is what the requests cost, whatever else runs)."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    gc.collect()
    began = time.process_time_ns()
    for _ in range(count):
        await app({**scope, "state": {}}, receive, send)
    return (time.process_time_ns() - began) / count / 1000


def _app() -> Starlette:
    """The example app plus /dynamic (release page + token) and /news (news page + token)."""
    app = load_example_app(SMALL_POLICY.parent)
    render = next(r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/")
    news = news_page()

    def token() -> bytes:
        return b'<head>\n<meta name="csrf-token" content="' + secrets.token_hex(16).encode() + b'">'

    async def dynamic(request: Request) -> Response:
        page = await render(request)
        return HTMLResponse(bytes(page.body).replace(b"<head>", token(), 1))

    async def news_endpoint(request: Request) -> Response:
        return HTMLResponse(news.replace(b"<head>", token(), 1))

    app.add_route("/dynamic", dynamic)
    app.add_route("/news", news_endpoint)
    return app


def build(audit_dir: Path) -> dict[str, Any]:
    apps: dict[str, Any] = {"bare": _app()}
    for name, path in (("small", SMALL_POLICY), ("large", LARGE_POLICY)):
        apps[name] = ConsentMiddleware(
            _app(), policy=path, secret_keys=[DEMO_KEY], audit_path=audit_dir / f"audit-{name}.jsonl"
        )
    return apps


async def figure_f(
    apps: dict[str, Any], helpers: dict[str, Any], log: Callable[[str], None]
) -> dict[str, Any]:
    """Time every page behind every policy; run.py's helpers call the apps and pair the rounds."""
    fetch, make_scope = helpers["fetch"], helpers["make_scope"]
    time_requests, with_ratio = cpu_time_requests, helpers["with_ratio"]
    sizes: dict[tuple[str, str], int] = {}
    counts: dict[tuple[str, str], int] = {}
    for path in PAGES:
        for variant in ("bare", *POLICIES):
            response = await fetch(apps[variant], make_scope(path))
            if response.status != 200 or (variant != "bare") != (b'id="consentkit-banner"' in response.body):
                raise RuntimeError(f"(f) {variant} {path}: unexpected response")
            if variant != "bare" and b"googletagmanager.com/gtag/js" in response.body:
                raise RuntimeError(f"(f) {variant} {path}: the Google tag was not blocked")
            sizes[path, variant] = len(response.body)
            per_request = await time_requests(apps[variant], make_scope(path), 30)
            counts[path, variant] = max(20, int(F_BATCH_SECONDS * 1e6 / per_request))
    samples: dict[tuple[str, str], list[float]] = {k: [] for k in counts}
    for round_index in range(F_ROUNDS):
        for path in PAGES:
            order = ["bare", *POLICIES]
            if round_index % 2:
                order.reverse()
            for variant in order:
                samples[path, variant].append(
                    await time_requests(apps[variant], make_scope(path), counts[path, variant])
                )
        log(f"  (f) round {round_index + 1}/{F_ROUNDS}")
    rows: dict[str, Any] = {}
    for path, label in PAGES.items():
        kb = sizes[path, "bare"] / 1024
        row: dict[str, Any] = {"label": label, "bare_bytes": sizes[path, "bare"]}
        row["bare"] = with_ratio(samples[path, "bare"], samples[path, "bare"])
        for variant in POLICIES:
            s = with_ratio(samples[path, variant], samples[path, "bare"])
            s["added_us_per_kb"] = s["added"] / kb
            s["response_bytes"] = sizes[path, variant]
            row[variant] = s
        rows[path] = row
    return {"rounds": F_ROUNDS, "cases": rows}


def report_f(
    result: dict[str, Any], spread: Callable[..., str], table: Callable[..., list[str]]
) -> list[str]:
    lines = [
        f"(f) Matching at scale, in process, first visit (all denied), CPU us per request: median [min-max] "
        f"of "
        f"{result['rounds']} interleaved rounds; small = the example policy ({POLICIES['small']}), large = "
        f"tests/fixtures/policy-large.yaml ({POLICIES['large']}). Every request is a full rewrite (token).",
    ]
    header = ["page", "KB", "bare us", "small us", "added us/KB", "ratio", "large us", "added us/KB", "ratio"]
    rows = []
    for row in result["cases"].values():
        small, large = row["small"], row["large"]
        rows.append(
            [
                row["label"],
                f"{row['bare_bytes'] / 1024:.1f}",
                spread(row["bare"]),
                spread(small),
                f"{small['added_us_per_kb']:+.2f}",
                f"{small['ratio']:.2f}x",
                spread(large),
                f"{large['added_us_per_kb']:+.2f}",
                f"{large['ratio']:.2f}x",
            ]
        )
    return lines + table(header, rows)


def run(log: Callable[[str], None], audit_dir: Path, helpers: dict[str, Any]) -> dict[str, Any]:
    apps = build(audit_dir)
    return asyncio.run(figure_f(apps, helpers, log))
