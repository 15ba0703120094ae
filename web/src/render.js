// Renders one history entry — the user's message, a whole bot reply, or a notice — as DOM nodes.
// Bot replies follow the reply contract: `text` plus one `custom` payload whose `kind` picks the layout
// (answer, fallback, question, recommendation, handoff, safety, info, out_of_scope, error).
// All text goes in through h()/append(), i.e. as text nodes: no bot or user text is ever parsed as HTML.
import { h, uniqueId } from "./dom.js";
import { icon } from "./icons.js";
import { STRINGS } from "./strings.js";

/**
 * `ctx` gives the renderers what they need from the widget:
 *   ctx.choose(entry, button, index) — the user clicked a reply button (title shown, payload sent);
 *   ctx.canSend() — whether a button click can be sent right now.
 */
export function renderEntry(entry, ctx) {
  if (entry.role === "user") return renderUser(entry);
  if (entry.role === "notice") return renderNotice(entry);
  return renderBot(entry, ctx);
}

function renderUser(entry) {
  return h("div", { class: "cg-msg cg-user" },
    h("span", { class: "cg-visually-hidden" }, `${STRINGS.you}: `),
    h("div", { class: "cg-bubble" }, h("p", { class: "cg-text" }, entry.text)));
}

function renderNotice(entry) {
  return h("div", { class: "cg-msg cg-notice", role: "status" },
    h("p", { class: "cg-text" }, entry.text));
}

const LAYOUTS = {
  answer: renderAnswer,
  fallback: renderFallback,
  not_covered: renderNotCovered,
  question: renderQuestion,
  recommendation: renderRecommendation,
  safety: renderSafety,
  handoff: renderHandoff,
};

function renderBot(entry, ctx) {
  const reply = entry.reply || {};
  const custom = reply.custom && typeof reply.custom === "object" ? reply.custom : {};
  const kind = typeof custom.kind === "string" ? custom.kind : "text";
  const layout = LAYOUTS[kind] || renderPlain;
  return h("div", { class: `cg-msg cg-bot cg-kind-${kind.replace(/[^a-z_]/g, "")}`, "data-kind": kind },
    h("span", { class: "cg-visually-hidden" }, `${STRINGS.assistant}: `),
    layout(entry, reply, custom, ctx));
}

/** The reply text as paragraphs (blank lines split paragraphs; single newlines are kept by CSS). */
function textBlock(text) {
  const paragraphs = String(text || "").split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  return paragraphs.map((paragraph) => h("p", { class: "cg-text" }, paragraph));
}

function bubble(...children) {
  return h("div", { class: "cg-bubble" }, ...children);
}

/** Buttons of one list ({title, payload}); `kind` styles them and names the group for screen readers. */
function buttonGroup(entry, buttons, ctx, { label, kind, single = false }) {
  const usable = (Array.isArray(buttons) ? buttons : []).filter(
    (b) => b && typeof b.title === "string" && typeof b.payload === "string");
  if (!usable.length) return null;
  const groupKey = `${kind}`;
  const answered = entry.answered && entry.answered[groupKey];
  const locked = single && answered !== undefined;
  const group = h("div", { class: `cg-actions cg-actions-${kind}${locked ? " cg-locked" : ""}`, role: "group", "aria-label": label });
  usable.forEach((button, index) => {
    const chosen = answered !== undefined && answered === index;
    const element = h("button", {
      type: "button",
      class: `cg-action${chosen ? " cg-chosen" : ""}`,
      "data-payload": button.payload,
      "aria-pressed": single ? String(chosen) : undefined,
      disabled: locked,
      onclick: () => {
        if (!ctx.canSend()) return;
        if (single) {
          group.classList.add("cg-locked");
          for (const other of group.querySelectorAll("button")) other.disabled = true;
          element.classList.add("cg-chosen");
          element.setAttribute("aria-pressed", "true");
        }
        ctx.choose(entry, button, { group: groupKey, index, single });
      },
    }, button.title);
    group.appendChild(element);
  });
  return group;
}

function followUps(entry, custom, ctx, label = STRINGS.followUpsLabel) {
  return buttonGroup(entry, custom.follow_ups, ctx, { label, kind: "follow_ups" });
}

/** Rasa's own `buttons` (when a reply has no payload of ours). */
function rasaButtons(entry, reply, ctx) {
  return buttonGroup(entry, reply.buttons, ctx, { label: STRINGS.followUpsLabel, kind: "buttons" });
}

function renderPlain(entry, reply, custom, ctx) {
  return [bubble(textBlock(reply.text)), followUps(entry, custom, ctx), rasaButtons(entry, reply, ctx)];
}

function renderAnswer(entry, reply, custom, ctx) {
  const sources = (Array.isArray(custom.sources) ? custom.sources : []).filter((s) => s && typeof s === "object");
  return [
    bubble(
      custom.title ? h("p", { class: "cg-answer-title" }, String(custom.title)) : null,
      textBlock(reply.text),
      sources.length ? sourceToggle(sources) : null,
    ),
    followUps(entry, custom, ctx),
  ];
}

/** The "Source" button and the cited paragraphs with their quotes, hidden until it is pressed. */
function sourceToggle(sources) {
  const panelId = uniqueId("sources");
  const label = STRINGS.sourceToggle(sources.length);
  const panel = h("div", { class: "cg-sources", id: panelId, hidden: true },
    h("ul", { class: "cg-source-list" },
      sources.map((source) => h("li", { class: "cg-source" },
        h("span", { class: "cg-para" }, String(source.paragraph || "")),
        h("blockquote", { class: "cg-quote" }, String(source.quote || ""))))));
  const toggle = h("button", {
    type: "button", class: "cg-source-toggle", "aria-expanded": "false", "aria-controls": panelId,
    onclick: () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.lastChild.textContent = open ? STRINGS.sourceHide : label;
      panel.hidden = !open;
      if (open) panel.scrollIntoView({ block: "nearest" });
    },
  }, h("span", { class: "cg-source-icon" }, icon("chevron")), label);
  return h("div", { class: "cg-source-block" }, toggle, panel);
}

function renderFallback(entry, reply, custom, ctx) {
  return [
    bubble(textBlock(reply.text)),
    buttonGroup(entry, custom.suggestions, ctx, { label: STRINGS.suggestionsLabel, kind: "suggestions" }),
    followUps(entry, custom, ctx),
  ];
}

/** A question the firm's guide doesn't cover: a person at the firm first, then nearby covered topics. */
function renderNotCovered(entry, reply, custom, ctx) {
  return [
    h("div", { class: "cg-bubble cg-not-covered" }, textBlock(reply.text)),
    followUps(entry, custom, ctx),
    buttonGroup(entry, custom.related, ctx, { label: STRINGS.relatedLabel, kind: "related" }),
  ];
}

function renderQuestion(entry, reply, custom, ctx) {
  return [
    bubble(textBlock(reply.text)),
    buttonGroup(entry, custom.options, ctx, { label: STRINGS.optionsLabel, kind: "options", single: true }),
    followUps(entry, custom, ctx),
  ];
}

function renderSafety(entry, reply, custom, ctx) {
  return [
    h("div", { class: "cg-bubble cg-safety", role: "alert" },
      h("p", { class: "cg-label" }, h("span", { class: "cg-safety-icon", "aria-hidden": "true" }, "!"), STRINGS.safetyLabel),
      textBlock(reply.text)),
    followUps(entry, custom, ctx),
  ];
}

function renderHandoff(entry, reply, custom, ctx) {
  const status = custom.status === "stored" || custom.status === "not_stored" ? custom.status : undefined;
  return [
    h("div", { class: "cg-bubble cg-handoff", "data-status": status },
      h("p", { class: "cg-label" }, STRINGS.handoffLabel),
      textBlock(reply.text)),
    followUps(entry, custom, ctx),
  ];
}

/** A process key ("mediation") in words, for alternatives that only carry the key. */
function processName(key) {
  const words = String(key || "").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The recommendation card. The reply text says the same in prose (intro, "Why:" list, format,
 * assumptions, "Other options:" list, closing question); the card shows the structured payload and
 * keeps from the prose only what the payload lacks: the intro, any assumption note and the closing.
 */
function renderRecommendation(entry, reply, custom, ctx) {
  const paragraphs = String(reply.text || "").split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  const intro = paragraphs[0];
  const closing = paragraphs.length > 1 ? paragraphs[paragraphs.length - 1] : null;
  const isList = (p) => /^[^\n]*:\n\s*- /.test(p);
  const notes = paragraphs.slice(1, -1).filter((p) => !isList(p) && p !== custom.format);
  const reasons = (Array.isArray(custom.reasons) ? custom.reasons : []).filter((r) => r && typeof r === "object");
  const alternatives = (Array.isArray(custom.alternatives) ? custom.alternatives : []).filter((a) => a && typeof a === "object");
  const titleId = uniqueId("rec");
  return [
    intro ? bubble(h("p", { class: "cg-text" }, intro)) : null,
    h("article", { class: "cg-card", "aria-labelledby": titleId },
      h("header", { class: "cg-card-header" },
        h("p", { class: "cg-eyebrow" }, STRINGS.recommendedLabel),
        h("h3", { class: "cg-card-title", id: titleId }, String(custom.title || processName(custom.process)))),
      reasons.length ? h("section", { class: "cg-card-section" },
        h("h4", {}, STRINGS.reasonsHeading),
        h("ul", { class: "cg-reasons" }, reasons.map((reason) => h("li", {},
          reason.paragraph ? h("span", { class: "cg-para" }, String(reason.paragraph)) : null,
          h("span", {}, String(reason.text || "")))))) : null,
      custom.format ? h("p", { class: "cg-format" }, String(custom.format)) : null,
      notes.map((note) => h("p", { class: "cg-assumed" }, note)),
      alternatives.length ? h("section", { class: "cg-card-section" },
        h("h4", {}, STRINGS.alternativesHeading),
        h("ul", { class: "cg-alternatives" }, alternatives.map((alt) => h("li", {},
          h("strong", {}, processName(alt.process)),
          h("span", {}, String(alt.text || "")))))) : null,
      closing ? h("p", { class: "cg-closing" }, closing) : null,
      followUps(entry, custom, ctx, STRINGS.nextStepsLabel)),
  ];
}
