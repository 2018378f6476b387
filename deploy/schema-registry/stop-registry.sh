#!/usr/bin/env bash
# Stops the registry started by start-registry.sh (SIGTERM), waiting up to 20 s.
# Usage: deploy/schema-registry/stop-registry.sh   (honours REGISTRY_RUN_DIR like start-registry.sh)
set -euo pipefail
RUN_DIR="${REGISTRY_RUN_DIR:-/tmp/deebert-registry}"
PID_FILE="$RUN_DIR/registry.pid"
if [[ ! -f "$PID_FILE" ]]; then
  echo "no PID file at $PID_FILE: registry not running?" >&2
  exit 0
fi
PID="$(cat "$PID_FILE")"
if kill -0 "$PID" 2>/dev/null; then
  kill -TERM "$PID"
  for _ in $(seq 1 40); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$PID" 2>/dev/null; then
    echo "registry PID $PID still running after 20 s" >&2
    exit 1
  fi
fi
rm -f "$PID_FILE"
echo "Schema Registry stopped"
