// Static SVG icons, built with DOM calls (no markup strings).
const SVG_NS = "http://www.w3.org/2000/svg";

const PATHS = {
  chat: "M21 11.5a8.5 8.5 0 0 1-12.3 7.6L3.5 20.5l1.4-4.9A8.5 8.5 0 1 1 21 11.5z",
  close: "M6 6l12 12M18 6L6 18",
  send: "M4 12l16-8-6 16-2.5-6.5z M11.5 13.5L20 4",
  chevron: "M9 6l6 6-6 6",
  restart: "M4 12a8 8 0 1 0 2.3-5.6 M4 4v4h4",
};

/** An inline SVG icon (stroke style, currentColor), hidden from screen readers. */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", PATHS[name]);
  svg.appendChild(path);
  return svg;
}
