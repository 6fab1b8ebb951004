/*
 * Baton chat widget.
 *
 * Embed with one tag:
 *   <script src="https://support.example.com/widget.js" data-title="Help"></script>
 *
 * Optional data- attributes on that tag:
 *   data-gateway   origin of the Baton gateway (default: where this script came from)
 *   data-title     header title                 (default: "Support")
 *   data-subtitle  header line under the title  (default: "We usually reply in a few minutes")
 *   data-greeting  first bubble shown before the customer writes
 *   data-color     accent colour, any CSS colour (default: #1f5eff); white text sits on
 *                  it, so keep it at 4.5:1 or more against white (WCAG AA)
 *   data-position  "right" (default) or "left"
 *   data-open      "true" opens the panel on load
 *   data-identity, data-identity-signature
 *                  who the site says the customer is (JSON) and its signature, made on
 *                  the site's server (docs/contract.md); or, before the first message,
 *                  window.Baton.identify(identity, signature)
 *
 * Everything lives in one shadow root so the host page's CSS cannot reach in and ours
 * cannot leak out. Customer, bot and agent text is only ever set with textContent.
 */

import {
  Acks, ResumableSocket, el, formatTime, requestJson, uuid,
} from "../client/shared.js";
import { forgetConversation as dropStored, loadConversation, readConfig, saveConversation } from "./config.js";
import { contactCard } from "./contact.js";
import { applyStyles, css, icon } from "./look.js";
import { ratingCard } from "./rating.js";
import { appendLinkified, waitText } from "./text.js";

// script: the <script> tag that loaded the widget, read for its data- attributes.
export function startWidget(script) {
  var cfg = readConfig(script);
  var STORAGE_KEY = "baton:conversation:" + cfg.gateway;
  var TYPING_IDLE_MS = 3000;
  var ACK_TIMEOUT_MS = 15000;
  var AGENT_TYPING_TIMEOUT_MS = 8000;
  // A bot turn's ack comes once the bot has answered, which a busy Rasa lets wait up to
  // BATON_RASA_WAIT (60 s) plus BATON_RASA_TIMEOUT (10 s): wait that long, then retry.
  var BOT_TURN_TIMEOUT_MS = 75000;
  // A bot this slow to answer offers a person instead: the gateway hands off at once,
  // without waiting for Rasa (handoff.conversations.customer_turns.ASK_FOR_PERSON).
  var PERSON_OFFER_MS = 5000;
  var ASK_FOR_PERSON = "/human_handoff";

  // ---- state -------------------------------------------------------------------
  var conv = loadConversation(STORAGE_KEY); // {id, token} or null
  var creating = null; // in-flight POST /api/conversations
  var lastSeq = 0; // every message up to this seq is shown: resume after it
  var rendered = {}; // seq -> element, for dedupe and ordering
  var buttonsBySeq = {}; // seq -> the suggested replies that message came with
  var status = "bot";
  var agentName = null;
  var socketWanted = false;
  var acks = new Acks(ACK_TIMEOUT_MS); // messages sent on the socket, waiting to be stored
  var historyLoaded = false;
  var unread = 0;
  var open = false;
  var typingSent = false;
  var typingTimer = null;
  var agentTypingTimer = null;
  var botTurns = 0; // the customer's messages waiting for the bot's answer
  var personTimer = null;
  var place = null; // the latest queue event while waiting: position, wait, team, reopens
  var contactForm = null;
  var contactLeft = false;
  // Sent when the conversation is opened, so the agent sees a verified customer.
  var signedIdentity = null;
  identify(cfg.identity, cfg.identitySignature);
  // A conversation another signed-in customer opened in this browser is theirs, not this
  // page's customer's: start afresh rather than show it.
  if (conv && conv.customer && signedIdentity && conv.customer !== signedIdentity.identity.customer_id) {
    dropStored(STORAGE_KEY);
    conv = null;
  }
  window.Baton = window.Baton || {};
  window.Baton.identify = identify;

  // ---- DOM -----------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-baton-widget", "");
  var root = host.attachShadow({ mode: "open" });
  applyStyles(root, css(cfg));

  var launcher = el("button", {
    class: "launcher",
    type: "button",
    "aria-label": "Open chat: " + cfg.title,
    "aria-expanded": "false",
    "aria-controls": "baton-panel",
  });
  launcher.appendChild(icon("chat"));
  launcher.appendChild(icon("close"));
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(badge);

  var panel = el("section", {
    class: "panel",
    id: "baton-panel",
    role: "dialog",
    "aria-label": cfg.title + " chat",
    hidden: "",
  });

  var header = el("div", { class: "header" }); // a <header> here would be the host page's second banner
  var avatar = el("div", { class: "avatar", "aria-hidden": "true" });
  avatar.appendChild(icon("bot"));
  var titles = el("div", { class: "titles" });
  var titleEl = el("h2", { class: "title" }, cfg.title);
  var subtitleEl = el("p", { class: "subtitle" }, cfg.subtitle);
  titles.appendChild(titleEl);
  titles.appendChild(subtitleEl);
  var closeBtn = el("button", { class: "icon-btn", type: "button", "aria-label": "Minimise chat" });
  closeBtn.appendChild(icon("minimise"));
  header.appendChild(avatar);
  header.appendChild(titles);
  header.appendChild(closeBtn);

  var banner = el("div", { class: "banner", role: "status", hidden: "" });
  var leaveButton = el("button", { type: "button", class: "link banner-action" }, "");
  leaveButton.addEventListener("click", openContactForm);
  var connection = el("div", { class: "connection", role: "status", hidden: "" });

  var log = el("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Conversation",
    tabindex: "0",
  });

  var typingRow = el("div", { class: "typing", hidden: "", "aria-live": "polite" });
  var typingDots = el("span", { class: "dots", "aria-hidden": "true" });
  typingDots.appendChild(el("i"));
  typingDots.appendChild(el("i"));
  typingDots.appendChild(el("i"));
  var typingLabel = el("span", { class: "sr-only" }, "");
  typingRow.appendChild(typingDots);
  typingRow.appendChild(typingLabel);
  var personOffer = el("button", { type: "button", class: "link", hidden: "" }, "Talk to a person");
  personOffer.addEventListener("click", function () {
    personOffer.hidden = true;
    // Over HTTP: the socket answers its messages in order, after the waiting one.
    send("Talk to a person", ASK_FOR_PERSON, true);
  });
  typingRow.appendChild(personOffer);

  var form = el("form", { class: "composer" });
  var input = el("textarea", {
    class: "input",
    rows: "1",
    placeholder: "Write a message…",
    "aria-label": "Message",
    maxlength: "4000",
  });
  var sendBtn = el("button", { class: "send", type: "submit", "aria-label": "Send message" });
  sendBtn.appendChild(icon("send"));
  form.appendChild(input);
  form.appendChild(sendBtn);

  var footer = el("p", { class: "footer" }, "Powered by Baton");

  panel.appendChild(header);
  panel.appendChild(banner);
  panel.appendChild(connection);
  panel.appendChild(log);
  panel.appendChild(typingRow);
  panel.appendChild(form);
  panel.appendChild(footer);
  root.appendChild(panel);
  root.appendChild(launcher);

  if (cfg.greeting) {
    log.appendChild(bubble({ sender: "bot", text: cfg.greeting }, { local: true }));
  }

  // ---- events --------------------------------------------------------------------
  launcher.addEventListener("click", function () {
    setOpen(!open);
  });
  closeBtn.addEventListener("click", function () {
    setOpen(false);
  });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      e.preventDefault();
      setOpen(false);
    } else if (e.key === "Tab") {
      keepFocusInPanel(e);
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submitInput();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submitInput();
    }
  });
  input.addEventListener("input", function () {
    autosize();
    noteTyping();
  });
  window.addEventListener("online", function () {
    if (socketWanted && !socket.isOpen) connectNow();
  });
  window.addEventListener("storage", function (e) {
    // Another tab started the conversation: join it rather than start a second one.
    if (e.key === STORAGE_KEY && !conv) {
      conv = loadConversation(STORAGE_KEY);
      if (conv) resume();
    }
  });

  function mount() {
    document.body.appendChild(host);
    window.__batonWidget = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
    if (conv) resume();
    if (cfg.open) setOpen(true);
  }

  // ---- panel ---------------------------------------------------------------------
  function setOpen(value) {
    open = value;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", (open ? "Close chat: " : "Open chat: ") + cfg.title);
    launcher.classList.toggle("is-open", open);
    if (open) {
      unread = 0;
      renderBadge();
      scrollToEnd();
      input.focus();
      if (conv && !historyLoaded) resume();
      // A verified customer's conversation opens with the widget: the gateway may know
      // of their disrupted flight and say so before they type (docs/contract.md).
      if (!conv && signedIdentity) ensureConversation().catch(function () {});
    } else if (root.activeElement && panel.contains(root.activeElement)) {
      launcher.focus();
    }
  }

  // Tab goes round the open panel, so from the message box it reaches the minimise button
  // and the suggested replies (above it in the page); Escape or minimise leaves it.
  function keepFocusInPanel(e) {
    var items = Array.prototype.filter.call(
      panel.querySelectorAll("button:not([disabled]), a[href], input:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"),
      function (n) { return n.getClientRects().length > 0; }
    );
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var active = root.activeElement;
    if (!e.shiftKey && active === last) {
      e.preventDefault();
      first.focus();
    } else if (e.shiftKey && active === first) {
      e.preventDefault();
      last.focus();
    }
  }

  function renderBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.setAttribute("aria-label", unread + " unread");
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  // ---- conversation --------------------------------------------------------------
  var resuming = null;
  function resume() {
    if (!resuming) {
      resuming = loadHistory().then(function () {
        resuming = null;
        if (!conv) return;
        socketWanted = true;
        connectNow();
      });
    }
    return resuming;
  }

  function ensureConversation() {
    if (conv) return Promise.resolve(conv);
    if (creating) return creating;
    var sent = signedIdentity;
    creating = request("POST", "/api/conversations", null, sent || {}).then(
      function (body) {
        conv = { id: body.id, token: body.token };
        if (sent) conv.customer = sent.identity.customer_id;
        saveConversation(STORAGE_KEY, conv);
        historyLoaded = true;
        socketWanted = true;
        connectNow();
        creating = null;
        return conv;
      },
      function (err) {
        creating = null;
        if (err.status === 401 && sent) {
          // The site's signature is wrong (or the gateway has no secret): the customer
          // still gets help, as an anonymous one; the site's developers see why.
          console.warn("Baton: the customer's identity was refused: " + err.message);
          if (signedIdentity === sent) signedIdentity = null;
          return ensureConversation();
        }
        throw err;
      }
    );
    return creating;
  }

  // Applies to the conversation not yet opened: false once one is.
  function identify(identity, signature) {
    signedIdentity = identity && signature ?
      { identity: identity, identity_signature: String(signature) } : null;
    return !conv;
  }

  function loadHistory() {
    var id = conv.id;
    return Promise.all([
      request("GET", convPath("/messages?after=" + lastSeq), conv.token),
      request("GET", convPath(""), conv.token).catch(function () { return null; }),
    ]).then(
      function (results) {
        if (!conv || conv.id !== id) return;
        historyLoaded = true;
        (results[0].messages || []).forEach(function (m) { addMessage(m, { quiet: true }); });
        if (results[1]) applyStatus(results[1].status, results[1].agent, { quiet: true });
        // Asked for before a reload (or an earlier visit) and not given yet: ask once more.
        var asked = results[1] && results[1].rating;
        if (asked && !log.querySelector(".card.rating")) showRating(asked.agent ? asked.agent.name : null);
        scrollToEnd();
      },
      function (err) {
        if (err.status === 401 || err.status === 403 || err.status === 404) {
          // The gateway no longer knows this conversation: start afresh on the next message.
          forgetConversation();
        }
      }
    );
  }

  function forgetConversation() {
    conv = null;
    socketWanted = false;
    closeSocket();
    dropStored(STORAGE_KEY);
  }

  function convPath(suffix) {
    return "/api/conversations/" + encodeURIComponent(conv.id) + suffix;
  }

  // ---- sending -------------------------------------------------------------------
  function submitInput() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    stopTyping();
    send(text, null);
  }

  function send(text, payload, overHttp) {
    clearQuickReplies();
    var pending = bubble({ sender: "customer", text: text }, { pending: true });
    var clientId = uuid();
    pending.setAttribute("data-client-id", clientId);
    log.appendChild(pending);
    scrollToEnd();
    attempt(pending, text, payload, clientId, 0, overHttp);
  }

  function attempt(pending, text, payload, clientId, tries, overHttp) {
    setPendingState(pending, "sending");
    var botTurn = status === "bot" && !overHttp;
    if (botTurn) showBotTyping();
    var body = { text: text, client_message_id: clientId };
    if (payload) body.payload = payload;
    // On the socket while it is live (an ack comes back once the message is stored);
    // over HTTP otherwise. Either way a retry keeps the client_message_id.
    (conv && socket.live && !overHttp ? viaSocket(body) : ensureConversation().then(function (c) {
      return request("POST", "/api/conversations/" + encodeURIComponent(c.id) + "/messages", c.token, body);
    }))
      .then(
        function (res) {
          if (botTurn) botAnswered();
          var msgs = res.messages || [];
          msgs.forEach(function (m) { addMessage(m, { pending: pending }); });
          if (pending.parentNode && !pending.hasAttribute("data-seq")) pending.remove();
          if (res.status) applyStatus(res.status, res.agent);
        },
        function (err) {
          if (botTurn) botAnswered();
          // Network errors and 5xx are retried with the same client_message_id, so the
          // gateway stores the message once however many times we send it.
          var retriable = !err.status || err.status >= 500 || err.status === 429;
          if (retriable && tries < 4) {
            setPendingState(pending, "retrying");
            setTimeout(function () { attempt(pending, text, payload, clientId, tries + 1, overHttp); }, 800 * Math.pow(2, tries));
            return;
          }
          if (err.status === 401 || err.status === 404) forgetConversation();
          setPendingState(pending, "failed", function () { attempt(pending, text, payload, clientId, 0, overHttp); });
        }
      );
  }

  function viaSocket(body) {
    var id = body.client_message_id;
    var answered = acks.wait(id, status === "bot" ? BOT_TURN_TIMEOUT_MS : undefined);
    if (!socket.send(Object.assign({ type: "message" }, body))) acks.giveUp(id);
    return answered.then(function (ack) {
      // No answer (in time, or the socket went away): retried, over HTTP while it is down.
      if (!ack) throw new Error("no ack");
      // The ack carries the stored message: in human mode this socket gets no event of
      // its own message (a bot turn pushed it before its replies; dropped by seq).
      return { status: ack.status, messages: [ack.message] };
    });
  }

  function setPendingState(node, state, retry) {
    var meta = node.querySelector(".meta");
    meta.textContent = "";
    node.classList.toggle("is-failed", state === "failed");
    if (state === "failed") {
      meta.appendChild(document.createTextNode("Not sent. "));
      var b = el("button", { type: "button", class: "link" }, "Try again");
      b.addEventListener("click", function () { retry(); });
      meta.appendChild(b);
    } else {
      meta.textContent = state === "retrying" ? "Reconnecting…" : "Sending…";
    }
  }

  // ---- rendering -----------------------------------------------------------------
  function addMessage(m, opts) {
    opts = opts || {};
    if (typeof m.seq !== "number" || rendered[m.seq]) return;
    var node;
    var pending = m.sender === "customer" ? findPending(m.text, opts.pending) : null;
    if (pending) {
      node = pending;
      node.classList.remove("is-pending", "is-failed");
      node.querySelector(".meta").textContent = "";
      node.querySelector(".bubble").title = formatTime(m.created_at);
    } else {
      node = bubble(m, {});
    }
    node.setAttribute("data-seq", String(m.seq));
    rendered[m.seq] = node;
    insertInOrder(node, m.seq);
    // Seqs have no gaps: one sent while the socket was down can come back (over HTTP)
    // before an earlier one pushed meanwhile, which the next resume must still fetch.
    while (rendered[lastSeq + 1]) lastSeq += 1;

    if (m.sender === "agent" || m.sender === "bot") {
      hideAgentTyping();
      if (!open && !opts.quiet) {
        unread += 1;
        renderBadge();
      }
    }
    if (m.sender === "agent" && m.author && !agentName) agentName = m.author;
    if (m.buttons && m.buttons.length) buttonsBySeq[m.seq] = m.buttons;
    refreshQuickReplies();
    scrollToEnd();
  }

  function findPending(text, preferred) {
    if (preferred && preferred.parentNode && !preferred.hasAttribute("data-seq") &&
        preferred.getAttribute("data-text") === text) return preferred;
    var nodes = log.querySelectorAll(".msg.is-pending");
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].getAttribute("data-text") === text) return nodes[i];
    }
    return null;
  }

  function insertInOrder(node, seq) {
    // Keep confirmed messages in seq order; pending ones stay at the end.
    var children = log.children;
    for (var i = 0; i < children.length; i++) {
      var c = children[i];
      if (c === node) continue;
      var s = c.getAttribute("data-seq");
      if ((s !== null && Number(s) > seq) || (s === null && c.classList.contains("is-pending"))) {
        if (node.nextSibling !== c) log.insertBefore(node, c);
        return;
      }
    }
    if (node.parentNode !== log || node !== log.lastElementChild) log.appendChild(node);
  }

  // Suggested replies belong to the newest confirmed message, whatever order messages
  // arrived in: a bot reply pushed on the socket can land before the ack of the
  // customer's own message, which then moves in front of it.
  function refreshQuickReplies() {
    var confirmed = log.querySelectorAll(":scope > [data-seq]");
    var newest = confirmed.length ? confirmed[confirmed.length - 1] : null;
    var buttons = newest ? buttonsBySeq[newest.getAttribute("data-seq")] : null;
    if (!buttons) clearQuickReplies();
    else if (!quickReplies || quickReplies.parentNode !== newest) showQuickReplies(newest, buttons);
  }

  function bubble(m, opts) {
    var sender = m.sender || "bot";
    if (sender === "system") {
      // The gateway's own notices ("Maya from our team has joined the chat.").
      var note = el("div", { class: "note" });
      note.appendChild(el("span", { class: "bubble" }, m.text));
      return note;
    }
    var row = el("div", { class: "msg from-" + sender + (opts.pending ? " is-pending" : "") });
    if (opts.pending) row.setAttribute("data-text", m.text);
    var label = sender === "customer" ? "You" : sender === "agent" ? (m.author || agentName || "Support agent") : cfg.botName;
    row.appendChild(el("span", { class: "sr-only" }, label + ": "));
    var time = opts.local ? "" : formatTime(m.created_at);
    if (sender !== "customer") {
      row.appendChild(el("span", { class: "author", "aria-hidden": "true" }, label + (time ? " · " + time : "")));
    }
    var body = el("div", { class: "bubble" });
    if (time) body.title = time;
    appendLinkified(body, m.text || "");
    row.appendChild(body);
    row.appendChild(el("span", { class: "meta" }));
    return row;
  }

  var quickReplies = null;
  function showQuickReplies(afterNode, buttons) {
    clearQuickReplies();
    quickReplies = el("div", { class: "quick", role: "group", "aria-label": "Suggested replies" });
    buttons.forEach(function (b) {
      var btn = el("button", { type: "button", class: "chip" }, b.title);
      btn.addEventListener("click", function () {
        send(b.title, b.payload || null);
        input.focus();
      });
      quickReplies.appendChild(btn);
    });
    afterNode.appendChild(quickReplies);
  }

  function clearQuickReplies() {
    if (quickReplies) quickReplies.remove();
    quickReplies = null;
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // ---- status --------------------------------------------------------------------
  function applyStatus(next, agent, opts) {
    opts = opts || {};
    if (agent && agent.name) agentName = agent.name;
    var prev = status;
    status = next || status;
    // The bot is typing no more: someone else has the conversation now.
    if (status !== prev) hideAgentTyping();
    panel.setAttribute("data-status", status);
    if (status !== "waiting") place = null;

    if (status === "waiting") {
      setAvatar("bot");
    } else if (status === "agent") {
      subtitleEl.textContent = (agentName || "An agent") + " · " + cfg.title + " team";
      setAvatar("agent", agentName || "?");
      closeContactForm();
    } else {
      subtitleEl.textContent = cfg.subtitle;
      setAvatar("bot");
      closeContactForm();
      // Seen live, the end of a chat with a person asks how it went.
      if (prev === "agent" && !opts.quiet) showRating(agentName);
      agentName = null;
    }
    renderBanner();
    scrollToEnd();
  }

  // While waiting, the transcript says once where the team is (the gateway's handoff
  // message); the header and the banner agree with it and do not say it again.
  function team() {
    return place ? place.team : null;
  }

  function waitingSubtitle() {
    if (contactLeft) return "We have your details";
    if (team() === "online") return "Connecting you to our team…";
    if (team() === "closed") return "Back " + place.reopens;
    if (team() === "away") return "Waiting for a colleague to come online";
    return "Waiting for our team";
  }

  function renderBanner() {
    if (status === "waiting") {
      subtitleEl.textContent = waitingSubtitle();
      subtitleEl.title = subtitleEl.textContent; // in full, should the header cut it short
    } else {
      subtitleEl.removeAttribute("title");
    }
    banner.hidden = status !== "waiting";
    if (banner.hidden) return;
    banner.textContent = "";
    if (contactLeft) {
      banner.appendChild(el("strong", {}, "We have your details."));
      banner.appendChild(el("span", {}, " A colleague will get back to you; you can also keep this window open."));
    } else if (team() === "online") {
      banner.appendChild(el("strong", {}, "A colleague is on the way."));
      banner.appendChild(el("span", {}, " They'll see this conversation, so there's no need to repeat anything."));
    }
    var wait = waitText(place);
    if (wait) banner.appendChild(el("span", { class: "wait" }, wait));
    if (!contactLeft && !contactForm) {
      // The same button each time: a queue update re-renders the banner every few
      // seconds, and a new button would be swapped out from under the customer's tap.
      leaveButton.textContent = team() === "online" ? "Can't wait? Leave your email" : "Leave a message";
      banner.appendChild(leaveButton);
    }
    // Nothing left to show (the form is open, the notice is in the transcript).
    if (!banner.childNodes.length) banner.hidden = true;
  }

  function applyPlace(ev) {
    var firstTimeNobody = ev.team !== "online" && !(place && place.team !== "online");
    place = {
      position: ev.position, estimated_wait_seconds: ev.estimated_wait_seconds,
      agents_online: ev.agents_online, team: ev.team, reopens: ev.reopens,
    };
    renderBanner();
    if (firstTimeNobody && !contactLeft) openContactForm();
  }

  // ---- leave a message (nobody free, or the customer can't wait) -----------------------
  function openContactForm() {
    if (contactForm || contactLeft || status !== "waiting") return;
    var card = contactCard(function (body) {
      return request("POST", convPath("/contact"), conv.token, body);
    }, function (res) {
      contactLeft = true;
      closeContactForm();
      (res.messages || []).forEach(function (m) { addMessage(m, {}); });
      renderBanner();
      input.focus();
    }, function () {
      closeContactForm();
      input.focus();
    });
    contactForm = card.form;
    log.appendChild(contactForm);
    renderBanner();
    scrollToEnd();
    card.focus();
  }

  function closeContactForm() {
    if (!contactForm) return;
    contactForm.remove();
    contactForm = null;
    renderBanner();
  }

  // ---- satisfaction, after an agent resolved ---------------------------------------------
  function showRating(name) {
    log.appendChild(ratingCard(name, function (body) {
      return request("POST", convPath("/rating"), conv.token, body);
    }, scrollToEnd));
    scrollToEnd();
  }

  function setAvatar(kind, name) {
    avatar.textContent = "";
    avatar.classList.toggle("is-agent", kind === "agent");
    if (kind === "agent") avatar.textContent = (name || "?").trim().charAt(0).toUpperCase();
    else avatar.appendChild(icon("bot"));
  }

  // ---- typing --------------------------------------------------------------------
  function noteTyping() {
    if (!conv || !socket.isOpen) return;
    if (!typingSent) {
      typingSent = true;
      sendSocket({ type: "typing", typing: true });
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingSent) {
      typingSent = false;
      sendSocket({ type: "typing", typing: false });
    }
  }

  function showAgentTyping() {
    clearTimeout(personTimer);
    personOffer.hidden = true;
    typingLabel.textContent = (agentName || "Agent") + " is typing";
    typingRow.hidden = false;
    scrollToEnd();
    clearTimeout(agentTypingTimer);
    agentTypingTimer = setTimeout(hideAgentTyping, AGENT_TYPING_TIMEOUT_MS);
  }

  function hideAgentTyping() {
    clearTimeout(agentTypingTimer);
    clearTimeout(personTimer);
    personOffer.hidden = true;
    typingRow.hidden = true;
  }

  // While a message waits for the bot (a busy bot can take a while), it is shown typing.
  function showBotTyping() {
    botTurns += 1;
    typingLabel.textContent = "Assistant is typing";
    typingRow.hidden = false;
    scrollToEnd();
    clearTimeout(agentTypingTimer);
    agentTypingTimer = setTimeout(hideAgentTyping, BOT_TURN_TIMEOUT_MS);
    clearTimeout(personTimer);
    personTimer = setTimeout(function () { personOffer.hidden = false; }, PERSON_OFFER_MS);
  }

  function botAnswered() {
    botTurns = Math.max(0, botTurns - 1);
    if (botTurns === 0) hideAgentTyping();
  }

  // ---- socket --------------------------------------------------------------------
  var socket = new ResumableSocket({
    target: function () {
      if (!conv || !socketWanted) return null;
      var url = cfg.gateway.replace(/^http/, "ws") + convPath("/ws") + "?after=" + lastSeq;
      return { url: url, token: conv.token };
    },
    // The gateway always speaks first (the status, or the missed messages): live.
    event: function (ev) {
      connection.hidden = true;
      handleEvent(ev);
    },
    closed: function (code) {
      typingSent = false;
      acks.giveUpAll();
      if (!socketWanted) return false;
      if (code === 4401 || code === 4403 || code === 4404) {
        forgetConversation();
        return false;
      }
      return true;
    },
    retrying: function () {
      connection.hidden = false;
      connection.textContent = "Connection lost. Reconnecting…";
    },
  });

  function connectNow() {
    socket.connect();
  }

  function closeSocket() {
    socket.close();
    acks.giveUpAll();
  }

  function sendSocket(obj) {
    socket.send(obj);
  }

  function handleEvent(ev) {
    if (!ev || !conv) return;
    if (ev.conversation_id && ev.conversation_id !== conv.id) return;
    if (acks.receive(ev)) return;
    if (ev.type === "message" && ev.message) addMessage(ev.message, {});
    else if (ev.type === "status") applyStatus(ev.status, ev.agent);
    else if (ev.type === "queue") applyPlace(ev);
    else if (ev.type === "typing" && ev.sender === "agent") {
      if (ev.typing) showAgentTyping();
      else hideAgentTyping();
    }
  }

  // ---- HTTP ----------------------------------------------------------------------
  // No cookies: the conversation's token is the customer's only credential.
  function request(method, path, token, body) {
    return requestJson(cfg.gateway + path, { method: method, token: token, body: body, credentials: "omit" });
  }

  // Last, once everything above is set up (the socket included).
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}
