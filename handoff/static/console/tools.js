/*
 * Baton agent console, the agent's tools: the console's views and context tabs, private
 * notes, empowered actions ("Take care of it") with the actions taken and the audit log,
 * supervisors' approvals, and transfer. Canned responses are in canned.js.
 *
 * Every piece of text that an agent or customer wrote is set with textContent.
 */

import { el, formatWhen } from "../client/shared.js";
import { api, session } from "./api.js";
import {
  holdsSelected, loadQueue, reloadConversation, select, selectedConversation,
} from "./core.js";
import { emit, on } from "./events.js";
import * as labels from "./labels.js";
import { $, announce, showError, shortId, toast } from "./ui.js";

var STATUS_LABELS = {
  pending_approval: "Waiting for supervisor approval",
  in_progress: "In progress",
  done: "Done",
  rejected: "Rejected",
  failed: "Failed",
};

var catalogue = { role: null, actions: [] }; // GET /api/agent/resolutions
var approvals = []; // supervisors: pending requests
var records = { id: null, notes: [], resolutions: [], audit: [] }; // the selected conversation's
var refreshTimer = null;

export function init() {
  initViews();
  initTabs();
  initNotes();
  initActionForm();
  initTransfer();
  $("approvals-refresh").addEventListener("click", loadApprovals);
}

on("me", function (me) {
  var supervisor = me.role === "supervisor";
  $("agent-role").hidden = !supervisor;
  $("view-approvals").hidden = !supervisor;
  $("view-canned").hidden = !supervisor;
  loadCatalogue();
  if (supervisor) loadApprovals();
});

on("logout", function () {
  setView("inbox");
  catalogue = { role: null, actions: [] };
  approvals = [];
  records = { id: null, notes: [], resolutions: [], audit: [] };
});

on("select", function (id) {
  records = { id: id, notes: [], resolutions: [], audit: [] };
  closeTransfer();
  resetActionForm();
  $("note-input").value = "";
  showError("note-error", "");
  renderRecords();
  setView("inbox");
});

on("conversation", function (c) {
  takeRecords(c);
});

on("header", function () {
  var mine = holdsSelected();
  $("transfer").hidden = !mine;
  if (!mine) closeTransfer();
  renderActionAvailability();
});

on("event", function (ev) {
  var selected = selectedConversation();
  var here = selected && ev.conversation_id === selected.id;
  if (ev.type === "hello" || ev.type === "reset") {
    if (isSupervisor()) loadApprovals();
  } else if (ev.type === "note" && ev.note) {
    if (here) addNote(ev.note, true);
  } else if (ev.type === "resolution" && ev.resolution) {
    onResolution(ev.resolution, here);
  } else if (ev.type === "transfer") {
    if (here) scheduleRefresh();
    var me = session.me;
    if (me && ev.to && ev.to.id === me.id && ev.from) {
      toast(ev.from.name + " passed a conversation to you.", "info");
      announce(ev.from.name + " passed a conversation to you.");
    }
  } else if ((ev.type === "status" || ev.type === "handoff") && here) {
    scheduleRefresh();
  }
});

function isSupervisor() {
  return !!session.me && session.me.role === "supervisor";
}

function path(id, rest) {
  return "/api/agent/conversations/" + encodeURIComponent(id) + (rest || "");
}

// ---- views (conversations, history, approvals, canned responses) -------------------
// Each tab's data-view names its section, "<view>-view" (the inbox has none).
function viewTabs() {
  return Array.prototype.slice.call(document.querySelectorAll("#views .view-tab"));
}

function initViews() {
  viewTabs().forEach(function (tab) {
    tab.addEventListener("click", function () { setView(tab.getAttribute("data-view")); });
  });
}

function setView(name) {
  $("app-view").setAttribute("data-view", name);
  viewTabs().forEach(function (tab) {
    var view = tab.getAttribute("data-view");
    tab.setAttribute("aria-pressed", String(view === name));
    if ($(view + "-view")) $(view + "-view").hidden = view !== name;
  });
  if (name === "approvals") loadApprovals();
}

// ---- context tabs ----------------------------------------------------------------
var TABS = ["tab-details", "tab-actions", "tab-notes"];

function initTabs() {
  TABS.forEach(function (id, index) {
    var tab = $(id);
    tab.addEventListener("click", function () { selectTab(id); });
    tab.addEventListener("keydown", function (e) {
      var next = null;
      if (e.key === "ArrowRight") next = TABS[(index + 1) % TABS.length];
      else if (e.key === "ArrowLeft") next = TABS[(index + TABS.length - 1) % TABS.length];
      else if (e.key === "Home") next = TABS[0];
      else if (e.key === "End") next = TABS[TABS.length - 1];
      if (!next) return;
      e.preventDefault();
      selectTab(next);
      $(next).focus();
    });
  });
}

function selectTab(id) {
  TABS.forEach(function (tabId) {
    var on = tabId === id;
    var tab = $(tabId);
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
  });
}

function setCount(id, n) {
  var badge = $(id);
  badge.textContent = String(n);
  badge.hidden = !n;
}

// ---- records: notes, resolutions, audit of the selected conversation ---------------
function takeRecords(c) {
  if (!c || c.id !== records.id) return;
  records.notes = c.notes || [];
  records.resolutions = c.resolutions || [];
  records.audit = c.audit || [];
  renderRecords();
}

// The audit log has no event of its own: re-read it when something happened here.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshRecords, 200);
}

function refreshRecords() {
  var id = records.id;
  if (!id) return;
  api("GET", path(id)).then(takeRecords, function () {});
}

function renderRecords() {
  renderNotes();
  renderResolutions();
  renderAudit();
}

// ---- private notes ---------------------------------------------------------------
function initNotes() {
  $("note-form").addEventListener("submit", function (e) {
    e.preventDefault();
    addNoteFromForm();
  });
  $("note-input").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      addNoteFromForm();
    }
  });
}

function addNoteFromForm() {
  var input = $("note-input");
  var value = input.value.trim();
  var id = records.id;
  if (!id) return;
  if (!value) {
    showError("note-error", "Write the note first.");
    input.focus();
    return;
  }
  $("note-add").disabled = true;
  api("POST", path(id, "/notes"), { text: value }).then(function (res) {
    input.value = "";
    showError("note-error", "");
    if (records.id === id) addNote(res.note, false);
    announce("Private note added.");
    scheduleRefresh();
  }, function (err) {
    showError("note-error", "Not added: " + err.message);
  }).then(function () {
    $("note-add").disabled = false;
    input.focus();
  });
}

function addNote(note, live) {
  if (note.conversation_id !== records.id) return;
  if (records.notes.some(function (n) { return n.id === note.id; })) return;
  records.notes.push(note);
  renderNotes();
  var me = session.me;
  if (live && (!me || !note.author || note.author.id !== me.id)) {
    announce("New private note from " + ((note.author && note.author.name) || "an agent"));
  }
}

function renderNotes() {
  var list = $("notes-list");
  list.textContent = "";
  records.notes.forEach(function (n) {
    var li = el("li", "note-item");
    li.setAttribute("data-note-id", String(n.id));
    var head = el("div", "note-head");
    head.appendChild(el("span", "note-author", (n.author && n.author.name) || "An agent"));
    head.appendChild(el("time", "note-time", when(n.created_at)));
    li.appendChild(head);
    li.appendChild(el("p", "note-text", n.text));
    list.appendChild(li);
  });
  $("notes-empty").hidden = records.notes.length > 0;
  setCount("tab-notes-count", records.notes.length);
}

// ---- empowered actions: "Take care of it" -----------------------------------------
var chosen = null; // the action picked in the form

function loadCatalogue() {
  return api("GET", "/api/agent/resolutions").then(function (body) {
    catalogue = body;
    emit("catalogue", body);
    renderActionOptions();
    renderResolutions();
    renderAudit();
  }, function () {});
}

function actionById(id) {
  for (var i = 0; i < catalogue.actions.length; i++) {
    if (catalogue.actions[i].id === id) return catalogue.actions[i];
  }
  return null;
}

function initActionForm() {
  $("act-amount").addEventListener("input", function () {
    showError("act-error", "");
    showConfirm(false);
    renderLimitHint();
  });
  $("act-note").addEventListener("input", function () { showConfirm(false); });
  $("act-review").addEventListener("click", review);
  $("act-back").addEventListener("click", function () {
    showConfirm(false);
    $("act-review").focus();
  });
  $("act-cancel").addEventListener("click", resetActionForm);
  $("act-amount").addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      review();
    }
  });
  $("act-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!$("act-confirm").hidden) takeAction();
  });
}

function renderActionOptions() {
  var box = $("act-options");
  box.after($("act-details"));
  box.textContent = "";
  catalogue.actions.forEach(function (a) {
    var label = el("label", "act-option");
    label.setAttribute("data-action", a.id);
    var radio = el("input");
    radio.type = "radio";
    radio.name = "act-action";
    radio.value = a.id;
    radio.addEventListener("change", function () { choose(a); });
    label.appendChild(radio);
    label.appendChild(el("span", "act-option-label", a.label));
    var tag = a.immediate ? (a.takes_amount ? "Up to " + money(a.limit, a.currency) : "At once") : "Needs approval";
    var tagNode = el("span", "act-tag " + (a.immediate ? "act-tag-ok" : "act-tag-approval"), tag);
    tagNode.title = authorityText(a);
    label.appendChild(tagNode);
    box.appendChild(label);
  });
}

function authorityText(a) {
  if (a.takes_amount) {
    return a.immediate ?
      "You may give up to " + money(a.limit, a.currency) + " at once" +
        (a.per_conversation !== null && a.per_conversation !== undefined ?
          " and " + money(a.per_conversation, a.currency) + " in one conversation" : "") +
        "; more needs a supervisor." :
      "Always needs a supervisor's approval (up to " + money(a.max_amount, a.currency) + ").";
  }
  return a.immediate ? "You may do this at once: no approval needed." : "Needs a supervisor's approval.";
}

function choose(a) {
  chosen = a;
  showError("act-error", "");
  $("act-details").hidden = false;
  $("act-amount-row").hidden = !a.takes_amount;
  $("act-authority").textContent = a.takes_amount ? "" : authorityText(a);
  $("act-authority").hidden = a.takes_amount;
  // The details open right under the chosen action.
  var chosenNode = $("act-options").querySelector('[data-action="' + a.id + '"]');
  if (chosenNode) chosenNode.after($("act-details"));
  $("act-currency").textContent = a.currency || "";
  $("act-amount").value = "";
  renderFields(a);
  showConfirm(false);
  renderLimitHint();
  Array.prototype.forEach.call($("act-options").children, function (node) {
    node.classList.toggle("is-chosen", node.getAttribute("data-action") === a.id);
  });
}

// The details the action declares (e.g. the new flight and its departure), one input each.
function renderFields(a) {
  var box = fieldsBox();
  box.textContent = "";
  (a.fields || []).forEach(function (f) {
    var row = el("div", "field act-field");
    var id = "act-field-" + f.id;
    var label = el("label", null, f.label);
    label.htmlFor = id;
    var input = el("input");
    input.id = id;
    input.setAttribute("data-field", f.id);
    input.required = true;
    input.autocomplete = "off";
    if (f.type === "datetime") {
      input.type = "datetime-local";
    } else {
      input.type = "text";
      input.maxLength = 10;
      input.placeholder = "e.g. BA119";
      input.setAttribute("autocapitalize", "characters");
    }
    input.addEventListener("input", function () {
      showError("act-error", "");
      showConfirm(false);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        e.preventDefault();
        review();
      }
    });
    row.appendChild(label);
    row.appendChild(input);
    box.appendChild(row);
  });
  box.hidden = !(a.fields && a.fields.length);
}

function fieldsBox() {
  var box = $("act-fields");
  if (!box) {
    box = el("div", "act-fields");
    box.id = "act-fields";
    $("act-amount-row").after(box);
  }
  return box;
}

var FLIGHT = /^(?:[A-Z]{2}|[A-Z][0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?$/;

// The declared fields' values, or a message saying which one is missing or wrong.
function readFields(a) {
  var values = {};
  var fields = a.fields || [];
  for (var i = 0; i < fields.length; i++) {
    var f = fields[i];
    var input = $("act-field-" + f.id);
    var raw = input ? input.value.trim() : "";
    if (!raw) return { error: "Enter the " + f.label.toLowerCase() + ".", input: input };
    if (f.type === "flight_number") {
      raw = raw.replace(/[\s-]/g, "").toUpperCase();
      if (!FLIGHT.test(raw)) return { error: "Enter a flight number like BA119.", input: input };
    }
    values[f.id] = raw;
  }
  return { values: values };
}

function fieldsText(a, values) {
  return (a.fields || []).map(function (f) {
    var v = values && values[f.id];
    return v ? (f.type === "datetime" ? "departs " + departure(v) : v) : "";
  }).filter(Boolean).join(" · ");
}

function resetActionForm() {
  chosen = null;
  if ($("act-fields")) {
    $("act-fields").textContent = "";
    $("act-fields").hidden = true;
  }
  $("act-form").reset();
  $("act-details").hidden = true;
  $("act-options").after($("act-details"));
  showError("act-error", "");
  showConfirm(false);
  Array.prototype.forEach.call($("act-options").children, function (node) {
    node.classList.remove("is-chosen");
  });
}

function renderActionAvailability() {
  var selected = selectedConversation();
  var mine = holdsSelected();
  $("act-fieldset").disabled = !mine;
  $("act-form").classList.toggle("is-blocked", !mine);
  var why = "";
  if (!mine && selected) {
    why = selected.status === "waiting" ? "Claim the conversation to take an action." :
      selected.status === "agent" ? "Only the agent who has this conversation can take an action." :
      "This conversation is back with the bot.";
  }
  $("act-blocked").textContent = why;
  $("act-blocked").hidden = !why;
  if (!mine) resetActionForm();
}

// The amount typed, as a number with at most two decimals, or NaN.
function parseAmount(raw) {
  var s = raw.replace(/\s/g, "");
  if (/^\d{1,3}(,\d{3})+(\.\d{1,2})?$/.test(s)) s = s.replace(/,/g, "");
  else if (/^\d+,\d{1,2}$/.test(s)) s = s.replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return NaN;
  return Number(s);
}

// Whether the request is carried out at once (true), goes for approval (false), or
// cannot be made (a message).
function judge(a, amount) {
  if (!a.takes_amount) return a.immediate;
  if (isNaN(amount) || amount <= 0) return "Enter an amount like 50 or 49.90.";
  if (amount > a.max_amount) {
    return "That's above " + money(a.max_amount, a.currency) + ", the most anyone may approve.";
  }
  return amount <= room(a);
}

// What this action already gave in the open conversation (carried out or under way).
function givenHere(a) {
  return records.resolutions.reduce(function (sum, r) {
    var committed = r.status === "done" || r.status === "in_progress";
    return sum + (committed && r.action === a.id && r.amount ? r.amount : 0);
  }, 0);
}

// How much more the agent may give at once here: their limit, within their cap per conversation.
function room(a) {
  var cap = a.per_conversation === null || a.per_conversation === undefined ? a.limit : a.per_conversation;
  return Math.max(0, Math.min(a.limit, Math.round((cap - givenHere(a)) * 100) / 100));
}

function renderLimitHint() {
  var a = chosen;
  var hint = $("act-limit");
  if (!a || !a.takes_amount) return;
  var raw = $("act-amount").value.trim();
  var given = givenHere(a);
  var left = room(a);
  var base = given ?
    "Already given in this conversation: " + money(given, a.currency) + ". You may give " +
      money(left, a.currency) + " more at once" :
    "Your limit: " + money(a.limit, a.currency) + " at once";
  hint.className = "limit-hint";
  if (!raw) {
    hint.textContent = base + (left < a.max_amount ? "; above it, a supervisor approves (up to " +
      money(a.max_amount, a.currency) + ")." : ".");
    return;
  }
  var verdict = judge(a, parseAmount(raw));
  if (typeof verdict === "string") {
    hint.textContent = verdict;
    hint.classList.add("is-error");
  } else if (verdict) {
    hint.textContent = "Within your limit (" + money(left, a.currency) + (given ? " more here" : "") + "): done at once.";
    hint.classList.add("is-ok");
  } else {
    hint.textContent = given ?
      "Above what you may still give here (" + money(left, a.currency) + " of your " +
        money(a.per_conversation, a.currency) + " per conversation): a supervisor must approve it." :
      "Above your limit of " + money(a.limit, a.currency) + ": a supervisor must approve it.";
    hint.classList.add("is-warn");
  }
}

function review() {
  var a = chosen;
  if (!a) return;
  var amount = a.takes_amount ? parseAmount($("act-amount").value.trim()) : null;
  var verdict = judge(a, amount);
  if (typeof verdict === "string") {
    showError("act-error", verdict);
    $("act-amount").focus();
    return;
  }
  var fields = readFields(a);
  if (fields.error) {
    showError("act-error", fields.error);
    if (fields.input) fields.input.focus();
    return;
  }
  showError("act-error", "");
  var details = fieldsText(a, fields.values);
  $("act-summary").textContent = a.label + (a.takes_amount ? " · " + money(amount, a.currency) : "") +
    (details ? " · " + details : "");
  $("act-consequence").textContent = verdict ?
    "Done at once. The customer is told in your name what will happen, and it goes in the audit log." :
    "Goes to a supervisor for approval. The customer is told it's being approved; nothing is promised until it is.";
  $("act-do").textContent = verdict ? "Confirm" : "Send for approval";
  showConfirm(true);
  $("act-do").focus();
}

function showConfirm(on) {
  $("act-confirm").hidden = !on;
  $("act-review-row").hidden = on;
}

function takeAction() {
  var a = chosen;
  var id = records.id;
  if (!a || !id) return;
  var body = { action: a.id };
  if (a.takes_amount) body.amount = parseAmount($("act-amount").value.trim());
  if (a.fields && a.fields.length) body.fields = readFields(a).values;
  var note = $("act-note").value.trim();
  if (note) body.note = note;
  $("act-do").disabled = true;
  api("POST", path(id, "/resolutions"), body).then(function (res) {
    var r = res.resolution;
    if (records.id === id) upsertResolution(r);
    resetActionForm();
    var message = r.status === "done" ? a.label + ": done. Reference " + r.reference + "." :
      r.status === "pending_approval" ? a.label + ": sent to a supervisor for approval." :
      r.status === "failed" ? a.label + " failed: " + (r.failure || "the booking system refused it") + "." :
      a.label + ": " + (STATUS_LABELS[r.status] || r.status) + ".";
    if (r.status === "failed") toast(message, "error");
    announce(message);
    scheduleRefresh();
    var item = $("res-list").querySelector('[data-resolution-id="' + r.id + '"]');
    if (item) item.focus();
  }, function (err) {
    showError("act-error", err.message);
    showConfirm(false);
  }).then(function () { $("act-do").disabled = false; });
}

function upsertResolution(r) {
  var found = false;
  records.resolutions = records.resolutions.map(function (x) {
    if (x.id !== r.id) return x;
    found = true;
    return r;
  });
  if (!found) records.resolutions.push(r);
  renderResolutions();
}

function onResolution(r, here) {
  if (here) {
    upsertResolution(r);
    scheduleRefresh();
  }
  var me = session.me;
  var mineRequest = me && r.requested_by && r.requested_by.id === me.id;
  var decided = r.decided_by && (!me || r.decided_by.id !== me.id);
  if (mineRequest && decided && (r.status === "done" || r.status === "rejected")) {
    var what = r.label + (r.amount !== null ? " of " + money(r.amount, r.currency) : "");
    var message = r.status === "done" ?
      r.decided_by.name + " approved " + what + ". Reference " + r.reference + "." :
      r.decided_by.name + " rejected " + what + (r.decision_reason ? ": " + r.decision_reason : ".");
    toast(message, r.status === "done" ? "ok" : "warn");
    announce(message);
  } else if (mineRequest && r.status === "failed" && !here) {
    toast(r.label + " failed: " + (r.failure || "the booking system refused it"), "error");
  }
  if (isSupervisor()) {
    var had = approvals.some(function (x) { return x.id === r.id; });
    approvals = approvals.filter(function (x) { return x.id !== r.id; });
    if (r.status === "pending_approval") {
      approvals.push(r);
      // The event has the request; the card's booking, reason and what was given come
      // with the list.
      loadApprovals();
      if (!had && !mineRequest) {
        toast("Approval needed: " + r.label + (r.amount !== null ? " of " + money(r.amount, r.currency) : "") +
          ", asked by " + ((r.requested_by && r.requested_by.name) || "an agent") + ".", "info");
      }
    }
    renderApprovals();
  }
}

function renderResolutions() {
  var list = $("res-list");
  list.textContent = "";
  records.resolutions.slice().reverse().forEach(function (r) {
    var li = el("li", "res-item");
    li.setAttribute("data-resolution-id", String(r.id));
    li.setAttribute("data-status", r.status);
    li.tabIndex = -1;
    var top = el("div", "res-top");
    top.appendChild(el("span", "res-label", r.label));
    top.appendChild(el("span", "pill pill-" + r.status, STATUS_LABELS[r.status] || r.status));
    li.appendChild(top);
    if (r.amount !== null && r.amount !== undefined) li.appendChild(el("div", "res-amount", money(r.amount, r.currency)));
    var details = fieldsText(actionById(r.action) || { fields: [] }, r.fields);
    if (details) li.appendChild(el("div", "res-fields", details));
    if (r.reference) {
      var ref = el("div", "res-ref");
      ref.appendChild(el("span", "res-ref-label", "Reference "));
      ref.appendChild(el("code", "res-ref-code", r.reference));
      li.appendChild(ref);
    }
    var meta = "Asked by " + ((r.requested_by && r.requested_by.name) || "an agent") + " · " + when(r.requested_at);
    li.appendChild(el("div", "res-meta", meta));
    if (r.decided_by) {
      var verb = r.status === "rejected" ? "Rejected" : "Approved";
      li.appendChild(el("div", "res-meta", verb + " by " + r.decided_by.name + " · " + when(r.decided_at) +
        (r.decision_reason ? " — “" + r.decision_reason + "”" : "")));
    }
    if (r.note) li.appendChild(el("div", "res-note", r.note));
    if (r.failure) li.appendChild(el("div", "res-failure", r.failure));
    if (r.status === "rejected" || r.status === "failed") {
      // The customer heard it was being decided (or nothing): their agent tells them how it ends.
      li.appendChild(el("div", "res-hint", "The customer was told it wasn't approved: go through the other options in your reply."));
    }
    list.appendChild(li);
  });
  $("res-empty").hidden = records.resolutions.length > 0;
  var pending = records.resolutions.filter(function (r) { return r.status === "pending_approval"; }).length;
  setCount("tab-actions-count", pending || records.resolutions.length);
  $("tab-actions-count").classList.toggle("is-pending", pending > 0);
}

function renderAudit() {
  var list = $("audit-list");
  list.textContent = "";
  records.audit.slice().reverse().forEach(function (entry) {
    var li = el("li", "audit-item");
    li.setAttribute("data-audit-action", entry.action);
    li.appendChild(el("time", "audit-time", when(entry.at)));
    var line = el("p", "audit-text");
    line.appendChild(el("strong", null, (entry.agent && entry.agent.name) || "Baton"));
    line.appendChild(document.createTextNode(" " + describeAudit(entry)));
    li.appendChild(line);
    list.appendChild(li);
  });
  $("audit-empty").hidden = records.audit.length > 0;
}

function describeAudit(entry) {
  var d = entry.details || {};
  var what = function () {
    var a = actionById(d.action);
    return ((a && a.label) || d.action || "an action") +
      (d.amount !== null && d.amount !== undefined ? " (" + money(d.amount, d.currency) + ")" : "");
  };
  switch (entry.action) {
    case "claim": return "claimed the conversation";
    case "transfer": return d.to ? "transferred it to " + d.to.name : "passed it back to the queue";
    case "requeue": return "returned it to the queue: " + ((d.from && d.from.name) || "the agent") + " lost their connection";
    case "resolve": return "resolved it" + (d.outcome && d.outcome !== "resolved" ? " (" + d.outcome.replace(/_/g, " ") + ")" : "");
    case "note_added": return "added a private note";
    case "resolution_requested":
      return (d.within_limit ? "took an action: " : "asked for approval: ") + what();
    case "resolution_approved": return "approved " + what() + (d.reason ? " — “" + d.reason + "”" : "");
    case "resolution_rejected": return "rejected " + what() + (d.reason ? " — “" + d.reason + "”" : "");
    case "resolution_carried_out": return "carried out " + what() + (d.reference ? " · ref " + d.reference : "");
    case "resolution_failed": return "could not carry out " + what() + (d.failure ? ": " + d.failure : "");
    default: return entry.action.replace(/_/g, " ");
  }
}

// ---- approvals (supervisors) ---------------------------------------------------------
function loadApprovals() {
  if (!isSupervisor()) return;
  api("GET", "/api/agent/approvals").then(function (body) {
    approvals = body.approvals || [];
    showError("approvals-error", "");
    renderApprovals();
  }, function (err) {
    showError("approvals-error", err.message);
  });
}

function renderApprovals() {
  var list = $("approvals-list");
  var focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
  var drafts = {};
  Array.prototype.forEach.call(list.querySelectorAll("textarea"), function (t) { drafts[t.id] = t.value; });
  list.textContent = "";
  var shown = {};
  approvals.forEach(function (r) {
    // A bulk action's requests are decided together: one card for the batch.
    if (!r.batch) { list.appendChild(approvalCard(r, drafts)); return; }
    if (shown[r.batch.id]) return;
    shown[r.batch.id] = true;
    list.appendChild(batchCard(r, approvals.filter(function (x) { return x.batch && x.batch.id === r.batch.id; }), drafts));
  });
  // One decision a card: the badge counts the cards, not the requests in them.
  var count = list.children.length;
  $("approvals-count").textContent = String(count);
  $("approvals-count").hidden = !count;
  $("view-approvals").setAttribute("aria-label", "Approvals" + (count ? ", " + count + " waiting" : ""));
  $("approvals-empty").hidden = count > 0;
  if (focused && $(focused)) $(focused).focus();
}

// A card's way to the conversation it is about.
function openButton(conversationId) {
  var open = el("button", "link", "Open conversation " + shortId(conversationId));
  open.type = "button";
  open.addEventListener("click", function () {
    setView("inbox");
    select(conversationId);
  });
  return open;
}

function approvalCard(r, drafts) {
  var me = session.me;
  var a = actionById(r.action);
  var li = el("li", "approval");
  li.setAttribute("data-resolution-id", String(r.id));
  var head = el("div", "approval-head");
  var title = el("h3", "approval-title", r.label);
  title.id = "approval-title-" + r.id;
  head.appendChild(title);
  if (r.amount !== null) head.appendChild(el("span", "approval-amount", money(r.amount, r.currency)));
  li.appendChild(head);

  var meta = el("p", "approval-meta");
  meta.appendChild(el("span", null, "Asked by " + ((r.requested_by && r.requested_by.name) || "an agent") +
    " · " + when(r.requested_at)));
  meta.appendChild(openButton(r.conversation_id));
  li.appendChild(meta);
  li.appendChild(approvalFacts(r, a));
  if (r.note) li.appendChild(el("p", "approval-note", r.note));
  var authority = r.authority;
  if (authority && r.amount > authority.remaining) {
    li.appendChild(el("p", "approval-warn", r.amount > authority.limit ?
      "Above your own limit of " + money(authority.limit, r.currency) + "." :
      "Above what you may still approve in this conversation: " + money(authority.remaining, r.currency) +
        " of your " + money(authority.per_conversation, r.currency) + "."));
  } else if (!authority && a && a.takes_amount && r.amount > a.limit) {
    li.appendChild(el("p", "approval-warn", "Above your own limit of " + money(a.limit, a.currency) + "."));
  }
  var own = me && r.requested_by && r.requested_by.id === me.id;
  if (own) li.appendChild(el("p", "approval-warn", "You asked for this, so another supervisor must approve it."));

  decisionControls(li, {
    key: String(r.id), title: title, own: own, drafts: drafts, approve: "Approve", reject: "Reject",
    decide: function (approve, reason, error, buttons) { decide(r, approve, reason, error, buttons); },
  });
  return li;
}

// One card for a bulk action over a disruption (POST /api/agent/disruptions/{id}/resolutions
// above the agent's authority): its customers, the sum, one decision for all of them.
function batchCard(first, members, drafts) {
  var me = session.me;
  var b = first.batch;
  var n = members.length;
  var li = el("li", "approval approval-batch");
  li.setAttribute("data-batch-id", b.id);
  var head = el("div", "approval-head");
  var title = el("h3", "approval-title", first.label + " for " + n + (n === 1 ? " customer" : " customers"));
  title.id = "approval-title-batch-" + b.id;
  head.appendChild(title);
  if (b.total !== null) head.appendChild(el("span", "approval-amount", money(b.total, first.currency) + " in all"));
  li.appendChild(head);
  var disrupted = [b.flight_number, labels.dayMonth(b.date),
    labels.label("disruptions", b.type) || b.type].filter(Boolean).join(" · ");
  li.appendChild(el("p", "approval-meta", "Asked by " + ((first.requested_by && first.requested_by.name) || "an agent") +
    " · " + when(first.requested_at) + " · one request for the customers of " + disrupted));
  var a = actionById(first.action);
  var asked = [
    first.amount !== null && first.amount !== undefined ? money(first.amount, first.currency) + " each" : "",
    a ? fieldsText(a, first.fields) : "",
  ].filter(Boolean).join(" · ");
  if (asked) li.appendChild(el("p", "approval-meta", "Asks for " + ((a && a.label) || first.label) + ": " + asked));
  if (first.note) li.appendChild(el("p", "approval-note", first.note));
  var who = el("ul", "approval-batch-list");
  members.forEach(function (r) {
    var facts = r.conversation || {};
    var item = el("li");
    item.setAttribute("data-resolution-id", String(r.id));
    item.appendChild(el("span", null, [facts.customer_name, facts.booking_reference].filter(Boolean).join(" · ") || "Customer"));
    item.appendChild(openButton(r.conversation_id));
    who.appendChild(item);
  });
  li.appendChild(who);
  var authority = first.authority;
  if (authority && b.total !== null && b.total > authority.limit) {
    li.appendChild(el("p", "approval-warn", "Above your own limit of " + money(authority.limit, first.currency) + " at once."));
  }
  var own = me && first.requested_by && first.requested_by.id === me.id;
  if (own) li.appendChild(el("p", "approval-warn", "You asked for this, so another supervisor must approve it."));

  decisionControls(li, {
    key: "batch-" + b.id, title: title, own: own, drafts: drafts,
    approve: "Approve all " + n, reject: "Reject all " + n,
    decide: function (approve, reason, error, buttons) { decideBatch(first, n, approve, reason, error, buttons); },
  });
  return li;
}

// The reason box, the error line and the two buttons of an approval card; o.key makes
// their ids (approval-reason-<key>, approve-<key>, reject-<key>), o.decide(approve,
// reason box, error line, buttons) is called on a click.
function decisionControls(li, o) {
  var field = el("div", "field");
  var reasonId = "approval-reason-" + o.key;
  var label = el("label", null, "Reason ");
  label.htmlFor = reasonId;
  label.appendChild(el("span", "optional", "(optional; the agent sees it)"));
  var reason = el("textarea");
  reason.id = reasonId;
  reason.rows = 2;
  reason.maxLength = 1000;
  reason.value = o.drafts[reasonId] || "";
  field.appendChild(label);
  field.appendChild(reason);
  li.appendChild(field);

  var error = el("p", "form-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  li.appendChild(error);

  var buttons = el("div", "act-buttons");
  var approve = el("button", "btn btn-approve", o.approve);
  approve.type = "button";
  approve.id = "approve-" + o.key;
  approve.setAttribute("aria-describedby", o.title.id);
  approve.disabled = !!o.own;
  var reject = el("button", "btn btn-reject", o.reject);
  reject.type = "button";
  reject.id = "reject-" + o.key;
  reject.setAttribute("aria-describedby", o.title.id);
  approve.addEventListener("click", function () { o.decide(true, reason, error, [approve, reject]); });
  reject.addEventListener("click", function () { o.decide(false, reason, error, [approve, reject]); });
  buttons.appendChild(approve);
  buttons.appendChild(reject);
  li.appendChild(buttons);
}

function decideBatch(first, n, approve, reasonInput, error, buttons) {
  var reason = reasonInput.value.trim();
  var batchId = first.batch.id;
  buttons.forEach(function (b) { b.disabled = true; });
  api("POST", "/api/agent/approvals/batches/" + encodeURIComponent(batchId) + "/" + (approve ? "approve" : "reject"),
    reason ? { reason: reason } : {})
    .then(function (res) {
      var decided = res.resolutions || [];
      approvals = approvals.filter(function (x) { return !(x.batch && x.batch.id === batchId); });
      renderApprovals();
      var failed = decided.filter(function (r) { return r.status === "failed"; }).length;
      var whom = decided.length + (decided.length === 1 ? " customer" : " customers");
      var message = approve ?
        "Approved: " + first.label + " for " + whom + ". Each has been told." +
          (failed ? " " + failed + " could not be carried out." : "") :
        "Rejected: " + first.label + " for " + whom + ". " +
          ((first.requested_by && first.requested_by.name) || "The agent") + " has been told.";
      toast(message, failed ? "warn" : "info");
      announce(message);
      var next = $("approvals-list").querySelector("button.btn-approve:not(:disabled), button.btn-reject");
      (next || $("approvals-refresh")).focus();
    }, function (err) {
      error.textContent = err.message;
      error.hidden = false;
      buttons.forEach(function (b) { b.disabled = false; });
      if (err.status === 409) loadApprovals();
    });
}

// Booking, flight, why the customer was handed off, who asks for what, and what the
// conversation was already given: what a supervisor weighs before deciding.
function approvalFacts(r, a) {
  var facts = r.conversation || {};
  var given = r.given || { items: [] };
  var list = el("dl", "approval-facts");
  function fact(name, value, key) {
    var dt = el("dt", null, name);
    var dd = el("dd", null, value);
    dd.setAttribute("data-fact", key);
    list.appendChild(dt);
    list.appendChild(dd);
    return dd;
  }
  if (facts.customer_name) fact("Customer", facts.customer_name, "customer");
  fact("Booking", facts.booking_reference || "Not given", "booking");
  fact("Flight", facts.flight_number || "Not given", "flight");
  var label = labels.label;
  var why = label("reasons", facts.reason) || "Not known";
  if (facts.disruption) why += " · " + label("disruptions", facts.disruption);
  fact("Reason", why, "reason");
  fact("Asked by", (r.requested_by && r.requested_by.name) || "an agent", "requested-by");
  var asked = [
    r.amount !== null && r.amount !== undefined ? money(r.amount, r.currency) : "",
    a ? fieldsText(a, r.fields) : "",
  ].filter(Boolean).join(" · ");
  fact("Asks for", ((a && a.label) || r.label) + (asked ? ": " + asked : ""), "asked");
  var items = given.items || [];
  var givenText = items.length ? items.map(function (g) {
    var ga = actionById(g.action);
    var what = (ga && ga.label) || g.label;
    var amount = g.amount !== null && g.amount !== undefined ? " " + money(g.amount, g.currency) : "";
    var details = fieldsText(ga || { fields: [] }, g.fields);
    return what + amount + (details ? ", " + details : "") + (g.reference ? " (" + g.reference + ")" : "");
  }).join("; ") : "Nothing yet";
  var dd = fact("Already given here", givenText, "given");
  if (given.amount) {
    dd.appendChild(el("span", "approval-given-total",
      " — " + money(given.amount, given.currency) + " of this kind in this conversation"));
  }
  return list;
}

function decide(r, approve, reasonInput, error, buttons) {
  var reason = reasonInput.value.trim();
  buttons.forEach(function (b) { b.disabled = true; });
  var verb = approve ? "approve" : "reject";
  api("POST", "/api/agent/approvals/" + r.id + "/" + verb, reason ? { reason: reason } : {})
    .then(function (res) {
      var done = res.resolution;
      approvals = approvals.filter(function (x) { return x.id !== r.id; });
      renderApprovals();
      var message = approve ?
        (done.status === "done" ? "Approved: " + r.label + ". The customer has been told. Reference " + done.reference + "." :
          "Approved, but it could not be carried out: " + (done.failure || done.status) + ".") :
        "Rejected: " + r.label + ". " + ((r.requested_by && r.requested_by.name) || "The agent") + " has been told.";
      if (!(approve && done.status === "done")) toast(message, "info");
      announce(message);
      var next = $("approvals-list").querySelector("button.btn-approve:not(:disabled), button.btn-reject");
      (next || $("approvals-refresh")).focus();
    }, function (err) {
      error.textContent = err.status === 409 ? "Someone has already decided this request." : err.message;
      error.hidden = false;
      buttons.forEach(function (b) { b.disabled = false; });
      if (err.status === 409) loadApprovals();
    });
}

// ---- transfer ----------------------------------------------------------------------
function initTransfer() {
  $("transfer").addEventListener("click", function () {
    if ($("transfer-menu").hidden) openTransfer();
    else closeTransfer();
  });
  $("transfer-queue").addEventListener("click", function () { transfer(null, "the queue"); });
  $("transfer-menu").addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      e.preventDefault();
      closeTransfer();
      $("transfer").focus();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      var items = Array.prototype.slice.call($("transfer-menu").querySelectorAll("button:not(:disabled)"));
      var i = items.indexOf(document.activeElement);
      var next = items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length];
      if (next) next.focus();
    }
  });
  document.addEventListener("mousedown", function (e) {
    if (!$("transfer-menu").hidden && !e.target.closest(".popover-wrap")) closeTransfer();
  });
}

function openTransfer() {
  var list = $("transfer-agents");
  list.textContent = "";
  list.appendChild(el("li", "menu-loading", "Loading agents…"));
  $("transfer-menu").hidden = false;
  $("transfer").setAttribute("aria-expanded", "true");
  api("GET", "/api/agent/agents").then(function (body) {
    var me = session.me;
    var others = (body.agents || []).filter(function (a) { return !me || a.id !== me.id; });
    others.sort(function (a, b) { return (b.online ? 1 : 0) - (a.online ? 1 : 0); });
    list.textContent = "";
    if (!others.length) list.appendChild(el("li", "menu-loading", "No other agents yet."));
    others.forEach(function (a) {
      var li = el("li");
      var b = el("button", "menu-item");
      b.type = "button";
      b.setAttribute("data-agent-id", String(a.id));
      b.disabled = !a.online;
      var main = el("span", "menu-main");
      main.appendChild(el("span", "presence-dot" + (a.online ? " is-online" : "")));
      // Its name is what it shows, after a hidden "Transfer to" (no aria-label that
      // would hide the role and presence from speech input and screen readers).
      main.appendChild(el("span", "sr-only", "Transfer to "));
      main.appendChild(document.createTextNode(a.name));
      b.appendChild(main);
      b.appendChild(el("span", "menu-sub", (a.role === "supervisor" ? "Supervisor" : "Agent") + " · " + (a.online ? "online" : "offline")));
      b.addEventListener("click", function () { transfer(a.id, a.name); });
      li.appendChild(b);
      list.appendChild(li);
    });
    var first = $("transfer-menu").querySelector("button:not(:disabled)");
    if (first) first.focus();
  }, function (err) {
    list.textContent = "";
    list.appendChild(el("li", "menu-loading", "Couldn't load agents: " + err.message));
  });
}

function closeTransfer() {
  $("transfer-menu").hidden = true;
  $("transfer").setAttribute("aria-expanded", "false");
}

function transfer(agentId, name) {
  var id = records.id;
  if (!id) return;
  var body = agentId === null ? { to: "queue" } : { agent_id: agentId };
  Array.prototype.forEach.call($("transfer-menu").querySelectorAll("button"), function (b) { b.disabled = true; });
  api("POST", path(id, "/transfer"), body).then(function () {
    closeTransfer();
    var message = agentId === null ? "Passed back to the queue. The customer keeps their place." :
      "Transferred to " + name + ".";
    announce(message);
    loadQueue();
    reloadConversation();
  }, function (err) {
    closeTransfer();
    showError("conv-error", "Not transferred: " + err.message);
  });
}

// ---- helpers -----------------------------------------------------------------------
function money(amount, currency) {
  if (amount === null || amount === undefined || isNaN(amount)) return "";
  var whole = Math.round(amount * 100) % 100 === 0;
  return Number(amount).toLocaleString("en", {
    minimumFractionDigits: whole ? 0 : 2,
    maximumFractionDigits: 2,
  }) + (currency ? " " + currency : "");
}

var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];

// A departure's local time as entered ("2026-12-04T09:40"), as the customer is told it.
function departure(local) {
  var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})/.exec(local || "");
  return m ? Number(m[3]) + " " + MONTHS[Number(m[2]) - 1] + " at " + m[4] : local;
}

// This year's days need no year: notes, actions and the audit are of open conversations.
function when(iso) {
  return formatWhen(iso, { year: false });
}
