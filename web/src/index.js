// Entry point of dist/commonground-widget.js: read the settings of our <script> tag and mount the
// widget once the page's <body> exists. window.CommonGround gives the page open()/close().
import { ownScript, readConfig } from "./config.js";
import { Widget } from "./widget.js";

const script = ownScript();

function start() {
  if (window.CommonGround) return;
  const widget = new Widget(readConfig(script));
  widget.mount();
  window.CommonGround = {
    version: __WIDGET_VERSION__,
    open: () => widget.open(),
    close: () => widget.close(),
  };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
