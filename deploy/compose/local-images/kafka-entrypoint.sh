#!/bin/bash
# Entry point of the Kafka stand-in image (Containerfile.kafka), configured like apache/kafka: every KAFKA_*
# environment variable (except the JVM ones) becomes a server.properties key: prefix dropped, lower case,
# "___" -> "-", "__" -> "_", "_" -> ".". CLUSTER_ID formats the storage on first start. Then the broker runs
# in the foreground as PID 1 (exec), so `podman stop`'s SIGTERM shuts it down cleanly.
set -euo pipefail
CONFIG=/opt/kafka/config/server.properties
: >"$CONFIG"
while IFS='=' read -r name _; do
  case "$name" in
    KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_GC_LOG_OPTS|KAFKA_JMX_OPTS|KAFKA_LOG4J_OPTS) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  key="${key//@/_}"
  printf '%s=%s\n' "$key" "${!name}" >>"$CONFIG"
done < <(env)
grep -q '^log\.dirs=' "$CONFIG" || echo "log.dirs=/tmp/kraft-combined-logs" >>"$CONFIG"
LOG_DIR="$(sed -n 's/^log\.dirs=//p' "$CONFIG" | cut -d, -f1)"
CP="/opt/kafka/classes:/opt/kafka/libs/*"
JAVA=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -Dlogback.configurationFile=/opt/kafka/config/logback.xml)
if [[ ! -f "$LOG_DIR/meta.properties" ]]; then
  : "${CLUSTER_ID:?set CLUSTER_ID to format the storage}"
  "${JAVA[@]}" -cp "$CP" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$CONFIG" --ignore-formatted
fi
exec "${JAVA[@]}" -cp "$CP" kafka.Kafka "$CONFIG"
