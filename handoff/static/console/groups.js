/*
 * The queue's disruption groups (issue 19, point 4): waiting conversations whose
 * customers were told of one disruption ("BA117 · 4 Dec · Cancelled flight · 3 waiting"),
 * and one action for all of them (POST /api/agent/disruptions/{id}/resolutions). The
 * gateway weighs the authority, the amounts summed: within it, done at once; above it,
 * sent to a supervisor as one batch (its needs_approval says why). A refusal is shown
 * as it says it.
 */

import { el } from "../client/shared.js";
import { api } from "./api.js";
import { on } from "./events.js";
import * as labels from "./labels.js";
import { $, announce, toast } from "./ui.js";

var actions = null; // the catalogue's actions, as this agent may take them (tools.js loads it)
var items = [];
var open = null; // the disruption id whose form is open

export function init() {
  on("queue-changed", function (list) {
    items = list;
    render();
  });
  on("catalogue", function (catalogue) {
    actions = catalogue.actions || [];
    render();
  });
  on("logout", function () { actions = null; open = null; });
}

function groups() {
  var byId = {};
  items.forEach(function (c) {
    var known = c.status === "waiting" && c.handoff && c.handoff.context &&
      c.handoff.context.known_disruption;
    if (!known || !known.id) return;
    var g = byId[known.id] || (byId[known.id] = { known: known, waiting: 0 });
    g.waiting += 1;
  });
  return Object.keys(byId).map(function (k) { return byId[k]; })
    .sort(function (a, b) { return b.waiting - a.waiting || (a.known.id < b.known.id ? -1 : 1); });
}

export function groupTitle(known, waiting) {
  return [known.flight_number, labels.dayMonth(known.date),
    labels.label("disruptions", known.type) || known.type, waiting + " waiting"].join(" · ");
}

function render() {
  var box = $("queue-groups");
  if (!box) return;
  box.textContent = "";
  var found = groups();
  box.hidden = found.length === 0;
  found.forEach(function (g) {
    var li = el("li", "queue-group");
    li.setAttribute("data-disruption", g.known.id);
    li.appendChild(el("p", "qg-title", groupTitle(g.known, g.waiting)));
    if (actions && actions.length) {
      var button = el("button", "btn btn-small qg-act", "Act for all " + g.waiting);
      button.type = "button";
      button.setAttribute("aria-expanded", String(open === g.known.id));
      button.addEventListener("click", function () {
        open = open === g.known.id ? null : g.known.id;
        render();
      });
      li.appendChild(button);
      if (open === g.known.id) li.appendChild(form(g));
    }
    box.appendChild(li);
  });
}

function form(g) {
  var f = el("form", "qg-form");
  var id = "qg-action-" + g.known.id;
  var pick = el("select", { id: id, "aria-label": "Action for all" });
  actions.forEach(function (a) {
    var option = el("option", { value: a.id }, a.label + (a.immediate ? "" : " (needs approval)"));
    pick.appendChild(option);
  });
  var inputs = el("div", "qg-inputs");
  var error = el("p", "error qg-error");
  error.hidden = true;
  var hint = el("p", "qg-hint");
  function fill() {
    inputs.textContent = "";
    var a = actionOf(pick.value);
    hint.textContent = !a.immediate ? "Needs a supervisor's approval: it goes to them as one request for all " + g.waiting + "." :
      a.takes_amount ? "Up to " + a.limit + " " + a.currency + " for all of them together at once; above that it goes to a supervisor as one request." : "";
    if (a.takes_amount) inputs.appendChild(field("amount", "Amount each (" + a.currency + ")", "number"));
    (a.fields || []).forEach(function (fd) {
      inputs.appendChild(field("field-" + fd.id, fd.label, fd.type === "datetime" ? "datetime-local" : "text"));
    });
  }
  pick.addEventListener("change", fill);
  fill();
  var apply = el("button", "btn btn-primary btn-small qg-apply", "Apply to all " + g.waiting);
  apply.type = "submit";
  f.appendChild(pick);
  f.appendChild(inputs);
  f.appendChild(hint);
  f.appendChild(error);
  f.appendChild(apply);
  f.addEventListener("submit", function (e) {
    e.preventDefault();
    var a = actionOf(pick.value);
    var body = { action: a.id };
    if (a.takes_amount) body.amount = Number(f.querySelector("[name=amount]").value);
    if ((a.fields || []).length) {
      body.fields = {};
      a.fields.forEach(function (fd) { body.fields[fd.id] = f.querySelector("[name='field-" + fd.id + "']").value; });
    }
    apply.disabled = true;
    api("POST", "/api/agent/disruptions/" + encodeURIComponent(g.known.id) + "/resolutions", body)
      .then(function (res) {
        open = null;
        var n = (res.resolutions || []).length;
        var whom = n + (n === 1 ? " customer" : " customers");
        var said = res.needs_approval ?
          a.label + " for " + whom + ": sent to a supervisor as one request (" + res.needs_approval +
            "). Each customer was told it's being approved." :
          a.label + ": done for " + whom;
        toast(said, res.needs_approval ? "info" : "ok");
        announce(said);
        render();
      }, function (err) {
        apply.disabled = false;
        error.textContent = err.message || "That did not work";
        error.hidden = false;
      });
  });
  return f;
}

function actionOf(id) {
  for (var i = 0; i < actions.length; i++) if (actions[i].id === id) return actions[i];
  return actions[0];
}

function field(name, text, type) {
  var wrap = el("label", "qg-field");
  wrap.appendChild(el("span", null, text));
  var input = el("input", { name: name, type: type, required: "" });
  if (type === "number") { input.min = "0"; input.step = "0.01"; }
  wrap.appendChild(input);
  return wrap;
}
