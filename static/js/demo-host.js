// The demo's ArminCX stand-in: the host side of the README's "Host messages". Only messages from
// the sidebar's frame and origin are taken; answers go to that origin only (never "*").
(function () {
  "use strict";
  var frame = document.querySelector("iframe[data-sidebar-origin]");
  if (!frame) { return; }
  var origin = frame.getAttribute("data-sidebar-origin");
  var status = document.getElementById("host-status");

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.type === "karla:insert-reply" && typeof data.text === "string") {
      var box = document.getElementById("reply-box");
      box.value = box.value ? box.value.replace(/\s*$/, "\n\n") + data.text : data.text;
      status.textContent = frame.getAttribute("data-inserted");
    } else if (data.type === "karla:session-expired") {
      fetch(frame.getAttribute("data-token-url"), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          frame.contentWindow.postMessage({ type: "karla:launch-token", token: answer.token }, origin);
          status.textContent = frame.getAttribute("data-resumed");
        });
    }
  });
})();
