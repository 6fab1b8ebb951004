/*
 * The widget bundle's entry (web/build.mjs bundles it into /widget.js, one classic
 * script). document.currentScript is only set while that script runs, so it is read here,
 * at the top, before anything waits.
 */

import { startWidget } from "./widget.js";

const script = document.currentScript;
// Once per page, however many times the tag is there.
if (script && !window.__batonWidget) startWidget(script);
