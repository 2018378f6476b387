#!/usr/bin/env bash
# Builds the CPU image and runs it: proof that deploy/container/Dockerfile.cpu builds and that the image
# classifies real emails the way the Python reference does, reports ready, serves /metrics and stops cleanly.
#
#   1. set-up (each step skipped when done): podman, runc, mmdebstrap (apt-get); the distribution
#      (mvn package); the Python venv and the SpamAssassin test split (deploy/lib/setup.sh); the Debian
#      bookworm + JRE 17 base image (build-base-image.sh);
#   2. podman build of Dockerfile.cpu on that base (BASE_IMAGE build argument);
#   3. a standalone KRaft broker (deploy/kafka/start-broker.sh) and the registry
#      (deploy/schema-registry/start-registry.sh) on 127.0.0.1, the service's topics created;
#   4. the image started with host networking (`podman run --network host`), settings as DEEBERT_* variables;
#   5. checks: /health/ready turns 200; the image's HEALTHCHECK passes (podman healthcheck run); EVENTS held-out
#      emails produced (deploy/lib/SmokeClient.java, the service's own serdes) come out exactly once
#      (read_committed) with the exit layer and label the Python reference gives under the model card's setting
#      (deploy/lib/reference_exits.py); /metrics answers and deebert_events_classified_total >= EVENTS;
#      `podman stop` ends it with exit code 0 or 143 and the "Shutting down" line, no ERROR line.
# Prints a summary; exits non-zero on any failed check. Everything listens on 127.0.0.1 only; the container,
# broker and registry are removed on exit. Logs and results: target/container-smoke/.
#
# Usage: deploy/container/smoke-test.sh [--events N]        (default all: the 888 held-out emails of the reference)
# Environment (optional): SMOKE_KAFKA_PORT (19092), SMOKE_CONTROLLER_PORT (19093), SMOKE_REGISTRY_PORT (18081),
#   SMOKE_HTTP_PORT (18080), SMOKE_READY_TIMEOUT (300 s), SMOKE_OUTPUT_TIMEOUT (300 s); see podman-lib.sh for
#   PODMAN_GLOBAL_FLAGS, PODMAN_LIMITS, DEEBERT_BASE_IMAGE, DEEBERT_IMAGE.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/setup.sh
source "$HERE/../lib/setup.sh"
# shellcheck source=podman-lib.sh
source "$HERE/podman-lib.sh"

EVENTS=all
while (($#)); do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$EVENTS" == all || "$EVENTS" =~ ^[1-9][0-9]*$ ]] || { echo "--events must be a positive integer or all, got $EVENTS" >&2; exit 2; }

KAFKA_PORT="${SMOKE_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${SMOKE_CONTROLLER_PORT:-19093}"
REGISTRY_PORT="${SMOKE_REGISTRY_PORT:-18081}"
HTTP_PORT="${SMOKE_HTTP_PORT:-18080}"
READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-300}"
OUTPUT_TIMEOUT="${SMOKE_OUTPUT_TIMEOUT:-300}"
MODEL_DIR="$DEEBERT_REPO/model-export/models/deebert-spamassassin-minilm-l6"
WORK="$DEEBERT_REPO/target/container-smoke"
CONTAINER="deebert-smoke-$$"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
HTTP="http://127.0.0.1:$HTTP_PORT"
T0=$SECONDS
declare -a PASSED=() FAILED=()

pass() { PASSED+=("$1"); echo "PASS $1"; }
fail() { FAILED+=("$1"); echo "FAIL $1"; }
summary() {
  echo "== summary ($((SECONDS - T0)) s in all; image $DEEBERT_IMAGE on $DEEBERT_BASE_IMAGE; logs in ${WORK#"$DEEBERT_REPO"/})"
  local line
  for line in "${PASSED[@]+"${PASSED[@]}"}"; do echo "  passed: $line"; done
  for line in "${FAILED[@]+"${FAILED[@]}"}"; do echo "  FAILED: $line"; done
  ((${#FAILED[@]} == 0))
}

cleanup() {
  local rc=$?
  if "${PODMAN[@]}" container exists "$CONTAINER" 2>/dev/null; then
    "${PODMAN[@]}" logs "$CONTAINER" >"$WORK/service.log" 2>&1 || true
    "${PODMAN[@]}" rm -f -t 5 "$CONTAINER" >/dev/null 2>&1 || true
  fi
  KAFKA_DATA_DIR="$WORK/kafka" "$DEEBERT_REPO/deploy/kafka/stop-broker.sh" >/dev/null 2>&1 || true
  REGISTRY_RUN_DIR="$WORK/registry" "$DEEBERT_REPO/deploy/schema-registry/stop-registry.sh" >/dev/null 2>&1 || true
  exit "$rc"
}

for port in "$KAFKA_PORT" "$CONTROLLER_PORT" "$REGISTRY_PORT" "$HTTP_PORT"; do
  if port_in_use "$port"; then
    echo "127.0.0.1:$port is in use; pick other ports (SMOKE_*_PORT, see --help)" >&2
    exit 1
  fi
done
rm -rf "$WORK"
mkdir -p "$WORK"
trap cleanup EXIT INT TERM

echo "== set-up"
ensure_podman
ensure_distribution
setup_python
prepare_data
ensure_base_image
echo "== image"
build_service_image

echo "== broker and registry on 127.0.0.1"
mkdir -p "$WORK/kafka"
cp "$DEEBERT_REPO/deploy/local/target/classpath.txt" "$WORK/kafka/classpath.txt"  # the broker's (runtime) classpath
KAFKA_PORT="$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$CONTROLLER_PORT" KAFKA_DATA_DIR="$WORK/kafka" KAFKA_HEAP_OPTS="-Xms256m -Xmx768m" \
  "$DEEBERT_REPO/deploy/kafka/start-broker.sh" | tail -1
REGISTRY_PORT="$REGISTRY_PORT" REGISTRY_RUN_DIR="$WORK/registry" "$DEEBERT_REPO/deploy/schema-registry/start-registry.sh" | tail -1
CLASSPATH_SVC="$(streams_classpath)"
smoke_client() { java -cp "$CLASSPATH_SVC" "$DEEBERT_REPO/deploy/lib/SmokeClient.java" "$@"; }
# The service's default topic names; topics.create stays false, as in production.
smoke_client topics "$BOOTSTRAP" text-events:2 text-events-classified:2 deebert-control:1:compact \
  text-events-dlq:1 deebert-telemetry:1

echo "== expected results (Python reference)"
reference_exits() {
  PYTHONPATH="$DEEBERT_REPO/model-export/src" "$DEEBERT_VENV/bin/python" "$DEEBERT_REPO/deploy/lib/reference_exits.py" "$@"
}
reference_exits pick "$MODEL_DIR" "$DEEBERT_TEST_SPLIT" "$EVENTS" "$WORK/ids.txt" "$WORK/expected.jsonl"
EVENTS="$(wc -l <"$WORK/ids.txt")"

echo "== podman run $DEEBERT_IMAGE (--network host)"
# --health-interval disable: no periodic HEALTHCHECK timer (podman needs systemd for it); it runs once by hand
# below. podman's stderr (its complaints about the missing systemd) goes to podman.log.
STARTED=$SECONDS
"${PODMAN[@]}" run -d --name "$CONTAINER" --network host "${PODMAN_LIMITS[@]}" \
  -e DEEBERT_BOOTSTRAP_SERVERS="$BOOTSTRAP" \
  -e DEEBERT_SCHEMA_REGISTRY_URL="$REGISTRY_URL" \
  -e DEEBERT_HTTP_HOST=127.0.0.1 -e DEEBERT_HTTP_PORT="$HTTP_PORT" \
  -e DEEBERT_APPLICATION_ID=deebert-container-smoke \
  -e DEEBERT_DEVICE=cpu \
  --health-interval disable \
  -e JAVA_OPTS="-Xmx1g -XX:+ExitOnOutOfMemoryError" \
  "$DEEBERT_IMAGE" >/dev/null 2>>"$WORK/podman.log"

container_running() { [[ "$("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$CONTAINER" 2>/dev/null)" == true ]]; }

ready=""
deadline=$((SECONDS + READY_TIMEOUT))
while ((SECONDS < deadline)); do
  if ! container_running; then
    echo "the container exited ($("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$CONTAINER")) before it was ready; log tail:" >&2
    "${PODMAN[@]}" logs --tail 40 "$CONTAINER" >&2 || true
    break
  fi
  if [[ "$(http_status "$HTTP/health/ready")" == 200 ]]; then
    ready=$((SECONDS - STARTED))
    break
  fi
  sleep 2
done
if [[ -z "$ready" ]]; then
  fail "/health/ready did not answer 200 within $READY_TIMEOUT s"
  summary || exit 1
fi
pass "/health/ready answered 200 ${ready} s after podman run"
if timeout 30 "${PODMAN[@]}" healthcheck run "$CONTAINER" >/dev/null 2>&1; then
  pass "the image's HEALTHCHECK (curl /health/live inside the container) passes"
else
  fail "the image's HEALTHCHECK failed"
fi

echo "== events"
PRODUCED=$SECONDS
smoke_client produce "$BOOTSTRAP" "$REGISTRY_URL" text-events "$DEEBERT_TEST_SPLIT" "$WORK/ids.txt"
if smoke_client consume "$BOOTSTRAP" "$REGISTRY_URL" text-events-classified "$WORK/ids.txt" "$OUTPUT_TIMEOUT" "$WORK/results.jsonl"; then
  pass "$EVENTS of $EVENTS events came out exactly once (read_committed), $((SECONDS - PRODUCED)) s after producing"
else
  fail "not every event came out exactly once within $OUTPUT_TIMEOUT s"
fi
if reference_exits compare "$WORK/expected.jsonl" "$WORK/results.jsonl" | tee "$WORK/compare.txt"; then
  pass "$(tail -1 "$WORK/compare.txt")"
else
  fail "exit layers or labels differ from the Python reference (see ${WORK#"$DEEBERT_REPO"/}/compare.txt)"
fi

echo "== metrics"
# The counters are Kafka Streams sensors: give them a few seconds to catch up with the last batch.
classified=""
for _ in $(seq 1 15); do
  if curl -fsS --max-time 5 "$HTTP/metrics" >"$WORK/metrics.txt" 2>/dev/null; then
    classified="$(awk '/^deebert_events_classified_total[ {]/ {sum += $NF} END {if (NR) printf "%d", sum}' "$WORK/metrics.txt")"
    [[ -n "$classified" ]] && ((classified >= EVENTS)) && break
  fi
  sleep 2
done
if [[ -n "$classified" ]] && ((classified >= EVENTS)); then
  pass "/metrics answers: deebert_events_classified_total $classified, $(grep -c '^deebert_exits_total{' "$WORK/metrics.txt") deebert_exits_total series"
else
  fail "/metrics: deebert_events_classified_total '${classified:-absent}' (want >= $EVENTS)"
fi

echo "== podman stop"
STOPPING=$SECONDS
timeout 90 "${PODMAN[@]}" stop -t 60 "$CONTAINER" >/dev/null 2>>"$WORK/podman.log" || true
code="$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$CONTAINER")"
"${PODMAN[@]}" logs "$CONTAINER" >"$WORK/service.log" 2>&1 || true
if [[ "$code" == 0 || "$code" == 143 ]] && grep -q 'Shutting down' "$WORK/service.log" \
   && ! grep -q ' ERROR ' "$WORK/service.log"; then
  pass "podman stop: exit code $code $((SECONDS - STOPPING)) s after SIGTERM, 'Shutting down' logged, no ERROR line"
else
  fail "podman stop: exit code $code; 'Shutting down' lines: $(grep -c 'Shutting down' "$WORK/service.log"); ERROR lines: $(grep -c ' ERROR ' "$WORK/service.log")"
fi

summary
