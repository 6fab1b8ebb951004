/* What the embedding page asked for (the script tag's data- attributes), and the
 * conversation this browser is in, kept in localStorage per gateway. */

export function readConfig(s) {
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
    identity: parseIdentity(d.identity),
    identitySignature: d.identitySignature || null,
  };
}

// data-identity: the JSON object the site signed; anything else is no identity.
function parseIdentity(raw) {
  if (!raw) return null;
  try {
    var identity = JSON.parse(raw);
    return identity && typeof identity === "object" && !Array.isArray(identity) ? identity : null;
  } catch (e) {
    return null;
  }
}

export function loadConversation(key) {
  try {
    var raw = localStorage.getItem(key);
    var c = raw && JSON.parse(raw);
    return c && c.id && c.token ? c : null;
  } catch (e) {
    return null;
  }
}

export function saveConversation(key, c) {
  try { localStorage.setItem(key, JSON.stringify(c)); } catch (e) { /* private mode */ }
}

export function forgetConversation(key) {
  try { localStorage.removeItem(key); } catch (e) { /* storage disabled */ }
}
