/* Bar chart of how many units of each kind lie under a unit (places/unit_detail.html).
   Numbers come from a json_script block ({kind: n}); the translated kind labels come from the
   accessible table next to the chart (rows carry data-kind), so nothing is duplicated in JS. */
(function () {
  "use strict";

  function init() {
    var el = document.getElementById("unit-chart");
    if (!el || typeof echarts === "undefined") {
      return;
    }
    var source = document.getElementById(el.getAttribute("data-counts"));
    var table = document.getElementById(el.getAttribute("data-table"));
    if (!source || !table) {
      return;
    }
    var counts = JSON.parse(source.textContent);
    var labels = [];
    var values = [];
    table.querySelectorAll("tbody tr[data-kind]").forEach(function (row) {
      var kind = row.getAttribute("data-kind");
      var n = counts[kind] || 0;
      if (n > 0) {
        labels.push(row.querySelector("th").textContent.trim());
        values.push(n);
      }
    });
    var fontFamily = window.getComputedStyle(document.body).fontFamily;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: fontFamily, fontSize: 14, color: "#1a1a1a" },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: labels, axisLabel: { fontSize: 14, color: "#1a1a1a", interval: 0 } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: 14, color: "#1a1a1a" } },
      series: [{
        type: "bar",
        data: values,
        itemStyle: { color: "#0b4f8a" },
        label: { show: true, position: "top", fontSize: 14, color: "#1a1a1a" },
        barMaxWidth: 48
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
