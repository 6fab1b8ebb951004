/*
 * Baton agent console, Insights (supervisors): a period's report from
 * GET /api/agent/insights as headline tiles, four charts (charts.js) and tables, each
 * table downloadable as CSV of exactly its text columns (csv.js). The unanswered topics'
 * rows also decide what each topic is (learning.js). The period chosen is kept in this
 * tab's sessionStorage, so a reload shows the same one.
 *
 * Text a customer wrote (unanswered questions, comments) is set with textContent.
 */

import { el } from "../client/shared.js";
import { api } from "./api.js";
import { drawCharts } from "./charts.js";
import { csvText, download } from "./csv.js";
import { on } from "./events.js";
import * as labels from "./labels.js";
import { confirmation, decisionText, downloadTrainingData, topicTools } from "./learning.js";
import { $, announce, dataTable, showError } from "./ui.js";

var PERIOD_KEY = "baton.insights.period";
var DEFAULT_PERIOD = { days: "30" };

var asked = 0; // the latest request's number: an older answer that arrives late is dropped
// After a decision: what the gateway answered (said above the table) and the topic whose
// row takes the focus again once the report is drawn anew.
var learned = { note: "", topic: null };

export function init() {
  restorePeriod();
  $("insights-days").addEventListener("change", function () {
    showDates($("insights-days").value === "");
    if ($("insights-days").value) show();
  });
  $("insights-form").addEventListener("submit", function (e) {
    e.preventDefault();
    show();
  });
  $("view-insights").addEventListener("click", load);
}

on("me", function (me) {
  $("view-insights").hidden = me.role !== "supervisor";
});

on("logout", function () {
  asked++;
  learned = { note: "", topic: null };
  $("insights-tiles").textContent = "";
  $("insights-charts").textContent = "";
  $("insights-tables").textContent = "";
});

// ---- the period ----------------------------------------------------------------------
function storedPeriod() {
  try {
    var p = JSON.parse(sessionStorage.getItem(PERIOD_KEY) || "null");
    if (p && (/^\d+$/.test(p.days) || (p.from && p.to))) return p;
  } catch (e) { /* the default, then */ }
  return DEFAULT_PERIOD;
}

function restorePeriod() {
  var p = storedPeriod();
  $("insights-days").value = p.days || "";
  if ($("insights-days").value !== (p.days || "")) $("insights-days").value = DEFAULT_PERIOD.days;
  $("insights-from").value = p.from || "";
  $("insights-to").value = p.to || "";
  showDates(!p.days);
}

function showDates(on) {
  document.querySelectorAll(".insights-dates").forEach(function (node) { node.hidden = !on; });
}

// The period the picker shows, or a message saying what is wrong with it.
function chosenPeriod() {
  var days = $("insights-days").value;
  if (days) return { period: { days: days } };
  var from = $("insights-from").value, to = $("insights-to").value;
  if (!from || !to) return { error: "Choose the first and the last day." };
  if (from > to) return { error: "The first day is after the last one." };
  return { period: { from: from, to: to } };
}

function query(p) {
  return p.days ? "days=" + p.days : "from=" + p.from + "&to=" + p.to;
}

function show() {
  var chosen = chosenPeriod();
  if (chosen.error) {
    showError("insights-error", chosen.error);
    return;
  }
  sessionStorage.setItem(PERIOD_KEY, JSON.stringify(chosen.period));
  learned = { note: "", topic: null };
  load();
}

// said: what to announce once the report is drawn (the period's name unless given).
function load(said) {
  var chosen = chosenPeriod();
  var period = chosen.period || storedPeriod();
  var mine = ++asked;
  $("insights-body").setAttribute("aria-busy", "true");
  $("insights-show").disabled = true;
  api("GET", "/api/agent/insights?" + query(period)).then(function (report) {
    if (mine !== asked) return null;
    showError("insights-error", "");
    render(report);
    return drawCharts($("insights-charts"), report, fmt).then(function () {
      announce(typeof said === "string" ? said : "Insights for " + periodText(report.period) + ".");
    });
  }).catch(function (err) {
    if (mine === asked) showError("insights-error", err.message);
  }).then(function () {
    if (mine !== asked) return;
    $("insights-body").setAttribute("aria-busy", "false");
    $("insights-show").disabled = false;
  });
}

// ---- how figures read: the browser test formats them the same way -----------------
var fmt = {
  count: function (n) { return Number(n).toLocaleString("en-GB"); },
  // "1 rating", "2 ratings": the words here all take an s.
  counted: function (n, word) { return fmt.count(n) + " " + word + (n === 1 ? "" : "s"); },
  percent: function (share) { return share === null ? "—" : (share * 100).toFixed(1) + "%"; },
  average: function (x) { return x === null ? "—" : x.toFixed(2); },
  seconds: function (s) {
    if (s === null) return "—";
    if (s < 60) return Math.round(s) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  },
  // A moment, as the UTC minute it was in: the report's days are UTC days too.
  utc: function (iso) { return new Date(iso).toISOString().slice(0, 16).replace("T", " "); },
};

function periodText(p) {
  return labels.day(p.from) + " – " + labels.day(p.to) + " (" + p.days + " day" + (p.days === 1 ? "" : "s") + ", UTC)";
}

// ---- the page ------------------------------------------------------------------------
function render(report) {
  $("insights-view").setAttribute("data-from", report.period.from);
  $("insights-view").setAttribute("data-to", report.period.to);
  $("insights-period").textContent = periodText(report.period);
  renderTiles(report);
  renderTables(report);
}

function renderTiles(r) {
  var tiles = [
    ["conversations", "Conversations", fmt.count(r.conversations), "started in the period"],
    ["containment", "Containment", fmt.percent(r.containment_rate), fmt.count(r.contained) + " contained by the bot"],
    ["handoffs", "Handoffs", fmt.count(r.handoffs.total), fmt.count(r.waits.waiting) + " waiting now"],
    ["wait-p50", "First reply, median", fmt.seconds(r.waits.p50), fmt.count(r.waits.answered) + " answered"],
    ["wait-p90", "First reply, 90th percentile", fmt.seconds(r.waits.p90), fmt.count(r.waits.abandoned) + " abandoned"],
    ["csat", "Customer rating", fmt.average(r.csat.average), "of 5, from " + fmt.counted(r.csat.count, "rating")],
    ["frustrated", "Frustrated customers", fmt.percent(r.frustration.share), fmt.counted(r.frustration.conversations, "conversation")],
  ];
  var box = $("insights-tiles");
  box.textContent = "";
  tiles.forEach(function (t) {
    var tile = el("div", "tile");
    tile.setAttribute("data-tile", t[0]);
    tile.appendChild(el("dt", "tile-label", t[1]));
    tile.appendChild(el("dd", "tile-value", t[2]));
    tile.appendChild(el("dd", "tile-sub", t[3]));
    box.appendChild(tile);
  });
}

function money(amounts) {
  return Object.keys(amounts).sort().map(function (cur) {
    return cur + " " + amounts[cur].toFixed(2);
  }).join(", ");
}

// A decision taken: the report is read again, and the row keeps the focus.
function decided(topic, answer) {
  learned = { note: confirmation(answer), topic: topic.topic_id };
  load(learned.note);
}

function tables(r) {
  var topics = r.unanswered.topics;
  return [
    {
      id: "unanswered", title: "Questions the bot could not answer",
      note: fmt.counted(r.unanswered.messages, "message") + " in the period, by topic, most first.",
      hint: trainingHint(),
      columns: ["Messages", "Examples", "First seen (UTC)", "Last seen (UTC)", "All time", "Decision"],
      rows: topics.map(function (t) {
        return [String(t.count), t.examples.join("\n"), fmt.utc(t.first_seen), fmt.utc(t.last_seen), String(t.total),
          decisionText(t)];
      }),
      // Controls, not text: neither shown in the CSV nor part of it.
      tools: { title: "Decide", cell: function (i) { return topicTools(topics[i], decided); } },
      buttons: [trainingDataButton()],
      said: learned.note,
    },
    {
      id: "comments", title: "Latest comments",
      note: "What customers wrote with their rating, newest first.",
      columns: ["Rating", "Comment", "Reason", "Rated (UTC)"],
      rows: r.csat.comments.map(function (c) {
        return [String(c.rating), c.comment, labels.label("reasons", c.reason), fmt.utc(c.rated_at)];
      }),
    },
    {
      id: "actions", title: "Empowered actions",
      note: "What agents asked to do for customers, and what became of it.",
      columns: ["Action", "Requests", "Amount carried out", "Approved", "Rejected", "Pending", "Done", "Failed"],
      rows: r.resolution.actions.map(function (a) {
        return [a.label, String(a.count), money(a.total_amount), String(a.approved), String(a.rejected),
          String(a.pending), String(a.done), String(a.failed)];
      }),
    },
    {
      id: "flights", title: "Most disrupted flights",
      note: "Disruption handoffs that named a flight.",
      columns: ["Flight", "Handoffs", "By disruption"],
      rows: r.disruptions.top_flights.map(function (f) {
        return [f.flight_number, String(f.handoffs), Object.keys(f.by_type).map(function (type) {
          return labels.label("disruptions", type) + " " + f.by_type[type];
        }).join(", ")];
      }),
    },
    {
      id: "signals", title: "Top frustration signals",
      note: "In how many conversations each signal was heard.",
      columns: ["Signal", "Conversations"],
      rows: r.frustration.top_signals.map(function (s) {
        return [labels.label("signals", s.signal), String(s.conversations)];
      }),
    },
  ];
}

function trainingHint() {
  var hint = el("p", "small", "Assign a topic to an intent and its messages become training data, which ");
  hint.appendChild(el("code", null, "make train"));
  hint.appendChild(document.createTextNode(" includes."));
  return hint;
}

function trainingDataButton() {
  var button = el("button", "btn btn-secondary btn-small", "Download training data");
  button.type = "button";
  button.addEventListener("click", function () {
    button.disabled = true;
    downloadTrainingData().then(function () {
      showError("insights-error", "");
    }, function (err) {
      showError("insights-error", err.message);
    }).then(function () { button.disabled = false; });
  });
  return button;
}

function renderTables(report) {
  var box = $("insights-tables");
  box.textContent = "";
  var period = report.period.from + "-to-" + report.period.to;
  tables(report).forEach(function (t) {
    var section = el("section", "insight-table");
    section.setAttribute("data-table", t.id);
    var head = el("div", "insight-table-head");
    var titleId = "insights-table-" + t.id;
    var title = el("h3", null, t.title);
    title.id = titleId;
    var titles = el("div");
    titles.appendChild(title);
    titles.appendChild(el("p", "small", t.note));
    if (t.hint) titles.appendChild(t.hint);
    head.appendChild(titles);
    var button = el("button", "btn btn-secondary btn-small", "Download CSV");
    button.type = "button";
    button.setAttribute("aria-label", "Download CSV: " + t.title);
    button.addEventListener("click", function () {
      download("baton-insights-" + t.id + "-" + period + ".csv", csvText(t.columns, t.rows));
    });
    var buttons = el("div", "insight-table-buttons");
    buttons.appendChild(button);
    (t.buttons || []).forEach(function (b) { buttons.appendChild(b); });
    head.appendChild(buttons);
    section.appendChild(head);
    if (t.said) section.appendChild(el("p", "insight-said", t.said));

    var shown = dataTable(t.columns);
    shown.table.setAttribute("aria-labelledby", titleId);
    if (t.tools) {
      var toolsHead = el("th", null, t.tools.title);
      toolsHead.scope = "col";
      toolsHead.setAttribute("data-tools", "");
      shown.head.appendChild(toolsHead);
    }
    var tbody = shown.body;
    t.rows.forEach(function (row, i) {
      var line = el("tr");
      row.forEach(function (cell) { line.appendChild(el("td", null, cell)); });
      if (t.tools) {
        var tools = el("td", "tools-cell");
        tools.setAttribute("data-tools", "");
        tools.appendChild(t.tools.cell(i));
        line.appendChild(tools);
      }
      tbody.appendChild(line);
    });
    section.appendChild(shown.wrap);
    if (!t.rows.length) section.appendChild(el("p", "empty", "Nothing in this period."));
    box.appendChild(section);
  });
  // The decided topic's row had the focus; its controls were drawn anew.
  var again = learned.topic === null ? null
    : box.querySelector('[data-topic-id="' + learned.topic + '"] select');
  if (again) again.focus();
  learned.topic = null;
}
