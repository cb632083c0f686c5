/* consentkit: Escape closes the settings layer (without deciding anything). No dependencies. */
(function () {
  "use strict";
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
