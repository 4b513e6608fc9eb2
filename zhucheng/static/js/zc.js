/* 筑城 Zhucheng — small behaviours shared by every page (no inline scripts: CSP is script-src 'self'). */
(function () {
  "use strict";

  // After a verification code was sent, keep the button disabled for a minute (the server
  // refuses a second code within 60 s anyway) and show the countdown in the button itself.
  var COOLDOWN_SECONDS = 60;

  function startCooldown(button) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    var left = COOLDOWN_SECONDS;
    button.disabled = true;
    button.textContent = label + " (" + left + ")";
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = label + " (" + left + ")";
    }, 1000);
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "send-code" || !event.detail.successful) {
      return;
    }
    // The status partial says whether the code went out; only then start the countdown.
    window.setTimeout(function () {
      if (document.querySelector("#code-status .code-status--ok")) {
        startCooldown(elt);
      }
    }, 0);
  });
})();
