#!/usr/bin/env bash
# Starts a standalone single-node KRaft Kafka broker (broker + controller in one JVM) in the background.
#
# Usage: deploy/kafka/start-broker.sh
# Environment (all optional):
#   KAFKA_PORT             client port on 127.0.0.1                  (default 9092)
#   KAFKA_CONTROLLER_PORT  controller port on 127.0.0.1              (default 9093)
#   KAFKA_DATA_DIR         logs, rendered config, PID file, broker.log (default /tmp/deebert-kafka)
#   KAFKA_HEAP_OPTS        JVM heap flags                            (default -Xms256m -Xmx1g)
# The data directory is formatted on first start and reused afterwards (topics survive restarts);
# delete it for a clean cluster. Stop with deploy/kafka/stop-broker.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BROKER_PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
DATA_DIR="${KAFKA_DATA_DIR:-/tmp/deebert-kafka}"
HEAP="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
PID_FILE="$DATA_DIR/broker.pid"
LOG_FILE="$DATA_DIR/broker.log"
CONFIG="$DATA_DIR/server.properties"
CP_FILE="$DATA_DIR/classpath.txt"

mkdir -p "$DATA_DIR"
if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  echo "broker already running (PID $(cat "$PID_FILE")) at 127.0.0.1:$BROKER_PORT" >&2
  exit 1
fi

# The broker is kafka_2.13 from deploy/local's dependencies (the Kafka version the service's clients use).
if [[ ! -s "$CP_FILE" ]]; then
  echo "resolving the broker classpath with Maven (once)..."
  (cd "$REPO" && mvn -q -N install && mvn -q -pl schemas install -DskipTests \
     && mvn -q -pl streams-app install -DskipTests && mvn -q -pl deploy/local dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$CP_FILE")
fi
CP="$(cat "$CP_FILE")"

sed -e "s|@BROKER_PORT@|$BROKER_PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
  "$HERE/server.properties" > "$CONFIG"

JAVA_OPTS=(-Dlogback.configurationFile="$HERE/logback-broker.xml")
if [[ ! -f "$DATA_DIR/logs/meta.properties" ]]; then
  CLUSTER_ID="$(java "${JAVA_OPTS[@]}" -cp "$CP" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
  java "${JAVA_OPTS[@]}" -cp "$CP" kafka.tools.StorageTool format --standalone -t "$CLUSTER_ID" -c "$CONFIG" >> "$LOG_FILE" 2>&1
  echo "formatted $DATA_DIR/logs (cluster id $CLUSTER_ID)"
fi

# Only log lines written after this point count: the log is appended to across restarts.
LOG_START=$(( $(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0) + 1 ))
# shellcheck disable=SC2086  # HEAP holds several flags on purpose
nohup java $HEAP "${JAVA_OPTS[@]}" -cp "$CP" kafka.Kafka "$CONFIG" >> "$LOG_FILE" 2>&1 &
echo $! > "$PID_FILE"

# Bounded wait: the broker logs this line once it accepts clients.
for _ in $(seq 1 120); do
  if tail -c +"$LOG_START" "$LOG_FILE" | grep -q "Kafka Server started"; then
    echo "Kafka broker running at 127.0.0.1:$BROKER_PORT (PID $(cat "$PID_FILE"), log $LOG_FILE)"
    exit 0
  fi
  if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    echo "broker exited during startup; see $LOG_FILE" >&2
    rm -f "$PID_FILE"
    exit 1
  fi
  sleep 0.5
done
echo "broker did not start within 60 s; see $LOG_FILE (still running as PID $(cat "$PID_FILE"))" >&2
exit 1
