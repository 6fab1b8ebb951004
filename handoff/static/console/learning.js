/*
 * Insights' learning loop (supervisors): what each unanswered topic was decided to be,
 * the row's controls to decide it (POST /api/agent/insights/topics/{id}/decision), and
 * the Rasa training data that the assigned topics make (GET .../training-data).
 *
 * A topic's examples are customer text: they reach the page only through textContent
 * and attributes, never as HTML.
 */

import { el } from "../client/shared.js";
import { api, apiText } from "./api.js";
import { download } from "./csv.js";
import * as labels from "./labels.js";
import { showError } from "./ui.js";

// What the bot says when it cannot answer: no topic of their own
// (handoff/insights/learning.py, NOT_ASSIGNABLE).
var NOT_ASSIGNABLE = ["out_of_scope", "nlu_fallback", "human_handoff"];
var TRAINING_DATA = "/api/agent/insights/training-data";

export function decisionText(topic) {
  if (topic.decision === "assigned") return "Assigned to " + labels.label("intents", topic.intent);
  if (topic.decision === "new_topic") return "New topic: " + topic.name;
  if (topic.decision === "ignored") return "Ignored";
  return "Open";
}

function assignable() {
  return labels.ids("intents").filter(function (id) { return NOT_ASSIGNABLE.indexOf(id) < 0; })
    .map(function (id) { return { id: id, label: labels.label("intents", id) }; })
    .sort(function (a, b) { return a.label.localeCompare(b.label, "en-GB"); });
}

function labelled(control, id, text) {
  control.id = id;
  var label = el("label", "sr-only", text);
  label.htmlFor = id;
  return label;
}

function button(text, kind, type) {
  var b = el("button", "btn btn-small " + kind, text);
  b.type = type;
  return b;
}

// The controls of one topic's row. decided(topic, answer) runs after the gateway took a
// decision; its error is shown in the row, beside the control it is about.
export function topicTools(topic, decided) {
  var prefix = "topic-" + topic.topic_id;
  var box = el("div", "topic-tools");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Decide: " + (topic.examples[0] || "topic " + topic.topic_id));
  box.setAttribute("data-topic-id", String(topic.topic_id));

  var assign = el("form", "topic-tool");
  var intent = el("select", "select");
  intent.appendChild(el("option", null, "Choose an intent"));
  intent.firstChild.value = "";
  assignable().forEach(function (i) {
    var option = el("option", null, i.label);
    option.value = i.id;
    intent.appendChild(option);
  });
  intent.value = topic.decision === "assigned" ? topic.intent : "";
  assign.appendChild(labelled(intent, prefix + "-intent", "Intent"));
  assign.appendChild(intent);
  assign.appendChild(button("Assign", "btn-primary", "submit"));

  var named = el("form", "topic-tool");
  var name = el("input", "topic-name");
  name.type = "text";
  name.maxLength = 120;
  name.placeholder = "New topic name";
  name.value = topic.decision === "new_topic" ? topic.name : "";
  named.appendChild(labelled(name, prefix + "-name", "New topic name"));
  named.appendChild(name);
  named.appendChild(button("New topic", "btn-secondary", "submit"));

  var others = el("div", "topic-tool");
  if (topic.decision !== "ignored") others.appendChild(button("Ignore", "btn-secondary", "button"));
  if (topic.decision) others.appendChild(button("Reopen", "btn-secondary", "button"));
  others.querySelectorAll("button").forEach(function (b) {
    b.setAttribute("data-decision", b.textContent.toLowerCase());
  });

  var error = el("p", "form-error", "");
  error.id = prefix + "-error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  var fields = { intent: intent, name: name };

  function send(body) {
    var controls = box.querySelectorAll("button, select, input");
    controls.forEach(function (c) { c.disabled = true; });
    showError(error.id, "");
    [intent, name].forEach(function (c) { c.removeAttribute("aria-invalid"); });
    api("POST", "/api/agent/insights/topics/" + topic.topic_id + "/decision", body).then(function (answer) {
      decided(topic, answer);
    }, function (err) {
      controls.forEach(function (c) { c.disabled = false; });
      showError(error.id, err.message);
      var field = err.body && fields[err.body.field];
      if (field) {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", error.id);
        field.focus();
      }
    });
  }

  assign.addEventListener("submit", function (e) {
    e.preventDefault();
    send({ decision: "assign", intent: intent.value });
  });
  named.addEventListener("submit", function (e) {
    e.preventDefault();
    send({ decision: "new_topic", name: name.value });
  });
  others.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (b) send({ decision: b.getAttribute("data-decision") });
  });

  box.appendChild(assign);
  box.appendChild(named);
  box.appendChild(others);
  box.appendChild(error);
  return box;
}

// "Assigned to Refund. The training data now has 3 examples."
export function confirmation(answer) {
  var n = answer.training_examples;
  return decisionText(answer) + ". The training data now has " + n + " example" + (n === 1 ? "" : "s") + ".";
}

// The YAML as the gateway writes it, saved as learned_nlu.yml.
export function downloadTrainingData() {
  return apiText(TRAINING_DATA, "application/yaml").then(function (yaml) {
    download("learned_nlu.yml", yaml, "application/yaml;charset=utf-8");
  });
}
