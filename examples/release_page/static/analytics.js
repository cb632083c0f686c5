/* First-party analytics for the consentkit demo: one hit per page view, sent to this site only.
 * Listed in the "analytics" category through data-consent="analytics" on its <script> tag, so
 * consentkit only lets it reach the browser after the visitor accepts analytics. It runs as
 * soon as it is executed (not on the load event), so it also works when consentkit inserts it
 * into an already loaded page after Accept. */
(function () {
  "use strict";
  document.cookie = "_demo_analytics=1; path=/; max-age=31536000; SameSite=Lax";
  fetch("/collect", {
    method: "POST",
    keepalive: true,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ path: location.pathname, ref: document.referrer })
  }).catch(function () { /* analytics must never break the page */ });
})();
