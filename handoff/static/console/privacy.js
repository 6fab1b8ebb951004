/*
 * Baton agent console, Privacy (supervisors): the retention period (GET /api/agent/privacy),
 * one customer's conversations found by their email, phone, booking reference or the
 * customer id their site signed
 * (GET /api/agent/privacy/conversations), and their erasure with a reason
 * (POST /api/agent/privacy/erasures), confirmed once more before anything goes.
 *
 * Nothing a customer wrote is shown here: only ids, times and what matched.
 */

import { el } from "../client/shared.js";
import { api } from "./api.js";
import { on } from "./events.js";
import { $, announce, dataTable, showError } from "./ui.js";

var found = []; // the conversations of the latest search

export function init() {
  $("view-privacy").addEventListener("click", loadPolicy);
  $("privacy-form").addEventListener("submit", function (e) {
    e.preventDefault();
    search();
  });
  $("privacy-erase").addEventListener("click", askToConfirm);
  $("privacy-confirm").addEventListener("click", erase);
  $("privacy-cancel").addEventListener("click", function () { confirming(false); });
  $("privacy-results").addEventListener("change", updateErase);
  $("privacy-reason").addEventListener("input", updateErase);
}

on("me", function (me) {
  $("view-privacy").hidden = me.role !== "supervisor";
});

on("logout", function () {
  found = [];
  $("privacy-results").textContent = "";
  $("privacy-done").textContent = "";
  $("privacy-policy").textContent = "";
});

function day(iso) {
  return iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "";
}

function loadPolicy() {
  api("GET", "/api/agent/privacy").then(function (p) {
    var kept = p.retention_days
      ? "Transcripts and contact details are deleted " + p.retention_days + " days after a conversation's last message; every count of the insights is kept."
      : "No retention period is set (BATON_RETENTION_DAYS): transcripts are kept until erased.";
    var pending = p.pending_assistant ? " " + p.pending_assistant + " still to be deleted from the assistant." : "";
    $("privacy-policy").textContent = kept + " " + p.redacted + " conversation" + (p.redacted === 1 ? "" : "s") + " deleted so far." + pending;
  }, function (err) { showError("privacy-error", err.message); });
}

function query() {
  var parts = [];
  ["email", "phone", "booking_reference", "customer_id"].forEach(function (name) {
    var value = $("privacy-" + name.replace("_", "-")).value.trim();
    if (value) parts.push(name + "=" + encodeURIComponent(value));
  });
  return parts.join("&");
}

function search() {
  showError("privacy-error", "");
  $("privacy-done").textContent = "";
  confirming(false);
  api("GET", "/api/agent/privacy/conversations?" + query()).then(function (answer) {
    found = answer.conversations;
    render();
    announce(found.length ? found.length + " conversations found." : "No conversation names this customer.");
  }, function (err) {
    found = [];
    render();
    showError("privacy-error", err.message);
  });
}

// Why a conversation cannot be chosen, or "" when it can.
function blocked(c) {
  if (c.redacted_at) return "Deleted " + day(c.redacted_at) + " (" + c.redaction + ")";
  if (c.status !== "bot") return "With the team: resolve it first";
  return "";
}

function render() {
  var box = $("privacy-results");
  box.textContent = "";
  $("privacy-erase-form").hidden = !found.length;
  if (!found.length) {
    box.appendChild(el("p", "empty", query() ? "No conversation names this customer." : ""));
    return;
  }
  var shown = dataTable(["Erase", "Conversation", "Started", "Last message", "Status", "Found by"]);
  var body = shown.body;
  found.forEach(function (c) {
    var row = el("tr");
    row.setAttribute("data-conversation-id", c.id);
    var pick = el("input");
    pick.type = "checkbox";
    pick.value = c.id;
    pick.id = "privacy-pick-" + c.id;
    pick.disabled = !!blocked(c);
    pick.checked = !pick.disabled;
    var label = el("label", "sr-only", "Erase conversation " + c.id);
    label.htmlFor = pick.id;
    var cell = el("td");
    cell.appendChild(pick);
    cell.appendChild(label);
    row.appendChild(cell);
    row.appendChild(el("td", null, c.id.slice(0, 8)));
    row.appendChild(el("td", null, day(c.created_at)));
    row.appendChild(el("td", null, day(c.updated_at)));
    row.appendChild(el("td", null, blocked(c) || "With the bot"));
    row.appendChild(el("td", null, c.matched.join(", ")));
    body.appendChild(row);
  });
  box.appendChild(shown.wrap);
  updateErase();
}

function chosen() {
  return Array.prototype.slice.call($("privacy-results").querySelectorAll("input:checked"))
    .map(function (input) { return input.value; });
}

function updateErase() {
  var n = chosen().length;
  $("privacy-erase").disabled = !n || !$("privacy-reason").value.trim();
  $("privacy-erase").textContent = "Erase " + n + " conversation" + (n === 1 ? "" : "s");
  confirming(false);
}

function confirming(on) {
  $("privacy-confirm-box").hidden = !on;
  $("privacy-erase").hidden = on;
}

function askToConfirm() {
  var n = chosen().length;
  $("privacy-confirm-text").textContent = "Erase " + n + " conversation" + (n === 1 ? "" : "s") +
    " for good? Their transcripts, notes, contact details and the assistant's copy are deleted; this cannot be undone.";
  confirming(true);
  $("privacy-confirm").focus();
}

function erase() {
  var ids = chosen();
  $("privacy-confirm").disabled = true;
  showError("privacy-error", "");
  api("POST", "/api/agent/privacy/erasures", { conversation_ids: ids, reason: $("privacy-reason").value })
    .then(function (answer) {
      var n = answer.erased.length;
      var said = "Erased " + n + " conversation" + (n === 1 ? "" : "s") + ": " +
        answer.messages_deleted + " messages and " + answer.notes_deleted + " notes deleted.";
      if (!answer.assistant_forgotten) said += " The assistant's copy goes at the next sweep.";
      $("privacy-reason").value = "";
      search();
      $("privacy-done").textContent = said;
      announce(said);
      loadPolicy();
    }, function (err) {
      showError("privacy-error", err.message);
      confirming(false);
    })
    .then(function () { $("privacy-confirm").disabled = false; });
}
