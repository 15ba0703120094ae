// Remembers the conversation across page loads: the session id (so the server continues the same
// conversation) and the rendered history as data (the server does not resend it).
// Entries are plain data ({role, text, reply}) that are rendered again on load — never stored HTML.

const MAX_ENTRIES = 200;

/** localStorage when the browser lets us use it, else an in-memory stand-in for this page view. */
function pickStore(kind) {
  try {
    const store = window[kind];
    const probe = "__commonground_probe__";
    store.setItem(probe, probe);
    store.removeItem(probe);
    return store;
  } catch (error) {
    console.warn(`Common Ground widget: ${kind} is unavailable (${error}); the conversation won't survive a reload.`);
    const memory = new Map();
    return {
      getItem: (key) => (memory.has(key) ? memory.get(key) : null),
      setItem: (key, value) => memory.set(key, String(value)),
      removeItem: (key) => memory.delete(key),
    };
  }
}

/** A random session id for a new conversation. */
export function newSessionId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID().replace(/-/g, "");
  }
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ConversationStore {
  /** Storage under `prefix`: session id and history in localStorage, open/closed in sessionStorage. */
  constructor(prefix) {
    this.local = pickStore("localStorage");
    this.session = pickStore("sessionStorage");
    this.keys = {
      session: `${prefix}.session_id`,
      history: `${prefix}.history`,
      open: `${prefix}.open`,
    };
  }

  /** The conversation's session id, created and saved on first use. */
  sessionId() {
    let id = this.local.getItem(this.keys.session);
    if (!id) {
      id = newSessionId();
      this.local.setItem(this.keys.session, id);
    }
    return id;
  }

  /** Keep the id the server confirmed; a different id starts an empty history. */
  confirmSession(id) {
    if (id !== this.local.getItem(this.keys.session)) {
      this.local.setItem(this.keys.session, id);
      this.saveHistory([]);
    }
  }

  /** The saved history entries of the current session. */
  history() {
    const raw = this.local.getItem(this.keys.history);
    if (!raw) return [];
    try {
      const saved = JSON.parse(raw);
      if (saved && saved.session_id === this.sessionId() && Array.isArray(saved.entries)) return saved.entries;
    } catch (error) {
      console.warn(`Common Ground widget: ignoring unreadable saved history (${error}).`);
    }
    return [];
  }

  /** Save the history (its last MAX_ENTRIES entries). */
  saveHistory(entries) {
    const kept = entries.slice(-MAX_ENTRIES);
    try {
      this.local.setItem(this.keys.history, JSON.stringify({ session_id: this.sessionId(), entries: kept }));
    } catch (error) {
      console.warn(`Common Ground widget: could not save the history (${error}).`);
    }
  }

  /** Forget this conversation: a new session id and no history. */
  reset() {
    this.local.removeItem(this.keys.history);
    this.local.setItem(this.keys.session, newSessionId());
  }

  /** Whether the panel was open in this tab before the reload. */
  wasOpen() {
    return this.session.getItem(this.keys.open) === "1";
  }

  /** Remember whether the panel is open, for this tab. */
  setOpen(open) {
    this.session.setItem(this.keys.open, open ? "1" : "0");
  }
}
