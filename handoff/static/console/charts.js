/*
 * The insights page's four charts, drawn by the vendored Chart.js (static/vendor/, see
 * its README). The library is fetched the first time a supervisor opens Insights, so
 * agents never download it; it is a classic script from our own origin, as the CSP asks.
 *
 * Each chart is a figure whose caption gives its key numbers in words: the text
 * alternative of the canvas, which is labelled by it.
 */

import { el } from "../client/shared.js";
import * as labels from "./labels.js";

var CHART_JS = "/static/vendor/chart.umd.min.js";
var COLOURS = {
  contained: "#067647",
  handed: "#1f5eff",
  bars: "#5925dc",
  waits: "#b54708",
  average: "#b42318",
  counts: "#c7d2fe",
};
var REASONS = ["requested", "frustration", "disruption", "bot_failure", "bot_unavailable"];
var BUCKETS = [
  ["under_1_min", "Under 1 min"],
  ["from_1_to_5_min", "1–5 min"],
  ["from_5_to_15_min", "5–15 min"],
  ["from_15_to_60_min", "15–60 min"],
  ["over_60_min", "Over 60 min"],
];

var loading = null;
var drawn = []; // the Chart instances on the page, destroyed before the next period's

function library() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!loading) {
    loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = CHART_JS;
      script.onload = function () { resolve(window.Chart); };
      script.onerror = function () {
        loading = null;
        script.remove();
        reject(new Error("The charts could not be loaded."));
      };
      document.head.appendChild(script);
    });
  }
  return loading;
}

// Draws the report's charts into box (emptied first); resolves once they are drawn.
export function drawCharts(box, report, fmt) {
  drawn.forEach(function (chart) { chart.destroy(); });
  drawn = [];
  box.textContent = "";
  var specs = [volume(report, fmt), reasons(report, fmt), waits(report, fmt), csat(report, fmt)];
  var canvases = specs.map(function (spec) { return figure(box, spec); });
  return library().then(function (Chart) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#374151";
    specs.forEach(function (spec, i) {
      drawn.push(new Chart(canvases[i], spec.config));
    });
  });
}

function figure(box, spec) {
  var fig = el("figure", "chart");
  fig.setAttribute("data-chart", spec.id);
  var caption = el("figcaption", "chart-caption");
  caption.id = "chart-caption-" + spec.id;
  caption.appendChild(el("span", "chart-title", spec.title));
  caption.appendChild(el("span", "chart-summary", spec.summary));
  var frame = el("div", "chart-box");
  var canvas = el("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-labelledby", caption.id);
  frame.appendChild(canvas);
  fig.appendChild(caption);
  fig.appendChild(frame);
  box.appendChild(fig);
  return canvas;
}

function options(extra) {
  var base = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
  };
  Object.keys(extra || {}).forEach(function (k) { base[k] = extra[k]; });
  return base;
}

function volume(report, fmt) {
  var days = report.handoffs.per_day;
  var busiest = days.reduce(function (best, d) { return !best || d.conversations > best.conversations ? d : best; }, null);
  var handed = report.conversations - report.contained;
  return {
    id: "volume",
    title: "Conversations per day by outcome",
    summary: fmt.counted(report.conversations, "conversation") + ": " + fmt.count(report.contained) +
      " contained by the bot, " + fmt.count(handed) + " handed to a person." +
      (busiest && busiest.conversations ? " Busiest day " + labels.day(busiest.date) + " (" + fmt.count(busiest.conversations) + ")." : ""),
    config: {
      type: "bar",
      data: {
        labels: days.map(function (d) { return labels.day(d.date); }),
        datasets: [
          { label: "Contained", data: days.map(function (d) { return d.contained; }), backgroundColor: COLOURS.contained },
          { label: "Handed off", data: days.map(function (d) { return d.conversations - d.contained; }), backgroundColor: COLOURS.handed },
        ],
      },
      options: options({
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      }),
    },
  };
}

function reasons(report, fmt) {
  var by = report.handoffs.by_reason;
  var seen = REASONS.filter(function (r) { return by[r]; });
  return {
    id: "reasons",
    title: "Handoffs by reason",
    summary: seen.length ?
      fmt.counted(report.handoffs.total, "handoff") + ": " + seen.map(function (r) {
        return labels.label("reasons", r) + " " + fmt.count(by[r]);
      }).join(", ") + "." : "No handoffs.",
    config: {
      type: "bar",
      data: {
        labels: REASONS.map(function (r) { return labels.label("reasons", r); }),
        datasets: [{ label: "Handoffs", data: REASONS.map(function (r) { return by[r]; }), backgroundColor: COLOURS.bars }],
      },
      options: options({ indexAxis: "y", plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }),
    },
  };
}

function waits(report, fmt) {
  var w = report.waits;
  return {
    id: "waits",
    title: "Wait for a first reply",
    summary: fmt.count(w.answered) + " answered: " + BUCKETS.map(function (b) {
      return b[1].toLowerCase() + " " + fmt.count(w.buckets[b[0]]);
    }).join(", ") + ". " + fmt.count(w.waiting) + " still waiting, " + fmt.count(w.abandoned) + " abandoned.",
    config: {
      type: "bar",
      data: {
        labels: BUCKETS.map(function (b) { return b[1]; }),
        datasets: [{ label: "Handoffs answered", data: BUCKETS.map(function (b) { return w.buckets[b[0]]; }), backgroundColor: COLOURS.waits }],
      },
      options: options({ plugins: { legend: { display: false } } }),
    },
  };
}

function csat(report, fmt) {
  var c = report.csat;
  var days = c.per_day;
  var rated = days.filter(function (d) { return d.count; });
  return {
    id: "csat",
    title: "Customer rating per day",
    summary: c.count ?
      fmt.counted(c.count, "rating") + ", average " + fmt.average(c.average) + " of 5, on " +
        fmt.counted(rated.length, "day") + "." : "No ratings.",
    config: {
      type: "bar",
      data: {
        labels: days.map(function (d) { return labels.day(d.date); }),
        datasets: [
          { type: "line", label: "Average (1–5)", data: days.map(function (d) { return d.average; }),
            borderColor: COLOURS.average, backgroundColor: COLOURS.average, yAxisID: "rating", spanGaps: true, order: 0 },
          { label: "Ratings", data: days.map(function (d) { return d.count; }), backgroundColor: COLOURS.counts, yAxisID: "y", order: 1 },
        ],
      },
      options: options({
        scales: {
          rating: { position: "left", min: 1, max: 5, ticks: { stepSize: 1 } },
          y: { position: "right", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false } },
        },
      }),
    },
  };
}
