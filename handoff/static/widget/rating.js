/* The card that asks the customer how their chat with an agent went: five stars, then
 * an optional comment. */

import { el } from "../client/shared.js";
import { field } from "./fields.js";

var RATINGS = ["Very poor", "Poor", "OK", "Good", "Excellent"];

// save(body) stores {score, comment} (a promise); grown() says the card got taller.
export function ratingCard(name, save, grown) {
  var card = el("div", { class: "card rating", role: "group", "aria-label": "Rate this conversation" });
  card.appendChild(el("p", { class: "card-title" }, "How was your chat" + (name ? " with " + name : "") + "?"));
  var scale = el("div", { class: "stars" });
  var chosen = 0;
  var feedback = el("p", { class: "card-text", role: "status" });
  RATINGS.forEach(function (label, i) {
    var score = i + 1;
    var b = el("button", { type: "button", class: "star", "aria-label": score + " of 5: " + label, "aria-pressed": "false" }, "★");
    b.addEventListener("click", function () {
      chosen = score;
      Array.prototype.forEach.call(scale.children, function (s, j) {
        s.classList.toggle("is-on", j < score);
        s.setAttribute("aria-pressed", String(j === i));
      });
      rate(score, null, feedback, function () { showComment(); });
    });
    scale.appendChild(b);
  });
  card.appendChild(scale);
  card.appendChild(feedback);
  var commentForm = null;
  function showComment() {
    if (commentForm) return;
    commentForm = el("form", { class: "comment" });
    var note = field("Anything to add? (optional)", "textarea", { rows: "2" });
    var actions = el("div", { class: "card-actions" });
    var send = el("button", { type: "submit", class: "btn" }, "Send");
    actions.appendChild(send);
    commentForm.appendChild(note.wrap);
    commentForm.appendChild(actions);
    commentForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = note.input.value.trim();
      if (!text) return;
      send.disabled = true;
      rate(chosen, text, feedback, function () {
        commentForm.remove();
        scale.remove();
        feedback.textContent = "Thank you for your feedback!";
      }, function () { send.disabled = false; });
    });
    card.appendChild(commentForm);
    grown();
  }
  return card;

  function rate(score, comment, statusNode, done, failed) {
    var body = { score: score };
    if (comment) body.comment = comment;
    save(body).then(function () {
      statusNode.textContent = comment ? "" : "Thanks! Your rating is saved.";
      done();
    }, function () {
      statusNode.textContent = "Sorry, we couldn't save that. Please try again.";
      if (failed) failed();
    });
  }
}
