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
 *
 * Everything lives in one shadow root so the host page's CSS cannot reach in and ours
 * cannot leak out. Customer, bot and agent text is only ever set with textContent.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__batonWidget) return;

  var cfg = readConfig(script);
  var STORAGE_KEY = "baton:conversation:" + cfg.gateway;
  var TYPING_IDLE_MS = 3000;
  var ACK_TIMEOUT_MS = 15000;
  var AGENT_TYPING_TIMEOUT_MS = 8000;

  var ICONS = {
    chat: "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6c-.5.4-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5v-8Z",
    close: "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6 6.4 5Z",
    minimise: "M5 11h14v2H5z",
    send: "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2v6.4Z",
    bot: "M11 2h2v2h4a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3h-3.6L9 22v-3H7a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3h4V2Zm-2 8a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Z",
  };

  // ---- state -------------------------------------------------------------------
  var conv = loadConversation(); // {id, token} or null
  var creating = null; // in-flight POST /api/conversations
  var lastSeq = 0; // every message up to this seq is shown: resume after it
  var rendered = {}; // seq -> element, for dedupe and ordering
  var buttonsBySeq = {}; // seq -> the suggested replies that message came with
  var status = "bot";
  var agentName = null;
  var socket = null;
  var socketLive = false; // open, and the gateway has spoken on it
  var socketWanted = false;
  var acks = {}; // client_message_id -> {ok, fail, timer}: messages sent on the socket
  var reconnectDelay = 1000;
  var reconnectTimer = null;
  var historyLoaded = false;
  var unread = 0;
  var open = false;
  var typingSent = false;
  var typingTimer = null;
  var agentTypingTimer = null;
  var place = null; // the latest queue event while waiting: position, wait, team, reopens
  var contactForm = null;
  var contactLeft = false;

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
    if (socketWanted && !socketOpen()) connectNow();
  });
  window.addEventListener("storage", function (e) {
    // Another tab started the conversation: join it rather than start a second one.
    if (e.key === STORAGE_KEY && !conv) {
      conv = loadConversation();
      if (conv) resume();
    }
  });

  function mount() {
    document.body.appendChild(host);
    window.__batonWidget = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
    if (conv) resume();
    if (cfg.open) setOpen(true);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

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
    creating = request("POST", "/api/conversations", null, {}).then(
      function (body) {
        conv = { id: body.id, token: body.token };
        saveConversation(conv);
        historyLoaded = true;
        socketWanted = true;
        connectNow();
        creating = null;
        return conv;
      },
      function (err) {
        creating = null;
        throw err;
      }
    );
    return creating;
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
    try { localStorage.removeItem(STORAGE_KEY); } catch (e) { /* storage disabled */ }
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

  function send(text, payload) {
    clearQuickReplies();
    var pending = bubble({ sender: "customer", text: text }, { pending: true });
    var clientId = uuid();
    pending.setAttribute("data-client-id", clientId);
    log.appendChild(pending);
    scrollToEnd();
    attempt(pending, text, payload, clientId, 0);
  }

  function attempt(pending, text, payload, clientId, tries) {
    setPendingState(pending, "sending");
    var body = { text: text, client_message_id: clientId };
    if (payload) body.payload = payload;
    // On the socket while it is live (an ack comes back once the message is stored);
    // over HTTP otherwise. Either way a retry keeps the client_message_id.
    (conv && socketLive ? viaSocket(body) : ensureConversation().then(function (c) {
      return request("POST", "/api/conversations/" + encodeURIComponent(c.id) + "/messages", c.token, body);
    }))
      .then(
        function (res) {
          var msgs = res.messages || [];
          msgs.forEach(function (m) { addMessage(m, { pending: pending }); });
          if (pending.parentNode && !pending.hasAttribute("data-seq")) pending.remove();
          if (res.status) applyStatus(res.status, res.agent);
        },
        function (err) {
          // Network errors and 5xx are retried with the same client_message_id, so the
          // gateway stores the message once however many times we send it.
          var retriable = !err.status || err.status >= 500 || err.status === 429;
          if (retriable && tries < 4) {
            setPendingState(pending, "retrying");
            setTimeout(function () { attempt(pending, text, payload, clientId, tries + 1); }, 800 * Math.pow(2, tries));
            return;
          }
          if (err.status === 401 || err.status === 404) forgetConversation();
          setPendingState(pending, "failed", function () { attempt(pending, text, payload, clientId, 0); });
        }
      );
  }

  function viaSocket(body) {
    var id = body.client_message_id;
    body.type = "message";
    return new Promise(function (ok, fail) {
      acks[id] = { ok: ok, fail: fail, timer: setTimeout(function () { settle(id, null, new Error("no ack")); }, ACK_TIMEOUT_MS) };
      socket.send(JSON.stringify(body));
    }).then(function (ack) {
      // The ack carries the stored message: in human mode this socket gets no event of
      // its own message (a bot turn pushed it before its replies; dropped by seq).
      return { status: ack.status, messages: [ack.message] };
    });
  }

  function settle(id, ack, err) {
    var waiting = acks[id];
    if (!waiting) return;
    delete acks[id];
    clearTimeout(waiting.timer);
    if (err) waiting.fail(err);
    else waiting.ok(ack);
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

  // Turns http(s) URLs into links; everything else stays a text node.
  function appendLinkified(parent, text) {
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
      var leave = el("button", { type: "button", class: "link banner-action" },
        team() === "online" ? "Can't wait? Leave your email" : "Leave a message");
      leave.addEventListener("click", openContactForm);
      banner.appendChild(leave);
    }
    // Nothing left to show (the form is open, the notice is in the transcript).
    if (!banner.childNodes.length) banner.hidden = true;
  }

  function waitText(p) {
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
    contactForm = el("form", { class: "card contact", "aria-label": "Leave a message" });
    contactForm.appendChild(el("p", { class: "card-title" }, "Leave a message"));
    contactForm.appendChild(el("p", { class: "card-text" }, "We'll reply by email or phone, with this whole conversation in front of us."));
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
    [name.wrap, email.wrap, phone.wrap, note.wrap, error, actions].forEach(function (n) { contactForm.appendChild(n); });
    cancel.addEventListener("click", function () { closeContactForm(); input.focus(); });
    // The browser's own checks would answer in its words, not ours: the gateway's.
    contactForm.noValidate = true;
    contactForm.addEventListener("submit", function (e) {
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
      request("POST", convPath("/contact"), conv.token, body).then(function (res) {
        contactLeft = true;
        closeContactForm();
        (res.messages || []).forEach(function (m) { addMessage(m, {}); });
        renderBanner();
        input.focus();
      }, function (err) {
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
    log.appendChild(contactForm);
    renderBanner();
    scrollToEnd();
    email.input.focus();
  }

  function closeContactForm() {
    if (!contactForm) return;
    contactForm.remove();
    contactForm = null;
    renderBanner();
  }

  var fieldCount = 0;
  function field(label, tag, attrs) {
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

  function showFormError(node, message) {
    node.textContent = message;
    node.hidden = !message;
  }

  // ---- satisfaction, after an agent resolved ---------------------------------------------
  var RATINGS = ["Very poor", "Poor", "OK", "Good", "Excellent"];

  function showRating(name) {
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
      scrollToEnd();
    }
    log.appendChild(card);
    scrollToEnd();
  }

  function rate(score, comment, statusNode, done, failed) {
    var body = { score: score };
    if (comment) body.comment = comment;
    request("POST", convPath("/rating"), conv.token, body).then(function () {
      statusNode.textContent = comment ? "" : "Thanks! Your rating is saved.";
      done();
    }, function () {
      statusNode.textContent = "Sorry, we couldn't save that. Please try again.";
      if (failed) failed();
    });
  }

  function setAvatar(kind, name) {
    avatar.textContent = "";
    avatar.classList.toggle("is-agent", kind === "agent");
    if (kind === "agent") avatar.textContent = (name || "?").trim().charAt(0).toUpperCase();
    else avatar.appendChild(icon("bot"));
  }

  // ---- typing --------------------------------------------------------------------
  function noteTyping() {
    if (!conv || !socketOpen()) return;
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
    typingLabel.textContent = (agentName || "Agent") + " is typing";
    typingRow.hidden = false;
    scrollToEnd();
    clearTimeout(agentTypingTimer);
    agentTypingTimer = setTimeout(hideAgentTyping, AGENT_TYPING_TIMEOUT_MS);
  }

  function hideAgentTyping() {
    clearTimeout(agentTypingTimer);
    typingRow.hidden = true;
  }

  // ---- socket --------------------------------------------------------------------
  function socketOpen() {
    return socket && socket.readyState === 1;
  }

  function connectNow() {
    clearTimeout(reconnectTimer);
    if (!conv || !socketWanted) return;
    if (socket && socket.readyState <= 1) return;
    // The token goes in the first frame, never in the URL (URLs end up in logs).
    var url = cfg.gateway.replace(/^http/, "ws") + convPath("/ws") + "?after=" + lastSeq;
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    var token = conv.token;
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "auth", token: token }));
    };
    ws.onmessage = function (e) {
      // Connected for real once the gateway speaks (it always sends the status first
      // or right after the missed messages), not merely when the socket opened.
      socketLive = socket === ws;
      reconnectDelay = 1000;
      connection.hidden = true;
      var ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      handleEvent(ev);
    };
    ws.onclose = function (e) {
      if (socket !== ws) return;
      socket = null;
      socketLive = false;
      typingSent = false;
      failSends();
      if (!socketWanted) return;
      if (e.code === 4401 || e.code === 4403 || e.code === 4404) {
        forgetConversation();
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (!socketWanted) return;
    connection.hidden = false;
    connection.textContent = "Connection lost. Reconnecting…";
    var jitter = Math.random() * 0.3 * reconnectDelay;
    reconnectTimer = setTimeout(connectNow, reconnectDelay + jitter);
    reconnectDelay = Math.min(reconnectDelay * 2, 30000);
  }

  // Unanswered sends on a socket that went away are retried (over HTTP while it is down).
  function failSends() {
    Object.keys(acks).forEach(function (id) { settle(id, null, new Error("socket closed")); });
  }

  function closeSocket() {
    clearTimeout(reconnectTimer);
    socketLive = false;
    failSends();
    if (socket) {
      var s = socket;
      socket = null;
      try { s.close(1000); } catch (e) { /* already closed */ }
    }
  }

  function sendSocket(obj) {
    if (socketOpen()) socket.send(JSON.stringify(obj));
  }

  function handleEvent(ev) {
    if (!ev || !conv) return;
    if (ev.conversation_id && ev.conversation_id !== conv.id) return;
    if (ev.type === "message" && ev.message) addMessage(ev.message, {});
    else if (ev.type === "ack") settle(ev.client_message_id, ev);
    else if (ev.type === "error" && ev.error) {
      var err = new Error(ev.error.message);
      err.status = ev.error.status;
      settle(ev.client_message_id, null, err);
    }
    else if (ev.type === "status") applyStatus(ev.status, ev.agent);
    else if (ev.type === "queue") applyPlace(ev);
    else if (ev.type === "typing" && ev.sender === "agent") {
      if (ev.typing) showAgentTyping();
      else hideAgentTyping();
    }
  }

  // ---- HTTP ----------------------------------------------------------------------
  function request(method, path, token, body) {
    var headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(cfg.gateway + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      mode: "cors",
    }).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (b) {
          var err = new Error((b && b.error && b.error.message) || "HTTP " + res.status);
          err.status = res.status;
          err.body = (b && b.error) || null;
          throw err;
        });
      }
      return res.status === 204 ? {} : res.json();
    });
  }

  // ---- helpers -------------------------------------------------------------------
  function readConfig(s) {
    var d = s.dataset;
    var origin;
    try { origin = new URL(s.src, document.baseURI).origin; } catch (e) { origin = window.location.origin; }
    return {
      gateway: (d.gateway || origin).replace(/\/+$/, ""),
      title: d.title || "Support",
      subtitle: d.subtitle || "We usually reply in a few minutes",
      greeting: d.greeting === undefined ? "Hi there! Ask me anything about your booking or trip." : d.greeting,
      botName: d.botName || "Assistant",
      color: d.color || "#1f5eff",
      position: d.position === "left" ? "left" : "right",
      open: d.open === "true",
    };
  }

  function loadConversation() {
    try {
      var raw = localStorage.getItem(STORAGE_KEY);
      var c = raw && JSON.parse(raw);
      return c && c.id && c.token ? c : null;
    } catch (e) {
      return null;
    }
  }

  function saveConversation(c) {
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(c)); } catch (e) { /* private mode */ }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function formatTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d)) return "";
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]);
      }
    }
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon icon-" + name);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  // A constructed stylesheet is not an inline <style>, so a strict style-src CSP allows it.
  function applyStyles(shadow, text) {
    if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function") {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(text);
        shadow.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* fall through */ }
    }
    var style = document.createElement("style");
    style.textContent = text;
    shadow.appendChild(style);
  }

  function css(c) {
    var side = c.position;
    return [
      ":host{all:initial;--accent:" + c.color + ";--ink:#1a1d24;--muted:#4b5563;--line:#e5e7eb;--bg:#fff;--soft:#f4f5f7;",
      "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--ink)}",
      "*{box-sizing:border-box}",
      "[hidden]{display:none!important}",
      ".sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
      ".icon{width:24px;height:24px;display:block}",
      "button{font:inherit;color:inherit;cursor:pointer}",
      ":focus-visible{outline:3px solid color-mix(in srgb,var(--accent) 45%,transparent);outline-offset:2px}",
      ".launcher{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;width:56px;height:56px;border:0;border-radius:50%;",
      "background:var(--accent);color:#fff;display:grid;place-items:center;box-shadow:0 6px 20px rgba(15,23,42,.25);transition:transform .15s}",
      ".launcher:hover{transform:scale(1.05)}",
      ".launcher .icon-close,.launcher.is-open .icon-chat{display:none}.launcher.is-open .icon-close{display:block}",
      ".badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#e11d48;",
      "color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center;border:2px solid #fff}",
      ".panel{position:fixed;bottom:88px;" + side + ":20px;z-index:2147483000;width:380px;height:min(640px,calc(100vh - 112px));",
      "display:flex;flex-direction:column;background:var(--bg);border-radius:16px;overflow:hidden;",
      "box-shadow:0 12px 48px rgba(15,23,42,.22),0 0 0 1px rgba(15,23,42,.06)}",
      ".header{display:flex;align-items:center;gap:12px;padding:16px 12px 16px 16px;background:var(--accent);color:#fff}",
      ".avatar{flex:none;width:40px;height:40px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;font-weight:700;font-size:17px}",
      ".avatar.is-agent{background:#fff;color:var(--accent)}",
      ".titles{flex:1;min-width:0}",
      ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25}",
      ".subtitle{margin:2px 0 0;font-size:13px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
      ".icon-btn{flex:none;width:36px;height:36px;border:0;border-radius:8px;background:transparent;color:#fff;display:grid;place-items:center}",
      ".icon-btn:hover{background:rgba(255,255,255,.15)}",
      ".banner{padding:10px 16px;background:#fff8e6;border-bottom:1px solid #f5e3b3;color:#5c4100;font-size:13px}",
      ".banner strong{font-weight:650}.banner .wait{display:block;margin-top:2px;color:#7a5a12}",
      ".connection{padding:6px 16px;background:#fef2f2;color:#991b1b;font-size:12px;text-align:center}",
      ".log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:10px;background:var(--soft);}",
      ".log:focus-visible{outline-offset:-3px}",
      ".msg{display:flex;flex-direction:column;align-items:flex-start;max-width:85%}",
      ".msg.from-customer{align-self:flex-end;align-items:flex-end}",
      ".from-bot+.from-bot,.from-agent+.from-agent,.from-customer+.from-customer{margin-top:-6px}",
      ".from-bot+.from-bot .author,.from-agent+.from-agent .author{display:none}",
      ".author{font-size:12px;color:var(--muted);margin:0 0 3px 4px}",
      ".bubble{padding:9px 13px;border-radius:16px;background:#fff;white-space:pre-wrap;overflow-wrap:anywhere;",
      "box-shadow:0 1px 2px rgba(15,23,42,.08)}",
      ".from-bot .bubble,.from-agent .bubble{border-bottom-left-radius:4px}",
      ".from-agent .bubble{background:#eef6ff;box-shadow:inset 0 0 0 1px #cfe3fb}",
      ".from-customer .bubble{background:var(--accent);color:#fff;border-bottom-right-radius:4px}",
      ".from-customer .bubble a{color:#fff}",
      ".bubble a{color:var(--accent)}",
      ".meta{font-size:11px;color:var(--muted);margin:3px 4px 0;min-height:0}",
      ".meta:empty{display:none}",
      ".is-pending .bubble{opacity:.7}",
      ".is-failed .bubble{background:#fee2e2;color:#7f1d1d}",
      ".is-failed .meta{color:#b91c1c}",
      ".link{border:0;background:none;padding:0;color:var(--accent);text-decoration:underline;font-size:inherit}",
      ".note{align-self:center;text-align:center;font-size:12px;color:var(--muted);padding:2px 8px}",
      ".note span{display:inline-block;background:#e9ebef;border-radius:12px;padding:5px 12px;line-height:1.4}",
      ".quick{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}",
      ".chip{border:1px solid var(--accent);color:var(--accent);background:#fff;border-radius:999px;padding:6px 12px;font-size:13px;line-height:1.2}",
      ".chip:hover{background:var(--accent);color:#fff}",
      ".typing{display:flex;align-items:center;gap:8px;padding:0 16px 8px;background:var(--soft)}",
      ".dots{display:inline-flex;gap:4px;padding:10px 12px;background:#fff;border-radius:16px;box-shadow:0 1px 2px rgba(15,23,42,.08)}",
      ".dots i{width:6px;height:6px;border-radius:50%;background:#9ca3af;animation:blink 1.2s infinite both}",
      ".dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}",
      "@keyframes blink{0%,80%,100%{opacity:.3}40%{opacity:1}}",
      ".composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid var(--line);background:#fff}",
      ".input{flex:1;resize:none;border:1px solid var(--line);border-radius:12px;padding:9px 12px;font:inherit;color:inherit;",
      "max-height:120px;min-height:40px;background:#fff;line-height:1.4}",
      ".input:focus{outline:none;border-color:var(--accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 20%,transparent)}",
      ".send{flex:none;width:40px;height:40px;border:0;border-radius:12px;background:var(--accent);color:#fff;display:grid;place-items:center}",
      ".send .icon{width:20px;height:20px}",
      ".footer{margin:0;padding:0 0 8px;text-align:center;font-size:11px;color:var(--muted);background:#fff}",
      ".banner-action{display:block;margin-top:6px;color:#5c4100;font-weight:600}",
      ".card{align-self:stretch;background:#fff;border-radius:14px;padding:14px;box-shadow:0 1px 3px rgba(15,23,42,.1);",
      "display:flex;flex-direction:column;gap:8px}",
      ".card-title{margin:0;font-weight:650}",
      ".card-text{margin:0;font-size:13px;color:var(--muted)}.card-text:empty{display:none}",
      ".card-error{margin:0;font-size:13px;color:#b91c1c}",
      ".field-error{font-size:13px;font-weight:400;color:#b91c1c}",
      ".field input[aria-invalid=true]{border-color:#b91c1c}",
      ".field{display:flex;flex-direction:column;gap:4px;font-size:12px;font-weight:600;color:#374151}",
      ".field input,.field textarea{font:inherit;font-weight:400;font-size:14px;color:inherit;border:1px solid var(--line);",
      "border-radius:10px;padding:8px 10px;resize:vertical;background:#fff}",
      ".field input:focus,.field textarea:focus{outline:none;border-color:var(--accent);",
      "box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 20%,transparent)}",
      ".card-actions{display:flex;justify-content:flex-end;gap:8px}",
      ".btn{border:0;border-radius:10px;background:var(--accent);color:#fff;font-weight:600;padding:8px 16px}",
      ".btn:disabled{opacity:.6}",
      ".btn-text{border:0;background:none;color:var(--muted);padding:8px 10px}",
      ".stars{display:flex;gap:4px}",
      ".star{border:0;background:none;font-size:28px;line-height:1;padding:2px 4px;color:#7b8494;border-radius:6px}",
      ".star:hover,.star.is-on{color:#b45309}",
      ".comment{display:flex;flex-direction:column;gap:8px}",
      "@media (max-width:480px){.panel{top:0;left:0;right:0;bottom:0;width:auto;height:auto;border-radius:0}",
      ".launcher.is-open{display:none}}",
      // iOS zooms the page into a text field whose text is under 16px when it takes the focus.
      "@media (max-width:480px),(pointer:coarse){.input,.field input,.field textarea{font-size:16px}}",
      "@media (prefers-reduced-motion:reduce){.dots i{animation:none}.launcher{transition:none}}",
    ].join("\n");
  }
})();
