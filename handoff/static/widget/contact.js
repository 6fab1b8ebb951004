/* The card where a waiting customer leaves an e-mail address or a phone number (nobody
 * free, or they can't wait). The gateway checks the details; what it says is wrong shows
 * at the field, and everything typed stays. */

import { el } from "../client/shared.js";
import { field, showFormError } from "./fields.js";

// send(body) posts the details (a promise of the gateway's answer); sent(answer) and
// cancelled() say how it ended. Returns the form and how to put the focus in it.
export function contactCard(send, sent, cancelled) {
  var form = el("form", { class: "card contact", "aria-label": "Leave a message" });
  form.appendChild(el("p", { class: "card-title" }, "Leave a message"));
  form.appendChild(el("p", { class: "card-text" }, "We'll reply by email or phone, with this whole conversation in front of us."));
  var email = field("Email", "input", { type: "email", autocomplete: "email", name: "email" });
  var phone = field("Phone", "input", { type: "tel", autocomplete: "tel", name: "phone" });
  var name = field("Name (optional)", "input", { type: "text", autocomplete: "name", name: "name" });
  var note = field("Message (optional)", "textarea", { rows: "2", name: "message" });
  var byField = { email: email, phone: phone, name: name, message: note };
  var error = el("p", { class: "card-error", role: "alert", hidden: "" });
  var actions = el("div", { class: "card-actions" });
  var cancel = el("button", { type: "button", class: "btn-text" }, "Cancel");
  var submit = el("button", { type: "submit", class: "btn" }, "Send");
  actions.appendChild(cancel);
  actions.appendChild(submit);
  [name.wrap, email.wrap, phone.wrap, note.wrap, error, actions].forEach(function (n) { form.appendChild(n); });
  cancel.addEventListener("click", function () { cancelled(); });
  // The browser's own checks would answer in its words, not ours: the gateway's.
  form.noValidate = true;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    Object.keys(byField).forEach(function (k) { byField[k].clearError(); });
    showFormError(error, "");
    var body = {
      email: email.input.value.trim() || undefined,
      phone: phone.input.value.trim() || undefined,
      name: name.input.value.trim() || undefined,
      message: note.input.value.trim() || undefined,
    };
    if (!body.email && !body.phone) {
      email.showError("Please give an e-mail address or a phone number, so we can get back to you.");
      email.input.focus();
      return;
    }
    submit.disabled = true;
    send(body).then(sent, function (err) {
      submit.disabled = false;
      var errors = (err.body && err.body.errors) || {};
      if (err.body && err.body.field && !errors[err.body.field]) errors[err.body.field] = err.message;
      var shown = Object.keys(errors).filter(function (k) { return byField[k]; });
      if (err.status === 400 && shown.length) {
        // Everything typed stays where it was; only the fields that are wrong say so.
        shown.forEach(function (k) { byField[k].showError(errors[k]); });
        byField[shown[0]].input.focus();
      } else {
        showFormError(error, err.status === 400 || err.status === 413 ? err.message :
          "Sorry, we couldn't send that. Please try again.");
      }
    });
  });
  return { form: form, focus: function () { email.input.focus(); } };
}
