/* The widget's look: its icons and its stylesheet, inside its shadow root. */

const ICONS = {
  chat: "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6c-.5.4-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5v-8Z",
  close: "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6 6.4 5Z",
  minimise: "M5 11h14v2H5z",
  send: "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2v6.4Z",
  bot: "M11 2h2v2h4a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3h-3.6L9 22v-3H7a3 3 0 0 1-3-3V7a3 3 0 0 1 3-3h4V2Zm-2 8a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3Z",
};

export function icon(name) {
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
export function applyStyles(shadow, text) {
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

export function css(c) {
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
