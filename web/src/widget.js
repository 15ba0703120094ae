// The chat panel: launcher button, header, status line, message log and input, in a shadow root.
//
// Why our own small UI rather than a chat-UI library such as deep-chat (checked: deep-chat 2.4.2):
// our replies need custom rendering — source toggles with quotes, option and follow-up buttons that
// send a payload but show a title, a recommendation card, distinct safety/handoff styles. deep-chat's
// only way to show custom content is an `html` string that it assigns with innerHTML (no sanitiser,
// no way to hand it DOM nodes), so we would have to build HTML strings out of bot text — exactly what
// this widget must never do. It would also add ~400 KB for features we don't use (speech, files,
// AI-service adapters). So the transport is the maintained socket.io-client, and the UI is the few
// hundred lines below plus render.js, where all text is inserted as text nodes.
import { Connection, STATE } from "./connection.js";
import { append, h } from "./dom.js";
import { icon } from "./icons.js";
import { renderEntry } from "./render.js";
import { ConversationStore } from "./storage.js";
import { STRINGS } from "./strings.js";
import { CSS } from "./styles.js";

const TYPING_TIMEOUT_MS = 60000;

/** "Common Ground" → "CG": the avatar's letters. */
function initials(title) {
  const letters = String(title).split(/\s+/).filter(Boolean).map((word) => word[0]).join("");
  return (letters || "?").slice(0, 2).toUpperCase();
}

/** White or near-black, whichever reads better on `color` (any CSS color). */
function textColorOn(color, probeParent) {
  const probe = h("span", { style: `color: ${color}` });
  probeParent.appendChild(probe);
  const rgb = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) || ["0", "0", "0"];
  probe.remove();
  const [r, g, b] = rgb.slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.4 ? "#111827" : "#ffffff";
}

export class Widget {
  /** A widget for the settings of config.js; call mount() to put it on the page. */
  constructor(config) {
    this.config = config;
    this.store = new ConversationStore(config.storageKey);
    this.entries = this.store.history();
    this.typing = null;
    this.typingTimer = null;
    this.wantsFocus = false;
    this.connection = new Connection({
      serverUrl: config.serverUrl,
      socketPath: config.socketPath,
      sessionId: () => this.store.sessionId(),
      onState: (state) => this.showState(state),
      onConfirm: (id) => this.confirmSession(id),
      onReply: (reply) => this.receive(reply),
      onError: (error) => this.add({ role: "notice", text: `${STRINGS.errorPrefix} ${error}` }),
    });
    this.ctx = {
      canSend: () => this.connection.state === STATE.READY,
      choose: (entry, button, choice) => this.choose(entry, button, choice),
    };
  }

  /** Build the launcher and the (closed) panel in a shadow root at the end of <body>. */
  mount() {
    const host = h("div", { id: "commonground-widget", "data-version": __WIDGET_VERSION__ });
    document.body.appendChild(host);
    const root = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
    host.style.setProperty("--cg-primary", this.config.primaryColor);
    host.style.setProperty("--cg-on-primary", textColorOn(this.config.primaryColor, root));

    const titleId = "cg-title";
    this.launcher = h("button", {
      type: "button", class: "cg-launcher", "aria-expanded": "false", "aria-controls": "cg-panel",
      onclick: () => this.open(),
    }, icon("chat"), STRINGS.launcherOpen);
    this.status = h("div", { class: "cg-status", role: "status", hidden: true });
    this.log = h("div", {
      class: "cg-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": this.config.title,
      tabindex: "0",
    });
    this.input = h("input", {
      class: "cg-input", id: "cg-input", type: "text", maxlength: "1000", autocomplete: "off",
      placeholder: STRINGS.inputPlaceholder,
    });
    this.sendButton = h("button", { type: "submit", class: "cg-send", "aria-label": STRINGS.send }, icon("send"));
    this.form = h("form", { class: "cg-form", onsubmit: (event) => this.submit(event) },
      h("label", { class: "cg-visually-hidden", for: "cg-input" }, STRINGS.inputLabel),
      this.input, this.sendButton);
    this.panel = h("section", {
      class: "cg-panel", id: "cg-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": titleId, hidden: true,
      onkeydown: (event) => { if (event.key === "Escape") this.close(); },
    },
      h("header", { class: "cg-header" },
        h("div", { class: "cg-avatar", "aria-hidden": "true" }, initials(this.config.title)),
        h("div", { class: "cg-heading" },
          h("h2", { class: "cg-title", id: titleId }, this.config.title),
          this.config.subtitle ? h("p", { class: "cg-subtitle" }, this.config.subtitle) : null),
        h("button", { type: "button", class: "cg-icon-button cg-restart", "aria-label": STRINGS.restart, title: STRINGS.restart,
          onclick: () => this.restart() }, icon("restart")),
        h("button", { type: "button", class: "cg-icon-button cg-close", "aria-label": STRINGS.close, title: STRINGS.close,
          onclick: () => this.close() }, icon("close"))),
      this.status, this.log, this.form,
      h("p", { class: "cg-footer" }, STRINGS.footer));
    append(root, [this.launcher, this.panel]);

    this.renderAll();
    this.showState(this.connection.state);
    if (this.config.open || this.store.wasOpen()) this.open({ focus: false });
  }

  /** Show the panel, connect (first time) and put the cursor in the input. */
  open({ focus = true } = {}) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.store.setOpen(true);
    this.connection.open();
    this.scrollToEnd();
    if (focus) {
      // Until the session is confirmed the input is disabled; applyState() focuses it then.
      this.wantsFocus = this.input.disabled;
      this.input.focus({ preventScroll: true });
    }
  }

  /** Hide the panel (the conversation stays connected) and give focus back to the launcher. */
  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.store.setOpen(false);
    this.launcher.focus();
  }

  /** Forget the conversation and start a new one. */
  restart() {
    this.store.reset();
    this.entries = [];
    this.hideTyping();
    this.renderAll();
    this.connection.restart();
    this.input.focus();
  }

  submit(event) {
    event.preventDefault();
    const text = this.input.value.trim();
    if (!text) return;
    if (this.send(text, text)) this.input.value = "";
  }

  /** Send `message`, showing `shown` as the user's words; false when offline. */
  send(shown, message) {
    if (!this.connection.send(message)) return false;
    this.add({ role: "user", text: shown });
    this.showTyping();
    return true;
  }

  choose(entry, button, { group, index, single }) {
    if (single) {
      entry.answered = { ...(entry.answered || {}), [group]: index };
      this.input.focus({ preventScroll: true });
    }
    this.send(button.title, button.payload);
  }

  receive(reply) {
    this.hideTyping();
    this.add({ role: "bot", reply });
  }

  confirmSession(id) {
    if (id !== this.store.sessionId()) {
      this.store.confirmSession(id);
      this.entries = [];
      this.renderAll();
    }
  }

  /** Append one entry to the history, save it and show it. */
  add(entry) {
    this.entries.push(entry);
    this.store.saveHistory(this.entries);
    const element = renderEntry(entry, this.ctx);
    this.log.insertBefore(element, this.typing);
    this.applyState();
    if (entry.role === "bot") this.scrollTo(element);
    else this.scrollToEnd();
  }

  renderAll() {
    this.log.replaceChildren(this.greeting(), ...this.entries.map((entry) => renderEntry(entry, this.ctx)));
    this.applyState();
  }

  /** The welcome bubble with starter questions (not part of the saved history). */
  greeting() {
    const starters = h("div", { class: "cg-actions cg-actions-starters", role: "group", "aria-label": STRINGS.followUpsLabel },
      STRINGS.starters.map((text) => h("button", { type: "button", class: "cg-action",
        onclick: () => { if (this.ctx.canSend()) this.send(text, text); } }, text)));
    return h("div", { class: "cg-msg cg-bot cg-greeting" },
      h("div", { class: "cg-bubble" }, h("p", { class: "cg-text" }, this.config.greeting)),
      starters);
  }

  showTyping() {
    this.hideTyping();
    this.typing = h("div", { class: "cg-typing", role: "status", "aria-label": STRINGS.typing },
      h("span", {}), h("span", {}), h("span", {}));
    this.log.appendChild(this.typing);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_TIMEOUT_MS);
    this.scrollToEnd();
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    if (this.typing) this.typing.remove();
    this.typing = null;
  }

  /** Reflect the connection state: status line, and input and buttons enabled only when ready. */
  showState(state) {
    const ready = state === STATE.READY;
    this.status.hidden = ready;
    this.status.dataset.state = state;
    this.status.textContent = state === STATE.OFFLINE ? STRINGS.offline : STRINGS.connecting;
    if (!ready) this.hideTyping();
    this.applyState();
  }

  applyState() {
    const ready = this.connection.state === STATE.READY;
    this.input.disabled = !ready;
    this.sendButton.disabled = !ready;
    this.panel.classList.toggle("cg-not-ready", !ready);
    for (const button of this.log.querySelectorAll(".cg-actions:not(.cg-locked) .cg-action")) {
      button.disabled = !ready;
    }
    if (ready && this.wantsFocus && !this.panel.hidden) {
      this.wantsFocus = false;
      this.input.focus({ preventScroll: true });
    }
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** Scroll so a new reply's first line is in view (long cards are read from the top). */
  scrollTo(element) {
    const top = element.offsetTop - this.log.offsetTop - 8;
    this.log.scrollTop = Math.min(top, this.log.scrollHeight);
  }
}
