// The widget's stylesheet. It lives inside the widget's shadow root, so the firm's page styles
// don't leak in and ours don't leak out. --cg-primary comes from the data-primary-color setting.
export const CSS = `
:host {
  all: initial;
  --cg-primary: #1f5f8b;
  --cg-on-primary: #ffffff;
  --cg-primary-soft: #e8f0f6;
  --cg-text: #1d2733;
  --cg-muted: #5b6675;
  --cg-border: #d8dee6;
  --cg-bot-bg: #ffffff;
  --cg-surface: #ffffff;
  --cg-danger: #b3261e;
  --cg-danger-bg: #fdeceb;
  --cg-focus: #f2a900;
  --cg-radius: 14px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px;
  line-height: 1.45;
  color: var(--cg-text);
}
@supports (color: color-mix(in srgb, red 10%, white)) {
  :host { --cg-primary-soft: color-mix(in srgb, var(--cg-primary) 10%, white); }
}
*, *::before, *::after { box-sizing: border-box; }
button, input { font: inherit; color: inherit; }
button { cursor: pointer; }
button:disabled { cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--cg-focus); outline-offset: 2px; }
[hidden] { display: none !important; }
.cg-visually-hidden {
  position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}

.cg-launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  display: inline-flex; align-items: center; gap: 10px;
  padding: 12px 20px 12px 16px; border: 0; border-radius: 999px;
  background: var(--cg-primary); color: var(--cg-on-primary);
  font-weight: 600; box-shadow: 0 6px 20px rgba(16, 24, 40, .22);
}
.cg-launcher:hover { filter: brightness(1.08); }
.cg-launcher svg { width: 22px; height: 22px; flex: none; }
.cg-launcher[aria-expanded="true"] { display: none; }

.cg-panel {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483001;
  width: 400px; height: min(640px, calc(100vh - 40px));
  display: flex; flex-direction: column;
  background: var(--cg-surface); border-radius: 16px; overflow: hidden;
  box-shadow: 0 12px 40px rgba(16, 24, 40, .28);
  border: 1px solid rgba(16, 24, 40, .08);
}
@media (max-width: 480px) {
  .cg-panel { inset: 0; width: 100%; height: 100%; border-radius: 0; border: 0; }
  .cg-launcher { right: 12px; bottom: 12px; }
}

.cg-header {
  display: flex; align-items: center; gap: 10px; padding: 12px 10px 12px 16px;
  background: var(--cg-primary); color: var(--cg-on-primary); flex: none;
}
.cg-avatar {
  width: 36px; height: 36px; border-radius: 50%; flex: none;
  display: grid; place-items: center;
  background: rgba(255, 255, 255, .18); font-weight: 700; letter-spacing: .5px;
}
.cg-heading { flex: 1; min-width: 0; }
.cg-title { margin: 0; font-size: 16px; font-weight: 700; line-height: 1.2; }
.cg-subtitle { margin: 2px 0 0; font-size: 12.5px; opacity: .85; }
.cg-icon-button {
  width: 34px; height: 34px; border-radius: 50%; border: 0; flex: none;
  display: grid; place-items: center; background: transparent; color: inherit;
}
.cg-icon-button:hover { background: rgba(255, 255, 255, .16); }
.cg-icon-button svg { width: 20px; height: 20px; }

.cg-status {
  flex: none; display: flex; align-items: center; gap: 8px;
  padding: 8px 16px; font-size: 13.5px; font-weight: 600;
  background: #fff4d6; color: #6b4e00; border-bottom: 1px solid #f0dca0;
}
.cg-status::before {
  content: ""; width: 10px; height: 10px; border-radius: 50%; flex: none;
  background: #d08c00; animation: cg-pulse 1.2s ease-in-out infinite;
}
.cg-status[data-state="offline"] { background: var(--cg-danger-bg); color: var(--cg-danger); border-color: #f3c4c0; }
.cg-status[data-state="offline"]::before { background: var(--cg-danger); }

.cg-log {
  flex: 1; overflow-y: auto; padding: 16px 14px 8px;
  display: flex; flex-direction: column; gap: 12px;
  background: #f3f5f8; overscroll-behavior: contain;
}
.cg-msg { display: flex; flex-direction: column; gap: 8px; max-width: 100%; }
.cg-user { align-items: flex-end; }
.cg-bot { align-items: flex-start; }
.cg-bubble {
  max-width: 88%; padding: 10px 14px; border-radius: var(--cg-radius);
  overflow-wrap: anywhere;
}
.cg-user .cg-bubble { background: var(--cg-primary); color: var(--cg-on-primary); border-bottom-right-radius: 4px; }
.cg-bot .cg-bubble {
  background: var(--cg-bot-bg); border: 1px solid #e1e6ec; border-bottom-left-radius: 4px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, .04);
}
.cg-text { margin: 0; white-space: pre-line; }
.cg-text + .cg-text { margin-top: 8px; }
.cg-answer-title { margin: 0 0 4px; font-weight: 700; }

.cg-notice { align-items: center; }
.cg-notice .cg-text {
  font-size: 13px; color: var(--cg-danger); background: var(--cg-danger-bg);
  padding: 6px 12px; border-radius: 8px; text-align: center;
}

.cg-source-block { margin-top: 10px; }
.cg-source-toggle {
  display: inline-flex; align-items: center; gap: 6px;
  padding: 4px 10px; border-radius: 999px; font-size: 13px; font-weight: 600;
  border: 1px solid var(--cg-border); background: var(--cg-surface); color: var(--cg-primary);
}
.cg-source-toggle:hover { border-color: var(--cg-primary); }
.cg-source-icon { display: inline-flex; flex: none; width: 14px; height: 14px; transition: transform .15s; }
.cg-source-icon svg { display: block; width: 14px; height: 14px; stroke-width: 2.5; }
.cg-source-toggle[aria-expanded="true"] .cg-source-icon { transform: rotate(90deg); }
.cg-sources { margin-top: 8px; }
.cg-source-list { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
.cg-source {
  display: flex; gap: 10px; align-items: flex-start;
  background: #f7f9fb; border: 1px solid #e6eaef; border-radius: 10px; padding: 8px 10px;
}
.cg-para {
  flex: none; display: inline-block; min-width: 30px; text-align: center;
  padding: 1px 6px; border-radius: 6px; font-size: 12px; font-weight: 700;
  background: var(--cg-primary-soft); color: var(--cg-primary);
}
.cg-quote { margin: 0; font-size: 13.5px; font-style: italic; color: var(--cg-muted); }
.cg-quote::before { content: "\\201C"; }
.cg-quote::after { content: "\\201D"; }

.cg-actions { display: flex; flex-wrap: wrap; gap: 6px; max-width: 100%; }
.cg-action {
  padding: 7px 14px; border-radius: 999px; font-size: 14px; line-height: 1.25;
  border: 1.5px solid var(--cg-primary); background: var(--cg-surface); color: var(--cg-primary);
  text-align: left;
}
.cg-action:hover:not(:disabled) { background: var(--cg-primary-soft); }
.cg-action:disabled { opacity: .55; }
.cg-action.cg-chosen { background: var(--cg-primary); color: var(--cg-on-primary); opacity: 1; }
.cg-actions-options .cg-action { font-weight: 600; min-width: 64px; text-align: center; }

.cg-bot .cg-safety {
  border: 2px solid var(--cg-danger); background: var(--cg-danger-bg); border-radius: 10px;
}
.cg-safety .cg-label { color: var(--cg-danger); }
.cg-safety-icon {
  display: inline-grid; place-items: center; width: 20px; height: 20px; margin-right: 8px;
  border-radius: 50%; background: var(--cg-danger); color: #fff; font-size: 13px; font-weight: 800;
}
.cg-bot .cg-handoff {
  border: 1px solid var(--cg-primary-soft); border-left: 4px solid var(--cg-primary);
  background: var(--cg-primary-soft); border-radius: 6px 10px 10px 6px;
}
.cg-handoff .cg-label { color: var(--cg-primary); }
.cg-label {
  margin: 0 0 6px; font-size: 12.5px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em;
  display: flex; align-items: center;
}

.cg-card {
  width: 100%; max-width: 100%; border: 1px solid var(--cg-border); border-radius: 14px;
  background: var(--cg-surface); overflow: hidden; box-shadow: 0 1px 3px rgba(16, 24, 40, .06);
}
.cg-card-header { padding: 12px 16px; background: var(--cg-primary-soft); border-bottom: 1px solid var(--cg-border); }
.cg-eyebrow {
  margin: 0; font-size: 11.5px; font-weight: 700; text-transform: uppercase; letter-spacing: .06em;
  color: var(--cg-muted);
}
.cg-card-title { margin: 2px 0 0; font-size: 20px; font-weight: 700; color: var(--cg-primary); }
.cg-card-section { padding: 10px 16px 0; }
.cg-card h4 {
  margin: 0 0 6px; font-size: 12.5px; font-weight: 700; text-transform: uppercase;
  letter-spacing: .04em; color: var(--cg-muted);
}
.cg-reasons, .cg-alternatives { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; font-size: 14px; }
.cg-reasons li { display: flex; gap: 8px; align-items: flex-start; }
.cg-reasons .cg-para { margin-top: 1px; }
.cg-alternatives li { padding-left: 10px; border-left: 3px solid var(--cg-border); }
.cg-alternatives strong { display: block; font-size: 14px; }
.cg-format {
  margin: 12px 16px 0; padding: 8px 12px; font-size: 14px; border-radius: 8px;
  background: #f6f8fa; border: 1px dashed var(--cg-border);
}
.cg-assumed { margin: 10px 16px 0; font-size: 13.5px; color: var(--cg-muted); font-style: italic; }
.cg-closing { margin: 12px 16px 0; font-weight: 600; }
.cg-card .cg-actions { padding: 10px 16px 14px; }

.cg-typing {
  align-self: flex-start; display: flex; gap: 4px; padding: 12px 14px;
  border-radius: var(--cg-radius); background: var(--cg-bot-bg); border: 1px solid #e1e6ec;
}
.cg-typing span { width: 7px; height: 7px; border-radius: 50%; background: var(--cg-muted); animation: cg-bounce 1s infinite ease-in-out; }
.cg-typing span:nth-child(2) { animation-delay: .15s; }
.cg-typing span:nth-child(3) { animation-delay: .3s; }

.cg-form {
  flex: none; display: flex; gap: 8px; align-items: center;
  padding: 10px 12px; border-top: 1px solid var(--cg-border); background: var(--cg-surface);
}
.cg-input {
  flex: 1; min-width: 0; padding: 10px 14px; border-radius: 999px;
  border: 1.5px solid var(--cg-border); background: #fff;
}
.cg-input:focus { border-color: var(--cg-primary); outline: none; box-shadow: 0 0 0 3px var(--cg-primary-soft); }
.cg-input:disabled { background: #f2f4f7; }
.cg-send {
  flex: none; width: 42px; height: 42px; border-radius: 50%; border: 0;
  display: grid; place-items: center; background: var(--cg-primary); color: var(--cg-on-primary);
}
.cg-send svg { width: 20px; height: 20px; }
.cg-send:disabled { opacity: .45; }
.cg-footer { flex: none; margin: 0; padding: 0 12px 8px; font-size: 11.5px; color: var(--cg-muted); text-align: center; background: var(--cg-surface); }

@keyframes cg-pulse { 0%, 100% { opacity: 1; } 50% { opacity: .35; } }
@keyframes cg-bounce { 0%, 80%, 100% { transform: translateY(0); opacity: .5; } 40% { transform: translateY(-4px); opacity: 1; } }
@media (prefers-reduced-motion: reduce) {
  .cg-status::before, .cg-typing span { animation: none; }
  .cg-source-icon { transition: none; }
}
`;
