/*
 * Baton agent console, Disruptions (supervisors): the flights the operations feed reported
 * from yesterday on, the latest news first (GET /api/agent/disruptions), with how many
 * bookings each touches and how many of its customers were told and wait now.
 *
 * Fetched again while open whenever the feed changes one ("disruption" events, which
 * carry only an id, since every console gets them) or the queue changes ("handoff",
 * "status": the waiting counts).
 */

import { el, formatDateTime } from "../client/shared.js";
import { api, session } from "./api.js";
import { on } from "./events.js";
import * as labels from "./labels.js";
import { $, announce, dataTable, showError } from "./ui.js";

var QUEUE_SETTLE_MS = 500; // a burst of queue events is one fetch
var asked = 0; // the latest fetch's number: an earlier answer arriving late is dropped
var queueTimer = null;

export function init() {
  $("view-disruptions").addEventListener("click", load);
}

function isSupervisor() {
  return !!session.me && session.me.role === "supervisor";
}

function isOpen() {
  return !$("disruptions-view").hidden;
}

on("me", function (me) {
  $("view-disruptions").hidden = me.role !== "supervisor";
});

on("logout", function () {
  asked += 1;
  clearTimeout(queueTimer);
  $("disruptions-list").textContent = "";
  $("disruptions-since").textContent = "";
});

on("event", function (ev) {
  if (!isSupervisor() || !isOpen()) return;
  if (ev.type === "disruption") {
    load().then(function (shown) {
      if (shown) announce("The operations feed updated a disruption.");
    });
  } else if (ev.type === "reset") {
    load();
  } else if (ev.type === "handoff" || ev.type === "status") {
    clearTimeout(queueTimer);
    queueTimer = setTimeout(load, QUEUE_SETTLE_MS);
  }
});

// Resolves true once this fetch's answer is on the screen.
function load() {
  var mine = ++asked;
  return api("GET", "/api/agent/disruptions").then(function (answer) {
    if (mine !== asked) return false;
    showError("disruptions-error", "");
    render(answer);
    return true;
  }, function (err) {
    if (mine === asked) showError("disruptions-error", err.message);
    return false;
  });
}

function render(answer) {
  $("disruptions-since").textContent = answer.feed_configured
    ? "Flights from " + labels.day(answer.since) + " on, as the operations feed reported them, the latest news first."
    : "";
  var box = $("disruptions-list");
  box.textContent = "";
  if (!answer.feed_configured) {
    box.appendChild(el("p", "empty", "The operations feed is not configured (BATON_OPS_SECRET is not set), so no disruption can be reported."));
    return;
  }
  if (!answer.disruptions.length) {
    box.appendChild(el("p", "empty", "No active disruptions from the operations feed"));
    return;
  }
  var num = function (text) { return { text: text, className: "num" }; };
  var shown = dataTable(["Flight", "Date", "What happened", "Details", num("Bookings"),
    num("Customers told"), num("Waiting"), "Last updated"], "Active disruptions");
  var body = shown.body;
  answer.disruptions.forEach(function (d) {
    var row = el("tr");
    row.setAttribute("data-disruption-id", d.id);
    row.setAttribute("data-type", d.type);
    row.appendChild(el("td", "dis-flight", d.flight_number));
    row.appendChild(el("td", "dis-date", labels.day(d.date)));
    row.appendChild(el("td", "dis-type", labels.label("disruptions", d.type)));
    row.appendChild(el("td", "dis-details", d.details || ""));
    row.appendChild(el("td", "dis-bookings num", String(d.bookings)));
    row.appendChild(el("td", "dis-told num", String(d.told)));
    row.appendChild(el("td", "dis-waiting num", String(d.waiting)));
    row.appendChild(el("td", "dis-updated", formatDateTime(d.updated_at)));
    body.appendChild(row);
  });
  box.appendChild(shown.wrap);
}
