/* consentkit banner helpers, progressive: the banner works without them.
   - Escape closes the settings layer (without deciding anything).
   - The page reserves room for the fixed banner (--ck-banner-height, used by the banner's
     CSS as body padding and scroll padding), so that nothing that takes keyboard focus is
     hidden behind it (WCAG 2.2 SC 2.4.11). No dependencies. */
(function () {
  "use strict";
  var root = document.documentElement;

  function fit() {
    var banner = document.getElementById("consentkit-banner");
    if (banner) root.style.setProperty("--ck-banner-height", banner.offsetHeight + "px");
    else root.style.removeProperty("--ck-banner-height");
  }

  function watch() {
    var banner = document.getElementById("consentkit-banner");
    if (!banner) return;
    fit();
    if (window.ResizeObserver) new ResizeObserver(fit).observe(banner);
    else window.addEventListener("resize", fit);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelectorAll("#consentkit-banner details[open]");
    for (var i = 0; i < open.length; i++) {
      open[i].open = false;
      var summary = open[i].querySelector("summary");
      if (summary) summary.focus();
    }
  });
})();
