// Every piece of wording the widget itself shows (the bot's replies bring their own).
// Kept in one place so it can be reviewed and translated without touching the code.
export const STRINGS = {
  launcherOpen: "Chat with us",
  close: "Close chat",
  restart: "Start a new conversation",
  subtitle: "General information, not legal advice",
  greeting:
    "Hello! I can explain how negotiation, mediation, arbitration and court work, " +
    "and help you think about which process might fit your situation.",
  starters: [
    "What's the difference between mediation and negotiation?",
    "Which process should I use?",
  ],
  inputLabel: "Your message",
  inputPlaceholder: "Type your question…",
  send: "Send",
  connecting: "Connecting to the assistant…",
  offline: "Can't reach the assistant — reconnecting…",
  typing: "The assistant is typing",
  sourceToggle: (count) => (count === 1 ? "Source" : `Sources (${count})`),
  sourceHide: "Hide source",
  recommendedLabel: "Recommended process",
  reasonsHeading: "Why",
  alternativesHeading: "Other options",
  nextStepsLabel: "Next steps",
  optionsLabel: "Choose an answer",
  suggestionsLabel: "Did you mean",
  relatedLabel: "What the guide does cover",
  followUpsLabel: "You could ask",
  safetyLabel: "Safety",
  handoffLabel: "Talking to a person",
  errorPrefix: "Sorry, that message could not be sent:",
  you: "You",
  assistant: "Assistant",
  footer: "General information, not legal advice.",
};
