/* Small behaviours of the appeal forms: a block marked data-show-when="<checkbox id>" is shown
   only while that box is ticked (e.g. the head-count of a collective appeal). Without
   JavaScript every block stays visible. */
(function () {
  "use strict";

  function init() {
    document.querySelectorAll("[data-show-when]").forEach(function (block) {
      var box = document.getElementById(block.getAttribute("data-show-when"));
      if (!box) { return; }
      var sync = function () { block.hidden = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
