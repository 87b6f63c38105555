// Shared by every page: copy buttons. <button data-copy="#element-id"> or data-copy-text="…".
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-text]");
    if (!button) { return; }
    var text = button.getAttribute("data-copy-text");
    if (text === null) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      text = source ? (source.value !== undefined ? source.value : source.textContent).trim() : "";
    }
    if (!text || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(text).then(function () {
      var label = button.getAttribute("aria-label") || button.textContent;
      button.setAttribute("data-copied", "true");
      var status = document.getElementById("copy-status");
      if (status) { status.textContent = "Copied."; }
      setTimeout(function () { button.removeAttribute("data-copied"); }, 1500);
      return label;
    });
  });
})();
