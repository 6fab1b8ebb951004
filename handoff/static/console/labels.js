/*
 * Baton agent console: readable labels for the assistant's identifiers (intents,
 * frustration signals and drivers, handoff reasons, disruptions), from the one mapping
 * in /static/labels.json, and the day a date the customer mentioned means. An id the
 * mapping lacks is humanised ("change_booking" -> "Change booking"), never shown raw.
 *
 * core.js waits for `ready` before it renders anything.
 */

var tables = {};

export function humanise(id) {
  var words = String(id).replace(/[_\s-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// kind: "intents", "signals", "drivers" (a driver may be a signal), "reasons", "disruptions".
export function label(kind, id) {
  if (id === null || id === undefined || id === "") return "";
  var own = tables[kind] || {};
  if (Object.prototype.hasOwnProperty.call(own, id)) return own[id];
  var signals = tables.signals || {};
  if (kind === "drivers" && Object.prototype.hasOwnProperty.call(signals, id)) return signals[id];
  return humanise(id);
}

// Every id the mapping has of a kind, in its order.
export function ids(kind) {
  return Object.keys(tables[kind] || {});
}

// "2026-12-04" -> "Fri 4 Dec" (with the year when it is not this year's).
export function day(iso) {
  var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  if (!parts) return "";
  var date = new Date(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]));
  var options = { weekday: "short", day: "numeric", month: "short" };
  if (date.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return date.toLocaleDateString("en-GB", options).replace(/,/g, "");
}

// "2026-12-04" -> "4 Dec": a flight's day beside its number, where the weekday is noise.
var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
export function dayMonth(iso) {
  var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return parts ? Number(parts[3]) + " " + MONTHS[Number(parts[2]) - 1] : "";
}

// What the customer said, and the day it means: "tomorrow (Fri 4 Dec)".
export function dateText(said, resolved) {
  var when = resolved ? day(resolved) : "";
  return when ? said + " (" + when + ")" : said;
}

export const ready = fetch("/static/labels.json", { credentials: "same-origin" })
  .then(function (res) { return res.ok ? res.json() : {}; })
  .then(function (data) { tables = data || {}; }, function () { /* humanised, then */ });
