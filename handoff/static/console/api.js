/*
 * The console's session and its calls to the gateway's agent API. The token lives in this
 * tab's sessionStorage; a 401 ends the session ("session-ended", which core.js answers
 * with the sign-in page).
 */

import { requestJson } from "../client/shared.js";
import { emit } from "./events.js";

const TOKEN_KEY = "baton.agent.token";
const NAME_KEY = "baton.agent.name";

// me: {id, name, email, role} from GET /api/agent/me, once it has answered.
export const session = { token: sessionStorage.getItem(TOKEN_KEY), me: null };

export function api(method, path, body) {
  return requestJson(path, { method: method, token: session.token, body: body }).catch((err) => {
    if (err.status === 401) {
      forget();
      emit("session-ended");
    }
    throw err;
  });
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
