// The sidebar's session: a short-lived token from the launch, sent in a header on every HTMX
// request (no cookies, so third-party cookie blocking cannot break it) and renewed from each
// response's header while the agent is active.
(function () {
  "use strict";
  var HEADER = "X-Karla-Sidebar-Token";
  var RENEW_EVERY_MS = 4 * 60 * 1000;
  var tokenMeta = document.querySelector('meta[name="karla-sidebar-token"]');
  var renewUrl = document.querySelector('meta[name="karla-sidebar-renew"]');
  var token = tokenMeta ? tokenMeta.content : "";
  var lastActivity = Date.now();
  var lastRenewal = Date.now();

  function remember(xhr) {
    var fresh = xhr && xhr.getResponseHeader(HEADER);
    if (fresh) { token = fresh; lastRenewal = Date.now(); }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers[HEADER] = token;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    remember(event.detail.xhr);
    var banner = document.getElementById("request-error");
    if (banner) { banner.hidden = !(event.detail.failed && !event.detail.xhr.status); }
  });
  document.addEventListener("htmx:sendError", function () {
    var banner = document.getElementById("request-error");
    if (banner) { banner.hidden = false; }
  });

  ["keydown", "pointerdown", "focusin"].forEach(function (name) {
    document.addEventListener(name, function () { lastActivity = Date.now(); }, true);
  });
  setInterval(function () {
    if (!renewUrl || lastActivity < lastRenewal) { return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", renewUrl.content);
    xhr.setRequestHeader(HEADER, token);
    xhr.onload = function () { remember(xhr); };
    xhr.send();
  }, RENEW_EVERY_MS);
})();
