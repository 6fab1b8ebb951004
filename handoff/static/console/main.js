/*
 * The agent console's entry point (console.html loads only this). core.js first: the
 * others add to the page it sets up, and it waits for the labels before it renders.
 */

import * as canned from "./canned.js";
import * as core from "./core.js";
import * as disruptions from "./disruptions.js";
import * as groups from "./groups.js";
import * as history from "./history.js";
import * as insights from "./insights.js";
import * as notify from "./notify.js";
import * as privacy from "./privacy.js";
import * as tools from "./tools.js";

core.init();
tools.init();
groups.init();
canned.init();
notify.init();
history.init();
insights.init();
privacy.init();
disruptions.init();
