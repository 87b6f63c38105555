// Karla Sidebar's one script: copy buttons (every page), the settings dialog, and the
// sidebar's header session. Each part only acts where its elements exist.

// Settings pages show times in the viewer's zone: tell the server which one it is.
(function () {
  "use strict";
  if (document.querySelector('meta[name="karla-sidebar-token"]')) { return; }  // not in the sidebar
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!zone || document.cookie.indexOf("karla_tz=" + zone) !== -1) { return; }
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "karla_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" + secure;
})();

// Plain forms that need a second thought: <form data-confirm="Question?">.
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
}, true);

// Shared by every page: copy buttons. <button data-copy="#element-id"> or data-copy-text="…".
// Inside an iframe the Clipboard API needs the host's allow="clipboard-write"; without it the
// older copy command is tried, and as a last resort the text is shown selected to copy by hand.
(function () {
  "use strict";
  function announce(button, message, ok) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = message; }
    if (ok) {
      button.setAttribute("data-copied", "true");
      setTimeout(function () { button.removeAttribute("data-copied"); }, 1500);
    }
  }

  function copyWithCommand(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    document.body.removeChild(area);
    return copied;
  }

  function showForManualCopy(button, text) {
    var box = document.createElement("textarea");
    box.value = text;
    box.setAttribute("readonly", "");
    box.setAttribute("aria-label", "Text to copy");
    box.className = "copy-manual";
    button.insertAdjacentElement("afterend", box);
    box.focus();
    box.select();
    box.addEventListener("blur", function () { box.remove(); });
    announce(button, "Press Ctrl+C (or ⌘C) to copy the selected text.", false);
  }

  function fallback(button, text) {
    if (copyWithCommand(text)) { announce(button, "Copied.", true); } else { showForManualCopy(button, text); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-text]");
    if (!button) { return; }
    var text = button.getAttribute("data-copy-text");
    if (text === null) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      text = source ? (source.value !== undefined ? source.value : source.textContent).trim() : "";
    }
    if (!text) { return; }
    if (!navigator.clipboard || !window.isSecureContext) { fallback(button, text); return; }
    navigator.clipboard.writeText(text).then(
      function () { announce(button, "Copied.", true); },
      function () { fallback(button, text); }
    );
  });
})();

// Settings pages: open the shared <dialog> when HTMX loads a form into it, close it after a
// successful change. Without JavaScript every link and form works as a plain page.
(function () {
  "use strict";
  function dialog() { return document.getElementById("dialog"); }

  function focusFirst(container) {
    var target = container.querySelector("[aria-invalid=true]") ||
      container.querySelector("input:not([type=hidden]), select, textarea, button[type=submit]");
    if (target) { target.focus(); }
  }

  function closeDialog() {
    var d = dialog();
    if (d && d.open) { d.close(); }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var d = dialog();
    if (!d || event.detail.target.id !== "dialog-body") { return; }
    if (!d.open) { d.showModal(); }
    focusFirst(d);
  });

  document.addEventListener("accountsChanged", closeDialog);

  document.addEventListener("close", function (event) {
    if (event.target.id === "dialog") { document.getElementById("dialog-body").innerHTML = ""; }
  }, true);

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer && dialog() && dialog().open) {
      event.preventDefault();
      closeDialog();
    }
  });
})();

// The sidebar's session: a short-lived token from the launch, sent in a header on every HTMX
// request (no cookies, so third-party cookie blocking cannot break it) and renewed from each
// response's header while the agent is active.
(function () {
  "use strict";
  var HEADER = "X-Karla-Sidebar-Token";
  var RENEW_EVERY_MS = 4 * 60 * 1000;
  var tokenMeta = document.querySelector('meta[name="karla-sidebar-token"]');
  if (!tokenMeta) { return; }  // not the sidebar
  // The launch token has done its work: take it out of the frame's address (and history).
  if (/[?&]token=/.test(location.search)) { history.replaceState(null, "", location.pathname); }
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
  // A live card's question answered 401 (the session ended): stop asking, keep the card.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var asker = event.detail.elt;
    if (asker && asker.hasAttribute("data-live") && event.detail.xhr.status >= 400) {
      event.detail.shouldSwap = false;
      event.detail.isError = false;
      asker.remove();
    }
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
