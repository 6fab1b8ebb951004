/*
 * The console's session and its calls to the gateway's agent API. The token lives in this
 * tab's sessionStorage; a 401 ends the session ("session-ended", which core.js answers
 * with the sign-in page).
 */

import { httpError, requestJson } from "../client/shared.js";
import { emit } from "./events.js";

const TOKEN_KEY = "baton.agent.token";
const NAME_KEY = "baton.agent.name";

// me: {id, name, email, role} from GET /api/agent/me, once it has answered.
export const session = { token: sessionStorage.getItem(TOKEN_KEY), me: null };

export function api(method, path, body) {
  return requestJson(path, { method: method, token: session.token, body: body }).catch(ended);
}

// A GET whose answer is text (the training data's YAML), with the same token and the
// same end of the session on a 401 as api().
export function apiText(path, accept) {
  return fetch(path, {
    headers: { Accept: accept, Authorization: "Bearer " + session.token },
    credentials: "same-origin",
  }).then((res) => {
    if (res.ok) return res.text();
    return res.json().catch(() => ({})).then((b) => {
      const e = b && b.error;
      throw httpError(res.status, e && (typeof e === "string" ? e : e.message), null);
    });
  }).catch(ended);
}

function ended(err) {
  if (err.status === 401) {
    forget();
    emit("session-ended");
  }
  throw err;
}

export function signIn(email, password) {
  return requestJson("/api/agent/login", { method: "POST", body: { email: email, password: password } })
    .then((body) => {
      session.token = body.token;
      sessionStorage.setItem(TOKEN_KEY, body.token);
      rememberName((body.agent && (body.agent.name || body.agent.display_name)) || body.name || email);
    });
}

export function signOut() {
  api("POST", "/api/agent/logout").catch(() => {});
  forget();
}

function forget() {
  session.token = null;
  session.me = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(NAME_KEY);
}

export function rememberName(name) {
  sessionStorage.setItem(NAME_KEY, name);
}

export function rememberedName() {
  return sessionStorage.getItem(NAME_KEY) || "";
}
