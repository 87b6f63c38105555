// Karla Sidebar's one script: copy buttons (every page), the settings dialog, and the
// sidebar (its header session, safe loading, focus, replies, resuming). Each part only acts
// where its elements exist.

// The page's words for this script (#karla-text's data-*, in the page's language), and one
// place to announce something to screen readers: the page's one live region, whose text changes.
var karla = (function () {
  "use strict";
  return {
    text: function (key) {
      var words = document.getElementById("karla-text");
      return (words && words.dataset[key]) || "";
    },
    announce: function (message) {
      var region = document.getElementById("lookup-status") || document.getElementById("copy-status");
      if (region) { region.textContent = message; }
    }
  };
})();

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

// The history's period: a preset clears the custom dates; a date typed chooses "Custom dates".
// (In the capture phase, so the form is sent, by htmx or not, as it then reads.)
document.addEventListener("change", function (event) {
  var form = event.target.form;
  var period = form && form.querySelector("select[data-period]");
  if (!period) { return; }
  if (event.target === period && period.value !== "custom") {
    form.querySelectorAll("[data-custom-date]").forEach(function (input) { input.value = ""; });
  } else if (event.target.hasAttribute("data-custom-date")) {
    period.value = "custom";
  }
}, true);

// Shared by every page: copy buttons. <button data-copy="#element-id"> or data-copy-text="…".
// Inside an iframe the Clipboard API needs the host's allow="clipboard-write"; without it the
// older copy command is tried, and as a last resort the text is shown selected to copy by hand.
(function () {
  "use strict";
  function announce(button, message, ok) {
    karla.announce(message);
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
    box.setAttribute("aria-label", karla.text("textToCopy"));
    box.className = "copy-manual";
    button.insertAdjacentElement("afterend", box);
    box.focus();
    box.select();
    box.addEventListener("blur", function () { box.remove(); });
    announce(button, karla.text("copyByHand"), false);
  }

  function fallback(button, text) {
    if (copyWithCommand(text)) { announce(button, karla.text("copied"), true); } else { showForManualCopy(button, text); }
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
      function () { announce(button, karla.text("copied"), true); },
      function () { fallback(button, text); }
    );
  });
})();

// Settings pages: open the shared <dialog> when HTMX loads a form into it, close it after a
// successful change, and put the focus where the change shows. Without JavaScript every link
// and form works as a plain page.
(function () {
  "use strict";
  var kept = null;  // the secrets typed into the dialog, while the server answers
  function dialog() { return document.getElementById("dialog"); }

  function focusFirst(container) {
    var target = container.querySelector("[aria-invalid=true]") ||
      container.querySelector("[data-initial-focus]") ||
      container.querySelector("input:not([type=hidden]), select, textarea, button[type=submit]");
    if (!target) { return; }
    target.focus();
    if (target.type === "password" && target.value) { target.select(); }  // typing replaces it
  }

  // A refused form comes back without what was typed into its password fields (the server
  // never sends a token back): the browser puts it back, so a second try needs no new paste.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "dialog-body") { return; }
    kept = {};
    event.detail.target.querySelectorAll("input[type=password]").forEach(function (input) {
      if (input.value) { kept[input.name] = input.value; }
    });
  });

  function restoreKept(container, status) {
    var secrets = kept;
    kept = null;
    if (!secrets || status !== 422) { return; }
    container.querySelectorAll("input[type=password]").forEach(function (input) {
      if (!input.value && secrets[input.name]) { input.value = secrets[input.name]; }
    });
  }

  function closeDialog() {
    var d = dialog();
    if (d && d.open) { d.close(); }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var d = dialog();
    if (!d || event.detail.target.id !== "dialog-body") { return; }
    restoreKept(event.detail.target, event.detail.xhr.status);
    if (!d.open) { d.showModal(); }
    focusFirst(d);
  });

  // After a change the list comes back: the focus goes to the changed account's row, or to
  // the message when the account is gone (the dialog that asked has closed by then).
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target.id !== "accounts-list") { return; }
    var target = document.querySelector("#accounts-list [data-focus]");
    if (target) { target.focus(); }
  });

  // Preview replaces the reply templates' section: the focus goes to the first template to
  // fix (its message is read with it), else back to Preview, never to the top of the page.
  document.addEventListener("htmx:afterSettle", function (event) {
    var asker = event.detail.requestConfig && event.detail.requestConfig.elt;
    var section = document.getElementById("reply-templates");
    if (!section || !asker || asker.getAttribute("hx-target") !== "#reply-templates") { return; }
    var target = section.querySelector("[aria-invalid=true]") || section.querySelector("button[name=preview]");
    if (target) { target.focus(); }
  });

  // A page that opens after a change (without JavaScript's swaps, or a plain form) says what
  // happened: its message takes the focus.
  // A form refused without JavaScript's help opens with the focus on the field to fix.
  var first = document.querySelector("[data-focus-on-load]") ||
    document.querySelector("main form:not([role=search]) [aria-invalid=true]");
  if (first) { first.focus(); }

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

// The sidebar. Its session: a short-lived token from the launch, sent in a header on every
// HTMX request (no cookies, so third-party cookie blocking cannot break it) and renewed from
// each response's header while the agent is active. When it ends, the host (ArminCX) is asked
// for a fresh launch token (README, "Host messages") and the sidebar goes on in place.
(function () {
  "use strict";
  var HEADER = "X-Karla-Sidebar-Token";
  var RENEW_EVERY_MS = 4 * 60 * 1000;
  var HOST_WAIT_MS = 10000;
  var tokenMeta = document.querySelector('meta[name="karla-sidebar-token"]');
  if (!tokenMeta) { return; }  // not the sidebar
  // The launch token has done its work: take it out of the frame's address (and history).
  if (/[?&]token=/.test(location.search)) { history.replaceState(null, "", location.pathname); }
  function meta(name) {
    var element = document.querySelector('meta[name="karla-' + name + '"]');
    return element ? element.content : "";
  }
  var token = tokenMeta.content;
  var origins = meta("host-origins").split(" ").filter(Boolean);
  var result = document.getElementById("result");
  var state = document.getElementById("session-state");
  var lastActivity = Date.now();
  var lastRenewal = Date.now();
  var current = null;   // the lookup whose answer #result waits for
  var swapped = false;
  var retry = null;     // the request to send again once the session resumes
  var waiting = null;   // the timer while the host is asked for a launch token
  var refocus = false;
  var followAfter = false;  // the lookup came from a card or a row: the inputs follow it

  function remember(xhr) {
    var fresh = xhr && xhr.getResponseHeader(HEADER);
    if (fresh) { token = fresh; lastRenewal = Date.now(); }
  }

  // Messages go to the configured ArminCX origins only: the browser delivers one only where its
  // target origin is the host's, so the text never reaches another page. Never "*".
  function tellHost(message) {
    if (window.parent === window || !origins.length) { return false; }
    origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
    return true;
  }

  function showState(kind) {
    state.hidden = !kind;
    state.textContent = kind ? state.getAttribute("data-" + kind) : "";
    if (kind) { karla.announce(state.textContent); }  // not "Looking up…" any more
  }

  function sessionEnded(request) {
    if (request) { retry = request; }
    if (waiting) { return; }
    if (!tellHost({ type: "karla:session-expired" })) { showState("expired"); return; }
    showState("resuming");
    waiting = setTimeout(function () { waiting = null; showState("expired"); }, HOST_WAIT_MS);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== window.parent || origins.indexOf(event.origin) === -1) { return; }
    if (!data || data.type !== "karla:launch-token" || typeof data.token !== "string") { return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", meta("sidebar-resume"));
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    xhr.onload = function () {
      clearTimeout(waiting);
      waiting = null;
      if (xhr.status !== 204 || !xhr.getResponseHeader(HEADER)) { showState("expired"); return; }
      remember(xhr);
      showState("");
      var again = retry;
      retry = null;
      if (again && again.elt.isConnected) { htmx.ajax(again.verb.toUpperCase(), again.path, { source: again.elt }); }
    };
    xhr.send("token=" + encodeURIComponent(data.token));
  });

  // While a lookup runs, the card on show belongs to the question before: dimmed, busy, and
  // nothing on it can be used (no copying the previous customer's reply).
  function setBusy(on) {
    result.setAttribute("aria-busy", on ? "true" : "false");
    result.classList.toggle("is-busy", on);
    Array.prototype.forEach.call(result.children, function (child) { child.inert = on; });
    result.querySelectorAll("button, textarea, select, input:not([type=hidden])").forEach(function (control) {
      if (on && !control.disabled) {
        control.disabled = true;
        control.setAttribute("data-busy", "");
      } else if (!on && control.hasAttribute("data-busy")) {
        control.disabled = false;
        control.removeAttribute("data-busy");
      }
    });
  }

  function editing(card) {
    return card && card.querySelector("details[data-reply][open]");
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers[HEADER] = token;
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var asker = event.detail.elt;
    if (asker.hasAttribute("data-live")) {
      // A live card waits while a lookup runs or while the agent works on its reply.
      if (result.classList.contains("is-busy") || editing(asker.closest("article"))) { event.preventDefault(); }
      return;
    }
    if (event.detail.target === result) {
      current = event.detail.xhr;
      swapped = false;
      // A row or a card's button: the inputs follow what it shows. Not a Refresh: the same
      // lookup again leaves whatever the agent has typed meanwhile.
      var form = asker.closest("form");
      followAfter = !!asker.closest("#result, #customer-orders") &&
        !(form && form.querySelector("input[name=refresh]"));
      setBusy(true);
      karla.announce(karla.text("lookingUp"));
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var asker = event.detail.elt;
    var status = event.detail.xhr.status;
    if (asker && asker.hasAttribute("data-live")) {
      if (status >= 400) {  // a live card's question answered 401 (the session ended): stop asking
        event.detail.shouldSwap = false;
        event.detail.isError = false;
        asker.remove();
      } else {
        refocus = asker.closest("article").contains(document.activeElement);
      }
      return;
    }
    if (status === 401) {  // keep the form and the result; ask the host, then ask again
      event.detail.shouldSwap = false;
      event.detail.isError = false;
      sessionEnded(event.detail.requestConfig);
    }
    if (event.detail.target === result) { swapped = event.detail.shouldSwap; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== result) { return; }
    setBusy(false);
    var shown = result.querySelector("[data-action]");
    if (shown && followAfter) { follow(shown); }
    var focused = document.activeElement;
    if (!focused || focused === document.body || result.contains(focused)) { focusHeading(result); }
  });
  document.addEventListener("htmx:load", function (event) {
    var element = event.detail.elt;
    var message = element.getAttribute && element.getAttribute("data-announce");
    if (message) { karla.announce(message); }
    if (refocus && element.matches && element.matches("article")) { refocus = false; focusHeading(element); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    remember(event.detail.xhr);
    var banner = document.getElementById("request-error");
    if (banner) { banner.hidden = !(event.detail.failed && !event.detail.xhr.status); }
    if (event.detail.xhr !== current) { return; }
    current = null;
    // No answer to show (the network, a server error): the old card must not stay usable.
    if (!swapped && event.detail.xhr.status !== 401) { result.innerHTML = ""; }
    setBusy(false);
  });
  document.addEventListener("htmx:sendError", function () {
    var banner = document.getElementById("request-error");
    if (banner) { banner.hidden = false; }
  });

  function focusHeading(container) {
    var heading = container.querySelector("[data-result-heading]");
    if (heading) { heading.focus(); }
  }

  function lookupForm(action) { return document.querySelector('form[data-action="' + action + '"]'); }

  // The inputs follow the result shown (a row or a button on a card started the lookup).
  function follow(shown) {
    ["order", "shipment"].forEach(function (action) {
      var input = lookupForm(action).querySelector("input[name=reference]");
      input.value = action === shown.getAttribute("data-action") ? shown.getAttribute("data-reference") : "";
    });
  }

  // Another account chosen: the lookup on show runs again in it.
  var accountSelect = document.getElementById("account-select");
  if (accountSelect) {
    accountSelect.addEventListener("change", function () {
      var shown = result.querySelector("[data-action]");
      if (!shown || !shown.getAttribute("data-reference")) { return; }
      var form = lookupForm(shown.getAttribute("data-action"));
      form.querySelector("input[name=reference]").value = shown.getAttribute("data-reference");
      htmx.trigger(form, "submit");
    });
  }

  // Escape clears the result (not while typing a reply or choosing in a list).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !result.children.length) { return; }
    if (event.target.closest("textarea, select, dialog")) { return; }
    document.querySelectorAll("form[data-action], #result form").forEach(function (form) { htmx.trigger(form, "htmx:abort"); });
    current = null;
    result.innerHTML = "";
    setBusy(false);
    karla.announce(karla.text("cleared"));
    var input = lookupForm("order").querySelector("input[name=reference]");
    if (!event.target.closest("form[data-action]")) { input.focus(); }
  });

  // Insert into reply: the edited text goes to the host's reply box.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert-reply]");
    if (!button) { return; }
    var text = document.querySelector(button.getAttribute("data-insert-reply")).value;
    var sent = tellHost({ type: "karla:insert-reply", text: text });
    karla.announce(karla.text(sent ? "inserted" : "noHost"));
  });

  ["keydown", "pointerdown", "focusin"].forEach(function (name) {
    document.addEventListener(name, function () { lastActivity = Date.now(); }, true);
  });
  setInterval(function () {
    var renewUrl = meta("sidebar-renew");
    if (!renewUrl || lastActivity < lastRenewal || waiting) { return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", renewUrl);
    xhr.setRequestHeader(HEADER, token);
    xhr.onload = function () {
      if (xhr.status === 401) { sessionEnded(null); } else { remember(xhr); }
    };
    xhr.send();
  }, RENEW_EVERY_MS);
})();
