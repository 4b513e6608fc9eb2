/* Bar chart of enrolled people per category (care/metrics.html). Numbers come from a json_script
   block; suppressed (sensitive, fewer than 5) values arrive as null and are drawn as no bar. */
(function () {
  "use strict";
  function init() {
    var el = document.getElementById("care-chart");
    if (!el || typeof echarts === "undefined") { return; }
    var source = document.getElementById(el.getAttribute("data-source"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: window.getComputedStyle(document.body).fontFamily, fontSize: 14, color: "#1a1a1a" },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: data.labels, axisLabel: { fontSize: 13, color: "#1a1a1a", interval: 0, rotate: data.labels.length > 5 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: 14, color: "#1a1a1a" } },
      series: [{ type: "bar", data: data.values, itemStyle: { color: "#0b4f8a" }, barMaxWidth: 48,
                 label: { show: true, position: "top", fontSize: 14, color: "#1a1a1a" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
