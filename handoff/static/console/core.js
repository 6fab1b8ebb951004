/*
 * Baton agent console: login, live queue, context panel, transcript, claim/reply/resolve.
 * Plain DOM, no framework. Every piece of conversation text is set with textContent.
 *
 * The agent tools (notes, empowered actions, approvals, transfer) live in tools.js,
 * canned responses in canned.js, History and ratings in history.js, the opt-in sound and
 * desktop notifications in notify.js. They import what they need from here (the selected
 * conversation, select(), ...) and hear what happens through events.js: "me", "select",
 * "conversation", "header", "event", "new-handoff", "logout".
 */

import { Acks, ResumableSocket, el, formatTime, formatWhen, uuid } from "../client/shared.js";
import { api, rememberName, rememberedName, session, signIn, signOut } from "./api.js";
import { emit, on } from "./events.js";
import * as labels from "./labels.js";
import { $, announce, merge, shortId, showError, text } from "./ui.js";

var TYPING_IDLE_MS = 3000;
var CUSTOMER_TYPING_TIMEOUT_MS = 8000;

// Reasons, disruptions, intents and signals read as words (labels.js).
var label = labels.label;

var PRIORITIES = { 1: "Frustrated", 2: "Disrupted", 3: "Requeued" };
var OUTCOMES = [
  ["", "Outcome (optional)"],
  ["answered", "Answered"],
  ["rebooked", "Rebooked"],
  ["refunded", "Refunded"],
  ["voucher", "Voucher issued"],
  ["follow_up", "Needs follow-up"],
  ["other", "Other"],
];

var queue = {}; // id -> {id, status, handoff, unread, agent}
var selected = null; // {id, status, handoff, messages, seqs: {}}
var ticker = null;
var typingSent = false;
var typingTimer = null;
var customerTypingTimer = null;
var lastEventId = null; // the id of the last console event seen, to resume from
var epoch = null; // which gateway process numbered those ids
var resumed = false;
var acks = new Acks(10000); // replies sent on the socket, waiting to be stored
var replyGuard = null; // asked before a reply is sent: true holds it back (canned.js)

export function selectedConversation() {
  return selected;
}

export function reloadConversation() {
  if (selected) return loadConversation(selected.id);
}

// The conversation with this id in the queue, or null.
export function queueEntry(id) {
  return queue[id] || null;
}

export function setReplyGuard(fn) {
  replyGuard = fn;
}

// Whether the signed-in agent holds the selected conversation (and may act on it).
export function holdsSelected() {
  var me = session.me;
  if (!selected || selected.status !== "agent" || !selected.agent || !me) return false;
  return selected.agent.id ? selected.agent.id === me.id : selected.agent.name === me.name;
}

on("session-ended", function () {
  showLogin("Your session has ended. Please sign in again.");
});

export function init() {
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", logout);
  $("claim").addEventListener("click", claim);
  $("resolve").addEventListener("click", resolve);
  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    sendReply();
  });
  $("reply-input").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendReply();
    }
  });
  $("reply-input").addEventListener("input", noteTyping);
  $("context-toggle").addEventListener("click", function () {
    setContextOpen($("context-toggle").getAttribute("aria-expanded") !== "true");
  });
  $("context-close").addEventListener("click", function () {
    setContextOpen(false);
    $("context-toggle").focus();
  });
  $("context").addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.defaultPrevented || getComputedStyle($("context")).position !== "fixed") return;
    e.preventDefault();
    setContextOpen(false);
    $("context-toggle").focus();
  });
  OUTCOMES.forEach(function (o) {
    var opt = document.createElement("option");
    opt.value = o[0];
    opt.textContent = o[1];
    $("outcome").appendChild(opt);
  });
  // Nothing is rendered before the labels are in (or failed: then ids are humanised).
  labels.ready.then(function () {
    if (session.token) showApp();
    else showLogin();
  });
}

// ---- session -------------------------------------------------------------------
function showLogin(message) {
  closeSocket();
  clearInterval(ticker);
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  showError("login-error", message || "");
  $("login-email").focus();
}

function onLogin(e) {
  e.preventDefault();
  var email = $("login-email").value.trim();
  var password = $("login-password").value;
  if (!email || !password) {
    showError("login-error", "Enter your email and password.");
    return;
  }
  var button = e.target.querySelector("button[type=submit]");
  button.disabled = true;
  signIn(email, password)
    .then(function () {
      $("login-password").value = "";
      showApp();
    })
    .catch(function (err) {
      showError("login-error", loginProblem(err));
    })
    .then(function () { button.disabled = false; });
}

function loginProblem(err) {
  if (err.status === 401 || err.status === 403) return "That email and password don't match an agent account.";
  if (err.status) return "Sign-in failed (" + err.status + "). Try again in a moment.";
  return err.message === "Failed to fetch" ? "Can't reach the server." : err.message;
}

function logout() {
  signOut();
  queue = {};
  selected = null;
  emit("logout");
  showLogin();
}

function showApp() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("agent-name").textContent = rememberedName();
  lastEventId = null;
  resumed = false;
  api("GET", "/api/agent/me").then(function (me) {
    session.me = me;
    emit("me", me);
    if (selected) renderHeader();
  }, function () {});
  connect();
  clearInterval(ticker);
  ticker = setInterval(function () {
    renderQueue();
    if (selected) renderWaiting();
  }, 15000);
}

// ---- queue ---------------------------------------------------------------------
export function loadQueue() {
  return api("GET", "/api/agent/queue").then(function (body) {
    var fresh = {};
    (body.conversations || []).forEach(function (c) {
      var old = queue[c.id];
      fresh[c.id] = merge(c, { unread: old ? old.unread : 0 });
    });
    queue = fresh;
    renderQueue();
  }, function () {});
}

function upsertQueue(c) {
  if (!c || !c.id) return;
  if (c.status === "bot" || c.status === "resolved") {
    delete queue[c.id];
  } else {
    queue[c.id] = merge(queue[c.id] || { unread: 0 }, c);
  }
  renderQueue();
}

function renderQueue() {
  var list = $("queue-list");
  var items = Object.keys(queue).map(function (k) { return queue[k]; });
  items.sort(function (a, b) {
    var sa = a.status === "waiting" ? 0 : 1;
    var sb = b.status === "waiting" ? 0 : 1;
    if (sa !== sb) return sa - sb;
    var pa = (a.handoff && a.handoff.priority) || 0;
    var pb = (b.handoff && b.handoff.priority) || 0;
    if (pa !== pb) return pb - pa;
    return requestedAt(a) - requestedAt(b);
  });
  list.textContent = "";
  items.forEach(function (c) {
    var h = c.handoff || {};
    var li = document.createElement("li");
    var btn = el("button", "queue-item");
    btn.type = "button";
    btn.setAttribute("data-id", c.id);
    btn.setAttribute("data-status", c.status);
    if (selected && selected.id === c.id) btn.setAttribute("aria-current", "true");

    var top = el("div", "qi-top");
    var reason = el("span", "badge reason-" + (h.reason || "unknown"), label("reasons", h.reason) || "Handoff");
    reason.setAttribute("data-reason", h.reason || "");
    top.appendChild(reason);
    top.appendChild(el("span", "qi-wait", waitedFor(c)));
    btn.appendChild(top);

    // Who and which booking, as History's lines and the header say them.
    var name = customerName(h);
    if (name) btn.appendChild(el("p", "qi-name", name));
    var summary = (h.context && h.context.summary) || "";
    btn.appendChild(el("p", "qi-summary", summary || "No summary"));

    var bottom = el("div", "qi-bottom");
    if (h.priority) bottom.appendChild(el("span", "tag tag-priority", PRIORITIES[h.priority] || "Priority " + h.priority));
    if (h.context && h.context.booking_reference) {
      bottom.appendChild(el("span", "tag qi-booking", "Booking " + h.context.booking_reference));
    }
    if (h.disruption) bottom.appendChild(el("span", "tag tag-warn", label("disruptions", h.disruption)));
    if (h.contact) bottom.appendChild(el("span", "tag", "Left contact"));
    if (c.customer_left_at) bottom.appendChild(el("span", "tag tag-muted", "Customer away"));
    var st = c.status === "waiting" ? "Waiting" : c.status === "agent" ? "With " + ((c.agent && c.agent.name) || "an agent") : c.status;
    bottom.appendChild(el("span", "status status-" + c.status, st));
    if (c.unread) bottom.appendChild(el("span", "unread", c.unread + " new"));
    btn.appendChild(bottom);

    btn.addEventListener("click", function () { select(c.id).then(focusConversation); });
    li.appendChild(btn);
    list.appendChild(li);
  });
  $("queue-count").textContent = String(items.length);
  var waiting = items.filter(function (c) { return c.status === "waiting"; }).length;
  document.title = (waiting ? "(" + waiting + ") " : "") + "Baton — Agent console";
  $("queue-empty").hidden = items.length > 0;
  emit("queue-changed", items);
}

function requestedAt(c) {
  var t = c.handoff && c.handoff.requested_at ? Date.parse(c.handoff.requested_at) : NaN;
  return isNaN(t) ? Date.now() : t;
}

function waitedFor(c) {
  return duration(Date.now() - requestedAt(c));
}

function duration(ms) {
  var s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return "just now";
  var m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  var h = Math.floor(m / 60);
  return h + " h " + (m % 60) + " min";
}

// ---- selected conversation ---------------------------------------------------------
export function select(id) {
  if (selected && selected.id !== id) stopTyping();
  if (queue[id]) queue[id].unread = 0;
  selected = { id: id, status: null, handoff: null, seqs: {}, loading: true };
  $("conv-empty").hidden = true;
  $("conv-view").hidden = false;
  $("context").hidden = false;
  $("transcript").textContent = "";
  $("customer-typing").hidden = true;
  showError("conv-error", "");
  renderQueue();
  // The gateway sends a conversation's messages to its holder; this one is on screen.
  sendSocket({ type: "watch", conversation_id: id });
  emit("select", id);
  return loadConversation(id);
}

// Opened from the queue, the conversation takes the focus: its reply box when the agent
// may write, otherwise its heading, so a screen reader says which one opened.
function focusConversation() {
  if (!selected || selected.loading) return;
  var input = $("reply-input");
  (input.disabled ? $("conv-title") : input).focus();
}

// Below three columns' width the context panel opens over the transcript (console.css).
function setContextOpen(open) {
  $("app-view").classList.toggle("is-context-open", open);
  $("context-toggle").setAttribute("aria-expanded", String(open));
  if (open) {
    var tab = document.querySelector("#context [role=tab][aria-selected=true]");
    if (tab) tab.focus();
  }
}

function loadConversation(id) {
  return api("GET", "/api/agent/conversations/" + encodeURIComponent(id)).then(function (c) {
    if (!selected || selected.id !== id) return;
    selected.status = c.status;
    selected.handoff = c.handoff;
    selected.agent = c.agent || null;
    selected.customer = c.customer || null;
    selected.customer_left_at = c.customer_left_at || null;
    selected.loading = false;
    $("transcript").textContent = "";
    selected.seqs = {};
    (c.messages || []).forEach(addMessage);
    renderHeader();
    renderContext();
    scrollTranscript();
    emit("conversation", c);
  }, function (err) {
    showError("conv-error", err.message);
  });
}

// The name the customer left in the contact form, or gave in the chat; null if neither.
export function customerName(handoff) {
  var h = handoff || {};
  return (h.contact && h.contact.name) || (h.context && h.context.customer_name) || null;
}

function renderHeader() {
  var s = selected;
  // A name the customer's site vouched for before one they typed.
  var name = (s.customer && s.customer.name) || customerName(s.handoff);
  $("conv-title").textContent = name || "Conversation " + shortId(s.id);
  var sub = s.status === "waiting" ? "Waiting for an agent" :
    s.status === "agent" ? (session.me && holdsSelected() ? "With you" : "With " + ((s.agent && s.agent.name) || "an agent")) :
    s.status === "bot" ? "Resolved — back with the bot" : s.status || "";
  $("conv-view").setAttribute("data-status", s.status || "");
  if (s.customer_left_at && s.status !== "bot") sub += " · customer has left the page";
  if (name) sub += " · conversation " + shortId(s.id);
  $("conv-sub").textContent = sub;
  $("claim").hidden = s.status !== "waiting";
  // Until /me has answered, assume the agent holds what they see as taken.
  var mine = s.status === "agent" && (session.me ? holdsSelected() : true);
  $("resolve").hidden = !mine;
  $("outcome").hidden = !mine;
  var canReply = mine;
  $("reply-input").disabled = !canReply;
  $("reply-send").disabled = !canReply;
  $("reply-input").placeholder = canReply ? "Write a reply… (type / for canned responses)" :
    s.status === "waiting" ? "Claim the conversation to reply" :
    s.status === "agent" ? "Another agent has this conversation" : "This conversation is with the bot";
  emit("header", s);
}

function renderContext() {
  var h = selected.handoff || {};
  var ctx = h.context || {};
  text("ctx-reason", label("reasons", h.reason) || "—");
  text("ctx-disruption", h.disruption ? label("disruptions", h.disruption) : "—");
  text("ctx-booking", ctx.booking_reference || "—");
  text("ctx-flight", ctx.flight_number || "—");
  var resolved = ctx.resolved_dates || {};
  text("ctx-dates", (ctx.dates || []).map(function (d) { return labels.dateText(d, resolved[d]); }).join(", ") || "—");
  text("ctx-places", (ctx.places || []).join(", ") || "—");
  renderWaiting();
  text("ctx-summary", ctx.summary || "No summary.");
  var fr = ctx.frustration || {};
  var score = typeof fr.score === "number" ? fr.score : 0;
  var bar = $("ctx-frustration-bar");
  bar.style.width = Math.round(Math.min(1, Math.max(0, score)) * 100) + "%";
  bar.className = "meter-bar " + (score >= 0.6 ? "high" : score >= 0.3 ? "mid" : "low");
  // What raised the score, so a high score beside "No signals" still says why.
  var drivers = (fr.drivers || []).map(function (d) { return label("drivers", d.name); });
  text("ctx-frustration", "Score " + score.toFixed(2) + (score >= 0.6 ? " — high" : score >= 0.3 ? " — moderate" : " — calm") +
    (drivers.length ? ". Raised by: " + drivers.join(", ") : ""));
  tags("ctx-signals", (fr.signals || []).map(function (v) { return label("signals", v); }), "No signals");
  tags("ctx-intents", (ctx.intents_seen || []).map(function (v) { return label("intents", v); }), "None");
  text("ctx-priority", h.priority ? PRIORITIES[h.priority] || String(h.priority) : "Normal");
  renderCustomer();
  // What the airline's operations feed said, before the customer explained anything.
  var known = ctx.known_disruption;
  $("ctx-known-block").hidden = !known;
  if (known) {
    text("ctx-known", ["Flight " + known.flight_number, known.date,
      label("disruptions", known.type) || known.type, known.details].filter(Boolean).join(" · "));
  }
  var contact = h.contact;
  $("ctx-contact-block").hidden = !contact;
  if (contact) {
    text("ctx-contact", [contact.name, contact.email, contact.phone].filter(Boolean).join(" · ") +
      (contact.left_at ? "\nLeft at " + formatTime(contact.left_at) : ""));
  }
}

// Who the customer's site says they are (a signed identity): shown as verified, apart
// from what the customer typed, which nobody checked.
function renderCustomer() {
  var customer = selected.customer;
  $("ctx-customer-block").hidden = !customer;
  if (!customer) return;
  text("ctx-customer", [customer.name, customer.email, "Customer " + customer.customer_id]
    .filter(Boolean).join(" · "));
  tags("ctx-customer-bookings", (customer.bookings || []).map(function (b) { return "Booking " + b; }), "No bookings");
}

// A wait runs only while the customer waits; once claimed or resolved (or opened from
// History) the panel says when it happened, so a past conversation never ticks.
function renderWaiting() {
  var s = selected;
  var h = s && s.handoff;
  var waiting = s && s.status === "waiting";
  text("ctx-requested-label", waiting ? "Waiting since" : "Handed off");
  if (!h || !h.requested_at) {
    text("ctx-requested", s && !s.loading && !h ? "Not handed off" : "—");
    return;
  }
  var asked = new Date(h.requested_at);
  if (waiting) {
    text("ctx-requested", formatWhen(asked) + " (" + duration(Date.now() - asked.getTime()) + ")");
    return;
  }
  var parts = [formatWhen(asked)];
  if (h.claimed_at) parts.push("claimed after " + waited(new Date(h.claimed_at) - asked));
  if (h.resolved_at) parts.push("resolved " + formatWhen(h.resolved_at));
  else if (s.status === "bot") parts.push("resolved");
  text("ctx-requested", parts.join(", "));
}

function waited(ms) {
  return ms < 60000 ? "under a minute" : duration(ms);
}

function tags(id, values, empty) {
  var ul = $(id);
  ul.textContent = "";
  if (!values.length) {
    ul.appendChild(el("li", "tag tag-empty", empty));
    return;
  }
  values.forEach(function (v) {
    ul.appendChild(el("li", "tag", typeof v === "string" ? v : v.name || JSON.stringify(v)));
  });
}

function addMessage(m) {
  if (!selected || typeof m.seq !== "number" || selected.seqs[m.seq]) return;
  selected.seqs[m.seq] = true;
  var li = el("li", "tm tm-" + m.sender);
  li.setAttribute("data-seq", String(m.seq));
  if (m.sender === "system") {
    li.appendChild(el("span", "tm-system", m.text));
  } else {
    var head = el("div", "tm-head");
    var who = m.sender === "customer" ? "Customer" : m.sender === "bot" ? "Bot" : m.author || "Agent";
    head.appendChild(el("span", "tm-who", who));
    head.appendChild(el("time", "tm-time", formatTime(m.created_at)));
    li.appendChild(head);
    li.appendChild(el("div", "tm-text", m.text));
    if (m.buttons && m.buttons.length) {
      li.appendChild(el("div", "tm-buttons", "Buttons: " + m.buttons.map(function (b) { return b.title; }).join(" · ")));
    }
    if (m.sender === "customer" && m.nlu) li.appendChild(nluLine(m.nlu));
  }
  // Keep seq order even when a live event overtakes the HTTP answer.
  var list = $("transcript");
  var after = null;
  for (var i = 0; i < list.children.length; i++) {
    if (Number(list.children[i].getAttribute("data-seq")) > m.seq) { after = list.children[i]; break; }
  }
  list.insertBefore(li, after);
}

function nluLine(nlu) {
  var intent = nlu.intent && typeof nlu.intent === "object" ? nlu.intent.name : nlu.intent;
  var conf = nlu.intent && typeof nlu.intent === "object" ? nlu.intent.confidence : nlu.confidence;
  var parts = [];
  if (intent) parts.push(label("intents", intent) + (typeof conf === "number" ? " · " + Math.round(conf * 100) + "%" : ""));
  if (nlu.frustration && nlu.frustration.score > 0) parts.push("frustration " + nlu.frustration.score.toFixed(2));
  if (nlu.disruption && nlu.disruption.type) parts.push("disruption: " + label("disruptions", nlu.disruption.type));
  var line = el("div", "tm-nlu", parts.join("  ·  "));
  line.title = "What the bot understood";
  if (typeof conf === "number" && conf < 0.5) line.classList.add("low");
  return line;
}

function scrollTranscript() {
  var t = $("transcript");
  t.scrollTop = t.scrollHeight;
}

// ---- actions -------------------------------------------------------------------
function claim() {
  if (!selected) return;
  var id = selected.id;
  $("claim").disabled = true;
  api("POST", "/api/agent/conversations/" + encodeURIComponent(id) + "/claim")
    .then(function () {
      return Promise.all([loadConversation(id), loadQueue()]);
    })
    .then(function () {
      announce("You have the conversation.");
      $("reply-input").focus();
    }, function (err) {
      showError("conv-error", err.status === 409 ? "Another agent has already claimed this conversation." : err.message);
      loadConversation(id);
    })
    .then(function () { $("claim").disabled = false; });
}

function resolve() {
  if (!selected) return;
  var id = selected.id;
  $("resolve").disabled = true;
  stopTyping();
  var outcome = $("outcome").value;
  api("POST", "/api/agent/conversations/" + encodeURIComponent(id) + "/resolve", outcome ? { outcome: outcome } : {})
    .then(function () {
      delete queue[id];
      renderQueue();
      announce("Resolved. The conversation is back with the bot.");
      return loadConversation(id);
    }, function (err) {
      showError("conv-error", err.message);
    })
    .then(function () { $("resolve").disabled = false; });
}

function sendReply() {
  var input = $("reply-input");
  var value = input.value.trim();
  if (!selected || !value || input.disabled) return;
  // A mistyped canned shortcut is held back once (canned.js).
  if (replyGuard && replyGuard(value)) return;
  var id = selected.id;
  $("reply-send").disabled = true;
  stopTyping();
  deliverReply(id, value, uuid())
    .then(function (res) {
      input.value = "";
      showError("conv-error", "");
      if (!selected || selected.id !== id) return;
      if (res.message) addMessage(res.message);
      (res.messages || []).forEach(addMessage);
      scrollTranscript();
    }, function (err) {
      showError("conv-error", "Not sent: " + err.message);
    })
    .then(function () {
      $("reply-send").disabled = !(selected && selected.status === "agent" && (!session.me || holdsSelected()));
      input.focus();
    });
}

// On the socket while it is live (the ack comes once the reply is stored; the reply
// itself arrives first as a message event); over HTTP otherwise, or when the socket
// drops before the ack. Either way the same client_message_id: stored once.
function deliverReply(conversationId, value, clientId) {
  var body = { text: value, client_message_id: clientId };
  var viaHttp = function () {
    return api("POST", "/api/agent/conversations/" + encodeURIComponent(conversationId) + "/messages", body);
  };
  if (!socket.live) return viaHttp();
  var answered = acks.wait(clientId);
  if (!socket.send(merge(body, { type: "message", conversation_id: conversationId }))) acks.giveUp(clientId);
  return answered.then(function (ack) {
    if (!ack) return viaHttp(); // no answer on the socket: ask over HTTP, same id
    return { message: null };
  }, function (err) {
    if (err.status === 503) return viaHttp(); // not stored yet: the same id over HTTP
    throw err;
  });
}

// ---- typing --------------------------------------------------------------------
function noteTyping() {
  if (!selected || selected.status !== "agent") return;
  if (!typingSent) {
    typingSent = true;
    sendSocket({ type: "typing", conversation_id: selected.id, typing: true });
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(typingTimer);
  if (typingSent && selected) sendSocket({ type: "typing", conversation_id: selected.id, typing: false });
  typingSent = false;
}

// ---- socket --------------------------------------------------------------------
var socket = new ResumableSocket({
  target: function () {
    if (!session.token) return null;
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + location.host + "/api/agent/ws";
    // Resuming from the last event seen makes the gateway replay what we missed.
    if (lastEventId !== null && epoch) {
      url += "?epoch=" + encodeURIComponent(epoch) + "&last_event_id=" + lastEventId;
    }
    setLive("connecting");
    // This tab's session, in the first frame: not the cookie, which is whoever signed in
    // last in this browser.
    return { url: url, token: session.token };
  },
  opened: function () {
    setLive("live");
    if (selected) {
      // Watching ends with a socket; what the open conversation got meanwhile is reloaded.
      sendSocket({ type: "watch", conversation_id: selected.id });
      if (resumed) loadConversation(selected.id);
    }
  },
  event: handleEvent,
  closed: function (code) {
    typingSent = false;
    acks.giveUpAll();
    if (!session.token) return false;
    if (code === 4401 || code === 4403) {
      showLogin("Your session has ended. Please sign in again.");
      return false;
    }
    setLive("offline");
    return true;
  },
});

function connect() {
  socket.connect();
}

function reloadAll() {
  loadQueue();
  if (selected) loadConversation(selected.id);
}

function closeSocket() {
  socket.close();
}

function sendSocket(obj) {
  socket.send(obj);
}

function setLive(state) {
  var node = $("live-state");
  node.setAttribute("data-state", state);
  node.textContent = state === "live" ? "Live" : state === "offline" ? "Offline — reconnecting…" : "Connecting…";
}

function handleEvent(ev) {
  if (!ev || !ev.type) return;
  var id = ev.conversation_id;
  if (typeof ev.id === "number" && (lastEventId === null || ev.id > lastEventId)) lastEventId = ev.id;
  if (acks.receive(ev)) return;
  if (ev.type === "hello" && ev.agent) {
    rememberName(ev.agent.name);
    $("agent-name").textContent = ev.agent.name;
    if (ev.epoch !== epoch) {
      // Another gateway process numbers events anew (it sends "reset" if we missed any).
      epoch = ev.epoch;
      if (resumed) lastEventId = typeof ev.last_event_id === "number" ? ev.last_event_id : null;
    }
    if (!resumed || lastEventId === null) {
      // A fresh start (or a gateway that cannot replay): take the current state.
      lastEventId = typeof ev.last_event_id === "number" ? ev.last_event_id : null;
      reloadAll();
    }
    resumed = true;
  } else if (ev.type === "reset") {
    reloadAll();
  } else if (ev.type === "presence") {
    if (queue[id]) {
      queue[id].customer_left_at = ev.customer_online ? null : new Date().toISOString();
      renderQueue();
    }
    if (selected && selected.id === id) {
      selected.customer_left_at = ev.customer_online ? null : new Date().toISOString();
      renderHeader();
    }
  } else if (ev.type === "handoff" && ev.conversation) {
    var isNew = !queue[ev.conversation.id];
    upsertQueue(ev.conversation);
    if (isNew) {
      var r = ev.conversation.handoff && ev.conversation.handoff.reason;
      announce("New conversation in the queue: " + (label("reasons", r) || "handoff"));
      emit("new-handoff", ev.conversation);
    }
    if (selected && selected.id === ev.conversation.id) loadConversation(selected.id);
  } else if (ev.type === "context" && ev.context) {
    // What the bot read in a later message joined the context: show it now.
    if (queue[id] && queue[id].handoff && queue[id].handoff.id === ev.handoff_id) {
      queue[id].handoff = merge(queue[id].handoff, { context: ev.context });
      renderQueue();
    }
    if (selected && selected.id === id && selected.handoff && selected.handoff.id === ev.handoff_id) {
      selected.handoff = merge(selected.handoff, { context: ev.context });
      renderHeader();
      renderContext();
    }
  } else if (ev.type === "status") {
    if (queue[id]) upsertQueue({ id: id, status: ev.status, agent: ev.agent });
    else if (ev.status === "waiting") loadQueue();
    if (selected && selected.id === id) {
      selected.status = ev.status;
      if (ev.agent) selected.agent = ev.agent;
      renderHeader();
      renderWaiting();
    }
  } else if (ev.type === "message" && ev.message) {
    if (selected && selected.id === id) {
      addMessage(ev.message);
      if (ev.message.sender === "customer") {
        $("customer-typing").hidden = true;
        announce("Customer: " + ev.message.text);
      }
      scrollTranscript();
    } else if (queue[id] && ev.message.sender === "customer") {
      queue[id].unread = (queue[id].unread || 0) + 1;
      renderQueue();
    }
  } else if (ev.type === "typing" && ev.sender === "customer" && selected && selected.id === id) {
    var line = $("customer-typing");
    line.hidden = !ev.typing;
    clearTimeout(customerTypingTimer);
    if (ev.typing) customerTypingTimer = setTimeout(function () { line.hidden = true; }, CUSTOMER_TYPING_TIMEOUT_MS);
  }
  emit("event", ev);
}
