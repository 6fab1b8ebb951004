/*
 * Baton agent console, History: every conversation, past or present, with filters
 * (status, reason, agent, period) and a search (booking reference, e-mail, phone, text),
 * a page at a time (GET /api/agent/conversations). Opening one shows it in the
 * conversation view (transcript, context, notes, actions), read-only once resolved.
 * Also the customer's ratings in the context panel, live from "rating" events.
 *
 * Text a customer or agent wrote is set with textContent.
 */

import { el, formatDateTime } from "../client/shared.js";
import { api } from "./api.js";
import { select, selectedConversation } from "./core.js";
import { on } from "./events.js";
import * as labels from "./labels.js";
import { $, announce, showError } from "./ui.js";

var STATES = [
  ["", "Any status"],
  ["resolved", "Resolved"],
  ["agent", "With an agent"],
  ["waiting", "Waiting"],
  ["bot", "Bot only"],
];
var REASONS = [
  ["", "Any reason"],
  ["requested", "Asked for a person"],
  ["frustration", "Frustrated customer"],
  ["disruption", "Travel disruption"],
  ["bot_failure", "Bot could not help"],
  ["bot_unavailable", "Bot unavailable"],
];
var PAGE = 25;

var lines = []; // the entries shown, newest first
var next = null; // before= for the next page
var query = ""; // the query string of the list shown
var loaded = false;
var handoffs = []; // the selected conversation's, for its ratings

export function init() {
  fillSelect("history-status", STATES);
  fillSelect("history-reason", REASONS);
  fillSelect("history-agent", [["", "Any agent"]]);
  $("history-form").addEventListener("submit", function (e) {
    e.preventDefault();
    search();
  });
  $("history-more").addEventListener("click", more);
  $("view-history").addEventListener("click", function () {
    if (!loaded) search();
  });
}

on("me", function () {
  // History is for every agent, so the views bar shows for everyone now.
  $("views").hidden = false;
  $("view-history").hidden = false;
  loadAgents();
});

on("logout", function () {
  lines = [];
  next = null;
  loaded = false;
  $("history-list").textContent = "";
});

var state = null; // the selected conversation's, as History has it

on("conversation", function (c) {
  handoffs = c.handoffs || (c.handoff ? [c.handoff] : []);
  state = c.state || null;
  renderRatings();
  renderState();
});

on("header", renderState);

// The header says "Resolved" of any conversation with the bot; one never handed off was not.
function renderState() {
  var selected = selectedConversation();
  if (selected && selected.status === "bot" && state === "bot") {
    $("conv-sub").textContent = "With the bot — never handed off";
  }
}

on("select", function () {
  handoffs = [];
  state = null;
  renderRatings();
});

on("event", function (ev) {
  var open = selectedConversation();
  // Handed off now: once back with the bot it will have been resolved.
  if (ev.type === "status" && open && open.id === ev.conversation_id && ev.status !== "bot") state = ev.status;
  if (ev.type !== "rating" || !ev.rating) return;
  var r = ev.rating;
  var selected = selectedConversation();
  if (selected && selected.id === ev.conversation_id) {
    handoffs.forEach(function (h) {
      if (h.id === r.handoff_id) {
        h.rating = r.score;
        h.rating_comment = r.comment;
        h.rated_at = r.rated_at;
      }
    });
    renderRatings();
    announce("The customer rated this conversation " + r.score + " out of 5.");
  }
  lines.forEach(function (line) {
    if (line.id !== ev.conversation_id) return;
    line.ratings = line.ratings.filter(function (x) { return x.handoff_id !== r.handoff_id; }).concat([r]);
    renderList();
  });
});

// ---- the customer's ratings, in the context panel ---------------------------------
function renderRatings() {
  var rated = handoffs.filter(function (h) { return typeof h.rating === "number"; });
  $("ctx-rating-block").hidden = !rated.length;
  var box = $("ctx-rating");
  box.textContent = "";
  rated.forEach(function (h) {
    var line = el("span", "rating-line");
    line.appendChild(stars(h.rating));
    line.appendChild(el("span", "rating-score", h.rating + " / 5"));
    if (h.rating_comment) line.appendChild(el("span", "rating-comment", "“" + h.rating_comment + "”"));
    var who = h.agent && h.agent.name ? "For " + h.agent.name : "";
    var when = h.rated_at ? formatDateTime(h.rated_at) : "";
    if (who || when) line.appendChild(el("span", "rating-meta", [who, when].filter(Boolean).join(" · ")));
    box.appendChild(line);
  });
}

function stars(score) {
  var s = el("span", "stars", "★★★★★".slice(0, score) + "☆☆☆☆☆".slice(0, 5 - score));
  s.setAttribute("aria-hidden", "true");
  return s;
}

// ---- the list ------------------------------------------------------------------------
function fillSelect(id, options) {
  var select = $(id);
  select.textContent = "";
  options.forEach(function (o) {
    var opt = document.createElement("option");
    opt.value = o[0];
    opt.textContent = o[1];
    select.appendChild(opt);
  });
}

function loadAgents() {
  api("GET", "/api/agent/agents").then(function (body) {
    var keep = $("history-agent").value;
    fillSelect("history-agent", [["", "Any agent"]].concat((body.agents || []).map(function (a) {
      return [String(a.id), a.name];
    })));
    $("history-agent").value = keep;
  }, function () {});
}

// The date inputs are the agent's local days; the API takes moments with an offset.
function dayStart(value, plusDays) {
  var parts = value.split("-").map(Number);
  return new Date(parts[0], parts[1] - 1, parts[2] + plusDays).toISOString();
}

function currentQuery() {
  var params = [];
  var add = function (name, value) { if (value) params.push(name + "=" + encodeURIComponent(value)); };
  add("q", $("history-q").value.trim());
  add("status", $("history-status").value);
  add("reason", $("history-reason").value);
  add("agent", $("history-agent").value);
  var from = $("history-from").value, to = $("history-to").value;
  if (from && to && from > to) return { error: "The first day is after the last one." };
  if (from) add("from", dayStart(from, 0));
  if (to) add("to", dayStart(to, 1));
  return { query: params.join("&") };
}

function search() {
  var built = currentQuery();
  if (built.error) {
    showError("history-error", built.error);
    return;
  }
  query = built.query;
  fetchPage(null).then(function (body) {
    if (!body) return;
    lines = body.conversations || [];
    next = body.next;
    loaded = true;
    renderList();
    var count = lines.length + (next ? "+" : "");
    $("history-summary").textContent = lines.length ?
      "Showing " + count + " conversation" + (lines.length === 1 && !next ? "" : "s") + ", newest first." : "";
  });
}

function more() {
  if (!next) return;
  fetchPage(next).then(function (body) {
    if (!body) return;
    lines = lines.concat(body.conversations || []);
    next = body.next;
    renderList();
    $("history-summary").textContent = "Showing " + lines.length + (next ? "+" : "") + " conversations, newest first.";
  });
}

function fetchPage(before) {
  var path = "/api/agent/conversations?limit=" + PAGE + (query ? "&" + query : "") +
    (before ? "&before=" + encodeURIComponent(before) : "");
  $("history-search").disabled = true;
  return api("GET", path).then(function (body) {
    showError("history-error", "");
    return body;
  }, function (err) {
    showError("history-error", err.message);
    return null;
  }).then(function (body) {
    $("history-search").disabled = false;
    return body;
  });
}

function renderList() {
  var list = $("history-list");
  list.textContent = "";
  lines.forEach(function (c) { list.appendChild(line(c)); });
  $("history-empty").hidden = !loaded || lines.length > 0;
  $("history-more").hidden = !next;
}

function stateLabel(c) {
  if (c.state === "resolved") return "Resolved";
  if (c.state === "waiting") return "Waiting";
  if (c.state === "agent") return "With " + ((c.agent && c.agent.name) || "an agent");
  return "Bot only";
}

function line(c) {
  var h = c.handoff || {};
  var ctx = h.context || {};
  var li = el("li");
  var btn = el("button", "history-item");
  btn.type = "button";
  btn.setAttribute("data-id", c.id);
  btn.setAttribute("data-state", c.state);

  var top = el("div", "qi-top");
  top.appendChild(el("span", "status status-" + c.state, stateLabel(c)));
  // The same words as the queue and the context panel (labels.json), never a raw id.
  if (h.reason) top.appendChild(el("span", "badge reason-" + h.reason, labels.label("reasons", h.reason)));
  top.appendChild(el("time", "qi-wait", formatDateTime(c.created_at)));
  btn.appendChild(top);

  var name = (h.contact && h.contact.name) || ctx.customer_name;
  if (name) btn.appendChild(el("p", "history-name", name));
  var said = c.match || c.last_message;
  var summary = ctx.summary || (said ? said.text : "");
  btn.appendChild(el("p", "qi-summary", summary || "No messages"));
  if (c.match) {
    var found = el("p", "history-match");
    found.appendChild(el("span", "history-match-label", "Matched: "));
    found.appendChild(el("span", null, c.match.text));
    btn.appendChild(found);
  }

  var bottom = el("div", "qi-bottom");
  if (ctx.booking_reference) bottom.appendChild(el("span", "tag", "Booking " + ctx.booking_reference));
  var contact = h.contact || {};
  if (contact.email || contact.phone) bottom.appendChild(el("span", "tag", contact.email || contact.phone));
  if (c.agents.length) {
    bottom.appendChild(el("span", "tag", c.agents.map(function (a) { return a.name; }).join(", ")));
  }
  c.ratings.forEach(function (r) {
    var rating = el("span", "tag tag-rating");
    rating.appendChild(stars(r.score));
    rating.appendChild(document.createTextNode(" " + r.score + " / 5" + (r.comment ? " “" + r.comment + "”" : "")));
    bottom.appendChild(rating);
  });
  btn.appendChild(bottom);
  btn.addEventListener("click", function () { open(c.id); });
  li.appendChild(btn);
  return li;
}

function open(id) {
  // select() switches back to the conversations view and loads it in full.
  select(id).then(function () {
    var transcript = $("transcript");
    if (transcript) transcript.focus();
  });
}
