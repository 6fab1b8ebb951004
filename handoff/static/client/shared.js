/*
 * What the chat widget and the agent console both need to talk to the gateway: ids for
 * messages, JSON over HTTP, messages waiting for their ack on a socket, a socket that
 * authenticates in its first frame and comes back after a drop, elements and times.
 *
 * An ES module: the console imports it as it is; the widget's bundle (web/build.mjs)
 * takes it in.
 */

// A client_message_id: a retry sends the same one, so the gateway stores a message once.
export function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; a page on plain http (a demo host) has none.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = Array.prototype.map.call(b, (x) => (x + 256).toString(16).slice(1)).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

// props: a class name, or an object of attributes. Text is only ever set as textContent.
export function el(tag, props, text) {
  const node = document.createElement(tag);
  if (typeof props === "string") {
    node.className = props;
  } else if (props) {
    Object.keys(props).forEach((k) => node.setAttribute(k, props[k]));
  }
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// ---- times: value is a Date or what Date takes (the gateway's ISO strings) ------------
function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const d = value instanceof Date ? value : new Date(value);
  return isNaN(d) ? null : d;
}

export function formatTime(value) {
  const d = toDate(value);
  return d ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

// The day and the time; options.year false leaves the year out.
export function formatDateTime(value, options) {
  const d = toDate(value);
  if (!d) return "";
  const day = { day: "numeric", month: "short" };
  if (!options || options.year !== false) day.year = "numeric";
  return d.toLocaleDateString([], day) + " " + formatTime(d);
}

// The time alone today; with its day before, as a past conversation needs it.
export function formatWhen(value, options) {
  const d = toDate(value);
  if (!d) return "";
  return d.toDateString() === new Date().toDateString() ? formatTime(d) : formatDateTime(d, options);
}

// ---- HTTP ------------------------------------------------------------------------------
export function httpError(status, message, body) {
  const err = new Error(message || "Request failed (" + status + ")");
  err.status = status;
  err.body = body || null;
  return err;
}

// JSON in and out; an answer that is not 2xx rejects with httpError, carrying the
// gateway's message and its error body (field errors, retry_after).
export function requestJson(url, options) {
  const o = options || {};
  const headers = { Accept: "application/json" };
  if (o.token) headers.Authorization = "Bearer " + o.token;
  if (o.body) headers["Content-Type"] = "application/json";
  return fetch(url, {
    method: o.method || "GET",
    headers: headers,
    body: o.body ? JSON.stringify(o.body) : undefined,
    credentials: o.credentials || "same-origin",
    mode: "cors",
  }).then((res) => {
    if (res.ok) return res.status === 204 ? {} : res.json();
    return res.json().catch(() => ({})).then((b) => {
      const e = b && b.error;
      const message = e && (typeof e === "string" ? e : e.message);
      throw httpError(res.status, message, e && typeof e === "object" ? e : null);
    });
  });
}

// ---- acks --------------------------------------------------------------------------------
// Messages sent on a socket, each waiting for the gateway's "ack" (stored) or "error"
// event with its client_message_id.
export class Acks {
  constructor(timeoutMs) {
    this.timeoutMs = timeoutMs;
    this.waiting = {};
  }

  // Resolves with the ack event, or with null when none came in time or the socket went
  // away: the caller sends again (over HTTP, say) with the same id. Rejects with the
  // httpError of an "error" event. `timeoutMs`: this one's own, when not the usual.
  wait(id, timeoutMs) {
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => this.settle(id, null, null), timeoutMs || this.timeoutMs);
      this.waiting[id] = { ok: ok, fail: fail, timer: timer };
    });
  }

  // Takes an event off the socket; true if it was an ack or an error.
  receive(ev) {
    if (ev.type === "ack") {
      this.settle(ev.client_message_id, ev, null);
    } else if (ev.type === "error") {
      const e = ev.error || {};
      this.settle(ev.client_message_id, null, httpError(e.status || 400, e.message, e));
    } else {
      return false;
    }
    return true;
  }

  giveUp(id) {
    this.settle(id, null, null);
  }

  giveUpAll() {
    Object.keys(this.waiting).forEach((id) => this.settle(id, null, null));
  }

  settle(id, ack, err) {
    const waiting = this.waiting[id];
    if (!waiting) return;
    delete this.waiting[id];
    clearTimeout(waiting.timer);
    if (err) waiting.fail(err);
    else waiting.ok(ack);
  }
}

// ---- the socket --------------------------------------------------------------------------
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/*
 * A WebSocket to the gateway that sends its token in the first frame (never in the URL,
 * which ends up in logs) and, when it drops, comes back after a growing, jittered delay.
 * Where it resumes from (last seq, last event id) is in the URL target() gives each time.
 *
 * hooks.target()      {url, token} to connect to, or null to stay closed
 * hooks.opened()      the socket opened and the auth frame is sent
 * hooks.event(ev)     a JSON event arrived on the current socket
 * hooks.closed(code)  the current socket closed; return false to stay closed
 * hooks.retrying()    a reconnect is scheduled
 */
export class ResumableSocket {
  constructor(hooks) {
    this.hooks = hooks;
    this.ws = null;
    this.live = false; // the gateway has spoken on the current socket
    this.delay = FIRST_DELAY_MS;
    this.timer = null;
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const target = this.hooks.target();
    if (!target) return;
    let ws;
    try {
      ws = new WebSocket(target.url);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    this.live = false;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", token: target.token }));
      if (this.hooks.opened) this.hooks.opened();
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      // Connected for real once the gateway speaks, not merely when the socket opened.
      this.live = true;
      this.delay = FIRST_DELAY_MS;
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      this.hooks.event(ev);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.live = false;
      if (this.hooks.closed(e.code) !== false) this.retry();
    };
  }

  retry() {
    if (this.hooks.retrying) this.hooks.retrying();
    const jitter = Math.random() * 0.3 * this.delay;
    this.timer = setTimeout(() => this.connect(), this.delay + jitter);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }

  // Closes without a reconnect (nor a closed() call).
  close() {
    clearTimeout(this.timer);
    this.live = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try { ws.close(1000); } catch (e) { /* already closed */ }
    }
  }

  // Sends obj as JSON if the socket is open; false if it is not.
  send(obj) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }
}
