/* The widget's words: links in message text, and where the customer is in the queue. */

import { el } from "../client/shared.js";

// Turns http(s) URLs into links; everything else stays a text node.
export function appendLinkified(parent, text) {
  var re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  var last = 0;
  var match;
  while ((match = re.exec(text))) {
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    var a = el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer nofollow" }, match[0]);
    parent.appendChild(a);
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

// "You're number 3 in the queue · about 4 min"; nothing once the team is closed.
export function waitText(p) {
  if (!p || p.team === "closed") return "";
  var parts = [];
  if (typeof p.position === "number") {
    parts.push(p.position === 1 ? "You're next in the queue" : "You're number " + p.position + " in the queue");
  }
  if (p.team === "online" && typeof p.estimated_wait_seconds === "number") {
    var mins = Math.max(1, Math.round(p.estimated_wait_seconds / 60));
    parts.push("about " + mins + " min");
  }
  return parts.join(" · ");
}
