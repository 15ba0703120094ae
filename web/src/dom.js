// A tiny element builder. Text always goes in as text nodes (createTextNode), never as HTML:
// nothing from the user or the bot can become markup.

/**
 * h("div", {class: "x", "aria-label": "y", onclick: fn}, "text", child, [more]) → HTMLElement.
 * Attributes are set with setAttribute (values as plain strings); `on…` keys add listeners;
 * `hidden`/`disabled` booleans toggle the property; strings and numbers become text nodes.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "hidden" || name === "disabled") {
      element[name] = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children (nodes, strings as text nodes, nested arrays; null/false skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

let counter = 0;

/** A document-unique id for aria-controls / aria-labelledby pairs. */
export function uniqueId(prefix) {
  counter += 1;
  return `cg-${prefix}-${counter}`;
}
