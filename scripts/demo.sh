#!/usr/bin/env bash
# Runs the demo: builds everything, then starts
#   - nvm-local, the local backend          (127.0.0.1:$NVM_LOCAL_PORT, default 3001; state in .nvm-local.sqlite)
#   - the Cloudflare Worker example on workerd, as the paid agent
#                                           (127.0.0.1:$NVM_AGENT_PORT, default 8787; its vars from nvm-local's demo world)
#   - the MCP Worker example on workerd, as the paid MCP server
#                                           (127.0.0.1:$NVM_MCP_PORT, default 8788; POST /mcp)
#   - the A2A Worker example on workerd, as the paid A2A server
#                                           (127.0.0.1:$NVM_A2A_PORT, default 8789; POST /a2a)
#   - the demo page (www/ and pkg/)         (127.0.0.1:$NVM_DEMO_PORT, default 8080)
# and prints the page's URL. Ctrl-C (or SIGTERM) stops everything it started.
# Installs what is missing (scripts/setup.sh, through the build); safe to run again.
# NVM_LOCAL_DB picks another state file (default .nvm-local.sqlite; with a
# non-default agent port, .nvm-local-<port>.sqlite, as the agent's URL is stored).
# NVM_DEMO_SKIP_BUILD=1 uses the existing build (the tests, which build first).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BACKEND_PORT="${NVM_LOCAL_PORT:-3001}"
AGENT_PORT="${NVM_AGENT_PORT:-8787}"
MCP_PORT="${NVM_MCP_PORT:-8788}"
A2A_PORT="${NVM_A2A_PORT:-8789}"
PAGE_PORT="${NVM_DEMO_PORT:-8080}"
if [ "$AGENT_PORT" = 8787 ]; then DEFAULT_DB=".nvm-local.sqlite"; else DEFAULT_DB=".nvm-local-$AGENT_PORT.sqlite"; fi
DB="${NVM_LOCAL_DB:-$DEFAULT_DB}"
BACKEND="http://127.0.0.1:$BACKEND_PORT/"
AGENT="http://127.0.0.1:$AGENT_PORT"
MCP="http://127.0.0.1:$MCP_PORT"
A2A="http://127.0.0.1:$A2A_PORT"
PAGE="http://127.0.0.1:$PAGE_PORT/"
LOGS="$ROOT/target/demo"

say() { printf '\033[2m[demo]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[demo]\033[0m %s\n' "$*" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for entry in "NVM_LOCAL_PORT:$BACKEND_PORT:nvm-local" "NVM_AGENT_PORT:$AGENT_PORT:the agent" "NVM_MCP_PORT:$MCP_PORT:the MCP server" "NVM_A2A_PORT:$A2A_PORT:the A2A server" "NVM_DEMO_PORT:$PAGE_PORT:the demo page"; do
  IFS=: read -r var port what <<<"$entry"
  [[ "$port" =~ ^[0-9]+$ ]] || die "$var must be a port number (got \"$port\")"
  if port_busy "$port"; then
    die "port $port (for $what) is in use: stop what runs there (an earlier demo?) or pick another with $var=<port>"
  fi
done

if [ "${NVM_DEMO_SKIP_BUILD:-}" = 1 ]; then
  [ -x target/release/nvm-local ] && [ -f pkg/index.js ] || die "nothing built yet: run without NVM_DEMO_SKIP_BUILD"
else
  "$ROOT/scripts/build.sh" --all
fi

# ---- process management: each service in its own process group, all stopped together ----
PIDS=()
NAMES=()
mkdir -p "$LOGS"
start() { # start NAME LOG COMMAND...
  local name="$1" log="$2"
  shift 2
  setsid "$@" </dev/null >"$log" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
}
group_alive() { kill -0 -- "-$1" 2>/dev/null; }
stopping=0
cleanup() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap - INT TERM EXIT
  [ "${#PIDS[@]}" -eq 0 ] && return
  say "stopping"
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${PIDS[@]}"; do group_alive "$pid" && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$LOGS/agent.env"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

# Waits until URL answers 2xx; fails (with the service's log) if its process exits or 60 s pass.
wait_for() { # wait_for NAME URL LOG
  local name="$1" url="$2" log="$3" pid="${PIDS[-1]}"
  for _ in $(seq 1 300); do
    if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 || true
      die "$name exited before it was ready (log: ${log#"$ROOT"/})"
    fi
    sleep 0.2
  done
  tail -n 20 "$log" >&2 || true
  die "$name was not ready after 60 s (log: ${log#"$ROOT"/})"
}

# ---- nvm-local ----
start nvm-local "$LOGS/nvm-local.log" target/release/nvm-local --port "$BACKEND_PORT" --db "$DB" --agent-url "$AGENT" --mcp-url "$MCP" --a2a-url "$A2A"
wait_for nvm-local "${BACKEND}health" "$LOGS/nvm-local.log"
# The demo world: the builder's key, the agent and the free plan configure the Worker.
mapfile -t WORLD < <(node -e '
  fetch(process.argv[1]).then((r) => r.json()).then((w) => {
    console.log([w.accounts.builder.apiKey, w.agent.agentId, w.plans.free.planId, w.agent.url, w.mcpAgent.agentId, w.mcpAgent.url, w.a2aAgent.agentId, w.a2aAgent.url].join("\n"))
  }).catch((e) => { console.error(e.message); process.exit(1) })' "${BACKEND}local/v1/demo")
[ "${#WORLD[@]}" -eq 8 ] || die "could not read nvm-local's demo world"
BUILDER_KEY="${WORLD[0]}" AGENT_ID="${WORLD[1]}" PLAN_ID="${WORLD[2]}" AGENT_URL="${WORLD[3]}" MCP_AGENT_ID="${WORLD[4]}" MCP_URL="${WORLD[5]}" A2A_AGENT_ID="${WORLD[6]}" A2A_URL="${WORLD[7]}"
if [ "$AGENT_URL" != "$AGENT/tasks" ]; then
  die "$DB was seeded for an agent at $AGENT_URL, but the agent runs at $AGENT/tasks: set NVM_AGENT_PORT to its port, or NVM_LOCAL_DB to a new file"
fi
if [ "$MCP_URL" != "$MCP/mcp" ]; then
  die "$DB was seeded for an MCP server at $MCP_URL, but it runs at $MCP/mcp: set NVM_MCP_PORT to its port, or NVM_LOCAL_DB to a new file"
fi
if [ "$A2A_URL" != "$A2A/a2a" ]; then
  die "$DB was seeded for an A2A server at $A2A_URL, but it runs at $A2A/a2a: set NVM_A2A_PORT to its port, or NVM_LOCAL_DB to a new file"
fi
say "nvm-local ready (port $BACKEND_PORT, state in $DB)"

# ---- the agent: the Worker example on workerd ----
# The builder's key goes in as a secret through a private env file, not on the command line.
SECRETS="$LOGS/agent.env"
(umask 077 && printf 'NVM_API_KEY=%s\n' "$BUILDER_KEY" >"$SECRETS")
# start_worker NAME EXAMPLE-DIR PORT AGENT-ID: `wrangler dev` of an example on workerd, offline and quiet.
start_worker() {
  start "$1" "$LOGS/$1.log" env WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false WRANGLER_HIDE_BANNER=true \
    CLOUDFLARE_CF_FETCH_ENABLED=false CI=true \
    env -C "$ROOT/examples/$2" "$ROOT/node_modules/.bin/wrangler" dev --local --ip 127.0.0.1 --port "$3" \
    --show-interactive-dev-session=false --env-file "$SECRETS" \
    --var "NVM_AGENT_ID:$4" --var "NVM_PLAN_ID:$PLAN_ID" --var "NVM_BACKEND_URL:$BACKEND"
}
start_worker agent cloudflare-worker "$AGENT_PORT" "$AGENT_ID"
wait_for agent "$AGENT/health" "$LOGS/agent.log"
say "agent ready (the Worker example on workerd, port $AGENT_PORT)"

# ---- the MCP server: the MCP Worker example on workerd (same builder key, its own agent) ----
start_worker mcp mcp-worker "$MCP_PORT" "$MCP_AGENT_ID"
wait_for mcp "$MCP/health" "$LOGS/mcp.log"
say "MCP server ready (the MCP Worker example on workerd, port $MCP_PORT)"

# ---- the A2A server: the A2A Worker example on workerd (same builder key, its own agent) ----
start_worker a2a a2a-worker "$A2A_PORT" "$A2A_AGENT_ID"
wait_for a2a "$A2A/health" "$LOGS/a2a.log"
say "A2A server ready (the A2A Worker example on workerd, port $A2A_PORT; card at $A2A/.well-known/agent-card.json)"

# ---- the page ----
start page "$LOGS/page.log" node "$ROOT/scripts/serve.mjs" --port "$PAGE_PORT" --backend "$BACKEND" --agent "$AGENT/tasks" --mcp "$MCP/mcp"
wait_for page "${PAGE}config.json" "$LOGS/page.log"

printf '\n  Open %s\n  Ctrl-C stops the demo.\n\n' "$PAGE"

# Runs until Ctrl-C, or until a service stops on its own (then everything stops).
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
for i in "${!PIDS[@]}"; do
  if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
    say "${NAMES[$i]} stopped unexpectedly (log: ${LOGS#"$ROOT"/}/${NAMES[$i]}.log)"
  fi
done
exit "$status"
