/*
 * Baton agent console: an opt-in sound and desktop notification (the Notification API)
 * for new handoffs in the queue and new customer messages in conversations the agent
 * holds. Off until the agent turns it on (remembered in localStorage); the browser's
 * permission is asked only then. Nothing for the conversation on screen while the tab
 * has focus: the agent sees that one already.
 *
 * Hears core.js's "new-handoff" and "event".
 */

import { select, selectedConversation, queueEntry } from "./core.js";
import { session } from "./api.js";
import { on } from "./events.js";
import { toast } from "./ui.js";

var KEY = "baton.agent.notify";
var audio = null;
var button = null;

export function init() {
  button = document.createElement("button");
  button.type = "button";
  button.id = "notify-toggle";
  button.className = "btn btn-ghost";
  button.title = "A sound and a desktop notification for new handoffs and your customers' messages";
  button.addEventListener("click", toggle);
  var right = document.querySelector(".topbar-right");
  right.insertBefore(button, document.getElementById("logout"));
  render();
  // Browsers start audio only after a gesture: the first one in the console will do.
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, wakeAudio, { capture: true });
  });
}

function enabled() {
  try { return localStorage.getItem(KEY) === "on"; } catch (e) { return false; }
}

function remember(on) {
  try {
    if (on) localStorage.setItem(KEY, "on");
    else localStorage.removeItem(KEY);
  } catch (e) { /* private mode: on for this page only */ }
}

function render() {
  var on = enabled();
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.textContent = on ? "Notifications on" : "Notifications off";
}

function toggle() {
  var on = !enabled();
  remember(on);
  render();
  if (!on) return;
  wakeAudio();
  if (!("Notification" in window)) {
    toast("This browser cannot show desktop notifications: you'll hear a sound only.");
    return;
  }
  if (Notification.permission === "default") {
    Notification.requestPermission().then(explainPermission);
  } else {
    explainPermission(Notification.permission);
  }
}

function explainPermission(permission) {
  if (permission !== "granted") {
    toast("Desktop notifications are blocked for this site in your browser: you'll hear a sound only.");
  }
}

function wakeAudio() {
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx || !enabled()) return;
  if (!audio) audio = new Ctx();
  if (audio.state === "suspended") audio.resume();
}

// A short two-tone chime, made on the spot: no sound file to ship or load.
function beep() {
  if (!audio) return;
  var now = audio.currentTime;
  [880, 1320].forEach(function (freq, i) {
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    var start = now + i * 0.12;
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.11);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + 0.12);
  });
}

function onScreen(conversationId) {
  var open = selectedConversation();
  return document.hasFocus() && !!open && open.id === conversationId;
}

function notify(conversationId, title, body) {
  if (!enabled() || onScreen(conversationId)) return;
  beep();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  // One notification per conversation at a time: a newer one replaces it.
  var shown = new Notification(title, { body: body, tag: "baton-" + conversationId });
  shown.onclick = function () {
    window.focus();
    select(conversationId);
    shown.close();
  };
}

function clip(text) {
  text = String(text || "");
  return text.length > 140 ? text.slice(0, 139) + "…" : text;
}

function holdsIt(conversationId) {
  var c = queueEntry(conversationId);
  var me = session.me;
  return !!c && !!me && c.status === "agent" && !!c.agent && c.agent.id === me.id;
}

on("new-handoff", function (c) {
  var context = (c.handoff && c.handoff.context) || {};
  notify(c.id, "New conversation in the queue", clip(context.summary || "A customer is waiting for a colleague."));
});

on("event", function (ev) {
  if (ev.type !== "message" || !ev.message || ev.message.sender !== "customer") return;
  if (!holdsIt(ev.conversation_id)) return;
  notify(ev.conversation_id, "New message from your customer", clip(ev.message.text));
});
