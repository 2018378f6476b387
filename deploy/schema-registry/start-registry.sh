#!/usr/bin/env bash
# Starts the local Confluent-compatible Schema Registry (Apicurio Registry 2.4, in-memory storage) in
# the background. Its Confluent API is at http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7 — the URL
# to give the service. Schemas are lost when it stops.
#
# Usage: deploy/schema-registry/start-registry.sh
# Environment (all optional):
#   REGISTRY_PORT      HTTP port on 127.0.0.1         (default 8081)
#   REGISTRY_RUN_DIR   PID file and registry.log      (default /tmp/deebert-registry)
# Stop with deploy/schema-registry/stop-registry.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PORT="${REGISTRY_PORT:-8081}"
RUN_DIR="${REGISTRY_RUN_DIR:-/tmp/deebert-registry}"
PID_FILE="$RUN_DIR/registry.pid"
LOG_FILE="$RUN_DIR/registry.log"

mkdir -p "$RUN_DIR"
if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  echo "registry already running (PID $(cat "$PID_FILE"))" >&2
  exit 1
fi

JAR="$(ls "$HERE"/target/quarkus-app/quarkus-run.jar "$HERE"/target/*-runner.jar 2>/dev/null | head -1 || true)"
if [[ -z "$JAR" ]]; then
  echo "building the registry app (once; ~2 min and ~230 MB of downloads on a cold Maven cache)..."
  (cd "$REPO" && mvn -q -pl deploy/schema-registry package -DskipTests)
  JAR="$(ls "$HERE"/target/quarkus-app/quarkus-run.jar "$HERE"/target/*-runner.jar 2>/dev/null | head -1)"
fi

# BACKWARD compatibility is Confluent Schema Registry's default (Apicurio's is NONE).
nohup java -Xmx384m \
  -Dregistry.rules.global.compatibility=BACKWARD \
  -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$PORT" \
  -jar "$JAR" >> "$LOG_FILE" 2>&1 &
echo $! > "$PID_FILE"

URL="http://127.0.0.1:$PORT/apis/ccompat/v7"
for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null "$URL/subjects" 2>/dev/null; then
    echo "Schema Registry running at $URL (PID $(cat "$PID_FILE"), log $LOG_FILE)"
    exit 0
  fi
  if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    echo "registry exited during startup; see $LOG_FILE" >&2
    rm -f "$PID_FILE"
    exit 1
  fi
  sleep 0.5
done
echo "registry did not answer within 60 s; see $LOG_FILE (still running as PID $(cat "$PID_FILE"))" >&2
exit 1
