#!/usr/bin/env bash
# Stops the broker started by start-broker.sh (SIGTERM: a clean, controlled shutdown), waiting up to 30 s.
# Usage: deploy/kafka/stop-broker.sh   (honours KAFKA_DATA_DIR like start-broker.sh)
set -euo pipefail
DATA_DIR="${KAFKA_DATA_DIR:-/tmp/deebert-kafka}"
PID_FILE="$DATA_DIR/broker.pid"
if [[ ! -f "$PID_FILE" ]]; then
  echo "no PID file at $PID_FILE: broker not running?" >&2
  exit 0
fi
PID="$(cat "$PID_FILE")"
if kill -0 "$PID" 2>/dev/null; then
  kill -TERM "$PID"
  for _ in $(seq 1 60); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$PID" 2>/dev/null; then
    echo "broker PID $PID still running after 30 s; not killing it forcibly" >&2
    exit 1
  fi
fi
rm -f "$PID_FILE"
echo "Kafka broker stopped"
