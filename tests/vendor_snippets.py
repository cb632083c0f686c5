"""Tracker loader snippets as vendors publish them for pasting into pages (IDs replaced), and
large first-party application scripts shaped like the ones news sites ship (issue #14 §1c).

Each snippet is the body of one inline ``<script>``. ``LOADERS`` build a script, image or
beacon URL on the vendor's host; ``MARKER_ONLY`` name no host (only their markers identify
them).
"""

from __future__ import annotations

import json
import random

LOADERS: dict[str, str] = {
    "google-tag-manager": """(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-XXXXXXX');""",
    "universal-analytics": """(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){
(i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),
m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)
})(window,document,'script','https://www.google-analytics.com/analytics.js','ga');
ga('create', 'UA-XXXXX-Y', 'auto');
ga('send', 'pageview');""",
    "meta-pixel": """!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '000000000000000');
fbq('track', 'PageView');""",
    "hotjar": """(function(h,o,t,j,a,r){
        h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};
        h._hjSettings={hjid:1234567,hjsv:6};
        a=o.getElementsByTagName('head')[0];
        r=o.createElement('script');r.async=1;
        r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;
        a.appendChild(r);
    })(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');""",
    "matomo-cloud": """var _paq = window._paq = window._paq || [];
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="https://example.matomo.cloud/";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '1']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src='https://cdn.matomo.cloud/example.matomo.cloud/matomo.js'; s.parentNode.insertBefore(g,s);
  })();""",
    "linkedin-insight": """_linkedin_partner_id = "1234567";
window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];
window._linkedin_data_partner_ids.push(_linkedin_partner_id);
(function(l) {
if (!l){window.lintrk = function(a,b){window.lintrk.q.push([a,b])};
window.lintrk.q=[]}
var s = document.getElementsByTagName("script")[0];
var b = document.createElement("script");
b.type = "text/javascript";b.async = true;
b.src = "https://snap.licdn.com/li.lms-analytics/insight.min.js";
s.parentNode.insertBefore(b, s);})(window.lintrk);""",
    "tiktok-pixel": """!function (w, d, t) {
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify","instances","debug","on","off","once","ready","alias","group","enableCookie","disableCookie","holdConsent","revokeConsent","grantConsent"],ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat(Array.prototype.slice.call(arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);ttq.instance=function(t){for(
var e=ttq._i[t]||[],n=0;n<ttq.methods.length;n++)ttq.setAndDefer(e,ttq.methods[n]);return e},ttq.load=function(e,n){var r="https://analytics.tiktok.com/i18n/pixel/events.js",o=n&&n.partner;ttq._i=ttq._i||{},ttq._i[e]=[],ttq._i[e]._u=r,ttq._t=ttq._t||{},ttq._t[e]=+new Date,ttq._o=ttq._o||{},ttq._o[e]=n||{};n=document.createElement("script")
;n.type="text/javascript",n.async=!0,n.src=r+"?sdkid="+e+"&lib="+t;e=document.getElementsByTagName("script")[0];e.parentNode.insertBefore(n,e)};

  ttq.load('CXXXXXXXXXXXXXXXXXXX');
  ttq.page();
}(window, document, 'ttq');""",
    "microsoft-clarity": """(function(c,l,a,r,i,t,y){
        c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};
        t=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;
        y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);
    })(window, document, "clarity", "script", "xxxxxxxxxx");""",
    "x-pixel": """!function(e,t,n,s,u,a){e.twq||(s=e.twq=function(){s.exe?s.exe.apply(s,arguments):s.queue.push(arguments);
},s.version='1.1',s.queue=[],u=t.createElement(n),u.async=!0,u.src='https://static.ads-twitter.com/uwt.js',
a=t.getElementsByTagName(n)[0],a.parentNode.insertBefore(u,a))}(window,document,'script');
twq('config','xxxxx');""",
    "pinterest-tag": """!function(e){if(!window.pintrk){window.pintrk = function () {
window.pintrk.queue.push(Array.prototype.slice.call(arguments))};var
  n=window.pintrk;n.queue=[],n.version="3.0";var
  t=document.createElement("script");t.async=!0,t.src=e;var
  r=document.getElementsByTagName("script")[0];
  r.parentNode.insertBefore(t,r)}}("https://s.pinimg.com/ct/core.js");
pintrk('load', '2612345678901', {em: '<user_email_address>'});
pintrk('page');""",
    "snap-pixel": """(function(e,t,n){if(e.snaptr)return;var a=e.snaptr=function()
{a.handleRequest?a.handleRequest.apply(a,arguments):a.queue.push(arguments)};
a.queue=[];var s='script';r=t.createElement(s);r.async=!0;
r.src=n;var u=t.getElementsByTagName(s)[0];
u.parentNode.insertBefore(r,u);})(window,document,
'https://sc-static.net/scevent.min.js');
snaptr('init', '00000000-0000-0000-0000-000000000000', {});
snaptr('track', 'PAGE_VIEW');""",
    "microsoft-uet": """(function(w,d,t,r,u){var f,n,i;w[u]=w[u]||[],f=function(){var o={ti:"12345678", enableAutoSpaTracking: true};
o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")},n=d.createElement(t),n.src=r,n.async=1,n.onload=n.onreadystatechange=function()
{var s=this.readyState;s&&s!=="loaded"&&s!=="complete"||(f(),n.onload=n.onreadystatechange=null)},i=d.getElementsByTagName(t)[0],
i.parentNode.insertBefore(n,i)})(window,document,"script","//bat.bing.com/bat.js","uetq");""",
    "quantcast": """var _qevents = _qevents || [];
(function() {
var elem = document.createElement('script');
elem.src = (document.location.protocol == "https:" ? "https://secure" : "http://edge") + ".quantserve.com/quant.js";
elem.async = true;
elem.type = "text/javascript";
var scpt = document.getElementsByTagName('script')[0];
scpt.parentNode.insertBefore(elem, scpt);
})();""",
    "chartbeat": """(function() {
    var _sf_async_config = window._sf_async_config = (window._sf_async_config || {});
    _sf_async_config.uid = 12345;
    _sf_async_config.domain = 'news.example';
    function loadChartbeat() {
        var e = document.createElement('script');
        var n = document.getElementsByTagName('script')[0];
        e.type = 'text/javascript';
        e.async = true;
        e.src = '//static.chartbeat.com/js/chartbeat.js';
        n.parentNode.insertBefore(e, n);
    }
    loadChartbeat();
})();""",
    "comscore": """var _comscore = _comscore || [];
_comscore.push({ c1: "2", c2: "1234567", options: { enableFirstPartyCookie: true } });
(function() {
  var s = document.createElement("script"), el = document.getElementsByTagName("script")[0];
  s.async = true;
  s.src = "https://sb.scorecardresearch.com/cs/1234567/beacon.js";
  el.parentNode.insertBefore(s, el);
})();""",
    "taboola": """window._taboola = window._taboola || [];
_taboola.push({article:'auto'});
!function (e, f, u, i) {
  if (!document.getElementById(i)){
    e.async = 1;
    e.src = u;
    e.id = i;
    f.parentNode.insertBefore(e, f);
  }
}(document.createElement('script'),
document.getElementsByTagName('script')[0],
'//cdn.taboola.com/libtrc/publisher/loader.js',
'tb_loader_script');""",
    "yandex-metrica": """(function(m,e,t,r,i,k,a){m[i]=m[i]||function(){(m[i].a=m[i].a||[]).push(arguments)};
m[i].l=1*new Date();
for (var j = 0; j < document.scripts.length; j++) {if (document.scripts[j].src === r) { return; }}
k=e.createElement(t),a=e.getElementsByTagName(t)[0],k.async=1,k.src=r,a.parentNode.insertBefore(k,a)})
(window, document, "script", "https://mc.yandex.ru/metrika/tag.js", "ym");
ym(12345678, "init", {clickmap:true, trackLinks:true, accurateTrackBounce:true});""",
    "segment": """!function(){var i="analytics",analytics=window[i]=window[i]||[];if(!analytics.initialize)if(analytics.invoked)window.console&&console.error&&console.error("Segment snippet included twice.");else{analytics.invoked=!0;analytics.methods=["trackSubmit","trackClick","trackLink","trackForm","pageview","identify","reset","group","track","ready","alias","debug","page","screen","once","off","on","addSourceMiddleware","addIntegrationMiddleware","setAnonymousId","addDestinationMiddleware","register"];analytics.factory=function(e){return function(){if(window[i].initialized)return window[i][e].apply(window[i],arguments);var n=Array.prototype.slice.call(arguments);if(["track","screen","alias","group","page","identify"].indexOf(e)>-1){var c=document.querySelector("link[rel='canonical']");n.push({__t:"bpc",c:c&&c.getAttribute("href")||void 0,p:location.pathname,u:location.href,s:location.search,t:document.title,r:document.referrer})}n.unshift(e);analytics.push(n);return analytics}};for(var n=0;n<analytics.methods.length;n++){var key=analytics.methods[n];analytics[key]=analytics.factory(key)}analytics.load=function(key,n){var t=document.createElement("script");t.type="text/javascript";t.async=!0;t.setAttribute("data-global-segment-analytics-key",i);t.src="https://cdn.segment.com/analytics.js/v1/" + key + "/analytics.min.js";var r=document.getElementsByTagName("script")[0];r.parentNode.insertBefore(t,r);analytics._loadOptions=n};analytics._writeKey="XXXXXXXXXXXXXXXX";;analytics.SNIPPET_VERSION="5.2.0";
analytics.load("XXXXXXXXXXXXXXXX");
analytics.page();
}}();""",
    "hubspot-legacy": """(function(d,s,i,r) {
if (d.getElementById(i)){return;}
var n=d.createElement(s),e=d.getElementsByTagName(s)[0];
n.id=i;n.src='//js.hs-analytics.net/analytics/'+(Math.ceil(new Date()/r)*r)+'/1234567.js';
e.parentNode.insertBefore(n, e);
})(document,"script","hs-analytics",300000);""",
    "disqus": """var disqus_config = function () {
this.page.url = PAGE_URL;
this.page.identifier = PAGE_IDENTIFIER;
};
(function() {
var d = document, s = d.createElement('script');
s.src = 'https://news-example.disqus.com/embed.js';
s.setAttribute('data-timestamp', +new Date());
(d.head || d.body).appendChild(s);
})();""",
}

MARKER_ONLY: dict[str, str] = {
    "google-tag": """window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());

  gtag('config', 'G-XXXXXXXXXX');""",
    "adsense": "(adsbygoogle = window.adsbygoogle || []).push({});",
    "gpt": """window.googletag = window.googletag || {cmd: []};
  googletag.cmd.push(function() {
    googletag.defineSlot('/1234567/news_top', [728, 90], 'div-gpt-ad-1').addService(googletag.pubads());
    googletag.enableServices();
  });""",
}

# First-party code that itself sends a request to a tracker's host: blocked like a vendor loader.
FIRST_PARTY_LOADS: dict[str, str] = {
    "fetch": 'fetch("https://www.google-analytics.com/g/collect?v=2&tid=G-1&en=page_view", {mode: "no-cors"});',
    "beacon": 'navigator.sendBeacon("https://bat.bing.com/action/0?ti=1&evt=pageLoad");',
    "image": 'new Image().src = "https://px.ads.linkedin.com/collect/?pid=1&fmt=gif";',
    "import": 'import("https://cdn.segment.com/next/bundle.js").then(function (m) { m.start(); });',
    "write": "document.write('<script src=\"https://static.chartbeat.com/js/chartbeat.js\"><\\/script>');",
    "xhr": 'var x = new XMLHttpRequest(); x.open("POST", "https://api.segment.io/v1/t"); x.send("{}");',
    "config-object": (
        'var cfg = {"src": "https://connect.facebook.net/en_US/sdk.js", "async": true};\n'
        'var s = document.createElement("script"); s.src = cfg.src; document.head.appendChild(s);'
    ),
    "later-sink": (
        'var TRACKER = "https://static.hotjar.com/c/hotjar-1.js";\n'
        + "var filler = 0;\n" * 400
        + "var s = document.createElement('script'); s.src = TRACKER; document.head.appendChild(s);"
    ),
    "iframe": (
        "var f = document.createElement('iframe');"
        " f.setAttribute('src', 'https://www.youtube.com/embed/xyz'); document.body.appendChild(f);"
    ),
}


# --- large first-party application scripts --------------------------------------------------

_WORDS = [
    "government",
    "court",
    "rights",
    "report",
    "police",
    "protest",
    "election",
    "minister",
    "journalists",
    "detained",
    "investigation",
    "release",
    "families",
    "lawyers",
    "witnesses",
    "freedom",
    "censorship",
    "evidence",
    "council",
]


def _sentence(rng: random.Random, words: int = 14) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _article(rng: random.Random, n: int) -> dict[str, object]:
    handle = f"reporter{n % 40}"
    tweet = (
        f'<blockquote class="twitter-tweet"><p>{_sentence(rng)}</p>&mdash; {handle} '
        f'<a href="https://twitter.com/{handle}/status/{10**17 + n}">March {n % 28 + 1}, 2026</a></blockquote>'
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    )
    return {
        "__typename": "Article",
        "id": f"article-{n}",
        "headline": _sentence(rng, 9),
        "url": f"https://news.example/2026/03/{n}",
        "shareLinks": {
            "twitter": f"https://twitter.com/intent/tweet?url=https%3A%2F%2Fnews.example%2F{n}",
            "facebook": f"https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example%2F{n}",
        },
        "author": {"__ref": f"Person:{n % 40}"},
        "body": "".join(f"<p>{_sentence(rng)}</p>" for _ in range(4)) + (tweet if n % 3 == 0 else ""),
        "video": {"embedUrl": f"https://www.youtube.com/embed/v{n:06d}", "provider": "YouTube"}
        if n % 4 == 0
        else None,
        "image": {"url": f"https://pbs.twimg.com/media/img{n}.jpg", "width": 1200, "height": 675},
        "tags": [rng.choice(_WORDS) for _ in range(5)],
    }


def _person(n: int) -> dict[str, object]:
    handle = f"reporter{n}"
    return {
        "__typename": "Person",
        "id": str(n),
        "name": f"Reporter {n}",
        "url": f"https://twitter.com/{handle}",
        "sameAs": [
            f"https://twitter.com/{handle}",
            f"https://www.facebook.com/{handle}",
            f"https://www.instagram.com/{handle}",
        ],
    }


def _escape_for_script(text: str) -> str:
    """JSON as sites embed it in a script: "</" and "<!--" cannot end or escape the script."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def app_state(size: int, seed: int = 1) -> str:
    """``window.__APOLLO_STATE__ = {...}``: a normalised GraphQL cache of about ``size`` bytes."""
    rng = random.Random(seed)
    state: dict[str, object] = {f"Person:{n}": _person(n) for n in range(40)}
    n = 0
    while len(json.dumps(state)) < size:
        for _ in range(20):
            state[f"Article:article-{n}"] = _article(rng, n)
            n += 1
    state["ROOT_QUERY"] = {
        "__typename": "Query",
        "articles": [{"__ref": f"Article:article-{i}"} for i in range(n)],
    }
    return "window.__APOLLO_STATE__=" + _escape_for_script(json.dumps(state, separators=(",", ":"))) + ";"


def yahoo_app_data(size: int) -> str:
    """``root.App.main = {...}`` inside an IIFE, the shape of Yahoo's ~800 KB app-data scripts."""
    body = app_state(size, seed=2).removeprefix("window.__APOLLO_STATE__=").removesuffix(";")
    return (
        "(function (root) {\n/* -- Data -- */\nroot.App || (root.App = {});\nroot.App.now = 1767225600000;\n"
        f"root.App.main = {body};\n}}(this));"
    )


def nuxt_state(size: int) -> str:
    """Nuxt 2's ``window.__NUXT__=(function(a,b,...){return {...}}(...))``: hosts as call arguments."""
    rng = random.Random(3)
    items = []
    while sum(len(i) for i in items) < size:
        items.append(f'{{title:"{_sentence(rng, 8)}",author:a,share:b,video:c,body:"{_sentence(rng, 40)}"}}')
    return (
        f'window.__NUXT__=(function(a,b,c){{return {{layout:"default",data:[{",".join(items)}],'
        'state:{user:null}}}("https://twitter.com/newsdesk","https://www.facebook.com/sharer/sharer.php",'
        '"https://www.youtube.com/embed/live"));'
    )


# webpack 5's runtime as Next.js sites inline it: it creates <script> elements for its own chunks.
WEBPACK_RUNTIME = """!function(){"use strict";var e,t,n,r,o,u,i,c={},f={};function a(e){var t=f[e];if(void 0!==t)return t.exports;var n=f[e]={id:e,loaded:!1,exports:{}},r=!0;try{c[e].call(n.exports,n,n.exports,a),r=!1}finally{r&&delete f[e]}return n.loaded=!0,n.exports}a.m=c,e=[],a.O=function(t,n,r,o){if(!n){var u=1/0;for(l=0;l<e.length;l++){n=e[l][0],r=e[l][1],o=e[l][2];for(var i=!0,c=0;c<n.length;c++)(!1&o||u>=o)&&Object.keys(a.O).every(function(e){return a.O[e](n[c])})?n.splice(c--,1):(i=!1,o<u&&(u=o));if(i){e.splice(l--,1);var f=r();void 0!==f&&(t=f)}}return t}o=o||0;for(var l=e.length;l>0&&e[l-1][2]>o;l--)e[l]=e[l-1];e[l]=[n,r,o]},a.u=function(e){return"static/chunks/"+e+"."+{12:"a1b2c3",345:"d4e5f6"}[e]+".js"},a.p="/_next/",n={},r="news-site:",a.l=function(e,t,o,u){if(n[e])n[e].push(t);else{var i,c;if(void 0!==o)for(var f=document.getElementsByTagName("script"),l=0;l<f.length;l++){var s=f[l];if(s.getAttribute("src")==e||s.getAttribute("data-webpack")==r+o){i=s;break}}i||(c=!0,(i=document.createElement("script")).charset="utf-8",i.timeout=120,a.nc&&i.setAttribute("nonce",a.nc),i.setAttribute("data-webpack",r+o),i.src=a.tu(e)),n[e]=[t];var d=function(t,r){i.onerror=i.onload=null,clearTimeout(p);var o=n[e];if(delete n[e],i.parentNode&&i.parentNode.removeChild(i),o&&o.forEach(function(e){return e(r)}),t)return t(r)},p=setTimeout(d.bind(null,void 0,{type:"timeout",target:i}),12e4);i.onerror=d.bind(null,i.onerror),i.onload=d.bind(null,i.onload),c&&document.head.appendChild(i)}},a.tu=function(e){return e}}();"""


def site_bootstrap(size: int) -> str:
    """A site bootstrap: the bundler's runtime, then the site's configuration and page data."""
    config = {
        "site": {"name": "News Example", "locale": "en-GB"},
        "social": {
            "twitter": "https://twitter.com/newsexample",
            "facebook": "https://www.facebook.com/newsexample",
            "youtube": "https://www.youtube.com/@newsexample",
        },
        "analytics": {"enabled": True, "measurementId": "G-XXXXXXXXXX"},
    }
    data = app_state(size - len(WEBPACK_RUNTIME), seed=4).removeprefix("window.__APOLLO_STATE__=")
    return (
        WEBPACK_RUNTIME
        + "\nwindow.__SITE_CONFIG__="
        + json.dumps(config)
        + ";\nwindow.__PAGE_DATA__="
        + data
        + '\ndocument.documentElement.className+=" js";'
    )


def json_parse_state(size: int) -> str:
    """State shipped as a JSON string, ``window.__PRELOADED_STATE__ = JSON.parse("...")``."""
    body = app_state(size, seed=5).removeprefix("window.__APOLLO_STATE__=").removesuffix(";")
    return "window.__PRELOADED_STATE__ = JSON.parse(" + json.dumps(body) + ");"
