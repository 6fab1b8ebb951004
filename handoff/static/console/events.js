/*
 * The console's notifications between its modules: core.js says what happened ("me",
 * "select", "conversation", "header", "event", "new-handoff", "logout"; api.js
 * "session-ended"; tools.js "catalogue", the empowered actions as this agent may take
 * them) and the others listen.
 */

const listeners = {};

export function on(name, fn) {
  (listeners[name] = listeners[name] || []).push(fn);
}

// One listener that throws does not keep the others from hearing it.
export function emit(name, payload) {
  (listeners[name] || []).forEach((fn) => {
    try { fn(payload); } catch (err) { setTimeout(() => { throw err; }); }
  });
}
