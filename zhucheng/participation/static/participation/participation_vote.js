/* Ballot page: keeps a running total of the chosen projects' costs beside the budget (knapsack). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("pb-ballot");
    var out = document.getElementById("pb-total-value");
    if (!form || !out) { return; }
    var budget = parseInt(form.getAttribute("data-budget") || "0", 10);
    function update() {
      var total = 0, n = 0;
      form.querySelectorAll("input[name=proposals]:checked").forEach(function (box) {
        total += parseInt(box.getAttribute("data-cost") || "0", 10); n += 1;
      });
      out.textContent = (total / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2 }) + " / " + (budget / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2 }) + " (" + n + ")";
      out.parentNode.classList.toggle("is-over", budget > 0 && total > budget);
    }
    form.addEventListener("change", update);
    update();
  });
})();
