/* consentkit inert mode: record a choice without leaving the page, then bring the tags the
   visitor allowed to life in place, in document order. No dependencies. Without this script
   (or when a request fails) the forms still post normally and the page reloads. */
(function () {
  "use strict";
  var CATEGORY = "data-consentkit-category";
  var MOVED = "data-consentkit-attr-";  /* loading attributes set aside until consent */
  var XLINK = "http://www.w3.org/1999/xlink";

  function granted(consent) {
    var out = {};
    var choices = consent.choices || {};
    for (var name in choices) if (choices[name]) out[name] = true;
    return out;
  }

  function copyScript(inert) {
    var script = document.createElement("script");
    for (var i = 0; i < inert.attributes.length; i++) {
      var attr = inert.attributes[i];
      if (attr.name === "type" || attr.name.indexOf("data-consentkit-") === 0) continue;
      script.setAttribute(attr.name, attr.value);
    }
    var type = inert.getAttribute("data-consentkit-type");
    if (type) script.setAttribute("type", type);
    // Under a CSP the nonce attribute reads "" once in the page; the nonce property keeps it.
    if (inert.nonce) script.nonce = inert.nonce;
    if (script.src) {
      // Scripts added by code run as soon as they load; keep document order unless async.
      script.async = inert.hasAttribute("async");
    } else {
      script.text = inert.text;
    }
    return script;
  }

  function restore(element) {
    var moved = [];
    for (var i = 0; i < element.attributes.length; i++) {
      var attr = element.attributes[i];
      if (attr.name.indexOf(MOVED) === 0) moved.push(attr);
    }
    for (var j = 0; j < moved.length; j++) {
      var name = moved[j].name.slice(MOVED.length);
      var value = moved[j].value;
      element.removeAttribute(moved[j].name);
      if (name === "xlink:href") element.setAttributeNS(XLINK, name, value);
      else element.setAttribute(name, value);
    }
    element.removeAttribute(CATEGORY);
    element.removeAttribute("hidden");
  }

  /* Run scripts one after another: a classic external script must load before the next one
     runs, as it would have during parsing. Async scripts do not hold the queue. */
  function runQueue(queue) {
    if (!queue.length) return;
    var inert = queue.shift();
    var script = copyScript(inert);
    var waits = script.src && !script.async;
    if (waits) {
      script.onload = script.onerror = function () { runQueue(queue); };
    }
    inert.parentNode.replaceChild(script, inert);
    if (!waits) runQueue(queue);
  }

  /* Template contents (inert-wrapped elements) come first, so that what they hold joins
     the rest; their scripts become inert copies that run in document order below. */
  function expandTemplates(allowed) {
    var expanded = true;
    while (expanded) {
      expanded = false;
      var templates = document.querySelectorAll("template[" + CATEGORY + "]");
      for (var i = 0; i < templates.length; i++) {
        var template = templates[i];
        var category = template.getAttribute(CATEGORY);
        if (!allowed[category] || !template.parentNode) continue;
        var content = document.importNode(template.content, true);
        var inner = content.querySelectorAll("script");
        for (var j = 0; j < inner.length; j++) {
          var copy = document.createElement("script");
          for (var k = 0; k < inner[j].attributes.length; k++) {
            var attr = inner[j].attributes[k];
            copy.setAttribute(attr.name === "type" ? "data-consentkit-type" : attr.name, attr.value);
          }
          copy.setAttribute("type", "text/plain");
          copy.setAttribute(CATEGORY, category);
          if (inner[j].nonce) copy.nonce = inner[j].nonce;
          copy.text = inner[j].text;
          inner[j].parentNode.replaceChild(copy, inner[j]);
        }
        template.parentNode.replaceChild(content, template);
        expanded = true;
      }
    }
  }

  function activate(allowed) {
    expandTemplates(allowed);
    var scripts = [];
    var elements = document.querySelectorAll("[" + CATEGORY + "]");
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      if (!allowed[element.getAttribute(CATEGORY)] || !element.parentNode) continue;
      if (element.tagName.toLowerCase() === "script") {
        scripts.push(element);
        continue;
      }
      restore(element);
      var box = element.parentNode;
      if (box && box.hasAttribute && box.hasAttribute("data-consentkit-placeholder")) {
        box.parentNode.replaceChild(element, box);
      }
    }
    runQueue(scripts);
  }

  function announce(text) {
    if (!text) return;
    var note = document.createElement("p");
    note.className = "ck-status ck-saved"; /* pinned to the top of the viewport by the stylesheet */
    note.setAttribute("role", "status");
    note.textContent = text;
    document.body.insertBefore(note, document.body.firstChild);
  }

  /* The server could not be reached or refused: post the form the plain way instead. */
  function fallback(form, button) {
    form.setAttribute("data-consentkit-plain", "");
    if (form.requestSubmit) form.requestSubmit(button || undefined);
    else form.submit();
  }

  function submit(form, button) {
    var fixed = form.querySelector("input[type=hidden][name=action]");  /* placeholders' forms */
    var data = { action: fixed ? fixed.value : button ? button.value : "save", categories: [] };
    var boxes = form.querySelectorAll("input[name=categories]");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].type === "hidden" || boxes[i].checked) data.categories.push(boxes[i].value);
    }
    var lang = form.querySelector("input[name=lang]");
    if (lang) data.lang = lang.value;
    var version = form.querySelector("input[name=version]");
    if (version) data.version = version.value;
    data.next = location.pathname + location.search;
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action"));
    request.setRequestHeader("Content-Type", "application/json");
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) return fallback(form, button);
      var consent = JSON.parse(request.responseText);
      var holder = form.closest("[data-saved]");
      var saved = holder ? holder.getAttribute("data-saved") : "";
      var banner = document.getElementById("consentkit-banner");
      if (banner && consent.decided) banner.parentNode.removeChild(banner);  // else still asking
      if (window.gtag && consent.consent_mode) window.gtag("consent", "update", consent.consent_mode);
      activate(granted(consent));
      announce(saved);
    };
    request.onerror = function () { fallback(form, button); };
    request.send(JSON.stringify(data));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var ours = form.closest && form.closest("#consentkit-banner, [data-consentkit-placeholder], [data-consentkit-allow]");
    if (!ours || form.hasAttribute("data-consentkit-plain")) return;
    event.preventDefault();
    submit(form, event.submitter);
  });
})();
