/*
 * Baton agent console: canned responses. A picker in the reply box (type "/" and a
 * shortcut, or use the button) puts a response's text in the reply to be edited before
 * it is sent; supervisors add, edit and delete responses in the "Canned responses" view.
 * A reply with a "/word" that is no canned response ("/ba", "/zzz") is not sent at the
 * first Enter: the agent is told and the text stays; sending the same text again sends
 * it as typed, for the rare reply that starts with "/" on purpose.
 *
 * Text is set with textContent only.
 */

import { el } from "../client/shared.js";
import { api, session } from "./api.js";
import { setReplyGuard } from "./core.js";
import { on } from "./events.js";
import { $, announce, showError, toast } from "./ui.js";

var canned = []; // GET /api/agent/canned, kept live by `canned` events
var heldBack = null; // the reply text last held back for a stray shortcut
var SHORTCUT_WORD = /(^|\s)(\/[a-z0-9_-]+)/gi;

export function init() {
  initPicker();
  initCannedEditor();
}

on("me", loadCanned);
on("logout", function () { canned = []; });
on("select", closePicker);
on("header", function () {
  $("canned-button").disabled = $("reply-input").disabled;
  if ($("reply-input").disabled) closePicker();
});
on("event", function (ev) {
  if ((ev.type === "hello" || ev.type === "reset") && session.me) loadCanned();
  else if (ev.type === "canned" && ev.canned) onCanned(ev.change, ev.canned);
});

// core.js asks before it sends a reply: true holds it back.
setReplyGuard(function (value) {
  var stray = strayShortcuts(value);
  if (!stray.length || heldBack === value) {
    heldBack = null;
    return false;
  }
  heldBack = value;
  var known = canned.some(function (c) { return c.shortcut === stray[0].toLowerCase(); });
  showError("conv-error", (known ?
    "Not sent: " + stray[0] + " is a canned response. Pick it from the list to insert its text," :
    "No canned response " + stray[0] + ". Not sent: correct the shortcut,") +
    " or press Enter again to send the text as it is.");
  closePicker();
  return true;
});

// The "/word"s of a reply that were never replaced by a canned response's text.
function strayShortcuts(value) {
  var found = [];
  var match;
  SHORTCUT_WORD.lastIndex = 0;
  while ((match = SHORTCUT_WORD.exec(value))) found.push(match[2]);
  return found;
}

function isSupervisor() {
  return !!session.me && session.me.role === "supervisor";
}

// ---- canned responses: the picker in the reply box --------------------------------
var picker = { open: false, browse: false, matches: [], active: 0, token: null };

function loadCanned() {
  return api("GET", "/api/agent/canned").then(function (body) {
    canned = body.canned || [];
    sortCanned();
    renderCannedTable();
    if (picker.open) updatePicker();
  }, function () {});
}

function sortCanned() {
  canned.sort(function (a, b) { return a.shortcut < b.shortcut ? -1 : a.shortcut > b.shortcut ? 1 : 0; });
}

function onCanned(change, item) {
  canned = canned.filter(function (c) { return c.id !== item.id; });
  if (change !== "deleted") canned.push(item);
  sortCanned();
  renderCannedTable();
  if (picker.open) updatePicker();
}

function initPicker() {
  var input = $("reply-input");
  input.addEventListener("input", updatePicker);
  input.addEventListener("input", function () {
    // Edited since it was held back: the next Enter is a first try again.
    if (heldBack !== null && input.value !== heldBack) {
      heldBack = null;
      showError("conv-error", "");
    }
  });
  input.addEventListener("click", updatePicker);
  input.addEventListener("blur", function () {
    // Let a click on an option land before the list goes away.
    setTimeout(function () {
      if (document.activeElement !== input && document.activeElement !== $("canned-button")) closePicker();
    }, 150);
  });
  // Capture, so the picker gets Enter and the arrows before the reply box sends.
  $("reply-form").addEventListener("keydown", onPickerKey, true);
  $("canned-button").addEventListener("click", function () {
    if (picker.open) {
      closePicker();
    } else {
      picker.browse = true;
      updatePicker();
    }
    input.focus();
  });
  $("canned-options").addEventListener("mousedown", function (e) {
    e.preventDefault(); // keep the focus in the reply box
    var option = e.target.closest("[role=option]");
    if (option) insertCanned(picker.matches[Number(option.getAttribute("data-index"))]);
  });
}

// The "/word" right before the caret, if the agent is typing a shortcut.
function slashToken() {
  var input = $("reply-input");
  var before = input.value.slice(0, input.selectionStart);
  var match = /(^|\s)(\/[a-z0-9_-]*)$/i.exec(before);
  if (!match) return null;
  return { text: match[2], start: before.length - match[2].length, end: input.selectionStart };
}

function updatePicker() {
  var input = $("reply-input");
  if (input.disabled) return closePicker();
  var token = slashToken();
  picker.token = token;
  if (!token && !picker.browse) return closePicker();
  var query = token ? token.text.slice(1).toLowerCase() : "";
  picker.matches = canned.filter(function (c) {
    return !query || c.shortcut.slice(1).indexOf(query) === 0 || c.title.toLowerCase().indexOf(query) !== -1;
  });
  if (!picker.open) picker.active = 0;
  picker.active = Math.min(picker.active, Math.max(0, picker.matches.length - 1));
  picker.open = true;
  renderPicker();
}

function renderPicker() {
  var list = $("canned-options");
  list.textContent = "";
  picker.matches.forEach(function (c, i) {
    var li = el("li", "picker-option");
    li.id = "canned-option-" + c.id;
    li.setAttribute("role", "option");
    li.setAttribute("data-index", String(i));
    li.setAttribute("data-shortcut", c.shortcut);
    li.setAttribute("aria-selected", String(i === picker.active));
    var top = el("div", "picker-top");
    top.appendChild(el("span", "shortcut", c.shortcut));
    top.appendChild(el("span", "picker-title", c.title));
    li.appendChild(top);
    li.appendChild(el("div", "picker-preview", c.text));
    list.appendChild(li);
  });
  var none = !picker.matches.length;
  $("canned-none").hidden = !none;
  $("canned-none").textContent = canned.length ?
    (picker.token && picker.token.text.length > 1 ? "No canned response " + picker.token.text + "." : "No canned response matches.") :
    "No canned responses yet." + (isSupervisor() ? " Add some under Canned responses." : "");
  $("canned-picker").hidden = false;
  $("canned-button").setAttribute("aria-expanded", "true");
  var active = picker.matches[picker.active];
  var input = $("reply-input");
  if (active) {
    input.setAttribute("aria-activedescendant", "canned-option-" + active.id);
    var node = $("canned-option-" + active.id);
    if (node) node.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function closePicker() {
  picker.open = false;
  picker.browse = false;
  $("canned-picker").hidden = true;
  $("canned-button").setAttribute("aria-expanded", "false");
  $("reply-input").removeAttribute("aria-activedescendant");
}

function onPickerKey(e) {
  if (!picker.open || e.target !== $("reply-input")) return;
  var n = picker.matches.length;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    if (!n) return;
    e.preventDefault();
    picker.active = (picker.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
    renderPicker();
  } else if ((e.key === "Enter" && !e.shiftKey && !e.isComposing) || e.key === "Tab") {
    if (!n) return;
    e.preventDefault();
    e.stopPropagation();
    insertCanned(picker.matches[picker.active]);
  } else if (e.key === "Escape") {
    e.preventDefault();
    e.stopPropagation();
    closePicker();
  }
}

// Puts the response's text in the reply box (in place of the "/shortcut" typed), to be
// edited before it is sent.
function insertCanned(item) {
  if (!item) return;
  var input = $("reply-input");
  var token = slashToken();
  var start = token ? token.start : input.selectionStart;
  var end = token ? token.end : input.selectionEnd;
  input.value = input.value.slice(0, start) + item.text + input.value.slice(end);
  var caret = start + item.text.length;
  input.focus();
  input.setSelectionRange(caret, caret);
  closePicker();
  input.dispatchEvent(new Event("input", { bubbles: true }));
  announce("Inserted " + item.shortcut + ". Edit it if you like, then press Enter to send.");
}

// ---- canned responses: supervisors' editor ----------------------------------------
var editing = null; // the canned response being edited, or null for a new one

function initCannedEditor() {
  $("canned-new").addEventListener("click", function () { openCannedForm(null); });
  $("canned-cancel").addEventListener("click", closeCannedForm);
  $("canned-form").addEventListener("submit", function (e) {
    e.preventDefault();
    saveCanned();
  });
  $("canned-form").addEventListener("keydown", function (e) {
    if (e.key === "Escape") closeCannedForm();
  });
}

function renderCannedTable() {
  var list = $("canned-table");
  list.textContent = "";
  if (!canned.length) {
    list.appendChild(el("li", "empty", "No canned responses yet. Add the answers your team gives most."));
    return;
  }
  canned.forEach(function (c) {
    var li = el("li", "canned-row");
    li.setAttribute("data-shortcut", c.shortcut);
    var body = el("div", "canned-body");
    var top = el("div", "picker-top");
    top.appendChild(el("span", "shortcut", c.shortcut));
    top.appendChild(el("span", "picker-title", c.title));
    body.appendChild(top);
    body.appendChild(el("p", "canned-text", c.text));
    li.appendChild(body);
    var buttons = el("div", "row-buttons");
    var edit = el("button", "btn btn-secondary btn-small", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", "Edit " + c.shortcut);
    edit.addEventListener("click", function () { openCannedForm(c); });
    var del = el("button", "btn btn-ghost btn-small btn-danger-text", "Delete");
    del.type = "button";
    del.setAttribute("aria-label", "Delete " + c.shortcut);
    del.addEventListener("click", function () { confirmDelete(buttons, c); });
    buttons.appendChild(edit);
    buttons.appendChild(del);
    li.appendChild(buttons);
    list.appendChild(li);
  });
}

function confirmDelete(buttons, c) {
  buttons.textContent = "";
  buttons.appendChild(el("span", "confirm-q", "Delete " + c.shortcut + "?"));
  var yes = el("button", "btn btn-danger btn-small", "Delete");
  yes.type = "button";
  yes.setAttribute("aria-label", "Yes, delete " + c.shortcut);
  var no = el("button", "btn btn-secondary btn-small", "Keep");
  no.type = "button";
  yes.addEventListener("click", function () {
    yes.disabled = true;
    api("DELETE", "/api/agent/canned/" + c.id).then(function () {
      onCanned("deleted", c);
      announce(c.shortcut + " deleted.");
      if (editing && editing.id === c.id) closeCannedForm();
    }, function (err) {
      toast("Not deleted: " + err.message, "error");
      renderCannedTable();
    });
  });
  no.addEventListener("click", renderCannedTable);
  buttons.appendChild(yes);
  buttons.appendChild(no);
  no.focus();
}

function openCannedForm(item) {
  editing = item;
  $("canned-form-title").textContent = item ? "Edit " + item.shortcut : "New canned response";
  $("canned-shortcut").value = item ? item.shortcut : "/";
  $("canned-title-input").value = item ? item.title : "";
  $("canned-text").value = item ? item.text : "";
  showError("canned-error", "");
  $("canned-form").hidden = false;
  $("canned-shortcut").focus();
}

function closeCannedForm() {
  editing = null;
  $("canned-form").hidden = true;
  $("canned-new").focus();
}

function saveCanned() {
  var shortcut = $("canned-shortcut").value.trim().toLowerCase();
  if (shortcut && shortcut.charAt(0) !== "/") shortcut = "/" + shortcut;
  var fields = {
    shortcut: shortcut,
    title: $("canned-title-input").value.trim(),
    text: $("canned-text").value.trim(),
  };
  if (!/^\/[a-z0-9][a-z0-9_-]{0,30}$/.test(fields.shortcut)) {
    return cannedProblem("canned-shortcut", "The shortcut is a slash and up to 31 letters, digits, - or _, e.g. /bags.");
  }
  if (!fields.title) return cannedProblem("canned-title-input", "Give it a title.");
  if (!fields.text) return cannedProblem("canned-text", "Write the text the agent will send.");
  var request = editing ?
    api("PATCH", "/api/agent/canned/" + editing.id, fields) :
    api("POST", "/api/agent/canned", fields);
  $("canned-save").disabled = true;
  request.then(function (res) {
    onCanned(editing ? "updated" : "created", res.canned);
    announce(res.canned.shortcut + " saved.");
    closeCannedForm();
  }, function (err) {
    showError("canned-error", err.message);
  }).then(function () { $("canned-save").disabled = false; });
}

function cannedProblem(fieldId, message) {
  showError("canned-error", message);
  $(fieldId).focus();
}
