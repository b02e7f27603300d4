// The 三率 dashboard's charts (bot/web/templates/dashboard.html). The numbers come from the page's
// JSON block (the CSP allows no inline script) and are also the page's tables, so the page reads
// without this. Each series has its own dash pattern and point shape, and the bars their values
// written on them, so a grey-scale print still tells them apart.
(function () {
  "use strict";
  var block = document.getElementById("dashboard-data");
  if (!block || typeof Chart === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var chart = data.chart;
  var styles = {
    response: { color: "#1f4e79", dash: [], point: "circle" },
    resolution: { color: "#2e7d32", dash: [8, 4], point: "rect" },
    satisfaction: { color: "#b45309", dash: [2, 3], point: "triangle" }
  };
  Chart.defaults.animation = false; // print and screenshots show the finished chart
  Chart.defaults.font.family = "system-ui, 'WenQuanYi Micro Hei', sans-serif";

  var percent = function (value) { return value + "%"; };
  var trend = document.getElementById("trend-chart");
  if (trend) {
    new Chart(trend, {
      type: "line",
      data: {
        labels: chart.labels,
        datasets: ["response", "resolution", "satisfaction"].map(function (key) {
          var style = styles[key];
          return {
            label: data.names[key], data: chart.series[key], borderColor: style.color,
            backgroundColor: style.color, borderDash: style.dash, pointStyle: style.point,
            pointRadius: 5, borderWidth: 2, spanGaps: false
          };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false,
        scales: { y: { min: 0, max: 100, ticks: { callback: percent } } },
        plugins: { legend: { labels: { usePointStyle: true } } }
      }
    });
    trend.closest("figure").classList.add("ready");
  }

  var grids = document.getElementById("grid-chart");
  if (grids) {
    // The values are written on the bars (a plugin of ours: no colour needed to read them).
    var labels = {
      id: "barLabels",
      afterDatasetsDraw: function (drawn) {
        var context = drawn.ctx;
        context.save();
        context.fillStyle = "#000";
        context.textBaseline = "middle";
        drawn.getDatasetMeta(0).data.forEach(function (bar, index) {
          var value = drawn.data.datasets[0].data[index];
          if (value !== null) { context.fillText(value + "%", bar.x + 4, bar.y); }
        });
        context.restore();
      }
    };
    new Chart(grids, {
      type: "bar",
      data: {
        labels: chart.grids.labels,
        datasets: [{ label: data.names.resolution, data: chart.grids.resolution,
                     backgroundColor: "#9fb8d0", borderColor: "#1f4e79", borderWidth: 1 }]
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false,
        scales: { x: { min: 0, max: 110, ticks: { callback: percent } } },
        plugins: { legend: { display: false } }
      },
      plugins: [labels]
    });
    grids.closest("figure").classList.add("ready");
  }
  document.body.classList.add("charts-ready");
}());
