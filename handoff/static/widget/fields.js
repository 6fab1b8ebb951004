/* Labelled form fields with an error of their own, for the widget's cards. */

import { el } from "../client/shared.js";

var fieldCount = 0;
export function field(label, tag, attrs) {
  var wrap = el("label", { class: "field" });
  wrap.appendChild(el("span", {}, label));
  var control = el(tag, attrs);
  var errorId = "baton-field-error-" + (++fieldCount);
  var error = el("span", { class: "field-error", id: errorId, hidden: "" });
  wrap.appendChild(control);
  wrap.appendChild(error);
  return {
    wrap: wrap,
    input: control,
    showError: function (message) {
      error.textContent = message;
      error.hidden = false;
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", errorId);
    },
    clearError: function () {
      error.textContent = "";
      error.hidden = true;
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    },
  };
}

export function showFormError(node, message) {
  node.textContent = message;
  node.hidden = !message;
}
