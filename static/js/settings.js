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
