// The socket.io conversation with the Common Ground server:
// connect → `session_request` {session_id} → `session_confirm` id; `user_uttered` {message, session_id}
// out; each `bot_uttered` is one whole reply {text, custom, ...}; `error_message` {error} for bad input.
// socket.io-client reconnects by itself (with back-off); every (re)connect asks for the session again,
// because the server joins each new socket to the conversation's room on `session_request`.
import { io } from "socket.io-client";

const RETRY_DELAY_MS = 5000;

export const STATE = { CONNECTING: "connecting", READY: "ready", OFFLINE: "offline" };

export class Connection {
  /** A connection to `serverUrl` for the conversation `sessionId()` names; callbacks get the events. */
  constructor({ serverUrl, socketPath, sessionId, onState, onConfirm, onReply, onError }) {
    this.serverUrl = serverUrl;
    this.socketPath = socketPath;
    this.sessionId = sessionId;
    this.callbacks = { onState, onConfirm, onReply, onError };
    this.socket = null;
    this.state = STATE.CONNECTING;
    this.confirmedId = null;
  }

  /** Open the socket (once); socket.io keeps reconnecting until close(). */
  open() {
    if (this.socket) return;
    this.setState(STATE.CONNECTING);
    const socket = io(this.serverUrl, {
      path: this.socketPath,
      // WebSocket first (no CORS preflight, one connection); HTTP long-polling only as a fallback.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      // Every request of this socket names its conversation, so a load balancer can keep it on one
      // replica (long-polling needs that; docs/deployment.md).
      query: { conversation: this.sessionId() },
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: RETRY_DELAY_MS,
      timeout: 10000,
    });
    socket.on("connect", () => {
      this.confirmedId = null;
      socket.emit("session_request", { session_id: this.sessionId() });
    });
    socket.on("session_confirm", (id) => {
      const confirmed = typeof id === "string" ? id : id && id.session_id;
      if (!confirmed) return;
      this.confirmedId = confirmed;
      this.callbacks.onConfirm(confirmed);
      this.setState(STATE.READY);
    });
    socket.on("bot_uttered", (reply) => {
      if (reply && typeof reply === "object") this.callbacks.onReply(reply);
    });
    socket.on("error_message", (data) => {
      this.callbacks.onError(data && typeof data.error === "string" ? data.error : String(data));
    });
    socket.on("disconnect", (reason) => {
      this.setState(STATE.OFFLINE);
      // socket.io reconnects by itself except after a disconnect the server asked for.
      if (reason === "io server disconnect") this.retryLater(socket);
    });
    socket.on("connect_error", () => {
      this.setState(STATE.OFFLINE);
      if (!socket.active) this.retryLater(socket);
    });
    socket.io.on("reconnect_attempt", () => {
      if (this.state !== STATE.READY) this.setState(STATE.OFFLINE);
    });
    this.socket = socket;
  }

  /** Send one user message; false when not connected (nothing is sent). */
  send(message) {
    if (this.state !== STATE.READY || !this.socket) return false;
    this.socket.emit("user_uttered", { message, session_id: this.confirmedId || this.sessionId() });
    return true;
  }

  /** Connect `socket` again after the longest back-off delay (when socket.io won't by itself). */
  retryLater(socket) {
    setTimeout(() => {
      if (this.socket === socket && !socket.connected) socket.connect();
    }, RETRY_DELAY_MS);
  }

  /** Start a new conversation on a fresh socket. */
  restart() {
    this.close();
    this.open();
  }

  /** Close the socket for good. */
  close() {
    if (!this.socket) return;
    this.socket.removeAllListeners();
    this.socket.io.removeAllListeners();
    this.socket.disconnect();
    this.socket = null;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.callbacks.onState(state);
  }
}
