// Reads the widget's settings: data- attributes of its own <script> tag, then
// window.CommonGroundConfig (which wins, so a page's own script can compute values).
import { STRINGS } from "./strings.js";

const DEFAULTS = {
  serverUrl: "http://localhost:5005",
  socketPath: "/socket.io",
  title: "Common Ground",
  subtitle: STRINGS.subtitle,
  primaryColor: "#1f5f8b",
  greeting: STRINGS.greeting,
  open: false,
  storageKey: "commonground",
};

// data-server-url -> serverUrl, data-primary-color -> primaryColor, ...
const ATTRIBUTES = {
  serverUrl: "serverUrl",
  socketPath: "socketPath",
  title: "title",
  subtitle: "subtitle",
  primaryColor: "primaryColor",
  greeting: "greeting",
  open: "open",
  storageKey: "storageKey",
};

/** The widget's <script> element (the one that is running, or the one that names our file). */
export function ownScript() {
  if (document.currentScript) return document.currentScript;
  return document.querySelector("script[src*='commonground-widget']");
}

/** The effective settings, from defaults, the script tag's data- attributes and the global object. */
export function readConfig(script) {
  const config = { ...DEFAULTS };
  const data = script ? script.dataset : {};
  for (const [key, attribute] of Object.entries(ATTRIBUTES)) {
    if (data[attribute] !== undefined && data[attribute] !== "") config[key] = data[attribute];
  }
  const global = window.CommonGroundConfig;
  if (global && typeof global === "object") {
    for (const key of Object.keys(DEFAULTS)) {
      if (global[key] !== undefined && global[key] !== null && global[key] !== "") config[key] = global[key];
    }
  }
  config.open = config.open === true || config.open === "true";
  config.serverUrl = String(config.serverUrl).replace(/\/+$/, "");
  if (!CSS.supports("color", String(config.primaryColor))) config.primaryColor = DEFAULTS.primaryColor;
  return config;
}
