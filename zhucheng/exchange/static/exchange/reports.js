// 月调度: received and quarantined rows per day (ECharts, vendored). The table above says the same in text.
document.addEventListener("DOMContentLoaded", () => {
  const holder = document.getElementById("ex-chart");
  const source = document.getElementById("ex-chart-data");
  if (!holder || !source || typeof echarts === "undefined") return;
  const data = JSON.parse(source.textContent);
  const chart = echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: ["接收", "隔离"] },
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value" },
    series: [
      { name: "接收", type: "bar", data: data.received },
      { name: "隔离", type: "bar", data: data.rejected },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
});
