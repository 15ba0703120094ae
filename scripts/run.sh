#!/usr/bin/env bash
# Starts the action server, the Rasa server (each restarted with backoff when it crashes,
# scripts/supervise.py), the demo page, the delivery worker and the staff console; Ctrl-C stops all.
# With --shell, talks to the assistant in this terminal instead of serving channels.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
rasa_port=${RASA_PORT:-5005}
action_port=${ACTION_PORT:-5055}
model=${MODEL:-models/commonground.tar.gz}
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://localhost:$action_port/webhook}
# Browsers may call the servers (REST, socket.io) only from these origins: the demo page by default.
export CORS_ORIGINS=${CORS_ORIGINS:-http://localhost:${WEB_PORT:-8080},http://127.0.0.1:${WEB_PORT:-8080}}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
# Our dependencies' own deprecation notices are noise in the server logs.
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore::DeprecationWarning}

pids=()
stop_all() {
  for pid in "${pids[@]+"${pids[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

wait_for() {  # url, name, pid, seconds
  local deadline=$((SECONDS + $4))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    if ! kill -0 "$3" 2>/dev/null; then echo "error: the $2 exited during start-up" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "error: the $2 did not start within $4 s" >&2; exit 1; fi
    sleep 0.5
  done
}

log_options=(--logging-config-file logging.yml)

# Which hand-over deliveries are on; a partly configured one stops start-up naming what is missing.
"$venv/bin/python" -m bot.handover.worker --check
[ "${RASA_DEBUG:-}" = "1" ] && log_options+=(--debug)

free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

shell=false
if [ "${1:-}" = "--shell" ]; then
  # The terminal chat runs its own servers on free ports, so it works next to `make run`.
  shell=true
  rasa_port=$(free_port)
  action_port=$(free_port)
  export ACTION_ENDPOINT_URL=http://localhost:$action_port/webhook
fi

# Each server runs under scripts/supervise.py: restarted with backoff when it crashes.
supervise=("$venv/bin/python" scripts/supervise.py)
"${supervise[@]}" --name "action server" -- "$venv/bin/rasa" run actions --actions actions --port "$action_port" "${log_options[@]}" &
pids+=($!)
wait_for "http://localhost:$action_port/health" "action server" "${pids[0]}" 120

# Channels whose variables are unset are left out (bot/channels/credentials.py); the file Rasa
# reads has the optional `${VAR:-default}` settings filled in (Rasa cannot expand that syntax).
credentials=${COMMONGROUND_VAR_DIR:-var}/credentials.$rasa_port.yml
"$venv/bin/python" -m bot.channels.credentials credentials.yml "$credentials" >&2

if $shell; then
  "$venv/bin/rasa" shell --model "$model" --endpoints endpoints.yml --credentials "$credentials" --port "$rasa_port"
  exit 0
fi
read -ra cors_origins <<< "${CORS_ORIGINS//,/ }"
# Rasa's HTTP API (trackers, model, ...) stays off unless a token or a JWT secret is configured.
api_options=()
if [ -n "${RASA_API_TOKEN:-}" ]; then
  api_options=(--enable-api --auth-token "$RASA_API_TOKEN")
elif [ -n "${RASA_JWT_SECRET:-}" ]; then
  api_options=(--enable-api --jwt-secret "$RASA_JWT_SECRET" --jwt-method "${RASA_JWT_METHOD:-HS256}")
fi
"${supervise[@]}" --name "Rasa server" -- "$venv/bin/rasa" run --model "$model" --port "$rasa_port" \
  --endpoints endpoints.yml --credentials "$credentials" --cors "${cors_origins[@]}" "${log_options[@]}" "${api_options[@]+"${api_options[@]}"}" &
pids+=($!)
wait_for "http://localhost:$rasa_port/" "Rasa server" "${pids[1]}" 300

web_port=${WEB_PORT:-8080}
"$venv/bin/python" scripts/serve-web.py --port "$web_port" &
pids+=($!)

# The delivery worker (its own process; several may run against PostgreSQL) and the staff console.
"$venv/bin/python" -m bot.handover.worker &
pids+=($!)
console_host=${CONSOLE_HOST:-127.0.0.1}
console_port=${CONSOLE_PORT:-8090}
"$venv/bin/python" -m bot.console.app &
pids+=($!)
wait_for "http://$console_host:$console_port/login" "staff console" "${pids[4]}" 60

cat <<MSG

Common Ground is running.
  Website:   http://localhost:$web_port/demo/  (the demo page with the chat widget)
  REST:      curl -s localhost:$rasa_port/webhooks/rest/webhook -H 'Content-Type: application/json' \\
               -d '{"sender": "me", "message": "what is the difference between mediation and negotiation?"}'
  socket.io: http://localhost:$rasa_port/socket.io (events user_uttered / bot_uttered)
  Slack:     http://localhost:$rasa_port/webhooks/slack/webhook    (when SLACK_TOKEN is set)
  Telegram:  http://localhost:$rasa_port/webhooks/telegram/webhook (when TELEGRAM_TOKEN is set)
  Console:   http://$console_host:$console_port/  (staff inbox; accounts: make staff-user EMAIL=...)
  Terminal:  make shell
Press Ctrl-C to stop everything.
MSG
wait -n "${pids[@]}"
echo "a server stopped for good (see above); shutting down" >&2
exit 1
